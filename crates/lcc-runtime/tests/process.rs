//! External providers as real processes: the Python shop provider of `examples/python`, and
//! small `sh` scripts that misbehave in every way the constraint ABI must survive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_check::mc::value::Value;
use lcc_runtime::abi::{Call, Provider, ProviderError, Registry, Solutions};
use lcc_runtime::process::ProcessProvider;
use smol_str::SmolStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);
/// Python, without leaving `__pycache__` in `examples/python`.
const PYTHON: &str = "PYTHONDONTWRITEBYTECODE=1 python3";

/// The handshake answer of the `sh` providers: they provide `f/1`.
const HELLO: &str = r#"read hello; echo '{"version":1,"constraints":[{"name":"f","arity":1}]}'"#;
/// Sets `$id` to the id of the call in `$c`.
const ID: &str = r#"id=$(echo "$c" | sed 's/^{"id":\([0-9]*\).*/\1/')"#;

fn atom(s: &str) -> Value {
    Value::atom(s)
}

fn call(p: &mut impl Provider, name: &str, args: &[Value]) -> Result<Solutions, ProviderError> {
    p.call(&Call { peer: &atom("b"), name, args })
}

fn spawn_sh(script: &str, timeout: Duration) -> Result<ProcessProvider, ProviderError> {
    ProcessProvider::spawn(script, timeout)
}

fn err(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Ok(x) => panic!("expected an error, got {x:?}"),
        Err(ProviderError(e)) => e,
    }
}

fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} is not in:\n{text}");
    }
}

fn has_python() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        println!("skipped: python3 is not on PATH");
    }
    found
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python").canonicalize().unwrap()
}

fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// Whether process `pid` is gone (or a zombie that is not ours to reap).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn the_python_shop_provider_answers() {
    if !has_python() {
        return;
    }
    let command = format!("{PYTHON} {}", sh_quote(&examples().join("shop_provider.py")));
    let mut p = ProcessProvider::spawn(&command, TIMEOUT).unwrap();
    assert_eq!(
        p.constraints(),
        [(SmolStr::new("want"), 1), (SmolStr::new("in_stock"), 2), (SmolStr::new("afford"), 2)]
    );
    assert_eq!(p.describe(), format!("process `{command}`"));

    assert_eq!(call(&mut p, "want", &[Value::Unbound]), Ok(vec![vec![atom("bread")], vec![atom("wine")]]));
    assert_eq!(
        call(&mut p, "in_stock", &[atom("bread"), Value::Unbound]),
        Ok(vec![vec![atom("bread"), Value::Int(5)]])
    );
    assert_eq!(call(&mut p, "in_stock", &[atom("caviar"), Value::Unbound]), Ok(vec![]));
    assert_eq!(
        call(&mut p, "afford", &[atom("bread"), Value::Int(5)]),
        Ok(vec![vec![atom("bread"), Value::Int(5)]])
    );
    assert_eq!(call(&mut p, "afford", &[atom("wine"), Value::Int(12)]), Ok(vec![]));
    // The peer matters: b2 has a smaller budget and other wishes.
    let b2 = atom("b2");
    let afford = Call { peer: &b2, name: "afford", args: &[atom("bread"), Value::Int(5)] };
    assert_eq!(p.call(&afford), Ok(vec![]));

    // An exception in the constraint is an error answer; the provider goes on.
    assert_contains(
        &err(call(&mut p, "afford", &[atom("wine"), atom("x")])),
        &[
            &format!("process `{command}` reported an error for `afford(wine, x)`: "),
            "ValueError: afford/2 needs a numeric price",
        ],
    );
    assert_eq!(
        err(call(&mut p, "buy", &[atom("wine")])),
        format!("process `{command}` does not provide `buy/1`")
    );
    assert_eq!(call(&mut p, "want", &[atom("wine")]), Ok(vec![vec![atom("wine")]]));
    assert!(p.dead().is_none());
}

