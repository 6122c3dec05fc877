//! A property test: random incremental edits (random ranges, some out of the text or inside
//! surrogate pairs, reversed; random text from an LCC-ish alphabet with multi-byte characters)
//! sent to one server, with random requests at random positions after each. Every answer must
//! be a result (or, for rename, a refusal), and every range in it must lie in the text. After
//! each edit the server's semantic tokens, and after each run its diagnostics and formatting,
//! must be those of the test's own copy of the text (so the server has that text). The server
//! must never panic.
//!
//! `LCC_LSP_PROPTEST_CASES` sets the number of cases (default 256).

use crate::client::*;
use crate::features::{decode_tokens, expected};
use crate::robustness::{DOCUMENT_REQUESTS, params};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use std::cell::RefCell;

const BASES: &[&str] = &[
    "r(buyer, initial, 1, 1)
r(shopkeeper, necessary, 1, 1)

/** The buyer. */
a(buyer, B) ::
    ask(X) => a(shopkeeper, S) <- want(X) then
    price(X, P) <= a(shopkeeper, S) then
    buy(X, P) => a(shopkeeper, S) <- afford(X, P) and member(P, [1, 2]) then
    sold(X, P) <= a(shopkeeper, S)

a(shopkeeper, S) ::
    ask(X) <= a(buyer, B) then
    price(X, P) => a(buyer, B) <- in_stock(X, P) then
    buy(X, P) <= a(buyer, B) then
    sold(X, P) => a(buyer, B)
",
    "// Café ⇒ 😀 wide 🎉 characters: é, ⇒ and emoji before names.
r(idle, initial).
a(idle, H) ::
    ( «x» ⇒ a(idle, H) /* 😀 */ ← ok(H) ) or
    ( 'quoted é'(X) ⇐ a(peer(😀), P) then a(busy(X, \"s😀\"), H) )
a(busy(N, S), H) :: null ← N > 1 and S \\= \"é\" then a(idle, H).
",
    "r(buyer, initial).\r\n\r\na(buyer, B) ::\r\n    ask(X) => a(shop, S) <- want(X) then\r\n    price(X, P) <= a(shop, S)\r\n\r\na(shop, S) ::\r\n    ask(X) <= a(buyer, B)\r\n",
    "",
];

const PIECES: &[&str] = &[
    "a(",
    "r(",
    "::",
    "=>",
    "<=",
    "<-",
    "⇒",
    "⇐",
    "←",
    " then ",
    " or ",
    " par ",
    " and ",
    "not ",
    "null",
    "(",
    ")",
    "[",
    "]",
    "|",
    ",",
    ".",
    " ",
    "\n",
    "\n\n",
    "    ",
    "X",
    "Y1",
    "_",
    "_Z",
    "role",
    "buyer",
    "shopkeeper",
    "ask",
    "msg(",
    "'q",
    "'",
    "\"s",
    "\"",
    "/*",
    "*/",
    "//",
    "%",
    "/**",
    "@annotation(",
    "é",
    "😀",
    "🎉",
    "1",
    "-2",
    "3.5",
    " is ",
    "+",
    "=",
    "\\=",
    "=<",
    ">",
    "mod",
    "initial",
    "x",
];

#[derive(Clone, Debug)]
struct Pos(u32, u32);

impl Pos {
    fn json(&self) -> Value {
        json!({ "line": self.0, "character": self.1 })
    }
}

#[derive(Clone, Debug)]
struct Edit {
    start: Pos,
    end: Pos,
    text: String,
    requests: Vec<(&'static str, Pos, Pos)>,
}

fn pos() -> impl Strategy<Value = Pos> {
    prop_oneof![
        12 => (0u32..18, 0u32..70).prop_map(|(l, c)| Pos(l, c)),
        1 => (0u32..18, Just(1_000_000u32)).prop_map(|(l, c)| Pos(l, c)),
        1 => (Just(1_000_000u32), 0u32..5).prop_map(|(l, c)| Pos(l, c)),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop::collection::vec(prop::sample::select(PIECES), 0..6).prop_map(|p| p.concat());
    let requests = prop::collection::vec((prop::sample::select(DOCUMENT_REQUESTS), pos(), pos()), 0..3);
    // Mostly short ranges (typing, deleting a few characters), sometimes any two positions.
    let range = prop_oneof![
        3 => (pos(), 0u32..4).prop_map(|(p, n)| (p.clone(), Pos(p.0, p.1 + n))),
        1 => (pos(), pos()),
    ];
    (range, text, requests).prop_map(|((start, end), text, requests)| Edit { start, end, text, requests })
}

fn case() -> impl Strategy<Value = (usize, Vec<Edit>)> {
    (0..BASES.len(), prop::collection::vec(edit(), 1..8))
}

/// Whether `p` is a position of `text`: an existing line, a character not past its end and not
/// inside a surrogate pair.
fn valid_position(text: &str, p: &Value) -> bool {
    let (Some(line), Some(character)) = (p["line"].as_u64(), p["character"].as_u64()) else { return false };
    let Some(line_text) = text.split('\n').nth(line as usize) else { return false };
    let mut units = 0;
    for c in line_text.chars() {
        if units >= character {
            break;
        }
        units += c.len_utf16() as u64;
    }
    units == character
}

/// Every `{start, end}` range in `value` lies in `text`, in order.
fn check_ranges(text: &str, value: &Value, what: &str) -> Result<(), TestCaseError> {
    match value {
        Value::Object(map) => {
            if let (Some(start), Some(end)) = (map.get("start"), map.get("end"))
                && start.get("line").is_some()
            {
                prop_assert!(
                    valid_position(text, start) && valid_position(text, end),
                    "{what}: range {value} not in {text:?}"
                );
                prop_assert!(
                    offset_of(text, start) <= offset_of(text, end),
                    "{what}: reversed range {value}"
                );
            }
            for v in map.values() {
                check_ranges(text, v, what)?;
            }
        }
        Value::Array(items) => {
            for v in items {
                check_ranges(text, v, what)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Semantic tokens lie in the text, each within one lexer token.
fn check_tokens(text: &str, tokens: &Value) -> Result<(), TestCaseError> {
    let lexed: Vec<(usize, usize)> = lcc_syntax::lexer::tokens(text).map(|t| (t.start, t.end)).collect();
    for (line, character, length, _, _) in decode_tokens(tokens) {
        let start = json!({ "line": line, "character": character });
        let end = json!({ "line": line, "character": character + length });
        prop_assert!(
            valid_position(text, &start) && valid_position(text, &end),
            "token {start} +{length} not in {text:?}"
        );
        let (a, b) = (offset_of(text, &start), offset_of(text, &end));
        prop_assert!(
            lexed.iter().any(|&(s, e)| s <= a && b <= e && (s == a || text[..a].ends_with('\n'))),
            "token at {a}..{b} ({:?}) is not a lexer token of {text:?}",
            &text[a..b]
        );
    }
    Ok(())
}

/// The semantic tokens of `text`, computed here: (line, UTF-16 character, length, type,
/// modifiers), a token over several lines cut at line ends.
fn expected_tokens(text: &str) -> Vec<(u64, u64, u64, u64, u64)> {
    let db = lcc_check::Database::default();
    let file = lcc_check::SourceFile::new(&db, "expected.lcc".into(), text.to_string());
    let mut out = Vec::new();
    for t in lcc_check::ide::semantic_tokens(&db, file) {
        let mut start = t.start as usize;
        while start < t.end as usize {
            let piece = text[start..t.end as usize].split('\n').next().unwrap();
            let length = piece.encode_utf16().count() as u64;
            if length > 0 {
                let p = position(text, start);
                out.push((
                    p["line"].as_u64().unwrap(),
                    p["character"].as_u64().unwrap(),
                    length,
                    t.kind.into(),
                    t.modifiers.into(),
                ));
            }
            start += piece.len() + 1;
        }
    }
    out
}

/// The server's semantic tokens are those of `text`: the server has the same text.
fn check_text(c: &mut Client, u: &str, text: &str) -> Result<(), TestCaseError> {
    let tokens = c.ok("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": u } }));
    check_tokens(text, &tokens)?;
    prop_assert_eq!(decode_tokens(&tokens), expected_tokens(text), "semantic tokens of {:?}", text);
    Ok(())
}

/// The server's diagnostics and formatting of the document are those of `text`.
fn check_document(c: &mut Client, u: &str, version: i64, text: &str) -> Result<(), TestCaseError> {
    let diagnostics: Vec<(String, Value)> = c
        .diagnostics(u, version)
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["range"].clone()))
        .collect();
    prop_assert_eq!(diagnostics, expected(text), "diagnostics of {:?}", text);
    let format =
        c.ok("textDocument/formatting", params("textDocument/formatting", u, &json!(null), &json!(null)));
    match lcc_syntax::format::format_source(text) {
        Ok(formatted) => prop_assert_eq!(apply_edits(text, format.as_array().unwrap()), formatted),
        Err(_) => prop_assert_eq!(format, Value::Null),
    }
    Ok(())
}

fn run(c: &mut Client, n: usize, base: usize, edits: &[Edit]) -> Result<(), TestCaseError> {
    let u = uri(&format!("prop-{n}.lcc"));
    let mut text = BASES[base].to_string();
    c.open(&u, &text);
    let mut version = 0;
    for edit in edits {
        version += 1;
        let range = json!({ "start": edit.start.json(), "end": edit.end.json() });
        c.change(&u, version, &[(range, &edit.text)]);
        let (a, b) = (offset_of(&text, &edit.start.json()), offset_of(&text, &edit.end.json()));
        text.replace_range(a.min(b)..a.max(b), &edit.text);
        check_text(c, &u, &text)?;
        for (method, p, q) in &edit.requests {
            let what = format!("{method} at {p:?}..{q:?} of {text:?}");
            match c.request(method, params(method, &u, &p.json(), &q.json())) {
                Ok(result) => {
                    check_ranges(&text, &result, &what)?;
                    match *method {
                        "textDocument/semanticTokens/full" => check_tokens(&text, &result)?,
                        "textDocument/rename" if !result.is_null() => {
                            // The edits apply (they do not overlap).
                            let edits = result["changes"][u.as_str()].as_array().cloned().unwrap_or_default();
                            apply_edits(&text, &edits);
                        }
                        "textDocument/rangeFormatting" | "textDocument/formatting" if !result.is_null() => {
                            apply_edits(&text, result.as_array().unwrap());
                        }
                        _ => {}
                    }
                }
                Err(e) => prop_assert!(
                    matches!(*method, "textDocument/rename" | "textDocument/prepareRename")
                        && e["code"] == -32602,
                    "{what}: {e}"
                ),
            }
        }
    }
    let outcome = check_document(c, &u, version, &text);
    c.notify("textDocument/didClose", json!({ "textDocument": { "uri": u } }));
    c.notifications.clear();
    outcome
}

#[test]
fn random_incremental_edits_keep_the_server_in_step() {
    let cases = std::env::var("LCC_LSP_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
    let client = RefCell::new(Client::start(None, json!({ "diagnosticsDelayMs": 0 })));
    let counter = RefCell::new(0usize);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&case(), |(base, edits)| {
        let n = {
            let mut counter = counter.borrow_mut();
            *counter += 1;
            *counter
        };
        run(&mut client.borrow_mut(), n, base, &edits)
    });
    let client = client.into_inner();
    if let Err(failure) = result {
        panic!("{failure}\nserver stderr:\n{}", client.stderr());
    }
    client.shutdown();
}
