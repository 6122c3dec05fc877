//! External providers: constraints answered by a separate process that speaks line-delimited
//! JSON over its stdin and stdout (`docs/constraint-abi.md`).
//!
//! lcc starts the process with `sh -c <command>`, says hello (`{"lcc":"constraint-abi",
//! "version":1}`) and reads the list of constraints it provides; then each call is one line
//! out (`{"id":N,"peer":…,"constraint":…,"args":[…]}`) and one line back (`{"id":N,
//! "solutions":[[…],…]}` or `{"id":N,"error":"…"}`). Values are encoded as in [`crate::wire`].
//!
//! Nothing the process does can panic or hang lcc: every wait has a deadline (a reader thread
//! forwards stdout lines over a channel, a writer thread writes requests), a process that
//! crashes, closes its output or overruns the timeout is killed and reaped and fails the call
//! (and every later call), and a line that is not a proper answer fails only its call. The last
//! lines the process wrote to stderr are kept and quoted when it dies.

use crate::abi::{ABI_VERSION, Call, Provider, ProviderError, ProviderId, Registry, Solutions};
use crate::wire::{self, value_from_json_at, value_to_json};
use lcc_check::mc::value::Value;
use serde_json::Value as Json;
use smol_str::SmolStr;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many stderr lines are kept for error messages.
const STDERR_LINES: usize = 20;
/// How much of one stderr line is kept.
const STDERR_LINE_CHARS: usize = 300;
/// How much of a garbage line an error message quotes.
const GARBAGE_CHARS: usize = 200;
/// How long a process whose output ended may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_millis(500);
/// How long a dropped provider may take to exit after its stdin is closed.
const DROP_GRACE: Duration = Duration::from_millis(100);
/// How long to wait for the last stderr lines of a process that ended.
const STDERR_GRACE: Duration = Duration::from_millis(200);
/// How many abandoned call ids are remembered (their late answers are skipped).
const ABANDONED_IDS: usize = 16;

/// What the reader and writer threads report.
enum Event {
    Line(String),
    Eof,
    ReadFailed(String),
    WriteFailed(String),
}

/// A constraint provider in a separate process (see the module documentation).
pub struct ProcessProvider {
    command: String,
    timeout: Duration,
    child: Child,
    /// The exit status, once the child is reaped.
    status: Option<ExitStatus>,
    /// Lines to write to the child's stdin (closed on drop).
    requests: Option<Sender<Vec<u8>>>,
    events: Receiver<Event>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// Disconnected once the stderr thread has read everything.
    stderr_done: Receiver<()>,
    constraints: Vec<(SmolStr, usize)>,
    next_id: u64,
    /// Calls that failed on a garbage line before their answer came: a late answer to one of
    /// them is skipped rather than taken for garbage.
    abandoned: VecDeque<u64>,
    /// Why the process cannot answer any more (it is then reaped).
    dead: Option<String>,
}

/// Why a wait for a line ended without one.
enum NoLine {
    TimedOut,
    /// The process ended or its pipes broke; the text says how.
    Gone(String),
}

impl ProcessProvider {
    /// Starts `sh -c command` and performs the handshake, waiting at most `timeout` for the
    /// process to answer it (and, later, for each call).
    pub fn spawn(command: &str, timeout: Duration) -> Result<ProcessProvider, ProviderError> {
        ProcessProvider::spawn_with_startup(command, timeout, timeout)
    }

