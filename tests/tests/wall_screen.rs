//! The wall screen as a TV in a branch office, in real headless Chromium at exact device metrics: every
//! unit of a branch board on screen at 16:9 from 1280×720 to 3840×2160 and at 4:3, names at least 4.5 % of
//! the height, no text overflowing its row; the people board's top-N that fits; last month's final
//! standings at a month's start; a playlist changed by the administrator reaching the screen within one
//! push interval. Screenshots go to `target/screenshots/`.

use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tests::Scenario;
use tests::browser::{ChromeDriver, js, screenshot, wait_for_js};
use tests::live::LiveServer;
use tests::process::request;

/// Thirteen units, the last two out of scope, as in the city company.
const ORG: &str = "branch_id,branch_name,in_scope\n\
zd,张店支公司,true\nzc,淄川支公司,true\nbs,博山支公司,true\nlz,临淄支公司,true\nzcun,周村支公司,true\n\
ht,桓台支公司,true\ngq,高青支公司,true\nyy,沂源支公司,true\ngx,高新区支公司,true\nwch,文昌湖支公司,true\n\
jk,经济开发区支公司,true\ncs,车商业务部,false\ndx,电话销售中心,false\n";

const BRANCHES: [&str; 13] = [
    "zd", "zc", "bs", "lz", "zcun", "ht", "gq", "yy", "gx", "wch", "jk", "cs", "dx",
];

const ROWS: &str = "return [...document.querySelectorAll('#rows li')].map(li => li.dataset.key);";

