//! Host agents as separate processes over a real NATS server on loopback: the offline
//! migration workflow across two sites, load balancing compared with `lcc simulate`, crashes
//! and lost messages, and forged or malformed traffic.
#![cfg(feature = "nats")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;
#[path = "agents/harness.rs"]
mod harness;

use harness::{Cluster, HostSpec};
use std::time::Duration;

fn stdlib(path: &str) -> std::path::PathBuf {
    common::root().join("stdlib").join(path)
}

/// Four agents over two sites run `stdlib/vm/offline_migration.lcc`: the overloaded pm1
/// (site 1) moves its service VM `web1` to the underloaded pm2 (site 2). pm3 (site 1) and
/// pm4 (site 2) carry the two clients of the service, which are redirected to the new service
/// before the old VM is deleted. Each site has its own NATS server; site 2's is a leaf node of
/// site 1's, which holds the registry (the two-site setup of docs/agents.md).
#[test]
fn offline_migration_moves_a_service_vm_from_site_1_to_site_2() {
    let mut pm1 = HostSpec::new("pm1", "site1");
    pm1.peers = vec!["a(initial, pm1)".into(), "a(service, sid1)".into()];
    pm1.vms = vec![("web1".into(), 30.0), ("db1".into(), 60.0)];
    let mut pm2 = HostSpec::new("pm2", "site2");
    pm2.peers = vec!["a(initial, pm2)".into(), "a(service, sid2)".into()];
    pm2.vms = vec![("cache2".into(), 10.0)];
    let mut pm3 = HostSpec::new("pm3", "site1");
    pm3.peers = vec!["a(initial, pm3)".into(), "a(client, c1)".into()];
    pm3.vms = vec![("app3".into(), 50.0)];
    let mut pm4 = HostSpec::new("pm4", "site2");
    pm4.peers = vec!["a(initial, pm4)".into(), "a(client, c2)".into()];
    pm4.vms = vec![("app4".into(), 50.0)];
    let Some(mut cluster) =
        Cluster::new_two_sites("offline", &stdlib("vm/offline_migration.lcc"), vec![pm1, pm2, pm3, pm4])
    else {
        return;
    };
    let leaf = cluster.leaf.as_ref().unwrap().url();
    for (host, on_leaf) in [("pm1", false), ("pm2", true), ("pm3", false), ("pm4", true)] {
        let config = std::fs::read_to_string(cluster.config_path(host)).unwrap();
        assert_eq!(config.contains(&leaf), on_leaf, "{host} connects to its own site's server");
    }
    cluster.start_all();
    cluster.wait_for(Duration::from_secs(60), "pm1 to delete web1", |c| {
        c.events_named("pm1", "deleted").iter().any(|e| e["vm"] == "web1")
    });
    // Give the last events a moment to reach the logs, then stop every agent.
    std::thread::sleep(Duration::from_millis(300));
    cluster.kill_all();

    let pm1 = cluster.inventory("pm1");
    let pm2 = cluster.inventory("pm2");
    assert!(!pm1.contains_key("web1"), "web1 is still on pm1: {pm1:?}");
    assert!(pm1.contains_key("db1"), "db1 must stay on pm1: {pm1:?}");
    let (uuid, running, load) = pm2.get("web1").cloned().expect("web1 on pm2");
    assert_eq!(uuid, lcc_runtime::agent::hypervisor::uuid_for("web1"), "the uuid travels with the VM");
    assert!(running, "web1 runs on pm2");
    assert_eq!(load, 30.0, "the load metadata travels with the VM");
    assert!(pm2.contains_key("cache2"));
    assert_eq!(cluster.inventory("pm3").keys().collect::<Vec<_>>(), ["app3"], "pm3 is untouched");
    assert_eq!(cluster.inventory("pm4").keys().collect::<Vec<_>>(), ["app4"], "pm4 is untouched");
    // Both clients were redirected from the old service to the new one, before the old VM went.
    for (host, client) in [("pm3", "c1"), ("pm4", "c2")] {
        let redirected = cluster.events_named(host, "redirected");
        assert!(
            redirected.iter().any(|e| e["client"] == client && e["from"] == "sid1" && e["to"] == "sid2"),
            "{client} was not redirected from sid1 to sid2: {redirected:?}\n{}",
            cluster.all_logs()
        );
    }
    assert!(cluster.events_named("pm2", "service-started").iter().any(|e| e["service"] == "sid2"));
    assert!(cluster.events_named("pm1", "service-stopped").iter().any(|e| e["service"] == "sid1"));
    // Nothing was rejected and nobody timed out on the way.
    for host in ["pm1", "pm2", "pm3", "pm4"] {
        assert!(cluster.events_named(host, "rejected").is_empty(), "{}", cluster.all_logs());
        assert!(cluster.events_named(host, "timeout").is_empty(), "{}", cluster.all_logs());
    }
    // Every VM exists exactly once.
    for (uuid, hosts) in cluster.placements() {
        assert_eq!(hosts.len(), 1, "VM {uuid} is on {hosts:?}");
    }
    // And libvirt says the same: each host's test-driver state, read back through libvirt.
    #[cfg(feature = "libvirt")]
    for host in ["pm1", "pm2", "pm3", "pm4"] {
        assert_eq!(cluster.test_driver_domains(host), cluster.inventory(host), "{host}'s libvirt state");
    }
}

