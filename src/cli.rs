//! The command-line interface: every subcommand, flag and its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// lcc is a toolchain for the Lightweight Coordination Calculus (LCC), the language of
/// interaction models in which peers play roles and coordinate by passing messages. It reads
/// the union of the published LCC dialects (OpenKnowledge kernel, LiJ, WebLCC/OKeilidh, xlcc),
/// reports syntax errors and dialect differences as diagnostics with stable codes (see
/// `lcc check --explain`), rewrites models in one canonical layout, and proves that a model
/// cannot deadlock (or shows the shortest run that does) by exploring its state space.
#[derive(Debug, Parser)]
#[command(name = "lcc", version, verbatim_doc_comment)]
#[command(propagate_version = true, subcommand_required = true, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Check(CheckArgs),
    Fmt(FmtArgs),
    Verify(VerifyArgs),
    Viz(VizArgs),
    Lsp(LspArgs),
    Run(RunArgs),
    Simulate(SimulateArgs),
    Agent(AgentArgs),
}

/// Run a host agent: execute an allow-listed model with other hosts' agents over NATS.
///
/// The agent executes its host's peers (`peers` in the config) and finds the other peers in
/// a role registry with leases, so that hosts negotiate among themselves with no central
/// controller. Every message is signed with the host's ed25519 key and checked against the
/// public keys of the config; what fails a check is rejected and logged. Constraints of the
/// model are answered by this host's library, from its hypervisor (in-memory, or libvirt when
/// built with the `libvirt` feature). Events are logged as JSON lines (`log`). See
/// docs/agents.md for the protocol, the failure path and a two-site setup.
///
/// Exit status: 0 when the agent stopped (stop_after_ms), 2 when it could not start (the
/// config, the model, the key, the server). A transport that fails later is logged and
/// retried.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Run a host agent (NATS transport, signed messages, host library)")]
#[command(after_long_help = lcc_runtime::agent::config::REFERENCE)]
#[command(after_help = "Examples:
  lcc agent --keygen pm1.key            (writes a key, prints its public half)
  lcc agent --hash stdlib/vm/balance.lcc  (the hash for [models] allow)
  lcc agent --config pm1.toml
Run `lcc agent --help` for every key of the configuration file.
")]
pub struct AgentArgs {
    /// The agent's configuration file (TOML; every key is listed by --help)
    #[arg(long, value_name = "FILE", required_unless_present_any = ["keygen", "hash"])]
    pub config: Option<PathBuf>,

    /// Write a new signing key to FILE (refuses to overwrite) and print its public key
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "hash"])]
    pub keygen: Option<PathBuf>,

    /// Print the SHA-256 of model files, as [models] allow lists them
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["config", "keygen"])]
    pub hash: Vec<PathBuf>,
}

/// Run the language server on standard input and output.
///
/// Editors start it (see editors/README.md): it speaks the Language Server Protocol over
/// stdio, loads every model file (.lcc, .xlcc, .im) of the workspace folders, and answers
/// diagnostics, hover, go to definition, references, symbols, completion, signature help,
/// semantic tokens, rename, formatting and quick fixes. Logs go to standard error.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Run the language server (LSP over stdio)")]
pub struct LspArgs {
    /// Accepted for clients that pass it; stdio is the only transport
    #[arg(long)]
    pub stdio: bool,
}

/// Parse LCC files and report every diagnostic.
///
/// Human output renders each diagnostic with the source around it on stderr (in colour on a
/// terminal, unless NO_COLOR is set) and ends with a summary line. JSON output is one document
/// on stdout: {"files", "errors", "warnings", "diagnostics": [...]}, with 1-based lines and
/// columns.
///
/// Exit status: 0 when no file has an error, 1 when any has (or has a warning, with
/// `--deny warnings`), 2 on a usage error or a file that cannot be read (the other files are
/// still checked).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Parse LCC files and report every diagnostic")]
#[command(
    after_help = "Examples:\n  lcc check model.lcc\n  lcc check --format json *.lcc\n  lcc check --explain E0001\n"
)]
pub struct CheckArgs {
    /// Report for people (`human`, on stderr) or for tools (`json`, on stdout)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    pub format: Format,

    /// `--deny warnings`: fail (exit status 1) on warnings too
    #[arg(long, value_enum, value_name = "LINTS")]
    pub deny: Vec<Deny>,

    /// Explain a diagnostic code instead of checking files
    ///
    /// CODE is an id such as `E0001` or a name such as `unexpected-token`.
    /// Without CODE, list every code.
    #[arg(long, value_name = "CODE", conflicts_with_all = ["files", "format", "deny"])]
    #[arg(verbatim_doc_comment)]
    pub explain: Option<Option<String>>,

