//! Throughput of the front end on a large generated model.
//!
//! `cargo bench -p lcc-syntax --bench parse` first prints one-shot figures (best of a few
//! runs) as `tokenize: N MB/s` and `parse: N MB/s`, then runs the criterion group with
//! `Throughput::Bytes`. The model (about 10 MB) is generated deterministically in the style of
//! the VM-migration models of `shared/corpus/seed`: role declarations, comments, sends and
//! receives, guards with `and`/`or`/`not`, comparisons and arithmetic, nested terms, lists,
//! strings and quoted atoms. Under `cargo test --benches` (no `--bench` flag) a small model is
//! used so the check stays fast in debug builds.

use criterion::{BatchSize, Criterion, Throughput};
use lcc_syntax::{format, lexer, parse};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "../tests/common/rng.rs"]
mod rng;
use rng::Rng;

const BENCH_BYTES: usize = 10 * 1024 * 1024;
const TEST_BYTES: usize = 64 * 1024;

const MESSAGES: &[&str] =
    &["readyToMigrate", "migration", "request", "offer", "accept", "reject", "status", "heartbeat"];
const CONSTRAINTS: &[&str] =
    &["getPeerState", "isOverLoaded", "canMigrate", "free_memory", "cpu_load", "known_host", "log"];
const VARS: &[&str] = &["Need", "Capacity", "Status", "Load", "Mem", "Vm", "Host", "Rest", "N", "T"];
const CMP: &[&str] = &[">", "<", ">=", "=<", "=", "\\=", "==", "=:="];
const ARITH: &[&str] = &["+", "-", "*", "/", "mod"];
const KINDS: &[&str] = &["initial", "necessary", "optional", "auxiliary"];

fn term(rng: &mut Rng, out: &mut String, depth: u32) {
    let choice = if depth >= 3 { rng.below(5) } else { rng.below(9) };
    match choice {
        0 | 1 => out.push_str(rng.pick(VARS)),
        2 => {
            let _ = write!(out, "{}", rng.below(100_000));
        }
        3 => {
            let _ = write!(out, "h{}", rng.below(64));
        }
        4 => {
            let _ = write!(out, "\"vm-{}\"", rng.below(1000));
        }
        5 => {
            out.push('[');
            let n = rng.below(4);
            for i in 0..n {
                if i > 0 {
                    out.push_str(", ");
                }
                term(rng, out, depth + 1);
            }
            if n > 0 && rng.chance(30) {
                out.push_str(" | ");
                out.push_str(rng.pick(VARS));
            }
            out.push(']');
        }
        6 => {
            let _ = write!(out, "'disk {}'", rng.below(16));
        }
        _ => {
            out.push_str(rng.pick(&["vm", "host", "res", "pair", "cpu"]));
            out.push('(');
            let n = 1 + rng.below(3);
            for i in 0..n {
                if i > 0 {
                    out.push_str(", ");
                }
                term(rng, out, depth + 1);
            }
            out.push(')');
        }
    }
}

fn message(rng: &mut Rng, out: &mut String) {
    out.push_str(rng.pick(MESSAGES));
    out.push('(');
    let n = 1 + rng.below(3);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        term(rng, out, 1);
    }
    out.push(')');
}

fn condition(rng: &mut Rng, out: &mut String, depth: u32) {
    match if depth >= 2 { rng.below(3) } else { rng.below(6) } {
        0 => {
            out.push_str(rng.pick(CONSTRAINTS));
            out.push('(');
            out.push_str(rng.pick(VARS));
            out.push_str(", ");
            term(rng, out, 2);
            out.push(')');
        }
        1 => {
            let _ = write!(
                out,
                "{} {} {} {} {}",
                rng.pick(VARS),
                rng.pick(CMP),
                rng.pick(VARS),
                rng.pick(ARITH),
                rng.below(512)
            );
        }
        2 => {
            let _ = write!(
                out,
                "{} is ({} + {}) * {}",
                rng.pick(VARS),
                rng.pick(VARS),
                rng.below(64),
                rng.pick(VARS)
            );
        }
        3 => {
            condition(rng, out, depth + 1);
            out.push_str(" and ");
            condition(rng, out, depth + 1);
        }
        4 => {
            out.push_str("not ");
            out.push_str(rng.pick(CONSTRAINTS));
            out.push('(');
            out.push_str(rng.pick(VARS));
            out.push(')');
        }
        _ => {
            out.push('(');
            condition(rng, out, depth + 1);
            out.push_str(" or ");
            condition(rng, out, depth + 1);
            out.push(')');
        }
    }
}

fn agent(rng: &mut Rng, out: &mut String, n: u64) {
    let role = rng.pick(&["overloaded", "underloaded", "idle", "monitor"]);
    let _ = write!(out, "a({role}_{n}, {})", rng.pick(&["PID1", "PID2", "ID3", "Peer"]));
}

fn event(rng: &mut Rng, out: &mut String, n: u64) {
    match rng.below(10) {
        0..=3 => {
            message(rng, out);
            out.push_str(" => ");
            agent(rng, out, n);
        }
        4..=6 => {
            message(rng, out);
            out.push_str(" <= ");
            agent(rng, out, n);
        }
        7 | 8 => out.push_str("null"),
        _ => agent(rng, out, n),
    }
    if rng.chance(45) {
        out.push_str(" <- ");
        condition(rng, out, 0);
    }
}