/// What `lcc simulate` ends with for a seed: the final load of every host.
fn simulate(dir: &std::path::Path, seed: u64) -> serde_json::Value {
    let out = common::run_lcc(
        dir,
        &[
            "simulate",
            stdlib("vm/balance.lcc").to_str().unwrap(),
            "--hosts",
            "4",
            "--vms",
            "8",
            "--vm-load",
            "10:10",
            "--drift",
            "0",
            "--seed",
            &seed.to_string(),
            "--export-nodes",
            "nodes",
            "--format",
            "json",
        ],
        None,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// Four hosts over two sites, their VMs placed by `lcc simulate --seed 1 --export-nodes`.
fn balance_cluster(name: &str, faults: &str) -> Option<(Cluster, serde_json::Value)> {
    let scratch = common::TempDir::new(&format!("{name}-sim"));
    let expected = simulate(scratch.path(), 1);
    let hosts = (1..=4)
        .map(|i| {
            let mut h = HostSpec::new(&format!("h{i}"), if i <= 2 { "site1" } else { "site2" });
            h.peers = vec![format!("a(idle, h{i})")];
            // Kept after the scratch directory goes: copy the node file next to the config.
            let node = std::env::temp_dir().join(format!("lcc-{name}-{}-h{i}.xml", std::process::id()));
            std::fs::copy(scratch.path().join(format!("nodes/h{i}.xml")), &node).unwrap();
            h.node = Some(node);
            h.faults = faults.to_string();
            h
        })
        .collect();
    let cluster = Cluster::new(name, &stdlib("vm/balance.lcc"), hosts)?;
    Some((cluster, expected))
}

fn loads(cluster: &Cluster) -> Vec<f64> {
    (1..=4).map(|i| cluster.inventory(&format!("h{i}")).values().map(|d| d.2).sum::<f64>()).collect()
}

/// The balance policy across four agent processes ends where `lcc simulate` ends with the
/// same seed and loads: with 8 VMs of load 10 on 4 hosts, the only state with no host
/// outside the band is 2 VMs (load 20) on every host, whichever VM moves where.
#[test]
fn balance_across_agents_ends_as_lcc_simulate_does() {
    let Some((mut cluster, expected)) = balance_cluster("balance", "") else { return };
    let final_loads: Vec<f64> =
        expected["final_loads"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(expected["migrations"], 3, "seed 1 needs three migrations in lcc simulate");
    let start = loads(&cluster);
    assert_ne!(start, final_loads, "the hosts start unbalanced");
    cluster.start_all();
    cluster.wait_for(Duration::from_secs(60), "the loads of lcc simulate", |c| loads(c) == final_loads);
    // Stable: nothing moves in the next few intervals.
    std::thread::sleep(Duration::from_millis(cluster.interval_ms * 6));
    cluster.kill_all();
    assert_eq!(loads(&cluster), final_loads, "{}", cluster.all_logs());
    let placements = cluster.placements();
    assert_eq!(placements.len(), 8, "every VM is somewhere: {placements:?}");
    for (uuid, hosts) in &placements {
        assert_eq!(hosts.len(), 1, "VM {uuid} is on {hosts:?}");
    }
    let migrated: usize = (1..=4).map(|i| cluster.events_named(&format!("h{i}"), "migrated").len()).sum();
    assert!(migrated >= 3, "at least the three migrations of lcc simulate happened: {migrated}");
    for i in 1..=4 {
        assert!(cluster.events_named(&format!("h{i}"), "rejected").is_empty(), "{}", cluster.all_logs());
    }
}

/// Agents killed (SIGKILL) at random points while VMs move, and a fifth of all model messages
/// dropped: afterwards every VM exists exactly once.
#[test]
fn chaos_kills_and_lost_messages_leave_every_vm_exactly_once() {
    // Sixteen VMs on h1 and none elsewhere: twelve moves to make, one offer per interval, so
    // VMs are moving during the whole chaos phase.
    let hosts = (1..=4)
        .map(|i| {
            let mut h = HostSpec::new(&format!("h{i}"), if i <= 2 { "site1" } else { "site2" });
            h.peers = vec![format!("a(idle, h{i})")];
            if i == 1 {
                h.vms = (1..=16).map(|v| (format!("vm{v}"), 10.0)).collect();
            }
            h.faults = "drop_messages = 0.2\nseed = 7".into();
            h
        })
        .collect();
    let Some(mut cluster) = Cluster::new("chaos", &stdlib("vm/balance.lcc"), hosts) else { return };
    cluster.start_all();
    let mut rng = lcc_runtime::vm::Rng::new(2026);
    let mut kills = 0;
    let mut mid_migration = 0;
    let mut accepted_seen = 0;
    let chaos_until = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < chaos_until {
        // A host that just accepted an offer: its partner is about to move a VM to it. Kill
        // one of the two a few milliseconds later, somewhere in the move.
        let accepted: Vec<(String, String)> = (1..=4)
            .flat_map(|i| cluster.events_named(&format!("h{i}"), "send"))
            .filter(|e| e["msg"].as_str().is_some_and(|m| m.contains("migration(\"ok\")")))
            .map(|e| (e["from"].as_str().unwrap().to_string(), e["to"].as_str().unwrap().to_string()))
            .collect();
        let victim = if accepted.len() > accepted_seen {
            accepted_seen = accepted.len();
            let (target, source) = accepted.last().unwrap().clone();
            std::thread::sleep(Duration::from_millis(rng.below(40) as u64));
            mid_migration += 1;
            if rng.below(2) == 0 { source } else { target }
        } else if rng.below(50) == 0 {
            format!("h{}", 1 + rng.below(4))
        } else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        cluster.kill(&victim);
        kills += 1;
        std::thread::sleep(Duration::from_millis(100 + rng.below(300) as u64));
        cluster.start(&victim);
    }
    // Calm: everyone up for a while, so every host reconciles (at start and every 5 intervals).
    std::thread::sleep(Duration::from_millis(cluster.interval_ms * 12 + 1500));
    cluster.kill_all();
    let placements = cluster.placements();
    assert_eq!(placements.len(), 16, "no VM is lost: {placements:?}\n{}", cluster.all_logs());
    for (uuid, hosts) in &placements {
        assert_eq!(hosts.len(), 1, "VM {uuid} is on {hosts:?}\n{}", cluster.all_logs());
    }
    assert_eq!(loads(&cluster).iter().sum::<f64>(), 160.0);
    let dropped: usize = (1..=4).map(|i| cluster.events_named(&format!("h{i}"), "dropped").len()).sum();
    let migrations: usize = (1..=4).map(|i| cluster.events_named(&format!("h{i}"), "migrated").len()).sum();
    let adopted: usize = (1..=4).map(|i| cluster.events_named(&format!("h{i}"), "adopted").len()).sum();
    let reconciled: usize = (1..=4).map(|i| cluster.events_named(&format!("h{i}"), "reconciled").len()).sum();
    println!(
        "chaos: {kills} kills ({mid_migration} in a migration), {dropped} messages dropped, {adopted} VMs adopted, \
         {migrations} migrations completed, {reconciled} copies reconciled"
    );
    assert!(
        kills >= 6 && mid_migration >= 3 && dropped > 0,
        "the chaos happened: {kills} kills, {dropped} drops"
    );
}

/// Forged, unknown, replayed, oversized, malformed and unsigned messages sent to an agent's
/// subject are each rejected with a log line naming why; a model off the allow-list does not
/// run at all.
#[test]
fn forged_replayed_oversized_and_malformed_messages_are_rejected() {
    use lcc_runtime::agent::nats::{Nats, NatsOptions};
    use lcc_runtime::agent::transport::Transport;
    use lcc_runtime::agent::trust::{Envelope, HostKey, seal};
    let mut h1 = HostSpec::new("h1", "site1");
    h1.peers = vec!["a(idle, h1)".into()];
    h1.trust = "max_message_bytes = 65536".into();
    let h2 = HostSpec::new("h2", "site1");
    let Some(mut cluster) = Cluster::new("trust", &stdlib("vm/balance.lcc"), vec![h1, h2]) else { return };
    cluster.start("h1");
    cluster.wait_for(Duration::from_secs(30), "h1 to start", |c| !c.events_named("h1", "started").is_empty());
    let mut nats = Nats::connect(&NatsOptions::new(&cluster.nats.url(), "test")).unwrap();
    let now = lcc_runtime::agent::now_ms();
    let message = |from: &str, seq: u64| Envelope {
        from: from.into(),
        to: "h1".into(),
        seq,
        sent_ms: now,
        kind: "lcc".into(),
        body: serde_json::json!({ "from": "h2", "to": "h1", "from_role": "overloaded", "to_role": "underloaded", "msg": "hello" }),
    };
    let h2_key = &cluster.keys["h2"];
    let stranger = HostKey::generate().unwrap();
    // Signed by a key that is not h2's, claiming to be h2.
    nats.send("h1", &seal(&stranger, &message("h2", now * 1000 + 1))).unwrap();
    // From a host with no key in the config.
    nats.send("h1", &seal(&stranger, &message("mallory", now * 1000 + 2))).unwrap();
    // A genuine message of h2, then the same bytes again.
    let genuine = seal(h2_key, &message("h2", now * 1000 + 3));
    nats.send("h1", &genuine).unwrap();
    nats.send("h1", &genuine).unwrap();
    // 100 kB (over this agent's 64 KiB limit), and text that is not a message.
    nats.send("h1", &vec![b'x'; 100_000]).unwrap();
    nats.send("h1", b"{\"v\":1,\"from\":").unwrap();
    // A message with its signature removed.
    let text = String::from_utf8(seal(h2_key, &message("h2", now * 1000 + 4))).unwrap();
    let unsigned = text.split(",\"sig\"").next().unwrap().to_string() + "}";
    nats.send("h1", unsigned.as_bytes()).unwrap();
    let expected =
        ["bad-signature", "unknown-key", "replayed", "oversized", "malformed", "unsigned", "impostor"];
    cluster.wait_for(Duration::from_secs(30), "seven rejections", |c| {
        c.events_named("h1", "rejected").len() >= 7
    });
    let rejected = cluster.events_named("h1", "rejected");
    let codes: Vec<&str> = rejected.iter().map(|e| e["code"].as_str().unwrap()).collect();
    for code in expected {
        assert!(codes.contains(&code), "no `{code}` rejection in {rejected:#?}");
    }
    let line = |code: &str| {
        rejected.iter().find(|e| e["code"] == code).unwrap()["reason"].as_str().unwrap().to_string()
    };
    assert!(line("unknown-key").contains("mallory"), "{}", line("unknown-key"));
    assert!(line("bad-signature").contains("h2"), "{}", line("bad-signature"));
    assert!(line("replayed").contains("h2"), "{}", line("replayed"));
    assert!(line("oversized").contains("100000"), "{}", line("oversized"));
    // The genuine message got through the gate, but h2 never announced peer h2: it is not
    // delivered either (a host speaks only for its own peers).
    assert!(line("impostor").contains("h2"), "{}", line("impostor"));
    assert!(cluster.events_named("h1", "recv").is_empty(), "nothing was delivered");

    // A model whose hash is not on the allow-list is refused before it runs.
    cluster.kill_all();
    let config = std::fs::read_to_string(cluster.config_path("h1")).unwrap();
    let other = common::root().join("stdlib/vm/powersave.lcc");
    let config =
        config.replace(&stdlib("vm/balance.lcc").display().to_string(), &other.display().to_string());
    let path = cluster.dir.write("h1-other.toml", config.as_bytes());
    let out = common::run_lcc(cluster.dir.path(), &["agent", "--config", path.to_str().unwrap()], None, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is not on the allow-list"), "{}", out.stderr);
    let refused = cluster.events_named("h1", "refused-model");
    assert!(
        refused.last().is_some_and(|e| e["reason"].as_str().unwrap().contains("powersave.lcc")),
        "{refused:?}"
    );
}

/// Every model message h1 and h2 send arrives with a damaged signature (a forger on the wire):
/// each is rejected, the offer of the overloaded h1 is never answered, and h1 follows the
/// failure path back to idle. No VM moves.
#[test]
fn rejected_messages_send_the_waiting_peer_down_the_failure_path() {
    let mut h1 = HostSpec::new("h1", "site1");
    h1.peers = vec!["a(idle, h1)".into()];
    h1.vms = (1..=4).map(|v| (format!("vm{v}"), 10.0)).collect();
    h1.faults = "corrupt_messages = 1.0".into();
    let mut h2 = HostSpec::new("h2", "site2");
    h2.peers = vec!["a(idle, h2)".into()];
    h2.faults = "corrupt_messages = 1.0".into();
    let Some(mut cluster) = Cluster::new("corrupt", &stdlib("vm/balance.lcc"), vec![h1, h2]) else { return };
    cluster.start_all();
    cluster.wait_for(Duration::from_secs(60), "h1 to give up an offer", |c| {
        c.events_named("h1", "timeout").iter().any(|e| e["back_to"] == "idle")
    });
    cluster.kill_all();
    let rejected = cluster.events_named("h2", "rejected");
    assert!(
        rejected.iter().any(|e| e["code"] == "bad-signature" && e["from"] == "h1"),
        "h2 did not reject h1's forged offer: {rejected:?}"
    );
    assert!(cluster.events_named("h2", "recv").is_empty(), "a forged message was delivered");
    assert!(
        cluster
            .events_named("h1", "send")
            .iter()
            .any(|e| e["msg"].as_str().unwrap().starts_with("readyToMigrate"))
    );
    assert_eq!(cluster.inventory("h1").len(), 4, "no VM moved");
    assert!(cluster.inventory("h2").is_empty(), "no VM moved");
}
