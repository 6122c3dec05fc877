//! `lcc agent` up to the network: its help, its helpers (`--keygen`, `--hash`), and every
//! way its configuration can be wrong, each answered with a clear message and exit status 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{TempDir, run_lcc};

const ALLOWED_NOTHING: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn config(model: &str, allow: &str, key_file: &str, extra: &str) -> String {
    format!(
        "host = \"pm1\"\nmodel = \"{model}\"\n{extra}\n[models]\nallow = [\"{allow}\"]\n[transport]\n\
         url = \"nats://127.0.0.1:1\"\n[trust]\nkey_file = \"{key_file}\"\n"
    )
}

#[test]
fn help_documents_every_key_of_the_config_file() {
    // The reference's own test checks that it names every key of the config structs; here,
    // that `lcc agent --help` prints all of it.
    let out = run_lcc(common::root(), &["agent", "--help"], None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for line in lcc_runtime::agent::config::REFERENCE.lines().filter(|l| !l.trim().is_empty()) {
        assert!(out.stdout.contains(line.trim_end()), "`lcc agent --help` lacks the line `{line}`");
    }
}

#[test]
fn keygen_writes_a_private_key_prints_the_public_one_and_never_overwrites() {
    let dir = TempDir::new("agent-keygen");
    let out = run_lcc(dir.path(), &["agent", "--keygen", "pm1.key"], None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let public = out.stdout.trim();
    assert_eq!(public.len(), 64);
    let key = lcc_runtime::agent::trust::HostKey::load(&dir.path().join("pm1.key")).unwrap();
    assert_eq!(key.public_hex(), public);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("pm1.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is readable by others: {mode:o}");
    }
    let again = run_lcc(dir.path(), &["agent", "--keygen", "pm1.key"], None, &[]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("pm1.key"), "{}", again.stderr);
    assert_eq!(
        lcc_runtime::agent::trust::HostKey::load(&dir.path().join("pm1.key")).unwrap().public_hex(),
        public
    );
}

#[test]
fn hash_prints_the_sha256_of_each_model() {
    let dir = TempDir::new("agent-hash");
    dir.write("m.lcc", b"abc");
    let out = run_lcc(dir.path(), &["agent", "--hash", "m.lcc"], None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  m.lcc\n");
    let missing = run_lcc(dir.path(), &["agent", "--hash", "nope.lcc"], None, &[]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("nope.lcc"), "{}", missing.stderr);
}

#[test]
fn a_wrong_config_is_refused_with_its_position() {
    let dir = TempDir::new("agent-config");
    dir.write("bad.toml", config("m.lcc", ALLOWED_NOTHING, "k", "\ncolour = 1").as_bytes());
    let out = run_lcc(dir.path(), &["agent", "--config", "bad.toml"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bad.toml:4:1: unknown field `colour`"), "{}", out.stderr);
    dir.write("short.toml", b"host = \"pm1\"\n");
    let out = run_lcc(dir.path(), &["agent", "--config", "short.toml"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("short.toml:") && out.stderr.contains("model"), "{}", out.stderr);
    dir.write(
        "timeout.toml",
        config("m.lcc", ALLOWED_NOTHING, "k", "interval_ms = 1000\nrequest_timeout_ms = 500").as_bytes(),
    );
    let out = run_lcc(dir.path(), &["agent", "--config", "timeout.toml"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("request_timeout_ms"), "{}", out.stderr);
    let out = run_lcc(dir.path(), &["agent", "--config", "absent.toml"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("absent.toml"), "{}", out.stderr);
}

#[test]
fn a_model_off_the_allow_list_never_runs() {
    let dir = TempDir::new("agent-allow");
    let model = common::root().join("stdlib/vm/balance.lcc");
    dir.write("pm1.toml", config(model.to_str().unwrap(), ALLOWED_NOTHING, "pm1.key", "").as_bytes());
    let out = run_lcc(dir.path(), &["agent", "--config", "pm1.toml"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not on the allow-list"), "{}", out.stderr);
    assert!(out.stderr.contains("balance.lcc"), "{}", out.stderr);
}

#[test]
fn a_missing_key_and_a_missing_server_are_named() {
    let dir = TempDir::new("agent-key");
    let model = common::root().join("stdlib/vm/balance.lcc");
    let hash = lcc_runtime::agent::config::model_hash(&std::fs::read(&model).unwrap());
    dir.write("pm1.toml", config(model.to_str().unwrap(), &hash, "pm1.key", "").as_bytes());
    let out = run_lcc(dir.path(), &["agent", "--config", "pm1.toml"], None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("pm1.key"), "{}", out.stderr);
    let keygen = run_lcc(dir.path(), &["agent", "--keygen", "pm1.key"], None, &[]);
    assert_eq!(keygen.code, 0);
    let out = run_lcc(dir.path(), &["agent", "--config", "pm1.toml"], None, &[]);
    assert_eq!(out.code, 2);
    if cfg!(feature = "nats") {
        assert!(out.stderr.contains("nats://127.0.0.1:1"), "{}", out.stderr);
    } else {
        assert!(out.stderr.contains("--features nats"), "{}", out.stderr);
    }
}
