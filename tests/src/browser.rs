//! Real headless Chromium driven over WebDriver: a `chromedriver` process (Debian packages `chromium` and
//! `chromium-driver`, installed by `scripts/test.sh`) and fantoccini sessions. A missing browser is a test
//! failure, never a skip.

use crate::broker::{free_port, wait_until_listening};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running chromedriver.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

fn binary(env: &str, default: &str, package: &str) -> PathBuf {
    crate::installed(env, default, &format!("the Debian package {package}"))
}

impl ChromeDriver {
    /// Starts chromedriver on a free loopback port.
    pub fn start() -> Self {
        let driver = binary("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver");
        let port = free_port();
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        wait_until_listening(&mut child, port, Duration::from_secs(30))
            .unwrap_or_else(|failure| panic!("chromedriver: {failure}"));
        Self {
            child,
            port,
            profile: tempfile::tempdir().expect("a profile directory"),
        }
    }

    /// A headless Chromium session with a `width`×`height` window.
    pub async fn session(&self, width: u32, height: u32) -> Client {
        self.start_session(width, height, None).await
    }

    /// A headless Chromium session whose viewport is exactly `width`×`height` CSS pixels (device metrics
    /// set by chromedriver's emulation; a window alone cannot be narrower than the browser allows), as a
    /// phone when narrower than 600 px.
    pub async fn session_with_viewport(&self, width: u32, height: u32) -> Client {
        let metrics = json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "mobile": width < 600, "touch": false},
        });
        self.start_session(width, height, Some(metrics)).await
    }

    async fn start_session(&self, width: u32, height: u32, emulation: Option<Value>) -> Client {
        let chromium = binary("CHROMIUM", "/usr/bin/chromium", "chromium");
        // The flags a sandboxed machine without network needs (see the machine notes); no GPU, no sandbox as root.
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", self.profile.path().display()),
        ];
        let mut capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        if let Some(emulation) = emulation {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = emulation;
        }
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromium session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Evaluates `script` (a function body that returns a value) once.
pub async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("script {script:?} failed: {e}"))
}

/// Evaluates `script` (a function body that returns a value) until `check` accepts its result, or panics
/// with `what` and the last result after `timeout`.
pub async fn wait_for_js(
    client: &Client,
    script: &str,
    timeout: Duration,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let value = client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| Value::String(format!("script failed: {e}")));
        if check(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {timeout:?}; last value {value}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a PNG screenshot of the session as `target/screenshots/<name>.png`; returns its path.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let path = crate::live::target_dir("screenshots").join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
    path
}
