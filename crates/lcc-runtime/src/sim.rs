//! A simulated datacentre and the host constraint library of the VM models
//! (`stdlib/vm/balance.lcc`, `stdlib/vm/powersave.lcc`), as in the simulation of Fig. 3 of the
//! VM-migration paper (seeds/000).
//!
//! Hosts carry VMs whose CPU load drifts over time (a bounded random walk, seeded). Time moves
//! in monitoring intervals (ticks): in each one every host reads its state once, the VM runs
//! every peer until none can move, and the load of every host is recorded. The run ends when
//! no VM has moved for `stable_ticks` ticks (a stable state) or after `max_ticks`.
//!
//! The host library (every constraint the VM models call), for the calling host `H`, with
//! `avg` the average host load and the thresholds `upper * avg` and `lower * avg`:
//! - `getPeerState(Load)`: `H`'s load; succeeds once per tick (a host reads its monitor once
//!   per interval; the next reading waits for the next tick);
//! - `isOverLoaded()`, `isUnderLoaded()`: the load of the last reading against the thresholds.
//!   A host going down for maintenance declares itself overloaded, so that it sheds all its
//!   VMs (footnote 9 of the paper); since the power-saving policy sheds from underloaded hosts,
//!   it reports itself underloaded as well. It accepts no VM;
//! - `selectVM(Vm, Size)`: the VM `H` should move. Above the average (and not in maintenance):
//!   one whose move leaves `H` at or above the lower threshold, no bigger than its excess over
//!   the average if there is one, at random (seeded, so that an offer refused for its size is
//!   not the only one ever made); otherwise its smallest VM. Fails when there is none;
//! - `isMigrationPossible(Load, Size)`: whether `H` stays at or below the upper threshold with a
//!   VM of that size on top of its current load and the VMs it already accepted; on success the
//!   size is reserved until the VM arrives;
//! - `migrate(Vm, To)`: moves the VM from `H` to host `To` (a live migration);
//! - `waitForMigration(Vm)`: succeeds once the VM is on `H` (or the interval in which it was
//!   accepted is over, the reservation then lapses);
//! - `timedOut()`: whether the interval of `H`'s last reading is over.

use crate::abi::{Call, ProviderError, Registry, Solutions};
use crate::bytecode::Program;
use crate::value::Value;
use crate::vm::{Options, Rng, Vm};
use lcc_check::mc::scenario::PeerSpec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The parameters of a simulation.
#[derive(Clone, Debug)]
pub struct Config {
    pub hosts: usize,
    pub vms: usize,
    pub seed: u64,
    /// Offload above `upper * average` (1.2 in the paper).
    pub upper: f64,
    /// Accept below `lower * average` (0.8 in the paper).
    pub lower: f64,
    /// Smallest and largest initial VM load (percent of one host's CPU).
    pub vm_load: (f64, f64),
    /// How far a VM's load may drift in one tick, as a fraction of its initial load.
    pub drift: f64,
    /// What a host can carry, in percent of its CPU (`hasRoomFor/1`).
    pub capacity: f64,
    pub max_ticks: u64,
    /// Ticks without a migration that count as a stable state.
    pub stable_ticks: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hosts: 15,
            vms: 50,
            seed: 1,
            upper: 1.2,
            lower: 0.8,
            vm_load: (5.0, 25.0),
            drift: 0.01,
            capacity: 90.0,
            max_ticks: 500,
            stable_ticks: 20,
        }
    }
}

#[derive(Clone, Debug)]
struct VmState {
    host: usize,
    base: f64,
    factor: f64,
}

#[derive(Clone, Debug, Default)]
struct HostState {
    vms: Vec<usize>,
    /// The tick of the last reading, and the load it saw.
    last_read: Option<u64>,
    read_load: f64,
    /// Loads accepted but not arrived yet, with the tick they were accepted in.
    reserved: Vec<(usize, f64, u64)>,
}

/// One migration.
#[derive(Clone, Debug, PartialEq)]
pub struct Migration {
    pub tick: u64,
    pub vm: usize,
    pub from: usize,
    pub to: usize,
}

