//! `lcc run`: execute a model in-process, printing events as they happen and the final state
//! of every peer.

use crate::cli::{RunArgs, RunTrace};
use crate::input::{self, Source};
use crate::json::Positions;
use crate::output::{Status, complain, count, write_stderr, write_stdout};
use lcc_check::ir;
use lcc_check::mc::scenario::{self, Behaviour, PeerSpec};
use lcc_check::mc::value::{ABSTRACT, Value};
use lcc_check::mc::verify::{Step as TraceStep, Stuck, Trace};
use lcc_runtime::abi::{Registry, TableProvider};
use lcc_runtime::bytecode;
use lcc_runtime::process::ProcessProvider;
use lcc_runtime::solve::Notice;
use lcc_runtime::vm::{Ending, Options, PeerReport, RunEnd, Status as PeerStatus, Step, Vm};
use lcc_syntax::ast::Span;
use serde_json::json;
use std::time::Duration;

pub fn run(args: &RunArgs) -> Status {
    match execute(args) {
        Ok(status) => status,
        Err(message) => {
            complain(message);
            Status::Trouble
        }
    }
}

fn execute(args: &RunArgs) -> Result<Status, String> {
    let source = input::read_source(&args.file).map_err(|e| e.to_string())?;
    let (model, diagnostics) = lcc_check::check_source(&source.text);
    input::refuse_errors(&source, &diagnostics, "run")?;
    let program = bytecode::program(&model);
    if args.dump_bytecode {
        write_stdout(&program.disassemble()).map_err(|e| format!("cannot write to standard output: {e}"))?;
        return Ok(Status::Success);
    }
    let peers = peers(args, &source, &model)?;
    let registry = providers(args, &source, &model)?;
    let options = Options { seed: args.seed, ..Options::default() };
    let mut vm = Vm::new(&program, &peers, registry, options).map_err(|e| match e.help {
        Some(help) => format!("{}\n  help: {help}", e.message),
        None => e.message,
    })?;
    let positions = Positions::new(&source.text);
    let printer = Printer { args, source: &source, positions: &positions };
    let mut roles: Vec<Value> =
        (0..vm.peer_count()).map(|p| vm.role_of(p).unwrap_or(Value::Unbound)).collect();
    let mut write_error = None;
    let mut diagram = Trace::default();
    let end = vm.run(args.max_steps, &mut |vm, step| {
        let before = roles.get(step.peer).cloned().unwrap_or(Value::Unbound);
        if let Some(slot) = roles.get_mut(step.peer) {
            *slot = vm.role_of(step.peer).unwrap_or(Value::Unbound);
        }
        let id = vm.peer_id(step.peer).cloned().unwrap_or(Value::Unbound);
        // What went wrong while the step was being found (an alternative whose provider
        // failed) comes before the step.
        let mut text: String = vm.take_notices().iter().map(|n| printer.notice(n)).collect();
        text.push_str(&printer.step(step, &id, &before));
        if matches!(args.trace, RunTrace::Mermaid | RunTrace::Dot) {
            diagram.steps.push(TraceStep {
                peer: id.clone(),
                role: before,
                event: printer.event_text(step.span),
                span: step.span,
                actions: step.actions.clone(),
                failed: false,
            });
        }
        if write_error.is_none()
            && let Err(e) = write_stdout(&text)
        {
            write_error = Some(e);
        }
    });
    if let Some(e) = write_error {
        return Err(format!("cannot write to standard output: {e}"));
    }
    let leftover: String = vm.take_notices().iter().map(|n| printer.notice(n)).collect();
    let report = vm.report();
    let end_text = printer.end(end, vm.steps(), &report);
    if matches!(args.trace, RunTrace::Mermaid | RunTrace::Dot) {
        // The diagram is the output; the summary is for the person watching.
        write_stderr(&format!("{leftover}{end_text}"));
        diagram.stuck = stuck_peers(&printer, &report);
        let ids: Vec<String> = report.iter().map(|p| p.id.to_string()).collect();
        let text = match args.trace {
            RunTrace::Dot => lcc_viz::sequence_dot(&diagram, &ids),
            _ => lcc_viz::sequence_mermaid(&diagram, &ids),
        };
        write_stdout(&text).map_err(|e| format!("cannot write to standard output: {e}"))?;
    } else {
        write_stdout(&format!("{leftover}{end_text}"))
            .map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    Ok(match end {
        RunEnd::Terminal(Ending::Success | Ending::Orphans) => Status::Success,
        RunEnd::Terminal(Ending::Deadlock) => Status::Failure,
        RunEnd::Limit => Status::Inconclusive,
    })
}

/// The stuck peers of a report, as the sequence diagrams of `lcc verify` show them.
fn stuck_peers(printer: &Printer<'_>, report: &[PeerReport]) -> Vec<Stuck> {
    let mut out = Vec::new();
    for p in report {
        if let PeerStatus::Stuck(blocked) = &p.status {
            for b in blocked {
                out.push(Stuck {
                    peer: p.id.clone(),
                    role: p.role.clone(),
                    event: printer.event_text(b.span),
                    span: b.span,
                    why: b.why.to_string(),
                });
            }
        }
    }
    out
}

/// `--peers`, else the first scenario of the scenario file, else the role declarations. Role
/// arguments must be known at run time.
fn peers(args: &RunArgs, source: &Source, model: &ir::Model) -> Result<Vec<PeerSpec>, String> {
    let peers = match &args.peers {
        Some(text) => crate::verify::parse_peers_arg(text)?,
        None => crate::verify::default_scenario(&args.file, model)?.peers,
    };
    if peers.is_empty() {
        return Err(format!("{}: no peers to run: give them with --peers 'a(Role, Id), ...'", source.name));
    }
    for p in &peers {
        if holds_unknown(&p.role) {
            return Err(format!(
                "peer {p}: its role arguments are not known ('?')\n  help: give them with --peers, e.g. --peers '{}'",
                PeerSpec { role: concrete_example(&p.role), id: p.id.clone() }
            ));
        }
    }
    Ok(peers)
}

fn holds_unknown(v: &Value) -> bool {
    match v {
        Value::Atom(a) => a == ABSTRACT,
        Value::Compound(_, args) | Value::List(args) => args.iter().any(holds_unknown),
        _ => false,
    }
}

fn concrete_example(role: &Value) -> Value {
    match role {
        Value::Compound(f, args) => Value::Compound(f.clone(), args.iter().map(|_| Value::Int(1)).collect()),
        other => other.clone(),
    }
}

/// The providers of `--provider` and `--assume`, and the check that every external
/// constraint of the model has one.
fn providers(args: &RunArgs, source: &Source, model: &ir::Model) -> Result<Registry, String> {
    let mut registry = Registry::new();
    let timeout = Duration::from_millis(args.provider_timeout.max(1));
    for command in &args.providers {
        let provider =
            ProcessProvider::spawn(command, timeout).map_err(|e| format!("--provider `{command}`: {e}"))?;
        provider.register(&mut registry);
    }
    for text in &args.assume {
        let rule = scenario::parse_assume(text)
            .map_err(|e| format!("invalid --assume `{text}`: {} (at column {})", e.message, e.offset + 1))?;
        let provider = match rule.behaviour {
            Behaviour::Succeeds => TableProvider::constant(true),
            Behaviour::Fails => TableProvider::constant(false),
            Behaviour::Table(rows) => TableProvider::table(rows),
            Behaviour::Any => {
                return Err(format!(
                    "--assume `{text}`: `any` is for the model checker; at run time a constraint needs an answer (true, false or a table)"
                ));
            }
        };
        registry.register(&rule.name, rule.arity, provider);
    }
    let missing: Vec<String> = model
        .constraints
        .iter()
        .filter(|c| !registry.provides(&c.name, c.arity))
        .map(|c| format!("{}/{}", c.name, c.arity))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{}: no provider for {}: {}\n  help: start a provider with --provider COMMAND (docs/constraint-abi.md), or fix answers with --assume NAME/ARITY=true",
            source.name,
            count(missing.len(), "external constraint"),
            missing.join(", ")
        ));
    }
    Ok(registry)
}

