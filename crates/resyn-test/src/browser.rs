//! A headless Chromium over the DevTools protocol, on a pipe (fds 3 and 4,
//! JSON messages separated by NUL bytes): no port, no WebSocket.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// How long one protocol call (a navigation included) may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a [`Browser`] call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// Starting Chromium, writing to its pipe, or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A protocol method answered with an error, or without a field it
    /// must have.
    #[error("{method}: {message}")]
    Protocol {
        /// The method called.
        method: String,
        /// The error it returned, or what was missing.
        message: String,
    },
    /// A protocol method did not answer in time (60 s).
    #[error("{method}: timed out")]
    Timeout {
        /// The method called.
        method: String,
    },
    /// Chromium exited during a call.
    #[error("{method}: chromium exited")]
    Exited {
        /// The method called.
        method: String,
    },
    /// An awaited protocol event did not come.
    #[error("no {event} within {within:?}")]
    NoEvent {
        /// The event's method name.
        event: String,
        /// How long it was awaited.
        within: Duration,
    },
    /// The page could not be loaded (e.g. connection refused).
    #[error("navigating to {url}: {text}")]
    Navigation {
        /// The URL.
        url: String,
        /// Chromium's error text.
        text: String,
    },
    /// The script threw.
    #[error("{expr}: {details}")]
    Script {
        /// The script expression.
        expr: String,
        /// The protocol's exception details.
        details: Value,
    },
    /// [`Browser::wait_for`]'s expression stayed falsy.
    #[error("{expr} still {value} after {timeout:?}")]
    NotTruthy {
        /// The script expression.
        expr: String,
        /// Its last value.
        value: Value,
        /// How long it was polled.
        timeout: Duration,
    },
    /// The screenshot was not base64.
    #[error("screenshot data: {0}")]
    Screenshot(#[source] base64::DecodeError),
}

impl BrowserError {
    fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    fn missing(method: &str, what: &str) -> Self {
        Self::Protocol {
            method: method.into(),
            message: format!("no {what}"),
        }
    }
}

type Result<T, E = BrowserError> = std::result::Result<T, E>;

