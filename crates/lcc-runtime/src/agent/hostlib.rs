//! The host library of an agent: the constraints of the VM models, answered on this host only,
//! and the host-to-host protocol that moves VMs.
//!
//! Constraints of `stdlib/vm/balance.lcc` and `powersave.lcc` (the same names as
//! `lcc simulate`'s library): `getPeerState/1`, `isOverLoaded/0`, `isUnderLoaded/0`,
//! `selectVM/2`, `isMigrationPossible/2`, `hasRoomFor/1`, `migrate/2`, `waitForMigration/1`,
//! `timedOut/0`. Constraints of `stdlib/vm/offline_migration.lcc`: `isOverloaded/1`,
//! `isUnderloaded/1`, `getVmProfile/2`, `sameLocation/1`, `migrationPossible/2`,
//! `createNewVMs/4`, `getServiceList/2`, `deleteVM/1`, `startService/0`, `getClientList/1`,
//! `redirect/2`, `shutdown/0`.
//!
//! Who owns a VM is a record in the transport's durable store, `vm.<uuid>`, holding the owner
//! host. Changing it with compare-and-set is the commit point of every move:
//! - `migrate/2` (balance): the source sends the domain XML (`adopt`); the target defines and
//!   starts it, then moves the record to itself; only then does the source destroy and
//!   undefine its copy. A target that cannot take the record removes its copy.
//! - the offline workflow: `createNewVMs/4` on the target fetches the XML from the owner,
//!   defines and starts it and marks the record `moving` to itself; `deleteVM/1` on the
//!   source removes the old copy and marks it `placed`.
//! - reconciliation (at start and every five intervals): a host removes its copy of any VM
//!   whose record names another owner (after a `moving` grace period), and records VMs no
//!   record mentions as its own. So whatever dies when, every VM ends up on exactly one host.

use super::config::{Config, HypervisorKind, Policy};
use super::hypervisor::{Domain, HostInfo, Hypervisor, MemoryHypervisor, parse_domain_xml};
use super::transport::Transport;
use super::trust::{Envelope, Gate, HostKey, KeyRing, Limits, Sequence, seal};
use super::{AgentError, Entry, host_channel, now_ms};
use crate::abi::{Call, ProviderError, Registry, Solutions};
use crate::sim::round2;
use crate::value::Value;
use crate::vm::{Outgoing, Rng};
use crate::wire::value_to_json;
use lcc_check::mc::scenario::PeerSpec;
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The monitoring interval number at `now`.
pub fn tick_of(now_ms: u64, interval_ms: u64) -> u64 {
    now_ms / interval_ms.max(1)
}

pub fn ms_to_next_tick(now_ms: u64, interval_ms: u64) -> u64 {
    let interval = interval_ms.max(1);
    interval - now_ms % interval
}

/// Structured events, one JSON object per line, each with the time and the host.
#[derive(Clone)]
pub struct Log {
    host: String,
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Log {
    pub fn new(host: &str, sink: Box<dyn Write + Send>) -> Log {
        Log { host: host.to_string(), sink: Arc::new(Mutex::new(sink)) }
    }

    /// Opens the log of a config: `-` is standard error, anything else a file appended to.
    pub fn open(host: &str, target: &str) -> Result<Log, AgentError> {
        if target == "-" {
            return Ok(Log::new(host, Box::new(std::io::stderr())));
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(target)
            .map_err(|e| AgentError(format!("cannot open the log {target}: {e}")))?;
        Ok(Log::new(host, Box::new(file)))
    }

    pub fn event(&self, event: &str, fields: Json) {
        let mut line = json!({ "ts_ms": now_ms(), "host": self.host, "event": event });
        if let (Some(obj), Json::Object(extra)) = (line.as_object_mut(), fields) {
            obj.extend(extra);
        }
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        // A log that cannot be written must not stop the host.
        let _ = writeln!(sink, "{line}");
        let _ = sink.flush();
    }

    /// A log kept in memory, and the handle that reads it (agents run in one process: tests
    /// and benchmarks).
    pub fn in_memory(host: &str) -> (Log, MemoryLog) {
        let memory = MemoryLog::default();
        (Log::new(host, Box::new(memory.clone())), memory)
    }

    /// A message refused: `code` is stable (`bad-signature`, `replayed`, ...).
    pub fn reject(&self, from: &str, code: &str, reason: &str) {
        self.event("rejected", json!({ "from": from, "code": code, "reason": reason }));
    }
}

/// The lines of a [`Log::in_memory`].
#[derive(Clone, Default)]
pub struct MemoryLog(Arc<Mutex<Vec<u8>>>);

impl MemoryLog {
    /// The events logged so far named `event` (every event when it is empty).
    pub fn events(&self, event: &str) -> Vec<Json> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str::<Json>(line).ok())
            .filter(|e| event.is_empty() || e.get("event").and_then(Json::as_str) == Some(event))
            .collect()
    }
}

impl Write for MemoryLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a VM's ownership record says.
#[derive(Clone, Debug, PartialEq)]
struct Ownership {
    owner: String,
    name: String,
    /// `moving`: the offline workflow runs, `from` still has its copy.
    moving_from: Option<String>,
    since_ms: u64,
}