    /// [`ProcessProvider::spawn`] with a separate deadline for the handshake, for providers
    /// that are slow to start (loading data, importing libraries) but quick to answer.
    pub fn spawn_with_startup(
        command: &str,
        timeout: Duration,
        startup: Duration,
    ) -> Result<ProcessProvider, ProviderError> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(command).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // Its own process group, so that killing it also kills what `sh` started.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child =
            cmd.spawn().map_err(|e| ProviderError(format!("could not start process `{command}`: {e}")))?;
        let (stdin, stdout, stderr) = match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
            (Some(stdin), Some(stdout), Some(stderr)) => (stdin, stdout, stderr),
            _ => {
                kill_and_reap(&mut child);
                return Err(ProviderError(format!("could not start process `{command}`: no pipes")));
            }
        };
        let (event_tx, events) = mpsc::channel();
        let (requests, request_rx) = mpsc::channel();
        let stderr_lines = Arc::new(Mutex::new(VecDeque::new()));
        let (stderr_tx, stderr_done) = mpsc::channel();
        let threads = [
            spawn_thread("lcc-provider-stdout", {
                let event_tx = event_tx.clone();
                move || read_stdout(stdout, &event_tx)
            }),
            spawn_thread("lcc-provider-stdin", move || write_stdin(stdin, &request_rx, &event_tx)),
            spawn_thread("lcc-provider-stderr", {
                let lines = Arc::clone(&stderr_lines);
                move || {
                    read_stderr(stderr, &lines);
                    drop(stderr_tx);
                }
            }),
        ];
        let mut provider = ProcessProvider {
            command: command.to_string(),
            timeout,
            child,
            status: None,
            requests: Some(requests),
            events,
            stderr: stderr_lines,
            stderr_done,
            constraints: Vec::new(),
            next_id: 1,
            abandoned: VecDeque::new(),
            dead: None,
        };
        if let Some(Err(e)) = threads.into_iter().find(Result::is_err) {
            // Dropping the provider kills and reaps the child.
            return Err(ProviderError(format!("could not start process `{command}`: {e}")));
        }
        provider.handshake(startup)?;
        Ok(provider)
    }

    /// The constraints (name, arity) the process said it provides.
    pub fn constraints(&self) -> &[(SmolStr, usize)] {
        &self.constraints
    }

    /// Whether the process provides `name/arity`.
    pub fn provides(&self, name: &str, arity: usize) -> bool {
        self.constraints.iter().any(|(n, a)| n == name && *a == arity)
    }

    /// The command it was started with.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The process id of the child (`sh`, or what it executed).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Why the process can no longer answer (it crashed, timed out, …), if it cannot.
    pub fn dead(&self) -> Option<&str> {
        self.dead.as_deref()
    }

    /// Adds this provider to `registry` and binds every constraint it provides to it.
    pub fn register(self, registry: &mut Registry) -> ProviderId {
        let constraints = self.constraints.clone();
        let id = registry.add(Box::new(self));
        for (name, arity) in &constraints {
            registry.bind(name, *arity, id);
        }
        id
    }

    fn handshake(&mut self, startup: Duration) -> Result<(), ProviderError> {
        let deadline = Instant::now() + startup;
        let hello = format!("{{\"lcc\":\"constraint-abi\",\"version\":{ABI_VERSION}}}\n");
        let failed = |this: &Self, why: String| {
            ProviderError(format!("process `{}` failed the constraint ABI handshake: {why}", this.command))
        };
        if let Some(requests) = &self.requests
            && requests.send(hello.into_bytes()).is_err()
        {
            let why = self.bury("its input could not be written");
            return Err(failed(self, why));
        }
        let line = match self.next_line(deadline) {
            Ok(line) => line,
            Err(NoLine::TimedOut) => {
                self.kill();
                let why = format!("no answer within {startup:?}; it was killed{}", self.stderr_tail());
                self.dead = Some(format!("it did not answer the handshake within {startup:?}"));
                return Err(failed(self, why));
            }
            Err(NoLine::Gone(how)) => {
                let why = self.bury(&how);
                return Err(failed(self, why));
            }
        };
        match parse_handshake(&line) {
            Ok(constraints) => {
                self.constraints = constraints;
                Ok(())
            }
            Err(why) => {
                self.kill();
                self.dead = Some("it failed the handshake".into());
                Err(failed(self, format!("{why}{}", self.stderr_tail())))
            }
        }
    }

    /// The next non-blank line from stdout, waiting until `deadline` at most.
    fn next_line(&mut self, deadline: Instant) -> Result<String, NoLine> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Line(line)) if line.trim().is_empty() => continue,
                Ok(Event::Line(line)) => return Ok(line),
                Ok(Event::Eof) => return Err(NoLine::Gone("it closed its output".into())),
                Ok(Event::ReadFailed(e)) => {
                    return Err(NoLine::Gone(format!("reading its output failed: {e}")));
                }
                Ok(Event::WriteFailed(e)) => {
                    return Err(NoLine::Gone(format!("writing to it failed: {e}")));
                }
                Err(RecvTimeoutError::Timeout) => return Err(NoLine::TimedOut),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(NoLine::Gone("its pipes were closed".into()));
                }
            }
        }
    }

    /// The process is gone (`how` says what was seen): waits briefly for it to exit (or kills
    /// it), reaps it, marks the provider dead and says what happened, with its last stderr.
    /// When it exited by itself, its exit status says it all (and `how` may vary: its output
    /// closed, or writing to it failed first).
    fn bury(&mut self, how: &str) -> String {
        let ended = match self.wait_exit(EXIT_GRACE) {
            Some(status) => {
                self.dead = Some(format!("it ended earlier ({status})"));
                format!("it ended ({status})")
            }
            None => {
                self.kill();
                self.dead = Some(format!("it was killed earlier ({how})"));
                format!("{how}; it was killed")
            }
        };
        format!("{ended}{}", self.stderr_tail())
    }

    /// Waits up to `within` for the child to exit by itself; its status if it did.
    fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.status {
                return Some(status);
            }
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.status = Some(status);
                    return Some(status);
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Kills the child (and its process group) and reaps it, unless it is reaped already.
    fn kill(&mut self) {
        if self.status.is_none() {
            self.status = kill_and_reap(&mut self.child);
        }
    }

    /// `"; its last stderr lines:\n    …"`, or nothing when it wrote none. Waits briefly for
    /// the stderr thread to catch up when the process has ended.
    fn stderr_tail(&self) -> String {
        if self.status.is_some() {
            let _ = self.stderr_done.recv_timeout(STDERR_GRACE);
        }
        let lines = match self.stderr.lock() {
            Ok(lines) => lines.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if lines.is_empty() {
            return String::new();
        }
        let mut text = String::from("; its last stderr lines:");
        for line in lines {
            text.push_str("\n    ");
            text.push_str(&line);
        }
        text
    }

    fn abandon(&mut self, id: u64) {
        if self.abandoned.len() == ABANDONED_IDS {
            self.abandoned.pop_front();
        }
        self.abandoned.push_back(id);
    }
}