/// What a test needs to know about the rows' geometry: each row inside the viewport, every name's font
/// size against the viewport's height, and any element whose text overflows its box.
const GEOMETRY: &str = r#"
const h = window.innerHeight, w = window.innerWidth;
const rows = [...document.querySelectorAll('#rows li')];
const outside = rows.filter(li => { const r = li.getBoundingClientRect(); return r.top < 0 || r.left < 0 || r.bottom > h + 0.5 || r.right > w + 0.5; }).map(li => li.dataset.key);
const names = rows.map(li => parseFloat(getComputedStyle(li.querySelector('.name')).fontSize) / h);
const overflowing = rows.flatMap(li => [...li.querySelectorAll('*')].filter(e => e.children.length === 0 && e.textContent.trim() && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible').map(e => li.dataset.key + ': ' + e.textContent));
const footer = document.querySelector('footer').getBoundingClientRect();
return { count: rows.length, outside, smallest_name: Math.min(...names), overflowing, footer_inside: footer.bottom <= h + 0.5 };
"#;

/// Three users per unit (registered in May) and a different number of mobile quotes each on June 1st, so
/// every unit has its own value.
fn june(s: &mut Scenario) {
    for (i, branch) in BRANCHES.iter().enumerate() {
        for u in 1..=3 {
            s.event(
                "user_registered",
                "2016-05-20T09:00:00+08:00",
                branch,
                Some(&format!("{branch}-{u}")),
                json!({"channel": "direct", "display_name": format!("销售员{}{u}", i + 1)}),
            );
        }
    }
    // In time order, day by day, as a real stream comes: unit i's q-th quote (of 3 + 2i) on day 1 + q % 20.
    for day in 1..=20 {
        for (i, branch) in BRANCHES.iter().enumerate() {
            for q in (0..(3 + i * 2)).filter(|q| 1 + q % 20 == day) {
                let user = format!("{branch}-{}", q % 3 + 1);
                s.quote(
                    &user,
                    branch,
                    &format!("2016-06-{day:02}T10:00:00+08:00"),
                    "phone",
                );
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_unit_fits_a_tv_at_every_resolution_readable_across_the_room() {
    let mut server = LiveServer::start(ORG, "[live]\npush_interval_ms = 100\n");
    let mut events = Scenario::new();
    june(&mut events);
    server.produce(&events.take_new());
    let driver = ChromeDriver::start();
    let rt = runtime();
    let timeout = Duration::from_secs(20);
    for (width, height) in [(1280, 720), (1920, 1080), (3840, 2160), (1024, 768)] {
        let client = rt.block_on(driver.session_with_viewport(width, height));
        rt.block_on(async {
            for lang in ["zh", "en"] {
                let path = format!("/screen?board=branch_mobile_quotes&lang={lang}");
                client.goto(&server.serve.url(&path)).await.unwrap();
                wait_for_js(&client, ROWS, timeout, "all 13 units", |v| {
                    v.as_array().is_some_and(|a| a.len() == 13)
                })
                .await;
                let viewport = js(&client, "return [window.innerWidth, window.innerHeight];").await;
                assert_eq!(viewport, json!([width, height]), "device metrics");
                let g = js(&client, GEOMETRY).await;
                assert_eq!(
                    g["outside"],
                    json!([]),
                    "{width}×{height} {lang}: rows outside: {g}"
                );
                assert_eq!(g["overflowing"], json!([]), "{width}×{height} {lang}: {g}");
                assert_eq!(g["footer_inside"], true, "{width}×{height}: {g}");
                let smallest = g["smallest_name"].as_f64().unwrap();
                assert!(
                    smallest >= 0.045,
                    "{width}×{height} {lang}: names at {:.1} % of the height",
                    smallest * 100.0
                );
                screenshot(&client, &format!("tv-{width}x{height}-{lang}")).await;
            }
            // The gap to the next tier, in the scheme's words.
            let gap = js(
                &client,
                "return document.querySelector('#rows li[data-key=\"ht\"] .gap').textContent.replace(/,/g, '');",
            )
            .await;
            let board = server.get("/api/v1/boards/branch_mobile_quotes");
            let ht = board["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == "ht")
                .unwrap();
            let needed = ht["next_tier"]["needed"].as_f64().unwrap();
            assert!(
                gap.as_str().unwrap().contains(&format!("{needed}")),
                "the screen says {gap}, the board needs {needed}"
            );
        });
        rt.block_on(client.close()).unwrap();
    }

    // The people board: a top-N that fits, nobody without a quote, one branch's people on its own TV.
    let client = rt.block_on(driver.session_with_viewport(1920, 1080));
    rt.block_on(async {
        client
            .goto(&server.serve.url("/screen?board=user_mobile_quotes"))
            .await
            .unwrap();
        wait_for_js(&client, ROWS, timeout, "the people", |v| {
            v.as_array().is_some_and(|a| a.len() >= 8)
        })
        .await;
        let g = js(&client, GEOMETRY).await;
        assert_eq!(g["outside"], json!([]), "{g}");
        assert!(g["smallest_name"].as_f64().unwrap() >= 0.045, "{g}");
        screenshot(&client, "tv-people-1920x1080-zh").await;
        client
            .goto(
                &server
                    .serve
                    .url("/screen?board=user_mobile_quotes&branch=zd"),
            )
            .await
            .unwrap();
        let people = wait_for_js(&client, ROWS, timeout, "zd's people", |v| {
            v.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
        // zd has three quotes, one each: all three shown, nobody else.
        assert_eq!(people, json!(["zd-1", "zd-2", "zd-3"]));
        let title = js(
            &client,
            "return document.getElementById('board-title').textContent;",
        )
        .await;
        assert!(title.as_str().unwrap().contains("张店支公司"), "{title}");
    });
    rt.block_on(client.close()).unwrap();
}

#[test]
fn a_month_start_shows_last_months_standings_and_a_playlist_change_arrives_at_once() {
    let config = "[live]\npush_interval_ms = 1000\nlast_month_days = 3\nlast_month_until_quotes = 50\n\
[[screens]]\nname = \"hall\"\nlabel = \"张店支公司 大厅\"\n\
boards = [{ board = \"branch_mobile_quotes\", seconds = 10 }]\n";
    let mut server = LiveServer::start(ORG, config);
    let mut events = Scenario::new();
    june(&mut events);
    // July 1st: two mobile quotes so far.
    events.tick("zd", "2016-07-01T09:40:00+08:00");
    events.quote("zd-1", "zd", "2016-07-01T09:30:00+08:00", "phone");
    events.quote("zc-1", "zc", "2016-07-01T09:40:00+08:00", "phone");
    server.produce(&events.take_new());
    let driver = ChromeDriver::start();
    let rt = runtime();
    let client = rt.block_on(driver.session_with_viewport(1920, 1080));
    let timeout = Duration::from_secs(20);
    rt.block_on(async {
        client.goto(&server.serve.url("/screen?screen=hall")).await.unwrap();
        let playlist = wait_for_js(
            &client,
            "return window.__leaderboard.playlist && window.__leaderboard.playlist.screen;",
            timeout,
            "the hall's playlist",
            |v| v == "hall",
        )
        .await;
        assert_eq!(playlist, "hall");
        // June's standings alternate with July's: "最终排名" once June is final, "待定" through its grace
        // days (July 1st here).
        let june = server.get("/api/v1/boards/branch_mobile_quotes?period=2016-06");
        assert_eq!(june["final"], false);
        let june_order = wait_for_js(
            &client,
            "return document.getElementById('standing').textContent === '6月排名 · 待定' ? [...document.querySelectorAll('#rows li')].map(li => li.dataset.key) : null;",
            timeout,
            "June's standings",
            |v| !v.is_null(),
        )
        .await;
        let want: Vec<Value> = june["rows"].as_array().unwrap().iter().map(|r| r["key"].clone()).collect();
        assert_eq!(june_order, Value::Array(want), "June's order");
        screenshot(&client, "tv-month-start-zh").await;

        // July goes on while the screen watches: bs quotes three times and passes zd and zc, which lead
        // July (a moment queued now, so it shows whenever June's have been shown before the page came).
        for (i, at) in ["10:00", "10:10", "10:20"].iter().enumerate() {
            let user = format!("bs-{}", i + 1);
            events.quote(&user, "bs", &format!("2016-07-01T{at}:00+08:00"), "phone");
        }
        events.tick("bs", "2016-07-01T10:40:00+08:00");
        server.produce(&events.take_new());
        // Moments show one at a time, in a banner.
        let kind = wait_for_js(
            &client,
            "const m = document.getElementById('moment'); return m && !m.hidden ? m.dataset.kind : null;",
            Duration::from_secs(30),
            "a moment on screen",
            |v| !v.is_null(),
        )
        .await;
        let received = js(&client, "return window.__leaderboard.moments.map(m => m.kind);").await;
        assert!(
            received.as_array().unwrap().contains(&kind),
            "the banner shows a moment received: {kind} of {received}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await; // past the banner's fade-in
        screenshot(&client, "tv-moment-zh").await;

        // The administrator changes the playlist: English, the people board, a ticker.
        let change = json!({"lang": "en", "ticker": "July sprint: every salesperson quotes on the phone",
            "boards": [{"board": "user_mobile_quotes", "seconds": 30}]});
        let sent_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as f64;
        let (status, body) = request("PUT", &server.serve.url("/api/v1/screens/hall"), None, Some(change));
        assert_eq!(status, 200, "{body}");
        let applied = wait_for_js(
            &client,
            "const l = window.__leaderboard; return l.playlist && l.playlist.lang === 'en' ? [l.playlistAppliedAt, l.showing, document.getElementById('board-title').textContent] : null;",
            timeout,
            "the new playlist",
            |v| !v.is_null(),
        )
        .await;
        let latency = applied[0].as_f64().unwrap() - sent_ms;
        assert!(latency < 1000.0, "the playlist took {latency} ms, more than one push interval");
        assert_eq!(applied[1], "user_mobile_quotes");
        let listed = server.get("/api/v1/screens");
        assert_eq!(listed["screens"][0]["dark"], false, "{listed}");
        let ticker = wait_for_js(
            &client,
            "return document.body.textContent.includes('July sprint') || null;",
            timeout,
            "the ticker",
            |v| v == true,
        )
        .await;
        assert_eq!(ticker, true);
        screenshot(&client, "tv-playlist-en").await;
    });

    // The manager view lists the hall: lit while its page is open, dark (with its last frame) once it closes.
    // A browser of its own: two sessions of one driver would share a profile.
    let manager_driver = ChromeDriver::start();
    let manager = rt.block_on(manager_driver.session_with_viewport(1440, 900));
    let card = "const c = document.querySelector('#screen-list li.screen-card[data-screen=\"hall\"]'); return c ? [c.classList.contains('dark'), c.textContent] : null;";
    rt.block_on(async {
        manager.goto(&server.serve.url("/manager")).await.unwrap();
        let lit = wait_for_js(&manager, card, timeout, "the hall's card", |v| !v.is_null()).await;
        assert_eq!(lit[0], false, "the hall's page is open: {lit}");
        // The PUT above left the label out, so it was cleared: the card names the screen.
        assert!(lit[1].as_str().unwrap().contains("hall"), "{lit}");
        client.close().await.unwrap();
        manager.refresh().await.unwrap();
        let dark = wait_for_js(&manager, card, timeout, "the hall dark", |v| v[0] == true).await;
        let text = dark[1].as_str().unwrap();
        assert!(
            text.contains("黑屏") && text.contains("最后通信"),
            "dark, last seen: {dark}"
        );
        screenshot(&manager, "manager-screens-dark").await;
        manager.close().await.unwrap();
    });
}