    /// The LCC files to check; `-` reads standard input
    #[arg(value_name = "FILE", required_unless_present = "explain")]
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source excerpts and a summary line, on stderr
    Human,
    /// One JSON document with every diagnostic, on stdout
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Any warning makes the check fail
    Warnings,
}

/// Rewrite LCC files in the canonical layout.
///
/// A file is rewritten in place only when its layout changes, through a temporary file in the
/// same directory that is renamed over the original, so nothing is lost on failure; each
/// rewritten file is named on stderr (`Reformatted: FILE`). A file with syntax errors is left
/// untouched and its errors are reported.
///
/// Exit status: 0 on success, 1 when a file has syntax errors (or, with `--check`, would be
/// reformatted), 2 on a usage error or a file that cannot be read or written.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Rewrite LCC files in the canonical layout")]
#[command(
    after_help = "Examples:\n  lcc fmt model.lcc\n  lcc fmt --check models/*.lcc\n  lcc fmt - < model.lcc > formatted.lcc\n"
)]
pub struct FmtArgs {
    /// Change nothing; list the files that would change and fail if there is any
    ///
    /// Prints `Would reformat: FILE` on stdout for each file whose layout would change, and
    /// exits with status 1 if there is any.
    #[arg(long, verbatim_doc_comment)]
    pub check: bool,

    /// The LCC files to format; `-` formats standard input to standard output
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// Prove properties of an interaction model by exploring every reachable configuration.
///
/// The model is checked first; errors from `lcc check` block verification. Then each
/// scenario is explored breadth-first on all cores (LCC.md sections 5-7). Scenarios come from
/// `--peers`, else from the scenario file next to the model (`MODEL.verify.toml`), else from
/// the role declarations `r(Role, initial|necessary, Min, Max)` of the model.
///
/// Properties: `deadlock-free` (the default), `terminates`, `no-orphans`, or a modal
/// mu-calculus formula over the actions send(From, To, Msg), recv(From, To, Msg),
/// call(Peer, Constraint), become(Peer, Role), done(Peer), for example
///     [true* . send(_, _, req)] mu X . (<true> true && [!recv(_, _, resp)] X)
///
/// A violated property comes with the shortest counterexample (a lasso for a run that never
/// ends); a deadlock report names each stuck peer, the event it waits on and why.
///
/// Exit status: 0 every property holds, 1 a property is violated, 2 usage or model errors,
/// 3 inconclusive (a bound was reached; the report says which).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Prove deadlock freedom and other properties of a model")]
#[command(after_help = "Examples:
  lcc verify model.lcc
  lcc verify --peers 'a(idle, h1), a(idle, h2)' balance.lcc
  lcc verify --assume 'in_stock/2=true' --property terminates --property no-orphans shop.lcc
  lcc verify --format json --trace-format mermaid model.lcc
")]
pub struct VerifyArgs {
    /// The peers: `a(Role, Id), ...` (replaces the scenario file and role declarations)
    #[arg(long, value_name = "PEERS")]
    pub peers: Option<String>,

    /// How an external constraint behaves: `name/arity=true|false|any` (repeatable)
    #[arg(long, value_name = "RULE")]
    pub assume: Vec<String>,

    /// A property: deadlock-free, terminates, no-orphans, or a mu-calculus formula (repeatable)
    #[arg(long, value_name = "PROPERTY")]
    pub property: Vec<String>,

    /// Only these scenarios of the scenario file (repeatable)
    #[arg(long, value_name = "NAME", conflicts_with = "peers")]
    pub scenario: Vec<String>,

    /// The scenario file [default: MODEL.verify.toml next to the model, if present]
    #[arg(long, value_name = "FILE")]
    pub scenario_file: Option<PathBuf>,

    /// Stop after this many states (inconclusive if reached)
    #[arg(long, value_name = "N")]
    pub max_states: Option<u64>,

    /// Explore runs of at most this many steps (inconclusive if reached)
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u64>,

    /// Messages that may wait in one peer's mailbox (inconclusive if reached)
    #[arg(long, value_name = "N")]
    pub mailbox: Option<u32>,

    /// Nested (non-tail) role calls (inconclusive if reached)
    #[arg(long, value_name = "N")]
    pub recursion: Option<u32>,

    /// Worker threads [default: all cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Store 64-bit fingerprints instead of whole states (less memory; a collision could hide a state)
    #[arg(long)]
    pub hash_compaction: bool,

    /// Explore every reachable state even after a violation was found
    #[arg(long)]
    pub full: bool,

    /// Explore every interleaving (no partial-order reduction; for cross-checking it)
    #[arg(long)]
    pub no_reduction: bool,

    /// Report for people (`human`) or for tools (`json`), on stdout
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    pub format: Format,

