//! `lcc verify`: check the model, build the scenarios, explore, report verdicts and
//! counterexamples (text, Mermaid or JSON).

use crate::cli::{Format, TraceFormat, VerifyArgs, When};
use crate::input;
use crate::json::Positions;
use crate::output::{self, Status, complain, count, write_stderr, write_stdout};
use lcc_check::ir;
use lcc_check::mc::explore::{Progress, StoreMode};
use lcc_check::mc::scenario::{self, BoundsOverride, Scenario};
use lcc_check::mc::value::Action;
use lcc_check::mc::verify::{self, Property, Report, Request, Trace, Verdict};
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub fn run(args: &VerifyArgs) -> Status {
    let source = match input::read_source(&args.file) {
        Ok(source) => source,
        Err(err) => {
            complain(err);
            return Status::Trouble;
        }
    };
    // Errors from `lcc check` block verification: the semantics of a broken model is not
    // defined.
    let (model, diagnostics) = lcc_check::check_source(&source.text);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        let summary = format!(
            "{} cannot be verified: fix the {} first (`lcc check {}`)",
            source.name,
            count(errors.len(), "error"),
            source.name
        );
        if args.format == Format::Json {
            // Tools get the same document shape as `lcc check --format json`, with a verdict.
            let positions = Positions::new(&source.text);
            let list: Vec<serde_json::Value> =
                errors.iter().map(|d| crate::json::diagnostic(&source.name, &positions, d)).collect();
            let doc =
                json!({ "file": source.name, "verdict": "error", "message": summary, "diagnostics": list });
            if let Err(err) = write_stdout(&format!("{doc:#}\n")) {
                return output::stdout_failed(&err);
            }
        }
        let color = output::stderr_color();
        for d in &errors {
            let mut rendered = Vec::new();
            let _ = d.render(&source.name, &source.text, color, &mut rendered);
            write_stderr(&String::from_utf8_lossy(&rendered));
        }
        complain(summary);
        return Status::Trouble;
    }
    let scenarios = match scenarios(args, &model) {
        Ok(s) => s,
        Err(message) => {
            complain(message);
            return Status::Trouble;
        }
    };
    let mut reports = Vec::new();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
        .max(1);
    let show_progress = match args.progress {
        When::Always => true,
        When::Never => false,
        When::Auto => std::io::stderr().is_terminal(),
    };
    let progress = |p: &Progress| {
        let rate = if p.seconds > 0.0 { p.states as f64 / p.seconds } else { 0.0 };
        write_stderr(&format!(
            "lcc verify: {} states, {} transitions, depth {}, {:.0} states/s, {:.1} MiB, {:.1} s\n",
            p.states,
            p.transitions,
            p.depth,
            rate,
            p.bytes as f64 / (1024.0 * 1024.0),
            p.seconds
        ));
    };
    for scenario in &scenarios {
        let texts: Vec<String> =
            if args.property.is_empty() { scenario.properties.clone() } else { args.property.clone() };
        let mut properties = Vec::new();
        for text in &texts {
            match Property::parse(text) {
                Ok(p) => properties.push(p),
                Err(err) => {
                    complain(format_args!(
                        "invalid property `{text}`: {} (at column {})\n  {text}\n  {}^",
                        err.message,
                        err.offset + 1,
                        " ".repeat(text.get(..err.offset).map_or(0, |p| p.chars().count()))
                    ));
                    return Status::Trouble;
                }
            }
        }
        let request = Request {
            scenario,
            properties,
            threads,
            mode: if args.hash_compaction { StoreMode::HashCompaction } else { StoreMode::Exact },
            full: args.full,
            reduce: !args.no_reduction,
            reproducible: true,
            progress: if show_progress { Some(&progress) } else { None },
        };
        match verify::verify(&model, &source.text, &request) {
            Ok(report) => {
                if show_progress {
                    progress(&Progress {
                        states: report.states,
                        transitions: report.transitions,
                        depth: report.depth,
                        seconds: report.seconds,
                        bytes: report.bytes,
                    });
                }
                reports.push(report);
            }
            Err(mismatch) => {
                complain(format_args!("scenario `{}`: {}", scenario.name, mismatch.message));
                if let Some(help) = mismatch.help {
                    write_stderr(&format!("  help: {help}\n"));
                }
                return Status::Trouble;
            }
        }
    }
    let positions = Positions::new(&source.text);
    let text = match args.format {
        Format::Human => reports
            .iter()
            .map(|r| human(r, &source.name, &positions, args.trace_format))
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Json => {
            let mut docs: Vec<serde_json::Value> =
                reports.iter().map(|r| report_json(r, &source.name, &positions, args.trace_format)).collect();
            let doc = if docs.len() == 1 {
                docs.pop().unwrap_or_default()
            } else {
                let verdict = reports.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Holds);
                json!({ "verdict": verdict.as_str(), "scenarios": docs })
            };
            format!("{doc:#}\n")
        }
    };
    if let Err(err) = write_stdout(&text) {
        return output::stdout_failed(&err);
    }
    match reports.iter().map(|r| r.verdict).max() {
        Some(Verdict::Violated) => Status::Failure,
        Some(Verdict::Inconclusive) => Status::Inconclusive,
        _ => Status::Success,
    }
}