impl Ownership {
    fn to_bytes(&self) -> Vec<u8> {
        json!({ "owner": self.owner, "name": self.name, "moving_from": self.moving_from, "since_ms": self.since_ms })
            .to_string()
            .into_bytes()
    }
    fn from_bytes(bytes: &[u8]) -> Option<Ownership> {
        let j: Json = serde_json::from_slice(bytes).ok()?;
        Some(Ownership {
            owner: j.get("owner")?.as_str()?.to_string(),
            name: j.get("name")?.as_str()?.to_string(),
            moving_from: j.get("moving_from").and_then(Json::as_str).map(str::to_string),
            since_ms: j.get("since_ms").and_then(Json::as_u64).unwrap_or(0),
        })
    }
}

/// The state of one host shared by the agent loop and the constraints.
pub struct Host {
    pub name: String,
    site: String,
    interval_ms: u64,
    timeout: Duration,
    policy: Policy,
    live_uri: String,
    transport: Box<dyn Transport>,
    hv: Box<dyn Hypervisor>,
    key: HostKey,
    ring: KeyRing,
    limits: Limits,
    seq: Sequence,
    gate: Gate,
    pub log: Log,
    /// Peer text -> entry, verified.
    directory: HashMap<String, Entry>,
    /// The stored bytes each directory entry was verified from: an entry read again unchanged
    /// (the registry is read every few milliseconds) is not verified again.
    verified: HashMap<String, Vec<u8>>,
    /// Model messages that arrived while a constraint waited for a host reply.
    inbox: VecDeque<Envelope>,
    /// Host-protocol replies by request id.
    replies: HashMap<String, Envelope>,
    local_peers: Vec<Value>,
    /// Per local peer: the tick its state was last read, and the tick it entered its role.
    last_read: HashMap<Value, u64>,
    role_tick: HashMap<Value, u64>,
    read_load: HashMap<Value, f64>,
    /// Room promised to VMs on their way here: (size, memory KiB, tick).
    reserved: Vec<(f64, u64, u64)>,
    /// VMs that arrived here (by name), for `waitForMigration/1`.
    arrived: HashSet<String>,
    rng: Rng,
    drop_rng: Rng,
    drop_messages: f64,
    corrupt_messages: f64,
    request_counter: u64,
    /// Registry entries already reported as rejected (key, bytes), so each is logged once.
    rejected_entries: HashSet<(String, Vec<u8>)>,
}

impl Host {
    pub fn new(
        config: &Config,
        specs: &[PeerSpec],
        transport: Box<dyn Transport>,
        log: Log,
    ) -> Result<Host, AgentError> {
        let key = HostKey::load(&config.trust.key_file).map_err(|e| AgentError(e.to_string()))?;
        let mut ring = KeyRing::default();
        for (host, public) in &config.trust.keys {
            ring.insert_hex(host, public).map_err(|e| AgentError(format!("[trust.keys] {host}: {e}")))?;
        }
        let limits =
            Limits { max_bytes: config.trust.max_message_bytes, max_skew_ms: config.trust.max_skew_ms };
        let hv = open_hypervisor(config)?;
        let seed = config.faults.seed ^ name_hash(&config.host);
        Ok(Host {
            name: config.host.clone(),
            site: config.site.clone(),
            interval_ms: config.interval_ms,
            timeout: Duration::from_millis(config.request_timeout_ms),
            policy: config.policy,
            live_uri: config.hypervisor.live_uri.clone(),
            transport,
            hv,
            key,
            gate: Gate::new(&config.host, ring.clone(), limits),
            ring,
            limits,
            seq: Sequence::starting_now(),
            log,
            directory: HashMap::new(),
            verified: HashMap::new(),
            inbox: VecDeque::new(),
            replies: HashMap::new(),
            local_peers: specs.iter().map(|s| s.id.clone()).collect(),
            last_read: HashMap::new(),
            role_tick: HashMap::new(),
            read_load: HashMap::new(),
            reserved: Vec::new(),
            arrived: HashSet::new(),
            rng: Rng::new(seed),
            drop_rng: Rng::new(seed.rotate_left(17)),
            drop_messages: config.faults.drop_messages,
            corrupt_messages: config.faults.corrupt_messages,
            request_counter: 0,
            rejected_entries: HashSet::new(),
        })
    }

    /// Starts receiving, reconciles the inventory with the ownership records and says so.
    pub fn start(&mut self, model_hash: &str) -> Result<(), AgentError> {
        let peers: Vec<Value> = self.local_peers.clone();
        for peer in &peers {
            self.transport
                .listen(&peer.to_string())
                .map_err(|e| AgentError(format!("cannot receive for peer {peer}: {e}")))?;
        }
        self.transport
            .listen(&host_channel(&self.name))
            .map_err(|e| AgentError(format!("cannot receive host traffic: {e}")))?;
        self.log.event(
            "started",
            json!({
                "site": self.site,
                "model_sha256": model_hash,
                "peers": peers.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                "public_key": self.key.public_hex(),
            }),
        );
        self.reconcile();
        self.log_inventory("started");
        Ok(())
    }

    /// The first reading waits for the next interval to begin, as every later one does: then
    /// all hosts read at its start, and overloaded ones half an interval later.
    pub fn hold_readings_until_next_tick(&mut self) {
        let tick = self.tick();
        for peer in self.local_peers.clone() {
            self.last_read.insert(peer, tick);
        }
    }

    fn tick(&self) -> u64 {
        tick_of(now_ms(), self.interval_ms)
    }

    pub fn entered_role(&mut self, peer: &Value) {
        let tick = self.tick();
        self.role_tick.insert(peer.clone(), tick);
    }

