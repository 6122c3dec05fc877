//! The agent's configuration file (TOML). [`REFERENCE`] documents every key; `lcc agent
//! --help` prints it, and a test keeps it and the structs below in step.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every key of the configuration file, as `lcc agent --help` prints it.
pub const REFERENCE: &str = r#"CONFIGURATION FILE (TOML; relative paths are relative to the file)

  host = "pm1"              Required. This host's name: its peer id in the model and the
                            name other agents know its public key by.
  site = "site1"            The site (datacentre) of this host. Default "default".
                            `sameLocation/1` compares sites; migration within a site may
                            be live (see [hypervisor] live_uri), across sites it is the
                            offline workflow.
  model = "balance.lcc"     Required. The interaction model this agent executes. It must
                            be on the allow-list [models] allow, by content hash.
  peers = ["a(idle, pm1)"]  The peers this agent executes, each with the role it starts
                            in; that role is also where the peer returns when an
                            interaction fails (its idle role), and where it starts again
                            at the next interval when its role finishes. Default: one
                            peer, the host, in the model's initial role.
  interval_ms = 1000        The monitoring interval: hosts read their state once per
                            interval (getPeerState/1), and `timedOut/0` holds once an
                            interval has passed since the peer entered its role.
  request_timeout_ms = 5000 A peer that waits longer than this for a partner (a reply that
                            never comes, a partner that died, a message lost) follows the
                            failure path: first it is retried, so a `timedOut()` guard can
                            take the model's own way out; then the interaction is
                            abandoned and the peer returns to its idle role.
  log = "agent.log"         Where structured events go, one JSON object per line.
                            Default "-": standard error.
  state_dir = "state/pm1"   Where the agent keeps what must survive a restart (the
                            in-memory or test-driver hypervisor's domains). Default:
                            "<name of this file without .toml>.state" next to it.
  stop_after_ms = 0         Stop after this long (0: run until killed). The agent saves
                            its state after every change, so killing it loses nothing.

[models]
  allow = ["<sha256>"]      Required. SHA-256 (64 hex digits, `lcc agent --hash FILE`) of
                            every model text this agent may execute. Any other is refused.

[transport]
  url = "nats://127.0.0.1:4222"
                            The NATS server (JetStream enabled: `nats-server -js`). Each
                            peer receives on its own subject, `lcc.<cluster>.peer.<id>`.
  cluster = "lcc"           Namespace of subjects and key-value buckets; agents with the
                            same cluster and server see each other.
  jetstream_domain = ""     The JetStream domain that holds the buckets, when the server
                            this agent connects to is a leaf node of the site that has
                            them (docs/agents.md, "Two sites"). Empty: the server's own.
  lease_ms = 3000           Discovery lease: an agent renews its entries in the role
                            registry (bucket lcc_<cluster>_roles) three times per lease;
                            the entries of an agent that died expire after it.

[trust]
  key_file = "pm1.key"      Required. This host's ed25519 signing key, 64 hex digits
                            (`lcc agent --keygen FILE` writes one and prints the public
                            key).
  max_message_bytes = 1048576
                            Larger messages are rejected before they are parsed.
  max_skew_ms = 30000       Messages stamped further than this from the local clock are
                            rejected (this bounds replays across restarts).
  [trust.keys]
  pm1 = "<public key>"      Public key of every host this agent trusts, by host name,
  pm2 = "<public key>"      including its own. Messages from any other key are rejected.

[hypervisor]
  kind = "memory"           "memory": an in-memory host (no libvirt), its domains read
                            from `node`; "libvirt": libvirt at `uri` (needs lcc built with
                            the `libvirt` feature).
  uri = "test:///default"   libvirt connection URI (`qemu:///system`,
                            `test:///abs/path/node.xml`).
  node = "pm1.xml"          memory: a libvirt test-driver node file whose <domain>s are the
                            host's initial VMs (the same files `test://` URIs read).
  live_uri = ""             libvirt URI other hosts of the same site use to migrate live
                            to this host (`qemu+ssh://pm1/system`); empty: offline only.
  cpus = 8                  memory: CPUs of the host.
  memory_mib = 16384        memory: memory of the host.

[policy]
  upper = 1.2               A host is overloaded above upper x the average load of the
                            hosts in discovery, underloaded below lower x the average.
  lower = 0.8

[faults]                    For tests of failure handling only.
  drop_messages = 0.0       Probability of dropping each outgoing model message.
  corrupt_messages = 0.0    Probability of sending one with a damaged signature (the
                            receiver rejects it: a forger on the wire).
  seed = 1                  Seed of those drops.
"#;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub host: String,
    #[serde(default = "default_site")]
    pub site: String,
    pub model: PathBuf,
    #[serde(default)]
    pub peers: Vec<String>,
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    #[serde(default = "default_request_timeout")]
    pub request_timeout_ms: u64,
    #[serde(default = "default_log")]
    pub log: String,
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    #[serde(default)]
    pub stop_after_ms: u64,
    pub models: Models,
    #[serde(default)]
    pub transport: TransportConfig,
    pub trust: TrustConfig,
    #[serde(default)]
    pub hypervisor: HypervisorConfig,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub faults: Faults,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Models {
    pub allow: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportConfig {
    #[serde(default = "default_url")]
    pub url: String,
    #[serde(default = "default_cluster")]
    pub cluster: String,
    #[serde(default)]
    pub jetstream_domain: String,
    #[serde(default = "default_lease")]
    pub lease_ms: u64,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            url: default_url(),
            cluster: default_cluster(),
            jetstream_domain: String::new(),
            lease_ms: default_lease(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    pub key_file: PathBuf,
    #[serde(default = "default_max_bytes")]
    pub max_message_bytes: usize,
    #[serde(default = "default_skew")]
    pub max_skew_ms: u64,
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HypervisorKind {
    #[default]
    Memory,
    Libvirt,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HypervisorConfig {
    #[serde(default)]
    pub kind: HypervisorKind,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub node: Option<PathBuf>,
    #[serde(default)]
    pub live_uri: String,
    #[serde(default = "default_cpus")]
    pub cpus: u32,
    #[serde(default = "default_memory")]
    pub memory_mib: u64,
}

impl Default for HypervisorConfig {
    fn default() -> Self {
        HypervisorConfig {
            kind: HypervisorKind::Memory,
            uri: None,
            node: None,
            live_uri: String::new(),
            cpus: default_cpus(),
            memory_mib: default_memory(),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default = "default_upper")]
    pub upper: f64,
    #[serde(default = "default_lower")]
    pub lower: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { upper: default_upper(), lower: default_lower() }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub drop_messages: f64,
    #[serde(default)]
    pub corrupt_messages: f64,
    #[serde(default)]
    pub seed: u64,
}

fn default_site() -> String {
    "default".into()
}
fn default_interval() -> u64 {
    1000
}
fn default_request_timeout() -> u64 {
    5000
}
fn default_log() -> String {
    "-".into()
}
fn default_url() -> String {
    "nats://127.0.0.1:4222".into()
}
fn default_cluster() -> String {
    "lcc".into()
}
fn default_lease() -> u64 {
    3000
}
fn default_max_bytes() -> usize {
    1 << 20
}
fn default_skew() -> u64 {
    30_000
}
fn default_cpus() -> u32 {
    8
}
fn default_memory() -> u64 {
    16_384
}
fn default_upper() -> f64 {
    1.2
}
fn default_lower() -> f64 {
    0.8
}

/// A configuration that cannot be used: `file:line:col: what` where the position is known.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Config {
    /// Reads and checks a configuration file; relative paths in it become relative to it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let name = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError(format!("cannot read {name}: {e}")))?;
        let mut config = Config::parse(&text).map_err(|e| ConfigError(format!("{name}:{e}")))?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        config.resolve_paths(base, path);
        Ok(config)
    }

    /// Parses configuration text. Errors start with `line:col: `.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |span| line_col(text, span.start));
            format!("{line}:{col}: {}", e.message().trim_end())
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let problem = |key: &str, what: String| Err(format!("1:1: `{key}`: {what}"));
        if self.host.is_empty() {
            return problem("host", "must not be empty".into());
        }
        if self.interval_ms == 0 {
            return problem("interval_ms", "must be at least 1".into());
        }
        if self.request_timeout_ms <= self.interval_ms {
            return problem(
                "request_timeout_ms",
                "must be longer than `interval_ms` (a host waits up to one interval to read its state)"
                    .into(),
            );
        }
        if self.models.allow.is_empty() {
            return problem("models.allow", "lists no model hash, so no model could run".into());
        }
        for hash in &self.models.allow {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return problem(
                    "models.allow",
                    format!(
                        "`{hash}` is not a SHA-256 of 64 hex digits (`lcc agent --hash FILE` prints one)"
                    ),
                );
            }
        }
        if !self.transport.cluster.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            || self.transport.cluster.is_empty()
        {
            return problem("transport.cluster", "may hold only letters, digits, `_` and `-`".into());
        }
        if self.transport.lease_ms < 100 {
            return problem("transport.lease_ms", "must be at least 100".into());
        }
        if !(0.0..=1.0).contains(&self.faults.drop_messages) {
            return problem("faults.drop_messages", "must be a probability between 0 and 1".into());
        }
        if !(0.0..=1.0).contains(&self.faults.corrupt_messages) {
            return problem("faults.corrupt_messages", "must be a probability between 0 and 1".into());
        }
        if self.policy.lower.partial_cmp(&self.policy.upper) != Some(std::cmp::Ordering::Less) {
            return problem("policy", "`lower` must be below `upper`".into());
        }
        if self.hypervisor.kind == HypervisorKind::Libvirt && self.hypervisor.uri.is_none() {
            return problem("hypervisor.uri", "is required when kind = \"libvirt\"".into());
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path, file: &Path) {
        let at = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        self.model = at(&self.model);
        self.trust.key_file = at(&self.trust.key_file);
        if let Some(node) = &self.hypervisor.node {
            self.hypervisor.node = Some(at(node));
        }
        self.state_dir = Some(match &self.state_dir {
            Some(dir) => at(dir),
            None => base.join(format!(
                "{}.state",
                file.file_stem().map_or_else(|| self.host.clone(), |s| s.to_string_lossy().into_owned())
            )),
        });
        if self.log != "-" {
            self.log = at(Path::new(&self.log)).display().to_string();
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// SHA-256 of a model's text, as `[models] allow` lists it.
pub fn model_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
host = "pm1"
model = "m.lcc"
[models]
allow = ["0000000000000000000000000000000000000000000000000000000000000000"]
[trust]
key_file = "pm1.key"
"#;

    #[test]
    fn minimal_config_takes_the_documented_defaults() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!(c.site, "default");
        assert_eq!(c.interval_ms, 1000);
        assert_eq!(c.request_timeout_ms, 5000);
        assert_eq!(c.transport.url, "nats://127.0.0.1:4222");
        assert_eq!(c.transport.lease_ms, 3000);
        assert_eq!(c.trust.max_message_bytes, 1 << 20);
        assert_eq!(c.hypervisor.kind, HypervisorKind::Memory);
        assert_eq!((c.policy.upper, c.policy.lower), (1.2, 0.8));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_position() {
        let err = Config::parse(&format!("{MINIMAL}\ncolour = 3\n")).unwrap_err();
        assert!(err.starts_with("9:1:"), "{err}");
        assert!(err.contains("colour"), "{err}");
        let err = Config::parse(&MINIMAL.replace("allow = [\"0", "allow = [\"x")).unwrap_err();
        assert!(err.contains("SHA-256"), "{err}");
    }

    #[test]
    fn every_key_of_the_structs_is_in_the_reference() {
        for key in [
            "host",
            "site",
            "model",
            "peers",
            "interval_ms",
            "request_timeout_ms",
            "log",
            "state_dir",
            "stop_after_ms",
            "[models]",
            "allow",
            "[transport]",
            "url",
            "cluster",
            "lease_ms",
            "[trust]",
            "key_file",
            "max_message_bytes",
            "max_skew_ms",
            "[trust.keys]",
            "[hypervisor]",
            "kind",
            "uri",
            "node",
            "live_uri",
            "cpus",
            "memory_mib",
            "[policy]",
            "upper",
            "lower",
            "[faults]",
            "drop_messages",
            "seed",
        ] {
            assert!(
                REFERENCE.lines().any(|line| line.trim_start().starts_with(key)),
                "the reference does not document `{key}`"
            );
        }
    }

    #[test]
    fn model_hash_is_sha256() {
        assert_eq!(model_hash(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
