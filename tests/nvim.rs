//! The Neovim client of `editors/nvim/lcc.lua`, end to end in a headless Neovim (0.7.2, the
//! Debian version, or newer): the filetype, the root directory and the message when the server
//! is missing (`tests/nvim/module.lua`), and `lcc lsp` itself, whose diagnostics must be those of
//! `lcc check` and whose go-to-definition on a role change must land on the role's clause
//! and `:LccRestart` must bring up a new server (`tests/nvim/e2e.lua` on
//! `tests/nvim/buyer_shop.lcc`).
//!
//! Each test says that it skipped when `nvim` is not on PATH; `scripts/test-all` installs it.
//! Neovim runs with `--clean -u NONE`, its state and logs in a temporary directory, and is
//! killed after `TIMEOUT`; a failure prints its output and its LSP log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::run_lcc;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The longest a Neovim run may take (the Lua scripts wait at most 20 s for each step).
const TIMEOUT: Duration = Duration::from_secs(90);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// True when `nvim` runs; otherwise prints that the test skipped.
fn have_nvim() -> bool {
    let found = Command::new("nvim")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        println!("skipped: nvim is not on PATH (scripts/test-all installs the Debian package `neovim`)");
    }
    found
}

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lcc-nvim-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // Canonical, so that paths compare equal to the ones Neovim reports (macOS: /private/…).
        TempDir(dir.canonicalize().unwrap())
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One tab-separated record of a Lua script's output.
type Record = Vec<String>;

/// Runs `script` (a file of `tests/nvim/`) in a headless Neovim with `env`, with its state under
/// `tmp`, and returns the records it wrote. Panics, with everything that helps, when Neovim
/// fails, times out or the script recorded an error.
fn run_nvim(tmp: &Path, script: &str, env: &[(&str, &str)]) -> Vec<Record> {
    let out = tmp.join("out.tsv");
    let log = tmp.join("nvim.log");
    let xdg = tmp.join("xdg");
    let script = repo().join("tests").join("nvim").join(script);
    let module = repo().join("editors").join("nvim").join("lcc.lua");

    let mut cmd = Command::new("nvim");
    // Paths reach Lua through the environment, so that no quoting of `-c` arguments is needed.
    cmd.args(["--headless", "--clean", "-u", "NONE", "-i", "NONE", "-n"])
        .args(["-c", "lua dofile(os.getenv('LCC_SCRIPT'))"])
        .current_dir(tmp)
        .env("LCC_SCRIPT", &script)
        .env("LCC_NVIM_MODULE", &module)
        .env("LCC_OUT", &out);
    for dir in ["CONFIG", "DATA", "STATE", "CACHE"] {
        cmd.env(format!("XDG_{dir}_HOME"), xdg.join(dir.to_lowercase()));
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let log_file = fs::File::create(&log).unwrap();
    cmd.stdin(Stdio::null()).stdout(log_file.try_clone().unwrap()).stderr(log_file);
    let mut child = cmd.spawn().expect("spawn nvim");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        sleep(Duration::from_millis(50));
    };

    let text = fs::read_to_string(&out).unwrap_or_default();
    let records: Vec<Record> =
        text.lines().map(|line| line.split('\t').map(str::to_string).collect()).collect();
    let failed = records.iter().any(|r| r[0] == "error") || !records.iter().any(|r| r[0] == "done");
    if failed || !status.is_some_and(|s| s.success()) {
        panic!(
            "nvim {} ({script:?}):\n--- records\n{text}--- nvim output\n{}--- LSP log\n{}",
            match status {
                Some(status) => format!("exited with {status}"),
                None => format!("timed out after {TIMEOUT:?}"),
            },
            fs::read_to_string(&log).unwrap_or_default(),
            lsp_log(&xdg),
        );
    }
    records
}

/// Neovim's LSP log: under the cache directory up to 0.7, the state directory from 0.8.
fn lsp_log(xdg: &Path) -> String {
    ["cache", "state"]
        .iter()
        .filter_map(|dir| fs::read_to_string(xdg.join(dir).join("nvim").join("lsp.log")).ok())
        .collect::<Vec<_>>()
        .join("\n")
}

fn records_of<'r>(records: &'r [Record], kind: &str) -> Vec<&'r Record> {
    records.iter().filter(|r| r[0] == kind).collect()
}

/// The 1-based number of the one line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let lines: Vec<usize> =
        text.lines().enumerate().filter(|(_, line)| line.contains(needle)).map(|(i, _)| i + 1).collect();
    assert_eq!(lines.len(), 1, "{needle:?} is on lines {lines:?} of the model, not on one line");
    lines[0]
}

