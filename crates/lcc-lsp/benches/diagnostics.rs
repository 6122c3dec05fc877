//! Time from an edit to fresh diagnostics, on a workspace of 5,000 clauses.
//!
//! `cargo bench -p lcc-lsp --bench diagnostics` runs the server in-process (the same
//! [`lcc_lsp::serve`] that `lcc lsp` runs on stdio, here on in-memory pipes) and a client that
//! waits for each answer, on two layouts of the same 5,000 clauses (2,500 pairs of roles
//! exchanging a request and a reply):
//!
//! - one file of 5,000 clauses;
//! - 100 files of 50 clauses in a workspace folder (`rootUri`), one of them open.
//!
//! For each, 30 edits of one clause (alternately adding and removing an argument, which adds
//! and removes a singleton-variable warning), each timed from the `didChange` to the
//! `publishDiagnostics` of its version; with `diagnosticsDelayMs: 0` and with the default
//! debounce delay. It prints median, p90 and max, then where the time goes on the big file:
//! parsing, checking, and the whole `lcc_check::check_source`.
//!
//! `LCC_BENCH_EDITS` sets the number of edits. Under `cargo test --benches` (no `--bench`
//! flag) it runs a small smoke version: 200 clauses, 3 edits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};

/// Every read waits at most this long: a bench that stops getting answers fails, never hangs.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `pairs` pairs of roles, 2 clauses each, numbered from `first`.
fn clauses(first: usize, pairs: usize) -> String {
    let mut out = String::new();
    for i in first..first + pairs {
        out.push_str(&format!(
            "a(client{i}, C) ::\n    \
                 request{i}(X) => a(server{i}, S) <- want(X) then\n    \
                 reply{i}(X, Y) <= a(server{i}, S) <- keep(Y)\n\n\
             a(server{i}, S) ::\n    \
                 request{i}(X) <= a(client{i}, C) then\n    \
                 reply{i}(X, Y) => a(client{i}, C) <- answer(X, Y)\n\n"
        ));
    }
    out
}

struct Client {
    reader: BufReader<ReadHalf<DuplexStream>>,
    writer: WriteHalf<DuplexStream>,
    next_id: i64,
}

impl Client {
    async fn send(&mut self, message: Value) {
        let body = message.to_string();
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer.write_all(framed.as_bytes()).await.unwrap();
    }

    async fn receive(&mut self) -> Value {
        tokio::time::timeout(TIMEOUT, async {
            let mut length = 0;
            loop {
                let mut line = String::new();
                assert!(self.reader.read_line(&mut line).await.unwrap() > 0, "the server stopped");
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body).await.unwrap();
            serde_json::from_slice(&body).unwrap()
        })
        .await
        .expect("an answer from the server")
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        loop {
            let message = self.receive().await;
            if message["id"] == id && message.get("method").is_none() {
                assert!(message.get("error").is_none(), "{message}");
                return message["result"].clone();
            }
        }
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params })).await;
    }

    /// Waits for the diagnostics of `uri` at `version`; returns how many there are.
    async fn diagnostics(&mut self, uri: &str, version: i64) -> usize {
        loop {
            let m = self.receive().await;
            if m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
            {
                return m["params"]["diagnostics"].as_array().map_or(0, Vec::len);
            }
        }
    }
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.to_str().unwrap())
}

/// The LSP position of a byte offset of an ASCII text.
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let character = offset - before.rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": character })
}

struct Layout {
    name: String,
    root: PathBuf,
    /// The file edited, and its text.
    edited: PathBuf,
    text: String,
}

