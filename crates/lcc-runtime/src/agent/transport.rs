//! How host agents reach each other: per-peer messages, a role registry with leases
//! (discovery), and durable records with compare-and-set (the owner of each VM).
//!
//! The agent is synchronous, so the API blocks. [`Hub`]/[`InProcess`] is the embedded default
//! (all agents in one process, no server); `agent::nats::Nats` (feature `nats`) is the same
//! contract over a NATS server with JetStream.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A received message: the peer it was addressed to and the raw bytes (signed envelope; the
/// transport does not look inside).
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub peer: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TransportError {
    /// The server is down or the connection was lost: what was tried and where.
    Unreachable(String),
    /// `record_put` with a stale revision, or a create of a key that exists.
    Conflict { key: String },
    /// Anything else, with the server's reason.
    Failed(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Unreachable(what) => write!(f, "transport unreachable: {what}"),
            TransportError::Conflict { key } => write!(
                f,
                "record `{key}` was changed by someone else (stale revision, or it already exists); \
                 read it again and retry"
            ),
            TransportError::Failed(what) => write!(f, "transport failed: {what}"),
        }
    }
}

impl std::error::Error for TransportError {}

pub trait Transport: Send {
    /// Starts receiving messages addressed to peer `peer` (an LCC peer id printed as text, e.g.
    /// `pm1`, `h(3)`). Listening twice to the same peer is the same as once.
    fn listen(&mut self, peer: &str) -> Result<(), TransportError>;
    /// Stops receiving messages addressed to `peer` (e.g. a VM migrated away: its new host
    /// listens now). Not listening to `peer` is not an error.
    fn unlisten(&mut self, peer: &str) -> Result<(), TransportError>;
    /// Sends to whoever listens for `peer`. Fire and forget; a peer nobody listens to loses it.
    fn send(&mut self, peer: &str, bytes: &[u8]) -> Result<(), TransportError>;
    /// Waits up to `timeout` for the next message to any listened peer.
    fn recv(&mut self, timeout: Duration) -> Result<Option<Delivery>, TransportError>;
    /// Role registry (discovery) with leases: puts/refreshes `peer`'s entry; an entry not
    /// refreshed within the lease disappears (an agent that dies leaves discovery).
    fn announce(&mut self, peer: &str, entry: &[u8]) -> Result<(), TransportError>;
    fn withdraw(&mut self, peer: &str) -> Result<(), TransportError>;
    /// The live registry entries (peer, entry), sorted by peer.
    fn directory(&mut self) -> Result<Vec<(String, Vec<u8>)>, TransportError>;
    /// Durable records with compare-and-set (the owner of each VM: the commit point of a
    /// migration). `record_get` returns the value and its revision.
    fn record_get(&mut self, key: &str) -> Result<Option<(Vec<u8>, u64)>, TransportError>;
    /// `expected = None`: create, Conflict if the key exists. `Some(rev)`: update only if the
    /// current revision is `rev`, else Conflict. Returns the new revision.
    fn record_put(&mut self, key: &str, value: &[u8], expected: Option<u64>) -> Result<u64, TransportError>;
    /// All records whose key starts with `prefix` (key, value, revision), sorted by key.
    fn records(&mut self, prefix: &str) -> Result<Vec<(String, Vec<u8>, u64)>, TransportError>;
}

/// What the hub keeps for one connected [`InProcess`].
#[derive(Default)]
struct Connection {
    peers: BTreeSet<String>,
    inbox: VecDeque<Delivery>,
}

struct RoleEntry {
    entry: Vec<u8>,
    expires: Instant,
}

#[derive(Default)]
struct HubState {
    next_connection: u64,
    connections: HashMap<u64, Connection>,
    roles: BTreeMap<String, RoleEntry>,
    /// key -> (value, revision).
    records: BTreeMap<String, (Vec<u8>, u64)>,
    /// Last revision given to a record; revisions are global, as the sequence of a NATS stream.
    revision: u64,
    /// Simulates the server being down (tests of agents' error paths).
    down: bool,
}

struct HubShared {
    lease: Duration,
    state: Mutex<HubState>,
    /// Signalled whenever a message is queued (or a connection goes away).
    arrived: Condvar,
}

/// The embedded default: agents in one process, no server. Cloneable handle to shared state.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<HubShared>,
}

impl Hub {
    /// A hub whose registry entries last `lease` after their last `announce`.
    pub fn new(lease: Duration) -> Hub {
        Hub {
            shared: Arc::new(HubShared {
                lease,
                state: Mutex::new(HubState::default()),
                arrived: Condvar::new(),
            }),
        }
    }

