//! A report opened in a real browser: headless Chromium (Debian's `chromium`) driven over
//! the DevTools protocol on its pipe transport (`--remote-debugging-pipe`: commands in on
//! fd 3, answers and events out on fd 4, each JSON message ended by a NUL byte), so no
//! WebSocket stack and no downloaded browser. It loads the page, collects every console
//! message, uncaught exception and log entry of level error (a resource that failed to
//! load, a blocked request), evaluates a probe expression in the page and keeps a
//! full-page screenshot.

use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// What the browser saw of one page.
pub struct Seen {
    /// Console errors and warnings, uncaught exceptions, error log entries: one line each.
    pub errors: Vec<String>,
    /// The probe expression's value (its JSON).
    pub probe: Value,
}

struct Browser {
    child: Child,
    to: std::process::ChildStdin,
    from: Receiver<Value>,
    next_id: u64,
    events: Vec<Value>,
    profile: std::path::PathBuf,
}

/// The browser binary, or a one-line error that says how to install it.
fn binary() -> String {
    for b in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return b.to_string();
        }
    }
    panic!("no headless Chromium here: apt-get install -y chromium (the report's browser test needs it)")
}

impl Browser {
    fn start() -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "fl-chromium-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        // The pipe transport wants fd 3 (in) and fd 4 (out): a shell moves the child's
        // stdin and stdout there, and sends stdin / stdout themselves to /dev/null.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null 2>/dev/null"#)
            .arg(binary())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--remote-debugging-pipe",
                "--window-size=1400,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let to = child.stdin.take().unwrap();
        let from_reader = child.stdout.take().unwrap();
        let (tx, from) = channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(from_reader);
            loop {
                let mut buf = Vec::new();
                match std::io::BufRead::read_until(&mut reader, 0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        return;
                    }
                }
            }
        });
        Browser {
            child,
            to,
            from,
            next_id: 0,
            events: Vec::new(),
            profile,
        }
    }

    /// Sends one command (to the page's session when given) and waits for its answer,
    /// keeping the events that arrive meanwhile.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("chromium reads its pipe");
        let v = self.receive_until(&format!("an answer to {method}"), |v| v["id"] == id);
        assert!(v["error"].is_null(), "{method}: {}", v["error"]);
        v["result"].clone()
    }

    /// Receives messages, keeping each as an event, until `done` holds for one (returned,
    /// and kept too); panics after 60 s without it.
    fn receive_until(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} from chromium within 60 s"));
            self.events.push(v.clone());
            if done(&v) {
                return v;
            }
        }
    }

    /// Waits for an event of `method`, looking first at those already kept.
    fn wait_event(&mut self, method: &str) {
        if self.events.iter().any(|e| e["method"] == method) {
            return;
        }
        self.receive_until(method, |v| v["method"] == method);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.profile).ok();
    }
}

/// The errors among the events a page raised, one line each.
fn errors(events: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for e in events {
        let p = &e["params"];
        match e["method"].as_str() {
            Some("Runtime.consoleAPICalled")
                if matches!(p["type"].as_str(), Some("error" | "warning" | "assert")) =>
            {
                let args: Vec<String> = p["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        a["value"]
                            .as_str()
                            .map_or_else(|| a["description"].to_string(), str::to_string)
                    })
                    .collect();
                out.push(format!(
                    "console.{}: {}",
                    p["type"].as_str().unwrap(),
                    args.join(" ")
                ));
            }
            Some("Runtime.exceptionThrown") => {
                let d = &p["exceptionDetails"];
                out.push(format!(
                    "uncaught: {} {}",
                    d["text"].as_str().unwrap_or(""),
                    d["exception"]["description"].as_str().unwrap_or("")
                ));
            }
            Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                out.push(format!(
                    "log ({}): {} {}",
                    p["entry"]["source"].as_str().unwrap_or(""),
                    p["entry"]["text"].as_str().unwrap_or(""),
                    p["entry"]["url"].as_str().unwrap_or("")
                ));
            }
            _ => {}
        }
    }
    out
}

/// Opens `page` in headless Chromium, evaluates `probe` (an expression whose value is
/// JSON-serialisable) once it has loaded, and writes a full-page PNG to `screenshot`.
pub fn open(page: &Path, probe: &str, screenshot: &Path) -> Seen {
    let page = page.canonicalize().expect("the page exists");
    let mut b = Browser::start();
    let target = b.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached = b.call(
        None,
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    let session = attached["sessionId"].as_str().unwrap().to_string();
    let s = Some(session.as_str());
    for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
        b.call(s, domain, json!({}));
    }
    let nav = b.call(
        s,
        "Page.navigate",
        json!({"url": format!("file://{}", page.display())}),
    );
    assert!(
        nav["errorText"].is_null(),
        "navigation: {}",
        nav["errorText"]
    );
    b.wait_event("Page.loadEventFired");
    let probe = b.call(
        s,
        "Runtime.evaluate",
        json!({"expression": format!("JSON.stringify({probe})"), "returnByValue": true}),
    );
    assert!(
        probe["exceptionDetails"].is_null(),
        "the probe threw: {}",
        probe["exceptionDetails"]
    );
    let probe: Value = serde_json::from_str(probe["result"]["value"].as_str().unwrap()).unwrap();
    let metrics = b.call(s, "Page.getLayoutMetrics", json!({}));
    let size = &metrics["cssContentSize"];
    let (w, h) = (
        size["width"].as_f64().unwrap_or(1400.0),
        size["height"].as_f64().unwrap_or(1000.0).min(16000.0),
    );
    let shot = b.call(
        s,
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true,
               "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}}),
    );
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    std::fs::write(screenshot, png).unwrap();
    // Errors raised late (after load) count too: give them a moment to arrive.
    let settle = Instant::now() + Duration::from_millis(300);
    while let Ok(v) = b
        .from
        .recv_timeout(settle.saturating_duration_since(Instant::now()))
    {
        b.events.push(v);
    }
    let seen = Seen {
        errors: errors(&b.events),
        probe,
    };
    let mut close = serde_json::to_vec(&json!({"id": 0, "method": "Browser.close"})).unwrap();
    close.push(0);
    b.to.write_all(&close).ok();
    seen
}

/// The probe of a faultline report: how many drawn SVGs each section holds (with a visible
/// size), and the page's title.
pub const REPORT_PROBE: &str = r#"(() => {
  const drawn = (sel) => [...document.querySelectorAll(sel)]
    .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 10 && r.height > 10; }).length;
  const after = (id) => { const h = document.getElementById(id); let n = 0, e = h && h.nextElementSibling;
    while (e && e.tagName !== 'H2') { n += [...e.querySelectorAll('svg')].filter((s) => s.getBoundingClientRect().width > 10).length; e = e.nextElementSibling; }
    return n; };
  return { title: document.title, verdict: (document.getElementById('verdict') || {}).innerText || '',
           latency: after('latency'), throughput: after('throughput'), lanes: after('lanes'),
           timelines: drawn('.timeline svg'), cycles: drawn('.cycle svg'),
           node_logs: !!document.getElementById('node-logs') };
})()"#;
