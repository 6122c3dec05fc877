//! `lcc viz`: the interaction diagram (or state space) of a model, as Graphviz DOT, SVG or
//! PNG. SVG and PNG come from Graphviz `dot` when it is on PATH (or asked for), else from
//! lcc's own layout (`lcc_viz::interaction_svg`, `lcc_viz::graph_svg`) and, for PNG, resvg.

use crate::cli::{Engine, VizArgs, VizFormat};
use crate::input;
use crate::output::{self, Status, complain, write_stderr};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long Graphviz may take before it is stopped.
const DOT_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(args: &VizArgs) -> Status {
    match draw(args) {
        Ok(status) => status,
        Err(message) => {
            complain(message);
            Status::Trouble
        }
    }
}

fn draw(args: &VizArgs) -> Result<Status, String> {
    let format = output_format(args)?;
    // Checked before any work: a bitmap on a terminal is garbage, and may upset it.
    if format == VizFormat::Png && args.output.is_none() && std::io::stdout().is_terminal() {
        return Err(
            "not writing PNG to a terminal: write to a file with `-o out.png` or redirect standard output"
                .to_string(),
        );
    }
    let source = input::read_source(&args.file).map_err(|err| err.to_string())?;
    let (model, diagnostics) = lcc_check::check_source(&source.text);
    input::refuse_errors(&source, &diagnostics, "drawn")?;
    for role in &args.role {
        if model.role_named(role).is_none() {
            let names: Vec<&str> = model.roles.iter().map(|r| r.name.as_str()).collect();
            return Err(format!("{} has no role `{role}` (its roles: {})", source.name, names.join(", ")));
        }
    }
    let options = lcc_viz::Options { roles: args.role.clone(), max_label: Some(args.max_label) };
    let dot = if args.state_space {
        state_space(args, &model)?
    } else {
        lcc_viz::interaction_dot(&model, &source.text, &options)
    };
    let bytes = match format {
        VizFormat::Dot => dot.into_bytes(),
        VizFormat::Svg | VizFormat::Png => match graphviz(args.engine)? {
            Some(dot_program) => match run_dot(&dot_program, &dot, format) {
                Ok(bytes) => bytes,
                // A known dot bug on some graphs; the same drawing with ranked message arrows
                // lays out (see `lcc_viz::with_ranked_messages`).
                Err(e) if e.contains("trouble in init_rank") && !args.state_space => {
                    run_dot(&dot_program, &lcc_viz::with_ranked_messages(&dot), format)?
                }
                Err(e) => return Err(e),
            },
            None => {
                // The built-in layout: the swimlane drawing, or a plain graph for the state space.
                let svg = if args.state_space {
                    lcc_viz::graph_svg(&dot)?
                } else {
                    lcc_viz::interaction_svg(&model, &source.text, &options)
                };
                if format == VizFormat::Png { png(&svg)? } else { svg.into_bytes() }
            }
        },
    };
    Ok(write(args.output.as_deref(), &bytes))
}

/// `--format`, else the extension of `-o`, else DOT.
fn output_format(args: &VizArgs) -> Result<VizFormat, String> {
    if let Some(format) = args.format {
        return Ok(format);
    }
    let Some(path) = &args.output else { return Ok(VizFormat::Dot) };
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("dot" | "gv") => Ok(VizFormat::Dot),
        Some("svg") => Ok(VizFormat::Svg),
        Some("png") => Ok(VizFormat::Png),
        _ => Err(format!(
            "cannot tell the format of {} from its name: name it `.dot`, `.gv`, `.svg` or `.png`, or say `--format dot|svg|png`",
            path.display()
        )),
    }
}

/// The Graphviz `dot` to run, or `None` for the built-in layout.
fn graphviz(engine: Engine) -> Result<Option<PathBuf>, String> {
    match engine {
        Engine::Builtin => Ok(None),
        Engine::Auto => Ok(on_path("dot")),
        Engine::Dot => on_path("dot").map(Some).ok_or_else(|| {
            "--engine dot: Graphviz `dot` is not on PATH; install Graphviz (`apt-get install graphviz`) or use `--engine builtin`"
                .to_string()
        }),
    }
}

