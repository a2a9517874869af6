//! A real headless Chromium for the console's end-to-end tests, driven over WebDriver
//! (fantoccini) through the system's chromedriver, started on a free port per test. Debian's
//! `chromium` and `chromium-driver` packages (installed by `scripts/test`) are required: a
//! machine without them fails the test, it does not skip it.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The two widths every screenshot is taken at: a laptop and a phone.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// Where screenshots go (ignored by git); `scripts/screenshots` copies the README's from here.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".local/screenshots")
}

/// A browser session and the chromedriver behind it (stopped on drop).
pub struct Browser {
    pub client: Client,
    driver: Child,
}

/// The first of `candidates` that exists: Debian puts the binaries in /usr/bin.
fn installed(candidates: &[&str], package: &str) -> PathBuf {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!(
                "{package} is not installed ({} not found): scripts/test installs it, or \
                 apt-get install chromium chromium-driver",
                candidates.join(" or ")
            )
        })
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at the [`DESKTOP`] size, in a time zone
    /// other than UTC so that local times show as such.
    pub async fn start() -> Browser {
        let chromedriver = installed(
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
            "chromium-driver",
        );
        let chromium = installed(&["/usr/bin/chromium"], "chromium");
        let port = crate::process::free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .env("TZ", "Europe/Berlin")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
        ];
        // Chromium's sandbox refuses to run as root (a container, CI).
        if is_root() {
            args.push("--no-sandbox".to_owned());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": chromium, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(err) => {
                    assert!(Instant::now() < deadline, "no browser session: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let browser = Browser { client, driver };
        browser.resize(DESKTOP).await;
        browser
    }

    /// Sets the viewport to `(width, height)` CSS pixels. WebDriver sizes the window, which
    /// even headless keeps room for a toolbar: size it, measure the viewport, and grow the
    /// window by what is missing.
    pub async fn resize(&self, (width, height): (u32, u32)) {
        let mut outer = (width, height);
        for _ in 0..20 {
            self.client.set_window_size(outer.0, outer.1).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let inner = self.viewport().await;
            if inner == (width, height) {
                return;
            }
            let grow = |outer: u32, wanted: u32, got: u32| {
                (i64::from(outer) + i64::from(wanted) - i64::from(got)).max(1) as u32
            };
            outer = (
                grow(outer.0, width, inner.0),
                grow(outer.1, height, inner.1),
            );
        }
        panic!(
            "the viewport never came to {width}x{height}: {:?}",
            self.viewport().await
        );
    }

    async fn viewport(&self) -> (u32, u32) {
        let size = self
            .client
            .execute("return [window.innerWidth, window.innerHeight]", vec![])
            .await
            .unwrap();
        let size: [u32; 2] = serde_json::from_value(size).unwrap();
        (size[0], size[1])
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The current URL's path and query.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("{css}: {err}"))
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Types `text` into the field `css` after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Waits until the text of `css` contains `expected` (the page may change meanwhile).
    pub async fn wait_for_text(&self, css: &str, expected: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} did not show {expected:?} within {within:?}; it shows: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a screenshot of the viewport as `<name>-<width>.png` in [`screenshot_dir`].
    pub async fn screenshot(&self, name: &str) {
        let width = self
            .client
            .execute("return window.innerWidth", vec![])
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
    }

    /// Ends the browser session (and with it Chromium).
    pub async fn close(self) {
        self.client.clone().close().await.unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}