/// The simulated datacentre.
#[derive(Clone, Debug)]
pub struct Datacentre {
    config: Config,
    vms: Vec<VmState>,
    hosts: Vec<HostState>,
    ids: Vec<Value>,
    /// Host index by id (every call names its host).
    index: HashMap<Value, usize>,
    tick: u64,
    rng: Rng,
    pub migrations: Vec<Migration>,
    /// Hosts going down for maintenance: they shed every VM and accept none (see `call`).
    maintenance: Vec<bool>,
    /// The average host load, kept from one drift to the next (migrations do not change it).
    average: f64,
}

impl Datacentre {
    /// `config.vms` VMs placed uniformly at random on `config.hosts` hosts named `h1`, `h2`, …
    pub fn new(config: &Config) -> Datacentre {
        let mut rng = Rng::new(config.seed);
        let hosts = config.hosts.max(1);
        let mut host_states = vec![HostState::default(); hosts];
        let (lo, hi) = config.vm_load;
        let vms = (0..config.vms)
            .map(|i| {
                let host = rng.below(hosts);
                if let Some(h) = host_states.get_mut(host) {
                    h.vms.push(i);
                }
                VmState { host, base: lo + (hi - lo) * rng.unit(), factor: 1.0 }
            })
            .collect();
        Datacentre {
            config: config.clone(),
            vms,
            hosts: host_states,
            ids: (1..=hosts).map(|i| Value::atom(&format!("h{i}"))).collect(),
            index: (1..=hosts).map(|i| (Value::atom(&format!("h{i}")), i - 1)).collect(),
            tick: 0,
            rng,
            migrations: Vec::new(),
            maintenance: vec![false; hosts],
            average: 0.0,
        }
        .with_average()
    }

    fn with_average(mut self) -> Datacentre {
        self.update_average();
        self
    }

    /// The average load the thresholds are relative to: the whole load shared among the hosts
    /// that stay in service (a host going down for maintenance hands its share to the others).
    fn update_average(&mut self) {
        let active = self.maintenance.iter().filter(|&&m| !m).count().max(1);
        self.average = self.loads().iter().sum::<f64>() / active as f64;
    }

    /// Every VM: its host's index, its name (`vm1`, ...) and its current load.
    pub fn placement(&self) -> Vec<(usize, String, f64)> {
        (0..self.vms.len())
            .filter_map(|v| self.vms.get(v).map(|vm| (vm.host, format!("vm{}", v + 1), self.vm_load(v))))
            .collect()
    }

    pub fn host_ids(&self) -> &[Value] {
        &self.ids
    }
    pub fn tick(&self) -> u64 {
        self.tick
    }
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends a host into maintenance: it sheds every VM and accepts none.
    pub fn set_maintenance(&mut self, host: usize, on: bool) {
        if let Some(m) = self.maintenance.get_mut(host) {
            *m = on;
        }
        self.update_average();
    }

    fn vm_load(&self, vm: usize) -> f64 {
        self.vms.get(vm).map_or(0.0, |v| v.base * v.factor)
    }

    pub fn load(&self, host: usize) -> f64 {
        // `+ 0.0`: the empty sum is -0.0.
        self.hosts.get(host).map_or(0.0, |h| h.vms.iter().map(|&v| self.vm_load(v)).sum::<f64>() + 0.0)
    }

    pub fn loads(&self) -> Vec<f64> {
        (0..self.hosts.len()).map(|h| self.load(h)).collect()
    }

    pub fn average(&self) -> f64 {
        self.average
    }

    pub fn vm_count(&self, host: usize) -> usize {
        self.hosts.get(host).map_or(0, |h| h.vms.len())
    }

    /// Whether the VM inventory is exact: every VM on exactly the host it records.
    pub fn inventory_is_exact(&self) -> bool {
        let mut seen = vec![0u32; self.vms.len()];
        for (h, host) in self.hosts.iter().enumerate() {
            for &v in &host.vms {
                match (seen.get_mut(v), self.vms.get(v)) {
                    (Some(n), Some(vm)) if vm.host == h => *n += 1,
                    _ => return false,
                }
            }
        }
        seen.iter().all(|&n| n == 1)
    }

    /// The next monitoring interval: VM loads drift.
    pub fn advance(&mut self) {
        self.tick += 1;
        let drift = self.config.drift;
        for vm in &mut self.vms {
            let step = drift * (2.0 * self.rng.unit() - 1.0);
            vm.factor = (vm.factor + step).clamp(0.5, 1.5);
        }
        self.update_average();
    }

