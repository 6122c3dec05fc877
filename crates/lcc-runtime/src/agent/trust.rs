//! Signing and checking every message between lcc host agents (ed25519, one key per host).
//!
//! A sender [`seal`]s an [`Envelope`] into one compact JSON object carrying a signature over a
//! canonical byte string (length-prefixed fields, body re-serialised with sorted keys), so the
//! signature does not depend on key order or whitespace of the received JSON. A receiver's [`Gate`]
//! checks size, form, recipient, key, signature, freshness and replay, in that order.
//!
//! Replay protection: per sender the gate keeps the highest accepted `seq` and a 1024-bit window of
//! accepted seqs below it (fixed memory per sender; only senders in the key ring get state), so
//! messages slightly out of order are accepted once each, and anything at or below
//! `highest - 1024` is rejected. The state is in memory only: after a receiver restart a captured
//! message can be replayed once, but only while its `sent_ms` is within `max_skew_ms` of the
//! receiver's clock, so the skew check bounds replays after a restart to the skew window (30 s by
//! default). Sequences start at the sender's clock in microseconds, so a restarted sender keeps
//! increasing (if its clock stepped back, its messages count as replays until it catches up).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value};

/// Domain separation: these bytes sign nothing but agent messages of wire version 1.
const SIGNING_CONTEXT: &[u8] = b"lcc-agent-message-v1\0";
/// Width of the replay window in sequence numbers (16 words of 64 bits).
const WINDOW: u64 = 1024;
const WIRE_FIELDS: [&str; 8] = ["v", "from", "to", "seq", "sent_ms", "kind", "body", "sig"];

/// A host's signing key (the 32-byte ed25519 seed).
pub struct HostKey {
    signing: SigningKey,
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostKey(public {})", self.public_hex()) // never the secret seed
    }
}

impl HostKey {
    pub fn generate() -> Result<HostKey, TrustError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| TrustError::NoRandomness(e.to_string()))?;
        Ok(HostKey { signing: SigningKey::from_bytes(&seed) })
    }

    /// 64 hex digits; surrounding whitespace is ignored.
    pub fn from_hex(text: &str) -> Result<HostKey, TrustError> {
        let seed = decode_hex::<32>(text.trim())
            .map_err(|detail| TrustError::BadKey { what: "host key (secret seed)".into(), detail })?;
        Ok(HostKey { signing: SigningKey::from_bytes(&seed) })
    }

    /// The secret seed, as 64 hex digits.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.signing.to_bytes())
    }

    /// Reads a file holding the hex seed; errors name the file.
    pub fn load(path: &Path) -> Result<HostKey, TrustError> {
        let file_error = |detail: String| TrustError::KeyFile { path: path.to_path_buf(), detail };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        HostKey::from_hex(&text).map_err(|e| match e {
            TrustError::BadKey { detail, .. } => file_error(detail),
            other => other,
        })
    }

    /// The public key as 64 hex digits: what other hosts put in their key ring.
    pub fn public_hex(&self) -> String {
        encode_hex(self.signing.verifying_key().as_bytes())
    }
}

/// Public keys of the hosts this agent trusts, by host name.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: HashMap<String, VerifyingKey>,
}

impl KeyRing {
    pub fn insert_hex(&mut self, host: &str, public_hex: &str) -> Result<(), TrustError> {
        let bad =
            |detail: String| TrustError::BadKey { what: format!("public key of host `{host}`"), detail };
        let bytes = decode_hex::<32>(public_hex.trim()).map_err(bad)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an ed25519 curve point".into()))?;
        self.keys.insert(host.to_string(), key);
        Ok(())
    }

    pub fn contains(&self, host: &str) -> bool {
        self.keys.contains_key(host)
    }
}

/// What travels between agents, before signing.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub from: String, // sending host
    pub to: String,   // receiving host
    pub seq: u64,     // strictly increasing per sender (see Sequence)
    pub sent_ms: u64, // sender's clock, ms since the Unix epoch
    pub kind: String, // e.g. "lcc" (a model message) or "host" (host-library traffic)
    pub body: Value,
}