struct Printer<'a> {
    args: &'a RunArgs,
    source: &'a Source,
    positions: &'a Positions<'a>,
}

impl Printer<'_> {
    /// The event's text on one line, shortened for people (tools get it whole in JSON).
    fn event_text(&self, span: Span) -> String {
        let text = self.full_text(span);
        if self.args.trace == RunTrace::Json {
            return text;
        }
        if text.chars().count() > 90 {
            let short: String = text.chars().take(87).collect();
            format!("{short}...")
        } else {
            text
        }
    }

    fn full_text(&self, span: Span) -> String {
        let text = self.source.text.get(span.start as usize..span.end as usize).unwrap_or("");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn location(&self, span: Span) -> (usize, usize) {
        self.positions.line_col(span.start)
    }

    fn step(&self, step: &Step, id: &Value, role: &Value) -> String {
        let (line, column) = self.location(step.span);
        let event = self.event_text(step.span);
        match self.args.trace {
            RunTrace::None | RunTrace::Mermaid | RunTrace::Dot => String::new(),
            RunTrace::Human => {
                let mut out = format!(
                    "{:>5}. {id} as {role}: {event}  [{}:{line}:{column}]\n",
                    step.number, self.source.name
                );
                if !step.actions.is_empty() {
                    let actions: Vec<String> = step.actions.iter().map(ToString::to_string).collect();
                    out.push_str(&format!("         {}\n", actions.join(", ")));
                }
                out
            }
            RunTrace::Json => {
                let doc = json!({
                    "event": "step",
                    "step": step.number,
                    "peer": id.to_string(),
                    "role": role.to_string(),
                    "text": event,
                    "line": line,
                    "column": column,
                    "actions": step.actions.iter().map(ToString::to_string).collect::<Vec<_>>(),
                });
                format!("{doc}\n")
            }
        }
    }

    fn notice(&self, notice: &Notice) -> String {
        let (kind, peer, message) = (notice.kind(), notice.peer(), notice.to_string());
        match self.args.trace {
            RunTrace::Json => {
                format!("{}\n", json!({ "event": kind, "peer": peer.to_string(), "message": message }))
            }
            _ => {
                write_stderr(&format!("lcc: warning: peer {peer}: {message}\n"));
                String::new()
            }
        }
    }

    fn end(&self, end: RunEnd, steps: u64, peers: &[PeerReport]) -> String {
        let ending = match end {
            RunEnd::Terminal(Ending::Success) => "success",
            RunEnd::Terminal(Ending::Orphans) => "success with orphan messages",
            RunEnd::Terminal(Ending::Deadlock) => "deadlock",
            RunEnd::Limit => "step limit",
        };
        let seed = self.args.seed.map(|s| format!(" (seed {s})")).unwrap_or_default();
        match self.args.trace {
            RunTrace::Json => {
                let peers: Vec<serde_json::Value> = peers.iter().map(|p| self.peer_json(p)).collect();
                let doc = json!({
                    "event": "end",
                    "ending": match end {
                        RunEnd::Terminal(Ending::Success) => "success",
                        RunEnd::Terminal(Ending::Orphans) => "orphans",
                        RunEnd::Terminal(Ending::Deadlock) => "deadlock",
                        RunEnd::Limit => "step-limit",
                    },
                    "steps": steps,
                    "seed": self.args.seed,
                    "peers": peers,
                });
                format!("{doc}\n")
            }
            _ => {
                let mut out = match end {
                    RunEnd::Limit => format!(
                        "\nstopped after {} (--max-steps){seed}; peers can still move\n",
                        count(usize::try_from(steps).unwrap_or(usize::MAX), "step")
                    ),
                    RunEnd::Terminal(_) => format!(
                        "\nrun ended in {ending} after {}{seed}\n",
                        count(usize::try_from(steps).unwrap_or(usize::MAX), "step")
                    ),
                };
                for p in peers {
                    out.push_str(&self.peer_text(p));
                }
                out
            }
        }
    }

    fn peer_text(&self, p: &PeerReport) -> String {
        let mut out = match &p.status {
            PeerStatus::Finished => format!("  {} as {}: finished\n", p.id, p.role),
            PeerStatus::Idle => format!("  {} as {}: idle (waits for its first message)\n", p.id, p.role),
            PeerStatus::Running => format!("  {} as {}: running\n", p.id, p.role),
            PeerStatus::Stuck(blocked) => {
                let mut s = format!("  {} as {}: stuck\n", p.id, p.role);
                for b in blocked {
                    let (line, column) = self.location(b.span);
                    s.push_str(&format!(
                        "    at `{}` [{}:{line}:{column}]: {}\n",
                        self.event_text(b.span),
                        self.source.name,
                        b.why
                    ));
                }
                s
            }
        };
        for (from, msg) in &p.mailbox {
            out.push_str(&format!("    undelivered: {msg} from {from}\n"));
        }
        out
    }

    fn peer_json(&self, p: &PeerReport) -> serde_json::Value {
        let (status, stuck) = match &p.status {
            PeerStatus::Finished => ("finished", Vec::new()),
            PeerStatus::Idle => ("idle", Vec::new()),
            PeerStatus::Running => ("running", Vec::new()),
            PeerStatus::Stuck(blocked) => (
                "stuck",
                blocked
                    .iter()
                    .map(|b| {
                        let (line, column) = self.location(b.span);
                        json!({ "text": self.event_text(b.span), "line": line, "column": column, "why": b.why.to_string() })
                    })
                    .collect(),
            ),
        };
        json!({
            "id": p.id.to_string(),
            "role": p.role.to_string(),
            "status": status,
            "stuck": stuck,
            "mailbox": p.mailbox.iter().map(|(from, msg)| json!({ "from": from.to_string(), "message": msg.to_string() })).collect::<Vec<_>>(),
        })
    }
}