    /// A new connection (one per agent).
    pub fn connect(&self) -> InProcess {
        let mut state = lock(&self.shared.state);
        state.next_connection += 1;
        let id = state.next_connection;
        state.connections.insert(id, Connection::default());
        InProcess { shared: Arc::clone(&self.shared), id, connected: true }
    }

    /// Simulates the server going down (`true`: every call of every connection fails with
    /// `Unreachable`, messages sent meanwhile are lost) or coming back (`false`).
    pub fn set_down(&self, down: bool) {
        lock(&self.shared.state).down = down;
        self.shared.arrived.notify_all();
    }

    /// The lease of registry entries.
    pub fn lease(&self) -> Duration {
        self.shared.lease
    }
}

/// A connection to a [`Hub`]. Dropping it (or [`InProcess::disconnect`]) stops its listening;
/// its announced entries stay until their lease expires, as with a server.
pub struct InProcess {
    shared: Arc<HubShared>,
    id: u64,
    connected: bool,
}

/// A poisoned lock only means another agent thread panicked; the state itself stays coherent
/// (every update is a single insert/remove), so keep going.
fn lock(state: &Mutex<HubState>) -> MutexGuard<'_, HubState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InProcess {
    /// Stops receiving (as if the process died): the peers it listened to get nothing more.
    pub fn disconnect(&mut self) {
        if self.connected {
            self.connected = false;
            lock(&self.shared.state).connections.remove(&self.id);
            self.shared.arrived.notify_all();
        }
    }

    /// The state, after checking that this connection can use it.
    fn state(&self, what: &str) -> Result<MutexGuard<'_, HubState>, TransportError> {
        if !self.connected {
            return Err(TransportError::Unreachable(format!(
                "{what}: this in-process connection was disconnected; connect again with Hub::connect"
            )));
        }
        let state = lock(&self.shared.state);
        if state.down {
            return Err(TransportError::Unreachable(format!(
                "{what}: the in-process hub is down (Hub::set_down)"
            )));
        }
        Ok(state)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.disconnect();
    }
}

impl Transport for InProcess {
    fn listen(&mut self, peer: &str) -> Result<(), TransportError> {
        let id = self.id;
        let mut state = self.state(&format!("listen to peer `{peer}`"))?;
        if let Some(connection) = state.connections.get_mut(&id) {
            connection.peers.insert(peer.to_string());
        }
        Ok(())
    }

    fn unlisten(&mut self, peer: &str) -> Result<(), TransportError> {
        let id = self.id;
        let mut state = self.state(&format!("stop listening to peer `{peer}`"))?;
        if let Some(connection) = state.connections.get_mut(&id) {
            connection.peers.remove(peer);
        }
        Ok(())
    }