/// The scenarios to run: `--peers`, else the scenario file, else the role declarations.
fn scenarios(args: &VerifyArgs, model: &ir::Model) -> Result<Vec<Scenario>, String> {
    let overrides = BoundsOverride {
        states: args.max_states,
        depth: args.max_depth,
        mailbox: args.mailbox,
        recursion: args.recursion,
    };
    if [args.max_states, args.max_depth].contains(&Some(0))
        || [args.mailbox, args.recursion].contains(&Some(0))
    {
        return Err("bounds must be positive".into());
    }
    let mut rules = Vec::new();
    for text in &args.assume {
        let rule = scenario::parse_assume(text)
            .map_err(|e| format!("invalid --assume `{text}`: {} (at column {})", e.message, e.offset + 1))?;
        rules.push(rule);
    }
    let mut list = if let Some(peers) = &args.peers {
        let peers = parse_peers_arg(peers)?;
        vec![Scenario {
            name: "command line".into(),
            peers,
            constraints: Vec::new(),
            bounds: Default::default(),
            properties: Vec::new(),
        }]
    } else if let Some(file) = scenario_file(args) {
        let name = file.display().to_string();
        let all = read_scenario_file(&file)?;
        if args.scenario.is_empty() {
            all
        } else {
            let mut chosen = Vec::new();
            for wanted in &args.scenario {
                match all.iter().find(|s| &s.name == wanted) {
                    Some(s) => chosen.push(s.clone()),
                    None => {
                        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                        return Err(format!(
                            "{name} has no scenario `{wanted}` (it has: {})",
                            names.join(", ")
                        ));
                    }
                }
            }
            chosen
        }
    } else {
        if !args.scenario.is_empty() {
            return Err("--scenario needs a scenario file, and there is none next to the model".into());
        }
        vec![declared_scenario(model)?]
    };
    for s in &mut list {
        s.bounds = s.bounds.apply(&overrides);
        for rule in &rules {
            s.assume(rule.clone());
        }
    }
    Ok(list)
}

fn scenario_file(args: &VerifyArgs) -> Option<PathBuf> {
    if let Some(file) = &args.scenario_file {
        return Some(file.clone());
    }
    if input::is_stdin(&args.file) {
        return None;
    }
    let candidate = scenario::scenario_file_for(&args.file);
    candidate.is_file().then_some(candidate)
}

/// `--peers TEXT`, parsed, or what is wrong with it and where.
pub(crate) fn parse_peers_arg(text: &str) -> Result<Vec<scenario::PeerSpec>, String> {
    scenario::parse_peers(text)
        .map_err(|e| format!("invalid --peers `{text}`: {} (at column {})", e.message, e.offset + 1))
}

