//! Headless Chromium for the page tests: Debian's `chromium` driven through its
//! `chromedriver` with fantoccini (WebDriver over loopback HTTP). `.ci/run` installs both.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A chromedriver process; each [`Browser`] is one Chromium it starts.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts chromedriver on a free port.
    pub(crate) async fn start() -> Self {
        let mut child = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group: killing it takes the browsers with it.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver must be installed (Debian: chromium chromium-driver; .ci/run does it)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(rest) =
                    line.strip_prefix("ChromeDriver was started successfully on port ")
                {
                    return rest.trim_end_matches('.').parse::<u16>().unwrap();
                }
            }
            panic!("chromedriver exited before listening");
        })
        .await
        .expect("chromedriver did not start");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A new headless browser with its own profile under `dir`.
    pub(crate) async fn browser(&self, dir: &Path, name: &str) -> Browser {
        let profile = dir.join(name);
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--user-data-dir={}", profile.display()),
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--disable-quic", "--window-size=1280,900"]
            }),
        );
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let client = builder
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            name: name.to_owned(),
        }
    }

    /// Stops chromedriver and every browser it started.
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _killed = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status()
                .is_ok();
        }
        let _exited = self.child.wait().await.is_ok();
    }
}

/// One browser window.
pub(crate) struct Browser {
    pub(crate) client: Client,
    name: String,
}

/// A Chrome DevTools command through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

impl Browser {
    /// The text of the first element matching `css`, or "" when there is none.
    pub(crate) async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub(crate) async fn eval(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until `script` returns `true`, for up to `timeout`; how long it took.
    pub(crate) async fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if self.eval(script).await == json!(true) {
                return started.elapsed();
            }
            if started.elapsed() > timeout {
                self.screenshot(&format!("failed-{}", what.replace(' ', "-")))
                    .await;
                panic!(
                    "{}: waited {timeout:?} for {what}; the page shows:\n{}",
                    self.name,
                    self.text("body").await
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks the element matching `css`.
    pub(crate) async fn click(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        element.click().await.unwrap();
    }

    /// Types `text` into the element matching `css` and presses Enter.
    pub(crate) async fn type_enter(&self, css: &str, text: &str) {
        let input = self.client.find(Locator::Css(css)).await.unwrap();
        input.send_keys(text).await.unwrap();
        input.send_keys("\u{e007}").await.unwrap();
    }

    /// Cuts (or restores) the browser's network.
    pub(crate) async fn offline(&self, offline: bool) -> Result<(), CmdError> {
        self.client
            .issue_cmd(Cdp {
                cmd: "Network.enable",
                params: json!({}),
            })
            .await?;
        self.client
            .issue_cmd(Cdp {
                cmd: "Network.emulateNetworkConditions",
                params: json!({"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
            })
            .await?;
        Ok(())
    }

    /// Saves a screenshot as `target/browser/<browser>-<label>.png` for people to look at.
    pub(crate) async fn screenshot(&self, label: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{label}.png", self.name));
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(&path, png).unwrap();
        }
        path
    }

    /// Ends the session (Chromium exits).
    pub(crate) async fn close(self) {
        let _closed = self.client.close().await.is_ok();
    }
}