/// The bytes the signature covers: independent of JSON key order and whitespace.
fn signed_bytes(envelope: &Envelope) -> Vec<u8> {
    let body = canonical(&envelope.body).to_string();
    let mut out = SIGNING_CONTEXT.to_vec();
    for field in [&envelope.from, &envelope.to, &envelope.kind, &body] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out.extend_from_slice(&envelope.seq.to_be_bytes());
    out.extend_from_slice(&envelope.sent_ms.to_be_bytes());
    out
}

/// The value with object keys sorted, whether or not serde_json keeps insertion order. Depth is
/// bounded by serde_json's parser (128 levels) on the receiving side.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        scalar => scalar.clone(),
    }
}

/// Signs: returns the wire bytes, one compact JSON object
/// `{"v":1,"from":..,"to":..,"seq":..,"sent_ms":..,"kind":..,"body":..,"sig":"<128 hex>"}`.
pub fn seal(key: &HostKey, envelope: &Envelope) -> Vec<u8> {
    let sig = encode_hex(&key.signing.sign(&signed_bytes(envelope)).to_bytes());
    let text = |s: &str| Value::from(s).to_string(); // a JSON string literal
    let (from, to, seq) = (text(&envelope.from), text(&envelope.to), envelope.seq);
    let (sent_ms, kind, body) = (envelope.sent_ms, text(&envelope.kind), canonical(&envelope.body));
    let head = format!(r#"{{"v":1,"from":{from},"to":{to},"seq":{seq},"sent_ms":{sent_ms},"kind":{kind},"#);
    format!(r#"{head}"body":{body},"sig":"{sig}"}}"#).into_bytes()
}

/// A sender's sequence numbers: starts at the current time in microseconds so that a restarted
/// agent keeps increasing; `next()` returns +1 each time.
#[derive(Debug)]
pub struct Sequence {
    last: u64,
}

impl Sequence {
    pub fn starting_now() -> Sequence {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        Sequence { last: since_epoch.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2)) }
    }

    #[allow(clippy::should_implement_trait)] // not an iterator: it never ends
    pub fn next(&mut self) -> u64 {
        self.last = self.last.saturating_add(1);
        self.last
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_skew_ms: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 1 << 20, max_skew_ms: 30_000 } // 1 MiB: domain XML travels in messages
    }
}

/// Accepted seqs of one sender: the highest, and one bit per seq in `highest - 1023 ..= highest`,
/// at position `seq % 1024` (a ring, so advancing only clears the positions it passes).
struct ReplayWindow {
    highest: u64,
    seen: [u64; (WINDOW / 64) as usize],
}

impl ReplayWindow {
    fn bit(&mut self, seq: u64) -> Option<(&mut u64, u64)> {
        let position = seq % WINDOW;
        Some((self.seen.get_mut(usize::try_from(position / 64).ok()?)?, 1 << (position % 64)))
    }

    /// Records `seq`; false if it was accepted before or is too old to tell.
    fn accept(&mut self, seq: u64) -> bool {
        if seq > self.highest {
            // Positions are reused every WINDOW seqs: clear those of the seqs passed over and
            // of `seq` itself (it still holds the bit of `seq - WINDOW`).
            for passed in (self.highest + 1).max(seq.saturating_sub(WINDOW - 1))..=seq {
                if let Some((word, mask)) = self.bit(passed) {
                    *word &= !mask;
                }
            }
            self.highest = seq;
        } else if self.highest - seq >= WINDOW {
            return false;
        }
        match self.bit(seq) {
            Some((word, mask)) if *word & mask == 0 => {
                *word |= mask;
                true
            }
            _ => false,
        }
    }
}

/// The receiving side: checks size, form, recipient, key, signature, freshness and replay.
pub struct Gate {
    me: String,
    ring: KeyRing,
    limits: Limits,
    windows: HashMap<String, ReplayWindow>,
}

