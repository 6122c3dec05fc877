//! State-space exploration: breadth-first, level by level, on every core.
//!
//! A configuration is a vector of `u32` words (see [`super::system`]). The store keeps each
//! reached configuration once, in shards chosen by a 64-bit hash, each shard behind its own
//! lock; in exact mode it keeps the words and compares them on a hash match, in
//! hash-compaction mode it keeps only the 64-bit fingerprint (smaller; a fingerprint
//! collision would silently merge two states, which the report says). Every state knows its
//! parent, so the shortest path to any state is read back from the store.
//!
//! Workers share the interning [`Tables`] behind a lock but keep their own cache of local
//! steps, so after warm-up a state's successors are computed without taking the lock. The
//! set of reached states does not depend on the number of threads (a test checks it).

use super::graph::Graph;
use super::system::{
    Context, FrameId, LabelId, LocalStep, LocalSteps, NodeIdx, System, Tables, word_recipient,
};
use super::term::TermId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::RwLock;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A small, fast hasher for integer keys (the FxHash mix).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);
impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word.iter_mut().zip(chunk).for_each(|(w, b)| *w = *b);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
impl FxHasher {
    fn add(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}
type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A strong 64-bit hash of a configuration (fingerprints must not collide in practice:
/// PLATFORM.md measured a weak one losing states).
pub fn state_hash(words: &[u32]) -> u64 {
    let mut h: u64 = 0x243f_6a88_85a3_08d3 ^ (words.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for &w in words {
        h = mix(h ^ u64::from(w));
    }
    // Never 0: 0 marks an empty slot.
    mix(h).max(1)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const WORKER_STACK: usize = 256 << 20;
const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;
/// Marks the initial state's parent.
pub const NO_PARENT: u32 = u32::MAX;

/// How reached states are remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    /// Every configuration in full: no state is ever lost.
    Exact,
    /// Only a 64-bit fingerprint per configuration.
    HashCompaction,
}

/// One shard of the store. A record in `arena` is `parent, len, words…` (exact mode) or
/// `parent` (hash compaction); a state's id is its record's offset, shifted left by
/// [`SHARD_BITS`], or-ed with the shard number.
///
/// The open-addressing table holds one `u64` per slot. Exact mode packs 32 bits of the
/// fingerprint with the record offset, so a lookup touches the table once and the arena
/// once (the explorer is bound by these cache misses); hash compaction keeps the whole
/// fingerprint in `table` and the offset in `offsets`.
#[derive(Default)]
struct Shard {
    table: Vec<u64>,
    offsets: Vec<u32>,
    arena: Vec<u32>,
    count: u32,
}

/// Record offsets must leave room for the shard bits in a `u32` id.
const MAX_OFFSET: usize = (1 << (32 - SHARD_BITS)) - 1;

impl Shard {
    fn bytes(&self) -> usize {
        self.table.capacity() * 8 + self.offsets.capacity() * 4 + self.arena.capacity() * 4
    }

    fn words(&self, offset: u32) -> Option<&[u32]> {
        let start = offset as usize;
        let len = *self.arena.get(start + 1)? as usize;
        self.arena.get(start + 2..start + 2 + len)
    }

    fn parent(&self, offset: u32) -> Option<u32> {
        self.arena.get(offset as usize).copied()
    }

    fn slot_key(fp: u64, exact: bool) -> u64 {
        if exact { (fp >> 32).max(1) << 32 } else { fp }
    }

    /// `Ok(offset)` if present, else `Err(empty slot)`. In hash compaction the offset is only
    /// read when `want_offset` (it lives in a second array: one more cache miss).
    fn find(&self, fp: u64, words: &[u32], exact: bool, want_offset: bool) -> Result<u32, usize> {
        let mask = self.table.len().wrapping_sub(1);
        let key = Shard::slot_key(fp, exact);
        let mut pos = (fp >> SHARD_BITS) as usize & mask;
        loop {
            match self.table.get(pos) {
                Some(0) | None => return Err(pos),
                Some(&entry) if exact && entry & 0xffff_ffff_0000_0000 == key => {
                    let offset = entry as u32;
                    // States are a handful of words: an inline loop beats a call to memcmp.
                    if self
                        .words(offset)
                        .is_some_and(|w| w.len() == words.len() && w.iter().zip(words).all(|(a, b)| a == b))
                    {
                        return Ok(offset);
                    }
                }
                Some(&entry) if !exact && entry == key => {
                    return Ok(if want_offset {
                        self.offsets.get(pos).copied().unwrap_or(0)
                    } else {
                        u32::MAX
                    });
                }
                Some(_) => {}
            }
            pos = (pos + 1) & mask;
        }
    }

    fn grow(&mut self, exact: bool) {
        let size = (self.table.len() * 2).max(64);
        let old_table = std::mem::replace(&mut self.table, vec![0; size]);
        let old_offsets =
            std::mem::replace(&mut self.offsets, if exact { Vec::new() } else { vec![0; size] });
        let mask = size - 1;
        for (i, entry) in old_table.into_iter().enumerate() {
            if entry == 0 {
                continue;
            }
            // The position comes from the fingerprint bits below the top 32 in exact mode;
            // recompute it from the stored words there.
            let fp = if exact { self.words(entry as u32).map_or(0, state_hash) } else { entry };
            let mut pos = (fp >> SHARD_BITS) as usize & mask;
            while self.table.get(pos).is_some_and(|&e| e != 0) {
                pos = (pos + 1) & mask;
            }
            if let Some(slot) = self.table.get_mut(pos) {
                *slot = entry;
            }
            if !exact && let (Some(o), Some(&old)) = (self.offsets.get_mut(pos), old_offsets.get(i)) {
                *o = old;
            }
        }
    }

    /// Inserts unless present: `(record offset, newly inserted)`; `None` when the shard is
    /// full.
    fn insert(
        &mut self,
        fp: u64,
        words: &[u32],
        parent: u32,
        exact: bool,
        want_offset: bool,
    ) -> Option<(u32, bool)> {
        if (self.count as usize + 1) * 4 > self.table.len() * 3 {
            self.grow(exact);
        }
        match self.find(fp, words, exact, want_offset) {
            Ok(offset) => Some((offset, false)),
            Err(pos) => {
                let offset = self.arena.len();
                if offset + words.len() + 2 > MAX_OFFSET {
                    return None;
                }
                let offset = offset as u32;
                self.arena.push(parent);
                if exact {
                    self.arena.push(u32::try_from(words.len()).unwrap_or(0));
                    self.arena.extend_from_slice(words);
                }
                if let Some(slot) = self.table.get_mut(pos) {
                    *slot = Shard::slot_key(fp, exact) | if exact { u64::from(offset) } else { 0 };
                }
                if !exact && let Some(o) = self.offsets.get_mut(pos) {
                    *o = offset;
                }
                self.count += 1;
                Some((offset, true))
            }
        }
    }
}

/// The set of reached configurations, with their parents. During exploration each worker
/// owns a disjoint set of shards (shard number modulo thread count), so inserting needs no
/// lock.
pub struct Store {
    shards: Vec<Shard>,
    mode: StoreMode,
}

fn split(id: u32) -> (usize, u32) {
    ((id as usize) & (SHARDS - 1), id >> SHARD_BITS)
}

fn shard_of(fp: u64) -> usize {
    (fp as usize) & (SHARDS - 1)
}

impl Store {
    fn new(mode: StoreMode) -> Store {
        Store { shards: (0..SHARDS).map(|_| Shard::default()).collect(), mode }
    }

    /// The id of a reached configuration.
    pub fn lookup(&self, words: &[u32]) -> Option<u32> {
        let fp = state_hash(words);
        let shard = shard_of(fp);
        let offset = self.shards.get(shard)?.find(fp, words, self.mode == StoreMode::Exact, true).ok()?;
        Some((offset << SHARD_BITS) | shard as u32)
    }

    /// The configuration of a state (exact mode only).
    pub fn words(&self, id: u32) -> Option<&[u32]> {
        let (shard, offset) = split(id);
        if self.mode != StoreMode::Exact {
            return None;
        }
        self.shards.get(shard)?.words(offset)
    }

    pub fn parent(&self, id: u32) -> Option<u32> {
        let (shard, offset) = split(id);
        self.shards.get(shard)?.parent(offset)
    }

    pub fn len(&self) -> u64 {
        self.shards.iter().map(|s| u64::from(s.count)).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the store (hash tables, states, parents).
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(Shard::bytes).sum()
    }

    /// The ids on the path from the initial state to `id`, both included.
    pub fn path_to(&self, id: u32) -> Vec<u32> {
        let mut path = vec![id];
        let mut cur = id;
        while let Some(p) = self.parent(cur) {
            if p == NO_PARENT || path.len() as u64 > self.len() {
                break;
            }
            path.push(p);
            cur = p;
        }
        path.reverse();
        path
    }
}

/// The shards one worker owns, for inserting without locks.
struct OwnedShards<'a> {
    /// By shard number; `None` for the shards another worker owns.
    shards: Vec<Option<&'a mut Shard>>,
    exact: bool,
}

impl OwnedShards<'_> {
    fn shard(&mut self, index: usize) -> Option<&mut Shard> {
        self.shards.get_mut(index)?.as_deref_mut()
    }
}

/// How the run ended early, if it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoundHit {
    States(u64),
    Depth(u64),
    Mailbox(u32),
    Recursion(u32),
}