fn layout(name: &str, files: usize, pairs_per_file: usize) -> Layout {
    let root = std::env::temp_dir().join(format!("lcc-lsp-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    for f in 0..files {
        std::fs::write(root.join(format!("m{f:03}.lcc")), clauses(f * pairs_per_file, pairs_per_file))
            .unwrap();
    }
    // The middle file is edited.
    let edited = root.join(format!("m{:03}.lcc", files / 2));
    let text = std::fs::read_to_string(&edited).unwrap();
    let clauses = files * pairs_per_file * 2;
    Layout {
        name: format!("{clauses} clauses, {files} file(s) of {} clauses", pairs_per_file * 2),
        root,
        edited,
        text,
    }
}

struct Figures {
    median: f64,
    p90: f64,
    max: f64,
    open: f64,
}

async fn measure(layout: &Layout, delay: Option<u64>, edits: usize) -> Figures {
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_end);
    let server = tokio::spawn(lcc_lsp::serve(server_read, server_write));
    let (reader, writer) = tokio::io::split(client_end);
    let mut c = Client { reader: BufReader::new(reader), writer, next_id: 0 };

    let options = match delay {
        Some(ms) => json!({ "diagnosticsDelayMs": ms }),
        None => json!({}),
    };
    let root = file_uri(&layout.root);
    c.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": root,
            "workspaceFolders": [{ "uri": root, "name": "bench" }],
            "capabilities": {},
            "initializationOptions": options,
        }),
    )
    .await;
    c.notify("initialized", json!({})).await;
    let uri = file_uri(&layout.edited);
    let mut text = layout.text.clone();
    let opened = Instant::now();
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "lcc", "version": 0, "text": text } }),
    )
    .await;
    let clean = c.diagnostics(&uri, 0).await;
    let open = opened.elapsed().as_secs_f64() * 1e3;

    // The guards `want(X)` of the clauses, spread over the file: each edit picks one.
    let guards: Vec<usize> = text.match_indices("want(X").map(|(i, _)| i + "want(X".len()).collect();
    let mut times = Vec::new();
    let mut pick = 12345usize;
    let mut at = 0;
    for version in 1..=edits as i64 {
        let (range, new_text) = if version % 2 == 1 {
            pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            at = guards[(pick >> 33) % guards.len()];
            text.insert_str(at, ", Z");
            (json!({ "start": position(&text, at), "end": position(&text, at) }), ", Z")
        } else {
            let range = json!({ "start": position(&text, at), "end": position(&text, at + 3) });
            text.replace_range(at..at + 3, "");
            (range, "")
        };
        let started = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "range": range, "text": new_text }],
            }),
        )
        .await;
        let count = c.diagnostics(&uri, version).await;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        // The edit adds one warning (Z is a singleton), the next removes it.
        assert_eq!(count, clean + usize::from(version % 2 == 1), "diagnostics of version {version}");
    }
    c.request("shutdown", Value::Null).await;
    c.notify("exit", Value::Null).await;
    server.await.unwrap();

    times.sort_by(f64::total_cmp);
    let quantile =
        |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1).min(times.len() - 1)];
    Figures { median: quantile(0.5), p90: quantile(0.9), max: times[times.len() - 1], open }
}

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let edits: usize = std::env::var("LCC_BENCH_EDITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if benchmarking { 30 } else { 3 });
    let (files, pairs) = if benchmarking { (100, 25) } else { (4, 25) };
    let layouts = [layout("one", 1, files * pairs), layout("many", files, pairs)];
    // As `lcc lsp` runs: queries recurse as deep as the parser allows.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .thread_stack_size(1 << 30)
        .enable_all()
        .build()
        .unwrap();
    println!("edit to fresh diagnostics, {edits} edits of one clause (ms)");
    println!("{:<40} {:>9} {:>8} {:>8} {:>8} {:>9}", "layout", "debounce", "median", "p90", "max", "open");
    for layout in &layouts {
        for delay in [Some(0), None] {
            let f = runtime.block_on(measure(layout, delay, edits));
            let debounce = delay.map_or_else(|| "default".to_string(), |ms| format!("{ms} ms"));
            println!(
                "{:<40} {:>9} {:>8.2} {:>8.2} {:>8.2} {:>9.2}",
                layout.name, debounce, f.median, f.p90, f.max, f.open
            );
        }
    }
    // Where the time goes: the whole file is parsed and checked again after an edit.
    let big = &layouts[0].text;
    let runs = if benchmarking { 15 } else { 2 };
    let parse = median_ms(runs, || drop(lcc_syntax::parse(big)));
    let (ast, syntax) = lcc_syntax::parse(big);
    let check = median_ms(runs, || drop(lcc_check::check_parsed(big, &ast, &syntax)));
    let whole = median_ms(runs, || drop(lcc_check::check_source(big)));
    println!(
        "the {}-byte file of {} clauses: parse {parse:.2} ms, check {check:.2} ms, check_source {whole:.2} ms (medians)",
        big.len(),
        files * pairs * 2
    );
    for layout in &layouts {
        let _ = std::fs::remove_dir_all(&layout.root);
    }
}