fn definition(rng: &mut Rng, out: &mut String, n: u64, depth: u32) {
    let steps = 2 + rng.below(4);
    for i in 0..steps {
        if i > 0 {
            out.push_str(" then\n  ");
        }
        if depth < 2 && rng.chance(15) {
            out.push('(');
            definition(rng, out, n, depth + 1);
            out.push_str(if rng.chance(50) { "\n  ) or (\n  " } else { "\n  ) par (\n  " });
            definition(rng, out, n, depth + 1);
            out.push_str("\n  )");
        } else {
            event(rng, out, n);
        }
    }
}

/// A model of at least `bytes` bytes with no syntax errors.
fn generate(bytes: usize) -> String {
    let mut rng = Rng(0x1CC_2026);
    let mut out = String::with_capacity(bytes + 4096);
    let mut n = 0u64;
    while out.len() < bytes {
        n += 1;
        match rng.below(4) {
            0 => {
                let _ = writeln!(out, "// clause family {n}: load balancing between hosts");
            }
            1 => {
                let _ = writeln!(out, "/* \"Need\" is the amount of resources required by {n} */");
            }
            2 => {
                let _ = writeln!(out, "% Prolog-style comment {n}");
            }
            _ => {}
        }
        if rng.chance(30) {
            let _ = writeln!(out, "r(overloaded_{n}, {}, 1, {}).", rng.pick(KINDS), 1 + rng.below(8));
        }
        out.push_str("a(");
        out.push_str(rng.pick(&["overloaded", "underloaded", "idle"]));
        let _ = write!(out, "_{n}(");
        out.push_str(rng.pick(VARS));
        out.push_str("), PID1) ::\n  ");
        definition(&mut rng, &mut out, n, 0);
        out.push_str(if rng.chance(50) { ".\n\n" } else { "\n\n" });
    }
    out
}

fn mb_per_s(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / 1_000_000.0 / elapsed.as_secs_f64().max(1e-9)
}

/// One-shot timings of `runs` runs, so the printed figures do not depend on criterion.
struct Timings(Vec<Duration>);

impl Timings {
    fn of<T>(runs: usize, mut f: impl FnMut() -> T) -> Timings {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            let output = black_box(f());
            times.push(start.elapsed());
            drop(output); // freeing the result is not part of the figure (as in criterion below)
        }
        times.sort();
        Timings(times)
    }

    /// `N MB/s` for the best run, with the median, for `bytes` of input.
    fn report(&self, bytes: usize) -> String {
        let best = self.0.first().copied().unwrap_or(Duration::MAX);
        let median = self.0.get(self.0.len() / 2).copied().unwrap_or(Duration::MAX);
        format!(
            "{:.1} MB/s (best of {}; median {:.1} MB/s)",
            mb_per_s(bytes, best),
            self.0.len(),
            mb_per_s(bytes, median)
        )
    }
}

/// The seed models of the shared corpus, repeated to about `bytes`: real models, with their
/// long names, comments and few guards (absent outside this repository's checkout).
fn seed_models(bytes: usize) -> Option<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/seed");
    let mut paths: Vec<_> = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut one = String::new();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "lcc")) {
        one.push_str(&std::fs::read_to_string(path).ok()?);
        one.push('\n');
    }
    if one.is_empty() {
        return None;
    }
    Some(one.repeat(bytes / one.len() + 1))
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let source = generate(if bench_mode { BENCH_BYTES } else { TEST_BYTES });
    let bytes = source.len();

    let (model, diags) = parse(&source);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    assert_eq!(errors, 0, "the generated model must parse cleanly: {:?}", diags.first());
    // The figure below is the parser's fast path for well-formed clauses: check that it builds
    // what the grammar builds on this very input.
    match lcc_syntax::parser::fast::differential(&source) {
        Ok(items) => println!("fast path agrees with the grammar on {items} items"),
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(1);
        }
    }
    println!(
        "model: {:.2} MB, {} items, {} tokens, {} comments",
        bytes as f64 / 1_000_000.0,
        model.items.len(),
        lexer::tokenize(&source).len(),
        model.comments.len()
    );

    let runs = if bench_mode { 5 } else { 1 };
    let tokenize = Timings::of(runs, || lexer::tokenize(black_box(&source)));
    println!("tokenize: {}", tokenize.report(bytes));
    let parsing = Timings::of(runs, || parse(black_box(&source)));
    println!("parse: {}", parsing.report(bytes));
    let formatting = Timings::of(runs, || format::format_source(black_box(&source)));
    println!("format: {}", formatting.report(bytes));
    if let Some(seed) = seed_models(if bench_mode { BENCH_BYTES } else { TEST_BYTES }) {
        let parsing = Timings::of(runs, || parse(black_box(&seed)));
        println!(
            "parse, the seed models repeated to {:.1} MB: {}",
            seed.len() as f64 / 1e6,
            parsing.report(seed.len())
        );
    }

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group("front-end");
        group.throughput(Throughput::Bytes(bytes as u64));
        // Freeing the result (a vector of millions of tokens, a tree of a 10 MB model) is not
        // part of either figure, as in the one-shot figures above.
        group.bench_function("tokenize", |b| {
            b.iter_batched(|| (), |()| lexer::tokenize(black_box(&source)), BatchSize::PerIteration)
        });
        group.bench_function("parse", |b| {
            b.iter_batched(|| (), |()| parse(black_box(&source)), BatchSize::PerIteration)
        });
        group.finish();
    }
    criterion.final_summary();
}