    // ---- messages -------------------------------------------------------------------------

    fn seal_to(&mut self, to: &str, kind: &str, body: Json) -> Vec<u8> {
        let envelope = Envelope {
            from: self.name.clone(),
            to: to.to_string(),
            seq: self.seq.next(),
            sent_ms: now_ms(),
            kind: kind.into(),
            body,
        };
        seal(&self.key, &envelope)
    }

    /// Sends a model message to the host that executes its recipient.
    pub fn send_model_message(&mut self, out: &Outgoing) {
        let to_text = out.to.to_string();
        let Some(host) = self.directory.get(&to_text).map(|e| e.host.clone()) else {
            self.log.event(
                "undeliverable",
                json!({ "to": to_text, "msg": out.content.to_string(), "reason": "the peer is not in the role registry" }),
            );
            return;
        };
        if self.drop_messages > 0.0 && self.drop_rng.unit() < self.drop_messages {
            self.log.event(
                "dropped",
                json!({ "to": to_text, "msg": out.content.to_string(), "reason": "[faults] drop_messages" }),
            );
            return;
        }
        let body = json!({
            "from": value_to_json(&out.from),
            "to": value_to_json(&out.to),
            "from_role": out.from_role.as_str(),
            "to_role": out.to_role.as_str(),
            "msg": value_to_json(&out.content),
        });
        let mut bytes = self.seal_to(&host, "lcc", body);
        if self.corrupt_messages > 0.0 && self.drop_rng.unit() < self.corrupt_messages {
            corrupt_signature(&mut bytes);
        }
        self.log.event(
            "send",
            json!({ "from": out.from.to_string(), "to": to_text, "msg": out.content.to_string() }),
        );
        if let Err(e) = self.transport.send(&to_text, &bytes) {
            self.log.event("error", json!({ "text": format!("cannot send to {to_text}: {e}") }));
        }
    }

