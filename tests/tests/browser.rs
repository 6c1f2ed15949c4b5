//! The wall screen and the manager view in real headless Chromium against a live server on a real broker:
//! the ranking shows, changes without a reload when events arrive, a stopped server brings up the
//! reconnecting banner, a restarted one is picked up again. Screenshots go to `target/screenshots/`.

use serde_json::Value;
use std::time::Duration;
use tests::Scenario;
use tests::browser::{ChromeDriver, js, screenshot, wait_for_js};
use tests::live::LiveServer;

const ORG: &str = "branch_id,branch_name,in_scope\n\
zd,张店支公司,true\nzc,淄川支公司,true\nbs,博山支公司,true\nlz,临淄支公司,true\ncs,车商,false\n";
const BRANCHES: [&str; 5] = ["zd", "zc", "bs", "lz", "cs"];

const ORDER: &str = "return [...document.querySelectorAll('#rows li')].map(li => li.dataset.key);";

fn quotes(s: &mut Scenario, branch: &str, n: usize, day: u32) {
    for q in 0..n {
        let user = format!("{branch}-{}", q % 3 + 1);
        let at = format!("2016-06-{day:02}T{:02}:00:00+08:00", 9 + q % 8);
        s.quote(&user, branch, &at, "phone");
    }
}

fn order_is(want: &'static [&'static str]) -> impl Fn(&Value) -> bool {
    move |v| {
        v.as_array().is_some_and(|a| {
            a.iter()
                .map(|k| k.as_str().unwrap_or(""))
                .eq(want.iter().copied())
        })
    }
}

