//! Ad hoc SQL against a live server with the real `psql` client, tokio-postgres (the extended protocol with
//! binary results) and over HTTP: the scorecard by SQL equals the REST scorecard, counts over `events` equal
//! the replay's, forbidden statements fail with a clear message, and a runaway query is stopped by its limit
//! while events keep flowing.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tests::broker::free_port;
use tests::live::{LiveServer, eventually};
use tests::process::{replay_counts, run, simulate};

const PASSWORD: &str = "analyst-secret-1";

/// A query that runs until its time limit: a cross join of the event archive with itself, twice.
const RUNAWAY: &str = "SELECT count(*) FROM events a CROSS JOIN events b CROSS JOIN events c \
                       WHERE a.amount > b.amount + c.amount";

/// The real `psql`; under CI a missing client fails the test.
fn psql_binary() -> &'static str {
    let found = Command::new("psql").arg("--version").output().is_ok();
    assert!(
        found,
        "psql is not installed (Debian package postgresql-client); the test command installs it"
    );
    "psql"
}

/// `psql` connecting to the server on `port` as the analyst.
fn psql_command(port: u16, password: &str) -> Command {
    let mut command = Command::new(psql_binary());
    command
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "analyst", "-d", "leaderboard", "-X"])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10");
    command
}

/// Runs `sql` through psql; returns stdout or the error text.
fn psql(port: u16, password: &str, sql: &str) -> Result<String, String> {
    let output = psql_command(port, password)
        .args(["-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// A server configuration with SQL on `pg_port`; `limits` adds lines to the `[sql]` section.
fn config(pg_port: u16, timeout_secs: u64, limits: &str) -> String {
    format!(
        "[server]\ncheckpoint_interval_secs = 1\n[sql]\nlisten = \"127.0.0.1:{pg_port}\"\n\
         timeout_secs = {timeout_secs}\nmemory_limit_mb = 64\n{limits}\
         [[sql.users]]\nname = \"analyst\"\npassword = \"{PASSWORD}\"\n"
    )
}

/// Produces a simulated month into a live server; returns it with the event file and organisation.
fn server_with_month(timeout_secs: u64, limits: &str) -> (LiveServer, u16, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let (events, org) = simulate(data.path(), "2016-06-01", 30, 6, 8, 21);
    let pg_port = free_port();
    let mut server = LiveServer::start(
        &std::fs::read_to_string(&org).unwrap(),
        &config(pg_port, timeout_secs, limits),
    );
    server.produce_file(&events);
    (server, pg_port, data)
}

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

fn post_sql(server: &LiveServer, sql: &str, accept: &str) -> (u16, Vec<u8>) {
    let response = ureq::post(&server.serve.url("/api/v1/sql"))
        .header("Accept", accept)
        .header("Content-Type", "text/plain")
        .config()
        .http_status_as_error(false)
        .build()
        .send(sql);
    let mut response = response.expect("POST /api/v1/sql");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_vec().expect("the body");
    (status, body)
}

#[test]
fn psql_sees_the_rest_scorecard_and_the_replay_counts() {
    let (server, port, data) = server_with_month(30, "");
    let events = data.path().join("events.ndjson");
    let org = data.path().join("org.csv");

    // Wrong password: refused.
    let refused = psql(port, "not-the-password", "SELECT 1").unwrap_err();
    assert!(
        refused
            .to_lowercase()
            .contains("password authentication failed"),
        "{refused}"
    );

    // The scorecard table equals the REST scorecard, branch by branch.
    let rest = server.get("/api/v1/scorecard?period=2016-06");
    let sql = psql(
        port,
        PASSWORD,
        "SELECT branch_id, rank, total, mobile_quotes_per_user, mobile_quotes_per_user_points \
         FROM scorecard WHERE period = '2016-06' ORDER BY branch_id",
    )
    .unwrap();
    let sql_rows = rows(&sql);
    let branches = rest["branches"].as_array().unwrap();
    assert_eq!(sql_rows.len(), branches.len(), "{sql}");
    for row in &sql_rows {
        let branch = branches
            .iter()
            .find(|b| b["branch_id"] == row[0].as_str())
            .unwrap_or_else(|| panic!("no branch {} in REST", row[0]));
        let number = |s: &str| s.parse::<f64>().ok();
        assert_eq!(
            row[1].parse::<u64>().ok(),
            branch["rank"].as_u64(),
            "{row:?}"
        );
        assert_eq!(number(&row[2]), branch["total"].as_f64(), "{row:?}");
        assert_eq!(
            number(&row[3]),
            branch["indicators"]["mobile_quotes_per_user"].as_f64(),
            "{row:?}"
        );
        assert_eq!(
            number(&row[4]),
            branch["points"]["mobile_quotes_per_user"].as_f64(),
            "{row:?}"
        );
    }

    // Counts over events (archive and unflushed rows together) equal the replay's.
    let replayed = replay_counts(&org, &events);
    let counts = rows(
        &psql(
            port,
            PASSWORD,
            "SELECT (SELECT count(*) FROM events) AS n, (SELECT count(DISTINCT event_id) FROM events) AS ids, \
             (SELECT count(*) FROM late_events) AS late",
        )
        .unwrap(),
    );
    assert_eq!(counts[0][0], replayed["accepted"].to_string(), "{counts:?}");
    assert_eq!(counts[0][1], replayed["accepted"].to_string(), "{counts:?}");
    assert_eq!(counts[0][2], replayed["late"].to_string(), "{counts:?}");
    // Per type too, against a count of the file by hand.
    let text = std::fs::read_to_string(&events).unwrap();
    let quotes = text
        .lines()
        .filter(|l| l.contains("\"quote_created\""))
        .count();
    let by_sql = psql(
        port,
        PASSWORD,
        "SELECT count(*) FROM events WHERE event_type = 'quote_created'",
    )
    .unwrap();
    assert!(
        by_sql.trim().parse::<usize>().unwrap() <= quotes,
        "{by_sql} vs {quotes}"
    );
    assert!(by_sql.trim().parse::<usize>().unwrap() > 0);

    // The live tables answer and agree with each other.
    let monthly = psql(
        port,
        PASSWORD,
        "SELECT b.branch_id, b.mobile_quotes_per_user_numerator, sum(u.mobile_quotes) \
         FROM branch_monthly b JOIN user_monthly u ON u.branch_id = b.branch_id AND u.month = b.month \
         WHERE b.month = '2016-06' GROUP BY b.branch_id, b.mobile_quotes_per_user_numerator ORDER BY 1",
    )
    .unwrap();
    for row in rows(&monthly) {
        assert_eq!(
            row[1].parse::<f64>().unwrap(),
            row[2].parse::<f64>().unwrap(),
            "{row:?}"
        );
    }
    // The binding rate counts the registered people user_monthly shows as bound.
    let bound = rows(
        &psql(
            port,
            PASSWORD,
            "SELECT b.branch_id, b.wechat_binding_rate_numerator, \
             count(*) FILTER (WHERE u.wechat_bound AND u.registered), \
             count(*) FILTER (WHERE NOT u.wechat_bound AND u.registered) \
             FROM branch_monthly b JOIN user_monthly u ON u.branch_id = b.branch_id AND u.month = b.month \
             WHERE b.month = '2016-06' GROUP BY 1, 2 ORDER BY 1",
        )
        .unwrap(),
    );
    assert_eq!(bound.len(), branches.len(), "{bound:?}");
    for row in &bound {
        assert_eq!(
            row[1].parse::<f64>().unwrap(),
            row[2].parse::<f64>().unwrap(),
            "{row:?}"
        );
    }
    let unbound: usize = bound.iter().map(|r| r[3].parse::<usize>().unwrap()).sum();
    assert!(unbound > 0, "some people are not bound: {bound:?}");

    // The day-by-day tables: each day's branch figures are its people's, and they are the REST history's.
    let daily = rows(
        &psql(
            port,
            PASSWORD,
            "SELECT b.date, b.branch_id, b.mobile_quotes_per_user_numerator, sum(u.mobile_quotes), b.total \
             FROM branch_daily b JOIN user_daily u ON u.branch_id = b.branch_id AND u.date = b.date \
             WHERE b.month = '2016-06' GROUP BY 1, 2, 3, 5 ORDER BY 1, 2",
        )
        .unwrap(),
    );
    assert!(daily.len() >= 20 * branches.len(), "{daily:?}");
    for row in &daily {
        assert_eq!(
            row[2].parse::<f64>().unwrap(),
            row[3].parse::<f64>().unwrap(),
            "{row:?}"
        );
    }
    let history: Value = ureq::get(&server.serve.url("/api/v1/history?month=2016-06"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let day = &history["days"][14];
    assert_eq!(day["date"], "2016-06-15");
    let mut rest: Vec<(String, String)> = day["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["branch_id"].as_str().unwrap().to_string(),
                b["total"].to_string(),
            )
        })
        .collect();
    rest.sort();
    let sql: Vec<(String, String)> = daily
        .iter()
        .filter(|row| row[0] == "2016-06-15")
        .map(|row| (row[1].clone(), row[4].clone()))
        .collect();
    assert_eq!(rest.len(), branches.len());
    for ((rest_branch, rest_total), (sql_branch, sql_total)) in rest.iter().zip(&sql) {
        assert_eq!(rest_branch, sql_branch);
        assert_eq!(
            rest_total.parse::<f64>().unwrap(),
            sql_total.parse::<f64>().unwrap()
        );
    }
    let early: f64 = daily
        .iter()
        .filter(|r| r[0] == "2016-06-02")
        .map(|r| r[4].parse::<f64>().unwrap())
        .sum();
    let late: f64 = daily
        .iter()
        .filter(|r| r[0] == "2016-06-20")
        .map(|r| r[4].parse::<f64>().unwrap())
        .sum();
    assert!(early != late, "the days differ: {early} {late}");
    // Points at stake: one row per branch and indicator; each branch's gainable points are REST's, and the
    // quotes still needed are REST's.
    let stakes = rows(
        &psql(
            port,
            PASSWORD,
            "SELECT branch_id, count(*), sum(gainable), \
             max(CASE WHEN indicator = 'quotes_per_user' THEN needed END), max(users) \
             FROM branch_at_stake WHERE month = '2016-06' GROUP BY 1 ORDER BY 1",
        )
        .unwrap(),
    );
    assert_eq!(stakes.len(), branches.len(), "{stakes:?}");
    let mut some_gainable = false;
    for row in &stakes {
        let branch = branches
            .iter()
            .find(|b| b["branch_id"] == row[0].as_str())
            .unwrap();
        assert_eq!(row[1], "11", "{row:?}");
        let gainable = branch["at_stake"]["gainable"].as_f64().unwrap();
        assert!(
            (row[2].parse::<f64>().unwrap() - gainable).abs() < 1e-6,
            "{row:?} vs {gainable}"
        );
        some_gainable |= gainable > 0.0;
        assert_eq!(row[4], branch["users"].to_string(), "{row:?}");
        let quotes = &branch["at_stake"]["indicators"]["quotes_per_user"];
        match quotes["needed"].as_f64() {
            Some(needed) => assert_eq!(row[3].parse::<f64>().unwrap(), needed, "{row:?}"),
            None => assert_eq!(row[3], "", "{row:?}"),
        }
    }
    assert!(
        some_gainable,
        "with a day left, points are at stake: {stakes:?}"
    );
    let kinds = psql(
        port,
        PASSWORD,
        "SELECT DISTINCT kind FROM rewards ORDER BY kind",
    )
    .unwrap();
    assert!(kinds.contains("salesperson_payout"), "{kinds}");
    let tables = psql(port, PASSWORD, "SHOW TABLES").unwrap();
    for table in [
        "events",
        "late_events",
        "rejected_events",
        "branch_monthly",
        "user_monthly",
        "branch_daily",
        "user_daily",
        "branch_at_stake",
        "scorecard",
        "rewards",
    ] {
        assert!(
            tables.contains(table),
            "SHOW TABLES lacks {table}: {tables}"
        );
    }
    let described = psql(port, PASSWORD, "DESCRIBE events").unwrap();
    assert!(described.contains("source_offset"), "{described}");

    // The same over HTTP, in each format.
    let (status, body) = post_sql(
        &server,
        "SELECT count(*) AS n FROM events",
        "application/json",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["rows"][0]["n"], replayed["accepted"], "{json}");
    assert_eq!(json["columns"][0]["name"], "n");
    let (status, body) = post_sql(
        &server,
        "SELECT branch_id, total FROM scorecard WHERE period = '2016-06' ORDER BY branch_id",
        "text/csv",
    );
    assert_eq!(status, 200);
    let csv = String::from_utf8(body).unwrap();
    assert_eq!(csv.lines().next(), Some("branch_id,total"), "{csv}");
    assert_eq!(csv.lines().count(), branches.len() + 1, "{csv}");
    let (status, body) = post_sql(
        &server,
        "SELECT event_id FROM events LIMIT 5",
        "application/vnd.apache.arrow.stream",
    );
    assert_eq!(status, 200);
    let reader =
        arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(body), None).unwrap();
    let read: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(read, 5);
    let (status, _) = post_sql(&server, "SELECT 1", "image/png");
    assert_eq!(status, 406);

    // A client of the extended protocol (parameters, prepared statements, binary results) gets the same.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(extended_protocol_agrees(
        port,
        &quotes_by_branch(port),
        branches,
    ));

    // A subquery in a select list that refers to the outer query and names its table (datafusion-postgres
    // would make it null) answers as the engine does: each branch's quotes again.
    let per_branch = psql(
        port,
        PASSWORD,
        "SELECT b.branch_id, (SELECT count(*) FROM events WHERE events.event_type = 'quote_created'          AND events.branch_id = b.branch_id) AS quotes          FROM (SELECT DISTINCT branch_id FROM events WHERE event_type = 'quote_created') b          ORDER BY b.branch_id",
    )
    .unwrap();
    let per_branch: Vec<(String, i64)> = rows(&per_branch)
        .into_iter()
        .map(|row| (row[0].clone(), row[1].parse().unwrap_or(-1)))
        .collect();
    assert_eq!(per_branch, quotes_by_branch(port));
}

