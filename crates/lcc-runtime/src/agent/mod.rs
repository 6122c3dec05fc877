//! Host agents: the runtime across processes and machines (`lcc agent`, `docs/agents.md`).
//!
//! An agent executes the local peers of one host with the VM of [`crate::vm`]; the other
//! agents' peers are remote peers of that VM ([`crate::vm::Vm::add_remote`]). Between agents:
//! - discovery is a role registry with leases ([`transport::Transport::announce`]): every
//!   agent announces each of its peers with the role it plays, signed, and reads the others';
//! - every message is a signed [`trust::Envelope`] on the recipient peer's own subject,
//!   checked by a [`trust::Gate`] (size, form, key, signature, freshness, replay) before
//!   anything else looks at it;
//! - the host library ([`hostlib`]) answers the model's constraints on this host only, from
//!   its hypervisor ([`hypervisor`]), and moves VMs with a small host-to-host protocol whose
//!   commit point is a compare-and-set on the VM's ownership record.
//!
//! Faults become the model's failure path: a peer that waits longer than the request timeout
//! is first retried (so a `timedOut()` guard can take the model's own way out), then its
//! interaction is abandoned and it returns to its idle role (the role it started in).

pub mod config;
pub mod hostlib;
pub mod hypervisor;
#[cfg(feature = "libvirt")]
pub mod libvirt;
#[cfg(feature = "nats")]
pub mod nats;
pub mod transport;
pub mod trust;

use crate::abi::Registry;
use crate::bytecode::{self, Program};
use crate::value::Value;
use crate::vm::{Options, Vm};
use crate::wire::{value_from_json, value_to_json};
use config::Config;
use hostlib::{Host, Log};
use lcc_check::mc::scenario::{self, PeerSpec};
use serde_json::{Value as Json, json};
use smol_str::SmolStr;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use transport::Transport;
use trust::Envelope;

/// Why an agent cannot start or had to stop.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentError(pub String);

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The model an agent runs, checked against the allow-list before it is even parsed.
pub struct LoadedModel {
    pub program: Program,
    pub hash: String,
    pub model: lcc_check::ir::Model,
}

