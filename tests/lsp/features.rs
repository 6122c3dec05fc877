//! What each request answers, on small models. Positions are `«name»` markers in the text.

use crate::client::*;
use serde_json::{Value, json};

/// The buyer and shopkeeper of `stdlib/market`, with a built-in in a guard and a doc comment.
const MARKET: &str = "r(buyer, initial, 1, 1)
r(«decl»shopkeeper, necessary, 1, 1)

/** The buyer. */
a(buyer, B) ::
    «ask»ask(X) => a(«ref»shopkeeper, S) <- «want»want(«x»X) then
    price(X, P) <= a(shopkeeper, S) then
    buy(X, P) => a(shopkeeper, S) <- afford(X, P) and «member»member(P, [1, 2]) then
    sold(X, P) <= a(shopkeeper, S)

a(«head»shopkeeper, S) ::
    «recv»ask(«xs»X) <= a(buyer, B) then
    price(X, «p1»P) => a(buyer, B) <- in_stock(X, «p2»P) then
    buy(X, P) <= a(buyer, B) then
    sold(X, «p4»P) => a(buyer, B)«end»
";

fn start() -> Client {
    Client::start(None, json!({ "diagnosticsDelayMs": 0 }))
}

/// A server with two documents open: the market, and a visitor that names its shopkeeper role.
fn market_and_visitor() -> (Marked, Marked, Client, String, String) {
    let m = Marked::new(MARKET);
    let other = Marked::new("a(visitor, V) ::\n    hello => a(«there»shopkeeper, S)\n");
    let mut c = start();
    let (u, v) = (uri("market.lcc"), uri("visitor.lcc"));
    c.open(&u, &m.text);
    c.open(&v, &other.text);
    (m, other, c, u, v)
}

fn doc(uri: &str) -> Value {
    json!({ "textDocument": { "uri": uri } })
}

/// `(code, range)` of each diagnostic the server published.
fn published(diagnostics: &[Value]) -> Vec<(String, Value)> {
    diagnostics.iter().map(|d| (d["code"].as_str().unwrap().to_string(), d["range"].clone())).collect()
}

/// `(code, range)` of each diagnostic `lcc_check::check_source` gives, in LSP positions.
pub fn expected(text: &str) -> Vec<(String, Value)> {
    lcc_check::check_source(text)
        .1
        .iter()
        .map(|d| (d.code.id.to_string(), range(text, d.span.start as usize, d.span.end as usize)))
        .collect()
}

fn labels(items: &Value) -> Vec<String> {
    let items = items.as_array().or_else(|| items["items"].as_array()).expect("completion items");
    items.iter().map(|i| i["label"].as_str().unwrap().to_string()).collect()
}

#[test]
fn initialize_announces_the_features() {
    let mut c = Client::start(None, json!({}));
    let caps = c.capabilities.clone();
    assert_eq!(c.server_info["name"], "lcc");
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    for provider in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "documentSymbolProvider",
        "workspaceSymbolProvider",
        "documentFormattingProvider",
        "documentRangeFormattingProvider",
    ] {
        assert_eq!(caps[provider], true, "{provider}");
    }
    assert_eq!(caps["renameProvider"]["prepareProvider"], true);
    assert!(caps["completionProvider"]["triggerCharacters"].as_array().unwrap().contains(&json!("(")));
    assert!(caps["signatureHelpProvider"]["triggerCharacters"].as_array().unwrap().contains(&json!(",")));
    assert_eq!(caps["codeActionProvider"]["codeActionKinds"], json!(["quickfix"]));
    let legend = &caps["semanticTokensProvider"]["legend"];
    for kind in ["keyword", "comment", "variable", "type", "function", "method"] {
        assert!(legend["tokenTypes"].as_array().unwrap().contains(&json!(kind)), "{kind} in {legend}");
    }
    assert_eq!(caps["semanticTokensProvider"]["full"], true);
    c.wait_notification("the workspace log line", |n| {
        n["method"] == "window/logMessage"
            && n["params"]["message"].as_str().unwrap().contains("model file(s)")
    });
    c.shutdown();
}

