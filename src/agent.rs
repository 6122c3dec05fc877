//! `lcc agent`: a long-running host agent (docs/agents.md), and its two helpers: `--keygen`
//! and `--hash`.

use crate::cli::AgentArgs;
use crate::output::{Status, complain, write_stdout};
use lcc_runtime::agent::config::{Config, model_hash};
use lcc_runtime::agent::hostlib::Log;
use lcc_runtime::agent::transport::Transport;
use lcc_runtime::agent::trust::HostKey;
use lcc_runtime::agent::{Agent, AgentError};
use std::sync::atomic::AtomicBool;

pub fn run(args: &AgentArgs) -> Status {
    let outcome = if let Some(file) = &args.keygen {
        keygen(file)
    } else if !args.hash.is_empty() {
        hash(args)
    } else if let Some(config) = &args.config {
        serve(config)
    } else {
        Err("give --config FILE, --keygen FILE or --hash FILE".into())
    };
    match outcome {
        Ok(()) => Status::Success,
        Err(message) => {
            complain(message);
            Status::Trouble
        }
    }
}

fn keygen(file: &std::path::Path) -> Result<(), String> {
    let key = HostKey::generate().map_err(|e| e.to_string())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(file).map_err(|e| format!("cannot create {}: {e}", file.display()))?;
    std::io::Write::write_all(&mut f, format!("{}\n", key.to_hex()).as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    write_stdout(&format!("{}\n", key.public_hex()))
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

fn hash(args: &AgentArgs) -> Result<(), String> {
    let mut out = String::new();
    for file in &args.hash {
        let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        out.push_str(&format!("{}  {}\n", model_hash(&bytes), file.display()));
    }
    write_stdout(&out).map_err(|e| format!("cannot write to standard output: {e}"))
}

fn serve(path: &std::path::Path) -> Result<(), String> {
    let config = Config::load(path).map_err(|e| e.to_string())?;
    let log = Log::open(&config.host, &config.log).map_err(|e| e.to_string())?;
    // What can be checked without the network is checked first: a wrong hash or key file is
    // reported as such, not as a missing server.
    if let Err(e) = lcc_runtime::agent::load_model(&config) {
        log.event(
            "refused-model",
            serde_json::json!({ "model": config.model.display().to_string(), "reason": e.0 }),
        );
        return Err(e.0);
    }
    HostKey::load(&config.trust.key_file).map_err(|e| e.to_string())?;
    let transport = connect(&config).map_err(|e| {
        log.event("error", serde_json::json!({ "text": e.0 }));
        e.0
    })?;
    let mut agent = Agent::new(config, transport, log).map_err(|e| e.0)?;
    let stop = AtomicBool::new(false);
    agent.run(&stop).map_err(|e| e.0)
}

#[cfg(feature = "nats")]
fn connect(config: &Config) -> Result<Box<dyn Transport>, AgentError> {
    use lcc_runtime::agent::nats::{Nats, NatsOptions};
    use std::time::Duration;
    let mut options = NatsOptions::new(&config.transport.url, &config.transport.cluster);
    options.lease = Duration::from_millis(config.transport.lease_ms);
    options.request_timeout = Duration::from_millis(config.request_timeout_ms);
    options.jetstream_domain =
        (!config.transport.jetstream_domain.is_empty()).then(|| config.transport.jetstream_domain.clone());
    let nats = Nats::connect(&options).map_err(|e| AgentError(e.to_string()))?;
    Ok(Box::new(nats))
}

#[cfg(not(feature = "nats"))]
fn connect(_config: &Config) -> Result<Box<dyn Transport>, AgentError> {
    Err(AgentError(
        "this lcc was built without the `nats` feature, so agents cannot reach each other; rebuild with `cargo build --release --features nats`"
            .into(),
    ))
}