impl BoundHit {
    pub fn describe(&self) -> String {
        match self {
            BoundHit::States(n) => format!("the state bound ({n} states) was reached"),
            BoundHit::Depth(n) => format!("the depth bound ({n} steps) was reached"),
            BoundHit::Mailbox(n) => format!("a mailbox reached its bound ({n} messages)"),
            BoundHit::Recursion(n) => format!("the recursion bound ({n} nested role calls) was reached"),
        }
    }
}

/// A configuration where nothing is enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TerminalKind {
    Success,
    /// Success, with messages nobody will receive.
    Orphans,
    Deadlock,
}

#[derive(Clone, Debug)]
pub struct Terminal {
    pub state: u32,
    pub depth: u32,
    pub kind: TerminalKind,
    pub words: Vec<u32>,
}

/// Progress of a running exploration.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub states: u64,
    pub transitions: u64,
    pub depth: u32,
    pub seconds: f64,
    pub bytes: usize,
}

pub struct Options<'a> {
    pub threads: usize,
    pub mode: StoreMode,
    /// Keep every transition (for `terminates` and formulas).
    pub keep_graph: bool,
    /// Partial-order reduction (only for properties of terminal configurations).
    pub reduce: bool,
    /// Stop at the end of the first level by which a terminal of each of these kinds has been
    /// found (empty: explore everything).
    pub stop_on: Vec<TerminalKind>,
    pub progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
}