#[test]
fn diagnostics_follow_incremental_edits() {
    let mut c = start();
    let u = uri("shop.lcc");
    let m = Marked::new(
        "// Café ⇒ 😀: wide characters before the errors.
r(buyer, initial).
r(shop, necessary).

a(buyer, B) ::
    ask(X) => a(«role»shop, S) <- want(X) then
    price(X, «p»P) <= a(shop, S).

a(shop, S) ::
    ask(X) <= a(buyer, B) then
    price(X, 3) => a(buyer, B).
",
    );
    let mut text = m.text.clone();
    c.open(&u, &text);
    let v0 = published(&c.diagnostics(&u, 0));
    assert_eq!(v0, expected(&text));
    let singleton = ("W0101".to_string(), m.range("p", "p"));
    assert!(
        v0.iter().any(|(code, r)| code == "W0101" && r["start"] == singleton.1["start"]),
        "P is a singleton: {v0:?}"
    );

    // Rename P to _P: the warning goes.
    let p = m.offset("p");
    c.change(&u, 1, &[(range(&text, p, p), "_")]);
    text.insert(p, '_');
    let v1 = published(&c.diagnostics(&u, 1));
    assert_eq!(v1, expected(&text));
    assert!(v1.iter().all(|(code, _)| code != "W0101"), "{v1:?}");

    // Two changes in one notification, the second on the text the first left: wide characters
    // inserted before a role name on its line, then the role name misspelt.
    let role = m.offset("role");
    let line_start = text[..role].rfind('\n').unwrap() + 1 + 4;
    let first = (range(&text, line_start, line_start), "/*é😀*/ ");
    text.insert_str(line_start, "/*é😀*/ ");
    let role = role + "/*é😀*/ ".len();
    let second = (range(&text, role, role + "shop".len()), "shap");
    text.replace_range(role..role + "shop".len(), "shap");
    c.change(&u, 2, &[first, second]);
    let v2 = published(&c.diagnostics(&u, 2));
    assert_eq!(v2, expected(&text));
    let undefined = v2.iter().find(|(code, _)| code == "E0101").expect("an undefined role");
    assert_eq!(undefined.1, range(&text, role, role + 4), "UTF-16 columns after é and 😀");

    // A whole-text change (no range) to a broken model.
    text = "a(buyer, B) ::\n    ask(X => a(shop, S)\n".to_string();
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 3 }, "contentChanges": [{ "text": text }] }),
    );
    let v3 = published(&c.diagnostics(&u, 3));
    assert_eq!(v3, expected(&text));
    assert!(v3.iter().any(|(code, _)| code.starts_with('E')), "{v3:?}");

    // Closing the document clears its diagnostics.
    c.notify("textDocument/didClose", doc(&u));
    let cleared = c.wait_notification("cleared diagnostics", |n| {
        n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == u.as_str()
    });
    assert_eq!(cleared["params"]["diagnostics"], json!([]));
    c.shutdown();
}

#[test]
fn debounced_diagnostics_end_with_the_last_version() {
    // The default delay: quick edits in a row; the last version's diagnostics are published.
    let mut c = Client::start(None, json!({}));
    let u = uri("typing.lcc");
    let mut text = String::from("a(r, I) ::\n    null");
    c.open(&u, &text);
    for (version, ch) in (1..=6).zip(" then m => a(r, I)".split_inclusive(' ')) {
        let end = text.len();
        c.change(&u, version, &[(range(&text, end, end), ch)]);
        text.push_str(ch);
    }
    assert_eq!(published(&c.diagnostics(&u, 6)), expected(&text));
    // No later publication claims an older version.
    let h = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": u }, "position": { "line": 0, "character": 2 } }),
    );
    assert!(h.is_ok());
    assert!(
        c.notifications
            .iter()
            .all(|n| n["method"] != "textDocument/publishDiagnostics" || n["params"]["version"] == 6),
        "{:?}",
        c.notifications
    );
    c.shutdown();
}