/// The Chromium to test with: `RESYN_CHROMIUM`, else the first of
/// `chromium`, `chromium-browser`, `google-chrome` on `PATH`.
pub fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RESYN_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// A headless, offline Chromium command with its own profile directory.
pub fn chromium_cmd(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1280,1800",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// A running headless Chromium with one page, driven over the DevTools
/// protocol. Killed when dropped.
pub struct Browser {
    child: Child,
    input: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    session: String,
    events: Vec<Value>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// Start Chromium with a fresh 1280x900 page.
    ///
    /// # Errors
    /// When it cannot start or the protocol fails.
    pub fn launch(bin: &Path, profile: &Path) -> Result<Browser> {
        // The shell hands our stdin/stdout pipes to Chromium as fds 3 and 4
        // (where --remote-debugging-pipe expects them) without unsafe code.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(bin)
            .args(chromium_cmd(bin, profile).get_args())
            .args(["--remote-debugging-pipe", "about:blank"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BrowserError::io(format!("starting {}", bin.display()), e))?;
        let no_pipe = |which: &str| {
            let e = std::io::Error::other(format!("no {which} pipe"));
            BrowserError::io(format!("starting {}", bin.display()), e)
        };
        let input = child.stdin.take().ok_or_else(|| no_pipe("stdin"))?;
        let output = child.stdout.take().ok_or_else(|| no_pipe("stdout"))?;
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(output);
            let mut buf = Vec::new();
            while matches!(r.read_until(0, &mut buf), Ok(n) if n > 0) {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                    && tx.send(v).is_err()
                {
                    break;
                }
                buf.clear();
            }
        });
        let mut b = Browser {
            child,
            input,
            messages,
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
        };
        let target = b.send(None, "Target.createTarget", json!({"url": "about:blank"}))?;
        let target = target["targetId"]
            .as_str()
            .ok_or_else(|| BrowserError::missing("Target.createTarget", "targetId"))?
            .to_string();
        let attached = b.send(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )?;
        b.session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| BrowserError::missing("Target.attachToTarget", "sessionId"))?
            .to_string();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            b.call(domain, json!({}))?;
        }
        b.resize(1280, 900)?;
        Ok(b)
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(0);
        self.input
            .write_all(&bytes)
            .and_then(|()| self.input.flush())
            .map_err(|e| BrowserError::io(format!("{method}: writing to chromium"), e))?;
        let deadline = Instant::now() + CALL_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) if m["id"] == json!(id) => {
                    return match m.get("error") {
                        Some(e) => Err(BrowserError::Protocol {
                            method: method.into(),
                            message: e.to_string(),
                        }),
                        None => Ok(m["result"].clone()),
                    };
                }
                Ok(m) => self.events.push(m),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(BrowserError::Timeout {
                        method: method.into(),
                    });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(BrowserError::Exited {
                        method: method.into(),
                    });
                }
            }
        }
    }

    /// Call a protocol method on the page.
    ///
    /// # Errors
    /// The protocol's error, a timeout, or a dead browser.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let s = self.session.clone();
        self.send(Some(&s), method, params)
    }

    /// Set the viewport size (CSS pixels).
    ///
    /// # Errors
    /// As [`Browser::call`].
    pub fn resize(&mut self, width: u32, height: u32) -> Result<()> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )
        .map(|_| ())
    }

    /// Load `url` and wait for its load event.
    ///
    /// # Errors
    /// A navigation error (e.g. connection refused) or a timeout.
    pub fn navigate(&mut self, url: &str) -> Result<()> {
        let already = self.events.len();
        let r = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(e) = r.get("errorText").and_then(Value::as_str) {
            return Err(BrowserError::Navigation {
                url: url.into(),
                text: e.into(),
            });
        }
        self.wait_event("Page.loadEventFired", already)
    }

    fn wait_event(&mut self, method: &str, after: usize) -> Result<()> {
        let deadline = Instant::now() + CALL_TIMEOUT;
        loop {
            if self.events[after..].iter().any(|e| e["method"] == method) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) => self.events.push(m),
                Err(_) => {
                    return Err(BrowserError::NoEvent {
                        event: method.into(),
                        within: CALL_TIMEOUT,
                    });
                }
            }
        }
    }

    /// Evaluate a script expression in the page (promises are awaited) and
    /// return its JSON value.
    ///
    /// # Errors
    /// A protocol error, or the exception the script threw.
    pub fn eval(&mut self, expr: &str) -> Result<Value> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            return Err(BrowserError::Script {
                expr: expr.into(),
                details: e.clone(),
            });
        }
        Ok(r["result"]["value"].clone())
    }

    /// Evaluate `expr` until it is truthy (JSON `true`, a non-empty string,
    /// a non-zero number) and return that value.
    ///
    /// # Errors
    /// When it is not truthy within `timeout`.
    pub fn wait_for(&mut self, expr: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            // A page being replaced answers with an error: try again.
            let v = match self.eval(expr) {
                Ok(v) => v,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let truthy = match &v {
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::Null => false,
                _ => true,
            };
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(BrowserError::NotTruthy {
                    expr: expr.into(),
                    value: v,
                    timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Press and release a key (`Tab`, `Enter`, ...), as a user would.
    ///
    /// # Errors
    /// As [`Browser::call`].
    pub fn press(&mut self, key: &str) -> Result<()> {
        let code = match key {
            "Tab" => 9,
            "Enter" => 13,
            "Escape" => 27,
            " " => 32,
            _ => 0,
        };
        for kind in ["rawKeyDown", "keyUp"] {
            let mut p = json!({"type": kind, "key": key, "windowsVirtualKeyCode": code});
            if key == "Enter" && kind == "rawKeyDown" {
                // Enter also types a character (it submits forms, follows links).
                p["type"] = json!("keyDown");
                p["text"] = json!("\r");
            }
            self.call("Input.dispatchKeyEvent", p)?;
        }
        Ok(())
    }

    /// Type text into the focused element.
    ///
    /// # Errors
    /// As [`Browser::call`].
    pub fn type_text(&mut self, text: &str) -> Result<()> {
        self.call("Input.insertText", json!({"text": text}))
            .map(|_| ())
    }

    /// Save a PNG of the whole page (up to 12 000 CSS pixels tall) and
    /// return its size in bytes.
    ///
    /// # Errors
    /// A protocol error or failing to write `path`.
    pub fn screenshot(&mut self, path: &Path) -> Result<usize> {
        let m = self.call("Page.getLayoutMetrics", json!({}))?;
        let size = &m["cssContentSize"];
        let w = size["width"].as_f64().unwrap_or(1280.0);
        let h = size["height"].as_f64().unwrap_or(900.0).min(12_000.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}}),
        )?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or(""))
            .map_err(BrowserError::Screenshot)?;
        std::fs::write(path, &png)
            .map_err(|e| BrowserError::io(format!("writing {}", path.display()), e))?;
        Ok(png.len())
    }

    /// Console errors, uncaught exceptions and failed loads (network
    /// errors, CSP violations) seen since the last [`Browser::clear_errors`],
    /// one line each.
    pub fn console_errors(&mut self) -> Vec<String> {
        // Take in messages that arrived after the last call.
        while let Ok(m) = self.messages.try_recv() {
            self.events.push(m);
        }
        self.events
            .iter()
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => Some(format!(
                        "exception: {}",
                        p["exceptionDetails"]["exception"]["description"]
                            .as_str()
                            .or(p["exceptionDetails"]["text"].as_str())
                            .unwrap_or("?")
                    )),
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console.{}: {}", p["type"], p["args"]))
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => Some(format!(
                        "{}: {} ({})",
                        p["entry"]["source"].as_str().unwrap_or("log"),
                        p["entry"]["text"].as_str().unwrap_or(""),
                        p["entry"]["url"].as_str().unwrap_or("")
                    )),
                    _ => None,
                }
            })
            .collect()
    }

    /// Forget the errors seen so far.
    pub fn clear_errors(&mut self) {
        while let Ok(m) = self.messages.try_recv() {
            self.events.push(m);
        }
        self.events.clear();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask it to close (its helper processes exit with it); kill it if
        // it does not within a few seconds.
        let _ = self.send(None, "Browser.close", json!({}));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