/// The outcome of an exploration.
pub struct Explored {
    pub store: Store,
    pub initial: Vec<u32>,
    pub transitions: u64,
    pub depth: u32,
    pub seconds: f64,
    pub bound: Option<BoundHit>,
    /// Whether every reachable state was explored (no bound, no early stop).
    pub complete: bool,
    /// The first terminal of each kind found (shortest, BFS).
    pub deadlock: Option<Terminal>,
    pub orphans: Option<Terminal>,
    pub deadlock_states: u64,
    pub graph: Option<ExploredGraph>,
    pub bytes: usize,
}

/// The transition graph with dense state numbers (0 = initial) and the map back.
pub struct ExploredGraph {
    pub graph: Graph,
    /// Dense number -> store id.
    pub ids: Vec<u32>,
}

/// One successor of a configuration.
#[derive(Clone, Debug)]
pub struct Successor {
    pub peer: usize,
    pub step: LocalStep,
    pub words: Vec<u32>,
}

/// A worker's view of the system: its own cache of local steps.
pub struct Worker<'s, 'm> {
    sys: &'s System<'m>,
    tables: &'s RwLock<Tables>,
    /// Every answer computed so far; the maps below index it.
    computed: Vec<LocalSteps>,
    steps: FxMap<Box<[u32]>, u32>,
    /// By `frame * peers + peer`, for an empty mailbox and steps independent of roles.
    quiet: Vec<u32>,
    needs_roles: FxMap<Box<[u32]>, ()>,
    roles: FxMap<u32, Option<TermId>>,
    key: Vec<u32>,
    buf: Vec<u32>,
    locals: Vec<u32>,
}

/// Every successor of one configuration.
#[derive(Default)]
pub struct Expansion {
    pub successors: Vec<Successor>,
    pub bound: Option<BoundHit>,
}

impl<'s, 'm> Worker<'s, 'm> {
    pub fn new(sys: &'s System<'m>, tables: &'s RwLock<Tables>) -> Self {
        Worker {
            sys,
            tables,
            computed: Vec::new(),
            steps: FxMap::default(),
            quiet: Vec::new(),
            needs_roles: FxMap::default(),
            roles: FxMap::default(),
            key: Vec::new(),
            buf: Vec::new(),
            locals: Vec::new(),
        }
    }

    fn role_of(&mut self, frame: u32) -> Option<TermId> {
        if let Some(&r) = self.roles.get(&frame) {
            return r;
        }
        let t = self.tables.read().unwrap_or_else(|e| e.into_inner());
        let r = if self.sys.is_done(&t, FrameId(frame)) {
            None
        } else {
            self.sys.current_role(&t, FrameId(frame))
        };
        drop(t);
        self.roles.insert(frame, r);
        r
    }