#[test]
fn hover_describes_roles_variables_messages_and_constraints() {
    let m = Marked::new(MARKET);
    let mut c = start();
    let u = uri("market.lcc");
    c.open(&u, &m.text);
    let hover = |c: &mut Client, at: &str| c.ok("textDocument/hover", m.params(&u, at));

    let h = hover(&mut c, "ref");
    let markdown = h["contents"]["value"].as_str().unwrap();
    assert_eq!(h["contents"]["kind"], "markdown");
    assert!(markdown.contains("role `shopkeeper`, necessary"), "{markdown}");
    assert!(markdown.contains("a(shopkeeper, S) ::"), "{markdown}");
    assert_eq!(h["range"], word(&m, "ref", "shopkeeper"));

    let h = hover(&mut c, "x");
    let markdown = h["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("X:") && markdown.contains("variable of `a(buyer, B) ::`"), "{markdown}");
    assert_eq!(h["range"], range(&m.text, m.offset("x"), m.offset("x") + 1));

    let h = hover(&mut c, "ask");
    let markdown = h["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("message `ask/1` from `buyer` to `shopkeeper`"), "{markdown}");

    let h = hover(&mut c, "want");
    assert!(h["contents"]["value"].as_str().unwrap().contains("external constraint `want/1`"), "{h}");

    let h = hover(&mut c, "member");
    assert!(h["contents"]["value"].as_str().unwrap().contains("built-in constraint"), "{h}");

    // The doc comment of a role's clause is part of its hover.
    let h = hover(&mut c, "head");
    assert!(h["contents"]["value"].as_str().unwrap().contains("role `shopkeeper`"), "{h}");
    let buyer = Marked::new(&MARKET.replace("a(buyer, B) ::", "a(«b»buyer, B) ::"));
    c.change(&u, 1, &[(range(&m.text, 0, m.text.len()), &buyer.text)]);
    let h = c.ok("textDocument/hover", buyer.params(&u, "b"));
    assert!(h["contents"]["value"].as_str().unwrap().contains("The buyer."), "{h}");

    // Nothing to say about a blank line.
    assert_eq!(
        c.ok(
            "textDocument/hover",
            json!({ "textDocument": { "uri": u }, "position": { "line": 2, "character": 0 } })
        ),
        Value::Null
    );
    c.shutdown();
}

/// The range of `word` written at marker `at`.
fn word(m: &Marked, at: &str, word: &str) -> Value {
    range(&m.text, m.offset(at), m.offset(at) + word.len())
}

#[test]
fn definition_goes_to_clauses_bindings_and_partners() {
    let m = Marked::new(MARKET);
    let mut c = start();
    let u = uri("market.lcc");
    c.open(&u, &m.text);
    let definition = |c: &mut Client, at: &str| c.ok("textDocument/definition", m.params(&u, at));

    // A role reference: the role name in its clause's head.
    let d = definition(&mut c, "ref");
    assert_eq!(d, json!([{ "uri": u, "range": word(&m, "head", "shopkeeper") }]));
    // A variable: where it is bound (the guard of the send binds X before the message goes).
    let d = definition(&mut c, "xs");
    assert_eq!(d, json!([{ "uri": u, "range": word(&m, "xs", "X") }]));
    let d = definition(&mut c, "p4");
    assert_eq!(d, json!([{ "uri": u, "range": word(&m, "p2", "P") }]), "the guard binds P before the send");
    // A message sent: where it is received.
    let d = definition(&mut c, "ask");
    assert_eq!(d, json!([{ "uri": u, "range": word(&m, "recv", "ask") }]));
    // And back.
    let d = definition(&mut c, "recv");
    assert_eq!(d, json!([{ "uri": u, "range": word(&m, "ask", "ask") }]));
    // A constraint has no definition in the model.
    assert_eq!(definition(&mut c, "want"), Value::Null);
    c.shutdown();
}

#[test]
fn references_reach_other_documents() {
    let (m, other, mut c, u, v) = market_and_visitor();
    let references = |c: &mut Client, include: bool| {
        let mut params = m.params(&u, "ref");
        params["context"] = json!({ "includeDeclaration": include });
        let mut found: Vec<(String, Value)> = c
            .ok("textDocument/references", params)
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["uri"].as_str().unwrap().to_string(), l["range"].clone()))
            .collect();
        found.sort_by_key(|(uri, r)| {
            (uri.clone(), r["start"]["line"].as_u64(), r["start"]["character"].as_u64())
        });
        found
    };
    let uses = references(&mut c, false);
    assert!(uses.contains(&(v.clone(), word(&other, "there", "shopkeeper"))), "{uses:?}");
    assert!(uses.contains(&(u.clone(), word(&m, "ref", "shopkeeper"))), "{uses:?}");
    assert!(!uses.contains(&(u.clone(), word(&m, "head", "shopkeeper"))), "no definition: {uses:?}");
    assert_eq!(uses.len(), 5, "4 agent terms in market.lcc, 1 in visitor.lcc: {uses:?}");
    let all = references(&mut c, true);
    assert!(all.contains(&(u.clone(), word(&m, "head", "shopkeeper"))), "{all:?}");
    assert!(all.contains(&(u.clone(), word(&m, "decl", "shopkeeper"))), "{all:?}");
    assert_eq!(all.len(), 7);

    // A variable's references stay in its clause.
    let mut params = m.params(&u, "p1");
    params["context"] = json!({ "includeDeclaration": true });
    let found = c.ok("textDocument/references", params);
    assert_eq!(found.as_array().unwrap().len(), 4, "{found}");
    assert!(found.as_array().unwrap().iter().all(|l| l["uri"] == u.as_str()));
    c.shutdown();
}