/// Reads the model of `config`, refusing it unless its SHA-256 is on the allow-list, and
/// refusing a model with errors.
pub fn load_model(config: &Config) -> Result<LoadedModel, AgentError> {
    let path = config.model.display();
    let bytes =
        std::fs::read(&config.model).map_err(|e| AgentError(format!("cannot read model {path}: {e}")))?;
    let hash = config::model_hash(&bytes);
    if !config.models.allow.iter().any(|h| h.eq_ignore_ascii_case(&hash)) {
        return Err(AgentError(format!(
            "model {path} (sha256 {hash}) is not on the allow-list ([models] allow); add its hash to run it"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| AgentError(format!("model {path} is not UTF-8 text")))?;
    let (model, diagnostics) = lcc_check::check_source(&text);
    if let Some(error) = diagnostics.iter().find(|d| d.severity == lcc_syntax::diagnostic::Severity::Error) {
        return Err(AgentError(format!("model {path} has errors (`lcc check {path}`): {}", error.message)));
    }
    let program = bytecode::program(&model);
    Ok(LoadedModel { program, hash, model })
}

/// The peers an agent executes: the config's, else the host in the model's initial role.
pub fn local_peers(config: &Config, model: &lcc_check::ir::Model) -> Result<Vec<PeerSpec>, AgentError> {
    if config.peers.is_empty() {
        let initial = model
            .roles
            .iter()
            .find(|r| r.declaration.as_ref().is_some_and(|d| d.kind == lcc_syntax::ast::RoleKind::Initial))
            .or_else(|| model.roles.first())
            .ok_or_else(|| AgentError("the model has no role".into()))?;
        let role = scenario::initial_role(model, initial);
        return Ok(vec![PeerSpec { role, id: Value::atom(&config.host) }]);
    }
    let mut specs = Vec::new();
    for text in &config.peers {
        let parsed = scenario::parse_peers(text).map_err(|e| {
            AgentError(format!(
                "peers: `{text}` is not a peer like `a(role, id)`: {} (column {})",
                e.message,
                e.offset + 1
            ))
        })?;
        specs.extend(parsed);
    }
    Ok(specs)
}

/// A running agent's view of another peer, from the role registry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub peer: Value,
    pub host: String,
    pub site: String,
    pub role: Option<String>,
    /// The host's load (on the entry of the host's own peer).
    pub load: Option<f64>,
    pub live_uri: String,
}

impl Entry {
    fn to_json(&self) -> Json {
        json!({
            "peer": value_to_json(&self.peer),
            "host": self.host,
            "site": self.site,
            "role": self.role,
            "load": self.load,
            "live_uri": self.live_uri,
        })
    }
    fn from_json(body: &Json) -> Option<Entry> {
        Some(Entry {
            peer: value_from_json(body.get("peer")?).ok()?,
            host: body.get("host")?.as_str()?.to_string(),
            site: body.get("site")?.as_str()?.to_string(),
            role: body.get("role").and_then(Json::as_str).map(str::to_string),
            load: body.get("load").and_then(Json::as_f64),
            live_uri: body.get("live_uri").and_then(Json::as_str).unwrap_or_default().to_string(),
        })
    }
}

/// The subject a host's host-to-host traffic arrives on (beside its peers' subjects).
pub fn host_channel(host: &str) -> String {
    format!("@{host}")
}

/// One agent: its VM's peers, the shared host state the constraints use, and the loop.
pub struct Agent {
    config: Config,
    loaded: LoadedModel,
    specs: Vec<PeerSpec>,
    host: Arc<Mutex<Host>>,
}

fn lock(host: &Mutex<Host>) -> MutexGuard<'_, Host> {
    host.lock().unwrap_or_else(|e| e.into_inner())
}

/// Per local peer: when it last moved, and whether it was already retried after a timeout.
struct Watch {
    last_move: Instant,
    retried: bool,
    role: Option<SmolStr>,
    /// The interval in which the peer finished its role (it starts again at the next one).
    finished_in: Option<u64>,
}

impl Agent {
    /// Prepares an agent: the model (allow-listed), its peers, keys, hypervisor and transport.
    pub fn new(config: Config, transport: Box<dyn Transport>, log: Log) -> Result<Agent, AgentError> {
        let loaded = match load_model(&config) {
            Ok(loaded) => loaded,
            Err(e) => {
                log.event(
                    "refused-model",
                    json!({ "model": config.model.display().to_string(), "reason": e.0 }),
                );
                return Err(e);
            }
        };
        let specs = local_peers(&config, &loaded.model)?;
        let host = Host::new(&config, &specs, transport, log)?;
        Ok(Agent { config, loaded, specs, host: Arc::new(Mutex::new(host)) })
    }

    /// Runs until `stop` is set or `stop_after_ms` has passed.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), AgentError> {
        let mut registry = Registry::new();
        hostlib::register(&mut registry, &self.host);
        let options = Options { seed: None, max_depth: 1000, record: false, wake_on_calls: true };
        let mut vm = Vm::new(&self.loaded.program, &self.specs, registry, options)
            .map_err(|e| AgentError(format!("cannot start the peers: {}", e.message)))?;
        let idle: Vec<Value> = self.specs.iter().map(|s| s.role.clone()).collect();
        let interval = Duration::from_millis(self.config.interval_ms);
        let timeout = Duration::from_millis(self.config.request_timeout_ms);
        let lease = Duration::from_millis(self.config.transport.lease_ms);
        let started = Instant::now();
        {
            let mut host = lock(&self.host);
            host.start(&self.loaded.hash)?;
        }
        let mut watches: Vec<Watch> = (0..self.specs.len())
            .map(|p| Watch {
                last_move: Instant::now(),
                retried: false,
                role: vm.role_of(p).and_then(|r| functor_of(&r)),
                finished_in: None,
            })
            .collect();
        let mut last_reconcile = Instant::now();
        // Listen for one lease before acting: the first reading of the average load then
        // includes every host that was alive, and the first discovery finds them.
        self.announce(&vm);
        let mut last_announce = Instant::now();
        while started.elapsed() < lease && !stop.load(Ordering::Relaxed) {
            self.refresh_directory(&mut vm);
            self.receive(&mut vm, Duration::from_millis(50));
        }
        lock(&self.host).hold_readings_until_next_tick();
        let mut last_directory = Instant::now();
        let mut tick = hostlib::tick_of(now_ms(), (self.config.interval_ms / 2).max(1));
        loop {
            if stop.load(Ordering::Relaxed)
                || (self.config.stop_after_ms > 0
                    && started.elapsed() >= Duration::from_millis(self.config.stop_after_ms))
            {
                break;
            }
            // Constraints answer by the clock: wake the peers at every half interval (an
            // overloaded host reads its state at the middle of an interval).
            let now_tick = hostlib::tick_of(now_ms(), (self.config.interval_ms / 2).max(1));
            if now_tick != tick {
                tick = now_tick;
                vm.wake_all();
            }
            // Discovery first, so that what arrives next is judged against fresh roles.
            if last_directory.elapsed() >= (interval / 4).min(Duration::from_millis(50)) {
                self.refresh_directory(&mut vm);
                last_directory = Instant::now();
            }
            self.receive(&mut vm, Duration::ZERO);
            let mut moved = vec![false; self.specs.len()];
            vm.run_until_quiet(10_000, &mut |vm, step| {
                if let Some(m) = moved.get_mut(step.peer) {
                    *m = true;
                }
                for notice in vm.take_notices() {
                    let fields = json!({ "peer": notice.peer().to_string(), "text": notice.to_string() });
                    lock(&self.host).log.event("notice", fields);
                }
            });
            let mut roles_changed = false;
            for (p, watch) in watches.iter_mut().enumerate() {
                if moved.get(p).copied().unwrap_or(false) {
                    watch.last_move = Instant::now();
                    watch.retried = false;
                }
                let role = vm.role_of(p).and_then(|r| functor_of(&r));
                if role != watch.role {
                    roles_changed = true;
                    let mut host = lock(&self.host);
                    let id = vm.peer_id(p).cloned().unwrap_or(Value::Unbound);
                    host.entered_role(&id);
                    host.log.event(
                        "role",
                        json!({ "peer": id.to_string(), "role": vm.role_of(p).map(|r| r.to_string()) }),
                    );
                    watch.role = role;
                }
            }
            // Announce role changes before the messages that follow them go out: a recipient
            // reads the registry when a message arrives.
            if roles_changed || last_announce.elapsed() >= lease / 3 {
                self.announce(&vm);
                last_announce = Instant::now();
            }
            let outbox = vm.take_outbox();
            if !outbox.is_empty() {
                let mut host = lock(&self.host);
                for out in outbox {
                    host.send_model_message(&out);
                }
            }
            // Timeouts: the failure path.
            for (p, watch) in watches.iter_mut().enumerate() {
                if vm.is_at_rest(p) || watch.last_move.elapsed() < timeout {
                    continue;
                }
                let id = vm.peer_id(p).cloned().unwrap_or(Value::Unbound);
                if !watch.retried {
                    watch.retried = true;
                    vm.wake_all();
                    continue;
                }
                let Some(role) = idle.get(p) else { continue };
                let waited = watch.last_move.elapsed().as_millis();
                match vm.abandon(p, role) {
                    Ok(dropped) => {
                        lock(&self.host).log.event(
                            "timeout",
                            json!({
                                "peer": id.to_string(),
                                "waited_ms": waited,
                                "back_to": role.to_string(),
                                "dropped_messages": dropped.len(),
                            }),
                        );
                    }
                    Err(e) => lock(&self.host)
                        .log
                        .event("error", json!({ "peer": id.to_string(), "text": e.message })),
                }
                watch.last_move = Instant::now();
                watch.retried = false;
            }
            // A host monitors forever: a peer whose role finished starts again in its start
            // role at the next interval (a one-shot model such as the offline migration
            // workflow is then tried once per interval).
            let interval_now = hostlib::tick_of(now_ms(), self.config.interval_ms);
            for (p, watch) in watches.iter_mut().enumerate() {
                if !vm.is_finished(p) {
                    watch.finished_in = None;
                    continue;
                }
                match watch.finished_in {
                    None => watch.finished_in = Some(interval_now),
                    Some(t) if interval_now > t => {
                        let Some(role) = idle.get(p) else { continue };
                        if vm.abandon(p, role).is_ok() {
                            let id = vm.peer_id(p).cloned().unwrap_or(Value::Unbound);
                            lock(&self.host).log.event(
                                "restarted",
                                json!({ "peer": id.to_string(), "role": role.to_string() }),
                            );
                        }
                        watch.finished_in = None;
                        watch.last_move = Instant::now();
                    }
                    Some(_) => {}
                }
            }
            if last_reconcile.elapsed() >= interval * 5 {
                lock(&self.host).reconcile();
                last_reconcile = Instant::now();
            }
            // Sleep until a message arrives, the next tick, or a short while (timeouts).
            let to_tick = hostlib::ms_to_next_tick(now_ms(), self.config.interval_ms);
            let wait = Duration::from_millis(to_tick.clamp(1, 20));
            self.receive(&mut vm, wait);
        }
        let mut host = lock(&self.host);
        host.log_inventory("stopped");
        host.withdraw(&self.specs);
        host.log.event("stopped", json!({ "steps": vm.steps() }));
        Ok(())
    }

    /// Handles what has arrived, waiting up to `wait` for the first message.
    fn receive(&self, vm: &mut Vm<'_>, wait: Duration) {
        let mut first = true;
        loop {
            let envelope = {
                let mut host = lock(&self.host);
                host.next_model_message(if first { wait } else { Duration::ZERO })
            };
            first = false;
            let Some(envelope) = envelope else { return };
            self.deliver(vm, &envelope);
        }
    }

    /// Gives a model message to its local peer, if it may have it.
    fn deliver(&self, vm: &mut Vm<'_>, envelope: &Envelope) {
        // The sender announced its role changes before sending: read them first, so that a
        // discovery made after this message sees the roles the sender saw.
        self.refresh_directory(vm);
        let body = &envelope.body;
        let field = |name: &str| body.get(name).and_then(|v| value_from_json(v).ok());
        let text = |name: &str| body.get(name).and_then(Json::as_str).map(SmolStr::new);
        let (Some(from), Some(to), Some(from_role), Some(to_role), Some(content)) =
            (field("from"), field("to"), text("from_role"), text("to_role"), field("msg"))
        else {
            lock(&self.host).log.reject(
                &envelope.from,
                "malformed",
                "a model message lacks from/to/roles/msg",
            );
            return;
        };
        // A host speaks only for its own peers.
        let speaks_for = lock(&self.host).owner_of(&from).as_deref() == Some(envelope.from.as_str());
        if !speaks_for {
            lock(&self.host).log.reject(
                &envelope.from,
                "impostor",
                &format!("host `{}` sent a message as peer {from}, which it does not execute", envelope.from),
            );
            return;
        }
        let Some(to_index) = vm.peer_index(&to).filter(|&p| !vm.is_remote(p)) else {
            lock(&self.host).log.reject(
                &envelope.from,
                "no-such-peer",
                &format!("peer {to} is not executed here"),
            );
            return;
        };
        if !vm.active_roles(to_index).contains(&to_role) {
            lock(&self.host).log.event(
                "discarded",
                json!({
                    "from": from.to_string(), "to": to.to_string(), "msg": content.to_string(),
                    "reason": format!("{to} is not in role `{to_role}` any more"),
                }),
            );
            return;
        }
        let from_index = vm.add_remote(from.clone());
        lock(&self.host).log.event(
            "recv",
            json!({ "from": from.to_string(), "to": to.to_string(), "msg": content.to_string() }),
        );
        vm.deliver(from_index, to_index, from_role, to_role, content);
    }

    fn refresh_directory(&self, vm: &mut Vm<'_>) {
        let entries = {
            let mut host = lock(&self.host);
            host.refresh_directory();
            host.directory_entries()
        };
        let mut seen = HashMap::new();
        for entry in entries {
            if let Some(p) = vm.peer_index(&entry.peer)
                && !vm.is_remote(p)
            {
                continue;
            }
            let p = vm.add_remote(entry.peer.clone());
            seen.insert(p, ());
            vm.set_remote_role(p, entry.role.as_deref().map(SmolStr::new));
        }
        // Peers that left discovery (lease expired, withdrawn) are no partners any more.
        for p in 0..vm.peer_count() {
            if vm.is_remote(p) && !seen.contains_key(&p) {
                vm.set_remote_role(p, None);
            }
        }
    }

    fn announce(&self, vm: &Vm<'_>) {
        let mut host = lock(&self.host);
        for p in 0..self.specs.len() {
            let id = vm.peer_id(p).cloned().unwrap_or(Value::Unbound);
            let role = if vm.is_finished(p) { None } else { vm.role_of(p).and_then(|r| functor_of(&r)) };
            host.announce(&id, role.as_deref());
        }
    }
}

fn functor_of(role: &Value) -> Option<SmolStr> {
    role.functor().map(|(name, _)| SmolStr::new(name))
}