    /// How counterexamples are shown: steps as text, or a Mermaid or DOT sequence diagram
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = TraceFormat::Text)]
    pub trace_format: TraceFormat,

    /// Progress line on stderr during long runs: auto (on a terminal), always or never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = When::Auto)]
    pub progress: When,

    /// The LCC model; `-` reads standard input
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Draw a model as an interaction diagram, in Graphviz DOT, SVG or PNG.
///
/// One lane per role with its events in order, guards as diamonds, `or`/`par` as numbered or
/// labelled branch points, role changes as bold blue arrows into the target lane, messages as
/// dashed red arrows from each send to every receive that can take it. Long labels are
/// shortened; the whole text is in the tooltip.
///
/// The format is `--format`, else the extension of `-o` (`.dot`/`.gv`, `.svg`, `.png`), else
/// DOT. SVG and PNG need no Graphviz: with `--engine auto` Graphviz `dot` lays them out when it
/// is on PATH, else lcc's own layout does. PNG is never written to a terminal.
///
/// The model is checked first; errors from `lcc check` block drawing.
///
/// Exit status: 0 on success, 2 on a usage error, an unreadable or unwritable file, a model
/// with errors, or a failed rendering.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Draw a model as an interaction diagram (DOT, SVG or PNG)")]
#[command(after_help = "Examples:
  lcc viz model.lcc > model.dot
  lcc viz model.lcc -o model.svg
  lcc viz model.lcc -o model.png --engine builtin --role idle --role overloaded
  lcc viz --state-space model.lcc --format svg > states.svg
")]
pub struct VizArgs {
    /// Write the diagram here instead of standard output (`.dot`, `.gv`, `.svg` or `.png`)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The output format [default: from the extension of -o, else dot]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<VizFormat>,

    /// Who lays out SVG and PNG
    #[arg(long, value_enum, value_name = "ENGINE", default_value_t = Engine::Auto)]
    pub engine: Engine,

    /// Only these roles (repeatable)
    #[arg(long, value_name = "ROLE")]
    pub role: Vec<String>,

    /// Shorten labels longer than this many characters
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_label: usize,

    /// Draw the state space instead (deadlocks red, successes green), for the scenario of
    /// `--peers`, else the first of the scenario file, else the role declarations
    #[arg(long)]
    pub state_space: bool,

    /// With --state-space: the peers, `a(Role, Id), ...`
    #[arg(long, value_name = "PEERS", requires = "state_space")]
    pub peers: Option<String>,

    /// With --state-space: draw at most this many states
    #[arg(long, value_name = "N", default_value_t = 200, requires = "state_space")]
    pub max_states: u64,

    /// The LCC model; `-` reads standard input
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VizFormat {
    /// Graphviz DOT text
    Dot,
    /// SVG
    Svg,
    /// PNG (a bitmap at twice the size of the SVG)
    Png,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// Graphviz `dot` when it is on PATH, else builtin
    Auto,
    /// lcc's own layout; needs no Graphviz
    Builtin,
    /// Graphviz `dot` (`apt-get install graphviz`)
    Dot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// One line per step: peer, role, event, source line, actions
    Text,
    /// A Mermaid sequence diagram
    Mermaid,
    /// A Graphviz DOT sequence diagram (`dot -Tsvg` renders it)
    Dot,
}

/// Run an interaction model: its peers execute it in this process.
///
/// Every peer runs the model with the semantics of LCC.md section 5 (the model checker's),
/// compiled to bytecode. External constraints are answered by providers: external processes
/// speaking the constraint ABI (`--provider`, see docs/constraint-abi.md) or fixed answers
/// (`--assume name/arity=true|false`, which wins over a provider of the same constraint).
/// Before starting, every external constraint the model calls must have a provider; the
/// missing ones are named.
///
/// Events are printed as they happen: one line per step (peer, role, event, source position)
/// with what it did, or one JSON object per line with `--trace json`; `--trace mermaid|dot`
/// draws the whole run as a sequence diagram at its end. The run ends when no peer can move
/// (or after --max-steps), with the state of every peer.
///
/// Exit status: 0 when the run ends in success (every peer finished, or waits as an idle
/// server), 1 when it ends stuck (a deadlock: the stuck peers are named, with why), 3 when it
/// stopped at --max-steps, 2 on errors (usage, unreadable model, model with errors, missing
/// providers, a provider that does not start).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Run an interaction model in-process")]
#[command(after_help = "Examples:
  lcc run shop.lcc --peers 'a(buyer, b), a(shopkeeper, s)' --provider 'python3 shop_provider.py'
  lcc run shop.lcc --assume 'in_stock/2=true' --assume 'afford/2=true'
  lcc run model.lcc --seed 7 --trace json > run.jsonl
")]
pub struct RunArgs {
    /// The peers: `a(Role, Id), ...` [default: the first scenario of MODEL.verify.toml, else the role declarations]
    #[arg(long, value_name = "PEERS")]
    pub peers: Option<String>,