    /// The next model message (host traffic is handled on the way), waiting up to `wait`.
    pub fn next_model_message(&mut self, wait: Duration) -> Option<Envelope> {
        if let Some(e) = self.inbox.pop_front() {
            return Some(e);
        }
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let delivery = match self.transport.recv(left) {
                Ok(Some(d)) => d,
                Ok(None) => return None,
                Err(e) => {
                    self.log.event("error", json!({ "text": format!("transport: {e}") }));
                    std::thread::sleep(left.min(Duration::from_millis(50)));
                    return None;
                }
            };
            if let Some(envelope) = self.admit(&delivery.bytes) {
                match envelope.kind.as_str() {
                    "lcc" => return Some(envelope),
                    "host" => self.handle_host(envelope),
                    other => self.log.reject(
                        &envelope.from,
                        "malformed",
                        &format!("unknown message kind `{other}`"),
                    ),
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
        }
    }

    /// The gate: a message that fails any check is logged and goes no further.
    fn admit(&mut self, bytes: &[u8]) -> Option<Envelope> {
        match self.gate.open(bytes, now_ms()) {
            Ok(envelope) => Some(envelope),
            Err(rejection) => {
                let from = rejection_sender(&rejection);
                self.log.reject(&from, rejection.code(), &rejection.to_string());
                None
            }
        }
    }

    /// Waits for the reply to host request `id`, handling everything else that arrives.
    fn await_reply(&mut self, id: &str) -> Option<Envelope> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(reply) = self.replies.remove(id) {
                return Some(reply);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            match self.transport.recv(left.min(Duration::from_millis(50))) {
                Ok(Some(d)) => {
                    if let Some(envelope) = self.admit(&d.bytes) {
                        match envelope.kind.as_str() {
                            "lcc" => self.inbox.push_back(envelope),
                            "host" => self.handle_host(envelope),
                            _ => {}
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.log.event("error", json!({ "text": format!("transport: {e}") }));
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }

    fn request(&mut self, to_host: &str, op: &str, mut body: Json) -> Option<Envelope> {
        self.request_counter += 1;
        let id = format!("{}-{}-{}", self.name, now_ms(), self.request_counter);
        if let Some(obj) = body.as_object_mut() {
            obj.insert("op".into(), json!(op));
            obj.insert("id".into(), json!(id));
        }
        let bytes = self.seal_to(to_host, "host", body);
        if let Err(e) = self.transport.send(&host_channel(to_host), &bytes) {
            self.log.event("error", json!({ "text": format!("cannot reach host {to_host}: {e}") }));
            return None;
        }
        self.await_reply(&id)
    }

    fn reply(&mut self, to_host: &str, id: &str, mut body: Json) {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("op".into(), json!("reply"));
            obj.insert("id".into(), json!(id));
        }
        let bytes = self.seal_to(to_host, "host", body);
        if let Err(e) = self.transport.send(&host_channel(to_host), &bytes) {
            self.log.event("error", json!({ "text": format!("cannot reply to host {to_host}: {e}") }));
        }
    }

    /// Host-to-host requests: `adopt` (take a VM: the balance move) and `domain-xml` (the
    /// offline workflow fetching the source's definition).
    fn handle_host(&mut self, envelope: Envelope) {
        let body = &envelope.body;
        let op = body.get("op").and_then(Json::as_str).unwrap_or_default().to_string();
        let id = body.get("id").and_then(Json::as_str).unwrap_or_default().to_string();
        match op.as_str() {
            "reply" => {
                self.replies.insert(id, envelope);
            }
            "adopt" => {
                let xml = body.get("xml").and_then(Json::as_str).unwrap_or_default().to_string();
                let rev = body.get("rev").and_then(Json::as_u64);
                let outcome = self.adopt(&envelope.from, &xml, rev);
                let answer = match &outcome {
                    Ok(()) => json!({ "ok": true }),
                    Err(reason) => json!({ "ok": false, "reason": reason }),
                };
                self.reply(&envelope.from, &id, answer);
            }
            "domain-xml" => {
                let name = body.get("vm").and_then(Json::as_str).unwrap_or_default().to_string();
                let answer = match self.hv.domain_xml(&name) {
                    Ok(xml) => json!({ "ok": true, "xml": xml }),
                    Err(e) => json!({ "ok": false, "reason": e.to_string() }),
                };
                self.reply(&envelope.from, &id, answer);
            }
            other => self.log.reject(&envelope.from, "malformed", &format!("unknown host request `{other}`")),
        }
    }

    /// Takes a VM from `from`: define and start here, then take its record (the commit point).
    fn adopt(&mut self, from: &str, xml: &str, rev: Option<u64>) -> Result<(), String> {
        let domain = parse_domain_xml(xml).map_err(|e| e.to_string())?;
        let key = record_key(&domain.uuid);
        let have = self.hv.domains().map_err(|e| e.to_string())?.iter().any(|d| d.uuid == domain.uuid);
        if !have {
            self.hv.define(xml).map_err(|e| e.to_string())?;
            self.hv.start(&domain.name).map_err(|e| e.to_string())?;
        }
        let record = Ownership {
            owner: self.name.clone(),
            name: domain.name.clone(),
            moving_from: None,
            since_ms: now_ms(),
        };
        match self.transport.record_put(&key, &record.to_bytes(), rev) {
            Ok(_) => {
                self.release_reservation(domain.load);
                self.arrived.insert(domain.name.clone());
                self.log.event("adopted", json!({ "vm": domain.name, "uuid": domain.uuid, "from": from }));
                self.log_inventory("adopted");
                Ok(())
            }
            Err(e) => {
                // The record moved meanwhile: this copy must not exist.
                self.remove_local(&domain.name);
                Err(format!("the ownership record of {} changed: {e}", domain.name))
            }
        }
    }

    // ---- discovery ------------------------------------------------------------------------

    pub fn announce(&mut self, peer: &Value, role: Option<&str>) {
        let load = if self.local_peers.first() == Some(peer) { Some(self.load()) } else { None };
        let entry = Entry {
            peer: peer.clone(),
            host: self.name.clone(),
            site: self.site.clone(),
            role: role.map(str::to_string),
            load,
            live_uri: self.live_uri.clone(),
        };
        let text = peer.to_string();
        self.directory.insert(text.clone(), entry.clone());
        let bytes = self.seal_to("*", "announce", entry.to_json());
        if let Err(e) = self.transport.announce(&text, &bytes) {
            self.log.event("error", json!({ "text": format!("cannot announce {text}: {e}") }));
        }
    }

    pub fn withdraw(&mut self, specs: &[PeerSpec]) {
        for spec in specs {
            let _ = self.transport.withdraw(&spec.id.to_string());
        }
    }

    /// Re-reads the role registry, keeping only entries signed by the host they name.
    pub fn refresh_directory(&mut self) {
        let entries = match self.transport.directory() {
            Ok(entries) => entries,
            Err(e) => {
                self.log.event("error", json!({ "text": format!("cannot read the role registry: {e}") }));
                return;
            }
        };
        let mut fresh = HashMap::new();
        let mut verified = HashMap::new();
        for (key, bytes) in entries {
            if self.verified.get(&key) == Some(&bytes)
                && let Some(entry) = self.directory.remove(&key)
            {
                fresh.insert(key.clone(), entry);
                verified.insert(key, bytes);
                continue;
            }
            let problem = match super::trust::verify_signed(&self.ring, self.limits, &bytes) {
                Ok(envelope) if envelope.kind == "announce" => match Entry::from_json(&envelope.body) {
                    Some(entry) if entry.host == envelope.from && entry.peer.to_string() == key => {
                        fresh.insert(key.clone(), entry);
                        verified.insert(key, bytes);
                        continue;
                    }
                    _ => (envelope.from, "impostor", format!("registry entry `{key}` is not its signer's")),
                },
                Ok(envelope) => {
                    (envelope.from, "malformed", format!("registry entry `{key}` is of the wrong kind"))
                }
                Err(rejection) => (
                    rejection_sender(&rejection),
                    rejection.code(),
                    format!("registry entry `{key}`: {rejection}"),
                ),
            };
            // The registry is read every few milliseconds: say it once per entry.
            if self.rejected_entries.insert((key, bytes)) {
                self.log.reject(&problem.0, problem.1, &problem.2);
            }
        }
        self.directory = fresh;
        self.verified = verified;
    }

    pub fn directory_entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self.directory.values().cloned().collect();
        entries.sort_by_key(|e| e.peer.to_string());
        entries
    }

    pub fn owner_of(&self, peer: &Value) -> Option<String> {
        self.directory.get(&peer.to_string()).map(|e| e.host.clone())
    }

    // ---- inventory ------------------------------------------------------------------------

    fn domains(&mut self) -> Vec<Domain> {
        match self.hv.domains() {
            Ok(d) => d,
            Err(e) => {
                self.log.event("error", json!({ "text": format!("cannot list domains: {e}") }));
                Vec::new()
            }
        }
    }

    /// The host's load: the sum of its running VMs' loads.
    fn load(&mut self) -> f64 {
        round2(self.domains().iter().filter(|d| d.running).map(|d| d.load).sum::<f64>() + 0.0)
    }

    /// The average load of the hosts in discovery (this one included).
    fn average(&mut self) -> f64 {
        let own = self.load();
        let mut loads: Vec<f64> =
            self.directory.values().filter(|e| e.host != self.name).filter_map(|e| e.load).collect();
        loads.push(own);
        loads.iter().sum::<f64>() / loads.len() as f64
    }

    pub fn log_inventory(&mut self, reason: &str) {
        let domains = self.domains();
        let list: Vec<Json> = domains
            .iter()
            .map(|d| json!({ "name": d.name, "uuid": d.uuid, "running": d.running, "load": d.load }))
            .collect();
        let load = self.load();
        self.log.event("inventory", json!({ "reason": reason, "load": load, "domains": list }));
    }

    fn remove_local(&mut self, name: &str) {
        let _ = self.hv.destroy(name);
        if let Err(e) = self.hv.undefine(name) {
            self.log.event("error", json!({ "text": format!("cannot undefine {name}: {e}") }));
        }
    }

    /// Makes the local inventory agree with the ownership records.
    pub fn reconcile(&mut self) {
        let grace = self.timeout.as_millis() as u64 * 4;
        for domain in self.domains() {
            let key = record_key(&domain.uuid);
            match self.transport.record_get(&key) {
                Ok(None) => {
                    let record = Ownership {
                        owner: self.name.clone(),
                        name: domain.name.clone(),
                        moving_from: None,
                        since_ms: now_ms(),
                    };
                    let _ = self.transport.record_put(&key, &record.to_bytes(), None);
                }
                Ok(Some((bytes, rev))) => {
                    let Some(record) = Ownership::from_bytes(&bytes) else { continue };
                    if record.owner == self.name {
                        continue;
                    }
                    let moving_here = record.moving_from.as_deref() == Some(self.name.as_str());
                    if moving_here && now_ms().saturating_sub(record.since_ms) < grace {
                        continue; // the offline workflow is still running
                    }
                    self.remove_local(&domain.name);
                    if moving_here {
                        let placed = Ownership { moving_from: None, since_ms: now_ms(), ..record.clone() };
                        let _ = self.transport.record_put(&key, &placed.to_bytes(), Some(rev));
                    }
                    self.log.event(
                        "reconciled",
                        json!({ "vm": domain.name, "uuid": domain.uuid, "owner": record.owner, "action": "removed the local copy" }),
                    );
                    self.log_inventory("reconciled");
                }
                Err(e) => self.log.event(
                    "error",
                    json!({ "text": format!("cannot read the record of {}: {e}", domain.name) }),
                ),
            }
        }
    }

    fn release_reservation(&mut self, size: f64) {
        if let Some(i) = self.reserved.iter().position(|r| crate::sim::reservation_fits(r.0, size)) {
            self.reserved.remove(i);
        }
    }

    fn reserved_load(&self) -> f64 {
        self.reserved.iter().map(|r| r.0).sum()
    }

    // ---- the constraints ------------------------------------------------------------------

    fn thresholds(&mut self) -> (f64, f64) {
        let avg = self.average();
        (self.policy.lower * avg, self.policy.upper * avg)
    }

    fn timed_out(&self, peer: &Value) -> bool {
        let since = self.last_read.get(peer).or_else(|| self.role_tick.get(peer));
        since.is_none_or(|&t| self.tick() > t)
    }

    /// Answers one constraint call of a local peer.
    pub fn call(&mut self, call: &Call<'_>) -> Result<Solutions, ProviderError> {
        let args = call.args;
        let peer = call.peer;
        let yes = || Ok(vec![args.to_vec()]);
        let no = || Ok(Vec::new());
        let text = |v: &Value| match v {
            Value::Str(s) | Value::Atom(s) => s.to_string(),
            other => other.to_string(),
        };
        match (call.name, args) {
            ("getPeerState", [_]) => {
                let tick = self.tick();
                if self.last_read.get(peer) == Some(&tick) {
                    return no();
                }
                let load = self.load();
                let (_, upper) = self.thresholds();
                // An overloaded host reads half an interval late, so that the hosts that
                // become underloaded at the same tick are in discovery when it looks.
                if load > upper && ms_to_next_tick(now_ms(), self.interval_ms) > self.interval_ms / 2 {
                    return no();
                }
                self.last_read.insert(peer.clone(), tick);
                self.read_load.insert(peer.clone(), load);
                self.reserved.retain(|r| r.2 + 1 >= tick);
                Ok(vec![vec![Value::Float(load)]])
            }
            ("isOverLoaded", []) | ("isOverloaded", [_]) => {
                let read = self.read_load.get(peer).copied().unwrap_or(0.0);
                let (_, upper) = self.thresholds();
                if read > upper { yes() } else { no() }
            }
            ("isUnderLoaded", []) | ("isUnderloaded", [_]) => {
                let read = self.read_load.get(peer).copied().unwrap_or(0.0);
                let (lower, _) = self.thresholds();
                if read < lower { yes() } else { no() }
            }
            ("selectVM", [_, _]) | ("getVmProfile", [_, _]) => {
                let Some(d) = self.pick_vm() else { return no() };
                let second = if call.name == "selectVM" {
                    Value::Float(round2(d.load))
                } else {
                    Value::Compound(
                        "profile".into(),
                        vec![Value::Int(i64::from(d.vcpus)), Value::Int((d.memory_kib / 1024) as i64)],
                    )
                };
                Ok(vec![vec![Value::atom(&d.name), second]])
            }
            ("isMigrationPossible", [_, size]) => {
                let size = number(size)
                    .ok_or_else(|| ProviderError(format!("isMigrationPossible/2: {size} is not a number")))?;
                let (_, upper) = self.thresholds();
                if self.load() + self.reserved_load() + size <= upper {
                    let tick = self.tick();
                    self.reserved.push((size, 0, tick));
                    yes()
                } else {
                    no()
                }
            }
            ("hasRoomFor", [size]) => {
                let size = number(size)
                    .ok_or_else(|| ProviderError(format!("hasRoomFor/1: {size} is not a number")))?;
                let capacity = f64::from(self.host_info().cpus) * 100.0 * 0.9;
                if self.load() + self.reserved_load() + size <= capacity {
                    let tick = self.tick();
                    self.reserved.push((size, 0, tick));
                    yes()
                } else {
                    no()
                }
            }
            ("migrationPossible", [_, profile]) => {
                let memory_kib = match profile {
                    Value::Compound(_, a) => a.get(1).and_then(number).map_or(0, |m| (m * 1024.0) as u64),
                    _ => 0,
                };
                let used: u64 = self.domains().iter().map(|d| d.memory_kib).sum();
                let reserved: u64 = self.reserved.iter().map(|r| r.1).sum();
                if used + reserved + memory_kib <= self.host_info().memory_kib {
                    let tick = self.tick();
                    self.reserved.push((0.0, memory_kib, tick));
                    yes()
                } else {
                    no()
                }
            }
            ("migrate", [vm, to]) => self.migrate(&text(vm), to).map(|()| vec![args.to_vec()]),
            ("waitForMigration", [vm]) => {
                if self.arrived.remove(&text(vm)) || self.timed_out(peer) {
                    yes()
                } else {
                    no()
                }
            }
            ("timedOut", []) => {
                if self.timed_out(peer) {
                    yes()
                } else {
                    no()
                }
            }
            ("sameLocation", [other]) => {
                let site = self.directory.get(&other.to_string()).map(|e| e.site.clone());
                if site.as_deref() == Some(self.site.as_str()) { yes() } else { no() }
            }
            ("createNewVMs", [vm, _profile, _, _]) => {
                let name = text(vm);
                let services = self.local_services();
                self.create_from_owner(&name)?;
                Ok(vec![vec![
                    vm.clone(),
                    args.get(1).cloned().unwrap_or(Value::Unbound),
                    Value::atom(&name),
                    Value::List(services),
                ]])
            }
            ("getServiceList", [vm, _]) => Ok(vec![vec![vm.clone(), Value::List(self.local_services())]]),
            ("deleteVM", [vm]) => {
                self.delete_vm(&text(vm))?;
                yes()
            }
            ("startService", []) => {
                self.log.event("service-started", json!({ "service": peer.to_string() }));
                yes()
            }
            ("shutdown", []) => {
                self.log.event("service-stopped", json!({ "service": peer.to_string() }));
                yes()
            }
            ("getClientList", [_]) => {
                let clients: Vec<Value> = self
                    .directory_entries()
                    .into_iter()
                    .filter(|e| e.role.as_deref() == Some("client"))
                    .map(|e| e.peer)
                    .collect();
                Ok(vec![vec![Value::List(clients)]])
            }
            ("redirect", [old, new]) => {
                self.log.event(
                    "redirected",
                    json!({ "client": peer.to_string(), "from": old.to_string(), "to": new.to_string() }),
                );
                yes()
            }
            _ => Err(ProviderError(format!(
                "the agent's host library has no constraint `{}/{}`",
                call.name,
                args.len()
            ))),
        }
    }

    fn host_info(&mut self) -> HostInfo {
        self.hv.host_info().unwrap_or(HostInfo { cpus: 1, memory_kib: 0 })
    }

    /// The local peers that are service agents (they started in role `service`).
    fn local_services(&self) -> Vec<Value> {
        self.directory_entries()
            .into_iter()
            .filter(|e| e.host == self.name && e.role.as_deref() == Some("service"))
            .map(|e| e.peer)
            .collect()
    }

    /// The VM to offer: one whose move keeps this host at or above the lower threshold, no
    /// bigger than its excess over the average if there is one (as `lcc simulate` picks).
    fn pick_vm(&mut self) -> Option<Domain> {
        let load = self.load();
        let avg = self.average();
        let lower = self.policy.lower * avg;
        let running: Vec<Domain> = self.domains().into_iter().filter(|d| d.running).collect();
        let sized: Vec<(usize, f64)> = running.iter().enumerate().map(|(i, d)| (i, d.load)).collect();
        let from = crate::sim::vms_to_offer(load, avg, lower, &sized);
        let i = self.rng.below(from.len());
        from.get(i).and_then(|&d| running.get(d)).cloned()
    }

    /// `migrate/2`: live within a site where the target offers it, else by the adopt protocol.
    fn migrate(&mut self, vm: &str, to: &Value) -> Result<(), ProviderError> {
        let fail = |why: String| Err(ProviderError(format!("migrate/2: {vm} to {to}: {why}")));
        let Some(target) = self.directory.get(&to.to_string()).cloned() else {
            return fail("the target is not in the role registry".into());
        };
        let xml = match self.hv.domain_xml(vm) {
            Ok(xml) => xml,
            Err(e) => return fail(e.to_string()),
        };
        let domain = match parse_domain_xml(&xml) {
            Ok(d) => d,
            Err(e) => return fail(e.to_string()),
        };
        let key = record_key(&domain.uuid);
        let rev = match self.transport.record_get(&key) {
            Ok(Some((bytes, rev))) if Ownership::from_bytes(&bytes).is_some_and(|o| o.owner == self.name) => {
                rev
            }
            Ok(_) => return fail("its ownership record does not name this host".into()),
            Err(e) => return fail(e.to_string()),
        };
        if target.site == self.site && !target.live_uri.is_empty() {
            match self.hv.live_migrate(vm, &target.live_uri) {
                Ok(()) => {
                    let record = Ownership {
                        owner: target.host.clone(),
                        name: vm.into(),
                        moving_from: None,
                        since_ms: now_ms(),
                    };
                    let _ = self.transport.record_put(&key, &record.to_bytes(), Some(rev));
                    self.log.event("migrated", json!({ "vm": vm, "to": target.host, "how": "live" }));
                    self.log_inventory("migrated");
                    return Ok(());
                }
                Err(e) => self.log.event(
                    "notice",
                    json!({ "text": format!("live migration of {vm} failed ({e}); migrating offline") }),
                ),
            }
        }
        let reply = self.request(&target.host, "adopt", json!({ "xml": xml, "rev": rev }));
        let accepted = reply.as_ref().is_some_and(|r| r.body.get("ok").and_then(Json::as_bool) == Some(true));
        // Whatever the reply, the record decides (a reply may have been lost).
        let owner = match self.transport.record_get(&key) {
            Ok(Some((bytes, _))) => Ownership::from_bytes(&bytes).map(|o| o.owner),
            _ => None,
        };
        if owner.as_deref() == Some(target.host.as_str()) {
            self.remove_local(vm);
            self.log.event(
                "migrated",
                json!({ "vm": vm, "uuid": domain.uuid, "to": target.host, "how": "offline" }),
            );
            self.log_inventory("migrated");
            return Ok(());
        }
        let why = match reply {
            None => "no answer in time".to_string(),
            Some(r) if !accepted => {
                r.body.get("reason").and_then(Json::as_str).unwrap_or("refused").to_string()
            }
            Some(_) => "the target answered but did not take the ownership record".to_string(),
        };
        self.log.event("migration-failed", json!({ "vm": vm, "to": target.host, "reason": why }));
        fail(why)
    }

    /// `createNewVMs/4` on the target of the offline workflow: the owner's definition, defined
    /// and started here, the record marked as moving here.
    fn create_from_owner(&mut self, name: &str) -> Result<(), ProviderError> {
        let fail = |why: String| Err(ProviderError(format!("createNewVMs/4: {name}: {why}")));
        let records = match self.transport.records("vm.") {
            Ok(r) => r,
            Err(e) => return fail(e.to_string()),
        };
        let Some((key, record, rev)) = records.into_iter().find_map(|(k, v, rev)| {
            Ownership::from_bytes(&v).filter(|o| o.name == name).map(|o| (k, o, rev))
        }) else {
            return fail("no ownership record names this VM".into());
        };
        if record.owner == self.name {
            return fail("it is already here".into());
        }
        let Some(reply) = self.request(&record.owner, "domain-xml", json!({ "vm": name })) else {
            return fail(format!("host {} did not send its definition in time", record.owner));
        };
        let Some(xml) = reply.body.get("xml").and_then(Json::as_str).map(str::to_string) else {
            let why = reply.body.get("reason").and_then(Json::as_str).unwrap_or("no definition").to_string();
            return fail(why);
        };
        if let Err(e) = self.hv.define(&xml).and_then(|_| self.hv.start(name)) {
            self.remove_local(name);
            return fail(e.to_string());
        }
        let moving = Ownership {
            owner: self.name.clone(),
            name: name.into(),
            moving_from: Some(record.owner.clone()),
            since_ms: now_ms(),
        };
        if let Err(e) = self.transport.record_put(&key, &moving.to_bytes(), Some(rev)) {
            self.remove_local(name);
            return fail(format!("its ownership record changed: {e}"));
        }
        self.log.event("created", json!({ "vm": name, "from": record.owner }));
        self.log_inventory("created");
        Ok(())
    }

    /// `deleteVM/1`: on the source at the end of the workflow (the record becomes `placed`),
    /// or on the target when the workflow failed (the record goes back to the source).
    fn delete_vm(&mut self, name: &str) -> Result<(), ProviderError> {
        let domains = self.domains();
        let Some(domain) = domains.iter().find(|d| d.name == name) else {
            return Err(ProviderError(format!("deleteVM/1: {name} is not on host {}", self.name)));
        };
        let key = record_key(&domain.uuid);
        if let Ok(Some((bytes, rev))) = self.transport.record_get(&key)
            && let Some(record) = Ownership::from_bytes(&bytes)
        {
            let next = if record.owner == self.name {
                // The failed workflow: the VM stays where it came from.
                record.moving_from.clone().map(|from| Ownership {
                    owner: from,
                    moving_from: None,
                    since_ms: now_ms(),
                    ..record.clone()
                })
            } else {
                Some(Ownership { moving_from: None, since_ms: now_ms(), ..record.clone() })
            };
            if let Some(next) = next
                && let Err(e) = self.transport.record_put(&key, &next.to_bytes(), Some(rev))
            {
                return Err(ProviderError(format!(
                    "deleteVM/1: the ownership record of {name} changed: {e}"
                )));
            }
        }
        self.remove_local(name);
        self.log.event("deleted", json!({ "vm": name }));
        self.log_inventory("deleted");
        Ok(())
    }
}

/// Damages the signature of sealed bytes (the `[faults] corrupt_messages` test aid): the
/// last hex digit before the closing `"}` changes.
fn corrupt_signature(bytes: &mut [u8]) {
    let n = bytes.len();
    if let Some(b) = n.checked_sub(3).and_then(|i| bytes.get_mut(i)) {
        *b = if *b == b'0' { b'1' } else { b'0' };
    }
}

fn record_key(uuid: &str) -> String {
    format!("vm.{uuid}")
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    }
}

fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn rejection_sender(rejection: &super::trust::Rejection) -> String {
    use super::trust::Rejection as R;
    match rejection {
        R::Unsigned { from }
        | R::WrongRecipient { from, .. }
        | R::UnknownKey { from }
        | R::BadSignature { from }
        | R::Stale { from, .. }
        | R::Replayed { from, .. } => from.clone(),
        R::Oversized { .. } | R::Malformed(_) => "?".into(),
    }
}

/// The hypervisor of a config. The in-memory one starts from the domains of its node file and
/// keeps its state under `state_dir`, as a libvirtd outlives its agent.
fn open_hypervisor(config: &Config) -> Result<Box<dyn Hypervisor>, AgentError> {
    let state_dir = config
        .state_dir
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(format!("{}.state", config.host)));
    std::fs::create_dir_all(&state_dir)
        .map_err(|e| AgentError(format!("cannot create the state directory {}: {e}", state_dir.display())))?;
    let state_file = state_dir.join("domains.json");
    match config.hypervisor.kind {
        HypervisorKind::Memory => {
            let info =
                HostInfo { cpus: config.hypervisor.cpus, memory_kib: config.hypervisor.memory_mib * 1024 };
            let fresh = !state_file.exists();
            let mut hv =
                MemoryHypervisor::with_state_file(info, state_file).map_err(|e| AgentError(e.to_string()))?;
            if fresh && let Some(node) = &config.hypervisor.node {
                for xml in node_domains(node)? {
                    let d = hv.define(&xml).map_err(|e| AgentError(format!("{}: {e}", node.display())))?;
                    hv.start(&d.name).map_err(|e| AgentError(format!("{}: {e}", node.display())))?;
                }
            }
            Ok(Box::new(hv))
        }
        HypervisorKind::Libvirt => open_libvirt(config, state_file),
    }
}

#[cfg(feature = "libvirt")]
fn open_libvirt(config: &Config, state_file: std::path::PathBuf) -> Result<Box<dyn Hypervisor>, AgentError> {
    let uri = config.hypervisor.uri.clone().unwrap_or_default();
    let state = uri.starts_with("test:").then_some(state_file);
    let hv = super::libvirt::Libvirt::open(&uri, state).map_err(|e| AgentError(e.to_string()))?;
    Ok(Box::new(hv))
}

#[cfg(not(feature = "libvirt"))]
fn open_libvirt(
    _config: &Config,
    _state_file: std::path::PathBuf,
) -> Result<Box<dyn Hypervisor>, AgentError> {
    Err(AgentError(
        "[hypervisor] kind = \"libvirt\" needs lcc built with the `libvirt` feature (cargo build --features libvirt; needs libvirt-dev)"
            .into(),
    ))
}

/// The `<domain>` elements of a libvirt test-driver node file, as XML text.
pub fn node_domains(path: &std::path::Path) -> Result<Vec<String>, AgentError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AgentError(format!("cannot read {}: {e}", path.display())))?;
    let doc =
        roxmltree::Document::parse(&text).map_err(|e| AgentError(format!("{}: {e}", path.display())))?;
    Ok(doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("domain"))
        .filter_map(|n| text.get(n.range()).map(str::to_string))
        .collect())
}

/// Registers the host library: every constraint call goes to this host's state.
pub fn register(registry: &mut Registry, host: &Arc<Mutex<Host>>) {
    const LIBRARY: &[(&str, usize)] = &[
        ("getPeerState", 1),
        ("isOverLoaded", 0),
        ("isUnderLoaded", 0),
        ("isOverloaded", 1),
        ("isUnderloaded", 1),
        ("selectVM", 2),
        ("getVmProfile", 2),
        ("isMigrationPossible", 2),
        ("hasRoomFor", 1),
        ("migrationPossible", 2),
        ("migrate", 2),
        ("waitForMigration", 1),
        ("timedOut", 0),
        ("sameLocation", 1),
        ("createNewVMs", 4),
        ("getServiceList", 2),
        ("deleteVM", 1),
        ("startService", 0),
        ("shutdown", 0),
        ("getClientList", 1),
        ("redirect", 2),
    ];
    for &(name, arity) in LIBRARY {
        let host = Arc::clone(host);
        registry
            .register_fn(name, arity, move |call| host.lock().unwrap_or_else(|e| e.into_inner()).call(call));
    }
}
