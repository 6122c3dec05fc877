//! A small LSP client for the tests: runs the real `lcc lsp` over stdio, sends one request at a
//! time and waits for its response (tower-lsp-server answers concurrent requests in any order),
//! keeping the notifications that arrive meanwhile, and answering the server's own requests.
//! Every read has a timeout: a server that hangs fails the test instead of hanging it.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any one message from the server may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The `uri` of a document the tests open (no file behind it).
pub fn uri(name: &str) -> String {
    format!("file:///lcc-lsp-test/{name}")
}

/// A file URI for a path on disk.
pub fn file_uri(path: &Path) -> String {
    let path = path.to_str().expect("UTF-8 path");
    let mut out = String::from("file://");
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
    /// Notifications received and not yet looked at, oldest first.
    pub notifications: Vec<Value>,
    /// Requests the server sent to the client (answered with `null`).
    pub server_requests: Vec<Value>,
    /// Error responses with a `null` id: the answers to messages that could not be read.
    pub unreadable: Vec<Value>,
    /// The `capabilities` and `serverInfo` of the `initialize` result.
    pub capabilities: Value,
    pub server_info: Value,
}

/// A response: the result, or the error object.
pub type Reply = Result<Value, Value>;

impl Client {
    /// Starts `lcc lsp` and initializes it, with `root` as its workspace folder and
    /// `options` as `initializationOptions`.
    pub fn start(root: Option<&Path>, options: Value) -> Client {
        let mut client = Client::spawn();
        let folders = match root {
            Some(root) => json!([{ "uri": file_uri(root), "name": "root" }]),
            None => Value::Null,
        };
        let params = json!({
            "processId": null,
            "rootUri": root.map(file_uri),
            "workspaceFolders": folders,
            "capabilities": {
                "general": { "positionEncodings": ["utf-16"] },
                "textDocument": {
                    "publishDiagnostics": { "versionSupport": true },
                    "hover": { "contentFormat": ["markdown", "plaintext"] },
                    "completion": { "completionItem": { "snippetSupport": true } },
                },
            },
            "initializationOptions": options,
        });
        let result = client.request("initialize", params).expect("initialize succeeds");
        client.capabilities = result["capabilities"].clone();
        client.server_info = result["serverInfo"].clone();
        client.notify("initialized", json!({}));
        client
    }

    /// Starts `lcc lsp` without initializing it.
    pub fn spawn() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lcc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lcc lsp");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr_pipe);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Client {
            child,
            stdin,
            messages,
            stderr,
            next_id: 0,
            notifications: Vec::new(),
            server_requests: Vec::new(),
            unreadable: Vec::new(),
            capabilities: Value::Null,
            server_info: Value::Null,
        }
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Writes raw bytes to the server's stdin.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).and_then(|()| stdin.flush()).unwrap_or_else(|e| {
            panic!("the server closed its input ({e}); stderr:\n{}", self.stderr.lock().unwrap())
        });
    }

    /// Sends one JSON message, framed.
    pub fn send(&mut self, message: &Value) {
        let body = message.to_string();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response.
    pub fn request(&mut self, method: &str, params: Value) -> Reply {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.response(&json!(id))
    }

    /// A request whose answer must be a result, not an error.
    pub fn ok(&mut self, method: &str, params: Value) -> Value {
        self.request(method, params.clone()).unwrap_or_else(|e| panic!("{method} {params} failed: {e}"))
    }

    /// Waits for the response with `id`, keeping notifications; every response must be
    /// well formed (`jsonrpc`, and exactly one of `result` and `error`).
    pub fn response(&mut self, id: &Value) -> Reply {
        loop {
            let message = self.receive();
            if message.get("method").is_some() {
                continue; // kept by `receive`
            }
            assert_well_formed_response(&message);
            if message["id"].is_null() && !id.is_null() {
                self.unreadable.push(message);
                continue;
            }
            if message["id"] == *id {
                return match message.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(message["result"].clone()),
                };
            }
            panic!("a response to a request not asked (waiting for {id}): {message}");
        }
    }

    /// The next message from the server. Notifications are kept in `notifications`; requests
    /// from the server are answered with a `null` result and kept in `server_requests`.
    pub fn receive(&mut self) -> Value {
        let message = match self.messages.recv_timeout(TIMEOUT) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no message from the server in {TIMEOUT:?}; stderr:\n{}", self.stderr())
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.try_wait().ok().flatten();
                std::thread::sleep(Duration::from_millis(50));
                panic!("the server closed its output (exit status {status:?}); stderr:\n{}", self.stderr())
            }
        };
        assert_eq!(message["jsonrpc"], "2.0", "{message}");
        match (message.get("method"), message.get("id")) {
            (Some(_), Some(id)) => {
                let reply = json!({ "jsonrpc": "2.0", "id": id, "result": null });
                self.server_requests.push(message.clone());
                self.send(&reply);
            }
            (Some(_), None) => self.notifications.push(message.clone()),
            _ => {}
        }
        message
    }

    /// Waits for the notification that `pick` accepts, among those kept and those to come;
    /// removes and returns it.
    pub fn wait_notification(&mut self, what: &str, mut pick: impl FnMut(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = 0;
        loop {
            if let Some(i) = self.notifications.iter().skip(seen).position(&mut pick) {
                return self.notifications.remove(seen + i);
            }
            seen = self.notifications.len();
            assert!(Instant::now() < deadline, "no {what} in {TIMEOUT:?}; kept: {:?}", self.notifications);
            let message = self.receive();
            assert!(
                message.get("id").is_none() || message.get("method").is_some(),
                "unexpected response {message}"
            );
        }
    }

    /// The diagnostics published for `uri` at `version` (older publications are dropped).
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let found = self.wait_notification(&format!("diagnostics of {uri} v{version}"), |n| {
            n["method"] == "textDocument/publishDiagnostics"
                && n["params"]["uri"] == uri
                && n["params"]["version"] == version
        });
        self.notifications
            .retain(|n| !(n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri));
        found["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "lcc", "version": 0, "text": text } }),
        );
    }

    /// Sends ranged changes, each `(range, text)` applied after the previous one.
    pub fn change(&mut self, uri: &str, version: i64, changes: &[(Value, &str)]) {
        let changes: Vec<Value> =
            changes.iter().map(|(range, text)| json!({ "range": range, "text": text })).collect();
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": changes }),
        );
    }

    /// Asks the server to stop (`shutdown`, `exit`), waits for it to exit, and checks that it
    /// never panicked. Returns its stderr.
    pub fn shutdown(mut self) -> String {
        self.ok("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit after `exit`; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        // The stderr thread ends when the pipe closes.
        std::thread::sleep(Duration::from_millis(20));
        let stderr = self.stderr();
        assert!(status.success(), "exit status {status}; stderr:\n{stderr}");
        assert_no_panic(&stderr);
        stderr
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn assert_no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "the server panicked:\n{stderr}");
}