#[test]
fn wall_screen_follows_events_shows_reconnecting_and_recovers() {
    let mut server = LiveServer::start(
        ORG,
        "[live]\npush_interval_ms = 100\n[server]\ncheckpoint_interval_secs = 1\n",
    );
    let mut events = Scenario::new();
    for branch in BRANCHES {
        for u in 1..=3 {
            let name = format!("{branch}-{u}");
            events.event(
                "user_registered",
                "2016-05-20T09:00:00+08:00",
                branch,
                Some(&name),
                serde_json::json!({"channel": "direct", "display_name": format!("销售{branch}{u}")}),
            );
        }
    }
    for (branch, n) in [("zd", 9), ("zc", 6), ("bs", 3), ("lz", 1), ("cs", 12)] {
        quotes(&mut events, branch, n, 1);
    }
    server.produce(&events.take_new());
    let driver = ChromeDriver::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(driver.session(1920, 1080));
    let timeout = Duration::from_secs(20);

    rt.block_on(async {
        client
            .goto(&server.serve.url("/screen?board=branch_mobile_quotes"))
            .await
            .unwrap();
        wait_for_js(
            &client,
            ORDER,
            timeout,
            "the opening ranking",
            order_is(&["zd", "zc", "bs", "lz", "cs"]),
        )
        .await;
        let title = js(
            &client,
            "return document.getElementById('board-title').textContent;",
        )
        .await;
        assert_eq!(title, "人均移动端报价量排名");
        let ranks = js(
            &client,
            "return [...document.querySelectorAll('#rows li')].map(li => li.dataset.rank);",
        )
        .await;
        assert_eq!(
            ranks,
            serde_json::json!(["1", "2", "3", "4", ""]),
            "out of scope: shown, not ranked"
        );
        let tier = js(
            &client,
            "return document.querySelector('#rows li .tier').textContent;",
        )
        .await;
        assert_eq!(tier, "1–3名 · 6分");
        // A marker that a reload would wipe out.
        js(&client, "window.__marker = 42; return 1;").await;
        screenshot(&client, "screen-zh").await;
    });

    // Activity: 博山 overtakes both leaders; the screen reorders without a reload.
    quotes(&mut events, "bs", 30, 2);
    server.produce(&events.take_new());
    rt.block_on(async {
        wait_for_js(
            &client,
            ORDER,
            timeout,
            "bs on top",
            order_is(&["bs", "zd", "zc", "lz", "cs"]),
        )
        .await;
        let marker = js(&client, "return window.__marker;").await;
        assert_eq!(marker, 42, "the page reloaded");
        let banner = js(
            &client,
            "return document.getElementById('reconnecting').hidden;",
        )
        .await;
        assert_eq!(banner, true);
    });

    // The server stops: the banner comes up.
    server.serve.terminate();
    rt.block_on(async {
        wait_for_js(
            &client,
            "return [document.getElementById('reconnecting').hidden, document.body.dataset.connected];",
            timeout,
            "the reconnecting banner",
            |v| v == &serde_json::json!([false, "false"]),
        )
        .await;
        screenshot(&client, "screen-reconnecting").await;
    });

    // It comes back (from its checkpoint): the banner goes, and new activity shows again.
    server.serve.restart();
    rt.block_on(async {
        wait_for_js(
            &client,
            "return [document.getElementById('reconnecting').hidden, document.body.dataset.connected];",
            Duration::from_secs(40),
            "recovery after the restart",
            |v| v == &serde_json::json!([true, "true"]),
        )
        .await;
    });
    quotes(&mut events, "lz", 60, 3);
    server.produce(&events.take_new());
    rt.block_on(async {
        wait_for_js(
            &client,
            ORDER,
            timeout,
            "lz on top after the restart",
            order_is(&["lz", "bs", "zd", "zc", "cs"]),
        )
        .await;
        let marker = js(&client, "return window.__marker;").await;
        assert_eq!(marker, 42, "the page reloaded");
    });

    // English, and a people board of one branch.
    rt.block_on(async {
        client
            .goto(
                &server
                    .serve
                    .url("/screen?board=branch_mobile_quotes&lang=en"),
            )
            .await
            .unwrap();
        wait_for_js(
            &client,
            ORDER,
            timeout,
            "the English screen",
            order_is(&["lz", "bs", "zd", "zc", "cs"]),
        )
        .await;
        let title = js(
            &client,
            "return document.getElementById('board-title').textContent;",
        )
        .await;
        assert_eq!(title, "Mobile quotes per user");
        screenshot(&client, "screen-en").await;
        client
            .goto(
                &server
                    .serve
                    .url("/screen?board=user_mobile_quotes&branch=lz"),
            )
            .await
            .unwrap();
        let people = wait_for_js(&client, ORDER, timeout, "the people of lz", |v| {
            v.as_array().is_some_and(|a| a.len() == 3)
        })
        .await;
        assert!(
            people
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k.as_str().unwrap().starts_with("lz-"))
        );
        screenshot(&client, "screen-people-zh").await;
    });

    // The manager view: every branch, the pace, and one branch's people.
    rt.block_on(async {
        client.goto(&server.serve.url("/manager?branch=bs")).await.unwrap();
        wait_for_js(&client, "return document.body.dataset.loaded || null;", timeout, "the manager view", |v| v == "2016-06").await;
        let branches = js(&client, "return [...document.querySelectorAll('#branches tbody tr')].map(tr => tr.dataset.branch);").await;
        let card = server.get("/api/v1/scorecard?period=2016-06");
        let want: Vec<Value> = card["branches"].as_array().unwrap().iter().map(|b| b["branch_id"].clone()).collect();
        assert_eq!(branches, Value::Array(want), "the manager view lists the scorecard's branches in rank order");
        let people = js(&client, "return [...document.querySelectorAll('#people tbody tr')].map(tr => tr.dataset.user);").await;
        assert_eq!(people, serde_json::json!(["bs-1", "bs-2", "bs-3"]));
        let status = js(&client, "return [...document.querySelectorAll('#branches .status')].length;").await;
        assert_eq!(status, 5, "a pace status per branch for a month");
        screenshot(&client, "manager").await;
        client
            .goto(&server.serve.url("/manager?lang=en&period=assessment"))
            .await
            .unwrap();
        wait_for_js(&client, "return document.body.dataset.loaded || null;", timeout, "the assessment", |v| v == "assessment").await;
        screenshot(&client, "manager-assessment-en").await;
    });
    rt.block_on(client.close()).unwrap();
}