impl Gate {
    pub fn new(me: &str, ring: KeyRing, limits: Limits) -> Gate {
        Gate { me: me.to_string(), ring, limits, windows: HashMap::new() }
    }

    /// Opens one received message. Only a message that passes every check updates the replay state.
    pub fn open(&mut self, bytes: &[u8], now_ms: u64) -> Result<Envelope, Rejection> {
        let envelope = verify(&self.ring, self.limits, bytes, Some(&self.me))?;
        let from = envelope.from.clone();
        let skew = i128::from(envelope.sent_ms) - i128::from(now_ms);
        if skew.unsigned_abs() > u128::from(self.limits.max_skew_ms) {
            let skew_ms = i64::try_from(skew).unwrap_or(if skew < 0 { i64::MIN } else { i64::MAX });
            return Err(Rejection::Stale { from, skew_ms });
        }
        // Replay is the last check, so a new sender's window is only created for an accepted seq.
        let window = self.windows.entry(from.clone()).or_insert_with(|| ReplayWindow {
            highest: envelope.seq.saturating_sub(1),
            seen: Default::default(),
        });
        if !window.accept(envelope.seq) {
            return Err(Rejection::Replayed { from, seq: envelope.seq });
        }
        Ok(envelope)
    }
}

/// Checks a signed message that is stored rather than delivered (e.g. a registry entry addressed to
/// "*"): size, form, key and signature only. It does not check the recipient, freshness or replay:
/// the same bytes verify each time they are read, so the caller must judge the content's age.
pub fn verify_signed(ring: &KeyRing, limits: Limits, bytes: &[u8]) -> Result<Envelope, Rejection> {
    verify(ring, limits, bytes, None)
}

/// The stateless checks, in the order of [`Gate::open`]; the recipient only when `me` is given.
fn verify(ring: &KeyRing, limits: Limits, bytes: &[u8], me: Option<&str>) -> Result<Envelope, Rejection> {
    if bytes.len() > limits.max_bytes {
        return Err(Rejection::Oversized { len: bytes.len(), max: limits.max_bytes });
    }
    let (envelope, sig) = parse(bytes)?;
    let from = envelope.from.clone();
    let Some(sig) = sig else { return Err(Rejection::Unsigned { from }) };
    if let Some(me) = me
        && envelope.to != me
    {
        return Err(Rejection::WrongRecipient { from, to: envelope.to });
    }
    let Some(key) = ring.keys.get(&from) else { return Err(Rejection::UnknownKey { from }) };
    if key.verify_strict(&signed_bytes(&envelope), &Signature::from_bytes(&sig)).is_err() {
        return Err(Rejection::BadSignature { from });
    }
    Ok(envelope)
}

/// Parses the wire form; the signature is `None` when the `sig` field is absent.
fn parse(bytes: &[u8]) -> Result<(Envelope, Option<[u8; 64]>), Rejection> {
    let bad = Rejection::Malformed;
    let value: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Value::Object(mut map) = value else { return Err(bad("not a JSON object".into())) };
    if let Some(key) = map.keys().find(|k| !WIRE_FIELDS.contains(&k.as_str())) {
        return Err(bad(format!("unexpected field `{key}`")));
    }
    // What a field holds, for the message: its JSON text, shortened (it could be a megabyte).
    let shown = |v: Option<&Value>| -> String {
        v.map_or("nothing".into(), |v| v.to_string().chars().take(40).collect())
    };
    if map.get("v").and_then(Value::as_u64) != Some(1) {
        return Err(bad(format!("field `v` is {}; only version 1 is understood", shown(map.get("v")))));
    }
    let text = |map: &mut Map<String, Value>, name: &str| match map.remove(name) {
        Some(Value::String(s)) => Ok(s),
        other => Err(bad(format!("field `{name}` must be a string, found {}", shown(other.as_ref())))),
    };
    let number = |map: &Map<String, Value>, name: &str| {
        let found = map.get(name);
        found
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(format!("field `{name}` must be a u64, found {}", shown(found))))
    };
    let (from, to, kind) = (text(&mut map, "from")?, text(&mut map, "to")?, text(&mut map, "kind")?);
    let (seq, sent_ms) = (number(&map, "seq")?, number(&map, "sent_ms")?);
    let body = map.remove("body").ok_or_else(|| bad(format!("message from host `{from}` has no `body`")))?;
    let sig = match map.remove("sig") {
        None => None,
        Some(Value::String(hex)) => {
            Some(decode_hex::<64>(&hex).map_err(|e| bad(format!("field `sig` from host `{from}`: {e}")))?)
        }
        Some(other) => {
            return Err(bad(format!("field `sig` must be a hex string, found {}", shown(Some(&other)))));
        }
    };
    Ok((Envelope { from, to, seq, sent_ms, kind, body }, sig))
}