/// A response is `{"jsonrpc":"2.0","id":…}` with a `result`, or an `error` with an integer
/// `code` and a string `message`.
pub fn assert_well_formed_response(message: &Value) {
    assert_eq!(message["jsonrpc"], "2.0", "{message}");
    assert!(message.get("id").is_some(), "a response without id: {message}");
    match (message.get("result"), message.get("error")) {
        (Some(_), None) => {}
        (None, Some(error)) => {
            assert!(error["code"].is_i64(), "error without an integer code: {message}");
            assert!(error["message"].is_string(), "error without a message: {message}");
        }
        _ => panic!("a response needs exactly one of result and error: {message}"),
    }
}

/// Reads one framed message; `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) =
            line.split_once(':').unwrap_or_else(|| panic!("bad header from the server: {line:?}"));
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().expect("Content-Length"));
        }
    }
    let mut body = vec![0; length.expect("a Content-Length header from the server")];
    reader.read_exact(&mut body).ok()?;
    Some(
        serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("the server sent invalid JSON ({e}): {body:?}")),
    )
}

// ---- positions ---------------------------------------------------------------------------------

/// An LSP position (line, UTF-16 character) of a byte offset.
pub fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

pub fn range(text: &str, start: usize, end: usize) -> Value {
    json!({ "start": position(text, start), "end": position(text, end) })
}

/// A source with markers: `«name»` marks a position (the marker is removed from the text).
pub struct Marked {
    pub text: String,
    pub offsets: HashMap<String, usize>,
}

impl Marked {
    pub fn new(source: &str) -> Marked {
        let mut text = String::new();
        let mut offsets = HashMap::new();
        let mut rest = source;
        while let Some(open) = rest.find('«') {
            text.push_str(&rest[..open]);
            let after = &rest[open + '«'.len_utf8()..];
            let close = after.find('»').expect("a marker is closed with »");
            let name = &after[..close];
            assert!(offsets.insert(name.to_string(), text.len()).is_none(), "marker «{name}» twice");
            rest = &after[close + '»'.len_utf8()..];
        }
        text.push_str(rest);
        Marked { text, offsets }
    }

    pub fn offset(&self, name: &str) -> usize {
        *self.offsets.get(name).unwrap_or_else(|| panic!("no marker «{name}»"))
    }

    /// The LSP position of a marker.
    pub fn at(&self, name: &str) -> Value {
        position(&self.text, self.offset(name))
    }

    /// `{textDocument, position}` params at a marker.
    pub fn params(&self, uri: &str, name: &str) -> Value {
        json!({ "textDocument": { "uri": uri }, "position": self.at(name) })
    }

    /// The range between two markers.
    pub fn range(&self, from: &str, to: &str) -> Value {
        range(&self.text, self.offset(from), self.offset(to))
    }
}

/// The byte offset of an LSP position, as the server reads one: a line past the end is the end
/// of the text; a character past the end of its line is the end of the line (before `\r\n`);
/// a character inside a surrogate pair is after that character.
pub fn offset(text: &str, line: u64, character: u64) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..text[start..].find('\n').map_or(text.len(), |i| start + i)];
    let mut units = 0u64;
    for (i, c) in line_text.char_indices() {
        if units >= character {
            return start + i;
        }
        units += c.len_utf16() as u64;
    }
    start + line_text.strip_suffix('\r').unwrap_or(line_text).len()
}

/// The byte offset of a JSON position.
pub fn offset_of(text: &str, position: &Value) -> usize {
    offset(text, position["line"].as_u64().unwrap(), position["character"].as_u64().unwrap())
}

/// `text` with LSP text edits applied (all relative to `text`, not overlapping).
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset_of(text, &e["range"]["start"]),
                offset_of(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    let mut limit = usize::MAX;
    for (start, end, new) in spans {
        assert!(start <= end && end <= limit, "overlapping edits: {edits:?}");
        out.replace_range(start..end, new);
        limit = start;
    }
    out
}