/// Quotes per branch by psql's simple protocol, with the values written into the statement.
fn quotes_by_branch(port: u16) -> Vec<(String, i64)> {
    let text = psql(
        port,
        PASSWORD,
        "SELECT branch_id, count(*) FROM events WHERE event_type = 'quote_created' \
         GROUP BY branch_id ORDER BY branch_id",
    )
    .unwrap();
    rows(&text)
        .into_iter()
        .map(|row| (row[0].clone(), row[1].parse().unwrap()))
        .collect()
}

/// tokio-postgres speaks the extended protocol and asks for every result in binary: parameters bound
/// to a prepared statement, reused, typed results, and the guard, all as psql and REST see them.
async fn extended_protocol_agrees(port: u16, quotes: &[(String, i64)], branches: &[Value]) {
    let (client, connection) = tokio_postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("analyst")
        .password(PASSWORD)
        .dbname("leaderboard")
        .connect(tokio_postgres::NoTls)
        .await
        .expect("tokio-postgres connects");
    let connection = tokio::spawn(connection);
    let statement = client
        .prepare(
            "SELECT branch_id, count(*) AS n FROM events \
             WHERE branch_id = $1 AND event_type = $2 GROUP BY branch_id",
        )
        .await
        .expect("prepare a statement with parameters");
    assert!(quotes.len() > 1, "{quotes:?}");
    for (branch, expected) in quotes {
        let rows = client
            .query(&statement, &[branch, &"quote_created"])
            .await
            .unwrap_or_else(|e| panic!("{branch}: {e:?}"));
        assert_eq!(rows.len(), 1, "{branch}");
        assert_eq!(rows[0].get::<_, &str>("branch_id"), branch);
        assert_eq!(rows[0].get::<_, i64>("n"), *expected, "{branch}");
    }
    let rows = client
        .query(
            "SELECT branch_id, rank, total FROM scorecard WHERE period = $1 ORDER BY branch_id",
            &[&"2016-06"],
        )
        .await
        .expect("scorecard by the extended protocol");
    assert_eq!(rows.len(), branches.len());
    for row in &rows {
        let branch_id: &str = row.get("branch_id");
        let rest = branches
            .iter()
            .find(|b| b["branch_id"] == branch_id)
            .unwrap_or_else(|| panic!("no branch {branch_id} in REST"));
        assert_eq!(
            Some(row.get::<_, f64>("total")),
            rest["total"].as_f64(),
            "{branch_id}"
        );
        let rank = row
            .try_get::<_, i64>("rank")
            .or_else(|_| row.try_get::<_, i32>("rank").map(i64::from));
        assert_eq!(rank.ok(), rest["rank"].as_i64(), "{branch_id}");
    }
    // A select-item subquery naming its table, with a parameter: all the quotes.
    let all = client
        .query_one(
            "SELECT (SELECT count(*) FROM events WHERE events.event_type = $1) AS n",
            &[&"quote_created"],
        )
        .await
        .expect("a select-item subquery by the extended protocol");
    let expected: i64 = quotes.iter().map(|(_, n)| n).sum();
    assert_eq!(all.get::<_, i64>("n"), expected);
    let error = client
        .prepare("DELETE FROM events WHERE branch_id = $1")
        .await
        .map(|_| ())
        .expect_err("DELETE is refused");
    let error = error
        .as_db_error()
        .map(|e| e.message().to_owned())
        .unwrap_or_else(|| error.to_string());
    assert!(error.contains("DELETE"), "{error}");
    drop(client);
    connection
        .await
        .unwrap()
        .expect("the connection ends cleanly");
}