/// Why a message was rejected; Display is a complete log line naming the sender when known.
#[derive(Clone, Debug, PartialEq)]
pub enum Rejection {
    Oversized { len: usize, max: usize },
    Malformed(String), // what is wrong: not JSON, missing or mistyped field, bad hex, version
    Unsigned { from: String },
    WrongRecipient { from: String, to: String },
    UnknownKey { from: String },
    BadSignature { from: String },        // forged or altered
    Stale { from: String, skew_ms: i64 }, // sent_ms minus our clock: positive if the sender is ahead
    Replayed { from: String, seq: u64 },
}

impl Rejection {
    /// Stable short name, for counters and log filters.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Oversized { .. } => "oversized",
            Rejection::Malformed(_) => "malformed",
            Rejection::Unsigned { .. } => "unsigned",
            Rejection::WrongRecipient { .. } => "wrong-recipient",
            Rejection::UnknownKey { .. } => "unknown-key",
            Rejection::BadSignature { .. } => "bad-signature",
            Rejection::Stale { .. } => "stale",
            Rejection::Replayed { .. } => "replayed",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (from, why) = match self {
            Rejection::Oversized { len, max } => {
                return write!(f, "message rejected unread: {len} bytes is over the limit of {max} bytes");
            }
            Rejection::Malformed(what) => return write!(f, "message rejected: malformed: {what}"),
            Rejection::Unsigned { from } => (from, "it has no signature (field `sig`)".to_string()),
            Rejection::WrongRecipient { from, to } => {
                (from, format!("it is addressed to host `{to}`, not us"))
            }
            Rejection::UnknownKey { from } => {
                (from, format!("no public key for `{from}` in the agent config ([trust.keys])"))
            }
            Rejection::BadSignature { from } => {
                (from, format!("bad signature (forged, altered, or not signed with the key of `{from}`)"))
            }
            Rejection::Stale { from, skew_ms: skew } => {
                let side = if *skew < 0 { "behind" } else { "ahead of" };
                (from, format!("its clock is {} ms {side} ours (check time sync)", skew.unsigned_abs()))
            }
            Rejection::Replayed { from, seq } => {
                (from, format!("seq {seq} was already accepted or is too old"))
            }
        };
        write!(f, "message from host `{from}` rejected: {why}")
    }
}

/// Errors of key handling.
#[derive(Debug)]
pub enum TrustError {
    BadKey { what: String, detail: String }, // not 64 hex digits, or not a valid public key
    KeyFile { path: PathBuf, detail: String }, // unreadable, or does not hold a key
    NoRandomness(String),
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::BadKey { what, detail } => {
                write!(f, "bad {what}: {detail} (expected the 64 hex digits of an ed25519 key)")
            }
            TrustError::KeyFile { path, detail } => write!(
                f,
                "host key file `{}`: {detail} (it must hold this host's ed25519 seed as 64 hex digits)",
                path.display()
            ),
            TrustError::NoRandomness(e) => write!(f, "cannot generate a host key: no system randomness: {e}"),
        }
    }
}