/// The first executable file called `name` in a directory of PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

/// Runs `dot -Tsvg` or `dot -Tpng` with the DOT on its standard input, for at most
/// [`DOT_TIMEOUT`]. Its warnings are passed on; a failure is an error with its stderr.
fn run_dot(program: &Path, dot: &str, format: VizFormat) -> Result<Vec<u8>, String> {
    let mut command = Command::new(program);
    match format {
        // Twice Graphviz's 96 dpi, as crisp as the built-in PNG.
        VizFormat::Png => command.args(["-Tpng", "-Gdpi=192"]),
        _ => command.arg("-Tsvg"),
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run Graphviz `{}`: {}", program.display(), input::io_reason(&e)))?;
    // Feed and drain on threads: dot may write before it has read everything.
    let feeder = child.stdin.take().map(|mut stdin| {
        let text = dot.to_string();
        // A failed write (dot exited early) shows up as dot's own error below.
        std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        })
    });
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        pipe.map(|mut pipe| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                bytes
            })
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > DOT_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "Graphviz `dot` took more than {} s and was stopped; try `--engine builtin`",
                    DOT_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("cannot wait for Graphviz `dot`: {e}")),
        }
    };
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    let collect =
        |h: Option<std::thread::JoinHandle<Vec<u8>>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    let (out, err) = (collect(stdout), collect(stderr));
    let err = String::from_utf8_lossy(&err);
    if !status.success() || out.is_empty() {
        // dot may dump hundreds of lines of internal state: the first few say what happened.
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        let reason = match lines.len() {
            0 => format!("it exited with {status}"),
            n if n <= 6 => lines.join("\n"),
            n => {
                let first: Vec<&str> = lines.iter().take(6).copied().collect();
                format!("{}\n(and {} more lines)", first.join("\n"), n - 6)
            }
        };
        return Err(format!("Graphviz `dot` failed: {reason}"));
    }
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        write_stderr(&format!("lcc: dot: {line}\n"));
    }
    Ok(out)
}

#[cfg(feature = "png")]
fn png(svg: &str) -> Result<Vec<u8>, String> {
    crate::raster::png(svg)
}

#[cfg(not(feature = "png"))]
fn png(_svg: &str) -> Result<Vec<u8>, String> {
    Err("this lcc was built without PNG support (cargo feature `png`): write SVG, or use `--engine dot` with Graphviz installed".to_string())
}

/// Writes the drawing to the file, or to standard output.
fn write(path: Option<&Path>, bytes: &[u8]) -> Status {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Ok(()) => Status::Success,
                Err(err) => output::stdout_failed(&err),
            }
        }
        Some(path) => match std::fs::write(path, bytes) {
            Ok(()) => Status::Success,
            Err(err) => {
                complain(format_args!("cannot write {}: {}", path.display(), input::io_reason(&err)));
                Status::Trouble
            }
        },
    }
}

/// The state space of the scenario: `--peers`, else the first of the scenario file, else the
/// role declarations.
fn state_space(args: &VizArgs, model: &lcc_check::ir::Model) -> Result<String, String> {
    use lcc_check::mc::scenario;
    let chosen = match &args.peers {
        Some(peers) => scenario::Scenario {
            name: "command line".into(),
            peers: crate::verify::parse_peers_arg(peers)?,
            constraints: Vec::new(),
            bounds: Default::default(),
            properties: Vec::new(),
        },
        None => crate::verify::default_scenario(&args.file, model)?,
    };
    let space = lcc_check::mc::verify::state_space(model, &chosen, args.max_states)
        .map_err(|m| format!("scenario `{}`: {}", chosen.name, m.message))?;
    Ok(lcc_viz::state_space_dot(&space))
}
