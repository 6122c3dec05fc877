//! Host-agent figures, printed (never asserted): signing and checking messages, and model
//! messages per second between two agents in one process (in-process transport, every
//! message signed, checked and logged).
//!
//! `cargo bench -p lcc-runtime --bench agents`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lcc_runtime::agent::config::{Config, model_hash};
use lcc_runtime::agent::hostlib::{Log, MemoryLog};
use lcc_runtime::agent::transport::Hub;
use lcc_runtime::agent::trust::{Envelope, Gate, HostKey, KeyRing, Limits, seal};
use lcc_runtime::agent::{Agent, now_ms};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Two peers passing a counter back and forth, found by discovery.
const PING_PONG: &str = "a(ping(N), P) ::\n    ball(N) => a(pong, Q) then\n    ball(M) <= a(pong, Q) then\n    a(ping(M), P)\n\n\
a(pong, Q) ::\n    ball(N) <= a(ping, P) then\n    ball(M) => a(ping, P) <- M is N + 1 then\n    a(pong, Q)\n";

fn sign_and_check() {
    let alice = HostKey::generate().unwrap();
    let mut ring = KeyRing::default();
    ring.insert_hex("alice", &alice.public_hex()).unwrap();
    let mut gate = Gate::new("bob", ring, Limits::default());
    let n = 20_000u64;
    let body = serde_json::json!({ "from": "p", "to": "q", "from_role": "ping", "to_role": "pong", "msg": "ball(1)" });
    let start = Instant::now();
    let mut sealed = Vec::with_capacity(n as usize);
    for seq in 1..=n {
        let e = Envelope {
            from: "alice".into(),
            to: "bob".into(),
            seq,
            sent_ms: now_ms(),
            kind: "lcc".into(),
            body: body.clone(),
        };
        sealed.push(seal(&alice, &e));
    }
    let signing = start.elapsed();
    let start = Instant::now();
    for bytes in &sealed {
        gate.open(bytes, now_ms()).unwrap();
    }
    let checking = start.elapsed();
    println!(
        "trust: {n} messages of {} bytes: seal {:.0}/s, gate {:.0}/s (size, form, key, signature, skew, replay)",
        sealed[0].len(),
        n as f64 / signing.as_secs_f64(),
        n as f64 / checking.as_secs_f64()
    );
}

fn two_agents() {
    let dir = std::env::temp_dir().join(format!("lcc-bench-agents-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("ping_pong.lcc");
    std::fs::write(&model, PING_PONG).unwrap();
    let keys = [("h1", HostKey::generate().unwrap()), ("h2", HostKey::generate().unwrap())];
    let ring: String = keys.iter().map(|(h, k)| format!("{h} = \"{}\"\n", k.public_hex())).collect();
    let hub = Hub::new(Duration::from_secs(3));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let mut logs = Vec::new();
    for ((host, key), peer) in keys.iter().zip(["a(ping(0), p)", "a(pong, q)"]) {
        std::fs::write(dir.join(format!("{host}.key")), key.to_hex()).unwrap();
        let text = format!(
            "host = \"{host}\"\nmodel = \"ping_pong.lcc\"\npeers = [\"{peer}\"]\ninterval_ms = 100\nrequest_timeout_ms = 5000\n\
             [models]\nallow = [\"{}\"]\n[transport]\nlease_ms = 300\n[trust]\nkey_file = \"{host}.key\"\n[trust.keys]\n{ring}",
            model_hash(PING_PONG.as_bytes())
        );
        let path = dir.join(format!("{host}.toml"));
        std::fs::write(&path, text).unwrap();
        let config = Config::load(&path).unwrap();
        let (log, lines) = Log::in_memory(host);
        logs.push(lines);
        let mut agent = Agent::new(config, Box::new(hub.connect()), log).unwrap();
        let stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || agent.run(&stop).unwrap()));
    }
    let count = |logs: &[MemoryLog]| -> usize { logs.iter().map(|l| l.events("recv").len()).sum() };
    // The agents listen for one lease before they act.
    std::thread::sleep(Duration::from_millis(600));
    let (start, before) = (Instant::now(), count(&logs));
    std::thread::sleep(Duration::from_secs(3));
    let (elapsed, after) = (start.elapsed(), count(&logs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let n = after - before;
    println!(
        "two agents, in-process transport: {n} model messages in {:.1} s = {:.0} messages/s \
         (each signed, checked, logged, after a registry read), {:.2} ms per round trip",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        2000.0 * elapsed.as_secs_f64() / n.max(1) as f64
    );
}

fn main() {
    sign_and_check();
    two_agents();
}