    /// The current role of every peer in a configuration.
    pub fn roles(&mut self, words: &[u32]) -> Vec<Option<TermId>> {
        let n = self.sys.peers.len();
        words.iter().take(n).map(|&f| self.role_of(f)).collect()
    }

    /// The index in `self.computed` of what `peer` can do in configuration `words`.
    fn local(
        &mut self,
        peer: usize,
        words: &[u32],
        pending: &[u32],
        roles: &mut Option<Vec<Option<TermId>>>,
    ) -> u32 {
        let frame = words.get(peer).copied().unwrap_or(0);
        let n = self.sys.peers.len();
        // Fast path: with an empty mailbox and steps that do not depend on the others' roles,
        // the answer depends on the frame alone (the common case, a plain array lookup).
        let quiet = (frame as usize).checked_mul(n).and_then(|i| i.checked_add(peer));
        if pending.is_empty()
            && let Some(&hit) = quiet.and_then(|i| self.quiet.get(i))
            && hit != u32::MAX
        {
            return hit;
        }
        self.key.clear();
        self.key.push(peer as u32);
        self.key.push(frame);
        self.key.extend_from_slice(pending);
        let needs_roles = self.needs_roles.contains_key(self.key.as_slice());
        if needs_roles {
            let r = roles.get_or_insert_with(|| self.roles(words)).clone();
            self.key.push(u32::MAX);
            self.key.extend(r.iter().map(|r| r.map_or(u32::MAX - 1, |t| t.0)));
        }
        if let Some(&s) = self.steps.get(self.key.as_slice()) {
            return s;
        }
        let all_roles = roles.get_or_insert_with(|| self.roles(words)).clone();
        let cx = Context { peer, pending, roles: &all_roles };
        let computed = {
            let mut t = self.tables.write().unwrap_or_else(|e| e.into_inner());
            self.sys.local_steps(&mut t, FrameId(frame), &cx)
        };
        let index = u32::try_from(self.computed.len()).unwrap_or(u32::MAX);
        if computed.used_roles && !needs_roles {
            // Cache under the key that includes the roles of the others.
            let base: Box<[u32]> = self.key.clone().into_boxed_slice();
            self.needs_roles.insert(base, ());
            self.key.push(u32::MAX);
            self.key.extend(all_roles.iter().map(|r| r.map_or(u32::MAX - 1, |t| t.0)));
        }
        if pending.is_empty()
            && !computed.used_roles
            && let Some(i) = quiet
        {
            if self.quiet.len() <= i {
                self.quiet.resize(i + 1, u32::MAX);
            }
            if let Some(slot) = self.quiet.get_mut(i) {
                *slot = index;
            }
        }
        self.computed.push(computed);
        self.steps.insert(self.key.clone().into_boxed_slice(), index);
        index
    }

    /// Every successor of a configuration, in peer order.
    pub fn expand(&mut self, words: &[u32]) -> Expansion {
        let mut successors = Vec::new();
        let bound = self.expand_with(words, |peer, step, next| {
            successors.push(Successor { peer, step: step.clone(), words: next.to_vec() });
        });
        Expansion { successors, bound }
    }

    /// Calls `each(peer, step, next configuration)` for every successor, without allocating
    /// per successor (the hot loop of the explorer). Returns the bound that dropped a
    /// successor, if one did.
    pub fn expand_with(
        &mut self,
        words: &[u32],
        each: impl FnMut(usize, &LocalStep, &[u32]),
    ) -> Option<BoundHit> {
        self.expand_reduced(words, false, each)
    }