#[test]
fn completion_offers_roles_constraints_messages_and_snippets() {
    // One place being typed per document: the text around it is broken.
    let typing = |at: &str| {
        let source = "a(buyer, B) ::
    ask(X) => a(«role», S) <- «guard»

a(shopkeeper, S) ::
    ask(X) <= a(buyer, B) then «event»

«top»";
        let mut text = source.to_string();
        for other in ["role", "guard", "event", "top"].iter().filter(|o| **o != at) {
            let filler = match *other {
                "role" => "shopkeeper",
                "guard" => "ok(X)",
                "event" => "null",
                _ => "",
            };
            text = text.replace(&format!("«{other}»"), filler);
        }
        Marked::new(&text)
    };
    let other = "a(visitor, V) ::\n    null <- ready(V)\n";
    let mut c = start();
    c.open(&uri("visitor.lcc"), other);
    let mut version = 0;
    let mut complete = |c: &mut Client, at: &str| {
        let m = typing(at);
        let u = uri(&format!("typing-{at}.lcc"));
        c.open(&u, &m.text);
        version += 1;
        c.ok("textDocument/completion", m.params(&u, at))
    };

    let roles = labels(&complete(&mut c, "role"));
    for role in ["buyer", "shopkeeper", "visitor"] {
        assert!(roles.contains(&role.to_string()), "{role} in {roles:?}");
    }
    let guard = complete(&mut c, "guard");
    let names = labels(&guard);
    for name in ["member/2", "append/3", "ready/1", "not", "B"] {
        assert!(names.contains(&name.to_string()), "{name} in {names:?}");
    }
    let member = guard.as_array().unwrap().iter().find(|i| i["label"] == "member/2").unwrap();
    assert_eq!(member["insertTextFormat"], 2, "a snippet");
    assert_eq!(member["insertText"], "member(${1:_}, ${2:_})");

    let names = labels(&complete(&mut c, "event"));
    for name in ["then", "null", "=> a(role, Id)", "X", "S", "B"] {
        assert!(names.contains(&name.to_string()), "{name} in {names:?}");
    }
    c.shutdown();
}

#[test]
fn completion_on_a_new_line_offers_clause_snippets() {
    let mut c = start();
    for (name, source) in [
        ("empty.lcc", "«top»"),
        ("after.lcc", "a(r, I) ::\n    null\n\n«top»"),
        ("dot.lcc", "a(r, I) ::\n    null.\n\n«top»"),
        ("middle.lcc", "a(r, I) ::\n    null\n\n«top»\n\na(s, J) ::\n    null\n"),
    ] {
        let m = Marked::new(source);
        let u = uri(name);
        c.open(&u, &m.text);
        let names = labels(&c.ok("textDocument/completion", m.params(&u, "top")));
        assert!(names.contains(&"a(role, Id) ::".to_string()), "{name}: {names:?}");
        assert!(names.contains(&"r(role, kind)".to_string()), "{name}: {names:?}");
        assert!(!names.contains(&"then".to_string()), "{name}: {names:?}");
    }
    c.shutdown();
}

#[test]
fn completion_at_a_peer_id_offers_variables_only() {
    let m = Marked::new(
        "a(buyer, B) ::\n    ask(X) => a(shop, «id»)\n\na(shop, S) ::\n    ask(X) <= a(buyer, B)\n",
    );
    let mut c = start();
    let u = uri("id.lcc");
    c.open(&u, &m.text);
    let items = c.ok("textDocument/completion", m.params(&u, "id"));
    let items = items.as_array().unwrap();
    assert!(labels(&json!(items)).contains(&"B".to_string()), "{items:?}");
    assert!(items.iter().all(|i| i["kind"] == 6), "variables only: {items:?}");
    c.shutdown();
}

#[test]
fn completion_in_a_guard_being_typed_offers_its_variables() {
    let m = Marked::new(
        "a(buyer, B) ::\n    ask(X) => a(shop, S) <- «guard»\n\na(shop, S) ::\n    ask(X) <= a(buyer, B)\n",
    );
    let mut c = start();
    let u = uri("guard.lcc");
    c.open(&u, &m.text);
    let names = labels(&c.ok("textDocument/completion", m.params(&u, "guard")));
    for name in ["X", "B", "S", "member/2"] {
        assert!(names.contains(&name.to_string()), "{name} in {names:?}");
    }
    c.shutdown();
}