#[test]
fn python_values_cross_the_wire_intact() {
    if !has_python() {
        return;
    }
    let script = std::env::temp_dir().join(format!("lcc-echo-provider-{}.py", std::process::id()));
    std::fs::write(
        &script,
        r#"
from lcc_provider import Atom, Compound, constraint, run

@constraint("echo", 2)
def echo(peer, x, y):
    assert y is None
    print("constraints may print: it goes to stderr")
    return [[x, x], (peer, y)]

@constraint("kinds", 1)
def kinds(peer, x):
    # Python's view of each part of the value.
    return [[[type(v).__name__ for v in x.args]]]

@constraint("count", 1)
def count(peer, n):
    for i in range(3):
        yield [i]

@constraint("bad", 1)
def bad(peer, x):
    return [[1, 2]]

run()
"#,
    )
    .unwrap();
    let command = format!("PYTHONPATH={} {PYTHON} {}", sh_quote(&examples()), sh_quote(&script));
    let mut p = ProcessProvider::spawn(&command, TIMEOUT).unwrap();
    let x = Value::Compound(
        "f".into(),
        vec![
            atom("a"),
            atom("Hello world"),
            Value::Int(-7),
            Value::Float(0.1),
            Value::Float(f64::INFINITY),
            Value::Str("quoted \"text\" é".into()),
            Value::List(vec![Value::Unbound, Value::List(vec![])]),
            Value::Compound("g".into(), vec![Value::Int(i64::MIN)]),
        ],
    );
    assert_eq!(
        call(&mut p, "echo", &[x.clone(), Value::Unbound]),
        Ok(vec![vec![x.clone(), x.clone()], vec![atom("b"), Value::Unbound]])
    );
    let names = ["Atom", "Atom", "int", "float", "float", "str", "list", "Compound"];
    assert_eq!(
        call(&mut p, "kinds", &[x]),
        Ok(vec![vec![Value::List(names.iter().map(|n| Value::Str((*n).into())).collect())]])
    );
    assert_eq!(
        call(&mut p, "count", &[Value::Unbound]),
        Ok((0..3).map(|i| vec![Value::Int(i)]).collect::<Vec<_>>())
    );
    assert_contains(
        &err(call(&mut p, "bad", &[Value::Unbound])),
        &["TypeError: bad/1 returned the solution [1, 2]; each solution is a list of 1 values"],
    );
    drop(p);
    let _ = std::fs::remove_file(script);
}

#[test]
fn a_provider_registers_all_it_provides() {
    let script = format!(
        "read hello; echo '{{\"version\":1,\"constraints\":[{{\"name\":\"f\",\"arity\":1}},{{\"name\":\"g\",\"arity\":0}}]}}'; \
         while read c; do {ID}; echo \"{{\\\"id\\\":$id,\\\"solutions\\\":[[]]}}\"; done"
    );
    let p = spawn_sh(&script, TIMEOUT).unwrap();
    let mut registry = Registry::new();
    let id = p.register(&mut registry);
    assert_eq!(registry.lookup("f", 1), Some(id));
    assert_eq!(registry.lookup("g", 0), Some(id));
    assert!(!registry.provides("f", 2));
    assert_eq!(registry.call(&Call { peer: &atom("b"), name: "g", args: &[] }), Ok(vec![vec![]]));
}

#[test]
fn a_crash_fails_the_call_and_every_later_one() {
    let script = format!("{HELLO}; read c; echo 'about to crash' >&2; exit 3");
    let mut p = spawn_sh(&script, TIMEOUT).unwrap();
    let started = Instant::now();
    let e = err(call(&mut p, "f", &[atom("a")]));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        e,
        format!(
            "process `{script}` could not answer `f(a)`: it ended (exit status: 3); its last stderr lines:\n    \
             about to crash"
        )
    );
    assert_eq!(
        err(call(&mut p, "f", &[atom("b")])),
        format!("process `{script}` cannot answer `f(b)`: it ended earlier (exit status: 3)")
    );
}

