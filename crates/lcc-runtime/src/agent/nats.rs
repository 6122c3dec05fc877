//! The [`Transport`] of host agents over a NATS server with JetStream (`nats-server -js`).
//!
//! - Messages: core NATS on the subject `lcc.<cluster>.peer.<token>` (token: [`encode_token`]
//!   of the peer id), fire and forget.
//! - Discovery: the key-value bucket `lcc_<cluster>_roles`, `max_age` = the lease, so an entry
//!   that is not refreshed is removed by the server (an agent that dies leaves discovery).
//! - Records: the key-value bucket `lcc_<cluster>_records`, compare-and-set on the revision.
//! - Several sites: each site's server is a leaf node of a hub whose JetStream has a domain
//!   (`jetstream { domain: hub }`); every agent sets [`NatsOptions::jetstream_domain`] to it, so
//!   all JetStream requests (bucket look-up and creation, key listing, gets and writes) go to
//!   `$JS.hub.API.>` and reach the hub's buckets; core messages cross the link as they are.
//!
//! The agent is synchronous: a current-thread tokio runtime runs on a thread of its own (it
//! drives the connection and the subscriptions even while the agent is busy) and each call
//! blocks on it with [`tokio::runtime::Handle::block_on`]. Do not call it from async code.

use std::collections::HashMap;
use std::fmt::{Display, Write as _};
use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, kv, stream};
use futures_util::StreamExt;

use super::transport::{Delivery, Transport, TransportError};

/// How to reach the server and which cluster of agents to join.
#[derive(Clone, Debug, PartialEq)]
pub struct NatsOptions {
    /// E.g. `nats://127.0.0.1:4222` (or `127.0.0.1:4222`).
    pub url: String,
    /// Namespace of the subjects and buckets: several clusters can share one server.
    /// Only `[A-Za-z0-9_-]`.
    pub cluster: String,
    /// How long a registry entry lives after its last `announce`. Fixed when the bucket is
    /// first created: later agents use the existing bucket's lease.
    pub lease: Duration,
    /// How long to wait for the server on each request.
    pub request_timeout: Duration,
    /// The JetStream domain that holds the buckets, when it is not the server's own: e.g.
    /// `hub` for an agent connected to a leaf node server whose hub has
    /// `jetstream { domain: hub }`. Every JetStream request then goes to `$JS.<domain>.API.>`
    /// (and key-value writes to `$JS.<domain>.API.$KV.>`), which the hub maps to its own
    /// JetStream. `None`: the JetStream of the server connected to.
    pub jetstream_domain: Option<String>,
}

impl NatsOptions {
    /// Options with a 15 s lease and a 5 s request timeout.
    pub fn new(url: &str, cluster: &str) -> NatsOptions {
        NatsOptions {
            url: url.to_string(),
            cluster: cluster.to_string(),
            lease: Duration::from_secs(15),
            request_timeout: Duration::from_secs(5),
            jetstream_domain: None,
        }
    }
}

/// Writes `text` as one NATS subject token that is also a valid JetStream key-value key:
/// `[A-Za-z0-9_-]` stay, every other byte is written `=XX` (two uppercase hex digits).
pub fn encode_token(text: &str) -> String {
    let mut token = String::with_capacity(text.len());
    for byte in text.bytes() {
        if is_plain(byte) {
            token.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(token, "={byte:02X}");
        }
    }
    token
}

