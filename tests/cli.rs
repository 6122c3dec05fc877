//! End-to-end tests of the `lcc` binary: exit statuses, output streams and formats, and what
//! `lcc fmt` does (and does not do) to files on disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{Output, TempDir, run_lcc};
use lcc_syntax::format::format_source;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The fixtures directory; commands run there so that file names in the output are short.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

/// Runs `lcc ARGS` in `dir` (see [`common::run_lcc`]).
fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    run_lcc(dir, args, stdin, env)
}

fn lcc(args: &[&str]) -> Output {
    run_in(&fixtures(), args, None, &[])
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

/// A model with no syntax error in anything but the canonical layout.
const MESSY: &str = "a(buyer,B)::ask(X)=>a(shop,S)   then price(X,P)<=a(shop,S).\n\n\n\n";

// ---------------------------------------------------------------- lcc, --help, --version

#[test]
fn help_describes_lcc_and_only_the_commands_that_exist() {
    let out = lcc(&["--help"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Lightweight Coordination Calculus"), "{}", out.stdout);
    for exists in ["check", "fmt", "verify", "viz", "lsp", "run", "simulate", "agent"] {
        assert!(out.stdout.contains(&format!("  {exists} ")), "`{exists}` is missing:\n{}", out.stdout);
    }
    let out = lcc(&["agent"]);
    assert_eq!(out.code, 2, "`lcc agent` without a config is a usage error");
    assert!(out.stderr.contains("--config"), "{}", out.stderr);
    let out = lcc(&["deploy"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unrecognized subcommand"), "{}", out.stderr);
}

#[test]
fn every_flag_is_documented() {
    let check = lcc(&["check", "--help"]);
    assert_eq!(check.code, 0);
    for flag in ["--format", "--deny", "--explain", "human", "json", "warnings", "FILE"] {
        assert!(check.stdout.contains(flag), "`lcc check --help` lacks {flag}:\n{}", check.stdout);
    }
    let verify = lcc(&["verify", "--help"]);
    assert_eq!(verify.code, 0);
    for flag in [
        "--peers",
        "--assume",
        "--property",
        "--scenario",
        "--scenario-file",
        "--max-states",
        "--max-depth",
        "--mailbox",
        "--recursion",
        "--threads",
        "--hash-compaction",
        "--full",
        "--no-reduction",
        "--format",
        "--trace-format",
        "--progress",
        "mermaid",
        "Exit status",
    ] {
        assert!(verify.stdout.contains(flag), "`lcc verify --help` lacks {flag}:\n{}", verify.stdout);
    }
    let fmt = lcc(&["fmt", "--help"]);
    assert_eq!(fmt.code, 0);
    for flag in ["--check", "Would reformat", "FILE"] {
        assert!(fmt.stdout.contains(flag), "`lcc fmt --help` lacks {flag}:\n{}", fmt.stdout);
    }
}

#[test]
fn version_and_usage_errors() {
    let out = lcc(&["--version"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout.trim(), format!("lcc {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(lcc(&[]).code, 2, "no subcommand");
    assert_eq!(lcc(&["check"]).code, 2, "no FILE");
    assert_eq!(lcc(&["fmt"]).code, 2, "no FILE");
    assert_eq!(lcc(&["check", "--format", "xml", "clean.lcc"]).code, 2);
    assert_eq!(lcc(&["check", "--deny", "errors", "clean.lcc"]).code, 2);
    assert_eq!(lcc(&["check", "--explain", "E0001", "clean.lcc"]).code, 2, "--explain takes no FILE");
}

// ---------------------------------------------------------------- lcc check

#[test]
fn check_exit_status_is_0_for_a_clean_file() {
    let out = lcc(&["check", "clean.lcc"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "checked 1 file: no problems\n");
}

#[test]
fn check_exit_status_is_1_for_errors_and_reports_them_all() {
    let out = lcc(&["check", "clean.lcc", "problems.lcc", "warning.lcc"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    for code in ["W0005", "E0002", "E0001"] {
        assert!(out.stderr.contains(code), "{code} missing:\n{}", out.stderr);
    }
    assert!(out.stderr.ends_with("error: 2 errors, 2 warnings in 3 files\n"), "{}", out.stderr);
}

#[test]
fn check_exit_status_is_2_for_a_missing_file_but_checks_the_others() {
    let out = lcc(&["check", "missing.lcc", "problems.lcc"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("lcc: cannot read missing.lcc: "), "{}", out.stderr);
    assert!(out.stderr.contains("[E0002:unknown-character]"), "other file not checked:\n{}", out.stderr);
    assert!(out.stderr.contains("error: 1 of 2 files could not be read"), "{}", out.stderr);

    let out = lcc(&["check", "clean.lcc", "missing.lcc"]);
    assert_eq!(out.code, 2, "an unreadable file fails even when the others are clean");
}

#[test]
fn check_deny_warnings() {
    let out = lcc(&["check", "warning.lcc"]);
    assert_eq!(out.code, 0, "warnings alone do not fail");
    assert!(out.stderr.contains("[W0005:dialect-lij-role-kind] Warning"), "{}", out.stderr);
    assert!(out.stderr.ends_with("warning: 1 warning in 1 file\n"), "{}", out.stderr);

    let out = lcc(&["check", "--deny", "warnings", "warning.lcc"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.ends_with("error: 1 warning in 1 file (warnings denied)\n"), "{}", out.stderr);

    let out = lcc(&["check", "--deny", "warnings", "clean.lcc"]);
    assert_eq!(out.code, 0);
}

#[test]
fn check_json_has_every_field_with_one_based_positions() {
    let out = lcc(&["check", "--format", "json", "problems.lcc", "clean.lcc"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "", "JSON mode prints nothing else");
    let doc: Value = serde_json::from_str(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["files"], 2);
    assert_eq!(doc["errors"], 2);
    assert_eq!(doc["warnings"], 1);
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 3);

    // `price(X, #P)` on line 11: the `#` is the 14th character.
    let hash = &diags[1];
    assert_eq!(hash["file"], "problems.lcc");
    assert_eq!(hash["severity"], "error");
    assert_eq!(hash["code"], "E0002");
    assert_eq!(hash["name"], "unknown-character");
    assert_eq!(hash["message"], "unexpected character `#`");
    assert_eq!((&hash["line"], &hash["column"]), (&Value::from(11), &Value::from(14)));
    assert_eq!((&hash["end_line"], &hash["end_column"]), (&Value::from(11), &Value::from(15)));
    assert!(hash["help"].is_string());
    assert_eq!(hash["labels"], Value::Array(vec![]));
    assert_eq!(hash["fix"], Value::Null);

    let missing_then = &diags[2];
    assert_eq!(missing_then["code"], "E0001");
    assert_eq!((&missing_then["line"], &missing_then["column"]), (&Value::from(12), &Value::from(5)));

    // The LiJ role kind on line 3 comes with a fix.
    let warning = &diags[0];
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["code"], "W0005");
    assert_eq!((&warning["line"], &warning["column"]), (&Value::from(3), &Value::from(9)));
    let edit = &warning["fix"]["edits"][0];
    assert!(warning["fix"]["message"].is_string());
    assert_eq!((&edit["line"], &edit["column"]), (&Value::from(3), &Value::from(9)));
    assert_eq!((&edit["end_line"], &edit["end_column"]), (&Value::from(3), &Value::from(15)));
    assert_eq!(edit["replacement"], "auxiliary");
    for d in diags {
        for key in ["file", "line", "column", "end_line", "end_column", "severity", "code", "name"] {
            assert!(!d[key].is_null(), "{key} missing in {d}");
        }
        for key in ["message", "help", "labels", "fix"] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
    }
}

#[test]
fn check_json_clean_and_unreadable() {
    let out = lcc(&["check", "--format", "json", "clean.lcc", "missing.lcc"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("lcc: cannot read missing.lcc"), "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["files"], 1);
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["diagnostics"], Value::Array(vec![]));
}

#[test]
fn check_human_output_has_no_colour_without_a_terminal() {
    for env in [&[][..], &[("NO_COLOR", "1")][..]] {
        let out = run_in(&fixtures(), &["check", "problems.lcc"], None, env);
        assert_eq!(out.code, 1);
        assert!(!out.stderr.contains('\x1b'), "ANSI escape with env {env:?}:\n{}", out.stderr);
    }
}

#[test]
fn check_human_output_snapshot() {
    let out = run_in(&fixtures(), &["check", "problems.lcc"], None, &[("NO_COLOR", "1")]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!("check_human_problems", out.stderr);
}

#[test]
fn check_reads_stdin_for_dash() {
    let source = fixture("problems.lcc");
    let out = run_in(&fixtures(), &["check", "--format", "json", "-"], Some(source.as_bytes()), &[]);
    assert_eq!(out.code, 1);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["errors"], 2);
    assert_eq!(doc["diagnostics"][1]["file"], "<stdin>");

    let out = run_in(&fixtures(), &["check", "-"], Some(fixture("clean.lcc").as_bytes()), &[]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "checked 1 file: no problems\n");
}

#[test]
fn check_refuses_non_utf8_and_directories_without_panicking() {
    let dir = TempDir::new("check-bytes");
    dir.write("latin1.lcc", b"a(caf\xe9, X) :: null.\n");
    std::fs::create_dir(dir.path().join("models")).unwrap();
    let out = run_in(dir.path(), &["check", "latin1.lcc", "models"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("lcc: cannot read latin1.lcc: it is not valid UTF-8 (invalid byte at offset 5)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("lcc: cannot read models: it is a directory"), "{}", out.stderr);

    let out = run_in(dir.path(), &["check", "-"], Some(b"\xff\xfe\x00"), &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("lcc: cannot read <stdin>: it is not valid UTF-8"), "{}", out.stderr);
}

#[test]
fn check_explain() {
    let out = lcc(&["check", "--explain", "E0001"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("E0001 (unexpected-token, error)\n\n"), "{}", out.stdout);
    assert!(out.stdout.contains(lcc_syntax::codes::UNEXPECTED_TOKEN.explanation));

    let by_name = lcc(&["check", "--explain", "dialect-lij-role-kind"]);
    assert_eq!(by_name.code, 0);
    assert!(by_name.stdout.starts_with("W0005 (dialect-lij-role-kind, warning)"), "{}", by_name.stdout);
    assert_eq!(lcc(&["check", "--explain", "e0001"]).stdout, out.stdout, "ids are case-insensitive");

    let unknown = lcc(&["check", "--explain", "E9999"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(unknown.stdout, "");
    assert!(unknown.stderr.contains("unknown diagnostic code `E9999`"), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("lcc check --explain"), "must say how to list the codes");

    let all = lcc(&["check", "--explain"]);
    assert_eq!(all.code, 0);
    for code in lcc_check::codes::all() {
        assert!(all.stdout.contains(code.id) && all.stdout.contains(code.name), "{}", code.id);
    }
}

// ---------------------------------------------------------------- lcc fmt

#[test]
fn fmt_check_exit_codes_and_changes_nothing() {
    let canonical = format_source(MESSY).expect("MESSY has no syntax error");
    assert_ne!(canonical, MESSY, "MESSY must not already be in the canonical layout");
    let dir = TempDir::new("fmt-check");
    dir.write("messy.lcc", MESSY.as_bytes());
    dir.write("tidy.lcc", canonical.as_bytes());

    let out = run_in(dir.path(), &["fmt", "--check", "tidy.lcc"], None, &[]);
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (0, "", ""));

    let out = run_in(dir.path(), &["fmt", "--check", "tidy.lcc", "messy.lcc"], None, &[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "Would reformat: messy.lcc\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("messy.lcc")).unwrap(), MESSY);
    assert_eq!(dir.names(), ["messy.lcc", "tidy.lcc"]);
}

#[test]
fn fmt_rewrites_only_files_that_change() {
    let canonical = format_source(MESSY).unwrap();
    let dir = TempDir::new("fmt-write");
    let messy = dir.write("messy.lcc", MESSY.as_bytes());
    let tidy = dir.write("tidy.lcc", canonical.as_bytes());
    let tidy_modified = std::fs::metadata(&tidy).unwrap().modified().unwrap();

    let out = run_in(dir.path(), &["fmt", "messy.lcc", "tidy.lcc"], None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "Reformatted: messy.lcc\n", "nothing is said about unchanged files");
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), canonical);
    assert_eq!(std::fs::metadata(&tidy).unwrap().modified().unwrap(), tidy_modified, "tidy.lcc rewritten");
    assert_eq!(dir.names(), ["messy.lcc", "tidy.lcc"], "a temporary file was left behind");

    let again = run_in(dir.path(), &["fmt", "messy.lcc"], None, &[]);
    assert_eq!((again.code, again.stdout.as_str(), again.stderr.as_str()), (0, "", ""));
}

#[test]
fn fmt_leaves_a_file_with_errors_untouched() {
    let source = fixture("problems.lcc");
    let dir = TempDir::new("fmt-errors");
    let path = dir.write("problems.lcc", source.as_bytes());
    for args in [&["fmt", "problems.lcc"][..], &["fmt", "--check", "problems.lcc"][..]] {
        let out = run_in(dir.path(), args, None, &[("NO_COLOR", "1")]);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "");
        assert!(out.stderr.contains("[E0002:unknown-character]"), "{}", out.stderr);
        assert!(
            out.stderr.contains("lcc: problems.lcc not formatted: it has 2 syntax errors"),
            "{}",
            out.stderr
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), source);
        assert_eq!(dir.names(), ["problems.lcc"]);
    }
}

#[test]
fn fmt_refuses_non_utf8_and_directories_without_panicking() {
    let bytes: &[u8] = b"a(p, X) :: \xff\xfe null.\n";
    let dir = TempDir::new("fmt-bytes");
    let path = dir.write("binary.lcc", bytes);
    std::fs::create_dir(dir.path().join("models")).unwrap();
    dir.write("messy.lcc", MESSY.as_bytes());

    let out = run_in(dir.path(), &["fmt", "binary.lcc"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("lcc: cannot read binary.lcc: it is not valid UTF-8"), "{}", out.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    let out = run_in(dir.path(), &["fmt", "--check", "models"], None, &[]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr, "lcc: cannot read models: it is a directory\n");

    // An unreadable file does not stop the others from being formatted.
    let out = run_in(dir.path(), &["fmt", "models", "missing.lcc", "messy.lcc"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("lcc: cannot read missing.lcc: no such file or directory"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(dir.path().join("messy.lcc")).unwrap(), format_source(MESSY).unwrap());

    let out = run_in(dir.path(), &["fmt", "-"], Some(bytes), &[]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
}

#[test]
fn fmt_dash_formats_stdin_to_stdout() {
    let out = run_in(&fixtures(), &["fmt", "-"], Some(MESSY.as_bytes()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format_source(MESSY).unwrap());
    assert_eq!(out.stderr, "");

    let out = run_in(&fixtures(), &["fmt", "--check", "-"], Some(MESSY.as_bytes()), &[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "Would reformat: <stdin>\n");

    let out = run_in(&fixtures(), &["fmt", "-"], Some(fixture("problems.lcc").as_bytes()), &[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "", "nothing on stdout when the input cannot be formatted");
    assert!(out.stderr.contains("<stdin>:11:14"), "{}", out.stderr);
}

/// Pathological nesting never overflows a stack: past the parser's limits the item is refused
/// with E0013; up to them, every stage (checker, formatter) copes.
#[test]
fn deep_input_is_refused_or_handled_without_crashing() {
    let dir = TempDir::new("deep");
    let n = 100_000;
    let nested = format!("a(x, Y) :: {}z{} => a(x, Y)\n", "f(".repeat(n), ")".repeat(n));
    let chain = format!("a(x, Y) :: {}\n", vec!["null"; n].join(" then "));
    std::fs::write(dir.path().join("nested.lcc"), nested).unwrap();
    std::fs::write(dir.path().join("chain.lcc"), chain).unwrap();
    let out = run_in(dir.path(), &["check", "nested.lcc"], None, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("E0013"), "{}", out.stderr);
    let out = run_in(dir.path(), &["fmt", "--check", "nested.lcc"], None, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let out = run_in(dir.path(), &["check", "chain.lcc"], None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run_in(dir.path(), &["fmt", "--check", "chain.lcc"], None, &[]);
    assert_eq!(out.code, 1, "a long chain is reformatted one event per line: {}", out.stderr);
}

// ---------------------------------------------------------------- lcc viz

#[test]
fn viz_draws_dot_on_stdout_or_into_a_file() {
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/stdlib/vm/balance_as_published.lcc");
    let out = lcc(&["viz", model]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("digraph interaction {"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("subgraph cluster_").count(), 3);
    let only = lcc(&["viz", "--role", "idle", model]);
    assert_eq!(only.stdout.matches("subgraph cluster_").count(), 1);
    let dir = std::env::temp_dir().join(format!("lcc-viz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lb.dot");
    let written = lcc(&["viz", model, "-o", file.to_str().unwrap()]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out.stdout);
    // The format comes from the extension (tests/viz.rs): an unknown one is refused.
    let txt = lcc(&["viz", model, "-o", dir.join("lb.txt").to_str().unwrap()]);
    assert_eq!(txt.code, 2);
    assert!(txt.stderr.contains("--format"), "{}", txt.stderr);
    let unknown = lcc(&["viz", "--role", "nobody", model]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no role `nobody`") && unknown.stderr.contains("idle"),
        "{}",
        unknown.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn viz_refuses_a_model_with_errors() {
    let out = lcc(&["viz", fixtures().join("problems.lcc").to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cannot be drawn") && out.stdout.is_empty(), "{}", out.stderr);
}

#[test]
fn viz_draws_a_state_space_with_its_deadlocks() {
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/stdlib/market/buyer_shopkeeper_as_published.lcc");
    let out = lcc(&["viz", "--state-space", "--peers", "a(buyer, b), a(shopkeeper, s)", model]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("digraph states {"), "{}", out.stdout);
    // want, in_stock and afford may each fail for good: three deadlocks, one success.
    assert_eq!(out.stdout.matches("\\ndeadlock\"").count(), 3, "{}", out.stdout);
    assert_eq!(out.stdout.matches("\\nsuccess\"").count(), 1, "{}", out.stdout);
    // A bound keeps the picture small and says so.
    let cut = lcc(&[
        "viz",
        "--state-space",
        "--max-states",
        "3",
        "--peers",
        "a(buyer, b), a(shopkeeper, s)",
        model,
    ]);
    assert_eq!(cut.code, 0, "{}", cut.stderr);
    assert!(cut.stdout.contains("state bound reached"), "{}", cut.stdout);
    // Without --peers: the first scenario of the file next to the model.
    let file = lcc(&["viz", "--state-space", model]);
    assert_eq!(file.code, 0, "{}", file.stderr);
    assert_eq!(file.stdout, out.stdout);
}