    /// A command that answers external constraints (the constraint ABI over stdio; repeatable)
    #[arg(long = "provider", value_name = "COMMAND")]
    pub providers: Vec<String>,

    /// A fixed answer for an external constraint: `name/arity=true` or `=false` (repeatable)
    #[arg(long, value_name = "RULE")]
    pub assume: Vec<String>,

    /// Seeded random scheduling (which peer moves, which message is taken); the same seed gives the same run
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Stop after this many steps (exit status 3)
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_steps: u64,

    /// How events are printed on stdout: `human`, `json` (one object per line), `none`, or a
    /// sequence diagram of the whole run at its end (`mermaid`, `dot`)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = RunTrace::Human)]
    pub trace: RunTrace,

    /// How long a provider may take to answer one call, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    pub provider_timeout: u64,

    /// Print the compiled bytecode and exit
    #[arg(long)]
    pub dump_bytecode: bool,

    /// The LCC model; `-` reads standard input
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Run a VM-placement model on a simulated datacentre.
///
/// Hosts h1, h2, ... start in role `idle` and run the model; the VMs are placed on them at
/// random, and their CPU load drifts over time (seeded: the same --seed gives the same run).
/// External constraints are answered by the host library (docs/runtime.md): the load of a
/// host, overloaded and underloaded tests against --upper and --lower times the average
/// load, the choice of a VM to move, whether a migration fits, the migration itself.
/// Time moves in monitoring intervals; the run ends when no VM moved for --stable-ticks
/// intervals, or after --max-ticks.
///
/// Reports how many hosts end within the range and how many end empty; --csv writes the
/// load of every host at every interval, --plot draws it as SVG.
///
/// Exit status: 0 when the datacentre reached a stable state, 3 when --max-ticks came first,
/// 2 on errors (model with errors, a constraint the host library does not provide).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, about = "Run a VM-placement model on a simulated datacentre")]
#[command(after_help = "Examples:
  lcc simulate stdlib/vm/balance.lcc --hosts 15 --vms 50 --seed 1 --csv loads.csv --plot loads.svg
  lcc simulate stdlib/vm/powersave.lcc --hosts 15 --vms 50
  lcc simulate stdlib/vm/balance.lcc --hosts 1000 --vms 5000 --max-ticks 2000 --format json
")]
pub struct SimulateArgs {
    /// Physical hosts
    #[arg(long, value_name = "N", default_value_t = 15)]
    pub hosts: usize,

    /// Virtual machines
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub vms: usize,

    /// Seed of the placement, the load drift and the scheduling
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// Overloaded above this many times the average load
    #[arg(long, value_name = "RATIO", default_value_t = 1.2)]
    pub upper: f64,

    /// Underloaded below this many times the average load
    #[arg(long, value_name = "RATIO", default_value_t = 0.8)]
    pub lower: f64,

    /// How far a VM's load drifts per interval, as a fraction of its initial load
    #[arg(long, value_name = "FRACTION", default_value_t = 0.01)]
    pub drift: f64,

    /// Initial VM loads, drawn uniformly from MIN:MAX (percent of one host's CPU)
    #[arg(long, value_name = "MIN:MAX", default_value = "5:25")]
    pub vm_load: String,

    /// Write the initial placement as libvirt test-driver node files DIR/h1.xml, DIR/h2.xml, ...
    /// (one per host, each VM a domain with its load): the hosts of `lcc agent` for the same
    /// seed and loads
    #[arg(long, value_name = "DIR")]
    pub export_nodes: Option<PathBuf>,

    /// What a host can carry, in percent of one CPU (how far the power-saving policy packs)
    #[arg(long, value_name = "PERCENT", default_value_t = 90.0)]
    pub capacity: f64,

    /// Stop after this many intervals (exit status 3)
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_ticks: u64,

    /// Intervals without a migration that count as a stable state
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub stable_ticks: u64,

    /// Write the load of every host at every interval here, as CSV
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Draw the load of every host over time here, as SVG
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Progress on stderr: auto (a bar, on a terminal), always (elsewhere a line every tenth of --max-ticks) or never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = When::Auto)]
    pub progress: When,

    /// Report for people (`human`) or for tools (`json`), on stdout
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    pub format: Format,

    /// The model (for example stdlib/vm/balance.lcc or stdlib/vm/powersave.lcc)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunTrace {
    Human,
    Json,
    None,
    /// A Mermaid sequence diagram of the run, at its end (the summary goes to stderr)
    Mermaid,
    /// A Graphviz DOT sequence diagram of the run, at its end (the summary goes to stderr)
    Dot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum When {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
