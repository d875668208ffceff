//! A small W3C WebDriver client for the browser tests: Debian's headless Chromium driven
//! through its `chromedriver` (the path in `AP_TEST_CHROMEDRIVER`; `.ci/run` installs
//! both and sets it). Unset, the browser tests are skipped with a note; set but not
//! working, they fail.
//!
//! Waits are on the browser, never on a clock: [`Browser::until`] resolves on the DOM
//! change that makes its condition true; a click that leads to another page asks the
//! browser whether the new page has loaded until it has (the driver holds each question
//! while a navigation is pending, so this takes one or two questions); finding an element
//! waits (up to a limit) until it exists. Nothing sleeps.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use base64::Engine;
use serde_json::{Value, json};

/// Environment variable naming the `chromedriver` to use.
pub const DRIVER_ENV: &str = "AP_TEST_CHROMEDRIVER";
/// Environment variable naming the Chromium binary (default `/usr/bin/chromium`).
const CHROMIUM_ENV: &str = "AP_TEST_CHROMIUM";
/// The key of an element reference in the protocol.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long finding an element or a script may wait before the test fails.
const WAIT_MS: u64 = 10_000;
/// The window's width and height.
const WINDOW: (u64, u64) = (1280, 1000);

/// One headless Chromium session and the driver process behind it.
pub struct Browser {
    driver: Child,
    endpoint: String,
    http: reqwest::Client,
}