impl std::error::Error for TrustError {}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly `2 * N` hex digits, either case.
fn decode_hex<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let digits: Vec<u8> =
        text.chars().filter_map(|c| c.to_digit(16)).filter_map(|d| u8::try_from(d).ok()).collect();
    if digits.len() != text.len() || text.len() != 2 * N {
        // Never echo the text: it may be a secret seed.
        return Err(format!(
            "{} characters, {} of them hex digits; expected {}",
            text.len(),
            digits.len(),
            2 * N
        ));
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = pair.iter().fold(0, |acc, d| acc << 4 | d);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000_000;

    fn envelope(seq: u64) -> Envelope {
        let body = json!({"msg": "ask(x)", "role": {"id": 3, "name": "r"}, "xs": [1, 2.5, "z"]});
        Envelope { from: "alpha".into(), to: "beta".into(), seq, sent_ms: NOW, kind: "lcc".into(), body }
    }

    /// A gate on `beta` trusting `alpha` and `gamma`, with the keys of alpha and gamma.
    fn setup() -> (HostKey, HostKey, Gate) {
        let (alpha, gamma) = (HostKey::generate().unwrap(), HostKey::generate().unwrap());
        let mut ring = KeyRing::default();
        ring.insert_hex("alpha", &alpha.public_hex()).unwrap();
        ring.insert_hex("gamma", &gamma.public_hex()).unwrap();
        (alpha, gamma, Gate::new("beta", ring, Limits::default()))
    }

    fn code(gate: &mut Gate, bytes: &[u8]) -> &'static str {
        gate.open(bytes, NOW).map_or_else(|e| e.code(), |_| "accepted")
    }

    #[test]
    fn round_trip() {
        let (alpha, _, mut gate) = setup();
        let sealed = seal(&alpha, &envelope(7));
        assert!(sealed.starts_with(br#"{"v":1,"from":"alpha","to":"beta","seq":7,"#));
        assert_eq!(serde_json::from_slice::<Value>(&sealed).unwrap()["sig"].as_str().unwrap().len(), 128);
        assert_eq!(gate.open(&sealed, NOW + 5).unwrap(), envelope(7));
    }

    #[test]
    fn forgeries_are_bad_signatures_and_strangers_unknown_keys() {
        let (alpha, gamma, mut gate) = setup();
        let sealed = seal(&alpha, &envelope(1));
        let mut altered = sealed.clone();
        altered[sealed.windows(6).position(|w| w == b"ask(x)").unwrap()] = b'A';
        assert_eq!(gate.open(&altered, NOW).unwrap_err(), Rejection::BadSignature { from: "alpha".into() });
        // Gamma's key is trusted, but only for gamma: gamma signing as alpha is a forgery.
        assert_eq!(code(&mut gate, &seal(&gamma, &envelope(2))), "bad-signature");
        assert_eq!(code(&mut gate, &sealed), "accepted", "rejections must not consume the seq");
        let stranger = Envelope { from: "delta".into(), ..envelope(1) };
        let err = gate.open(&seal(&HostKey::generate().unwrap(), &stranger), NOW).unwrap_err();
        let expected = "message from host `delta` rejected: no public key for `delta` in the agent config \
                        ([trust.keys])";
        assert_eq!((err.code(), err.to_string().as_str()), ("unknown-key", expected));
    }

    #[test]
    fn replays_and_window() {
        let (alpha, _, mut gate) = setup();
        let mut send = |seq: u64| code(&mut gate, &seal(&alpha, &envelope(seq)));
        assert_eq!(send(5000), "accepted");
        assert_eq!(send(5000), "replayed");
        for seq in [5003, 5001, 5002, 4990, 3980] {
            assert_eq!(send(seq), "accepted", "out of order within the window: {seq}");
        }
        for seq in [5003, 5001, 5002, 4990, 3980, 5000] {
            assert_eq!(send(seq), "replayed", "second time: {seq}");
        }
        assert_eq!(send(3979), "replayed", "5003 - 1024: at the edge, never seen");
        assert_eq!(send(5003 + 130), "accepted");
        assert_eq!(send(5004), "accepted", "shares the ring slot of 3980, cleared by the advance");
        for seq in [5001, 5004, 4990] {
            assert_eq!(send(seq), "replayed", "after advancing: {seq}");
        }
        assert_eq!(send(5133 - 1024), "replayed", "at highest - window, never seen");
        assert_eq!(send(5133 - 1023), "accepted");
        assert_eq!(send(9000), "accepted", "a jump past the whole window");
        assert_eq!(send(5133 + 3 * 1024), "accepted", "5133's ring slot, cleared by the jump");
        for seq in [9000 - 1024, 9000 - 1025, 10] {
            assert_eq!(send(seq), "replayed", "too old, though its ring slot is empty: {seq}");
        }
        let sealed = seal(&alpha, &envelope(9000));
        assert_eq!(
            gate.open(&sealed, NOW).unwrap_err(),
            Rejection::Replayed { from: "alpha".into(), seq: 9000 }
        );
    }

    #[test]
    fn a_long_run_of_messages_is_accepted_once_each() {
        // Ring slots are reused every 1024 seqs: the 1025th message must not look like a replay
        // of the first (found by the agents benchmark).
        let (alpha, _, mut gate) = setup();
        for seq in 1..=3000 {
            let sealed = seal(&alpha, &envelope(seq));
            assert_eq!(code(&mut gate, &sealed), "accepted", "seq {seq}");
            assert_eq!(code(&mut gate, &sealed), "replayed", "seq {seq} again");
        }
    }

    #[test]
    fn verify_signed_checks_only_key_and_signature() {
        let (alpha, _, _) = setup();
        let mut ring = KeyRing::default();
        ring.insert_hex("alpha", &alpha.public_hex()).unwrap();
        let entry = Envelope { to: "*".into(), sent_ms: 1, ..envelope(1) };
        let sealed = seal(&alpha, &entry);
        for _ in 0..2 {
            assert_eq!(verify_signed(&ring, Limits::default(), &sealed).unwrap(), entry);
        }
        let forged = seal(&HostKey::generate().unwrap(), &entry);
        assert_eq!(verify_signed(&ring, Limits::default(), &forged).unwrap_err().code(), "bad-signature");
        let tiny = Limits { max_bytes: 10, ..Limits::default() };
        assert_eq!(verify_signed(&ring, tiny, &sealed).unwrap_err().code(), "oversized");
    }

    #[test]
    fn sequence_increases_from_now() {
        let mut seq = Sequence::starting_now();
        let (a, b) = (seq.next(), seq.next());
        assert_eq!(b, a + 1);
        assert!(a > 1_600_000_000_000_000, "microseconds since the epoch, got {a}");
    }

    #[test]
    fn stale_both_ways() {
        let (alpha, _, mut gate) = setup();
        let sealed = seal(&alpha, &envelope(1));
        let err = gate.open(&sealed, NOW + 30_001).unwrap_err();
        assert_eq!(err, Rejection::Stale { from: "alpha".into(), skew_ms: -30_001 });
        assert!(err.to_string().contains("`alpha`") && err.to_string().contains("behind"));
        assert_eq!(gate.open(&sealed, NOW - 30_001).unwrap_err().code(), "stale");
        assert!(gate.open(&sealed, NOW + 30_000).is_ok(), "stale rejections must not consume the seq");
    }

    #[test]
    fn oversized_checked_before_parsing() {
        let (_, _, mut gate) = setup();
        let garbage = vec![b'{'; 2 << 20];
        assert_eq!(
            gate.open(&garbage, NOW).unwrap_err(),
            Rejection::Oversized { len: 2 << 20, max: 1 << 20 }
        );
    }

    #[test]
    fn malformed_unsigned_and_misaddressed() {
        let (alpha, _, mut gate) = setup();
        let sealed = seal(&alpha, &envelope(1));
        let wire: Value = serde_json::from_slice(&sealed).unwrap();
        let mut edited = |field: &str, value: Option<Value>| {
            let mut copy = wire.clone();
            let map = copy.as_object_mut().unwrap();
            let _ = match value {
                Some(value) => map.insert(field.into(), value),
                None => map.remove(field),
            };
            gate.open(&serde_json::to_vec(&copy).unwrap(), NOW).unwrap_err()
        };
        let cases = [("v", json!(2)), ("seq", json!("1")), ("seq", json!(-1)), ("from", json!(7))];
        for (field, value) in cases.into_iter().chain([("sig", json!("zz".repeat(64))), ("extra", json!(1))])
        {
            let err = edited(field, Some(value));
            assert_eq!(err.code(), "malformed", "{err}");
            assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
        }
        assert_eq!(edited("sig", None), Rejection::Unsigned { from: "alpha".into() });
        let err = edited("to", Some(json!("gamma")));
        assert_eq!(err, Rejection::WrongRecipient { from: "alpha".into(), to: "gamma".into() });
        assert_eq!(code(&mut gate, &sealed[..sealed.len() - 3]), "malformed");
        assert_eq!(code(&mut gate, b"[1,2]"), "malformed");
    }

    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        let (alpha, _, mut gate) = setup();
        let sealed = seal(&alpha, &envelope(9));
        let wire: Value = serde_json::from_slice(&sealed).unwrap();
        let sig = wire["sig"].as_str().unwrap().to_uppercase();
        let body = r#"{"xs": [1, 2.5, "z"], "role": {"name": "r", "id": 3}, "msg": "ask(x)"}"#;
        let reordered = format!(
            "{{ \"sig\" : \"{sig}\",\n \"body\": {body}, \"kind\": \"lcc\", \"sent_ms\": {NOW}, \
             \"seq\": 9,\t\"to\": \"beta\", \"from\": \"alpha\", \"v\": 1 }}\n"
        );
        assert_eq!(gate.open(reordered.as_bytes(), NOW).unwrap(), envelope(9));
    }

    #[test]
    fn key_hex_round_trip_and_load() {
        let key = HostKey::generate().unwrap();
        assert_eq!(
            HostKey::from_hex(&format!("  {}\n", key.to_hex())).unwrap().public_hex(),
            key.public_hex()
        );
        assert_eq!(key.public_hex().len(), 64);
        assert_ne!(key.to_hex(), key.public_hex());
        assert!(!format!("{key:?}").contains(&key.to_hex()), "Debug must not leak the seed");
        for bad in ["g".repeat(64), "abcd".into(), format!("+{}", &key.to_hex()[1..])] {
            assert!(HostKey::from_hex(&bad).is_err(), "{bad}");
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let path = std::env::temp_dir().join(format!("lcc-trust-{}-{nanos}.key", std::process::id()));
        std::fs::write(&path, format!("{}\n", key.to_hex())).unwrap();
        let loaded = HostKey::load(&path);
        std::fs::write(&path, "not a key").unwrap();
        let bad = HostKey::load(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded.unwrap().public_hex(), key.public_hex());
        let missing = HostKey::load(&path).unwrap_err();
        for err in [bad, missing] {
            assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        }
    }

    #[test]
    fn key_ring_and_display_name_the_host() {
        let mut ring = KeyRing::default();
        let err = ring.insert_hex("gamma", "12").unwrap_err();
        assert!(err.to_string().contains("`gamma`") && !ring.contains("gamma"), "{err}");
        ring.insert_hex("gamma", &HostKey::generate().unwrap().public_hex()).unwrap();
        assert!(ring.contains("gamma"));
        let from = || "alpha".to_string();
        let all = [
            Rejection::Unsigned { from: from() },
            Rejection::WrongRecipient { from: from(), to: "gamma".into() },
            Rejection::BadSignature { from: from() },
            Rejection::Stale { from: from(), skew_ms: 40_000 },
            Rejection::Replayed { from: from(), seq: 3 },
        ];
        for rejection in &all {
            assert!(rejection.to_string().starts_with("message from host `alpha` rejected: "), "{rejection}");
        }
    }
}