#[test]
fn completion_offers_the_messages_a_role_accepts() {
    let m = Marked::new(
        "a(buyer, B) ::
    ask(X) => a(shopkeeper, S) then
    «send» => a(shopkeeper, S)

a(shopkeeper, S) ::
    ask(X) <= a(buyer, B) then
    pay(M) <= a(buyer, B) then
    receipt => a(buyer, B)
",
    );
    let mut c = start();
    let u = uri("messages.lcc");
    c.open(&u, &m.text);
    let names = labels(&c.ok("textDocument/completion", m.params(&u, "send")));
    assert!(names.contains(&"ask/1".to_string()) && names.contains(&"pay/1".to_string()), "{names:?}");
    assert!(!names.contains(&"receipt/0".to_string()), "the shopkeeper does not receive receipt: {names:?}");
    c.shutdown();
}

#[test]
fn signature_help_shows_the_clause_heads_of_a_role() {
    let m = Marked::new(
        "a(buyer, B) ::
    a(seller(«a0»Items, «a1»3), «id»B)

/** Sells what it has. */
a(seller(Stock, Price), S) ::
    null
",
    );
    let mut c = start();
    let u = uri("sig.lcc");
    c.open(&u, &m.text);
    let help = c.ok("textDocument/signatureHelp", m.params(&u, "a0"));
    let signature = &help["signatures"][0];
    let label = signature["label"].as_str().unwrap();
    assert_eq!(label, "a(seller(Stock, Price), S)");
    assert_eq!(signature["documentation"], "Sells what it has.");
    let parameters: Vec<&str> = signature["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let [a, b] = [p["label"][0].as_u64().unwrap() as usize, p["label"][1].as_u64().unwrap() as usize];
            &label[a..b] // ASCII label: UTF-16 offsets are byte offsets
        })
        .collect();
    assert_eq!(parameters, ["Stock", "Price", "S"]);
    assert_eq!(help["activeParameter"], 0);
    assert_eq!(c.ok("textDocument/signatureHelp", m.params(&u, "a1"))["activeParameter"], 1);
    assert_eq!(c.ok("textDocument/signatureHelp", m.params(&u, "id"))["activeParameter"], 2);
    // Outside an agent term: nothing.
    let outside = json!({ "textDocument": { "uri": u }, "position": { "line": 5, "character": 5 } });
    assert_eq!(c.ok("textDocument/signatureHelp", outside), Value::Null);
    c.shutdown();
}

#[test]
fn rename_variables_and_roles() {
    let (m, other, mut c, u, v) = market_and_visitor();

    // prepareRename: the name under the cursor, for roles and variables only.
    assert_eq!(c.ok("textDocument/prepareRename", m.params(&u, "p1")), word(&m, "p1", "P"));
    assert_eq!(c.ok("textDocument/prepareRename", m.params(&u, "ref")), word(&m, "ref", "shopkeeper"));
    let refused = c.request("textDocument/prepareRename", m.params(&u, "ask")).expect_err("a message");
    assert!(refused["message"].as_str().unwrap().contains("only roles and variables"), "{refused}");

    // A variable: every occurrence in its clause, nowhere else.
    let mut params = m.params(&u, "p4");
    params["newName"] = json!("Price");
    let edit = c.ok("textDocument/rename", params);
    let edits = edit["changes"][u.as_str()].as_array().unwrap().clone();
    assert_eq!(edits.len(), 4, "{edit}");
    let renamed = apply_edits(&m.text, &edits);
    let (buyer, shopkeeper) = renamed.split_at(renamed.find("a(shopkeeper, S) ::").unwrap());
    assert!(
        buyer.contains("price(X, P)") && !shopkeeper.contains(" P)") && shopkeeper.contains("sold(X, Price)"),
        "{renamed}"
    );
    assert_eq!(expected(&renamed), expected(&m.text), "a rename changes no diagnostic");

    // A role: in every document.
    let mut params = m.params(&u, "ref");
    params["newName"] = json!("shop");
    let edit = c.ok("textDocument/rename", params);
    let here = apply_edits(&m.text, edit["changes"][u.as_str()].as_array().unwrap());
    let there = apply_edits(&other.text, edit["changes"][v.as_str()].as_array().unwrap());
    assert!(
        !here.contains("shopkeeper") && here.contains("a(shop, S) ::") && here.contains("r(shop, necessary"),
        "{here}"
    );
    assert_eq!(there, "a(visitor, V) ::\n    hello => a(shop, S)\n");

    // Names that are not names of the kind: an error, nothing renamed.
    for (at, name) in [("p4", "price"), ("p4", "B"), ("ref", "Shop"), ("ref", "two words"), ("ask", "tell")] {
        let mut params = m.params(&u, at);
        params["newName"] = json!(name);
        let error = c.request("textDocument/rename", params).expect_err(name);
        assert_eq!(error["code"], -32602, "{error}");
    }
    c.shutdown();
}