    /// [`Worker::expand_with`], optionally with partial-order reduction: when some peer's
    /// steps are independent of everything the others can do
    /// ([`LocalSteps::independent`]), only that peer's steps are explored. This keeps every
    /// reachable terminal configuration at its breadth-first distance (its independent step
    /// must occur on every path to a terminal, and can be moved first).
    pub fn expand_reduced(
        &mut self,
        words: &[u32],
        reduce: bool,
        mut each: impl FnMut(usize, &LocalStep, &[u32]),
    ) -> Option<BoundHit> {
        let n = self.sys.peers.len();
        let msgs = words.get(n..).unwrap_or(&[]);
        let mut bound = None;
        let mut roles = None;
        let mut locals = std::mem::take(&mut self.locals);
        locals.clear();
        let mut only = None;
        let mut start = 0;
        for peer in 0..n {
            // Messages are sorted by recipient: this peer's are the run starting here.
            let run = msgs
                .get(start..)
                .unwrap_or(&[])
                .iter()
                .take_while(|&&w| word_recipient(w) as usize == peer)
                .count();
            let pending = msgs.get(start..start + run).unwrap_or(&[]);
            start += run;
            let index = self.local(peer, words, pending, &mut roles);
            let independent = reduce
                && self.computed.get(index as usize).is_some_and(|l| l.independent && !l.steps.is_empty());
            locals.push(index);
            if independent {
                only = Some(peer);
                break;
            }
        }
        let mut next = std::mem::take(&mut self.buf);
        let mailbox_bound = self.sys.bounds.mailbox;
        for (peer, &index) in locals.iter().enumerate() {
            if only.is_some_and(|p| p != peer) {
                continue;
            }
            let Some(local) = self.computed.get(index as usize) else { continue };
            if local.recursion_bound {
                bound = Some(BoundHit::Recursion(self.sys.bounds.recursion));
            }
            for step in &local.steps {
                next.clear();
                next.extend_from_slice(words.get(..n).unwrap_or(&[]));
                if let Some(slot) = next.get_mut(peer) {
                    *slot = step.next.0;
                }
                let mut consumed = step.consumed;
                let mut sent = step.sent;
                let mut in_mailbox = 0u32;
                for &w in msgs {
                    if consumed == Some(w) {
                        consumed = None;
                        continue;
                    }
                    if let Some(s) = sent
                        && s <= w
                    {
                        next.push(s);
                        sent = None;
                    }
                    if step.sent.is_some_and(|s| word_recipient(s) == word_recipient(w)) {
                        in_mailbox += 1;
                    }
                    next.push(w);
                }
                if let Some(s) = sent {
                    next.push(s);
                }
                if step.sent.is_some() && in_mailbox >= mailbox_bound {
                    bound = Some(BoundHit::Mailbox(mailbox_bound));
                    continue;
                }
                each(peer, step, &next);
            }
        }
        self.buf = next;
        self.locals = locals;
        bound
    }

    /// Classifies a configuration with no successors (LCC.md section 5).
    pub fn classify(&mut self, words: &[u32]) -> TerminalKind {
        let n = self.sys.peers.len();
        let msgs = words.get(n..).unwrap_or(&[]);
        let mut t = self.tables.write().unwrap_or_else(|e| e.into_inner());
        let mut success = true;
        for (peer, &frame) in words.iter().take(n).enumerate() {
            let frame = FrameId(frame);
            if self.sys.is_done(&t, frame) {
                continue;
            }
            let has_pending = msgs.iter().any(|&w| word_recipient(w) as usize == peer);
            if !has_pending && self.sys.is_idle_server(&mut t, frame) {
                continue;
            }
            success = false;
        }
        if !success {
            TerminalKind::Deadlock
        } else if msgs.is_empty() {
            TerminalKind::Success
        } else {
            TerminalKind::Orphans
        }
    }

    pub fn label(&self, label: LabelId) -> Vec<super::value::Action> {
        self.tables.read().unwrap_or_else(|e| e.into_inner()).label(label).to_vec()
    }
}

/// The initial configuration.
pub fn initial_state(sys: &System<'_>) -> Vec<u32> {
    sys.peers.iter().map(|p| p.initial.0).collect()
}

/// What one worker produced while expanding part of a level.
#[derive(Default)]
struct Expanded {
    /// Successors per owning worker: records `parent, label, fp_lo, fp_hi, len, words…`.
    records: Vec<Vec<u32>>,
    transitions: u64,
    bound: Option<BoundHit>,
    terminals: Vec<Terminal>,
    deadlocks: u64,
}

/// What one worker inserted into its shards.
#[derive(Default)]
struct Inserted {
    next: Vec<u32>,
    edges: Vec<(u32, u32, u32)>,
    full: bool,
}

/// Frontier states expanded between two insertion phases (bounds the successor buffers).
const SLICE_STATES: usize = 1 << 15;
/// Records whose table slots are loaded ahead of inserting them, so that their cache misses
/// overlap.
const BATCH: usize = 32;

