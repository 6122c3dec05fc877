//! Host agents with the embedded transport: two agents in one process, no server, running
//! `stdlib/vm/balance.lcc` on in-memory hosts of one site until the load is shared.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_runtime::agent::Agent;
use lcc_runtime::agent::config::{Config, model_hash};
use lcc_runtime::agent::hostlib::{Log, MemoryLog};
use lcc_runtime::agent::hypervisor::{domain_xml, uuid_for};
use lcc_runtime::agent::transport::Hub;
use lcc_runtime::agent::trust::HostKey;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// VM names in the last inventory of a log.
fn vms(log: &MemoryLog) -> Vec<String> {
    log.events("inventory").last().map_or_else(Vec::new, |e| {
        e["domains"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
    })
}

fn write_config(dir: &Path, host: &str, vms: &[&str], ring: &str) -> Config {
    let domains: String = vms.iter().map(|vm| domain_xml(vm, &uuid_for(vm), 262_144, 1, 10.0)).collect();
    std::fs::write(
        dir.join(format!("{host}.xml")),
        format!("<node><memory>8388608</memory>{domains}</node>"),
    )
    .unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib/vm/balance.lcc");
    let text = format!(
        "host = \"{host}\"\nmodel = \"{}\"\npeers = [\"a(idle, {host})\"]\ninterval_ms = 200\nrequest_timeout_ms = 1000\n\
         [models]\nallow = [\"{}\"]\n[transport]\nlease_ms = 300\n[trust]\nkey_file = \"{host}.key\"\n[trust.keys]\n{ring}\n\
         [hypervisor]\nkind = \"memory\"\nnode = \"{host}.xml\"\nlive_uri = \"qemu+ssh://{host}/system\"\n",
        model.display(),
        model_hash(&std::fs::read(&model).unwrap())
    );
    let path = dir.join(format!("{host}.toml"));
    std::fs::write(&path, text).unwrap();
    Config::load(&path).unwrap()
}

#[test]
fn two_agents_on_the_embedded_transport_share_the_load() {
    let dir = std::env::temp_dir().join(format!("lcc-agents-in-process-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = [("h1", HostKey::generate().unwrap()), ("h2", HostKey::generate().unwrap())];
    let ring: String = keys.iter().map(|(h, k)| format!("{h} = \"{}\"\n", k.public_hex())).collect();
    for (host, key) in &keys {
        std::fs::write(dir.join(format!("{host}.key")), key.to_hex()).unwrap();
    }
    let hub = Hub::new(Duration::from_millis(300));
    let stop = Arc::new(AtomicBool::new(false));
    let placements: [(&str, &[&str]); 2] = [("h1", &["vm1", "vm2", "vm3", "vm4"]), ("h2", &[])];
    let mut logs = Vec::new();
    let mut threads = Vec::new();
    for (host, vms) in placements {
        let config = write_config(&dir, host, vms, &ring);
        let (log, lines) = Log::in_memory(host);
        logs.push(lines);
        let mut agent = Agent::new(config, Box::new(hub.connect()), log).unwrap();
        let stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || agent.run(&stop)));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(vms(&logs[0]).len() == 2 && vms(&logs[1]).len() == 2) {
        assert!(
            Instant::now() < deadline,
            "the load was never shared: h1 {:?}, h2 {:?}",
            vms(&logs[0]),
            vms(&logs[1])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let mut all: Vec<String> = logs.iter().flat_map(vms).collect();
    all.sort();
    assert_eq!(all, ["vm1", "vm2", "vm3", "vm4"], "every VM once");
    // Same site, and the target offers live migration: tried first, then the offline move
    // (the in-memory host cannot migrate live).
    let migrated = logs[0].events("migrated");
    assert_eq!(migrated.len(), 2);
    assert!(migrated.iter().all(|e| e["how"] == "offline"), "{migrated:?}");
    let notices = logs[0].events("notice");
    assert!(
        notices.iter().filter(|e| e["text"].as_str().unwrap().contains("live migration of")).count() >= 2,
        "{notices:?}"
    );
    assert_eq!(logs[1].events("adopted").len(), 2);
    for log in &logs {
        assert!(log.events("rejected").is_empty());
        assert_eq!(log.events("stopped").len(), 1, "the agent stopped when asked");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