impl Provider for ProcessProvider {
    fn call(&mut self, call: &Call<'_>) -> Result<Solutions, ProviderError> {
        let shown = show_call(call);
        if let Some(why) = &self.dead {
            return Err(ProviderError(format!("process `{}` cannot answer `{shown}`: {why}", self.command)));
        }
        if !self.provides(call.name, call.args.len()) {
            return Err(ProviderError(format!(
                "process `{}` does not provide `{}/{}`",
                self.command,
                call.name,
                call.args.len()
            )));
        }
        let id = self.next_id;
        self.next_id += 1;
        let request = request_line(id, call);
        let sent = self.requests.as_ref().is_some_and(|requests| requests.send(request.into_bytes()).is_ok());
        if !sent {
            let why = self.bury("its input could not be written");
            return Err(ProviderError(format!(
                "process `{}` could not answer `{shown}`: {why}",
                self.command
            )));
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let line = match self.next_line(deadline) {
                Ok(line) => line,
                Err(NoLine::TimedOut) => {
                    self.kill();
                    let timeout = self.timeout;
                    self.dead =
                        Some(format!("it timed out earlier (no answer to `{shown}` within {timeout:?})"));
                    return Err(ProviderError(format!(
                        "process `{}` did not answer `{shown}` within {timeout:?}; it was killed{}",
                        self.command,
                        self.stderr_tail()
                    )));
                }
                Err(NoLine::Gone(how)) => {
                    let why = self.bury(&how);
                    return Err(ProviderError(format!(
                        "process `{}` could not answer `{shown}`: {why}",
                        self.command
                    )));
                }
            };
            match parse_answer(&line, id, call.args.len()) {
                Answer::Solutions(solutions) => return Ok(solutions),
                Answer::Error(text) => {
                    return Err(ProviderError(format!(
                        "process `{}` reported an error for `{shown}`: {text}",
                        self.command
                    )));
                }
                Answer::Stale(old) if self.abandoned.contains(&old) => {
                    self.abandoned.retain(|&a| a != old);
                    continue;
                }
                Answer::Stale(other) => {
                    self.abandon(id);
                    return Err(garbage(
                        &self.command,
                        &shown,
                        &format!("it has id {other}, expected {id}"),
                        &line,
                    ));
                }
                Answer::Garbage(why) => {
                    self.abandon(id);
                    return Err(garbage(&self.command, &shown, &why, &line));
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!("process `{}`", self.command)
    }
}

impl std::fmt::Debug for ProcessProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessProvider")
            .field("command", &self.command)
            .field("pid", &self.child.id())
            .field("timeout", &self.timeout)
            .field("constraints", &self.constraints)
            .field("dead", &self.dead)
            .finish_non_exhaustive()
    }
}

impl Drop for ProcessProvider {
    fn drop(&mut self) {
        if self.status.is_none() {
            // Closing its stdin lets a well-behaved provider exit by itself.
            self.requests = None;
            if self.wait_exit(DROP_GRACE).is_none() {
                self.kill();
            }
        }
    }
}

fn garbage(command: &str, shown: &str, why: &str, line: &str) -> ProviderError {
    ProviderError(format!(
        "process `{command}` gave a garbage answer to `{shown}` ({why}): {}",
        wire::truncate(line, GARBAGE_CHARS)
    ))
}

/// The call as LCC writes it (`in_stock(apple, _)`).
fn show_call(call: &Call<'_>) -> String {
    if call.args.is_empty() { call.name.to_string() } else { call.to_string() }
}

/// `{"id":N,"peer":…,"constraint":"…","args":[…]}` and a newline, keys in that order.
fn request_line(id: u64, call: &Call<'_>) -> String {
    format!(
        "{{\"id\":{id},\"peer\":{},\"constraint\":{},\"args\":{}}}\n",
        value_to_json(call.peer),
        Json::String(call.name.to_string()),
        wire::values_to_json(call.args)
    )
}

enum Answer {
    Solutions(Solutions),
    Error(String),
    /// A well-formed line for another call (its id).
    Stale(u64),
    Garbage(String),
}

fn parse_answer(line: &str, id: u64, arity: usize) -> Answer {
    let json: Json = match serde_json::from_str(line) {
        Ok(json) => json,
        Err(e) => return Answer::Garbage(format!("not JSON: {e}")),
    };
    let Json::Object(fields) = &json else {
        return Answer::Garbage(format!("expected a JSON object, found {}", wire::brief(&json)));
    };
    let answer_id = match fields.get("id") {
        Some(other) => match other.as_u64() {
            Some(answer_id) => answer_id,
            None => return Answer::Garbage(format!("`id` must be a call id, found {}", wire::brief(other))),
        },
        None => return Answer::Garbage("it has no `id`".into()),
    };
    let answer = match (fields.get("solutions"), fields.get("error")) {
        (Some(solutions), None) => match parse_solutions(solutions, arity) {
            Ok(solutions) => Answer::Solutions(solutions),
            Err(why) => Answer::Garbage(why),
        },
        (None, Some(Json::String(text))) => Answer::Error(text.clone()),
        (None, Some(other)) => {
            Answer::Garbage(format!("`error` must be a string, found {}", wire::brief(other)))
        }
        (Some(_), Some(_)) => Answer::Garbage("it has both `solutions` and `error`".into()),
        (None, None) => Answer::Garbage("it has neither `solutions` nor `error`".into()),
    };
    if answer_id != id {
        return Answer::Stale(answer_id);
    }
    answer
}

fn parse_solutions(json: &Json, arity: usize) -> Result<Solutions, String> {
    let Json::Array(solutions) = json else {
        return Err(format!("`solutions` must be an array of solutions, found {}", wire::brief(json)));
    };
    let mut out = Vec::with_capacity(solutions.len());
    for (i, solution) in solutions.iter().enumerate() {
        let Json::Array(values) = solution else {
            return Err(format!(
                "solutions[{i}]: expected an array of {arity} values, found {}",
                wire::brief(solution)
            ));
        };
        if values.len() != arity {
            return Err(format!(
                "solutions[{i}]: expected {arity} value{}, one per argument, found {}",
                if arity == 1 { "" } else { "s" },
                values.len()
            ));
        }
        let values = values
            .iter()
            .enumerate()
            .map(|(j, v)| value_from_json_at(v, &format!("solutions[{i}][{j}]")))
            .collect::<Result<Vec<Value>, String>>()?;
        out.push(values);
    }
    Ok(out)
}

fn parse_handshake(line: &str) -> Result<Vec<(SmolStr, usize)>, String> {
    let quote = || wire::truncate(line, GARBAGE_CHARS);
    let json: Json =
        serde_json::from_str(line).map_err(|e| format!("its answer is not JSON ({e}): {}", quote()))?;
    let Json::Object(fields) = &json else {
        return Err(format!("its answer is not a JSON object: {}", quote()));
    };
    if let Some(Json::String(error)) = fields.get("error") {
        return Err(format!("it reported an error: {error}"));
    }
    match fields.get("version") {
        Some(Json::Number(n)) if n.as_u64() == Some(u64::from(ABI_VERSION)) => {}
        Some(Json::Number(n)) => {
            return Err(format!("it speaks constraint ABI version {n}, lcc speaks version {ABI_VERSION}"));
        }
        Some(_) | None => {
            return Err(format!("its answer has no numeric `version`: {}", quote()));
        }
    }
    let Some(Json::Array(list)) = fields.get("constraints") else {
        return Err(format!("its answer has no `constraints` array: {}", quote()));
    };
    let mut constraints: Vec<(SmolStr, usize)> = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let name = entry.get("name").and_then(Json::as_str).filter(|name| !name.is_empty());
        let arity = entry.get("arity").and_then(Json::as_u64).and_then(|a| usize::try_from(a).ok());
        let (Some(name), Some(arity)) = (name, arity) else {
            return Err(format!(
                "constraints[{i}]: expected {{\"name\": \"…\", \"arity\": N}}, found {}",
                wire::brief(entry)
            ));
        };
        if !constraints.iter().any(|(n, a)| n == name && *a == arity) {
            constraints.push((SmolStr::new(name), arity));
        }
    }
    Ok(constraints)
}

fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new().name(name.into()).spawn(f).map(drop)
}

fn read_stdout(stdout: impl Read, events: &Sender<Event>) {
    let mut reader = BufReader::new(stdout);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match reader.read_until(b'\n', &mut buf) {
            Ok(0) => Event::Eof,
            Ok(_) => Event::Line(line_text(&buf)),
            Err(e) => Event::ReadFailed(e.to_string()),
        };
        let last = !matches!(event, Event::Line(_));
        if events.send(event).is_err() || last {
            return;
        }
    }
}

fn write_stdin(mut stdin: ChildStdin, requests: &Receiver<Vec<u8>>, events: &Sender<Event>) {
    // Ends when the provider drops its sender (closing the child's stdin) or a write fails.
    while let Ok(line) = requests.recv() {
        if let Err(e) = stdin.write_all(&line).and_then(|()| stdin.flush()) {
            let _ = events.send(Event::WriteFailed(e.to_string()));
            return;
        }
    }
}

fn read_stderr(stderr: impl Read, lines: &Mutex<VecDeque<String>>) {
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = wire::truncate(&line_text(&buf), STDERR_LINE_CHARS);
                let mut lines = match lines.lock() {
                    Ok(lines) => lines,
                    Err(poisoned) => poisoned.into_inner(),
                };
                if lines.len() == STDERR_LINES {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        }
    }
}

/// A line without its line ending, invalid UTF-8 replaced.
fn line_text(buf: &[u8]) -> String {
    let text = String::from_utf8_lossy(buf);
    text.trim_end_matches(['\n', '\r']).to_string()
}

/// Kills the child and everything in its process group, and reaps it.
fn kill_and_reap(child: &mut Child) -> Option<ExitStatus> {
    #[cfg(unix)]
    {
        // The child leads its own process group (see `spawn`); `kill` reaches what `sh` started.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    child.wait().ok()
}