/// Explores the state space of `sys` breadth-first. Each level is processed in slices: the
/// workers expand frontier states into successor records routed by owning shard, then each
/// worker inserts the records of its own shards.
pub fn explore(sys: &System<'_>, tables: &RwLock<Tables>, options: &Options<'_>) -> Explored {
    let started = Instant::now();
    let threads = options.threads.clamp(1, SHARDS);
    let exact = options.mode == StoreMode::Exact;
    let mut store = Store::new(options.mode);
    let initial = initial_state(sys);
    let fp = state_hash(&initial);
    let root = store
        .shards
        .get_mut(shard_of(fp))
        .and_then(|s| s.insert(fp, &initial, NO_PARENT, exact, true))
        .map_or(0, |(offset, _)| (offset << SHARD_BITS) | shard_of(fp) as u32);
    // The frontier: entries `id, len, words…`.
    let mut frontier: Vec<u32> = Vec::new();
    push_entry(&mut frontier, root, &initial);
    let mut depth = 0u32;
    let mut transitions = 0u64;
    let mut bound = None;
    let mut deadlock: Option<Terminal> = None;
    let mut orphans: Option<Terminal> = None;
    let mut deadlock_states = 0u64;
    let mut edges: Vec<(u32, u32, u32)> = Vec::new();
    let mut order: Vec<u32> = vec![root];
    let mut stopped_early = false;
    let max_states = sys.bounds.states;
    let mut workers: Vec<Worker<'_, '_>> = (0..threads).map(|_| Worker::new(sys, tables)).collect();
    let mut last_report = Instant::now();
    let mut full = false;

    'levels: while !frontier.is_empty() {
        // States at the depth bound are still expanded, to classify the terminal ones; their
        // successors are not kept, and having any is what makes the bound bite.
        let last_level = sys.bounds.depth.is_some_and(|limit| u64::from(depth) >= limit);
        let mut next_frontier = Vec::new();
        let mut level_terminals = Vec::new();
        for slice in chunk_entries(&frontier, SLICE_STATES) {
            let slice = frontier.get(slice.0..slice.1).unwrap_or(&[]);
            let chunks = chunk_entries(slice, 256);
            let cursor = std::sync::atomic::AtomicUsize::new(0);
            // Phase 1: expand.
            let expanded: Vec<Expanded> = std::thread::scope(|scope| {
                let handles: Vec<_> = workers
                    .iter_mut()
                    .filter_map(|worker| {
                        let (chunks, cursor) = (&chunks, &cursor);
                        // Clause trees are walked recursively; give workers the stack for
                        // the deepest nesting the parser accepts.
                        std::thread::Builder::new()
                            .stack_size(WORKER_STACK)
                            .spawn_scoped(scope, move || {
                                let mut out =
                                    Expanded { records: vec![Vec::new(); threads], ..Expanded::default() };
                                while let Some(&(from, to)) =
                                    chunks.get(cursor.fetch_add(1, Ordering::Relaxed))
                                {
                                    let mut pos = from;
                                    while pos < to {
                                        let (id, words, after) = read_entry(slice, pos);
                                        pos = after;
                                        let mut successors = 0u64;
                                        let records = &mut out.records;
                                        let hit =
                                            worker.expand_reduced(words, options.reduce, |_, step, succ| {
                                                successors += 1;
                                                let fp = state_hash(succ);
                                                if let Some(r) = records.get_mut(shard_of(fp) % threads) {
                                                    r.extend_from_slice(&[
                                                        id,
                                                        step.label.0,
                                                        fp as u32,
                                                        (fp >> 32) as u32,
                                                    ]);
                                                    r.push(u32::try_from(succ.len()).unwrap_or(0));
                                                    r.extend_from_slice(succ);
                                                }
                                            });
                                        out.transitions += successors;
                                        if successors == 0 && hit.is_none() {
                                            let kind = worker.classify(words);
                                            if kind == TerminalKind::Deadlock {
                                                out.deadlocks += 1;
                                            }
                                            if kind != TerminalKind::Success {
                                                let words = words.to_vec();
                                                out.terminals.push(Terminal {
                                                    state: id,
                                                    depth,
                                                    kind,
                                                    words,
                                                });
                                            }
                                        }
                                        if hit.is_some() {
                                            out.bound = hit;
                                        }
                                    }
                                }
                                out
                            })
                            .ok()
                    })
                    .collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            });
            if last_level {
                for part in expanded {
                    if part.transitions > 0 {
                        bound = Some(BoundHit::Depth(u64::from(depth)));
                    }
                    deadlock_states += part.deadlocks;
                    level_terminals.extend(part.terminals);
                }
                continue;
            }
            // Phase 2: insert, each worker into the shards it owns.
            let mut owned: Vec<OwnedShards<'_>> = (0..threads)
                .map(|_| OwnedShards { shards: (0..SHARDS).map(|_| None).collect(), exact })
                .collect();
            for (index, shard) in store.shards.iter_mut().enumerate() {
                if let Some(slot) = owned.get_mut(index % threads).and_then(|o| o.shards.get_mut(index)) {
                    *slot = Some(shard);
                }
            }
            let keep_graph = options.keep_graph;
            let inserted: Vec<Inserted> = std::thread::scope(|scope| {
                let handles: Vec<_> = owned
                    .into_iter()
                    .enumerate()
                    .map(|(owner, mut own)| {
                        let expanded = &expanded;
                        scope.spawn(move || {
                            let mut out = Inserted::default();
                            for part in expanded {
                                let records = part.records.get(owner).map_or(&[][..], Vec::as_slice);
                                insert_records(&mut own, records, keep_graph, &mut out);
                            }
                            out
                        })
                    })
                    .collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            });
            for part in expanded {
                transitions += part.transitions;
                deadlock_states += part.deadlocks;
                if part.bound.is_some() {
                    bound = bound.or(part.bound);
                }
                level_terminals.extend(part.terminals);
            }
            for part in inserted {
                next_frontier.extend_from_slice(&part.next);
                edges.extend(part.edges);
                full |= part.full;
            }
            if let Some(report) = options.progress
                && last_report.elapsed() >= Duration::from_secs(1)
            {
                last_report = Instant::now();
                report(&Progress {
                    states: store.len(),
                    transitions,
                    depth,
                    seconds: started.elapsed().as_secs_f64(),
                    bytes: store.bytes(),
                });
            }
            // A model with exactly `max_states` states is explored to the end.
            if full || store.len() > max_states {
                bound = Some(BoundHit::States(max_states.min(store.len())));
                stopped_early = true;
                break 'levels;
            }
        }
        // Deterministic choice among the terminals of one level: the smallest configuration.
        level_terminals.sort_by(|a, b| a.words.cmp(&b.words));
        for term in level_terminals {
            match term.kind {
                TerminalKind::Deadlock if deadlock.is_none() => deadlock = Some(term),
                TerminalKind::Orphans if orphans.is_none() => orphans = Some(term),
                _ => {}
            }
        }
        if options.keep_graph {
            let mut pos = 0;
            while pos < next_frontier.len() {
                let (id, _, after) = read_entry(&next_frontier, pos);
                order.push(id);
                pos = after;
            }
        }
        if last_level {
            break;
        }
        frontier = next_frontier;
        if !frontier.is_empty() {
            depth += 1;
        }
        let found = |k: &TerminalKind| match k {
            TerminalKind::Deadlock => deadlock.is_some(),
            TerminalKind::Orphans => orphans.is_some(),
            TerminalKind::Success => false,
        };
        if !options.stop_on.is_empty() && options.stop_on.iter().all(found) && !frontier.is_empty() {
            stopped_early = true;
            break;
        }
    }
    let complete = !stopped_early && bound.is_none();
    let graph = options.keep_graph.then(|| {
        let mut dense: FxMap<u32, u32> = FxMap::default();
        for (i, &id) in order.iter().enumerate() {
            dense.insert(id, u32::try_from(i).unwrap_or(u32::MAX));
        }
        let edges: Vec<(u32, u32, u32)> =
            edges.into_iter().filter_map(|(s, l, d)| Some((*dense.get(&s)?, l, *dense.get(&d)?))).collect();
        let labels = tables.read().unwrap_or_else(|e| e.into_inner()).labels_snapshot();
        ExploredGraph { graph: Graph::from_edges(order.len(), edges, labels), ids: order }
    });
    let bytes = store.bytes();
    Explored {
        store,
        initial,
        transitions,
        depth,
        seconds: started.elapsed().as_secs_f64(),
        bound,
        complete,
        deadlock,
        orphans,
        deadlock_states,
        graph,
        bytes,
    }
}