    fn send(&mut self, peer: &str, bytes: &[u8]) -> Result<(), TransportError> {
        let mut state = self.state(&format!("send to peer `{peer}`"))?;
        let mut delivered = false;
        for connection in state.connections.values_mut() {
            if connection.peers.contains(peer) {
                connection.inbox.push_back(Delivery { peer: peer.to_string(), bytes: bytes.to_vec() });
                delivered = true;
            }
        }
        drop(state);
        if delivered {
            self.shared.arrived.notify_all();
        }
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<Delivery>, TransportError> {
        let deadline = Instant::now() + timeout;
        let id = self.id;
        let mut state = self.state("receive")?;
        loop {
            if state.down {
                return Err(TransportError::Unreachable(
                    "receive: the in-process hub is down (Hub::set_down)".to_string(),
                ));
            }
            let Some(connection) = state.connections.get_mut(&id) else {
                return Ok(None);
            };
            if let Some(delivery) = connection.inbox.pop_front() {
                return Ok(Some(delivery));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            state = self
                .shared
                .arrived
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn announce(&mut self, peer: &str, entry: &[u8]) -> Result<(), TransportError> {
        let expires = Instant::now() + self.shared.lease;
        let mut state = self.state(&format!("announce peer `{peer}`"))?;
        state.roles.insert(peer.to_string(), RoleEntry { entry: entry.to_vec(), expires });
        Ok(())
    }

    fn withdraw(&mut self, peer: &str) -> Result<(), TransportError> {
        let mut state = self.state(&format!("withdraw peer `{peer}`"))?;
        state.roles.remove(peer);
        Ok(())
    }

    fn directory(&mut self) -> Result<Vec<(String, Vec<u8>)>, TransportError> {
        let now = Instant::now();
        let mut state = self.state("read the directory")?;
        state.roles.retain(|_, role| role.expires > now);
        Ok(state.roles.iter().map(|(peer, role)| (peer.clone(), role.entry.clone())).collect())
    }

    fn record_get(&mut self, key: &str) -> Result<Option<(Vec<u8>, u64)>, TransportError> {
        let state = self.state(&format!("read record `{key}`"))?;
        Ok(state.records.get(key).cloned())
    }

    fn record_put(&mut self, key: &str, value: &[u8], expected: Option<u64>) -> Result<u64, TransportError> {
        let mut state = self.state(&format!("write record `{key}`"))?;
        let current = state.records.get(key).map(|(_, revision)| *revision);
        if current != expected {
            return Err(TransportError::Conflict { key: key.to_string() });
        }
        state.revision += 1;
        let revision = state.revision;
        state.records.insert(key.to_string(), (value.to_vec(), revision));
        Ok(revision)
    }

    fn records(&mut self, prefix: &str) -> Result<Vec<(String, Vec<u8>, u64)>, TransportError> {
        let state = self.state(&format!("list records under `{prefix}`"))?;
        Ok(state
            .records
            .range(prefix.to_string()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, (value, revision))| (key.clone(), value.clone(), *revision))
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::thread;

    const SHORT: Duration = Duration::from_millis(50);

    #[test]
    fn send_reaches_every_listener_of_the_peer_and_only_them() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        let mut b = hub.connect();
        let mut c = hub.connect();
        a.listen("h(3)").unwrap();
        b.listen("h(3)").unwrap();
        c.listen("\"a b\"").unwrap();
        c.send("h(3)", b"one").unwrap();
        let expected = Delivery { peer: "h(3)".into(), bytes: b"one".to_vec() };
        assert_eq!(a.recv(SHORT).unwrap(), Some(expected.clone()));
        assert_eq!(b.recv(SHORT).unwrap(), Some(expected));
        assert_eq!(c.recv(SHORT).unwrap(), None);
        a.send("\"a b\"", b"two").unwrap();
        assert_eq!(c.recv(SHORT).unwrap(), Some(Delivery { peer: "\"a b\"".into(), bytes: b"two".to_vec() }));
    }

    #[test]
    fn messages_arrive_in_order_and_listening_twice_delivers_once() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        let mut b = hub.connect();
        a.listen("pm1").unwrap();
        a.listen("pm1").unwrap();
        for i in 0..5u8 {
            b.send("pm1", &[i]).unwrap();
        }
        for i in 0..5u8 {
            assert_eq!(a.recv(SHORT).unwrap().unwrap().bytes, vec![i]);
        }
        assert_eq!(a.recv(SHORT).unwrap(), None);
    }

    #[test]
    fn message_to_nobody_is_lost_and_unlisten_stops_delivery() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        let mut b = hub.connect();
        b.send("pm1", b"lost").unwrap();
        a.listen("pm1").unwrap();
        assert_eq!(a.recv(SHORT).unwrap(), None);
        a.unlisten("pm1").unwrap();
        b.send("pm1", b"lost too").unwrap();
        assert_eq!(a.recv(SHORT).unwrap(), None);
    }

    #[test]
    fn recv_times_out_after_about_the_timeout() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        a.listen("pm1").unwrap();
        let start = Instant::now();
        assert_eq!(a.recv(Duration::from_millis(200)).unwrap(), None);
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2), "{waited:?}");
    }

    #[test]
    fn recv_wakes_up_when_a_message_arrives_from_another_thread() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        a.listen("pm1").unwrap();
        let mut b = hub.connect();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            b.send("pm1", b"late").unwrap();
        });
        let start = Instant::now();
        let got = a.recv(Duration::from_secs(10)).unwrap();
        assert_eq!(got.unwrap().bytes, b"late".to_vec());
        assert!(start.elapsed() < Duration::from_secs(5));
        sender.join().unwrap();
    }

    #[test]
    fn a_dropped_connection_stops_receiving() {
        let hub = Hub::new(Duration::from_secs(10));
        let a = hub.connect();
        let mut a = a;
        a.listen("pm1").unwrap();
        let mut b = hub.connect();
        b.listen("pm1").unwrap();
        drop(a);
        let mut c = hub.connect();
        c.send("pm1", b"x").unwrap();
        assert!(b.recv(SHORT).unwrap().is_some());
        // Nobody keeps the dropped connection's inbox.
        assert_eq!(lock(&hub.shared.state).connections.len(), 2);
        let mut d = hub.connect();
        d.disconnect();
        assert!(matches!(d.send("pm1", b"y"), Err(TransportError::Unreachable(_))));
    }

    #[test]
    fn announce_directory_withdraw() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        let mut b = hub.connect();
        a.announce("h(1)", b"host one").unwrap();
        b.announce("h(2)", b"host two").unwrap();
        a.announce("h(1)", b"host one, refreshed").unwrap();
        assert_eq!(
            b.directory().unwrap(),
            vec![("h(1)".into(), b"host one, refreshed".to_vec()), ("h(2)".into(), b"host two".to_vec())]
        );
        a.withdraw("h(1)").unwrap();
        a.withdraw("never announced").unwrap();
        assert_eq!(b.directory().unwrap(), vec![("h(2)".into(), b"host two".to_vec())]);
    }

    #[test]
    fn entries_not_refreshed_within_the_lease_disappear_even_after_a_drop() {
        let hub = Hub::new(Duration::from_millis(300));
        let mut a = hub.connect();
        let mut dying = hub.connect();
        a.announce("alive", b"a").unwrap();
        dying.announce("dying", b"d").unwrap();
        drop(dying);
        assert_eq!(a.directory().unwrap().len(), 2, "a dropped agent stays until its lease ends");
        for _ in 0..4 {
            thread::sleep(Duration::from_millis(150));
            a.announce("alive", b"a").unwrap();
        }
        assert_eq!(a.directory().unwrap(), vec![("alive".into(), b"a".to_vec())]);
        thread::sleep(Duration::from_millis(400));
        assert_eq!(a.directory().unwrap(), vec![]);
    }

    #[test]
    fn records_create_update_and_conflicts() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        let mut b = hub.connect();
        assert_eq!(a.record_get("owner/vm1").unwrap(), None);
        let r1 = a.record_put("owner/vm1", b"h(1)", None).unwrap();
        assert_eq!(b.record_get("owner/vm1").unwrap(), Some((b"h(1)".to_vec(), r1)));
        assert_eq!(
            b.record_put("owner/vm1", b"h(2)", None),
            Err(TransportError::Conflict { key: "owner/vm1".into() })
        );
        let r2 = b.record_put("owner/vm1", b"h(2)", Some(r1)).unwrap();
        assert!(r2 > r1);
        assert_eq!(
            a.record_put("owner/vm1", b"h(3)", Some(r1)),
            Err(TransportError::Conflict { key: "owner/vm1".into() })
        );
        assert_eq!(
            a.record_put("owner/vm2", b"h(3)", Some(r2)),
            Err(TransportError::Conflict { key: "owner/vm2".into() })
        );
        let r3 = a.record_put("owner/vm2", b"h(3)", None).unwrap();
        a.record_put("other", b"x", None).unwrap();
        assert_eq!(
            b.records("owner/").unwrap(),
            vec![("owner/vm1".into(), b"h(2)".to_vec(), r2), ("owner/vm2".into(), b"h(3)".to_vec(), r3)]
        );
        assert_eq!(b.records("").unwrap().len(), 3);
    }

    #[test]
    fn concurrent_compare_and_set_has_exactly_one_winner() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut setup = hub.connect();
        let r0 = setup.record_put("owner/vm", b"h(0)", None).unwrap();
        let threads: Vec<_> = (1..=4)
            .map(|i| {
                let mut t = hub.connect();
                thread::spawn(move || {
                    t.record_put("owner/vm", format!("h({i})").as_bytes(), Some(r0)).is_ok()
                })
            })
            .collect();
        let wins = threads.into_iter().map(|t| t.join().unwrap()).filter(|won| *won).count();
        assert_eq!(wins, 1);
    }

    #[test]
    fn a_down_hub_is_unreachable_until_it_comes_back() {
        let hub = Hub::new(Duration::from_secs(10));
        let mut a = hub.connect();
        a.listen("pm1").unwrap();
        hub.set_down(true);
        let err = a.send("pm1", b"x").unwrap_err();
        assert!(matches!(err, TransportError::Unreachable(_)));
        assert!(err.to_string().contains("send to peer `pm1`"), "{err}");
        assert!(matches!(a.recv(SHORT), Err(TransportError::Unreachable(_))));
        hub.set_down(false);
        a.send("pm1", b"x").unwrap();
        assert!(a.recv(SHORT).unwrap().is_some());
    }

    #[test]
    fn errors_read_as_log_lines() {
        let conflict = TransportError::Conflict { key: "owner/vm1".into() }.to_string();
        assert!(conflict.contains("owner/vm1") && conflict.contains("retry"), "{conflict}");
        assert!(TransportError::Failed("why".into()).to_string().contains("why"));
    }
}