#[test]
fn formatting_whole_documents_and_ranges() {
    let messy = "r(buyer,initial)
a(buyer,B)::ask(X)=>a(shop,S)<-want(X)
a(shop,S)::ask(X)<=a(buyer,B)
";
    let formatted = lcc_syntax::format::format_source(messy).unwrap();
    assert_ne!(formatted, messy);
    let mut c = start();
    let u = uri("messy.lcc");
    c.open(&u, messy);
    let options = json!({ "tabSize": 4, "insertSpaces": true });
    let edits = c.ok("textDocument/formatting", json!({ "textDocument": { "uri": u }, "options": options }));
    assert_eq!(apply_edits(messy, edits.as_array().unwrap()), formatted);

    // The range of the second clause: that clause only.
    let second = messy.find("a(buyer").unwrap();
    let params = json!({ "textDocument": { "uri": u }, "range": range(messy, second + 3, second + 5), "options": options });
    let edits = c.ok("textDocument/rangeFormatting", params);
    let result = apply_edits(messy, edits.as_array().unwrap());
    assert!(result.starts_with("r(buyer,initial)\n"), "{result}");
    assert!(result.ends_with("a(shop,S)::ask(X)<=a(buyer,B)\n"), "{result}");
    assert!(result.contains("a(buyer, B) ::\n"), "{result}");

    // Formatted text: no edit. Text with syntax errors: not formatted (null).
    c.change(&u, 1, &[(range(messy, 0, messy.len()), &formatted)]);
    assert_eq!(
        c.ok("textDocument/formatting", json!({ "textDocument": { "uri": u }, "options": options })),
        json!([])
    );
    c.change(&u, 2, &[(range(&formatted, 0, 0), "a(( ")]);
    assert_eq!(
        c.ok("textDocument/formatting", json!({ "textDocument": { "uri": u }, "options": options })),
        Value::Null
    );
    c.shutdown();
}

#[test]
fn code_actions_apply_the_fixes_of_diagnostics() {
    let m = Marked::new(
        "r(buyer, initial).

a(buyer, B) ::
    ask(X) => a(«role»shopkeper, S) <- want(X) then
    price(X, «p»P) <= a(shopkeeper, S)

a(«head»shopkeeper, S) ::
    ask(X) <= a(buyer, B) then
    price(X, 3) => a(buyer, B)
",
    );
    let mut c = start();
    let u = uri("fix.lcc");
    c.open(&u, &m.text);
    let diagnostics = c.diagnostics(&u, 0);
    let codes: Vec<String> = published(&diagnostics).into_iter().map(|(code, _)| code).collect();
    for code in ["W0101", "E0101", "W0108"] {
        assert!(codes.contains(&code.to_string()), "{code} in {codes:?}");
    }
    let actions = |c: &mut Client, from: usize, to: usize| {
        let params = json!({
            "textDocument": { "uri": u },
            "range": range(&m.text, from, to),
            "context": { "diagnostics": diagnostics },
        });
        c.ok("textDocument/codeAction", params).as_array().unwrap().clone()
    };
    let find = |actions: &[Value], title: &str| {
        actions
            .iter()
            .find(|a| a["title"] == title)
            .unwrap_or_else(|| panic!("no «{title}» in {actions:?}"))
            .clone()
    };

    // The singleton variable: rename it to _P.
    let here = actions(&mut c, m.offset("p"), m.offset("p") + 1);
    let fix = find(&here, "rename it to `_P`");
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], "W0101");
    let text = apply_edits(&m.text, fix["edit"]["changes"][u.as_str()].as_array().unwrap());
    assert!(text.contains("price(X, _P)"), "{text}");
    assert!(expected(&text).iter().all(|(code, _)| code != "W0101"));

    // The misspelt role: the defined one.
    let here = actions(&mut c, m.offset("role"), m.offset("role"));
    let fix = find(&here, "rename to `shopkeeper`");
    let text = apply_edits(&m.text, fix["edit"]["changes"][u.as_str()].as_array().unwrap());
    assert!(text.contains("ask(X) => a(shopkeeper, S)"), "{text}");
    assert!(expected(&text).iter().all(|(code, _)| code != "E0101"));

    // The undeclared role: declared.
    let here = actions(&mut c, m.offset("head"), m.offset("head") + 3);
    let fix = find(&here, "declare `shopkeeper` as auxiliary");
    let text = apply_edits(&m.text, fix["edit"]["changes"][u.as_str()].as_array().unwrap());
    assert!(text.contains("r(shopkeeper, auxiliary)"), "{text}");
    assert!(expected(&text).iter().all(|(code, _)| code != "W0108"), "{text}");

    // Where no diagnostic is, no action.
    assert_eq!(actions(&mut c, 0, 1), Vec::<Value>::new());
    c.shutdown();
}