/// One successor record: `(parent, label, fingerprint, words, position after it)`.
fn read_record(records: &[u32], pos: usize) -> Option<(u32, u32, u64, &[u32], usize)> {
    let head = records.get(pos..pos + 5)?;
    let (parent, label, lo, hi, len) = match *head {
        [parent, label, lo, hi, len] => (parent, label, lo, hi, len as usize),
        _ => return None,
    };
    let words = records.get(pos + 5..pos + 5 + len)?;
    Some((parent, label, u64::from(lo) | (u64::from(hi) << 32), words, pos + 5 + len))
}

fn insert_records(own: &mut OwnedShards<'_>, records: &[u32], keep_graph: bool, out: &mut Inserted) {
    let exact = own.exact;
    let mut pos = 0;
    let mut batch: Vec<(u32, u32, u64, std::ops::Range<usize>)> = Vec::with_capacity(BATCH);
    while pos < records.len() {
        batch.clear();
        while batch.len() < BATCH
            && let Some((parent, label, fp, words, after)) = read_record(records, pos)
        {
            let start = after - words.len();
            batch.push((parent, label, fp, start..after));
            pos = after;
        }
        if batch.is_empty() {
            break;
        }
        // Touch every slot first, then the stored state behind each slot whose fingerprint
        // matches: independent loads whose cache misses the CPU overlaps, instead of two
        // misses in a row per successor.
        let mut touched = 0u64;
        let mut entries = [0u64; BATCH];
        for ((_, _, fp, _), entry) in batch.iter().zip(entries.iter_mut()) {
            if let Some(shard) = own.shard(shard_of(*fp)) {
                let mask = shard.table.len().wrapping_sub(1);
                *entry = shard.table.get((*fp >> SHARD_BITS) as usize & mask).copied().unwrap_or(0);
                touched ^= *entry;
            }
        }
        if exact {
            for ((_, _, fp, _), entry) in batch.iter().zip(entries.iter()) {
                if *entry != 0
                    && *entry >> 32 == (*fp >> 32).max(1)
                    && let Some(shard) = own.shard(shard_of(*fp))
                {
                    touched ^= u64::from(shard.arena.get(*entry as u32 as usize + 1).copied().unwrap_or(0));
                }
            }
        }
        std::hint::black_box(touched);
        for (parent, label, fp, range) in &batch {
            let words = records.get(range.clone()).unwrap_or(&[]);
            let index = shard_of(*fp);
            let Some(shard) = own.shard(index) else { continue };
            match shard.insert(*fp, words, *parent, exact, keep_graph) {
                Some((offset, new)) => {
                    let child = (offset << SHARD_BITS) | index as u32;
                    if keep_graph {
                        out.edges.push((*parent, *label, child));
                    }
                    if new {
                        push_entry(&mut out.next, child, words);
                    }
                }
                None => out.full = true,
            }
        }
    }
}