    fn host_of(&self, peer: &Value) -> Result<usize, ProviderError> {
        self.index
            .get(peer)
            .copied()
            .ok_or_else(|| ProviderError(format!("{peer} is not a host of the simulated datacentre")))
    }

    fn thresholds(&self) -> (f64, f64) {
        let avg = self.average();
        (self.config.lower * avg, self.config.upper * avg)
    }

    fn timed_out(&self, host: usize) -> bool {
        self.hosts.get(host).and_then(|h| h.last_read).is_none_or(|t| self.tick > t)
    }

    fn reserved(&self, host: usize) -> f64 {
        self.hosts.get(host).map_or(0.0, |h| h.reserved.iter().map(|r| r.1).sum())
    }

    /// Reserves room for a VM of `size` on `host` if its load stays at or below `limit`.
    fn reserve(&mut self, host: usize, name: &str, size: &Value, limit: f64) -> Result<bool, ProviderError> {
        let size = match size {
            Value::Int(n) => *n as f64,
            Value::Float(x) => *x,
            other => return Err(ProviderError(format!("{name}: the size {other} is not a number"))),
        };
        let after = self.load(host) + self.reserved(host) + size;
        if self.maintenance.get(host).copied().unwrap_or(false) || after > limit {
            return Ok(false);
        }
        let tick = self.tick;
        if let Some(h) = self.hosts.get_mut(host) {
            h.reserved.push((usize::MAX, size, tick));
        }
        Ok(true)
    }

    /// Answers one call of the host library.
    pub fn call(&mut self, call: &Call<'_>) -> Result<Solutions, ProviderError> {
        let host = self.host_of(call.peer)?;
        let args = call.args;
        let yes = || Ok(vec![args.to_vec()]);
        let no = || Ok(Vec::new());
        let (lower, upper) = self.thresholds();
        let maintenance = self.maintenance.get(host).copied().unwrap_or(false);
        match (call.name, args) {
            ("getPeerState", [_]) => {
                let tick = self.tick;
                let load = self.load(host);
                let Some(h) = self.hosts.get_mut(host) else { return no() };
                if h.last_read == Some(tick) {
                    return no();
                }
                h.last_read = Some(tick);
                h.read_load = load;
                h.reserved.retain(|r| r.2 >= tick.saturating_sub(1));
                Ok(vec![vec![Value::Float(round2(load))]])
            }
            ("isOverLoaded", []) => {
                let read = self.hosts.get(host).map_or(0.0, |h| h.read_load);
                if maintenance || read > upper { yes() } else { no() }
            }
            ("isUnderLoaded", []) => {
                let read = self.hosts.get(host).map_or(0.0, |h| h.read_load);
                if maintenance || read < lower { yes() } else { no() }
            }
            ("selectVM", [_, _]) => {
                let load = self.load(host);
                let avg = self.average();
                let vms = self.hosts.get(host).map(|h| h.vms.clone()).unwrap_or_default();
                let pick = if load > avg && !maintenance {
                    let sized: Vec<(usize, f64)> = vms.iter().map(|&v| (v, self.vm_load(v))).collect();
                    let from = vms_to_offer(load, avg, lower, &sized);
                    let i = self.rng.below(from.len());
                    from.get(i).copied()
                } else {
                    vms.iter().copied().min_by(|&a, &b| self.vm_load(a).total_cmp(&self.vm_load(b)))
                };
                match pick {
                    Some(v) => Ok(vec![vec![
                        Value::atom(&format!("vm{}", v + 1)),
                        Value::Float(round2(self.vm_load(v))),
                    ]]),
                    None => no(),
                }
            }
            ("isMigrationPossible", [_, size]) => {
                if self.reserve(host, call.name, size, upper)? {
                    yes()
                } else {
                    no()
                }
            }
            ("hasRoomFor", [size]) => {
                let capacity = self.config.capacity;
                if self.reserve(host, call.name, size, capacity)? { yes() } else { no() }
            }
            ("migrate", [vm, to]) => {
                let vm = vm_index(vm).ok_or_else(|| ProviderError(format!("migrate/2: {vm} is not a VM")))?;
                let to = self.host_of(to)?;
                if self.vms.get(vm).is_none_or(|v| v.host != host) {
                    return Err(ProviderError(format!("migrate/2: vm{} is not on {}", vm + 1, call.peer)));
                }
                if let Some(h) = self.hosts.get_mut(host) {
                    h.vms.retain(|&v| v != vm);
                }
                let size = self.vm_load(vm);
                if let Some(h) = self.hosts.get_mut(to) {
                    h.vms.push(vm);
                    // The VM arrived: its reservation (the first one of about its size) lapses.
                    if let Some(i) = h.reserved.iter().position(|r| reservation_fits(r.1, size)) {
                        h.reserved.remove(i);
                    }
                }
                if let Some(v) = self.vms.get_mut(vm) {
                    v.host = to;
                }
                self.migrations.push(Migration { tick: self.tick, vm, from: host, to });
                yes()
            }
            ("waitForMigration", [vm]) => {
                let arrived = vm_index(vm).and_then(|v| self.vms.get(v)).is_some_and(|v| v.host == host);
                if arrived || self.timed_out(host) { yes() } else { no() }
            }
            ("timedOut", []) => {
                if self.timed_out(host) {
                    yes()
                } else {
                    no()
                }
            }
            _ => Err(ProviderError(format!(
                "the host library has no constraint `{}/{}`",
                call.name,
                args.len()
            ))),
        }
    }
}