/// The inverse of [`encode_token`]; `None` if `token` is not exactly what it writes (a stray
/// or lowercase escape, an escaped plain byte, or bytes that are not UTF-8).
pub fn decode_token(token: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(token.len());
    let mut rest = token.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'=' {
            let (hex, tail) = tail.split_at_checked(2)?;
            if !hex.iter().all(|digit| digit.is_ascii_digit() || (b'A'..=b'F').contains(digit)) {
                return None;
            }
            let byte = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            if is_plain(byte) {
                return None;
            }
            bytes.push(byte);
            rest = tail;
        } else if is_plain(first) {
            bytes.push(first);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

fn is_plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// The thread that drives the runtime; stopping it drops the runtime, which ends every task
/// and closes the connection (the server then drops our subscriptions).
struct Driver {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A connection of one agent to a NATS server. Dropping it closes the connection: it stops
/// receiving at once, and its announced entries disappear when their lease ends.
pub struct Nats {
    url: String,
    subject_prefix: String,
    /// The subject `sync_with_server` sends its request to.
    sync_subject: String,
    timeout: Duration,
    handle: tokio::runtime::Handle,
    client: async_nats::Client,
    roles: kv::Store,
    records: kv::Store,
    /// The forwarding task of each listened peer (aborted by `unlisten`).
    listeners: HashMap<String, tokio::task::JoinHandle<()>>,
    inbox_sender: mpsc::Sender<Delivery>,
    inbox: mpsc::Receiver<Delivery>,
    _driver: Driver,
}

/// The hint appended to every "cannot reach the server" message.
const START_SERVER: &str = "start it with `nats-server -js` (JetStream must be enabled)";

impl Nats {
    /// Connects, and opens (creating them if needed) the cluster's two buckets.
    pub fn connect(options: &NatsOptions) -> Result<Nats, TransportError> {
        let url = options.url.clone();
        let cluster = &options.cluster;
        if cluster.is_empty() || !cluster.bytes().all(is_plain) {
            return Err(TransportError::Failed(format!(
                "NATS cluster name `{cluster}` must be non-empty and use only A-Z, a-z, 0-9, `_` and `-` \
                 (it names subjects and buckets)"
            )));
        }
        if let Some(domain) = &options.jetstream_domain
            && (domain.is_empty() || !domain.bytes().all(is_plain))
        {
            return Err(TransportError::Failed(format!(
                "JetStream domain `{domain}` must be non-empty and use only A-Z, a-z, 0-9, `_` and `-` \
                 (it is the `domain` of the server's `jetstream` block, e.g. `hub`)"
            )));
        }
        let timeout = options.request_timeout;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|err| {
            TransportError::Failed(format!("cannot start the runtime of the NATS client: {err}"))
        })?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lcc-nats".to_string())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|err| TransportError::Failed(format!("cannot start the NATS client thread: {err}")))?;
        // From here on, an early return stops the thread.
        let driver = Driver { stop: Some(stop), thread: Some(thread) };

        let unreachable = |reason: &dyn Display| {
            TransportError::Unreachable(format!(
                "cannot connect to the NATS server at {url}: {reason}; is a server running there? \
                 {START_SERVER}"
            ))
        };
        let connected = handle.block_on(async {
            tokio::time::timeout(
                timeout + Duration::from_secs(1),
                async_nats::ConnectOptions::new()
                    .name("lcc agent")
                    .connection_timeout(timeout)
                    .request_timeout(Some(timeout))
                    .connect(url.as_str()),
            )
            .await
        });
        let client = match connected {
            Ok(Ok(client)) => client,
            Ok(Err(err)) => return Err(unreachable(&err)),
            Err(_) => return Err(unreachable(&format!("no answer within {timeout:?}"))),
        };
        let (roles, records) = handle.block_on(async {
            // The context spawns its acker task: it must be made inside the runtime. Every
            // JetStream request below, and those of the two stores (which keep a copy of the
            // context and its domain prefix), go through it.
            let mut context = match &options.jetstream_domain {
                Some(domain) => jetstream::with_domain(client.clone(), domain),
                None => jetstream::new(client.clone()),
            };
            context.set_timeout(timeout);
            let domain = options.jetstream_domain.as_deref();
            let roles =
                open_bucket(&context, &format!("lcc_{cluster}_roles"), options.lease, &url, domain).await?;
            let records =
                open_bucket(&context, &format!("lcc_{cluster}_records"), Duration::ZERO, &url, domain)
                    .await?;
            Ok::<_, TransportError>((roles, records))
        })?;
        let (inbox_sender, inbox) = mpsc::channel();
        Ok(Nats {
            subject_prefix: format!("lcc.{cluster}.peer."),
            sync_subject: match &options.jetstream_domain {
                Some(domain) => format!("$JS.{domain}.API.INFO"),
                None => client.new_inbox(),
            },
            url,
            timeout,
            handle,
            client,
            roles,
            records,
            listeners: HashMap::new(),
            inbox_sender,
            inbox,
            _driver: driver,
        })
    }

    /// The URL this connection was made to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The token of a peer id or record key, refusing the empty one (not a subject token).
    fn token(&self, what: &str, text: &str) -> Result<String, TransportError> {
        if text.is_empty() {
            return Err(TransportError::Failed(format!("{what}: the peer id or key is empty")));
        }
        Ok(encode_token(text))
    }

    /// Fails fast while the client is reconnecting instead of waiting for a timeout.
    fn check_connected(&self, what: &str) -> Result<(), TransportError> {
        match self.client.connection_state() {
            State::Connected => Ok(()),
            State::Pending | State::Disconnected => Err(TransportError::Unreachable(format!(
                "{what}: lost the connection to the NATS server at {} (the client keeps reconnecting); \
                 {START_SERVER}",
                self.url
            ))),
        }
    }

    /// A server or client error: `Unreachable` when the connection is down or the server did
    /// not answer in time, `Failed` with its reason otherwise.
    fn error(&self, what: &str, reason: impl Display) -> TransportError {
        let reason = reason.to_string();
        if self.client.connection_state() != State::Connected || reason.contains("timed out") {
            TransportError::Unreachable(format!(
                "{what}: the NATS server at {} did not answer ({reason}); {START_SERVER}",
                self.url
            ))
        } else {
            TransportError::Failed(format!("{what} on the NATS server at {}: {reason}", self.url))
        }
    }

    /// Awaits one request with the request timeout (some client calls have none of their own).
    async fn guard<T, E: Display>(
        &self,
        what: &str,
        request: impl Future<Output = Result<T, E>>,
    ) -> Result<T, TransportError> {
        match tokio::time::timeout(self.timeout, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(self.error(what, err)),
            Err(_) => Err(self.error(what, format!("timed out after {:?}", self.timeout))),
        }
    }

    /// Returns once the server has processed everything this connection sent before (e.g. a
    /// subscription). `flush` only writes the socket; a request to a subject nobody listens to
    /// is a round trip, answered "no responders" after what precedes it. With a JetStream
    /// domain, the request goes to the hub's JetStream (account info, a cheap read): from a
    /// leaf node it crosses the link behind the subscription, so the hub knows it too.
    async fn sync_with_server(&self, what: &str) -> Result<(), TransportError> {
        let request = self.client.request(self.sync_subject.clone(), Vec::new().into());
        match tokio::time::timeout(self.timeout, request).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) if err.kind() == async_nats::RequestErrorKind::NoResponders => Ok(()),
            Ok(Err(err)) => Err(self.error(what, err)),
            Err(_) => Err(self.error(what, format!("timed out after {:?}", self.timeout))),
        }
    }

    /// The live entries of a bucket: (decoded key, value, revision), sorted by key. Keys that
    /// [`decode_token`] refuses were not written by an agent and are skipped.
    ///
    /// The keys come from the stream's per-subject counts (one request), not from the client's
    /// `keys()`: that creates a consumer each time, and one whose entry expires before it is
    /// delivered waits for an idle heartbeat (seconds) to notice it is done.
    async fn entries(
        &self,
        what: &str,
        bucket: &kv::Store,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>, u64)>, TransportError> {
        let mut subjects =
            self.guard(what, bucket.stream.info_with_subjects(format!("{}>", bucket.prefix))).await?;
        let mut tokens = Vec::new();
        loop {
            let next = self.guard(what, async { Ok::<_, String>(subjects.next().await) }).await?;
            let Some(subject) = next else { break };
            let (subject, _count) = subject.map_err(|err| self.error(what, err))?;
            if let Some(token) = subject.strip_prefix(bucket.prefix.as_str()) {
                tokens.push(token.to_string());
            }
        }
        let mut entries = Vec::new();
        for token in tokens {
            let Some(key) = decode_token(&token) else { continue };
            if !key.starts_with(prefix) {
                continue;
            }
            // Gone since the listing (expired, withdrawn): skip it.
            if let Some(entry) = self.guard(what, bucket.entry(token)).await?
                && entry.operation == kv::Operation::Put
            {
                entries.push((key, entry.value.to_vec(), entry.revision));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    /// Writes `value` under `token` if the key's last revision is `revision` (0: no value).
    async fn update(
        &self,
        what: &str,
        key: &str,
        token: &str,
        value: &[u8],
        revision: u64,
    ) -> Result<u64, TransportError> {
        let written =
            tokio::time::timeout(self.timeout, self.records.update(token, value.to_vec().into(), revision))
                .await;
        match written {
            Ok(Ok(revision)) => Ok(revision),
            Ok(Err(err)) if err.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                Err(TransportError::Conflict { key: key.to_string() })
            }
            Ok(Err(err)) => Err(self.error(what, err)),
            Err(_) => Err(self.error(what, format!("timed out after {:?}", self.timeout))),
        }
    }
}

/// Opens the key-value bucket `name`, creating its stream if it does not exist. The client's
/// `create_key_value` cannot read the account info of nats-server 2.9, so the `KV_<name>`
/// stream is created by hand, with the settings the client would use. Safe when several agents
/// start at once: creating an identical stream that exists succeeds, and any other failure is
/// followed by one more look-up (someone else may have created it differently).
async fn open_bucket(
    context: &jetstream::Context,
    name: &str,
    max_age: Duration,
    url: &str,
    domain: Option<&str>,
) -> Result<kv::Store, TransportError> {
    if let Ok(store) = context.get_key_value(name).await {
        return Ok(store);
    }
    let config = stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_messages: -1,
        max_bytes: -1,
        max_message_size: -1,
        max_age,
        storage: stream::StorageType::File,
        discard: stream::DiscardPolicy::New,
        num_replicas: 1,
        allow_rollup: true,
        deny_delete: true,
        deny_purge: false,
        allow_direct: true,
        ..Default::default()
    };
    let created = context.create_stream(config).await;
    match context.get_key_value(name).await {
        Ok(store) => Ok(store),
        Err(lookup) => {
            let reason = match created {
                Err(create) => format!("cannot create it ({create}), nor open it ({lookup})"),
                Ok(_) => format!("created it but cannot open it ({lookup})"),
            };
            let hint = match domain {
                None => format!(
                    "{START_SERVER}, or, if it is a leaf node of a hub with JetStream, set the JetStream \
                     domain of the hub (`jetstream_domain`, the `domain` of the hub's `jetstream` block)"
                ),
                Some(domain) => format!(
                    "the buckets are looked for in the JetStream domain `{domain}`: the hub must have \
                     `jetstream {{ domain: {domain} }}` and this server must be that hub or a leaf node \
                     connected to it"
                ),
            };
            let text = format!("key-value bucket `{name}` on the NATS server at {url}: {reason}; {hint}");
            if reason.contains("timed out") || reason.contains("no responders") {
                Err(TransportError::Unreachable(text))
            } else {
                Err(TransportError::Failed(text))
            }
        }
    }
}

impl Transport for Nats {
    fn listen(&mut self, peer: &str) -> Result<(), TransportError> {
        let what = format!("listen to peer `{peer}`");
        let subject = format!("{}{}", self.subject_prefix, self.token(&what, peer)?);
        if self.listeners.contains_key(peer) {
            return Ok(());
        }
        self.check_connected(&what)?;
        let mut subscriber = self.handle.block_on(async {
            let subscriber = self.guard(&what, self.client.subscribe(subject)).await?;
            // Messages sent (by anyone on this server, or on the hub when this is a leaf node and a
            // JetStream domain is set) after `listen` returns are received. The interest reaches
            // the hub's other leaf nodes asynchronously: a message sent from one of them at once
            // may be lost (measured, leaf to a fresh hub listener: 7 and 11 in 200 tries).
            self.sync_with_server(&what).await?;
            Ok::<_, TransportError>(subscriber)
        })?;
        let inbox = self.inbox_sender.clone();
        let peer_id = peer.to_string();
        let forward = self.handle.spawn(async move {
            while let Some(message) = subscriber.next().await {
                let delivery = Delivery { peer: peer_id.clone(), bytes: message.payload.to_vec() };
                if inbox.send(delivery).is_err() {
                    break;
                }
            }
        });
        self.listeners.insert(peer.to_string(), forward);
        Ok(())
    }

    fn unlisten(&mut self, peer: &str) -> Result<(), TransportError> {
        let Some(forward) = self.listeners.remove(peer) else { return Ok(()) };
        forward.abort();
        let what = format!("stop listening to peer `{peer}`");
        self.handle.block_on(async {
            // The aborted task drops its subscriber, which unsubscribes.
            let _ = forward.await;
            self.sync_with_server(&what).await
        })
    }

    fn send(&mut self, peer: &str, bytes: &[u8]) -> Result<(), TransportError> {
        let what = format!("send to peer `{peer}`");
        let subject = format!("{}{}", self.subject_prefix, self.token(&what, peer)?);
        self.check_connected(&what)?;
        self.handle.block_on(async {
            self.guard(&what, self.client.publish(subject, bytes.to_vec().into())).await?;
            self.guard(&what, self.client.flush()).await
        })
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<Delivery>, TransportError> {
        match self.inbox.recv_timeout(timeout) {
            Ok(delivery) => Ok(Some(delivery)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.check_connected("receive")?;
                Ok(None)
            }
            // Cannot happen: `self` keeps a sender.
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    fn announce(&mut self, peer: &str, entry: &[u8]) -> Result<(), TransportError> {
        let what = format!("announce peer `{peer}`");
        let token = self.token(&what, peer)?;
        self.check_connected(&what)?;
        self.handle.block_on(self.guard(&what, self.roles.put(token, entry.to_vec().into())))?;
        Ok(())
    }

    fn withdraw(&mut self, peer: &str) -> Result<(), TransportError> {
        let what = format!("withdraw peer `{peer}`");
        let token = self.token(&what, peer)?;
        self.check_connected(&what)?;
        // A purge leaves one marker (no history), which the lease removes in turn.
        self.handle.block_on(self.guard(&what, self.roles.purge(token)))
    }

    fn directory(&mut self) -> Result<Vec<(String, Vec<u8>)>, TransportError> {
        let what = "read the directory";
        self.check_connected(what)?;
        let entries = self.handle.block_on(self.entries(what, &self.roles, ""))?;
        Ok(entries.into_iter().map(|(peer, entry, _)| (peer, entry)).collect())
    }

    fn record_get(&mut self, key: &str) -> Result<Option<(Vec<u8>, u64)>, TransportError> {
        let what = format!("read record `{key}`");
        let token = self.token(&what, key)?;
        self.check_connected(&what)?;
        let entry = self.handle.block_on(self.guard(&what, self.records.entry(token)))?;
        Ok(entry
            .filter(|entry| entry.operation == kv::Operation::Put)
            .map(|entry| (entry.value.to_vec(), entry.revision)))
    }

    fn record_put(&mut self, key: &str, value: &[u8], expected: Option<u64>) -> Result<u64, TransportError> {
        let what = format!("write record `{key}`");
        let token = self.token(&what, key)?;
        self.check_connected(&what)?;
        self.handle.block_on(async {
            match expected {
                Some(revision) => self.update(&what, key, &token, value, revision).await,
                None => match self.update(&what, key, &token, value, 0).await {
                    Err(TransportError::Conflict { .. }) => {
                        // The key has a last message: a value (it exists), or a delete marker
                        // left by another tool, which counts as absent.
                        match self.guard(&what, self.records.entry(token.as_str())).await? {
                            Some(entry) if entry.operation != kv::Operation::Put => {
                                self.update(&what, key, &token, value, entry.revision).await
                            }
                            _ => Err(TransportError::Conflict { key: key.to_string() }),
                        }
                    }
                    other => other,
                },
            }
        })
    }

    fn records(&mut self, prefix: &str) -> Result<Vec<(String, Vec<u8>, u64)>, TransportError> {
        let what = format!("list records under `{prefix}`");
        self.check_connected(&what)?;
        self.handle.block_on(self.entries(&what, &self.records, prefix))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_keep_plain_characters_and_escape_the_rest() {
        assert_eq!(encode_token("pm1"), "pm1");
        assert_eq!(encode_token("h(3)"), "h=283=29");
        assert_eq!(encode_token("\"a b\""), "=22a=20b=22");
        assert_eq!(encode_token("a.b=c"), "a=2Eb=3Dc");
        assert_eq!(encode_token("é"), "=C3=A9");
        assert_eq!(decode_token("h=283=29").as_deref(), Some("h(3)"));
    }

    #[test]
    fn decode_refuses_what_encode_never_writes() {
        for bad in ["=", "=2", "=2g", "=2a", "a.b", "a b", "=61", "=FF", "h=28 "] {
            assert_eq!(decode_token(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(text in any::<String>()) {
            let token = encode_token(&text);
            prop_assert!(token.bytes().all(|b| is_plain(b) || b == b'='));
            prop_assert_eq!(decode_token(&token), Some(text));
        }
    }
}
