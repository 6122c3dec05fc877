//! Conformance of the runtime with the model checker (LCC.md section 5 is shared by both).
//!
//! For every model of the corpus and of `stdlib/`, and many seeds:
//! - external constraints get a random *table* of solutions over a small domain, so that the
//!   runtime (a [`TableProvider`]) and the checker (the same table as a scenario rule) answer
//!   every call alike;
//! - the runtime runs under a seeded random schedule, and each step it makes must be a
//!   transition of `lcc verify`'s system with exactly the same actions (replayed on a set of
//!   checker configurations, since several transitions may carry the same actions);
//! - when the run ends because nothing is enabled, the checker must agree that the
//!   configuration is terminal and classify it the same way (success, orphans, deadlock);
//! - the checker's breadth-first search finds a terminal configuration (a deadlock when there
//!   is one), and the runtime, driven by the checker's schedule, must reach it too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lcc_check::ir::{Model, Sort};
use lcc_check::mc::explore::{StoreMode, TerminalKind, Worker, initial_state};
use lcc_check::mc::scenario::{self, Behaviour, Bounds, ConstraintRule, PeerSpec, Scenario};
use lcc_check::mc::system::{System, Tables};
use lcc_check::mc::value::{ABSTRACT, Action, Value};
use lcc_check::mc::verify::{self, Property, Request, Verdict};
use lcc_runtime::abi::{Registry, TableProvider};
use lcc_runtime::bytecode::{self, Program};
use lcc_runtime::vm::{Attempted, Ending, Options, Rng, RunEnd, Vm};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

const SEEDS: u64 = 40;
const STEPS: u64 = 150;
const RECURSION: u32 = 400;

fn models() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    let mut walk = vec![root.join("stdlib")];
    let corpus = root.join("../shared/corpus");
    if corpus.is_dir() {
        walk.push(corpus);
    } else {
        println!("skipped the corpus: ../shared/corpus not found");
    }
    while let Some(dir) = walk.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("lcc" | "xlcc" | "im")) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A small domain of values of each sort: what tables and role arguments are made of.
struct Domain {
    atoms: Vec<Value>,
    strings: Vec<Value>,
    ids: Vec<Value>,
}

impl Domain {
    fn new(model: &Model, source: &str, peers: &[PeerSpec]) -> Domain {
        let mut atoms: Vec<Value> = Vec::new();
        let mut strings: Vec<Value> = Vec::new();
        // Atoms and strings written in the model (from the IR's messages would be more
        // precise; the source text is enough for a domain).
        for word in source.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '"')) {
            if word.len() > 1 && word.starts_with('"') && word.ends_with('"') {
                let v = Value::Str(word.trim_matches('"').into());
                if !strings.contains(&v) {
                    strings.push(v);
                }
            } else if word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && model.role_named(word).is_none()
            {
                let v = Value::atom(word);
                if !atoms.contains(&v) && atoms.len() < 6 {
                    atoms.push(v);
                }
            }
        }
        if atoms.is_empty() {
            atoms.push(Value::atom("a"));
        }
        if strings.is_empty() {
            strings.push(Value::Str("ok".into()));
        }
        Domain { atoms, strings, ids: peers.iter().map(|p| p.id.clone()).collect() }
    }

    fn of(&self, sort: &Sort, rng: &mut Rng, depth: usize) -> Value {
        let pick = |v: &[Value], rng: &mut Rng| v[rng.below(v.len())].clone();
        match sort {
            Sort::Number => Value::Int(rng.below(4) as i64),
            Sort::Atom => pick(&self.atoms, rng),
            Sort::String => pick(&self.strings, rng),
            Sort::PeerId if !self.ids.is_empty() => pick(&self.ids, rng),
            Sort::PeerId => pick(&self.atoms, rng),
            Sort::List(inner) => {
                let n = if depth > 2 { 0 } else { rng.below(3) };
                Value::List((0..n).map(|_| self.of(inner, rng, depth + 1)).collect())
            }
            Sort::Compound(f, n) => {
                Value::Compound(f.clone(), (0..*n).map(|_| self.of(&Sort::Unknown, rng, depth + 1)).collect())
            }
            Sort::Unknown => match rng.below(3) {
                0 => Value::Int(rng.below(4) as i64),
                1 if !self.ids.is_empty() => pick(&self.ids, rng),
                _ => pick(&self.atoms, rng),
            },
        }
    }
}

