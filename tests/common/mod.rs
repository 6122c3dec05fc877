//! Running the `lcc` binary from the integration tests (`cli.rs`, `verify.rs`, `viz.rs`).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What `lcc` wrote, with its stdout as bytes (PNG from `lcc viz`).
pub struct RawOutput {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Runs `lcc ARGS` in `dir` with `stdin` as its standard input (empty if `None`), without a
/// terminal and with `NO_COLOR` unset unless `env` sets it. A panic of lcc fails the test.
pub fn run_lcc(dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let out = run_lcc_raw(dir, args, stdin, env);
    Output {
        code: out.code,
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: out.stderr,
    }
}

/// [`run_lcc`], with stdout as bytes.
pub fn run_lcc_raw(dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> RawOutput {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lcc"));
    cmd.args(args).current_dir(dir).env_remove("NO_COLOR");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn lcc");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(bytes).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for lcc");
    let output = RawOutput {
        code: out.status.code().expect("lcc exited normally, not by a signal"),
        stdout: out.stdout,
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        output.code != 101 && !output.stderr.contains("panicked"),
        "lcc {args:?} panicked:\n{}",
        output.stderr
    );
    output
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lcc-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// The path of `name` in the directory, as a string for command lines.
    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
    /// The names of the files in the directory, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How long a run with provider processes may take before a test calls it hung.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// The root of the package: commands of the stdlib and runtime tests run there, with paths
/// like `stdlib/vm/balance.lcc`.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `lcc ARGS` in the root of the package.
pub fn lcc(args: &[&str]) -> Output {
    run_lcc(root(), args, None, &[])
}

/// [`lcc`] for runs with provider processes: fails the test (and kills lcc) instead of hanging
/// when lcc has not ended after [`PATIENCE`]. A panic of lcc fails the test, as in
/// [`run_lcc`].
pub fn lcc_patiently(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lcc"))
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lcc");
    let mut stdout = child.stdout.take().expect("stdout pipe");
    let mut stderr = child.stderr.take().expect("stderr pipe");
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).map(|_| text)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for lcc") {
            break status;
        }
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("lcc {args:?} did not end within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = Output {
        code: status.code().expect("lcc exited normally, not by a signal"),
        stdout: stdout.join().unwrap().expect("stdout is UTF-8"),
        stderr: stderr.join().unwrap().expect("stderr is UTF-8"),
    };
    assert!(out.code != 101 && !out.stderr.contains("panicked"), "lcc {args:?} panicked:\n{}", out.stderr);
    out
}

/// Whether `python3` is on PATH; says that the calling test skipped when it is not.
pub fn python3(test: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("python3").is_file()));
    if !found {
        eprintln!("skipped {test}: `python3` is not on PATH");
    }
    found
}

/// Every line of a `--trace json` output, parsed; the last one is the `end` event.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{stdout}"))
        })
        .collect();
    assert!(!lines.is_empty(), "no output");
    for line in &lines[..lines.len() - 1] {
        assert_ne!(line["event"], "end", "`end` before the last line:\n{stdout}");
    }
    assert_eq!(lines.last().unwrap()["event"], "end", "the last line is not the end:\n{stdout}");
    lines
}

/// The actions of every step of a `--trace json` output, in order.
pub fn trace_actions(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["event"] == "step")
        .flat_map(|s| {
            s["actions"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(str::to_string))
        })
        .collect()
}

/// The final report of peer `id` in the `end` event (the last line) of a `--trace json` output.
pub fn trace_peer<'a>(lines: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    let end = lines.last().expect("an `end` line");
    end["peers"]
        .as_array()
        .and_then(|peers| peers.iter().find(|p| p["id"] == id))
        .unwrap_or_else(|| panic!("no peer {id} at the end: {end}"))
}

/// A finished `lcc run ... --trace json`: every line parsed, the last one the `end` event.
pub struct JsonRun {
    pub lines: Vec<serde_json::Value>,
    /// The command line, for failure messages.
    pub args: Vec<String>,
}

impl JsonRun {
    /// Runs `lcc ARGS` (a `run` with `--trace json`), which must exit 0.
    pub fn new(args: &[&str]) -> JsonRun {
        let out = lcc(args);
        assert_eq!(out.code, 0, "lcc {args:?} did not end in success:\n{}\n{}", out.stdout, out.stderr);
        JsonRun { lines: json_lines(&out.stdout), args: args.iter().map(|a| a.to_string()).collect() }
    }

    /// The `end` event.
    pub fn end(&self) -> &serde_json::Value {
        self.lines.last().expect("an `end` line")
    }

    /// The actions of every step, in order.
    pub fn actions(&self) -> Vec<String> {
        trace_actions(&self.lines)
    }

    /// The actions that start with `prefix` (`send(h1, h2, `), in order.
    pub fn matching(&self, prefix: &str) -> Vec<String> {
        self.actions().into_iter().filter(|a| a.starts_with(prefix)).collect()
    }

    /// The final report of a peer in the `end` event.
    pub fn peer(&self, id: &str) -> &serde_json::Value {
        trace_peer(&self.lines, id)
    }
}