/// Loads as the host library reports them: two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The VMs an overloaded host of load `load` may offer, from `(vm, its load)`: those whose
/// move keeps the host at or above the lower threshold, and among them those no bigger than
/// the excess over the average if there are any. The caller picks one at random, so that an
/// offer refused for its size is not the only one ever made. Shared by the simulation and the
/// agents' host library, so that both run the same policy.
pub fn vms_to_offer<T: Copy>(load: f64, average: f64, lower: f64, vms: &[(T, f64)]) -> Vec<T> {
    let movable: Vec<(T, f64)> = vms.iter().copied().filter(|&(_, l)| load - l >= lower).collect();
    let within: Vec<T> = movable.iter().filter(|&&(_, l)| l <= load - average).map(|&(v, _)| v).collect();
    if within.is_empty() { movable.into_iter().map(|(v, _)| v).collect() } else { within }
}

/// Whether an arriving VM of `size` is the one a reservation of `reserved` was made for (sizes
/// are reported rounded, so about its size).
pub fn reservation_fits(reserved: f64, size: f64) -> bool {
    (reserved - size).abs() < 0.01 + 0.02 * size
}

fn vm_index(v: &Value) -> Option<usize> {
    match v {
        Value::Atom(a) => a.strip_prefix("vm")?.parse::<usize>().ok()?.checked_sub(1),
        _ => None,
    }
}

/// The constraints of the host library, by name and arity.
pub const HOST_LIBRARY: &[(&str, usize)] = &[
    ("getPeerState", 1),
    ("isOverLoaded", 0),
    ("isUnderLoaded", 0),
    ("selectVM", 2),
    ("isMigrationPossible", 2),
    ("hasRoomFor", 1),
    ("migrate", 2),
    ("waitForMigration", 1),
    ("timedOut", 0),
];

/// Registers the host library, answering from the shared datacentre.
pub fn register_host_library(registry: &mut Registry, dc: &Arc<Mutex<Datacentre>>) {
    for &(name, arity) in HOST_LIBRARY {
        let dc = Arc::clone(dc);
        registry.register_fn(name, arity, move |call| lock(&dc).call(call));
    }
}

fn lock(dc: &Mutex<Datacentre>) -> MutexGuard<'_, Datacentre> {
    dc.lock().unwrap_or_else(|e| e.into_inner())
}

/// What one tick looked like.
#[derive(Clone, Debug)]
pub struct TickRecord {
    pub tick: u64,
    pub loads: Vec<f64>,
    pub average: f64,
    pub migrations: usize,
    pub steps: u64,
}

/// How a simulation ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub ticks: Vec<TickRecord>,
    /// Stable (no migration for `stable_ticks`), or stopped at `max_ticks`.
    pub stable: bool,
    pub migrations: usize,
    pub steps: u64,
    pub final_loads: Vec<f64>,
    pub final_vm_counts: Vec<usize>,
    pub average: f64,
    pub lower: f64,
    pub upper: f64,
    pub inventory_exact: bool,
}