/// The peers of a model: its scenario file's first scenario, or its declared population, or
/// one peer per role; `'?'` role arguments replaced by values of the parameter's sort.
fn peers_of(path: &Path, model: &Model) -> Vec<PeerSpec> {
    let file = scenario::scenario_file_for(path);
    let mut peers = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| scenario::parse_scenario_file(&text).ok())
        .and_then(|s| s.into_iter().next())
        .map(|s| s.peers)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| scenario::declared_peers(model));
    if peers.is_empty() {
        for role in &model.roles {
            if role.clauses.iter().any(|&c| model.clause(c).is_some_and(|c| c.body.is_some())) {
                peers.push(PeerSpec {
                    role: scenario::initial_role(model, role),
                    id: Value::atom(&format!("{}1", role.name)),
                });
            }
        }
    }
    peers
}

fn concrete_roles(model: &Model, peers: &mut [PeerSpec], domain: &Domain, rng: &mut Rng) {
    for peer in peers.iter_mut() {
        let Value::Compound(name, args) = &peer.role else { continue };
        let Some(role) = model.role_named(name) else { continue };
        let Some(clause) = model.clause_of(role, args.len()) else { continue };
        let new_args = args
            .iter()
            .zip(&clause.params)
            .map(|(a, p)| match (a, p) {
                (Value::Atom(q), lcc_check::ir::Term::Var(v, _)) if q == ABSTRACT => {
                    let sort = clause.var(*v).map(|v| v.sort.clone()).unwrap_or(Sort::Unknown);
                    domain.of(&sort, rng, 0)
                }
                (Value::Atom(q), _) if q == ABSTRACT => domain.of(&Sort::Unknown, rng, 0),
                (a, _) => a.clone(),
            })
            .collect();
        peer.role = Value::Compound(name.clone(), new_args);
    }
}

/// A random table for every external constraint.
fn tables(model: &Model, domain: &Domain, rng: &mut Rng) -> Vec<ConstraintRule> {
    model
        .constraints
        .iter()
        .map(|sig| {
            let rows = (0..rng.below(5))
                .map(|_| sig.arg_sorts.iter().map(|s| domain.of(s, rng, 0)).collect())
                .collect();
            ConstraintRule { name: sig.name.clone(), arity: sig.arity, behaviour: Behaviour::Table(rows) }
        })
        .collect()
}

fn registry(rules: &[ConstraintRule]) -> Registry {
    let mut r = Registry::new();
    for rule in rules {
        if let Behaviour::Table(rows) = &rule.behaviour {
            r.register(&rule.name, rule.arity, TableProvider::table(rows.clone()));
        }
    }
    r
}

struct Case<'m> {
    name: String,
    model: &'m Model,
    program: &'m Program,
    peers: Vec<PeerSpec>,
    rules: Vec<ConstraintRule>,
}

impl Case<'_> {
    fn scenario(&self) -> Scenario {
        Scenario {
            name: "conformance".into(),
            peers: self.peers.clone(),
            constraints: self.rules.clone(),
            bounds: Bounds { states: 20_000, depth: None, mailbox: 10_000, recursion: RECURSION },
            properties: Vec::new(),
        }
    }

    fn vm(&self, seed: Option<u64>) -> Vm<'_> {
        let options = Options { seed, max_depth: RECURSION as usize, record: true, wake_on_calls: true };
        Vm::new(self.program, &self.peers, registry(&self.rules), options).unwrap()
    }
}

fn without_done(actions: &[Action]) -> Vec<Action> {
    actions.iter().filter(|a| !matches!(a, Action::Done { .. })).cloned().collect()
}

fn kind_of(ending: Ending) -> TerminalKind {
    match ending {
        Ending::Success => TerminalKind::Success,
        Ending::Orphans => TerminalKind::Orphans,
        Ending::Deadlock => TerminalKind::Deadlock,
    }
}