#[test]
fn filetype_root_directory_and_missing_server() {
    if !have_nvim() {
        return;
    }
    let tmp = TempDir::new("module");
    let tree = tmp.path().join("tree");
    fs::create_dir_all(tree.join("project").join(".git")).unwrap();
    fs::create_dir_all(tree.join("project").join("sub")).unwrap();
    fs::create_dir_all(tree.join("loose")).unwrap();
    let model = "a(r, X) :: null\n";
    for file in ["project/sub/model.lcc", "project/sub/model.xlcc", "project/sub/model.im", "loose/model.lcc"]
    {
        fs::write(tree.join(file), model).unwrap();
    }
    let records = run_nvim(tmp.path(), "module.lua", &[("LCC_TREE", tree.to_str().unwrap())]);
    let tree = tree.to_str().unwrap();

    let setup_errors = records_of(&records, "setup-error");
    assert_eq!(setup_errors.len(), 2, "{records:?}");
    assert_eq!(setup_errors[0][1], "false");
    assert!(setup_errors[0][2].contains("unknown option \"cmnd\""), "{:?}", setup_errors[0]);
    assert_eq!(setup_errors[1][1], "false");
    assert!(
        setup_errors[1][2].contains("option \"cmd\" must be a table, not a string"),
        "{:?}",
        setup_errors[1]
    );

    let filetypes = records_of(&records, "filetype");
    assert_eq!(filetypes.len(), 4, "{records:?}");
    for record in &filetypes {
        assert_eq!((record[2].as_str(), record[3].as_str()), ("lcc", "// %s"), "{record:?}");
    }

    let roots: Vec<(&str, &str)> =
        records_of(&records, "root").iter().map(|r| (r[1].as_str(), r[2].as_str())).collect();
    let project = format!("{tree}/project");
    let loose = format!("{tree}/loose");
    assert_eq!(
        roots,
        [
            (format!("{tree}/project/sub/model.lcc").as_str(), project.as_str()),
            (format!("{tree}/project/sub/model.xlcc").as_str(), project.as_str()),
            (format!("{tree}/project/sub/model.im").as_str(), project.as_str()),
            (format!("{tree}/loose/model.lcc").as_str(), loose.as_str()),
        ],
        "the root is the nearest directory with .git, else the file's directory"
    );

    // Four buffers, one message: the missing binary, named, and how to set `cmd`.
    let notes = records_of(&records, "notify");
    assert_eq!(notes.len(), 1, "{records:?}");
    assert_eq!(notes[0][1], "4", "vim.log.levels.ERROR: {:?}", notes[0]);
    assert!(notes[0][2].contains(&format!("\"{tree}/no-such-lcc\" is not an executable")), "{:?}", notes[0]);
    assert!(notes[0][2].contains("require('lcc').setup({ cmd = "), "{:?}", notes[0]);
    assert_eq!(records_of(&records, "clients")[0][1], "0", "no client starts without a server");
}

#[test]
fn diagnostics_and_definition_from_lcc_lsp() {
    if !have_nvim() {
        return;
    }
    let tmp = TempDir::new("e2e");
    let source = repo().join("tests").join("nvim").join("buyer_shop.lcc");
    let text = fs::read_to_string(&source).unwrap();
    // A copy outside the repository: no `.git` above it, so the root is its directory.
    let model = tmp.path().join("buyer_shop.lcc");
    fs::write(&model, &text).unwrap();

    // What `lcc check` says about the model; the server must say the same.
    let check = run_lcc(tmp.path(), &["check", "--format", "json", "buyer_shop.lcc"], None, &[]);
    let report: Value = serde_json::from_str(&check.stdout).unwrap();
    let expected: Vec<(String, usize, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_string(),
                usize::try_from(d["line"].as_u64().unwrap()).unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let error_line = line_of(&text, "a(done, B)");
    let warning_line = line_of(&text, "lookup(Item, Unused)");
    assert_eq!(
        expected.iter().map(|(severity, line, _)| (severity.as_str(), *line)).collect::<Vec<_>>(),
        [("error", error_line), ("warning", warning_line)],
        "the model has one error and one warning for `lcc check`: {expected:?}"
    );

    // The role change whose definition is asked for: on `paying` in `a(paying(P, S), B)`.
    let role_change = line_of(&text, "a(paying(P, S), B)");
    let column = text.lines().nth(role_change - 1).unwrap().find("paying").unwrap() + 1;
    let clause = line_of(&text, "a(paying(Price, Shop), B) ::");

    let records = run_nvim(
        tmp.path(),
        "e2e.lua",
        &[
            ("LCC_BIN", env!("CARGO_BIN_EXE_lcc")),
            ("LCC_MODEL", model.to_str().unwrap()),
            ("LCC_DEFINITION_AT", &format!("{role_change}:{column}")),
            ("LCC_MIN_DIAGNOSTICS", &expected.len().to_string()),
            ("NO_COLOR", "1"),
        ],
    );
    assert_eq!(records_of(&records, "attached").len(), 1, "{records:?}");
    let attaches = records_of(&records, "on_attach");
    assert_eq!(attaches.len(), 2, "on_attach runs for the first server and after :LccRestart: {records:?}");
    for record in attaches {
        assert_eq!((record[1].as_str(), Path::new(&record[2])), ("lcc", model.as_path()), "{record:?}");
    }

    let diagnostics = records_of(&records, "diagnostic");
    assert_eq!(
        diagnostics.len(),
        expected.len(),
        "the server's diagnostics: {diagnostics:?}, lcc check's: {expected:?}"
    );
    for (got, (severity, line, message)) in diagnostics.iter().zip(&expected) {
        assert_eq!(
            (got[1].as_str(), got[2].parse::<usize>().unwrap()),
            (severity.as_str(), *line),
            "{got:?}"
        );
        assert!(
            got[4].contains(message.as_str()),
            "the server says {:?} where lcc check says {message:?}",
            got[4]
        );
    }

    let definitions = records_of(&records, "definition");
    assert_eq!(definitions.len(), 1, "{records:?}");
    let definition = definitions[0];
    assert_eq!(Path::new(&definition[1]), model, "{definition:?}");
    assert_eq!(
        definition[2].parse::<usize>().unwrap(),
        clause,
        "the definition is the clause head: {definition:?}"
    );
    assert!(definition[4].starts_with("a(paying(Price, Shop), B) ::"), "{definition:?}");

    let restarted = records_of(&records, "restarted");
    assert_eq!(restarted.len(), 1, "{records:?}");
    assert_eq!(
        (restarted[0][1].as_str(), restarted[0][2].parse::<usize>().unwrap()),
        ("1", expected.len()),
        ":LccRestart leaves one server on the buffer, which publishes the diagnostics again"
    );
}
