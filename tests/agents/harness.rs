//! A cluster of `lcc agent` processes on loopback: a `nats-server -js` of its own, one key
//! per host, node files for the hosts' hypervisors, and the agents' JSON logs.

use crate::common::TempDir;
use lcc_runtime::agent::config::model_hash;
use lcc_runtime::agent::hypervisor::{domain_xml, uuid_for};
use lcc_runtime::agent::trust::HostKey;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `nats-server` child process, killed on drop.
pub struct Nats {
    child: Child,
    pub port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Nats {
    /// Starts a server, or `None` (test skipped) when it is not installed, except under CI.
    pub fn start(store: &Path) -> Option<Nats> {
        let port = free_port();
        let mut command = Command::new("nats-server");
        command.args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"]).arg(store);
        Nats::spawn(command, port)
    }

    /// Two sites: a hub with JetStream (domain `hub`) listening for leaf nodes, and a server
    /// with no JetStream joined to it as a leaf node (docs/agents.md, "Two sites").
    pub fn start_two_sites(dir: &Path) -> Option<(Nats, Nats)> {
        let (hub_port, link_port, leaf_port) = (free_port(), free_port(), free_port());
        let hub_conf = dir.join("hub.conf");
        let leaf_conf = dir.join("leaf.conf");
        std::fs::write(
            &hub_conf,
            format!(
                "listen: 127.0.0.1:{hub_port}\njetstream {{ store_dir: \"{}\", domain: hub }}\n\
                 leafnodes {{ listen: 127.0.0.1:{link_port} }}\n",
                dir.join("hub-store").display()
            ),
        )
        .unwrap();
        std::fs::write(
            &leaf_conf,
            format!(
                "listen: 127.0.0.1:{leaf_port}\n\
                 leafnodes {{ remotes = [ {{ url: \"nats-leaf://127.0.0.1:{link_port}\" }} ] }}\n"
            ),
        )
        .unwrap();
        let mut command = Command::new("nats-server");
        command.arg("-c").arg(&hub_conf);
        let hub = Nats::spawn(command, hub_port)?;
        let mut command = Command::new("nats-server");
        command.arg("-c").arg(&leaf_conf);
        let leaf = Nats::spawn(command, leaf_port)?;
        // The leaf dials the hub and retries every second: wait until a message crosses.
        use lcc_runtime::agent::nats::{Nats as Client, NatsOptions};
        use lcc_runtime::agent::transport::Transport;
        let options = |port: u16| NatsOptions {
            jetstream_domain: Some("hub".into()),
            ..NatsOptions::new(&format!("nats://127.0.0.1:{port}"), "probe")
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            assert!(Instant::now() < deadline, "the leaf node never linked to the hub");
            if let (Ok(mut on_hub), Ok(mut on_leaf)) =
                (Client::connect(&options(hub_port)), Client::connect(&options(leaf_port)))
                && on_hub.listen("probe").is_ok()
            {
                let _ = on_leaf.send("probe", b"up");
                if matches!(on_hub.recv(Duration::from_millis(300)), Ok(Some(_))) {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some((hub, leaf))
    }

    fn spawn(mut command: Command, port: u16) -> Option<Nats> {
        let spawned = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "nats-server is not installed, and CI is set: scripts/test-all must install it"
                );
                println!("skipped: nats-server not installed (scripts/test-all installs it)");
                return None;
            }
            Err(err) => panic!("cannot start nats-server: {err}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not accept connections on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Nats { child, port })
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One host of a cluster.
#[derive(Clone, Debug)]
pub struct HostSpec {
    pub name: String,
    pub site: String,
    pub peers: Vec<String>,
    /// Its VMs: (name, load). Or a node file of its own.
    pub vms: Vec<(String, f64)>,
    pub node: Option<PathBuf>,
    /// Extra top-level keys of its config (before any table).
    pub extra: String,
    /// Extra `[faults]` keys.
    pub faults: String,
    /// Extra `[trust]` keys.
    pub trust: String,
}

impl HostSpec {
    pub fn new(name: &str, site: &str) -> HostSpec {
        HostSpec {
            name: name.into(),
            site: site.into(),
            peers: Vec::new(),
            vms: Vec::new(),
            node: None,
            extra: String::new(),
            faults: String::new(),
            trust: String::new(),
        }
    }
}

pub struct Cluster {
    pub dir: TempDir,
    pub nats: Nats,
    /// Site 2's own server, a leaf node of `nats` (the hub), when the sites are apart.
    pub leaf: Option<Nats>,
    pub hosts: Vec<HostSpec>,
    pub model: PathBuf,
    pub keys: BTreeMap<String, HostKey>,
    pub children: BTreeMap<String, Child>,
    pub interval_ms: u64,
}

/// Whether agents use libvirt's test driver (lcc built with `libvirt`) or the in-memory host.
pub const LIBVIRT: bool = cfg!(feature = "libvirt");

impl Cluster {
    /// All hosts on one NATS server.
    pub fn new(name: &str, model: &Path, hosts: Vec<HostSpec>) -> Option<Cluster> {
        let dir = TempDir::new(name);
        let store = dir.path().join("nats-store");
        std::fs::create_dir_all(&store).unwrap();
        let nats = Nats::start(&store)?;
        Some(Cluster::with_servers(dir, nats, None, model, hosts))
    }

    /// Hosts of `site2` on a server of their own, a leaf node of the hub the others use.
    pub fn new_two_sites(name: &str, model: &Path, hosts: Vec<HostSpec>) -> Option<Cluster> {
        let dir = TempDir::new(name);
        let (hub, leaf) = Nats::start_two_sites(dir.path())?;
        Some(Cluster::with_servers(dir, hub, Some(leaf), model, hosts))
    }

    fn with_servers(
        dir: TempDir,
        nats: Nats,
        leaf: Option<Nats>,
        model: &Path,
        hosts: Vec<HostSpec>,
    ) -> Cluster {
        let keys = hosts.iter().map(|h| (h.name.clone(), HostKey::generate().unwrap())).collect();
        let cluster = Cluster {
            dir,
            nats,
            leaf,
            hosts,
            model: model.to_path_buf(),
            keys,
            children: BTreeMap::new(),
            interval_ms: 300,
        };
        for host in &cluster.hosts {
            cluster.write_config(host);
        }
        cluster
    }

    fn write_config(&self, host: &HostSpec) {
        let dir = self.dir.path();
        let key_file = dir.join(format!("{}.key", host.name));
        std::fs::write(&key_file, self.keys[&host.name].to_hex()).unwrap();
        let node = match &host.node {
            Some(node) => node.clone(),
            None => {
                let domains: String = host
                    .vms
                    .iter()
                    .map(|(vm, load)| domain_xml(vm, &uuid_for(vm), 524_288, 1, *load))
                    .collect();
                let path = dir.join(format!("{}.xml", host.name));
                std::fs::write(
                    &path,
                    format!(
                        "<node>\n<cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads>\
                         <active>8</active><mhz>2000</mhz></cpu>\n<memory>16777216</memory>\n{domains}</node>\n"
                    ),
                )
                .unwrap();
                path
            }
        };
        let hypervisor = if LIBVIRT {
            format!("kind = \"libvirt\"\nuri = \"test://{}\"", node.display())
        } else {
            format!("kind = \"memory\"\nnode = \"{}\"\nmemory_mib = 16384", node.display())
        };
        let model_bytes = std::fs::read(&self.model).unwrap();
        let peers: Vec<String> = host.peers.iter().map(|p| format!("\"{p}\"")).collect();
        let keys: String =
            self.keys.iter().map(|(name, key)| format!("{name} = \"{}\"\n", key.public_hex())).collect();
        let config = format!(
            "host = \"{name}\"\nsite = \"{site}\"\nmodel = \"{model}\"\npeers = [{peers}]\ninterval_ms = {interval}\n\
             request_timeout_ms = {timeout}\nlog = \"{name}.log\"\nstop_after_ms = 120000\n{extra}\n\
             [models]\nallow = [\"{hash}\"]\n\n[transport]\nurl = \"{url}\"\ncluster = \"test\"\nlease_ms = 1000\n\n\
             [trust]\nkey_file = \"{name}.key\"\n{trust}\n[trust.keys]\n{keys}\n[hypervisor]\n{hypervisor}\n\n[faults]\n{faults}\n",
            name = host.name,
            site = host.site,
            model = self.model.display(),
            peers = peers.join(", "),
            interval = self.interval_ms,
            timeout = self.interval_ms * 5,
            extra = host.extra,
            hash = model_hash(&model_bytes),
            url = match &self.leaf {
                Some(leaf) if host.site == "site2" => format!("{}\"\njetstream_domain = \"hub", leaf.url()),
                Some(_) => format!("{}\"\njetstream_domain = \"hub", self.nats.url()),
                None => self.nats.url(),
            },
            faults = host.faults,
            trust = host.trust,
        );
        std::fs::write(dir.join(format!("{}.toml", host.name)), config).unwrap();
    }

    pub fn config_path(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("{host}.toml"))
    }

    pub fn log_path(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("{host}.log"))
    }

    /// Starts (or restarts) the agent of `host`.
    pub fn start(&mut self, host: &str) {
        let child = Command::new(env!("CARGO_BIN_EXE_lcc"))
            .args(["agent", "--config"])
            .arg(self.config_path(host))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lcc agent");
        self.children.insert(host.to_string(), child);
    }

    pub fn start_all(&mut self) {
        let names: Vec<String> = self.hosts.iter().map(|h| h.name.clone()).collect();
        for name in names {
            self.start(&name);
        }
    }

    /// Kills an agent at once (SIGKILL), as a crash would.
    pub fn kill(&mut self, host: &str) {
        if let Some(mut child) = self.children.remove(host) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn kill_all(&mut self) {
        let names: Vec<String> = self.children.keys().cloned().collect();
        for name in names {
            self.kill(&name);
        }
    }

    /// The events of a host's log so far.
    pub fn events(&self, host: &str) -> Vec<Json> {
        let text = std::fs::read_to_string(self.log_path(host)).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    pub fn events_named(&self, host: &str, event: &str) -> Vec<Json> {
        self.events(host).into_iter().filter(|e| e["event"] == event).collect()
    }

    /// Waits until `done` holds, failing with every log when it does not within `limit`.
    pub fn wait_for(&mut self, limit: Duration, what: &str, mut done: impl FnMut(&Cluster) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(self) {
            let mut exited = None;
            for (name, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        std::io::Read::read_to_string(&mut e, &mut err).unwrap();
                    }
                    exited = Some(format!("agent {name} exited ({status}) while waiting for {what}:\n{err}"));
                }
            }
            if let Some(exited) = exited {
                panic!("{exited}\n{}", self.all_logs());
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}\n{}", self.all_logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn all_logs(&self) -> String {
        self.hosts
            .iter()
            .map(|h| {
                format!(
                    "--- {}\n{}",
                    h.name,
                    std::fs::read_to_string(self.log_path(&h.name)).unwrap_or_default()
                )
            })
            .collect()
    }

    /// The host's domains as its last inventory event shows them: name -> (uuid, running, load).
    pub fn inventory(&self, host: &str) -> BTreeMap<String, (String, bool, f64)> {
        let Some(last) = self.events_named(host, "inventory").pop() else { return BTreeMap::new() };
        last["domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_string(),
                    (
                        d["uuid"].as_str().unwrap().to_string(),
                        d["running"].as_bool().unwrap(),
                        d["load"].as_f64().unwrap(),
                    ),
                )
            })
            .collect()
    }

    /// The host's domains as libvirt's test driver has them once the agent is gone: the node
    /// file opened again with the agent's state file (what a libvirtd that outlived the agent
    /// would hold). name -> (uuid, running, load).
    #[cfg(feature = "libvirt")]
    pub fn test_driver_domains(&self, host: &str) -> BTreeMap<String, (String, bool, f64)> {
        use lcc_runtime::agent::hypervisor::Hypervisor;
        let node = self.dir.path().join(format!("{host}.xml"));
        let state = self.dir.path().join(format!("{host}.state")).join("domains.json");
        let mut libvirt =
            lcc_runtime::agent::libvirt::Libvirt::open(&format!("test://{}", node.display()), Some(state))
                .unwrap();
        libvirt.domains().unwrap().into_iter().map(|d| (d.name, (d.uuid, d.running, d.load))).collect()
    }

    /// Every uuid with the hosts that have it.
    pub fn placements(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for host in &self.hosts {
            for (_, (uuid, _, _)) in self.inventory(&host.name) {
                out.entry(uuid).or_default().insert(host.name.clone());
            }
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kill_all();
    }
}