/// Runs the runtime under a random schedule and replays its trace on the checker.
fn random_run(case: &Case<'_>, seed: u64) -> Result<(usize, Option<Ending>), String> {
    let scenario = case.scenario();
    let mut t = Tables::default();
    let sys = System::new(case.model, &scenario, &mut t).map_err(|e| e.message)?;
    let tables = RwLock::new(t);
    let mut worker = Worker::new(&sys, &tables);
    let mut configs = vec![initial_state(&sys)];
    let mut vm = case.vm(Some(seed));
    let mut trace = Vec::new();
    let end = vm.run(STEPS, &mut |_, step| trace.push((step.peer, step.actions.clone())));
    for (i, (peer, actions)) in trace.iter().enumerate() {
        let mut next: Vec<Vec<u32>> = Vec::new();
        let mut offered = Vec::new();
        for config in &configs {
            for succ in worker.expand(config).successors {
                let label = worker.label(succ.step.label);
                if succ.peer == *peer && !succ.step.failed && label == *actions {
                    if !next.contains(&succ.words) {
                        next.push(succ.words);
                    }
                } else if succ.peer == *peer {
                    offered.push(label);
                }
            }
        }
        if next.is_empty() {
            return Err(format!(
                "{} seed {seed}: step {} of peer {} with actions {:?} is not a transition of the checker; it offers {:?}",
                case.name,
                i + 1,
                vm.peer_id(*peer).unwrap(),
                actions,
                offered
            ));
        }
        configs = next;
    }
    match end {
        RunEnd::Terminal(ending) => {
            let agree = configs.iter().any(|c| {
                let e = worker.expand(c);
                e.successors.is_empty() && e.bound.is_none() && worker.classify(c) == kind_of(ending)
            });
            if !agree {
                return Err(format!(
                    "{} seed {seed}: the runtime ended ({ending:?}) after {} steps, but the checker does not classify that configuration so",
                    case.name,
                    trace.len()
                ));
            }
            Ok((trace.len(), Some(ending)))
        }
        RunEnd::Limit => Ok((trace.len(), None)),
    }
}

/// The checker's shortest path to a terminal configuration (a deadlock if one is within
/// reach of the bounded search), replayed by the runtime.
fn checker_schedule(case: &Case<'_>) -> Result<Option<TerminalKind>, String> {
    let scenario = case.scenario();
    let mut t = Tables::default();
    let sys = System::new(case.model, &scenario, &mut t).map_err(|e| e.message)?;
    let tables = RwLock::new(t);
    let mut worker = Worker::new(&sys, &tables);
    let start = initial_state(&sys);
    let mut seen: HashMap<Vec<u32>, (usize, usize, Vec<Action>)> = HashMap::new();
    let mut states: Vec<Vec<u32>> = vec![start.clone()];
    seen.insert(start, (usize::MAX, 0, Vec::new()));
    let mut found: Option<(usize, TerminalKind)> = None;
    let mut i = 0;
    while i < states.len() && states.len() < 5_000 {
        let config = states[i].clone();
        let e = worker.expand(&config);
        if e.successors.is_empty() && e.bound.is_none() {
            let kind = worker.classify(&config);
            let better = kind == TerminalKind::Deadlock || found.is_none();
            if better && found.as_ref().is_none_or(|(_, k)| *k != TerminalKind::Deadlock) {
                found = Some((i, kind.clone()));
            }
            if kind == TerminalKind::Deadlock {
                break;
            }
        }
        for succ in e.successors {
            if !seen.contains_key(&succ.words) && !succ.step.failed {
                seen.insert(succ.words.clone(), (i, succ.peer, worker.label(succ.step.label)));
                states.push(succ.words);
            }
        }
        i += 1;
    }
    let Some((target, kind)) = found else { return Ok(None) };
    let mut path = Vec::new();
    let mut at = target;
    while let Some((parent, peer, label)) = seen.get(&states[at]).cloned() {
        if parent == usize::MAX {
            break;
        }
        path.push((peer, label));
        at = parent;
    }
    path.reverse();
    let mut vm = case.vm(None);
    for (n, (peer, label)) in path.iter().enumerate() {
        let want = without_done(label);
        let mut filter = |a: &[Action]| a == want.as_slice();
        match vm.step_peer(*peer, Some(&mut filter)) {
            Attempted::Fired(step) if step.actions == *label => {}
            other => {
                return Err(format!(
                    "{}: the runtime cannot follow the checker's step {} ({:?} by peer {peer}): {other:?}",
                    case.name,
                    n + 1,
                    label
                ));
            }
        }
    }
    let ending = vm.classify();
    if kind_of(ending) != kind {
        return Err(format!(
            "{}: the checker's path ends in {kind:?}, the runtime's in {ending:?}",
            case.name
        ));
    }
    Ok(Some(kind))
}