/// Files created, changed or deleted on disk reach the server through the client's watcher;
/// an open document keeps the editor's text.
#[test]
fn files_changed_on_disk_are_reloaded() {
    let dir = tempdir("watched");
    std::fs::write(dir.join("seller.lcc"), "a(seller(Stock), S) ::\n    null\n").unwrap();
    let mut c = Client::start(Some(&dir), json!({ "diagnosticsDelayMs": 0 }));
    let names = |c: &mut Client| -> Vec<String> {
        let all = c.ok("workspace/symbol", json!({ "query": "" }));
        let mut names: Vec<String> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["containerName"].as_str().unwrap().to_string())
            .collect();
        names.sort_unstable();
        names
    };
    assert_eq!(names(&mut c), ["seller"]);
    std::fs::write(dir.join("courier.lcc"), "a(courier, C) ::\n    null\n").unwrap();
    std::fs::write(dir.join("seller.lcc"), "a(vendor, S) ::\n    null\n").unwrap();
    let changes = json!({ "changes": [
        { "uri": file_uri(&dir.join("courier.lcc")), "type": 1 },
        { "uri": file_uri(&dir.join("seller.lcc")), "type": 2 },
    ] });
    c.notify("workspace/didChangeWatchedFiles", changes);
    assert_eq!(names(&mut c), ["courier", "vendor"]);
    std::fs::remove_file(dir.join("courier.lcc")).unwrap();
    let deleted = json!({ "changes": [{ "uri": file_uri(&dir.join("courier.lcc")), "type": 3 }] });
    c.notify("workspace/didChangeWatchedFiles", deleted);
    assert_eq!(names(&mut c), ["vendor"]);
    c.shutdown();
}

