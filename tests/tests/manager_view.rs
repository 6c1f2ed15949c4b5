//! The manager view in real headless Chromium, on a simulated month and a half (June complete, July to the
//! 15th) through a real broker, at a laptop's 1440×900 and a phone's 390×844: the key columns stay inside
//! the viewport, the charts carry the history, the points-at-stake panel says what the REST scorecard says,
//! the people sort and the lists are complete; and the simulated branches differ in pace status mid-month.
//! Screenshots go to `target/screenshots/`.

use fantoccini::{Client, Locator};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use tests::browser::{ChromeDriver, js, screenshot, wait_for_js};
use tests::live::LiveServer;
use tests::process::simulate;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Opens `path` and waits until the scorecard and the charts are on screen.
async fn open(client: &Client, url: &str, period: &str) {
    client.goto(url).await.unwrap();
    wait_for_js(
        client,
        "return document.body.dataset.loaded || null;",
        TIMEOUT,
        "the manager view",
        |v| v == period,
    )
    .await;
    wait_for_js(
        client,
        "return document.body.dataset.charts || null;",
        TIMEOUT,
        "the charts",
        |v| v == "ready",
    )
    .await;
}

/// Every key cell (rank, unit, total, status, points at stake) lies inside the viewport, and the page does
/// not scroll sideways.
async fn key_columns_fit(client: &Client, size: &str) {
    let fit = js(
        client,
        "const w = window.innerWidth;
         const cells = [...document.querySelectorAll('#branches tr .key')];
         const out = cells.filter(c => { const r = c.getBoundingClientRect(); return r.left < -0.5 || r.right > w + 0.5; })
                          .map(c => c.textContent);
         return {width: w, cells: cells.length, outside: out, scroll: document.documentElement.scrollWidth};",
    )
    .await;
    let rows = js(
        client,
        "return document.querySelectorAll('#branches tbody tr').length;",
    )
    .await;
    assert!(
        fit["cells"].as_u64().unwrap() >= 5 * rows.as_u64().unwrap(),
        "{size}: five key cells a row: {fit}"
    );
    assert_eq!(fit["outside"], Value::Array(vec![]), "{size}: {fit}");
    assert!(
        fit["scroll"].as_f64().unwrap() <= fit["width"].as_f64().unwrap() + 0.5,
        "{size}: the page scrolls sideways: {fit}"
    );
}

/// The charts on the page: how many, and the most points any series of each has.
async fn charts(client: &Client) -> Value {
    js(
        client,
        "return [...document.querySelectorAll('[_echarts_instance_]')].map(el => {
            const option = echarts.getInstanceByDom(el).getOption();
            return {id: el.id || el.parentElement.id, series: option.series.length,
                    points: Math.max(0, ...option.series.map(s => (s.data || []).filter(d => d !== null && d !== undefined).length))};
         });",
    )
    .await
}

