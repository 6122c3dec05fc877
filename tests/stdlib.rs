//! The models that ship (`stdlib/`): each checks without a diagnostic, is in canonical layout,
//! has its diagram in docs/stdlib/ and its scenario file, and `lcc verify MODEL` with no flags gives the verdict it documents:
//! every property holds, except for the `*_as_published.lcc` copies of seed models, whose
//! published form deadlocks and whose counterexample lcc must show.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{lcc, root};
use std::path::PathBuf;

fn models() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("stdlib")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read stdlib") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "lcc") {
                out.push(path.strip_prefix(root()).expect("under the root").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_shipped_model_is_clean_and_formatted() {
    let models = models();
    assert!(models.len() >= 4, "{models:?}");
    for model in &models {
        let name = model.to_string_lossy();
        let check = lcc(&["check", &name]);
        assert_eq!(check.code, 0, "{name}: {}", check.stderr);
        assert!(check.stderr.contains("no problems"), "{name} has diagnostics:\n{}", check.stderr);
        let fmt = lcc(&["fmt", "--check", &name]);
        assert_eq!(fmt.code, 0, "{name} is not in canonical layout (run `lcc fmt {name}`):\n{}", fmt.stderr);
    }
}

#[test]
fn every_shipped_model_verifies_from_its_scenario_file() {
    for model in models() {
        let name = model.to_string_lossy().to_string();
        let scenarios = root().join(&model).with_extension("verify.toml");
        assert!(scenarios.is_file(), "{name} has no scenario file {}", scenarios.display());
        let out = lcc(&["verify", &name]);
        let as_published = name.ends_with("_as_published.lcc");
        if as_published {
            // The published form is kept because it is not deadlock-free: the report must show
            // the deadlock, with the stuck peers.
            assert_eq!(out.code, 1, "{name}: expected a violation\n{}{}", out.stdout, out.stderr);
            assert!(out.stdout.contains("deadlock-free: violated"), "{name}:\n{}", out.stdout);
            assert!(out.stdout.contains("  stuck: "), "{name}: no stuck peer shown\n{}", out.stdout);
        } else {
            assert_eq!(out.code, 0, "{name}: expected every property to hold\n{}{}", out.stdout, out.stderr);
            let verdicts: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("verdict: ")).collect();
            assert!(!verdicts.is_empty(), "{name}: no verdict\n{}", out.stdout);
            assert!(verdicts.iter().all(|v| v.starts_with("verdict: holds")), "{name}:\n{}", out.stdout);
            assert!(!out.stdout.contains("inconclusive"), "{name}: a bound was reached\n{}", out.stdout);
            assert!(
                out.stdout.contains("deadlock-free: holds"),
                "{name}: deadlock freedom not checked\n{}",
                out.stdout
            );
        }
    }
}

#[test]
fn every_shipped_model_has_its_current_diagram_in_docs() {
    for model in models() {
        let name = model.to_string_lossy().to_string();
        let stem = model.file_stem().expect("a file name").to_string_lossy().to_string();
        let committed = std::fs::read_to_string(root().join("docs/stdlib").join(format!("{stem}.svg")))
            .unwrap_or_else(|_| panic!("{name}: no docs/stdlib/{stem}.svg (see docs/README.md)"));
        let fresh = lcc(&["viz", "--engine", "builtin", "--format", "svg", &name]);
        assert_eq!(fresh.code, 0, "{name}: {}", fresh.stderr);
        assert!(
            committed == fresh.stdout,
            "docs/stdlib/{stem}.svg is stale: regenerate it with `lcc viz --engine builtin {name} -o docs/stdlib/{stem}.svg`"
        );
    }
}