#[test]
fn document_and_workspace_symbols() {
    let dir = tempdir("symbols");
    std::fs::write(dir.join("seller.lcc"), "a(seller(Stock), S) ::\n    null\n").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/auction.lcc"),
        "a(auctioneer, A) ::\n    null\n\na(bidder, B) ::\n    null\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("target")).unwrap();
    std::fs::write(dir.join("target/ignored.lcc"), "a(ignored, I) ::\n    null\n").unwrap();
    let mut c = Client::start(Some(&dir), json!({ "diagnosticsDelayMs": 0 }));
    c.wait_notification("the workspace log line", |n| {
        n["method"] == "window/logMessage"
            && n["params"]["message"].as_str().unwrap().contains("2 model file(s)")
    });

    let m = Marked::new(MARKET);
    let u = uri("market.lcc");
    c.open(&u, &m.text);
    let symbols = c.ok("textDocument/documentSymbol", doc(&u));
    let roles: Vec<(&str, u64)> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["kind"].as_u64().unwrap()))
        .collect();
    assert_eq!(roles, [("buyer", 5), ("shopkeeper", 5)]);
    let shopkeeper = &symbols[1];
    assert_eq!(shopkeeper["detail"], "r(shopkeeper, necessary, 1, 1)");
    assert_eq!(shopkeeper["children"][0]["name"], "a(shopkeeper, S)");
    assert_eq!(shopkeeper["children"][0]["range"]["end"], m.at("end"));
    assert_eq!(shopkeeper["children"][0]["selectionRange"]["start"], position(&m.text, m.offset("head") - 2));

    // The files on disk are searched too (not the build directory), and open documents.
    let found = c.ok("workspace/symbol", json!({ "query": "sel" }));
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["name"], "a(seller(Stock), S)");
    assert_eq!(found[0]["containerName"], "seller");
    assert_eq!(found[0]["location"]["uri"], file_uri(&dir.join("seller.lcc")));
    let all = c.ok("workspace/symbol", json!({ "query": "" }));
    let mut names: Vec<&str> =
        all.as_array().unwrap().iter().map(|s| s["containerName"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["auctioneer", "bidder", "buyer", "seller", "shopkeeper"]);

    // Go to definition and references work in files on disk without opening them; an opened
    // file's text wins over the disk until it is closed.
    let disk = file_uri(&dir.join("seller.lcc"));
    let at = json!({ "textDocument": { "uri": disk }, "position": { "line": 0, "character": 4 } });
    assert!(
        c.ok("textDocument/hover", at.clone())["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("role `seller`")
    );
    c.open(&disk, "a(vendor, S) ::\n    null\n");
    assert!(
        c.ok("textDocument/hover", at.clone())["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("role `vendor`")
    );
    c.notify("textDocument/didClose", doc(&disk));
    assert!(c.ok("textDocument/hover", at)["contents"]["value"].as_str().unwrap().contains("role `seller`"));
    c.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

pub fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lcc-lsp-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Semantic tokens, decoded: (line, character, length, type, modifiers).
pub fn decode_tokens(data: &Value) -> Vec<(u64, u64, u64, u64, u64)> {
    let data: Vec<u64> = data["data"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
    assert_eq!(data.len() % 5, 0);
    let (mut line, mut character) = (0, 0);
    data.chunks(5)
        .map(|t| {
            if t[0] > 0 {
                character = 0;
            }
            line += t[0];
            character += t[1];
            (line, character, t[2], t[3], t[4])
        })
        .collect()
}

#[test]
fn semantic_tokens_classify_names() {
    let m = Marked::new(
        "// A comment: é 😀
«r»r(buyer, initial).

/* A block
   comment */
a(«head»buyer, «b»B) ::
    «ask»ask(X) => a(«ref»shop, S) <- «want»want(X) and «member»member(X, [1]) «then»then
    a(buyer, B)

a(shop, S) ::
    ask(X) <= a(buyer, B)
",
    );
    let mut c = start();
    let u = uri("tokens.lcc");
    c.open(&u, &m.text);
    let legend: Vec<String> = c.capabilities["semanticTokensProvider"]["legend"]["tokenTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let modifiers: Vec<String> = c.capabilities["semanticTokensProvider"]["legend"]["tokenModifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let tokens = decode_tokens(&c.ok("textDocument/semanticTokens/full", doc(&u)));
    let at = |name: &str| {
        let p = m.at(name);
        let (line, character) = (p["line"].as_u64().unwrap(), p["character"].as_u64().unwrap());
        let t = tokens
            .iter()
            .find(|t| t.0 == line && t.1 == character)
            .unwrap_or_else(|| panic!("no token at «{name}»: {tokens:?}"));
        let mods: Vec<&str> =
            (0..modifiers.len()).filter(|i| t.4 & (1 << i) != 0).map(|i| modifiers[i].as_str()).collect();
        (legend[t.3 as usize].as_str(), t.2, mods)
    };
    assert_eq!(at("r"), ("keyword", 1, vec![]));
    assert_eq!(at("head"), ("type", 5, vec!["declaration"]));
    assert_eq!(at("b").0, "variable");
    assert_eq!(at("ask"), ("function", 3, vec![]));
    assert_eq!(at("ref").0, "type");
    assert_eq!(at("want").0, "method");
    assert_eq!(at("member"), ("method", 6, vec!["defaultLibrary"]));
    assert_eq!(at("then").0, "keyword");
    // The comments: the first line's length in UTF-16 units; the block comment line by line.
    let comments: Vec<_> = tokens.iter().filter(|t| legend[t.3 as usize] == "comment").collect();
    assert_eq!(comments.len(), 3, "{comments:?}");
    assert_eq!(comments[0].2, "// A comment: é 😀".encode_utf16().count() as u64);
    assert_eq!((comments[1].0, comments[2].0), (3, 4));
    // Tokens are in order and never overlap.
    for pair in tokens.windows(2) {
        assert!(pair[0].0 < pair[1].0 || pair[0].1 + pair[0].2 <= pair[1].1, "{pair:?}");
    }
    c.shutdown();
}

#[test]
fn crlf_documents() {
    let m = Marked::new(&MARKET.replace('\n', "\r\n"));
    let mut c = start();
    let u = uri("crlf.lcc");
    c.open(&u, &m.text);
    assert_eq!(published(&c.diagnostics(&u, 0)), expected(&m.text));
    let h = c.ok("textDocument/hover", m.params(&u, "ref"));
    assert_eq!(h["range"], word(&m, "ref", "shopkeeper"));
    // A position past the end of a line is before its \r\n: the insertion keeps the pair.
    let line = m.at("want")["line"].as_u64().unwrap();
    let past =
        json!({ "start": { "line": line, "character": 500 }, "end": { "line": line, "character": 900 } });
    c.change(&u, 1, &[(past, " // noted")]);
    let mut text = m.text.clone();
    let end = offset(&text, line, 500);
    assert_eq!(&text[end..end + 2], "\r\n");
    text.insert_str(end, " // noted");
    assert_eq!(published(&c.diagnostics(&u, 1)), expected(&text));
    let edits = c.ok(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": u }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    let formatted = lcc_syntax::format::format_source(&text).unwrap();
    assert_eq!(apply_edits(&text, edits.as_array().unwrap()), formatted);
    c.shutdown();
}