#[test]
fn a_hanging_provider_times_out_and_is_killed() {
    let script = format!("{HELLO}; read c; sleep 30");
    let mut p = spawn_sh(&script, Duration::from_millis(300)).unwrap();
    let pid = p.id();
    let started = Instant::now();
    let e = err(call(&mut p, "f", &[Value::Unbound]));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "{took:?}");
    assert_eq!(e, format!("process `{script}` did not answer `f(_)` within 300ms; it was killed"));
    assert!(gone(pid));
    let started = Instant::now();
    assert_eq!(
        err(call(&mut p, "f", &[atom("a")])),
        format!(
            "process `{script}` cannot answer `f(a)`: it timed out earlier (no answer to `f(_)` within 300ms)"
        )
    );
    assert!(started.elapsed() < Duration::from_millis(100));
}

#[test]
fn garbage_fails_only_its_call() {
    let long = "x".repeat(300);
    let script = format!(
        r#"{HELLO}; read c; echo 'this is not json'; read c; {ID}; echo "{{\"id\":$id,\"solutions\":[[\"a\",\"b\"]]}}";
           read c; echo '{long}';
           read c; {ID}; echo "{{\"id\":$id,\"solutions\":[[{{\"functor\":\"g\",\"args\":[1,true]}}]]}}";
           read c; {ID}; echo "{{\"id\":$id}}";
           while read c; do {ID}; echo "{{\"id\":$id,\"solutions\":[[\"a\"]]}}"; done"#
    );
    let mut p = spawn_sh(&script, TIMEOUT).unwrap();
    let garbage = |e: String, what: &str, line: &str| {
        assert_eq!(e, format!("process `{script}` gave a garbage answer to `f(_)` ({what}): {line}"));
    };
    garbage(
        err(call(&mut p, "f", &[Value::Unbound])),
        "not JSON: expected ident at line 1 column 2",
        "this is not json",
    );
    garbage(
        err(call(&mut p, "f", &[Value::Unbound])),
        "solutions[0]: expected 1 value, one per argument, found 2",
        r#"{"id":2,"solutions":[["a","b"]]}"#,
    );
    let e = err(call(&mut p, "f", &[Value::Unbound]));
    // The quotation of the line is cut at 200 characters.
    let quoted = e.rsplit_once("): ").unwrap().1;
    assert_eq!(quoted, format!("{}…", "x".repeat(200)));
    let e = err(call(&mut p, "f", &[Value::Unbound]));
    assert_contains(&e, &["(solutions[0][0].args[1]: expected a value", "found `true`"]);
    garbage(
        err(call(&mut p, "f", &[Value::Unbound])),
        "it has neither `solutions` nor `error`",
        r#"{"id":5}"#,
    );
    assert_eq!(call(&mut p, "f", &[Value::Unbound]), Ok(vec![vec![atom("a")]]));
    assert_eq!(call(&mut p, "f", &[atom("a")]), Ok(vec![vec![atom("a")]]));
}