/// The scenarios of a scenario file, or `file:line:col: what is wrong` (with help).
pub(crate) fn read_scenario_file(file: &Path) -> Result<Vec<Scenario>, String> {
    let name = file.display().to_string();
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {name}: {}", input::io_reason(&e)))?;
    scenario::parse_scenario_file(&text).map_err(|e| {
        let positions = Positions::new(&text);
        let (line, col) = positions.line_col(u32::try_from(e.span.start).unwrap_or(u32::MAX));
        let help = e.help.map(|h| format!("\n  help: {h}")).unwrap_or_default();
        format!("{name}:{line}:{col}: {}{help}", e.message)
    })
}

/// The scenario `lcc run` and `lcc viz --state-space` use when not told: the first of the
/// model's scenario file if it has one, else the role declarations.
pub(crate) fn default_scenario(model_path: &Path, model: &ir::Model) -> Result<Scenario, String> {
    let file = scenario::scenario_file_for(model_path);
    if input::is_stdin(model_path) || !file.is_file() {
        return declared_scenario(model);
    }
    read_scenario_file(&file)?.into_iter().next().ok_or_else(|| format!("{} has no scenario", file.display()))
}

/// The default population of LCC.md section 4: `Min` peers (default 1) of every initial and
/// necessary role, with ids `role1`, `role2`, … and `'?'` for role arguments.
pub(crate) fn declared_scenario(model: &ir::Model) -> Result<Scenario, String> {
    let peers = scenario::declared_peers(model);
    if peers.is_empty() {
        let example: Vec<String> = model
            .roles
            .iter()
            .take(2)
            .enumerate()
            .map(|(i, r)| format!("a({}, p{})", r.name, i + 1))
            .collect();
        return Err(format!(
            "no scenario: say which peers exist with --peers '{}', a scenario file {}, or role declarations \
             such as `r({}, initial, 1, 1)`",
            example.join(", "),
            "MODEL.verify.toml",
            model.roles.first().map_or("role", |r| r.name.as_str())
        ));
    }
    Ok(Scenario {
        name: "declared roles".into(),
        peers,
        constraints: Vec::new(),
        bounds: Default::default(),
        properties: Vec::new(),
    })
}

fn rate(r: &Report) -> (f64, f64) {
    let per_second = if r.seconds > 0.0 { r.states as f64 / r.seconds } else { r.states as f64 };
    let bytes = if r.states > 0 { r.bytes as f64 / r.states as f64 } else { 0.0 };
    (per_second, bytes)
}

fn human(r: &Report, file: &str, positions: &Positions<'_>, format: TraceFormat) -> String {
    let mut out = String::new();
    out.push_str(&format!("{file}: scenario `{}` with peers {}\n", r.scenario, r.peers.join(", ")));
    let (per_second, bytes) = rate(r);
    out.push_str(&format!(
        "explored {} states, {} transitions, depth {} in {:.2} s ({:.0} states/s, {:.0} bytes/state{})\n",
        r.states,
        r.transitions,
        r.depth,
        r.seconds,
        per_second,
        bytes,
        match (r.hash_compaction, r.reduced) {
            (true, true) => ", hash compaction, partial-order reduction",
            (true, false) => ", hash compaction",
            (false, true) => ", partial-order reduction",
            (false, false) => "",
        }
    ));
    if let Some(bound) = &r.bound {
        out.push_str(&format!("bound: {bound}\n"));
    }
    for p in &r.properties {
        out.push('\n');
        out.push_str(&format!("{}: {}", p.name, p.verdict));
        if let Some(note) = &p.note {
            out.push_str(&format!(" ({note})"));
        }
        out.push('\n');
        if let Some(trace) = &p.trace {
            match format {
                TraceFormat::Text => out.push_str(&trace_text(trace, file, positions)),
                TraceFormat::Mermaid => out.push_str(&lcc_viz::sequence_mermaid(trace, &r.peer_ids)),
                TraceFormat::Dot => out.push_str(&lcc_viz::sequence_dot(trace, &r.peer_ids)),
            }
        }
    }
    let violated = r.properties.iter().filter(|p| p.verdict == Verdict::Violated).count();
    out.push_str(&format!(
        "\nverdict: {} ({} of {} violated)\n",
        r.verdict,
        violated,
        count(r.properties.len(), "property").replace("propertys", "properties")
    ));
    out
}

