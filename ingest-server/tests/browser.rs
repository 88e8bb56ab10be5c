//! The live view in a real headless Chromium, driven over the DevTools
//! protocol: the page loads, records sent after it loaded appear (server-
//! sent events), the level and flow filters show only what matches, and
//! neither the page's HTML nor its DOM ever holds the API key.
//!
//! Without Chromium (`/usr/bin/chromium`, or the path in `$CHROMIUM`) the
//! test says so and passes, unless `TIMBER_REQUIRE_CHROMIUM=1` (CI installs
//! Debian's `chromium` and sets it).
//! With `TIMBER_VIEW_SCREENSHOT=FILE` it also saves a PNG of the view.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{get, post_logs, request, start};
use serde_json::{json, Value};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

const KEY: &str = "tb_test_browser_secret_key_42";

/// `$CHROMIUM` when set (only it), else Debian's or Ubuntu's path.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A headless Chromium with a fresh profile; killed when dropped.
struct Browser {
    child: Child,
    profile: PathBuf,
    devtools_port: u16,
}

impl Browser {
    fn launch(binary: &PathBuf) -> Browser {
        // A profile of its own: two browsers on one profile are one browser
        // (the second hands its window to the first and exits).
        static LAUNCHED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = LAUNCHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile =
            std::env::temp_dir().join(format!("timber-chromium-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                // Without these it calls home, and on a closed network its
                // connections are refused.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1400,900",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(rest.trim().to_owned());
                    }
                }
            }
        });
        let ws = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium prints its DevTools address");
        // ws://127.0.0.1:PORT/devtools/browser/ID
        let port = ws
            .trim_start_matches("ws://")
            .split(['/', ':'])
            .nth(1)
            .and_then(|p| p.parse().ok())
            .expect("a port in the DevTools address");
        Browser {
            child,
            profile,
            devtools_port: port,
        }
    }

    /// The DevTools socket of the page Chromium opened.
    fn page(&self) -> Page {
        let addr = ([127, 0, 0, 1], self.devtools_port).into();
        let mut url = None;
        common::eventually("a page target", || {
            let (_, body) = get(addr, "/json/list");
            let targets: Value = serde_json::from_str(&body).unwrap_or_default();
            url = targets.as_array().and_then(|t| {
                t.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_owned))
            });
            url.is_some()
        });
        let (socket, _) = tungstenite::connect(url.unwrap()).expect("the page's DevTools socket");
        Page { socket, next: 0 }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its helper processes may still be writing the profile for a moment.
        for _ in 0..40 {
            if std::fs::remove_dir_all(&self.profile).is_ok() || !self.profile.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

struct Page {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next: u64,
}

impl Page {
    /// One DevTools call; its result (events in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket.send(Message::text(message)).unwrap();
        loop {
            let Message::Text(text) = self.socket.read().unwrap() else {
                continue;
            };
            let answer: Value = serde_json::from_str(text.as_str()).unwrap();
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it is `true`, within 20 s.
    fn wait_for(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.eval(expression) != json!(true) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Sets a filter input as a user typing would.
    fn set_filter(&mut self, id: &str, value: &str) {
        self.eval(&format!(
            "(() => {{ const e = document.getElementById({id:?}); e.value = {value:?}; \
             e.dispatchEvent(new Event('input')); return true; }})()"
        ));
    }
}

/// The browser, or `None` (the test then passes, saying it skipped) unless
/// `TIMBER_REQUIRE_CHROMIUM=1`, which makes a missing one a failure.
fn chromium_or_skip() -> Option<PathBuf> {
    let binary = chromium();
    if binary.is_none() {
        assert!(
            std::env::var("TIMBER_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "TIMBER_REQUIRE_CHROMIUM=1 but no chromium found (apt-get install chromium)"
        );
        eprintln!("skipped: no chromium (/usr/bin/chromium or $CHROMIUM): apt-get install chromium to run this test");
    }
    binary
}

/// The records shown, as `level message` strings, top to bottom.
const SHOWN: &str = "Array.from(document.querySelectorAll('#records .rec')).map(r => r.dataset.level + ' ' + r.querySelector('.msg').textContent)";

#[test]
fn the_view_shows_records_as_they_arrive_and_filters_them() {
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    let server = start(&["--listen", "127.0.0.1:0", "--api-key", KEY]);
    let addr = server.addr;
    let before = r#"{"logs":[{"level":"info","message":"server started","source":"api","tags":["boot"],"data":{"port":8080}}]}"#;
    assert_eq!(post_logs(addr, KEY, before).0, 200);

    let browser = Browser::launch(&binary);
    let mut page = browser.page();
    page.call("Page.enable", json!({}));
    page.call("Page.navigate", json!({"url": format!("{}/", server.url)}));
    page.wait_for("the page and its feed", "document.getElementById('live')?.textContent === 'live' && document.querySelectorAll('#records .rec').length === 1");

    // Sent after the page loaded: only the feed can bring them.
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let after = json!({"logs": [
        {"level": "debug", "message": "cache warmed", "source": "api", "tags": ["cache"]},
        {"level": "info", "message": "item added", "source": "checkout", "flowId": "cart-k3x9a1b2", "stepIndex": 0, "timestamp": t0},
        {"level": "warn", "message": "stock low", "source": "checkout", "flowId": "cart-k3x9a1b2", "stepIndex": 1, "timestamp": t0 + 120},
        {"level": "error", "message": "charge failed", "source": "checkout", "flowId": "cart-k3x9a1b2", "stepIndex": 2, "timestamp": t0 + 870,
         "errorName": "PaymentDeclined", "errorStack": "PaymentDeclined: payment declined by the gateway\ncaused by: gateway reset", "tags": ["payments"], "data": {"amount": 42}},
        {"level": "error", "message": "upstream failed", "source": "api", "data": {"upstream": "billing", "status": 502}},
    ]});
    assert_eq!(post_logs(addr, KEY, &after.to_string()).0, 200);
    let (status, _) = request(
        addr,
        "POST",
        "/v1/logs?format=csv&source=export",
        &[("Content-Type", "text/csv"), ("X-API-Key", KEY)],
        b"level,message\nerror,Connection refused\ninfo,Request completed",
    );
    assert_eq!(status, 200);
    assert_eq!(post_logs(addr, "tb_test_wrong_key", before).0, 401);
    page.wait_for(
        "the records sent after loading",
        "document.querySelectorAll('#records .rec').length === 6",
    );
    let shown = page.eval(SHOWN);
    assert_eq!(shown[0], "error upstream failed", "newest first: {shown}");
    assert_eq!(shown[5], "info server started", "{shown}");
    page.wait_for(
        "the raw body with its parsed records",
        "document.querySelectorAll('#raw .rec').length === 2",
    );
    page.wait_for(
        "the refusal and its reason",
        "document.getElementById('refusals').textContent.includes('invalid API key')",
    );
    page.wait_for(
        "the counters",
        "document.getElementById('c-unauthorized').textContent === '1'",
    );

    page.set_filter("f-level", "error");
    page.wait_for("only errors", "(() => { const r = document.querySelectorAll('#records .rec'); return r.length === 2 && Array.from(r).every(e => e.dataset.level === 'error'); })()");
    page.set_filter("f-level", "");
    page.set_filter("f-flow", "cart-k3x9a1b2");
    page.wait_for("only the flow", "(() => { const r = document.querySelectorAll('#records .rec'); return r.length === 3 && Array.from(r).every(e => e.dataset.flow === 'cart-k3x9a1b2'); })()");
    let steps = page
        .eval("Array.from(document.querySelectorAll('#flow-steps .step')).map(s => s.textContent)");
    assert_eq!(steps.as_array().map(Vec::len), Some(3), "{steps}");
    assert!(steps[1].as_str().unwrap().contains("+120 ms"), "{steps}");
    assert!(steps[2].as_str().unwrap().contains("+750 ms"), "{steps}");
    assert_eq!(page.eval("document.querySelector('#records details.stack pre').textContent.includes('caused by: gateway reset')"), json!(true));

    if let Some(path) = std::env::var_os("TIMBER_VIEW_SCREENSHOT") {
        page.set_filter("f-flow", "");
        page.wait_for(
            "every record again",
            "document.querySelectorAll('#records .rec').length === 6",
        );
        page.eval("(() => { document.querySelector('#records details.stack').open = true; return true; })()");
        let shot = page.call("Page.captureScreenshot", json!({"format": "png"}));
        std::fs::write(path, base64_decode(shot["data"].as_str().unwrap())).unwrap();
    }

    let html = page.eval("document.documentElement.outerHTML");
    assert!(
        !html.as_str().unwrap().contains(KEY),
        "the DOM holds the key"
    );
    let (_, source) = get(addr, "/");
    assert!(!source.contains(KEY), "the page's HTML holds the key");
}

#[test]
fn the_view_stays_responsive_under_a_flood_and_keeps_its_rows_bounded() {
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    let server = start(&[
        "--listen",
        "127.0.0.1:0",
        "--api-key",
        KEY,
        "--keep",
        "20000",
    ]);
    let addr = server.addr;
    let browser = Browser::launch(&binary);
    let mut page = browser.page();
    page.call("Page.enable", json!({}));
    page.call("Page.navigate", json!({"url": format!("{}/", server.url)}));
    page.wait_for(
        "the feed",
        "document.getElementById('live')?.textContent === 'live'",
    );

    // 40 batches of 1,000 records, as fast as one connection at a time
    // sends them, while the page is open.
    for batch in 0..40 {
        let logs: Vec<Value> = (0..1_000)
            .map(|i| {
                let level = if i % 100 == 0 { "error" } else { "info" };
                json!({"level": level, "message": format!("flood {batch}-{i}"), "source": "flood"})
            })
            .collect();
        assert_eq!(
            post_logs(addr, KEY, &json!({ "logs": logs }).to_string()).0,
            200
        );
    }
    page.wait_for(
        "the counters to reach every record",
        "document.getElementById('c-records').textContent.replace(/\\D/g, '') === '40000'",
    );
    // Still answering input: a filter applied now is applied at once, and
    // the list stays bounded whatever came in.
    let rows = page.eval("document.querySelectorAll('#records .rec').length");
    assert!(
        rows.as_u64().is_some_and(|n| n > 0 && n <= 500),
        "{rows} rows"
    );
    page.set_filter("f-level", "error");
    page.wait_for("only errors, after the flood", "(() => { const r = document.querySelectorAll('#records .rec'); return r.length > 0 && Array.from(r).every(e => e.dataset.level === 'error'); })()");
    let dropped = page.eval("document.getElementById('c-dropped').textContent");
    eprintln!("after the flood: {rows} rows shown, view dropped events {dropped}");
}

/// Standard base64 (the screenshot's encoding), padding allowed.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}