#[test]
fn a_late_answer_after_garbage_is_skipped() {
    // The first call gets a garbage line, then its answer; the others just their answer.
    let answer = format!(r#"{ID}; echo "{{\"id\":$id,\"solutions\":[[$id]]}}""#);
    let script = format!("{HELLO}; read c; echo 'debug output'; {answer}; while read c; do {answer}; done");
    let mut p = spawn_sh(&script, TIMEOUT).unwrap();
    assert_contains(&err(call(&mut p, "f", &[Value::Unbound])), &["not JSON", "): debug output"]);
    // The late answer to call 1 is skipped.
    assert_eq!(call(&mut p, "f", &[Value::Unbound]), Ok(vec![vec![Value::Int(2)]]));
    assert_eq!(call(&mut p, "f", &[Value::Unbound]), Ok(vec![vec![Value::Int(3)]]));
}

#[test]
fn an_error_answer_fails_the_call() {
    let script =
        format!(r#"{HELLO}; while read c; do {ID}; echo "{{\"id\":$id,\"error\":\"no such item\"}}"; done"#);
    let mut p = spawn_sh(&script, TIMEOUT).unwrap();
    assert_eq!(
        err(call(&mut p, "f", &[Value::Str("x".into())])),
        format!("process `{script}` reported an error for `f(\"x\")`: no such item")
    );
    assert!(p.dead().is_none());
}

#[test]
fn a_wrong_id_is_garbage() {
    let script = format!(r#"{HELLO}; while read c; do echo '{{"id":99,"solutions":[]}}'; done"#);
    let mut p = spawn_sh(&script, TIMEOUT).unwrap();
    assert_eq!(
        err(call(&mut p, "f", &[atom("a")])),
        format!(
            r#"process `{script}` gave a garbage answer to `f(a)` (it has id 99, expected 1): {{"id":99,"solutions":[]}}"#
        )
    );
    assert_contains(&err(call(&mut p, "f", &[atom("a")])), &["(it has id 99, expected 2)"]);
}

#[test]
fn a_wrong_abi_version_is_refused() {
    let script = r#"read hello; echo '{"version":2,"constraints":[]}'; cat >/dev/null"#;
    assert_eq!(
        err(spawn_sh(script, TIMEOUT)),
        format!(
            "process `{script}` failed the constraint ABI handshake: it speaks constraint ABI version 2, \
             lcc speaks version 1"
        )
    );
}

#[test]
fn handshake_failures_name_the_command() {
    let script = "echo 'cannot start: no database' >&2; exit 2";
    assert_eq!(
        err(spawn_sh(script, TIMEOUT)),
        format!(
            "process `{script}` failed the constraint ABI handshake: it ended (exit status: 2); its last stderr \
             lines:\n    cannot start: no database"
        )
    );

    let script = "read hello; echo hello there";
    assert_contains(
        &err(spawn_sh(script, TIMEOUT)),
        &[
            &format!("process `{script}` failed the constraint ABI handshake: its answer is not JSON ("),
            "): hello there",
        ],
    );

    let script = r#"read hello; echo '{"version":1,"constraints":[{"name":"f"}]}'"#;
    assert_eq!(
        err(spawn_sh(script, TIMEOUT)),
        format!(
            r#"process `{script}` failed the constraint ABI handshake: constraints[0]: expected {{"name": "…", "arity": N}}, found {{"name":"f"}}"#
        )
    );

    let script = "sleep 30";
    let started = Instant::now();
    assert_eq!(
        err(spawn_sh(script, Duration::from_millis(300))),
        format!(
            "process `{script}` failed the constraint ABI handshake: no answer within 300ms; it was killed"
        )
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    assert_eq!(
        err(ProcessProvider::spawn_with_startup("exit 0", TIMEOUT, TIMEOUT)),
        "process `exit 0` failed the constraint ABI handshake: it ended (exit status: 0)"
    );
}

#[test]
fn a_provider_that_stops_reading_is_killed() {
    // It closes its input before it answers the handshake, so that the first call cannot be
    // written.
    let script =
        r#"read hello; exec 0<&-; echo '{"version":1,"constraints":[{"name":"f","arity":1}]}'; sleep 30"#;
    let mut p = spawn_sh(script, TIMEOUT).unwrap();
    let started = Instant::now();
    let e = err(call(&mut p, "f", &[atom("a")]));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        e,
        format!(
            "process `{script}` could not answer `f(a)`: writing to it failed: Broken pipe (os error 32); \
             it was killed"
        )
    );
}

#[test]
fn drop_reaps_the_child_and_what_it_started() {
    // A well-behaved provider exits when its input closes.
    let script = format!("{HELLO}; cat >/dev/null");
    let p = spawn_sh(&script, TIMEOUT).unwrap();
    let pid = p.id();
    assert!(!gone(pid));
    drop(p);
    assert!(gone(pid));

    // One that ignores it is killed, with what it started.
    let pidfile = std::env::temp_dir().join(format!("lcc-provider-grandchild-{}", std::process::id()));
    let script = format!("sleep 30 & echo $! > {}; {HELLO}; sleep 30", sh_quote(&pidfile));
    let p = spawn_sh(&script, TIMEOUT).unwrap();
    let pid = p.id();
    let grandchild: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let _ = std::fs::remove_file(&pidfile);
    assert!(!gone(grandchild));
    let started = Instant::now();
    drop(p);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(gone(pid));
    // The grandchild is reaped by init, eventually; it must at least be dead (a zombie).
    let deadline = Instant::now() + Duration::from_secs(2);
    while !gone(grandchild) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone(grandchild));
}