/// An element of the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium session; `None` (with a note) when
    /// `AP_TEST_CHROMEDRIVER` is unset.
    pub async fn start() -> Option<Browser> {
        let Ok(path) = std::env::var(DRIVER_ENV) else {
            eprintln!("{DRIVER_ENV} unset: skipping the browser test");
            return None;
        };
        let mut driver = Command::new(&path)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group, so that the browser it starts goes with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{DRIVER_ENV}={path} does not start: {e}"));
        let Some(port) = driver_port(&mut driver) else {
            stop(&mut driver);
            panic!("{path} did not say which port it listens on");
        };
        let chromium = std::env::var(CHROMIUM_ENV).unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut browser = Browser {
            driver,
            endpoint: format!("http://127.0.0.1:{port}/session"),
            http: reqwest::Client::new(),
        };
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"implicit": WAIT_MS, "pageLoad": 30_000, "script": WAIT_MS},
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--lang=en-US", "--no-first-run",
            ]},
        }}});
        let session = browser.call(reqwest::Method::POST, "", capabilities).await;
        let id = session["sessionId"].as_str().expect("session id").to_owned();
        browser.endpoint = format!("{}/{id}", browser.endpoint);
        browser.post("/window/rect", json!({"width": WINDOW.0, "height": WINDOW.1})).await;
        Some(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let answer = self.try_call(method.clone(), path, &body).await;
        answer.unwrap_or_else(|refusal| panic!("{method} {path} {body}: {refusal}"))
    }

    /// A command; a refusal answers the driver's error.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, Value> {
        let url = format!("{}{path}", self.endpoint);
        let mut request = self.http.request(method.clone(), &url);
        if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
            request = request.json(body);
        }
        let res = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status();
        let answer: Value = res.json().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        if status.is_success() { Ok(answer["value"].clone()) } else { Err(answer["value"].clone()) }
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, Value::Null).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, body).await
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().expect("url").to_owned()
    }

    /// The first element matching the CSS `selector`, waiting until there is one.
    pub async fn find(&self, selector: &str) -> Element<'_> {
        let found =
            self.post("/element", json!({"using": "css selector", "value": selector})).await;
        let id = found[ELEMENT].as_str().unwrap_or_else(|| panic!("no {selector}")).to_owned();
        Element { browser: self, id }
    }

    /// The visible text of the first element matching `selector`.
    pub async fn text(&self, selector: &str) -> String {
        self.find(selector).await.text().await
    }

    /// Runs `script` (the body of a function of `args`) in the page; answers its value.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args})).await
    }

    /// Waits until the JavaScript expression `condition` (over `arguments[0]`, which is
    /// `arg`) is true: checked now and after every change to the page.
    pub async fn until(&self, condition: &str, arg: Value) {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const check = () => {{ try {{ return Boolean({condition}); }} catch (e) {{ return false; }} }};
             if (check()) {{ done(true); return; }}
             const watch = new MutationObserver(() => {{
                 if (check()) {{ watch.disconnect(); done(true); }}
             }});
             watch.observe(document, {{subtree: true, childList: true, attributes: true, characterData: true}});"
        );
        let met = self.post("/execute/async", json!({"script": script, "args": [arg]})).await;
        assert_eq!(met, json!(true), "{condition}");
    }

    /// Clicks the element of `selector`, which leads to another page (or the same one
    /// answered again), and waits until that page has loaded: the driver holds each
    /// question until a pending navigation has loaded, so asking whether the page is a new
    /// one settles as soon as the browser has begun to leave the old one.
    pub async fn click_through(&self, selector: &str) {
        self.run("window.apLeaving = true;", json!([])).await;
        self.find(selector).await.click().await;
        let arrived = json!({
            "script": "return !window.apLeaving && document.readyState === 'complete';",
            "args": [],
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(WAIT_MS);
        // A question that lands while the old page is torn down is refused: not there yet.
        while self.try_call(reqwest::Method::POST, "/execute/sync", &arrived).await
            != Ok(json!(true))
        {
            assert!(std::time::Instant::now() < deadline, "{selector} led nowhere");
            tokio::task::yield_now().await;
        }
    }

    /// Forgets every cookie (a new visitor, or one who signed out).
    pub async fn delete_cookies(&self) {
        self.call(reqwest::Method::DELETE, "/cookie", Value::Null).await;
    }

    /// Saves a PNG of the whole page (through Chromium's DevTools, which can capture
    /// beyond the window) as `<target>/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let script = "const e = document.documentElement; return [e.scrollWidth, e.scrollHeight];";
        let size = self.run(script, json!([])).await;
        let clip = json!({"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1});
        let params = json!({"format": "png", "captureBeyondViewport": true, "clip": clip});
        let shot = json!({"cmd": "Page.captureScreenshot", "params": params});
        let data = self.post("/goog/cdp/execute", shot).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data["data"].as_str().expect("screenshot"))
            .expect("base64");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot");
    }

    /// Ends the session (the driver and browser stop when this is dropped).
    pub async fn quit(self) {
        self.call(reqwest::Method::DELETE, "", Value::Null).await;
    }
}

impl Element<'_> {
    fn path(&self, action: &str) -> String {
        format!("/element/{}/{action}", self.id)
    }

    /// Clicks it (see [`Browser::click_through`] for a click that leads to another page).
    pub async fn click(&self) {
        self.browser.post(&self.path("click"), json!({})).await;
    }

    /// Types `text` into it.
    pub async fn type_text(&self, text: &str) {
        self.browser.post(&self.path("value"), json!({"text": text})).await;
    }

    /// Its visible text.
    pub async fn text(&self) -> String {
        self.browser.get(&self.path("text")).await.as_str().expect("text").to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        stop(&mut self.driver);
    }
}

/// Stops the driver and the browser it started (its whole process group, through the
/// shell's own `kill`, so nothing beyond `sh` is needed).
fn stop(driver: &mut Child) {
    let group = format!("kill -KILL -- -{}", driver.id());
    let _ = Command::new("sh").args(["-c", &group]).status();
    let _ = driver.kill();
    let _ = driver.wait();
}

/// Reads the driver's output until it says which port it listens on; the rest of its
/// output is drained on a thread of its own.
fn driver_port(driver: &mut Child) -> Option<u16> {
    let mut lines = BufReader::new(driver.stdout.take()?).lines();
    let port = lines.by_ref().map_while(Result::ok).find_map(|line| {
        let rest = line.split("started successfully on port ").nth(1)?;
        rest.trim_end_matches('.').trim().parse().ok()
    });
    std::thread::spawn(move || lines.for_each(drop));
    port
}

/// Where screenshots go: `AP_TEST_SCREENSHOTS`, else `target/screenshots`.
fn screenshot_dir() -> PathBuf {
    std::env::var_os("AP_TEST_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
    })
}