/// `lcc verify`'s own counterexample for `deadlock-free`, when it finds one, replayed by the
/// runtime step by step: the VM must reach the same deadlock.
fn verify_counterexample(case: &Case<'_>, source: &str) -> Result<bool, String> {
    let mut scenario = case.scenario();
    scenario.bounds.states = 5_000;
    let request = Request {
        scenario: &scenario,
        properties: vec![Property::DeadlockFree],
        threads: 1,
        mode: StoreMode::Exact,
        full: false,
        reduce: true,
        reproducible: true,
        progress: None,
    };
    let report = verify::verify(case.model, source, &request).map_err(|e| e.message)?;
    let Some(trace) =
        report.properties.iter().find(|p| p.verdict == Verdict::Violated).and_then(|p| p.trace.clone())
    else {
        return Ok(false);
    };
    let mut vm = case.vm(None);
    for (n, step) in trace.steps.iter().enumerate() {
        let peer =
            vm.peer_index(&step.peer).ok_or_else(|| format!("{}: no peer {}", case.name, step.peer))?;
        let want = without_done(&step.actions);
        let mut filter = |a: &[Action]| a == want.as_slice();
        match vm.step_peer(peer, Some(&mut filter)) {
            Attempted::Fired(s) if s.actions == step.actions => {}
            other => {
                return Err(format!(
                    "{}: the runtime cannot follow step {} of lcc verify's counterexample ({} as {}: {:?}): {other:?}",
                    case.name,
                    n + 1,
                    step.peer,
                    step.role,
                    step.actions
                ));
            }
        }
    }
    // Nothing may move any more, and the runtime says why each peer is stuck.
    let mut moved = false;
    if vm.run(1, &mut |_, _| moved = true) != RunEnd::Terminal(Ending::Deadlock) || moved {
        return Err(format!(
            "{}: lcc verify's counterexample does not end in a deadlock in the runtime",
            case.name
        ));
    }
    let stuck: Vec<String> = vm
        .report()
        .iter()
        .filter(|p| matches!(p.status, lcc_runtime::vm::Status::Stuck(_)))
        .map(|p| p.id.to_string())
        .collect();
    let mut expected: Vec<String> = trace.stuck.iter().map(|s| s.peer.to_string()).collect();
    expected.dedup();
    if stuck.is_empty() || stuck.iter().any(|p| !expected.contains(p)) {
        return Err(format!(
            "{}: the runtime's stuck peers {stuck:?} are not lcc verify's {expected:?}",
            case.name
        ));
    }
    Ok(true)
}

#[test]
fn the_runtime_follows_the_checker_on_every_model() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut steps = 0;
    let mut endings: HashMap<String, usize> = HashMap::new();
    let mut replayed = 0;
    let mut counterexamples = 0;
    for path in models() {
        let source = std::fs::read_to_string(&path).unwrap();
        let (model, diagnostics) = lcc_check::check_source(&source);
        let name = path.display().to_string();
        // Models with errors too: the CLI refuses them, but the library must run what the
        // checker lowered (broken parts never execute) exactly as the model checker explores it.
        if diagnostics.iter().any(|d| d.is_error()) {
            println!("{name}: has errors; run and checked as lowered");
        }
        let program = bytecode::program(&model);
        let base_peers = peers_of(&path, &model);
        if base_peers.is_empty() {
            println!("{name}: no peers, skipped");
            continue;
        }
        checked += 1;
        for seed in 0..SEEDS {
            let mut rng = Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed);
            let mut peers = base_peers.clone();
            let domain = Domain::new(&model, &source, &peers);
            concrete_roles(&model, &mut peers, &domain, &mut rng);
            let rules = tables(&model, &domain, &mut rng);
            let case = Case { name: name.clone(), model: &model, program: &program, peers, rules };
            match random_run(&case, seed) {
                Ok((n, ending)) => {
                    steps += n;
                    *endings.entry(format!("{ending:?}")).or_default() += 1;
                }
                Err(e) => failures.push(e),
            }
            if seed % 8 == 0 {
                match checker_schedule(&case) {
                    Ok(Some(_)) => replayed += 1,
                    Ok(None) => {}
                    Err(e) => failures.push(e),
                }
                if seed % 16 == 0 && !diagnostics.iter().any(|d| d.is_error()) {
                    match verify_counterexample(&case, &source) {
                        Ok(true) => counterexamples += 1,
                        Ok(false) => {}
                        Err(e) => failures.push(e),
                    }
                }
            }
        }
    }
    println!(
        "{checked} models, {SEEDS} seeds each: {steps} runtime steps replayed on the checker; endings {endings:?}; {replayed} checker paths and {counterexamples} lcc verify deadlocks replayed by the runtime"
    );
    assert!(checked >= 3, "too few models were checked");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