fn actions_text(actions: &[Action]) -> String {
    actions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn trace_text(trace: &Trace, file: &str, positions: &Positions<'_>) -> String {
    let mut out = String::new();
    for (i, step) in trace.steps.iter().enumerate() {
        if trace.cycle_start == Some(i) {
            out.push_str("  -- the following steps repeat forever --\n");
        }
        let (line, col) = positions.line_col(step.span.start);
        out.push_str(&format!(
            "  {:>3}. {} as {}: {}  [{file}:{line}:{col}]\n",
            i + 1,
            step.peer,
            step.role,
            step.event
        ));
        if step.failed {
            out.push_str(&format!(
                "       {} failed: this event never happens\n",
                actions_text(&step.actions)
            ));
        } else if !step.actions.is_empty() {
            out.push_str(&format!("       {}\n", actions_text(&step.actions)));
        }
    }
    if trace.cycle_start.is_some() {
        out.push_str("  -- back to the start of the loop --\n");
    }
    for s in &trace.stuck {
        let (line, col) = positions.line_col(s.span.start);
        out.push_str(&format!(
            "  stuck: {} as {} at `{}` [{file}:{line}:{col}]: {}\n",
            s.peer, s.role, s.event, s.why
        ));
    }
    for m in &trace.in_flight {
        out.push_str(&format!("  in flight: {m}\n"));
    }
    out
}

fn report_json(r: &Report, file: &str, positions: &Positions<'_>, format: TraceFormat) -> serde_json::Value {
    let (per_second, bytes) = rate(r);
    let properties: Vec<serde_json::Value> = r
        .properties
        .iter()
        .map(|p| {
            let trace = p.trace.as_ref().map(|t| match format {
                TraceFormat::Mermaid => json!(lcc_viz::sequence_mermaid(t, &r.peer_ids)),
                TraceFormat::Dot => json!(lcc_viz::sequence_dot(t, &r.peer_ids)),
                TraceFormat::Text => trace_json(t, positions),
            });
            json!({ "name": p.name, "verdict": p.verdict.as_str(), "note": p.note, "trace": trace })
        })
        .collect();
    json!({
        "file": file,
        "scenario": r.scenario,
        "peers": r.peers,
        "verdict": r.verdict.as_str(),
        "states": r.states,
        "transitions": r.transitions,
        "depth": r.depth,
        "seconds": r.seconds,
        "states_per_second": per_second.round(),
        "bytes_per_state": bytes.round(),
        "hash_compaction": r.hash_compaction,
        "reduced": r.reduced,
        "bound": r.bound,
        "deadlock_states": r.deadlock_states,
        "properties": properties,
    })
}

fn trace_json(t: &Trace, positions: &Positions<'_>) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = t
        .steps
        .iter()
        .map(|s| {
            let (line, column) = positions.line_col(s.span.start);
            json!({
                "peer": s.peer.to_string(),
                "role": s.role.to_string(),
                "event": s.event,
                "line": line,
                "column": column,
                "actions": s.actions.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "guard_failed": s.failed,
            })
        })
        .collect();
    let stuck: Vec<serde_json::Value> = t
        .stuck
        .iter()
        .map(|s| {
            let (line, column) = positions.line_col(s.span.start);
            json!({ "peer": s.peer.to_string(), "role": s.role.to_string(), "event": s.event,
                    "line": line, "column": column, "why": s.why })
        })
        .collect();
    json!({ "steps": steps, "cycle_start": t.cycle_start, "stuck": stuck, "in_flight": t.in_flight })
}
