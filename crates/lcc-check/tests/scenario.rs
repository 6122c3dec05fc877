#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]
//! Verification scenarios: `--peers`, `--assume` and the scenario file.

use lcc_check::mc::scenario::{
    Behaviour, Bounds, BoundsOverride, ConstraintRule, PeerSpec, Scenario, parse_assume, parse_peers,
    parse_scenario_file, scenario_file_for,
};
use lcc_check::mc::value::Value;
use std::path::Path;

fn atom(name: &str) -> Value {
    Value::atom(name)
}

fn peer(role: Value, id: &str) -> PeerSpec {
    PeerSpec { role, id: atom(id) }
}

fn rule(name: &str, arity: usize, behaviour: Behaviour) -> ConstraintRule {
    ConstraintRule { name: name.into(), arity, behaviour }
}

/// The text at a `--peers`/`--assume` error offset, and the message.
fn value_err<T: std::fmt::Debug>(
    text: &str,
    result: Result<T, lcc_check::mc::value::ValueError>,
) -> (String, String) {
    let e = result.expect_err("expected an error");
    (text[e.offset..].to_string(), e.message)
}

/// The text under a scenario file error, its message and its help.
fn file_err(text: &str) -> (String, String, Option<String>) {
    let e = parse_scenario_file(text).expect_err("expected an error");
    (text[e.span.clone()].to_string(), e.message, e.help)
}

fn only(text: &str) -> Scenario {
    let mut scenarios = parse_scenario_file(text).unwrap();
    assert_eq!(scenarios.len(), 1);
    scenarios.pop().unwrap()
}

// ---------------------------------------------------------------------------------------------
// --peers

#[test]
fn peers_good() {
    let peers = parse_peers(" a(idle, h1), a(overloaded(3), 'h 2') ,a(x, \"s\"), a(y, 7)").unwrap();
    assert_eq!(
        peers,
        vec![
            peer(atom("idle"), "h1"),
            PeerSpec { role: Value::Compound("overloaded".into(), vec![Value::Int(3)]), id: atom("h 2") },
            PeerSpec { role: atom("x"), id: Value::Str("s".into()) },
            PeerSpec { role: atom("y"), id: Value::Int(7) },
        ]
    );
    let shown: Vec<String> = peers.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["a(idle, h1)", "a(overloaded(3), 'h 2')", "a(x, \"s\")", "a(y, 7)"]);
}