#[test]
fn manager_view_on_a_laptop_and_a_phone() {
    let data = tempfile::tempdir().unwrap();
    let (events, org) = simulate(data.path(), "2016-06-01", 45, 13, 20, 5);
    let mut server = LiveServer::start(
        &std::fs::read_to_string(&org).unwrap(),
        "[server]\ncheckpoint_interval_secs = 1\n",
    );
    server.produce_file(&events);
    let card = server.get("/api/v1/scorecard?period=2016-07&users=true");
    let branches = card["branches"].as_array().unwrap();

    // Calibrated targets and simulator: mid-month, the branches are not all on track.
    let statuses: BTreeSet<&str> = branches
        .iter()
        .map(|b| b["pace"]["status"].as_str().unwrap())
        .collect();
    assert!(statuses.len() >= 2, "one status for all: {statuses:?}");

    // A branch in the middle of the ranking, with points to gain.
    let chosen = &branches[4];
    let id = chosen["branch_id"].as_str().unwrap();
    assert!(chosen["at_stake"]["gainable"].as_f64().unwrap() > 0.0);
    let url = server.serve.url(&format!("/manager?branch={id}"));

    let driver = ChromeDriver::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for (width, height, name) in [(1440, 900, "manager-1440"), (390, 844, "manager-390")] {
        rt.block_on(async {
            let client = driver.session_with_viewport(width, height).await;
            open(&client, &url, "2016-07").await;
            let size = format!("{width}×{height}");
            let viewport = js(&client, "return window.innerWidth;").await;
            assert_eq!(viewport, width, "{size}: the viewport");

            // The branches in the scorecard's order, the key columns inside the viewport.
            let order = js(&client, "return [...document.querySelectorAll('#branches tbody tr')].map(tr => tr.dataset.branch);").await;
            let want: Vec<Value> = branches.iter().map(|b| b["branch_id"].clone()).collect();
            assert_eq!(order, Value::Array(want), "{size}: rank order");
            key_columns_fit(&client, &size).await;

            // Charts with the month's days: the volume curves and the bump chart of every in-scope branch.
            let charts = charts(&client).await;
            let charts = charts.as_array().unwrap();
            assert!(charts.len() >= 2, "{size}: {charts:?}");
            assert!(
                charts.iter().all(|c| c["points"].as_u64().unwrap() >= 10),
                "{size}: every chart has the days so far: {charts:?}"
            );
            let in_scope = branches.iter().filter(|b| b["in_scope"] == true).count() as u64;
            assert!(
                charts.iter().any(|c| c["series"].as_u64().unwrap() >= in_scope),
                "{size}: a line per in-scope branch in the bump chart: {charts:?}"
            );

            // The points-at-stake panel says what REST says, indicator by indicator.
            let shown = js(&client, "return Object.fromEntries([...document.querySelectorAll('#stake [data-indicator]')].map(e => [e.dataset.indicator, Number(e.dataset.gainable)]));").await;
            let stakes = chosen["at_stake"]["indicators"].as_object().unwrap();
            assert_eq!(shown.as_object().unwrap().len(), stakes.len(), "{size}: {shown}");
            for (indicator, stake) in stakes {
                let want = stake["gainable"].as_f64().unwrap();
                let got = shown[indicator].as_f64().unwrap_or(f64::NAN);
                assert!((got - want).abs() < 1e-6, "{size}: {indicator}: {got} vs {want}");
            }
            let total = js(&client, "return document.getElementById('stake-total').textContent;").await;
            let gainable = chosen["at_stake"]["gainable"].as_f64().unwrap();
            assert!(
                total.as_str().unwrap().contains(&format!("{:.1}", gainable)),
                "{size}: {total} vs {gainable}"
            );

            // The people not bound to WeChat: all of them, counted.
            let people: Vec<&Value> = card["users"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|u| u["branch_id"] == id && u["registered"] == true)
                .collect();
            let unbound = people.iter().filter(|u| u["wechat_bound"] == false).count();
            let listed = js(&client, "return [document.querySelectorAll('#unbound li').length, document.getElementById('unbound-count').textContent];").await;
            assert_eq!(listed[0], unbound as u64, "{size}: {listed}");
            assert!(listed[1].as_str().unwrap().contains(&unbound.to_string()), "{size}: {listed}");
            let rows = js(&client, "return document.querySelectorAll('#people tbody tr').length;").await;
            assert_eq!(rows, people.len() as u64, "{size}: every registered person");
            screenshot(&client, name).await;
            client.close().await.unwrap();
        });
    }

    // People sort by any column: by the third (quotes), both ways.
    rt.block_on(async {
        let client = driver.session_with_viewport(1440, 900).await;
        open(&client, &format!("{url}&lang=en"), "2016-07").await;
        let column = "return [...document.querySelectorAll('#people tbody tr')].map(tr => Number(tr.cells[2].textContent.replace(/[^0-9.-]/g, '')));";
        let sorted = |values: &Value, descending: bool| {
            let v: Vec<f64> = values.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            v.windows(2).all(|w| if descending { w[0] >= w[1] } else { w[0] <= w[1] })
        };
        // The table is drawn again after each sort: find the header each time.
        let click_header = || async {
            let header = client.find(Locator::Css("#people thead th:nth-child(3) button")).await.unwrap();
            header.click().await.unwrap();
        };
        click_header().await;
        let first = js(&client, column).await;
        let order = js(&client, "return document.querySelector('#people thead th:nth-child(3)').getAttribute('aria-sort');").await;
        let descending = order == "descending";
        assert!(order == "descending" || order == "ascending", "{order}");
        assert!(sorted(&first, descending), "sorted {order}: {first}");
        click_header().await;
        let second = js(&client, column).await;
        assert!(sorted(&second, !descending), "sorted the other way: {second}");
        assert_ne!(first, second);
        screenshot(&client, "manager-1440-en").await;
        client.close().await.unwrap();
    });
}
