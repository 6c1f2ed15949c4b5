//! Logging in to the Postgres port and reaching the server privately: SCRAM-SHA-256 by default, MD5 only for
//! an account configured for it, verifiers instead of passwords in the configuration, TLS with
//! `sslmode=verify-full` against a test CA, clear text refused when `sql.require_tls` is on, and HTTPS with
//! the same certificate. Real clients: psql, libpq 16 (psycopg2), libpq 17 (psycopg 3) and curl.

use std::path::{Path, PathBuf};
use std::process::Command;
use tests::broker::free_port;
use tests::live::LiveServer;
use tests::pg_wire;

const ORG: &str = "branch_id,branch_name,in_scope\na,甲支公司,true\nb,乙支公司,true\n";
const PASSWORD: &str = "analyst-pass";
const HASHED_PASSWORD: &str = "the-hashed-one";
const LEGACY_PASSWORD: &str = "legacy-pass";

/// `leaderboard sql-password` for `password`: the verifier the configuration holds instead of it.
fn verifier(password: &str) -> String {
    let mut child = Command::new(tests::process::leaderboard_binary())
        .arg("sql-password")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run leaderboard sql-password");
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Runs `sql` with psql over `conninfo` (a libpq connection string); stdout or the error text.
fn psql(conninfo: &str, password: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args([
            conninfo,
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql is installed by the test command (postgresql-client)");
    outcome(&output)
}

/// A client's trimmed stdout when it succeeded, else its stderr.
fn outcome(output: &std::process::Output) -> Result<String, String> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn scram_is_the_default_md5_is_opt_in_and_verifiers_replace_passwords() {
    let pg_port = free_port();
    let hashed = verifier(HASHED_PASSWORD);
    assert!(hashed.starts_with("SCRAM-SHA-256$4096:"), "{hashed}");
    let config = format!(
        "[sql]\nlisten = \"127.0.0.1:{pg_port}\"\n\
         [[sql.users]]\nname = \"analyst\"\npassword = \"{PASSWORD}\"\n\
         [[sql.users]]\nname = \"hashed\"\npassword = \"{hashed}\"\n\
         [[sql.users]]\nname = \"legacy\"\npassword = \"{LEGACY_PASSWORD}\"\nauth = \"md5\"\n"
    );
    let _server = LiveServer::start(ORG, &config);
    let conninfo = |user: &str, extra: &str| {
        format!("host=127.0.0.1 port={pg_port} user={user} dbname=leaderboard {extra}")
    };
    let libpq = |user: &str, password: &str, extra: &str| {
        tests::python_query(
            "psycopg2",
            &format!("{} password={password}", conninfo(user, extra)),
            &format!("SELECT '{user}'"),
        )
    };

    // psql logs in with SCRAM; libpq 16 confirms the exchange was SCRAM-SHA-256 (require_auth).
    assert_eq!(
        psql(&conninfo("analyst", ""), PASSWORD, "SELECT 41 + 1"),
        Ok("42".into())
    );
    assert_eq!(
        libpq("analyst", PASSWORD, "require_auth=scram-sha-256"),
        Ok("analyst".into())
    );
    // The account given as a verifier logs in with its password.
    assert_eq!(
        libpq("hashed", HASHED_PASSWORD, "require_auth=scram-sha-256"),
        Ok("hashed".into())
    );
    // Wrong passwords and unknown users are refused alike.
    for (user, password) in [
        ("analyst", "not-the-password"),
        ("hashed", PASSWORD),
        ("nobody", PASSWORD),
    ] {
        let error = psql(&conninfo(user, ""), password, "SELECT 1").unwrap_err();
        assert!(
            error.contains(&format!(
                "password authentication failed for user \"{user}\""
            )),
            "{user}: {error}"
        );
    }
    // A client that only speaks MD5 is refused by a SCRAM account, and told why.
    let error = libpq("analyst", PASSWORD, "require_auth=md5").unwrap_err();
    assert!(
        error.contains("server requested SASL authentication"),
        "{error}"
    );
    // The account configured for MD5 logs in with it, and only with the right password.
    assert_eq!(
        libpq("legacy", LEGACY_PASSWORD, "require_auth=md5"),
        Ok("legacy".into())
    );
    let error = libpq("legacy", PASSWORD, "").unwrap_err();
    assert!(error.contains("password authentication failed"), "{error}");
    // Malformed SCRAM answers (a short one, a lying length, a plain password) are refused with an error,
    // and the port keeps serving.
    for answer in [
        &b"SCRAM-SHA-256\0\x01\x02"[..],
        b"SCRAM-SHA-256\0\x7f\xff\xff\xffn,,n=,r=abc",
        b"md5000000000000000000000000000000000\0",
    ] {
        let sent = raw_sasl_answer(pg_port, answer);
        assert_eq!(sent.first(), Some(&b'E'), "{answer:?}: {sent:?}");
    }
    assert_eq!(
        psql(&conninfo("analyst", ""), PASSWORD, "SELECT 2"),
        Ok("2".into())
    );
    // psycopg 3 (libpq 17) logs in with SCRAM too and runs a prepared query with binary results.
    assert_eq!(
        tests::python_query(
            "psycopg",
            &format!("{} password={PASSWORD}", conninfo("analyst", "")),
            "SELECT CAST(7 AS BIGINT) * 6, 'lb'"
        ),
        Ok("42\tlb".into())
    );
}

/// Logs in as analyst over a raw socket, answers the SASL offer with the password message `body`, and
/// returns the types of the messages the server sent until it closed the connection.
fn raw_sasl_answer(port: u16, body: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = pg_wire::start_login(port, "analyst");
    let mut offer = [0u8; 9];
    stream.read_exact(&mut offer).unwrap();
    assert_eq!(&offer, b"R\0\0\0\x17\0\0\0\x0a", "a SASL offer");
    let mut mechanisms = [0u8; 15];
    stream.read_exact(&mut mechanisms).unwrap();
    stream
        .write_all(&pg_wire::message(Some(b'p'), body))
        .unwrap();
    pg_wire::types_until_closed(&mut stream)
}

/// A test CA and a certificate for `localhost` and 127.0.0.1 signed by it, made with openssl in `dir`:
/// (ca.pem, server.pem, server.key).
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed by the test command");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    openssl(
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            ],
            &["-subj", "/CN=leaderboard test CA"],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"],
            &ec[..],
            &["-nodes", "-keyout", "server.key", "-out", "server.csr"],
            &["-subj", "/CN=localhost"],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[test]
fn tls_with_verify_full_clear_text_refused_and_https_with_the_same_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(certs.path());
    let pg_port = free_port();
    let files = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.display(),
        key.display()
    );
    let server = LiveServer::start(
        ORG,
        &format!(
            "[server]\n{files}[sql]\nlisten = \"127.0.0.1:{pg_port}\"\n{files}require_tls = true\n\
             [[sql.users]]\nname = \"analyst\"\npassword = \"{PASSWORD}\"\n"
        ),
    );
    let conninfo = |mode: &str| {
        format!(
            "host=localhost port={pg_port} user=analyst dbname=leaderboard sslmode={mode} \
             sslrootcert={}",
            ca.display()
        )
    };

    // verify-full: the certificate chains to the test CA and names the host.
    assert_eq!(
        psql(&conninfo("verify-full"), PASSWORD, "SELECT 'private'"),
        Ok("private".into())
    );
    let info = psql(&conninfo("verify-full"), PASSWORD, "\\conninfo").unwrap();
    assert!(info.contains("SSL connection (protocol: TLSv1."), "{info}");
    assert_eq!(
        psql(&conninfo("require"), PASSWORD, "SELECT 1"),
        Ok("1".into())
    );
    // A CA that did not sign the certificate is refused by the client.
    let other = tempfile::tempdir().unwrap();
    let (other_ca, _, _) = test_certificates(other.path());
    let error = psql(
        &conninfo("verify-full")
            .replace(&ca.display().to_string(), &other_ca.display().to_string()),
        PASSWORD,
        "SELECT 1",
    )
    .unwrap_err();
    assert!(error.contains("certificate verify failed"), "{error}");
    // Clear text is refused, with the reason.
    let error = psql(&conninfo("disable"), PASSWORD, "SELECT 1").unwrap_err();
    assert!(
        error.contains("accepts only TLS connections (sql.require_tls)"),
        "{error}"
    );

    // HTTPS on the web port with the same certificate; plain HTTP gets nothing.
    let https = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(&ca)
        .arg(format!(
            "https://localhost:{}/api/v1/status",
            server.serve.port()
        ))
        .output()
        .expect("curl is installed by the test command");
    assert!(
        https.status.success(),
        "{}",
        String::from_utf8_lossy(&https.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&https.stdout).expect("JSON");
    assert!(status["counts"].is_object(), "{status}");
    let clear = Command::new("curl")
        .args(["-sS", "--max-time", "5"])
        .arg(format!("http://localhost:{}/health", server.serve.port()))
        .output()
        .unwrap();
    assert!(!clear.status.success(), "plain HTTP must not be served");
}