fn push_entry(out: &mut Vec<u32>, id: u32, words: &[u32]) {
    out.push(id);
    out.push(u32::try_from(words.len()).unwrap_or(0));
    out.extend_from_slice(words);
}

fn read_entry(buf: &[u32], pos: usize) -> (u32, &[u32], usize) {
    let id = buf.get(pos).copied().unwrap_or(0);
    let len = buf.get(pos + 1).copied().unwrap_or(0) as usize;
    let words = buf.get(pos + 2..pos + 2 + len).unwrap_or(&[]);
    (id, words, pos + 2 + len)
}

/// Splits the frontier into runs of about `per_chunk` entries: `(start, end)` positions.
fn chunk_entries(buf: &[u32], per_chunk: usize) -> Vec<(usize, usize)> {
    let mut chunks = Vec::new();
    let mut pos = 0;
    let mut start = 0;
    let mut count = 0;
    while pos < buf.len() {
        let (_, _, after) = read_entry(buf, pos);
        pos = after;
        count += 1;
        if count == per_chunk {
            chunks.push((start, pos));
            start = pos;
            count = 0;
        }
    }
    if start < pos {
        chunks.push((start, pos));
    }
    chunks
}

/// One step of a trace, found by re-executing the semantics.
#[derive(Clone, Debug)]
pub struct TraceStep {
    pub peer: usize,
    pub node: NodeIdx,
    pub failed: bool,
    pub label: LabelId,
    /// The configuration after the step.
    pub words: Vec<u32>,
}

/// Re-executes a path from the initial state, given as the store id of each next state (and
/// the label of the step, when known), and returns its steps: each is the successor,
/// computed afresh, that reaches that state.
pub fn steps_along(
    sys: &System<'_>,
    tables: &RwLock<Tables>,
    store: &Store,
    path: &[(u32, Option<u32>)],
) -> Option<Vec<TraceStep>> {
    let mut worker = Worker::new(sys, tables);
    let mut words = initial_state(sys);
    let mut steps = Vec::new();
    for &(next, label) in path {
        let succ =
            worker.expand(&words).successors.into_iter().find(|s| {
                label.is_none_or(|l| s.step.label.0 == l) && store.lookup(&s.words) == Some(next)
            })?;
        steps.push(TraceStep {
            peer: succ.peer,
            node: succ.step.node,
            failed: succ.step.failed,
            label: succ.step.label,
            words: succ.words.clone(),
        });
        words = succ.words;
    }
    Some(steps)
}

impl Tables {
    pub fn labels_snapshot(&self) -> Vec<Vec<super::value::Action>> {
        (0..self.labels.len()).filter_map(|i| self.labels.get(i as u32).cloned()).collect()
    }
}