impl Outcome {
    /// Hosts whose final load is within `[lower, upper]` times the average.
    pub fn in_range(&self) -> usize {
        let (lo, hi) = (self.lower * self.average, self.upper * self.average);
        self.final_loads.iter().filter(|&&l| l >= lo && l <= hi).count()
    }
    /// Hosts left with no VM.
    pub fn empty(&self) -> usize {
        self.final_vm_counts.iter().filter(|&&n| n == 0).count()
    }

    /// The load of every host at every tick, as CSV (`tick,average,h1,h2,…`).
    pub fn csv(&self, ids: &[Value]) -> String {
        let mut out = String::from("tick,average");
        for id in ids {
            out.push(',');
            out.push_str(&id.to_string());
        }
        out.push('\n');
        for t in &self.ticks {
            out.push_str(&format!("{},{:.2}", t.tick, t.average));
            for l in &t.loads {
                out.push_str(&format!(",{l:.2}"));
            }
            out.push('\n');
        }
        out
    }
}

/// Errors that stop a simulation before it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct SimError(pub String);

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs `program` (a VM model whose initial role is `idle`) on a simulated datacentre.
/// `on_tick` sees every tick as it ends (for progress bars).
pub fn simulate(
    program: &Program,
    config: &Config,
    on_tick: &mut dyn FnMut(&TickRecord),
) -> Result<Outcome, SimError> {
    let dc = Arc::new(Mutex::new(Datacentre::new(config)));
    simulate_on(program, &dc, on_tick)
}

/// [`simulate`] on a datacentre made by the caller (for maintenance scenarios and tests).
pub fn simulate_on(
    program: &Program,
    dc: &Arc<Mutex<Datacentre>>,
    on_tick: &mut dyn FnMut(&TickRecord),
) -> Result<Outcome, SimError> {
    let config = lock(dc).config().clone();
    let missing: Vec<String> = program
        .constraints
        .iter()
        .filter(|c| !HOST_LIBRARY.iter().any(|&(n, a)| n == c.name && a == c.arity))
        .map(|c| format!("{}/{}", c.name, c.arity))
        .collect();
    if !missing.is_empty() {
        let known: Vec<String> = HOST_LIBRARY.iter().map(|(n, a)| format!("{n}/{a}")).collect();
        return Err(SimError(format!(
            "the model calls {}, which the host library does not provide (it provides {})",
            missing.join(", "),
            known.join(", ")
        )));
    }
    if program.role_named("idle").is_none() {
        return Err(SimError("the model has no role `idle` for the hosts to start in".into()));
    }
    let ids = lock(dc).host_ids().to_vec();
    let peers: Vec<PeerSpec> =
        ids.iter().map(|id| PeerSpec { role: Value::atom("idle"), id: id.clone() }).collect();
    let mut registry = Registry::new();
    register_host_library(&mut registry, dc);
    let options = Options { seed: Some(config.seed), max_depth: 1_000, record: false, wake_on_calls: false };
    let mut vm = Vm::new(program, &peers, registry, options).map_err(|e| SimError(e.message))?;
    let mut ticks = Vec::new();
    let mut quiet = 0u64;
    let mut stable = false;
    let per_tick = 1_000u64.saturating_mul(ids.len() as u64).max(10_000);
    let record = |dc: &Datacentre, migrations: usize, steps: u64| TickRecord {
        tick: dc.tick(),
        loads: dc.loads(),
        average: dc.average(),
        migrations,
        steps,
    };
    ticks.push(record(&lock(dc), 0, 0));
    for _ in 0..config.max_ticks {
        lock(dc).advance();
        let before = lock(dc).migrations.len();
        vm.wake_all();
        let steps = vm.run_until_quiet(per_tick, &mut |_, _| {});
        let d = lock(dc);
        let moved = d.migrations.len() - before;
        let t = record(&d, moved, steps);
        drop(d);
        on_tick(&t);
        ticks.push(t);
        quiet = if moved == 0 { quiet + 1 } else { 0 };
        if quiet >= config.stable_ticks {
            stable = true;
            break;
        }
    }
    let d = lock(dc);
    Ok(Outcome {
        stable,
        migrations: d.migrations.len(),
        steps: vm.steps(),
        final_loads: d.loads(),
        final_vm_counts: (0..ids.len()).map(|h| d.vm_count(h)).collect(),
        average: d.average(),
        lower: config.lower,
        upper: config.upper,
        inventory_exact: d.inventory_is_exact(),
        ticks,
    })
}