#[test]
fn peers_errors() {
    let cases = [
        ("", "", "expected a peer `a(Role, Id)`"),
        ("   ", "", "expected a peer `a(Role, Id)`"),
        ("b(idle, h1)", "b(idle, h1)", "expected a peer `a(Role, Id)`"),
        ("ab(idle, h1)", "ab(idle, h1)", "expected a peer `a(Role, Id)`"),
        ("a(idle, H)", "H)", "the peer id must be a constant (atom, string or number), not a variable"),
        ("a(idle, _)", "_)", "the peer id must be a constant (atom, string or number), not a variable"),
        ("a(idle, f(x))", "f(x))", "the peer id must be a constant (atom, string or number)"),
        ("a(idle)", ")", "expected `,` and the peer id"),
        ("a(idle, h1, h2)", ", h2)", "expected `)` after the peer id"),
        ("a(idle, h1) a(idle, h2)", "a(idle, h2)", "expected `,` and another peer, or the end of the list"),
        ("a(idle, h1),", "", "expected a peer `a(Role, Id)`"),
        ("a(Role, h1)", "Role, h1)", "expected a role: an atom or compound term (`idle`, `overloaded(3)`)"),
        ("a(busy(N), h1)", "busy(N), h1)", "the role must be ground: write '?' for an abstract argument"),
        ("a(idle, h1), a(busy, h1)", "h1)", "peer id `h1` is used twice (first by `a(idle, h1)`)"),
        ("a(idle, 'h1)", "'h1)", "unclosed quote"),
    ];
    for (text, at, message) in cases {
        assert_eq!(value_err(text, parse_peers(text)), (at.to_string(), message.to_string()), "{text:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// --assume

#[test]
fn assume_good() {
    let cases = [
        ("canMigrate/2=true", rule("canMigrate", 2, Behaviour::Succeeds)),
        ("canMigrate/2=succeeds", rule("canMigrate", 2, Behaviour::Succeeds)),
        (" canMigrate / 2 = false ", rule("canMigrate", 2, Behaviour::Fails)),
        ("ready/0=fails", rule("ready", 0, Behaviour::Fails)),
        ("getPeerState/1=any", rule("getPeerState", 1, Behaviour::Any)),
        ("'odd name'/3=any", rule("odd name", 3, Behaviour::Any)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_assume(text).unwrap(), expected, "{text:?}");
    }
    assert_eq!(rule("canMigrate", 2, Behaviour::Any).to_string(), "canMigrate/2=any");
    let table = Behaviour::Table(vec![vec![atom("high")], vec![atom("low")]]);
    assert_eq!(rule("getPeerState", 1, table).to_string(), "getPeerState/1=[[high], [low]]");
}

#[test]
fn assume_errors() {
    let cases = [
        (
            "canMigrate/2",
            "",
            "expected `=` and a behaviour (true, false or any) after `name/arity`, as in `canMigrate/2=true`",
        ),
        (
            "canMigrate=true",
            "=true",
            "expected `/` and the arity after the constraint name, as in `canMigrate/2`",
        ),
        ("canMigrate/two=true", "two=true", "the arity must be a non-negative integer, as in `canMigrate/2`"),
        ("canMigrate/-1=true", "-1=true", "the arity must be a non-negative integer, as in `canMigrate/2`"),
        ("canMigrate/=true", "=true", "the arity must be a non-negative integer, as in `canMigrate/2`"),
        ("/2=true", "/2=true", "expected a constraint name (an atom) before `/`, as in `canMigrate/2`"),
        ("Can/2=true", "Can/2=true", "expected a constraint name (an atom) before `/`, as in `canMigrate/2`"),
        (
            "canMigrate/2= maybe",
            "maybe",
            "unknown behaviour `maybe`: expected true, false or any (or succeeds, fails)",
        ),
        ("canMigrate/2=", "", "expected a behaviour after `=`: true, false or any"),
    ];
    for (text, at, message) in cases {
        assert_eq!(value_err(text, parse_assume(text)), (at.to_string(), message.to_string()), "{text:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bounds

#[test]
fn bounds_default_and_apply() {
    let default = Bounds::default();
    assert_eq!(default, Bounds { states: 20_000_000, depth: None, mailbox: 8, recursion: 64 });
    let over = BoundsOverride { depth: Some(5), mailbox: Some(2), ..BoundsOverride::default() };
    assert_eq!(
        default.apply(&over),
        Bounds { states: 20_000_000, depth: Some(5), mailbox: 2, recursion: 64 }
    );
    assert_eq!(default.apply(&BoundsOverride::default()), default);
}

#[test]
fn scenario_file_path() {
    assert_eq!(
        scenario_file_for(Path::new("m/balance_slides.lcc")),
        Path::new("m/balance_slides.verify.toml")
    );
    assert_eq!(scenario_file_for(Path::new("model")), Path::new("model.verify.toml"));
}

// ---------------------------------------------------------------------------------------------
// The scenario file

const EXAMPLE: &str = r#"
# defaults for every scenario
properties = ["deadlock-free"]
[bounds]
mailbox = 4
[constraints]
"canMigrate/2" = "any"
"getPeerState/1" = { solutions = [["high"], ["low"]] }
"place/3" = { solutions = [["h1", 2, "load(3)"], ["'?'", 2.5, ["a", true]]] }

[[scenario]]
name = "two-hosts"
peers = ["a(idle, h1)", "a(idle, h2)"]
properties = ["deadlock-free", "terminates"]
[scenario.constraints]
"canMigrate/2" = true
"ready/0" = false
[scenario.bounds]
states = 1_000_000
depth = 200
recursion = 16

[[scenario]]
name = "one string"
peers = "a(overloaded(3), h1), a(idle, h2)"
[scenario.constraints]
"getPeerState/1" = { solutions = ["high", "_"] }
"#;

#[test]
fn file_example_with_defaults_merged() {
    let scenarios = parse_scenario_file(EXAMPLE).unwrap();
    assert_eq!(scenarios.len(), 2);
    let get_state = Behaviour::Table(vec![vec![atom("high")], vec![atom("low")]]);
    let place = Behaviour::Table(vec![
        vec![atom("h1"), Value::Int(2), Value::Compound("load".into(), vec![Value::Int(3)])],
        vec![atom("?"), Value::Float(2.5), Value::List(vec![atom("a"), atom("true")])],
    ]);

    let two = &scenarios[0];
    assert_eq!(two.name, "two-hosts");
    assert_eq!(two.peers, vec![peer(atom("idle"), "h1"), peer(atom("idle"), "h2")]);
    assert_eq!(two.properties, ["deadlock-free", "terminates"]);
    assert_eq!(
        two.constraints,
        vec![
            rule("canMigrate", 2, Behaviour::Succeeds),
            rule("getPeerState", 1, get_state.clone()),
            rule("place", 3, place.clone()),
            rule("ready", 0, Behaviour::Fails),
        ]
    );
    assert_eq!(two.bounds, Bounds { states: 1_000_000, depth: Some(200), mailbox: 4, recursion: 16 });
    assert_eq!(two.behaviour("canMigrate", 2), Some(&Behaviour::Succeeds));
    assert_eq!(two.behaviour("canMigrate", 3), None);

    let one = &scenarios[1];
    assert_eq!(one.name, "one string");
    let overloaded = Value::Compound("overloaded".into(), vec![Value::Int(3)]);
    assert_eq!(one.peers, vec![peer(overloaded, "h1"), peer(atom("idle"), "h2")]);
    assert_eq!(one.properties, ["deadlock-free"]);
    assert_eq!(
        one.constraints,
        vec![
            rule("canMigrate", 2, Behaviour::Any),
            rule("getPeerState", 1, Behaviour::Table(vec![vec![atom("high")], vec![Value::Unbound]])),
            rule("place", 3, place),
        ]
    );
    assert_eq!(one.bounds, Bounds { mailbox: 4, ..Bounds::default() });
}

#[test]
fn file_minimal_and_other_forms() {
    let s = only("[[scenario]]\nname = \"x\"\npeers = [\"a(r, p1)\"]\n");
    assert_eq!(s.peers, vec![peer(atom("r"), "p1")]);
    assert!(s.constraints.is_empty() && s.properties.is_empty());
    assert_eq!(s.bounds, Bounds::default());

    // Inline tables, booleans and word synonyms, a single property string, an empty table.
    let s = only(
        "scenario = [{ name = 'x', peers = ['a(r, p1), a(r, p2)', 'a(s, p3)'], properties = 'no-orphans', \
         constraints = { \"a/1\" = \"succeeds\", \"b/1\" = \"fails\", \"c/1\" = false, \"d/0\" = { solutions = [] } } }]",
    );
    assert_eq!(s.peers.len(), 3);
    assert_eq!(s.properties, ["no-orphans"]);
    assert_eq!(
        s.constraints,
        vec![
            rule("a", 1, Behaviour::Succeeds),
            rule("b", 1, Behaviour::Fails),
            rule("c", 1, Behaviour::Fails),
            rule("d", 0, Behaviour::Table(vec![])),
        ]
    );

    // A scenario can give its constraint to the command line: --assume replaces it.
    let mut s =
        only("[[scenario]]\nname = \"x\"\npeers = \"a(r, p)\"\n[scenario.constraints]\n\"c/2\" = \"any\"\n");
    s.assume(parse_assume("c/2=false").unwrap());
    s.assume(parse_assume("d/1=true").unwrap());
    assert_eq!(s.constraints, vec![rule("c", 2, Behaviour::Fails), rule("d", 1, Behaviour::Succeeds)]);
}

const HEAD: &str = "[[scenario]]\nname = \"s\"\npeers = [\"a(r, p)\"]\n";

/// A file made of the minimal scenario followed by `rest`.
fn with(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

#[test]
fn file_syntax_errors() {
    assert_eq!(file_err("a = \"x\nb = 1\n").1, "invalid basic string, expected `\"`");
    let (at, message, _) = file_err("[bounds]\nmailbox = 1\nmailbox = 2\n");
    assert_eq!((at.as_str(), message.as_str()), ("mailbox", "duplicate key"));
}

#[test]
fn file_without_scenarios() {
    let (at, message, help) = file_err("[bounds]\nmailbox = 4\n");
    assert_eq!((at.as_str(), message.as_str()), ("", "the file has no scenario"));
    assert!(help.unwrap().contains("[[scenario]]\nname = "));
    let (at, message, _) = file_err("");
    assert_eq!((at.as_str(), message.as_str()), ("", "the file has no scenario"));
    let (at, message, _) = file_err("scenario = []\n");
    assert_eq!((at.as_str(), message.as_str()), ("[]", "the file has no scenario"));
    let (at, message, help) = file_err("[scenario]\nname = \"x\"\n");
    assert_eq!((at.as_str(), message.as_str()), ("[scenario]", "`scenario` must be an array of tables"));
    assert_eq!(help.unwrap(), "start each scenario with a [[scenario]] line (two brackets)");
}

#[test]
fn file_unknown_keys() {
    let cases = [
        (
            "[bound]\nmailbox = 1\n".to_string(),
            "bound",
            "unknown key `bound` in the scenario file",
            "did you mean `bounds`? The keys here are `bounds`, `constraints`, `properties`, `scenario`",
        ),
        (
            "peers = [\"a(r, p)\"]\n".to_string(),
            "peers",
            "unknown key `peers` in the scenario file",
            "`peers` belongs to a scenario: put it after a [[scenario]] line",
        ),
        (
            "\"c/1\" = true\n".to_string(),
            "\"c/1\"",
            "unknown key `c/1` in the scenario file",
            "constraints go in a [constraints] table",
        ),
        (
            with("propertie = []\n"),
            "propertie",
            "unknown key `propertie` in a scenario",
            "did you mean `properties`? The keys here are `name`, `peers`, `properties`, `constraints`, `bounds`",
        ),
        (
            with("mailbox = 3\n"),
            "mailbox",
            "unknown key `mailbox` in a scenario",
            "bounds go in a [scenario.bounds] table",
        ),
        (
            with("[scenario.bounds]\nmailboxes = 3\n"),
            "mailboxes",
            "unknown key `mailboxes` in `bounds`",
            "did you mean `mailbox`? The keys here are `states`, `depth`, `mailbox`, `recursion`",
        ),
        (
            with("[scenario.bounds]\ntimeout = 3\n"),
            "timeout",
            "unknown key `timeout` in `bounds`",
            "the keys here are `states`, `depth`, `mailbox`, `recursion`",
        ),
        (
            "[constraints]\n\"c/1\" = { solution = [] }\n".to_string() + HEAD,
            "solution",
            "unknown key `solution` in the table of `c/1`",
            "did you mean `solutions`? The keys here are `solutions`",
        ),
    ];
    for (text, at, message, help) in cases {
        let got = file_err(&text);
        assert_eq!(got, (at.to_string(), message.to_string(), Some(help.to_string())), "{text}");
    }
}

#[test]
fn file_value_errors() {
    let cases: Vec<(String, &str, &str)> = vec![
        // Types.
        ("bounds = 3\n".to_string() + HEAD, "3", "`bounds` must be a table, not an integer"),
        (
            with("[scenario.bounds]\nstates = \"many\"\n"),
            "\"many\"",
            "`states` must be a positive integer, not a string",
        ),
        (with("[scenario.bounds]\ndepth = 1.5\n"), "1.5", "`depth` must be a positive integer, not a float"),
        (
            with("properties = 3\n"),
            "3",
            "`properties` must be an array of strings such as [\"deadlock-free\"], not an integer",
        ),
        (with("properties = [\"terminates\", 3]\n"), "3", "a property must be a string, not an integer"),
        (with("properties = [\" \"]\n"), "\" \"", "a property must not be empty"),
        (
            "[[scenario]]\nname = 1\npeers = \"a(r, p)\"\n".to_string(),
            "1",
            "a scenario's name must be a string, not an integer",
        ),
        (
            "[[scenario]]\nname = \"\"\npeers = \"a(r, p)\"\n".to_string(),
            "\"\"",
            "a scenario's name must not be empty",
        ),
        (
            "[[scenario]]\nname = \"s\"\npeers = 2\n".to_string(),
            "2",
            "`peers` must be an array of strings such as \"a(idle, h1)\", not an integer",
        ),
        (
            "[[scenario]]\nname = \"s\"\npeers = [\"a(r, p)\", 2]\n".to_string(),
            "2",
            "a peer must be a string such as \"a(idle, h1)\", not an integer",
        ),
        ("scenario = [3]\n".to_string(), "3", "a scenario must be a table, not an integer"),
        // Bounds out of range.
        (with("[scenario.bounds]\nmailbox = 0\n"), "0", "`mailbox` must be at least 1"),
        (with("[scenario.bounds]\nstates = -5\n"), "-5", "`states` must be at least 1"),
        (
            with("[scenario.bounds]\nrecursion = 4294967296\n"),
            "4294967296",
            "`recursion` is too large (at most 4294967295)",
        ),
        (with("[scenario.bounds]\ndepth = 0x0\n"), "0x0", "`depth` must be at least 1"),
        // Constraints.
        (
            with("[scenario.constraints]\ncanMigrate = true\n"),
            "canMigrate",
            "`canMigrate` is not a constraint `name/arity`: expected `/` and the arity after the constraint name, as in `canMigrate/2`",
        ),
        (
            with("[scenario.constraints]\n\"canMigrate/x\" = true\n"),
            "\"canMigrate/x\"",
            "`canMigrate/x` is not a constraint `name/arity`: the arity must be a non-negative integer, as in `canMigrate/2`",
        ),
        (
            with("[scenario.constraints]\n\"c/1\" = true\n\"c / 1\" = false\n"),
            "\"c / 1\"",
            "constraint `c/1` is given twice",
        ),
        (
            with("[scenario.constraints]\n\"c/1\" = \"maybe\"\n"),
            "\"maybe\"",
            "unknown behaviour `maybe` for `c/1`",
        ),
        (
            with("[scenario.constraints]\n\"c/1\" = 1\n"),
            "1",
            "the behaviour of `c/1` must be a string, a boolean or a table, not an integer",
        ),
        (with("[scenario.constraints]\n\"c/1\" = {}\n"), "{}", "the table of `c/1` has no `solutions`"),
        (
            with("[scenario.constraints]\n\"c/1\" = { solutions = \"x\" }\n"),
            "\"x\"",
            "`solutions` must be an array of rows of arguments, not a string",
        ),
        (
            with("[scenario.constraints]\n\"c/2\" = { solutions = [[\"a\", \"b\"], [\"a\"]] }\n"),
            "[\"a\"]",
            "this solution has 1 argument, but `c/2` takes 2",
        ),
        (
            with("[scenario.constraints]\n\"c/1\" = { solutions = [[\"a\", \"b\"]] }\n"),
            "[\"a\", \"b\"]",
            "this solution has 2 arguments, but `c/1` takes 1",
        ),
        (
            with("[scenario.constraints]\n\"c/2\" = { solutions = [\"a\"] }\n"),
            "\"a\"",
            "a solution of `c/2` must be an array of its arguments, not a string",
        ),
        (with("[scenario.constraints]\n\"c/1\" = { solutions = [[\"f(a\"]] }\n"), "", "expected `,` or `)`"),
        (
            with("[scenario.constraints]\n\"c/1\" = { solutions = [[\"f(a b)\"]] }\n"),
            "b",
            "expected `,` or `)`",
        ),
        (
            with("[scenario.constraints]\n\"c/1\" = { solutions = [[{ x = 1 }]] }\n"),
            "{ x = 1 }",
            "an argument must be an LCC term in a string (\"high\", \"load(3)\"), a number, a boolean or an array, not a table",
        ),
        (
            with("[scenario.constraints]\n\"c/1\" = { solutions = [[99999999999999999999]] }\n"),
            "99999999999999999999",
            "integer out of range (64 bits)",
        ),
        (
            "constraints = [1]\n".to_string() + HEAD,
            "[1]",
            "`constraints` must be a table of \"name/arity\" = behaviour, not an array",
        ),
    ];
    for (text, at, message) in cases {
        let (got_at, got_message, _) = file_err(&text);
        assert_eq!((got_at.as_str(), got_message.as_str()), (at, message), "{text}");
    }
}

#[test]
fn file_peer_errors_point_inside_the_string() {
    let cases = [
        (
            "peers = [\"a(idle, h1)\", \"a(idle, X)\"]",
            "X",
            "the peer id must be a constant (atom, string or number), not a variable",
        ),
        (
            "peers = \"a(idle, h1), a(busy(N), h2)\"",
            "busy(N)",
            "the role must be ground: write '?' for an abstract argument",
        ),
        (
            "peers = [\"a(idle, h1)\", 'a(busy, h1)']",
            "h1",
            "peer id `h1` is used twice (first by `a(idle, h1)`)",
        ),
        ("peers = \"a(idle, h1), a(busy, h1)\"", "h1", "peer id `h1` is used twice (first by `a(idle, h1)`)"),
        ("peers = [\"b(idle, h1)\"]", "b(idle, h1)", "expected a peer `a(Role, Id)`"),
        ("peers = [\"a(idle h1)\"]", "h1", "expected `,` and the peer id"),
        ("peers = [\"\"]", "", "expected a peer `a(Role, Id)`"),
        ("peers = \"\"\"\na(idle, h1),\na(idle, 3x)\"\"\"", "x", "expected `)` after the peer id"),
    ];
    for (peers, at, message) in cases {
        let text = format!("[[scenario]]\nname = \"s\"\n{peers}\n");
        let e = parse_scenario_file(&text).expect_err(peers);
        assert_eq!((&text[e.span.clone()], e.message.as_str()), (at, message), "{peers}");
        // The span is inside the `peers` value, not elsewhere with the same text.
        assert!(e.span.start > text.find("peers").unwrap(), "{peers}");
    }
    // With escapes the characters are not where the string's are: the whole string is shown.
    let text = "[[scenario]]\nname = \"s\"\npeers = \"a(\\u0069dle, X)\"\n";
    let e = parse_scenario_file(text).unwrap_err();
    assert_eq!(&text[e.span.clone()], "\"a(\\u0069dle, X)\"");
    // An empty array of peers.
    let (at, message, help) = file_err("[[scenario]]\nname = \"s\"\npeers = []\n");
    assert_eq!((at.as_str(), message.as_str()), ("[]", "`peers` is empty"));
    assert_eq!(help.unwrap(), "a scenario needs at least one peer `a(role, id)`");
}

#[test]
fn file_scenario_names_and_peers_required() {
    let text = "[[scenario]]\nname = \"s\"\npeers = \"a(r, p)\"\n\n[[scenario]]\nname = \"s\"\npeers = \"a(r, q)\"\n";
    let e = parse_scenario_file(text).unwrap_err();
    assert_eq!((&text[e.span.clone()], e.message.as_str()), ("\"s\"", "scenario `s` is defined twice"));
    assert_eq!(e.span.start, text.rfind("\"s\"").unwrap());
    assert_eq!(e.help.unwrap(), "the first is on line 2; give each scenario its own name");

    let (at, message, help) = file_err("[[scenario]]\npeers = \"a(r, p)\"\n");
    assert_eq!((at.as_str(), message.as_str()), ("[[scenario]]", "this scenario has no name"));
    assert_eq!(help.unwrap(), "add a line `name = \"…\"` to it");

    let text = format!("{HEAD}\n[[scenario]]\nname = \"lonely\"\n[scenario.bounds]\ndepth = 3\n");
    let e = parse_scenario_file(&text).unwrap_err();
    assert_eq!(
        (&text[e.span.clone()], e.message.as_str()),
        ("[[scenario]]", "scenario `lonely` has no peers")
    );
    assert_eq!(e.span.start, text.rfind("[[scenario]]").unwrap());
    assert_eq!(e.help.unwrap(), "add a line `peers = [\"a(role, id1)\", \"a(role, id2)\"]` to it");
}

#[test]
fn file_errors_come_in_writing_order() {
    // Both keys are unknown; the first written is reported, although the map sorts `a` first.
    let (at, _, _) = file_err(&with("zz = 1\naa = 2\n"));
    assert_eq!(at, "zz");
}

#[test]
fn module_doc_example_parses() {
    // The example of the module documentation (copied to the README) stays valid.
    let source = include_str!("../src/mc/scenario.rs");
    let example: String = source
        .lines()
        .skip_while(|l| *l != "//! ```toml")
        .skip(1)
        .take_while(|l| *l != "//! ```")
        .map(|l| format!("{}\n", l.trim_start_matches("//!").strip_prefix(' ').unwrap_or("")))
        .collect();
    assert!(example.contains("[[scenario]]"));
    let s = only(&example);
    assert_eq!(s.name, "two-hosts");
    assert_eq!(s.bounds, Bounds { states: 1_000_000, depth: Some(200), mailbox: 4, recursion: 16 });
    assert_eq!(s.behaviour("canMigrate", 2), Some(&Behaviour::Succeeds));
}