#[test]
fn forbidden_statements_fail_clearly_and_a_runaway_query_is_stopped_while_events_flow() {
    // One query at a time and two Postgres connections: the runaway query below takes one of each.
    const LIMIT_SECS: u64 = 8;
    let (mut server, port, _data) = server_with_month(
        LIMIT_SECS,
        "max_concurrent_queries = 1\nmax_connections = 2\n",
    );
    for (statement, named) in [
        ("INSERT INTO events (event_id) VALUES ('x')", "INSERT"),
        ("DELETE FROM events", "DELETE"),
        ("DROP TABLE events", "DROP TABLE"),
        ("CREATE TABLE t AS SELECT 1", "CREATE TABLE"),
        ("COPY events TO '/tmp/stolen.csv'", "COPY"),
        (
            "SET datafusion.execution.target_partitions = 64",
            "SET datafusion",
        ),
    ] {
        let error = psql(port, PASSWORD, statement).unwrap_err();
        assert!(
            error.contains(named) && (error.contains("read-only") || error.contains("not allowed")),
            "{statement}: {error}"
        );
        let (status, body) = post_sql(&server, statement, "application/json");
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 403, "{statement}: {body}");
        assert!(body.contains(named), "{body}");
    }
    let (status, body) = post_sql(
        &server,
        "CREATE EXTERNAL TABLE pw STORED AS CSV LOCATION '/etc/passwd'",
        "application/json",
    );
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    for reads_a_file in [
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM read_csv('/etc/passwd')",
    ] {
        let error = psql(port, PASSWORD, reads_a_file).unwrap_err();
        assert!(error.contains("ERROR"), "{reads_a_file}: {error}");
        assert!(
            !error.contains("root:"),
            "{reads_a_file} read the file: {error}"
        );
    }
    let (status, _) = post_sql(&server, "SELEC 1", "application/json");
    assert_eq!(status, 400);

    // A cross join of the event archive with itself runs for ever; the 8 s limit stops it while a new
    // batch of events reaches the leaderboard.
    // Each stage is logged with its time, so a failure under CI says where it stopped.
    let started = Instant::now();
    let stage = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let before = server.get("/api/v1/status")["counts"]["accepted"]
        .as_u64()
        .unwrap();
    stage("runaway query starts");
    let runaway = std::thread::spawn(move || {
        let started = Instant::now();
        let result = psql(port, PASSWORD, RUNAWAY);
        (result, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut scenario = tests::Scenario::new();
    scenario.register("late-joiner", "b01", "2016-06-30T10:00:00+08:00");
    scenario.quote("late-joiner", "b01", "2016-06-30T10:05:00+08:00", "phone");
    let produced_at = Instant::now();
    server.produce_async(&scenario.take_new());
    eventually(
        Duration::from_secs(10),
        "events flow during the runaway query",
        || {
            let counts = server.get("/api/v1/status")["counts"].clone();
            let accepted = counts["accepted"].as_u64()?;
            (accepted == before + 2).then_some(()).or_else(|| {
                eprintln!("counts: {counts} (accepted before: {before})");
                None
            })
        },
    );
    let flowed_in = produced_at.elapsed();
    stage("the events flowed");
    assert!(
        !runaway.is_finished(),
        "the events must have flowed while the query ran"
    );
    // While it runs, another query is refused at once with the limit's name, over HTTP and Postgres …
    let body = eventually(
        Duration::from_secs(3),
        "the runaway query takes the only query slot",
        || {
            let (status, body) = post_sql(&server, "SELECT 1", "application/json");
            (status == 503).then(|| String::from_utf8_lossy(&body).into_owned())
        },
    );
    assert!(
        body.contains("(sql.max_concurrent_queries = 1) are running"),
        "{body}"
    );
    stage("HTTP refused a second query");
    let error = psql(port, PASSWORD, "SELECT 1").unwrap_err();
    assert!(
        error.contains("(sql.max_concurrent_queries = 1) are running"),
        "{error}"
    );
    // … and with a second connection open, a third is turned away at login.
    let mut held = psql_command(port, PASSWORD)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run psql");
    eventually(
        Duration::from_secs(3),
        "a third Postgres connection is refused",
        || {
            let error = psql(port, PASSWORD, "SELECT 1").err()?;
            error
                .contains("too many Postgres connections: 2 are open (sql.max_connections)")
                .then_some(())
        },
    );
    stage("a third connection was refused");
    drop(held.stdin.take());
    held.wait().expect("psql ends when its input does");
    let metrics = server.serve.metrics();
    for counted in [
        "leaderboard_sql_queries_total{front_end=\"http\",outcome=\"busy\"} ",
        "leaderboard_sql_queries_total{front_end=\"postgres\",outcome=\"busy\"} ",
        "leaderboard_sql_connections_refused_total ",
    ] {
        assert!(
            metrics.contains(counted),
            "{counted} missing from {metrics}"
        );
    }
    let (result, took) = runaway.join().unwrap();
    stage("the runaway query ended");
    let error = result.unwrap_err();
    assert!(error.contains("ran longer than the limit"), "{error}");
    assert!(!error.contains("query stopped: query stopped"), "{error}");
    assert!(took < Duration::from_secs(15), "stopped after {took:?}");
    assert!(
        flowed_in < Duration::from_secs(5),
        "events took {flowed_in:?} during the query"
    );
    // The user board shows the new person without waiting for the query.
    let board = server.get("/api/v1/boards/user_mobile_quotes?period=2016-06");
    assert!(board.to_string().contains("late-joiner"), "{board}");

    // A query that needs more memory than its 64 MiB is stopped with a message naming the limit.
    let error = psql(
        port,
        PASSWORD,
        "SELECT a.event_id, b.event_id FROM events a JOIN events b ON a.branch_id = b.branch_id ORDER BY 1, 2",
    )
    .unwrap_err();
    assert!(
        error.contains("query stopped") || error.contains("Resources exhausted"),
        "{error}"
    );
    // So is a function asked for a value larger than that, before it allocates: over Postgres, over HTTP
    // (422), and over a column of the archive, where each row is small but the batch is not.
    let error = psql(port, PASSWORD, "SELECT length(repeat('x', 2000000000))").unwrap_err();
    assert!(
        error.contains("repeat() would make up to 1.86 GiB")
            && error.contains("(sql.memory_limit_mb = 64)"),
        "{error}"
    );
    let (status, body) = post_sql(
        &server,
        "SELECT max(length(lpad(event_id, 1000000))) FROM events",
        "application/json",
    );
    let body = String::from_utf8_lossy(&body);
    assert!(
        status == 422 && body.contains("lpad() would make up to"),
        "{status} {body}"
    );
    stage("memory limits held");
    let small = psql(port, PASSWORD, "SELECT length(repeat('ab', 1000000))").unwrap();
    assert_eq!(small.trim(), "2000000");
    // The server still answers afterwards.
    assert_eq!(psql(port, PASSWORD, "SELECT 1").unwrap().trim(), "1");
    // Each Postgres query is counted once, with how it ended: the two stopped while their rows streamed
    // and the refused repeat() count as "limit", not also as "ok"; only the short repeat() and the last
    // SELECT 1 succeeded over Postgres.
    let metrics = server.serve.metrics();
    let postgres_queries = |outcome: &str| {
        let series = format!(
            "leaderboard_sql_queries_total{{front_end=\"postgres\",outcome=\"{outcome}\"}} "
        );
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&series))
            .map(|count| count.trim().parse::<u64>().expect("a count"))
    };
    assert_eq!(postgres_queries("ok"), Some(2), "{metrics}");
    assert_eq!(postgres_queries("limit"), Some(3), "{metrics}");

    // Ctrl-C in psql stops a query at once, with a connection to spare and with every connection taken
    // (psql sends the cancel request over a connection of its own).
    for every_connection_taken in [false, true] {
        stage(&format!(
            "Ctrl-C with every connection taken: {every_connection_taken}"
        ));
        // A cancelled cross join may hold its query slot until its deadline: wait for it.
        eventually(Duration::from_secs(12), "a free query slot", || {
            (post_sql(&server, "SELECT 1", "application/json").0 == 200).then_some(())
        });
        let mut held = every_connection_taken.then(|| {
            psql_command(port, PASSWORD)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("run psql")
        });
        let runaway = psql_command(port, PASSWORD)
            .args(["-c", RUNAWAY])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run psql");
        std::thread::sleep(Duration::from_secs(2));
        let interrupted = Instant::now();
        let status = Command::new("kill")
            .args(["-INT", &runaway.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let output = runaway.wait_with_output().expect("psql ends");
        let took = interrupted.elapsed();
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(
            error.contains("canceling statement due to user request"),
            "every connection taken: {every_connection_taken}: {error}"
        );
        assert!(
            took < Duration::from_secs(4),
            "cancelled after {took:?} (the limit is 8 s)"
        );
        if let Some(held) = held.as_mut() {
            drop(held.stdin.take());
            held.wait().expect("psql ends when its input does");
        }
    }
    let metrics = server.serve.metrics();
    assert!(
        metrics.contains(
            "leaderboard_sql_queries_total{front_end=\"postgres\",outcome=\"cancelled\"} 2"
        ),
        "{metrics}"
    );

    // Long expression chains, as BI tools write them. 600 ORs are answered (deep chains must not overflow
    // a thread's stack); 3,000 ORs and 6,000 `1+1…` weigh more than `sql.max_expression_weight` (planning
    // time grows with the square of a chain's length) and are refused before planning,
    // while the same 3,000 values as an IN list are answered; a statement over 256 KiB is refused before
    // parsing. The server (pipeline included) lives through all of it.
    eventually(Duration::from_secs(12), "a free query slot", || {
        (post_sql(&server, "SELECT 1", "application/json").0 == 200).then_some(())
    });
    let users = |n: usize| (0..n).map(|i| format!("'u{i}'")).collect::<Vec<_>>();
    let ors = |n: usize| {
        users(n)
            .iter()
            .map(|user| format!("user_id = {user}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let (status, body) = post_sql(
        &server,
        &format!("SELECT count(*) AS n FROM events WHERE {}", ors(600)),
        "application/json",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let (status, body) = post_sql(
        &server,
        &format!(
            "SELECT count(*) AS n FROM events WHERE user_id IN ({})",
            users(3000).join(", ")
        ),
        "application/json",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let asked = Instant::now();
    for heavy in [
        format!("SELECT count(*) AS n FROM events WHERE {}", ors(3000)),
        format!("SELECT {}", vec!["1"; 6000].join("+")),
    ] {
        let (status, body) = post_sql(&server, &heavy, "application/json");
        let body = String::from_utf8_lossy(&body);
        assert!(
            status == 422
                && body.contains("weigh more than 1000000 (sql.max_expression_weight;")
                && body.contains("IN (…)"),
            "{status} {body}"
        );
    }
    assert!(
        asked.elapsed() < Duration::from_secs(LIMIT_SECS),
        "the refusals came {:?} after asking",
        asked.elapsed()
    );
    let huge = format!("SELECT 1 WHERE '{}' = ''", "x".repeat(300 * 1024));
    let (status, body) = post_sql(&server, &huge, "application/json");
    let body = String::from_utf8_lossy(&body);
    assert!(status == 400 && body.contains("256 KiB"), "{status} {body}");
    assert_eq!(server.get("/health")["status"], "ok");
    assert!(server.get("/api/v1/status")["counts"]["accepted"].as_u64() > Some(0));
}

/// A 25,000-term `'a' || 'a' || …` would take DataFusion minutes of a core and gigabytes to plan. It is refused
/// at once with the name of the bound; and with the bound raised past it, its planning stops at the time
/// limit: in both cases the server's CPU time stops growing, the refusal is counted by limit, and the next
/// query is answered.
#[test]
fn a_statement_too_large_to_plan_is_refused_and_its_planning_stops_at_the_time_limit() {
    const LIMIT_SECS: u64 = 3;
    let concat = format!("SELECT {}", vec!["'a'"; 25_000].join(" || "));
    for (limits, named, label) in [
        ("", "(sql.max_expression_weight;", "size"),
        (
            "max_expression_weight = 10000000000\n",
            "(sql.timeout_secs)",
            "time",
        ),
    ] {
        let server = LiveServer::start(
            "branch_id,branch_name,in_scope\nb01,One,true\n",
            &config(free_port(), LIMIT_SECS, limits),
        );
        let asked = Instant::now();
        let (status, body) = post_sql(&server, &concat, "application/json");
        let answered_in = asked.elapsed();
        let body = String::from_utf8_lossy(&body);
        assert!(status == 422 && body.contains(named), "{status} {body}");
        assert!(
            answered_in < Duration::from_secs(LIMIT_SECS + 5),
            "answered after {answered_in:?}"
        );
        // Planning has stopped within two seconds of the answer: from then on the idle server uses
        // (almost) no CPU. Planning that ran on would use a whole core, 3 s of CPU in these 3 s.
        std::thread::sleep(Duration::from_secs(2));
        let pid = server.serve.pid().to_string();
        let cpu_before = tests::process::cpu_seconds(&pid);
        std::thread::sleep(Duration::from_secs(3));
        let used = tests::process::cpu_seconds(&pid) - cpu_before;
        assert!(
            used < 0.8,
            "{label}: the server used {used:.2} s of CPU in 3 s after the answer"
        );
        let (status, body) = post_sql(&server, "SELECT 1 AS one", "application/json");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let metrics = server.serve.metrics();
        let counted = format!("leaderboard_sql_stopped_total{{limit=\"{label}\"}} 1");
        assert!(
            metrics.contains(&counted),
            "{counted} missing from {metrics}"
        );
    }
}

#[test]
fn the_sql_command_queries_a_replayed_state_directory_without_a_server() {
    let data = tempfile::tempdir().unwrap();
    let (events, org) = simulate(data.path(), "2016-06-01", 20, 4, 6, 5);
    let state = data.path().join("state");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    run(&[
        "replay",
        "--org",
        &path(&org),
        "--events",
        &path(&events),
        "--period",
        "2016-06",
        "--state-dir",
        &path(&state),
    ]);
    assert!(state.join("checkpoint.bin").is_file());
    let replayed = replay_counts(&org, &events);
    let output = run(&[
        "sql",
        "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events",
        "--state-dir",
        &path(&state),
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["rows"][0]["n"], replayed["accepted"], "{json}");
    assert_eq!(json["rows"][0]["ids"], replayed["accepted"], "{json}");
    let scorecard = tests::process::replay_scorecard(&org, &events, None, "2016-06");
    let output = run(&[
        "sql",
        "SELECT branch_id, total FROM scorecard WHERE period = '2016-06' ORDER BY branch_id",
        "--state-dir",
        &path(&state),
        "--format",
        "csv",
    ]);
    let csv = String::from_utf8(output.stdout).unwrap();
    for branch in scorecard["branches"].as_array().unwrap() {
        let line = format!(
            "{},{}",
            branch["branch_id"].as_str().unwrap(),
            branch["total"]
        );
        assert!(csv.lines().any(|l| l == line), "{line} not in\n{csv}");
    }
    let refused = Command::new(tests::process::leaderboard_binary())
        .args(["sql", "DROP TABLE events", "--state-dir", &path(&state)])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("read-only") && stderr.contains("DROP TABLE"),
        "{stderr}"
    );
}

#[test]
fn sqlalchemy_inspects_and_pandas_reads_every_table() {
    let (server, port, _data) = server_with_month(30, "");
    let script = tests::workspace_dir().join("tests/py/sqlalchemy_pandas.py");
    let output = Command::new(tests::python_with_drivers())
        .arg(&script)
        .args([&port.to_string(), "analyst", PASSWORD])
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");

    // The dialect parsed the version: PostgreSQL 16, with the real engine named.
    assert_eq!(seen["server_version_info"][0], 16, "{seen}");
    let version = seen["version"].as_str().unwrap();
    assert!(
        version.starts_with("PostgreSQL 16.") && version.contains("Apache DataFusion"),
        "{version}"
    );
    // The inspector: the schema, the raw tables, the live tables as views, their columns.
    assert!(
        seen["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!("public"))
    );
    assert_eq!(
        seen["tables"],
        json!(["events", "late_events", "rejected_events"])
    );
    for view in [
        "branch_at_stake",
        "branch_daily",
        "branch_monthly",
        "rewards",
        "scorecard",
        "user_daily",
        "user_monthly",
    ] {
        assert!(
            seen["views"].as_array().unwrap().contains(&json!(view)),
            "{view} is not a view: {}",
            seen["views"]
        );
    }
    let scorecard = &seen["columns"]["scorecard"];
    for column in [
        "period",
        "branch_id",
        "rank",
        "total",
        "quotes_per_user_points",
    ] {
        assert!(scorecard.get(column).is_some(), "{column}: {scorecard}");
    }
    assert!(
        seen["columns"]["events"].get("source_offset").is_some(),
        "{}",
        seen["columns"]["events"]
    );
    // No keys or constraints: the inspector says so rather than failing.
    assert_eq!(seen["foreign_keys"], json!([]));
    assert_eq!(seen["primary_key"]["constrained_columns"], json!([]));
    assert_eq!(seen["unique_constraints"], json!([]));
    assert_eq!(seen["indexes"], json!({"scorecard": [], "events": []}));
    assert_eq!(seen["check_constraints"], json!([]));

    // psql's describe commands list the same relations and columns.
    let listed = rows(&psql(port, PASSWORD, "\\d").unwrap());
    let relations: Vec<(&str, &str)> = listed
        .iter()
        .filter(|row| row.len() >= 3)
        .map(|row| (row[1].as_str(), row[2].as_str()))
        .collect();
    for table in ["events", "late_events", "rejected_events"] {
        assert!(relations.contains(&(table, "table")), "{relations:?}");
    }
    for view in seen["views"].as_array().unwrap() {
        assert!(
            relations.contains(&(view.as_str().unwrap(), "view")),
            "{view}: {relations:?}"
        );
    }
    let tables = psql(port, PASSWORD, "\\dt").unwrap();
    assert_eq!(tables.lines().count(), 3, "{tables}");
    // `\d scorecard`: a line per column, typed as SQLAlchemy saw it ("DOUBLE PRECISION", "TIMESTAMP" …).
    let described = psql(port, PASSWORD, "\\d scorecard").unwrap();
    let columns = scorecard.as_object().unwrap();
    assert_eq!(described.lines().count(), columns.len(), "{described}");
    for (name, kind) in columns {
        let kind = kind.as_str().unwrap().to_lowercase();
        let expected = format!("{name}\t{}", kind.split(' ').next().unwrap());
        assert!(
            described.lines().any(|line| line.starts_with(&expected)),
            "{expected}: {described}"
        );
    }

    // `\d+ scorecard`: the same columns with their storage, and `\d+ events` those of a table.
    let verbose = psql(port, PASSWORD, "\\d+ scorecard").unwrap();
    assert_eq!(verbose.lines().count(), columns.len(), "{verbose}");
    for line in verbose.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let storage = if fields[1] == "text" {
            "extended"
        } else {
            "plain"
        };
        assert_eq!(fields.get(5), Some(&storage), "{line}");
    }
    let events = psql(port, PASSWORD, "\\d+ events").unwrap();
    assert!(
        events
            .lines()
            .any(|l| l.starts_with("occurred_at\ttimestamp with time zone")),
        "{events}"
    );

    // `\d+`: every relation with its kind (the raw tables as tables, the live ones as views).
    let relations = psql(port, PASSWORD, "\\d+").unwrap();
    for expected in ["public\tevents\ttable", "public\tscorecard\tview"] {
        assert!(
            relations.lines().any(|l| l.starts_with(expected)),
            "{expected}: {relations}"
        );
    }
    assert_eq!(
        relations.lines().count(),
        seen["rows"].as_object().unwrap().len(),
        "{relations}"
    );

    // pandas read every table whole: as many rows as psql counts.
    for (name, rows) in seen["rows"].as_object().unwrap() {
        let counted = psql(port, PASSWORD, &format!("SELECT count(*) FROM {name}")).unwrap();
        assert_eq!(
            rows.as_u64().unwrap(),
            counted.trim().parse::<u64>().unwrap(),
            "{name}"
        );
    }
    assert!(seen["rows"]["events"].as_u64().unwrap() > 1000);
    // And its figures are the REST scorecard's.
    let rest = server.get("/api/v1/scorecard?period=2016-06");
    let branches = rest["branches"].as_array().unwrap();
    assert_eq!(
        seen["june_totals"].as_object().unwrap().len(),
        branches.len()
    );
    for branch in branches {
        let id = branch["branch_id"].as_str().unwrap();
        assert_eq!(seen["june_totals"][id], branch["total"], "{id}");
    }
}

/// How many branches the REST scorecard of June 2016 lists (at least one).
fn june_branches(server: &LiveServer) -> usize {
    let rest = server.get("/api/v1/scorecard?period=2016-06");
    let branches = rest["branches"].as_array().unwrap().len();
    assert!(branches > 0);
    branches
}

/// Runs the Java program `tests/java/{program}.java` with pgjdbc (Debian's) and `args`; its tab-separated
/// output lines.
fn run_with_pgjdbc(program: &str, args: &[&str]) -> Vec<Vec<String>> {
    let java = tests::installed(
        "LEADERBOARD_JAVA",
        "/usr/bin/java",
        "default-jdk-headless (Debian)",
    );
    let driver = tests::installed(
        "LEADERBOARD_PGJDBC",
        "/usr/share/java/postgresql.jar",
        "libpostgresql-jdbc-java (Debian)",
    );
    let output = Command::new(java)
        .arg("-cp")
        .arg(driver)
        .arg(tests::workspace_dir().join(format!("tests/java/{program}.java")))
        .args(args)
        .output()
        .expect("run java");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{program}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    rows(&stdout)
}

/// The lines of `lines` that start with `kind`, without it.
fn lines_of<'a>(lines: &'a [Vec<String>], kind: &str) -> Vec<&'a [String]> {
    lines
        .iter()
        .filter(|l| l[0] == kind)
        .map(|l| &l[1..])
        .collect()
}

#[test]
fn pgjdbc_lists_tables_columns_and_keys_and_runs_a_prepared_query() {
    let (server, port, _data) = server_with_month(30, "");
    let lines = run_with_pgjdbc(
        "JdbcMetadata",
        &[&port.to_string(), "analyst", PASSWORD, "2016-06"],
    );
    let stdout = format!("{lines:?}");
    let of_kind = |kind: &str| -> Vec<(String, String)> {
        lines
            .iter()
            .filter(|l| l[0] == kind && l.len() == 3)
            .map(|l| (l[1].clone(), l[2].clone()))
            .collect()
    };
    // getTables: the raw tables and the live tables, as tables and views.
    let tables = of_kind("table");
    for table in ["events", "late_events", "rejected_events"] {
        assert!(
            tables.contains(&(table.into(), "TABLE".into())),
            "{tables:?}"
        );
    }
    for view in [
        "scorecard",
        "branch_monthly",
        "user_monthly",
        "branch_at_stake",
    ] {
        assert!(tables.contains(&(view.into(), "VIEW".into())), "{tables:?}");
    }
    // getColumns: the scorecard's columns with PostgreSQL's type names.
    let columns = of_kind("column");
    for (column, pg_type) in [
        ("period", "text"),
        ("is_final", "bool"),
        ("rank", "int8"),
        ("total", "float8"),
    ] {
        assert!(
            columns.contains(&(column.into(), pg_type.into())),
            "{column}: {columns:?}"
        );
    }
    // getPrimaryKeys: none (the tables have no keys), rather than an error.
    let keys = lines
        .iter()
        .find(|l| l[0] == "primary_keys")
        .map(|l| l[1].clone());
    assert_eq!(keys.as_deref(), Some("0"), "{stdout}");
    // A prepared query with a parameter counts the REST scorecard's branches.
    let branches = june_branches(&server);
    let counted = lines
        .iter()
        .find(|l| l[0] == "branches")
        .map(|l| l[1].clone());
    assert_eq!(counted, Some(branches.to_string()), "{stdout}");
}

/// node-postgres (`pg` from npm, `tests/node/pg_query.js`): a SCRAM login, the login as `current_user`, a
/// query with a parameter (the extended protocol) counting the REST scorecard's branches, and the tables.
#[test]
fn node_postgres_logs_in_and_counts_the_rest_branches() {
    let (server, port, _data) = server_with_month(30, "");
    let node = tests::installed("LEADERBOARD_NODE", "/usr/bin/node", "Node.js");
    let home = std::env::var("HOME").unwrap_or_default();
    let modules = std::env::var("LEADERBOARD_NODE_MODULES")
        .unwrap_or_else(|_| format!("{home}/.cache/leaderboard/node/node_modules"));
    tests::installed(
        "LEADERBOARD_NODE_PG",
        &format!("{modules}/pg/package.json"),
        "pg (node-postgres) from npm",
    );
    let output = Command::new(node)
        .arg(tests::workspace_dir().join("tests/node/pg_query.js"))
        .args([&port.to_string(), "analyst", PASSWORD, "2016-06"])
        .env("NODE_PATH", &modules)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = rows(&stdout);
    assert_eq!(lines_of(&lines, "user"), vec![&["analyst".to_string()][..]]);
    let branches = june_branches(&server);
    assert_eq!(lines_of(&lines, "branches")[0][0], branches.to_string());
    let tables = lines_of(&lines, "table");
    for (table, _) in TABLE_KINDS {
        assert!(tables.iter().any(|t| t[0] == table), "{table}: {tables:?}");
    }
}

/// The documented tables as (name, PostgreSQL relkind): the raw tables, then the live views.
const TABLE_KINDS: [(&str, &str); 7] = [
    ("events", "r"),
    ("late_events", "r"),
    ("rejected_events", "r"),
    ("scorecard", "v"),
    ("branch_monthly", "v"),
    ("user_monthly", "v"),
    ("branch_at_stake", "v"),
];

/// Columns of the scorecard with the PostgreSQL type names tools show.
const SCORECARD_TYPES: [(&str, &str); 4] = [
    ("period", "text"),
    ("is_final", "bool"),
    ("rank", "int8"),
    ("total", "float8"),
];

/// DBeaver's navigator, replayed with the SQL of its PostgreSQL plugin through pgjdbc: connecting (two
/// connections, the schema list, the database, the type cache), then Tables and Views, each one's columns,
/// and a table editor's constraints, indexes and the roles. Also psql's `\l` and `current_user`.
#[test]
fn dbeaver_navigator_lists_the_database_tables_views_and_typed_columns() {
    let (_server, port, _data) = server_with_month(30, "");
    let lines = run_with_pgjdbc(
        "ToolCatalogs",
        &["dbeaver", &port.to_string(), "analyst", PASSWORD],
    );
    let all = format!("{lines:?}");
    // Each connection's defaults: the schema and the login.
    let defaults = lines_of(&lines, "defaults");
    assert_eq!(defaults.len(), 2, "{all}");
    for d in &defaults {
        assert_eq!(
            (d[1].as_str(), d[2].as_str()),
            ("public", "analyst"),
            "{all}"
        );
    }
    assert!(
        lines_of(&lines, "schema").iter().any(|s| s[0] == "public"),
        "{all}"
    );
    assert_eq!(
        lines_of(&lines, "database"),
        vec![&["leaderboard".to_string(), "true".into()][..]]
    );
    assert_eq!(lines_of(&lines, "search_path")[0][0], "\"$user\", public");
    assert_eq!(
        lines_of(&lines, "setting"),
        vec![&["standard_conforming_strings".to_string(), "on".into()][..]]
    );
    assert!(lines_of(&lines, "version")[0][0].starts_with("PostgreSQL 16."));
    assert_eq!(lines_of(&lines, "keywords")[0][0], "some");
    assert_eq!(lines_of(&lines, "probe"), vec![&["0".to_string()][..]; 2]);
    let types: usize = lines_of(&lines, "types")[0][0].parse().unwrap();
    assert!(types > 100, "{types} types in DBeaver's cache");
    let tables = lines_of(&lines, "table");
    for (table, kind) in TABLE_KINDS {
        assert!(
            tables.iter().any(|t| t[0] == table && t[1] == kind),
            "{table} {kind}: {tables:?}"
        );
    }
    assert_eq!(lines_of(&lines, "sizes")[0][0], tables.len().to_string());
    // Every column of every relation has a type DBeaver's type cache knows.
    let columns = lines_of(&lines, "column");
    assert!(
        columns.iter().all(|c| !c[2].starts_with('?')),
        "{columns:?}"
    );
    for (column, pg_type) in SCORECARD_TYPES {
        assert!(
            columns
                .iter()
                .any(|c| c[0] == "scorecard" && c[1] == column && c[2] == pg_type),
            "{column} {pg_type}: {columns:?}"
        );
    }
    assert!(
        columns
            .iter()
            .any(|c| c[0] == "events" && c[1] == "occurred_at" && c[2] == "timestamptz")
    );
    for relation in tables.iter().map(|t| &t[0]) {
        assert!(
            columns.iter().any(|c| &c[0] == relation),
            "no columns for {relation}"
        );
    }
    // No keys, indexes or inheritance, and the one account as the one role.
    for none in ["constraints", "indexes", "parents", "references"] {
        assert_eq!(lines_of(&lines, none)[0][0], "0", "{none}");
    }
    assert_eq!(lines_of(&lines, "role"), vec![&["analyst".to_string()][..]]);
    // psql: the login is the current user, and the database is listed.
    let who = psql(port, PASSWORD, "SELECT current_user, session_user, user").unwrap();
    assert_eq!(rows(&who), vec![vec!["analyst"; 3]]);
    let databases = psql(port, PASSWORD, "\\l").unwrap();
    assert!(
        rows(&databases).iter().any(|r| r[0] == "leaderboard"),
        "{databases}"
    );
}

/// Metabase's connection test, pool check-out and metadata sync, replayed with the SQL of its PostgreSQL
/// driver through pgjdbc: the tables it may select (and may not write), their types, every column with
/// its type, no keys, and a sample of each table with as many rows as the table has (up to 10,000).
#[test]
fn metabase_sync_finds_every_table_and_column_and_samples_them() {
    let (server, port, _data) = server_with_month(30, "");
    let lines = run_with_pgjdbc(
        "ToolCatalogs",
        &["metabase", &port.to_string(), "analyst", PASSWORD],
    );
    let all = format!("{lines:?}");
    for (kind, value) in [
        ("can_connect", "true"),
        ("catalog", "leaderboard"),
        ("valid", "true"),
        ("timezone", "UTC"),
        ("schemas", "public"),
        ("enums", "0"),
        ("foreign_keys", "0"),
    ] {
        assert_eq!(lines_of(&lines, kind)[0][0], value, "{kind}: {all}");
    }
    assert_eq!(
        lines_of(&lines, "product")[0],
        ["PostgreSQL".to_string(), "16".into()]
    );
    // java.sql.Connection.TRANSACTION_READ_COMMITTED, from SHOW TRANSACTION ISOLATION LEVEL.
    assert_eq!(lines_of(&lines, "isolation")[0][0], "2");
    // Readable, not writable: Metabase keeps the table and offers no actions on it.
    let privileges = lines_of(&lines, "privilege");
    for (table, _) in TABLE_KINDS {
        let name = format!("public.{table}");
        assert!(
            privileges
                .iter()
                .any(|p| p[0] == name && p[1] == "true" && p[2] == "false"),
            "{name}: {privileges:?}"
        );
    }
    let tables = lines_of(&lines, "table");
    for (table, kind) in TABLE_KINDS {
        let kind = if kind == "r" { "TABLE" } else { "VIEW" };
        assert!(
            tables.iter().any(|t| t[0] == table && t[1] == kind),
            "{table}: {tables:?}"
        );
    }
    // describe-fields: each table's columns in order, typed, none a primary key; pgjdbc's getColumns
    // agrees on how many there are, and getPrimaryKeys finds none.
    let fields = lines_of(&lines, "field");
    for (column, pg_type) in SCORECARD_TYPES {
        assert!(
            fields
                .iter()
                .any(|f| f[0] == "scorecard" && f[1] == column && f[2] == pg_type),
            "{column}: {fields:?}"
        );
    }
    assert!(fields.iter().all(|f| f[4] == "false"), "{fields:?}");
    for table in tables.iter().map(|t| &t[0]) {
        let positions: Vec<&str> = fields
            .iter()
            .filter(|f| &f[0] == table)
            .map(|f| f[3].as_str())
            .collect();
        let expected: Vec<String> = (0..positions.len()).map(|i| i.to_string()).collect();
        assert_eq!(positions, expected, "{table}");
        let jdbc = lines_of(&lines, "jdbc_columns");
        assert!(
            jdbc.iter()
                .any(|j| &j[0] == table && j[1] == positions.len().to_string()),
            "{table}: {jdbc:?}"
        );
    }
    assert!(
        lines_of(&lines, "jdbc_primary_keys")
            .iter()
            .all(|k| k[1] == "0")
    );
    // The samples: the month's branches, as the REST scorecard lists them.
    let samples = lines_of(&lines, "sample");
    let sampled = |table: &str| samples.iter().find(|s| s[0] == table).map(|s| s[1].clone());
    let branches = june_branches(&server);
    assert_eq!(
        sampled("branch_monthly"),
        Some(branches.to_string()),
        "{samples:?}"
    );
    let events = psql(port, PASSWORD, "SELECT count(*) FROM events").unwrap();
    let events: usize = events.trim().parse().unwrap();
    assert_eq!(
        sampled("events"),
        Some(events.min(10_000).to_string()),
        "{samples:?}"
    );
}

/// Grafana's PostgreSQL data source: the search path its table picker splits, its column picker's query,
/// and a time series written with its macros (`$__timeGroupAlias(occurred_at, '1h')`, `$__timeFilter(occurred_at)` as Grafana expands them),
/// over psycopg 3's extended protocol like Grafana's pgx.
#[test]
fn grafana_column_picker_search_path_and_time_macros_answer() {
    let (_server, port, _data) = server_with_month(30, "");
    let conninfo =
        format!("host=127.0.0.1 port={port} user=analyst password={PASSWORD} dbname=leaderboard");
    let grafana = |sql: &str| tests::python_query("psycopg", &conninfo, sql).unwrap();
    // The search path Grafana's table picker reads, split as it splits it (its whole query puts an
    // `IN (subquery)` in a select list, which DataFusion cannot plan: docs/sql.md).
    let path = grafana(
        "SELECT CASE WHEN trim(s[i]) = '\"$user\"' THEN user ELSE trim(s[i]) END \
         FROM generate_series(array_lower(string_to_array(current_setting('search_path'),','),1), \
         array_upper(string_to_array(current_setting('search_path'),','),1)) AS i, \
         string_to_array(current_setting('search_path'),',') s ORDER BY i",
    );
    // `"$user"` is the login, as in PostgreSQL.
    assert_eq!(path, "analyst\npublic");
    // The table picker's own query: the search path's tables by their bare names, listed first.
    let search_path = "SELECT CASE WHEN trim(s[i]) = '\"$user\"' THEN user ELSE trim(s[i]) END \
         FROM generate_series(array_lower(string_to_array(current_setting('search_path'),','),1), \
         array_upper(string_to_array(current_setting('search_path'),','),1)) AS i, \
         string_to_array(current_setting('search_path'),',') s";
    let tables = grafana(&format!(
        "SELECT CASE WHEN quote_ident(table_schema) IN ({search_path}) THEN quote_ident(table_name) \
         ELSE quote_ident(table_schema) || '.' || quote_ident(table_name) END AS \"table\" \
         FROM information_schema.tables \
         WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache', \
         '_timescaledb_catalog', '_timescaledb_internal', '_timescaledb_config', \
         'timescaledb_information', 'timescaledb_experimental') \
         ORDER BY CASE WHEN quote_ident(table_schema) IN ({search_path}) THEN 0 ELSE 1 END, 1"
    ));
    let tables: Vec<&str> = tables.lines().collect();
    let bare: Vec<&str> = tables
        .iter()
        .copied()
        .take_while(|t| !t.contains('.'))
        .collect();
    for table in [
        "events",
        "late_events",
        "rejected_events",
        "scorecard",
        "user_monthly",
    ] {
        assert!(bare.contains(&table), "{table}: {tables:?}");
    }
    assert!(bare.is_sorted(), "{tables:?}");
    assert!(
        tables[bare.len()..].iter().all(|t| t.contains('.')),
        "{tables:?}"
    );
    let columns = grafana(
        "SELECT quote_ident(column_name) AS \"column\", data_type AS \"type\" \
         FROM information_schema.columns \
         WHERE CASE WHEN array_length(parse_ident('public.events'),1) = 2 \
         THEN quote_ident(table_schema) = (parse_ident('public.events'))[1] \
         AND quote_ident(table_name) = (parse_ident('public.events'))[2] \
         ELSE quote_ident(table_name) = 'public.events' END",
    );
    let names: Vec<&str> = columns
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    for column in [
        "event_id",
        "event_type",
        "occurred_at",
        "branch_id",
        "source_offset",
    ] {
        assert!(names.contains(&column), "{column}: {columns}");
    }
    // Types in PostgreSQL's words: Grafana's query builder offers time columns by them.
    for (column, data_type) in [
        ("event_id", "text"),
        ("occurred_at", "timestamp with time zone"),
        ("source_offset", "bigint"),
    ] {
        assert!(
            columns
                .lines()
                .any(|l| l == format!("{column}\t{data_type}")),
            "{column} {data_type}: {columns}"
        );
    }

    // A time series of quotes per hour over the first day, and the same count without the macros.
    let day = "occurred_at BETWEEN '2016-06-01T00:00:00Z' AND '2016-06-01T23:59:59Z'";
    let series = grafana(&format!(
        "SELECT floor(extract(epoch from occurred_at)/3600)*3600 AS \"time\", count(*) AS quotes \
         FROM events WHERE {day} AND event_type = 'quote_created' GROUP BY 1 ORDER BY 1"
    ));
    let points: Vec<(f64, i64)> = series
        .lines()
        .map(|l| {
            let (time, quotes) = l.split_once('\t').unwrap();
            (time.parse().unwrap(), quotes.parse().unwrap())
        })
        .collect();
    assert!(points.len() > 3, "{series}");
    let first_hour = 1_464_739_200.0; // 2016-06-01T00:00:00Z
    for (time, _) in &points {
        assert!(
            *time >= first_hour && *time < first_hour + 86_400.0 && time % 3600.0 == 0.0,
            "{series}"
        );
    }
    let total: i64 = grafana(&format!(
        "SELECT count(*) FROM events WHERE {day} AND event_type = 'quote_created'"
    ))
    .parse()
    .unwrap();
    assert_eq!(
        points.iter().map(|(_, q)| q).sum::<i64>(),
        total,
        "{series}"
    );
    assert!(total > 0);
}
