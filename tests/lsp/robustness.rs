//! Whatever the client sends, the server answers (a result or a well-formed error), never
//! panics, never hangs, and keeps serving.

use crate::client::*;
use serde_json::{Value, json};

const MODEL: &str = "r(buyer, initial)

a(buyer, B) ::
    ask(X) => a(shop, S) <- want(X) then
    price(X, P) <= a(shop, S)

a(shop, S) ::
    ask(X) <= a(buyer, B) then
    price(X, 3) => a(buyer, B)
";

/// The server still answers a request about `uri` correctly.
fn still_serving(c: &mut Client, uri: &str) {
    let hover = c.ok(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 2, "character": 3 } }),
    );
    assert!(hover["contents"]["value"].as_str().unwrap().contains("role `buyer`"), "{hover}");
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

#[test]
fn malformed_messages_are_answered_and_the_server_goes_on() {
    let mut c = Client::start(None, json!({ "diagnosticsDelayMs": 0 }));
    let u = uri("robust.lcc");
    c.open(&u, MODEL);
    still_serving(&mut c, &u);
    let bad: Vec<(&str, Vec<u8>, Option<i64>)> = vec![
        // (what, bytes, the error code expected with a null id, if one is expected)
        ("Content-Length not a number", b"Content-Length: abc\r\n\r\n{}".to_vec(), Some(-32700)),
        ("negative Content-Length", b"Content-Length: -5\r\n\r\n{}".to_vec(), Some(-32700)),
        ("huge Content-Length", b"Content-Length: 99999999999999999999999\r\n\r\n{}".to_vec(), Some(-32700)),
        (
            "no Content-Length",
            b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}".to_vec(),
            Some(-32700),
        ),
        (
            "another charset",
            b"Content-Type: text/plain; charset=latin1\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
            Some(-32700),
        ),
        ("a header without a colon", b"Content-Length 2\r\n\r\n{}".to_vec(), Some(-32700)),
        ("bytes outside any message", b"hello world\r\n\r\n".to_vec(), Some(-32700)),
        (
            "Content-Length too short",
            [b"Content-Length: 10\r\n\r\n".as_slice(), br#"{"jsonrpc":"2.0","id":999,"method":"shutdown"}"#]
                .concat(),
            Some(-32700),
        ),
        ("not JSON", framed(b"hello"), Some(-32700)),
        ("truncated JSON", framed(br#"{"jsonrpc":"2.0","id":1"#), Some(-32700)),
        ("not UTF-8", framed(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\xfe\"}"), Some(-32700)),
        ("empty body", framed(b""), Some(-32700)),
        ("a JSON array", framed(b"[]"), Some(-32600)),
        ("a batch", framed(br#"[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]"#), Some(-32600)),
        ("a JSON number", framed(b"42"), Some(-32600)),
        ("a JSON string", framed(br#""initialize""#), Some(-32600)),
        ("an empty object", framed(b"{}"), Some(-32600)),
        ("JSON-RPC 1.0", framed(br#"{"jsonrpc":"1.0","method":"initialized"}"#), Some(-32600)),
        ("a fractional id", framed(br#"{"jsonrpc":"2.0","id":1.5,"method":"shutdown"}"#), Some(-32600)),
        ("an object id", framed(br#"{"jsonrpc":"2.0","id":{},"method":"shutdown"}"#), Some(-32600)),
        ("a method that is a number", framed(br#"{"jsonrpc":"2.0","method":7}"#), Some(-32600)),
        ("a response to nothing", framed(br#"{"jsonrpc":"2.0","id":12345,"result":null}"#), None),
        (
            "an unknown notification",
            framed(br#"{"jsonrpc":"2.0","method":"lcc/nothing","params":[1]}"#),
            None,
        ),
        (
            "$/ notification",
            framed(br#"{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"off"}}"#),
            None,
        ),
        (
            "cancel of nothing",
            framed(br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":777}}"#),
            None,
        ),
        (
            "notification with wrong params",
            framed(br#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":1}}"#),
            None,
        ),
        (
            "didChange with wrong params",
            framed(br#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":[]}"#),
            None,
        ),
        ("didChange without params", framed(br#"{"jsonrpc":"2.0","method":"textDocument/didChange"}"#), None),
        (
            "bare \\n\\n headers",
            b"Content-Length: 40\n\n{\"jsonrpc\":\"2.0\",\"method\":\"initialized\"}".to_vec(),
            None,
        ),
    ];
    for (what, bytes, code) in bad {
        c.unreadable.clear();
        c.send_raw(&bytes);
        still_serving(&mut c, &u);
        match code {
            Some(code) => {
                let errors: Vec<i64> =
                    c.unreadable.iter().map(|e| e["error"]["code"].as_i64().unwrap()).collect();
                assert!(errors.contains(&code), "{what}: expected error {code}, got {errors:?}");
            }
            None => {
                // Any answer must be an error (checked as it came); none is required.
                for e in &c.unreadable {
                    assert!(e["error"]["code"].is_i64(), "{what}: {e}");
                }
            }
        }
    }
    // Errors for requests with an id keep their id.
    c.send_raw(&framed(br#"{"jsonrpc":"1.0","id":4242,"method":"shutdown"}"#));
    assert_eq!(c.response(&json!(4242)).unwrap_err()["code"], -32600);
    // The text of the document was never touched.
    let edits = c.ok(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": u }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    let formatted = lcc_syntax::format::format_source(MODEL).unwrap();
    assert_eq!(apply_edits(MODEL, edits.as_array().unwrap()), formatted);
    c.shutdown();
}

#[test]
fn wrong_params_and_unknown_methods_are_errors() {
    let mut c = Client::start(None, json!({ "diagnosticsDelayMs": 0 }));
    let u = uri("robust.lcc");
    c.open(&u, MODEL);
    let error = |c: &mut Client, method: &str, params: Value| {
        let e = c.request(method, params.clone()).expect_err(&format!("{method} {params}"));
        e["code"].as_i64().unwrap()
    };
    assert_eq!(error(&mut c, "lcc/unknown", json!({})), -32601);
    assert_eq!(error(&mut c, "textDocument/unknown", json!(null)), -32601);
    for method in METHODS.iter().copied().flatten() {
        for params in [
            json!(null),
            json!([]),
            json!(7),
            json!({ "textDocument": 1, "position": "here" }),
            json!({ "textDocument": { "uri": u }, "position": { "line": -1, "character": 0 } }),
            json!({ "textDocument": { "uri": u }, "position": { "line": 4294967296_u64, "character": 0 } }),
            json!({ "textDocument": { "uri": "not a uri" }, "position": { "line": 0, "character": 0 } }),
        ] {
            if *method == "workspace/symbol" && params.is_null() {
                continue;
            }
            match c.request(method, params.clone()) {
                // Fields a method does not take are ignored.
                Ok(_)
                    if matches!(
                        *method,
                        "textDocument/documentSymbol" | "textDocument/semanticTokens/full"
                    ) && params["textDocument"]["uri"] == u.as_str() => {}
                Ok(result) => panic!("{method} {params} -> {result}"),
                Err(e) => assert_eq!(e["code"], -32602, "{method} {params}: {e}"),
            }
        }
    }
    // `initialize` twice is refused; the server goes on.
    assert_eq!(error(&mut c, "initialize", json!({ "capabilities": {} })), -32600);
    still_serving(&mut c, &u);
    c.shutdown();
}

#[test]
fn requests_before_initialize_are_refused() {
    let mut c = Client::spawn();
    let e = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri("x.lcc") }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(e.unwrap_err()["code"], -32002, "server not initialized");
    c.request("initialize", json!({ "capabilities": {} })).unwrap();
    c.notify("initialized", json!({}));
    let u = uri("robust.lcc");
    c.open(&u, MODEL);
    still_serving(&mut c, &u);
    c.shutdown();
}

/// Every request about one document (the property test of edits sends them too).
pub const DOCUMENT_REQUESTS: &[&str] = &[
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/completion",
    "textDocument/signatureHelp",
    "textDocument/prepareRename",
    "textDocument/rename",
    "textDocument/documentSymbol",
    "textDocument/semanticTokens/full",
    "textDocument/formatting",
    "textDocument/rangeFormatting",
    "textDocument/codeAction",
];

/// Every request that takes a document, and the workspace-wide one (with the positions,
/// ranges and options [`params`] gives them).
const METHODS: &[&[&str]] = &[DOCUMENT_REQUESTS, &["workspace/symbol"]];

/// Well-typed params of `method` for `uri` at `position` (a range from `position` to `end`).
pub fn params(method: &str, uri: &str, position: &Value, end: &Value) -> Value {
    let doc = json!({ "uri": uri });
    let range = json!({ "start": position, "end": end });
    let options = json!({ "tabSize": 4, "insertSpaces": true });
    match method {
        "textDocument/references" => {
            json!({ "textDocument": doc, "position": position, "context": { "includeDeclaration": true } })
        }
        "textDocument/rename" => json!({ "textDocument": doc, "position": position, "newName": "Renamed" }),
        "textDocument/documentSymbol" | "textDocument/semanticTokens/full" => json!({ "textDocument": doc }),
        "textDocument/formatting" => json!({ "textDocument": doc, "options": options }),
        "textDocument/rangeFormatting" => json!({ "textDocument": doc, "range": range, "options": options }),
        "textDocument/codeAction" => {
            json!({ "textDocument": doc, "range": range, "context": { "diagnostics": [] } })
        }
        "workspace/symbol" => json!({ "query": "b" }),
        _ => json!({ "textDocument": doc, "position": position }),
    }
}

#[test]
fn positions_out_of_range_are_clamped() {
    let mut c = Client::start(None, json!({ "diagnosticsDelayMs": 0 }));
    let u = uri("robust.lcc");
    let wide = "// é😀\n".to_string() + MODEL;
    c.open(&u, &wide);
    let far = [
        json!({ "line": 1_000_000, "character": 1_000_000 }),
        json!({ "line": 0, "character": 1_000_000 }),
        json!({ "line": 1_000_000, "character": 0 }),
        json!({ "line": 0, "character": 5 }), // inside the surrogate pair of 😀
        json!({ "line": 4294967295_u64, "character": 4294967295_u64 }),
    ];
    for method in METHODS.iter().copied().flatten() {
        for (i, a) in far.iter().enumerate() {
            for b in [&far[(i + 1) % far.len()], a, &json!({ "line": 0, "character": 0 })] {
                match c.request(method, params(method, &u, a, b)) {
                    Ok(_) => {}
                    // Rename answers why it cannot rename there.
                    Err(e) => assert!(
                        matches!(*method, "textDocument/rename" | "textDocument/prepareRename")
                            && e["code"] == -32602,
                        "{method} at {a}..{b}: {e}"
                    ),
                }
            }
        }
    }
    // Edits out of range: applied at the clamped positions.
    let mut text = wide.clone();
    let far_change = json!({ "start": far[0], "end": far[0] });
    c.change(&u, 1, &[(far_change, "\n% appended")]);
    text.push_str("\n% appended");
    let line_end = json!({ "start": { "line": 1, "character": 999 }, "end": { "line": 2, "character": 0 } });
    c.change(&u, 2, &[(line_end, "_joined_")]);
    let at = offset(&text, 1, 999);
    text.replace_range(at..offset(&text, 2, 0), "_joined_");
    let reversed = json!({ "start": { "line": 0, "character": 3 }, "end": { "line": 0, "character": 0 } });
    c.change(&u, 3, &[(reversed, "")]);
    text.replace_range(0..3, "");
    assert_eq!(
        c.diagnostics(&u, 3)
            .iter()
            .map(|d| (d["code"].as_str().unwrap().to_string(), d["range"].clone()))
            .collect::<Vec<_>>(),
        crate::features::expected(&text)
    );
    c.shutdown();
}

#[test]
fn unknown_documents() {
    let mut c = Client::start(None, json!({ "diagnosticsDelayMs": 0 }));
    let nowhere = uri("never-opened.lcc");
    let origin = json!({ "line": 0, "character": 0 });
    // With no document at all, then with one open that is not the one asked about.
    for round in 0..2 {
        for method in METHODS.iter().copied().flatten() {
            let result = c.request(method, params(method, &nowhere, &origin, &origin));
            match (method, result) {
                (&"workspace/symbol", Ok(r)) => assert!(round == 1 || r.is_null(), "{r}"),
                (_, Ok(r)) => assert_eq!(r, Value::Null, "{method}"),
                (_, Err(e)) => panic!("{method}: {e}"),
            }
        }
        // Changes and closes of unknown documents are ignored.
        c.change(&nowhere, 5, &[(json!({ "start": origin, "end": origin }), "a(x, I) ::")]);
        c.notify("textDocument/didClose", json!({ "textDocument": { "uri": nowhere } }));
        c.notify("textDocument/didSave", json!({ "textDocument": { "uri": nowhere } }));
        c.open(&uri("other.lcc"), MODEL);
    }
    still_serving(&mut c, &uri("other.lcc"));
    c.shutdown();
}

#[test]
fn exit_without_closing_stdin_ends_the_server() {
    let mut c = Client::start(None, json!({}));
    c.open(&uri("a.lcc"), MODEL);
    // `shutdown` waits for the exit; the client keeps its end of the pipe open meanwhile.
    c.shutdown();
}
