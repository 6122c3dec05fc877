//! The hypervisor layer of host agents: what an agent needs from the machine it manages (host
//! capacity, the defined domains with their loads, the domain lifecycle and migration), behind
//! one trait with two implementations: [`MemoryHypervisor`] here (no libvirt; the default host
//! of `lcc agent` and of tests) and `Libvirt` in [`crate::agent::libvirt`] (feature `libvirt`).
//!
//! A VM's CPU load (in the units of `lcc simulate`'s VM loads) is lcc's own datum, not a
//! hypervisor metric: it lives in the domain XML metadata so that it travels with the domain
//! when the domain migrates:
//!
//! ```xml
//! <metadata><lcc:vm xmlns:lcc="https://lcc.dev/xmlns/vm/1" load="12.5"/></metadata>
//! ```
//!
//! A domain without it has load [`DEFAULT_LOAD`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The XML namespace of lcc's domain metadata (`<lcc:vm load=".."/>`).
pub const LCC_VM_XMLNS: &str = "https://lcc.dev/xmlns/vm/1";

/// The load of a domain whose XML has no lcc metadata.
pub const DEFAULT_LOAD: f64 = 1.0;

/// A defined domain (VM) of a host.
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub name: String,
    /// Lowercase 8-4-4-4-12 hex.
    pub uuid: String,
    pub running: bool,
    pub memory_kib: u64,
    pub vcpus: u32,
    /// From the lcc metadata ([`DEFAULT_LOAD`] when absent).
    pub load: f64,
}

/// A host's capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct HostInfo {
    pub cpus: u32,
    pub memory_kib: u64,
}

/// Why a hypervisor operation failed. The payload of `NoSuchDomain` is the domain name; that of
/// `AlreadyExists` the name of the domain being defined (with the clashing uuid and domain when
/// only the uuid clashes); the others carry a complete description of what failed, naming the
/// domain and quoting libvirt's message where there is one.
#[derive(Clone, Debug, PartialEq)]
pub enum HvError {
    NoSuchDomain(String),
    AlreadyExists(String),
    BadXml(String),
    Unsupported(String),
    Failed(String),
}

impl fmt::Display for HvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HvError::NoSuchDomain(name) => write!(
                f,
                "no domain named {name} is defined on this host; check the name against the host's domain list"
            ),
            HvError::AlreadyExists(what) => write!(
                f,
                "domain {what} is already defined on this host; undefine the existing domain first, \
                 or define this one under a new name and uuid"
            ),
            HvError::BadXml(message) => write!(f, "invalid domain XML: {message}"),
            HvError::Unsupported(message) => write!(f, "not supported by this hypervisor: {message}"),
            HvError::Failed(message) => write!(f, "hypervisor operation failed: {message}"),
        }
    }
}

impl std::error::Error for HvError {}

/// A host's hypervisor. Operations name domains by name.
pub trait Hypervisor: Send {
    fn host_info(&mut self) -> Result<HostInfo, HvError>;
    /// Every defined domain (running or not).
    fn domains(&mut self) -> Result<Vec<Domain>, HvError>;
    /// The domain's inactive (migratable) XML: enough to define it on another host, with its
    /// uuid and its lcc metadata.
    fn domain_xml(&mut self, name: &str) -> Result<String, HvError>;
    /// Defines a new (stopped) domain. `AlreadyExists` if its name, or its uuid, is defined.
    fn define(&mut self, xml: &str) -> Result<Domain, HvError>;
    /// Starts a defined domain (no error if it runs already).
    fn start(&mut self, name: &str) -> Result<(), HvError>;
    /// Stops a domain hard (no error if it is stopped already).
    fn destroy(&mut self, name: &str) -> Result<(), HvError>;
    /// Removes a stopped domain's definition; a running domain is refused (`Failed`): destroy it
    /// first, so that a VM is never killed as a side effect.
    fn undefine(&mut self, name: &str) -> Result<(), HvError>;
    /// Live migration to another libvirt host (`qemu+ssh://..`); on success the domain is
    /// defined and running there and gone from here. `Unsupported` where the driver cannot
    /// (memory, test driver).
    fn live_migrate(&mut self, name: &str, dest_uri: &str) -> Result<(), HvError>;
}

/// Parses name, uuid, memory, vcpus and the lcc load from domain XML; `running` is false.
/// A missing uuid is filled in with [`uuid_for`] the name, a missing `<vcpu>` is 1, missing lcc
/// metadata is load [`DEFAULT_LOAD`]; a missing name or memory is `BadXml`.
pub fn parse_domain_xml(xml: &str) -> Result<Domain, HvError> {
    parse_domain(xml).map(|parsed| parsed.domain)
}

/// [`parse_domain_xml`] plus what defining the XML needs to know.
pub(crate) struct ParsedDomain {
    pub(crate) domain: Domain,
    /// Whether the XML has a `<uuid>` (else `domain.uuid` was made up from the name).
    pub(crate) uuid_given: bool,
    /// The byte offset just after the `<name>` element (where a made-up `<uuid>` goes).
    pub(crate) name_end: usize,
}

pub(crate) fn parse_domain(xml: &str) -> Result<ParsedDomain, HvError> {
    let document = roxmltree::Document::parse(xml)
        .map_err(|error| HvError::BadXml(format!("the text is not well-formed XML: {error}")))?;
    let root = document.root_element();
    if root.tag_name().name() != "domain" {
        return Err(HvError::BadXml(format!(
            "the root element is <{}>, a domain's must be <domain>",
            root.tag_name().name()
        )));
    }
    let child = |tag: &str| {
        root.children().find(|node| {
            node.is_element() && node.tag_name().name() == tag && node.tag_name().namespace().is_none()
        })
    };
    let name_node = child("name").ok_or_else(|| HvError::BadXml("the <domain> has no <name>".into()))?;
    let name = name_node.text().unwrap_or("").trim().to_string();
    if name.is_empty() {
        return Err(HvError::BadXml("the <name> of the <domain> is empty".into()));
    }
    let (uuid, uuid_given) = match child("uuid") {
        Some(node) => {
            let text = node.text().unwrap_or("").trim();
            let uuid = normalize_uuid(text).ok_or_else(|| {
                HvError::BadXml(format!(
                    "the <uuid> `{text}` of domain {name} is not a uuid (32 hex digits, as 8-4-4-4-12)"
                ))
            })?;
            (uuid, true)
        }
        None => (uuid_for(&name), false),
    };
    let memory_node =
        child("memory").ok_or_else(|| HvError::BadXml(format!("domain {name} has no <memory>")))?;
    let memory_kib =
        memory_kib(memory_node.text().unwrap_or(""), memory_node.attribute("unit")).ok_or_else(|| {
            HvError::BadXml(format!(
                "the <memory unit=\"{}\">{}</memory> of domain {name} is not a memory size \
                 (a whole number with a unit such as KiB, MiB or GiB)",
                memory_node.attribute("unit").unwrap_or("KiB"),
                memory_node.text().unwrap_or("").trim()
            ))
        })?;
    let vcpus = match child("vcpu") {
        Some(node) => {
            let text = node.text().unwrap_or("").trim();
            text.parse::<u32>().ok().filter(|&count| count > 0).ok_or_else(|| {
                HvError::BadXml(format!("the <vcpu> `{text}` of domain {name} is not a positive number"))
            })?
        }
        None => 1,
    };
    let lcc_vm = child("metadata").and_then(|metadata| {
        metadata.children().find(|node| {
            node.is_element()
                && node.tag_name().name() == "vm"
                && node.tag_name().namespace() == Some(LCC_VM_XMLNS)
        })
    });
    let load = match lcc_vm.and_then(|node| node.attribute("load")) {
        Some(text) => {
            text.trim().parse::<f64>().ok().filter(|load| load.is_finite() && *load >= 0.0).ok_or_else(
                || {
                    HvError::BadXml(format!(
                        "the lcc load `{text}` of domain {name} is not a non-negative number \
                     (<lcc:vm xmlns:lcc=\"{LCC_VM_XMLNS}\" load=\"12.5\"/>)"
                    ))
                },
            )?
        }
        None => DEFAULT_LOAD,
    };
    Ok(ParsedDomain {
        domain: Domain { name, uuid, running: false, memory_kib, vcpus, load },
        uuid_given,
        name_end: name_node.range().end,
    })
}

/// A libvirt memory size in KiB (rounded up, as libvirt does); `None` if it is not one.
fn memory_kib(text: &str, unit: Option<&str>) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    let bytes_per_unit: u64 = match unit.unwrap_or("KiB") {
        "b" | "bytes" => 1,
        "KB" => 1_000,
        "k" | "K" | "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "m" | "M" | "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "g" | "G" | "GiB" => 1 << 30,
        "TB" => 1_000_000_000_000,
        "t" | "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    Some(value.checked_mul(bytes_per_unit)?.div_ceil(1024))
}

/// A uuid in lowercase 8-4-4-4-12 form, from 32 hex digits with or without dashes.
pub(crate) fn normalize_uuid(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|&c| c != '-').collect::<String>().to_ascii_lowercase();
    if digits.len() != 32 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        digits.get(0..8)?,
        digits.get(8..12)?,
        digits.get(12..16)?,
        digits.get(16..20)?,
        digits.get(20..32)?
    ))
}

/// Builds a minimal domain XML (name, uuid, memory, vcpus, load metadata) that the libvirt test
/// driver accepts (`type="test"`, os type hvm).
pub fn domain_xml(name: &str, uuid: &str, memory_kib: u64, vcpus: u32, load: f64) -> String {
    format!(
        "<domain type=\"test\">\n  <name>{}</name>\n  <uuid>{}</uuid>\n  <memory unit=\"KiB\">{memory_kib}</memory>\n  \
         <vcpu>{vcpus}</vcpu>\n  <os>\n    <type>hvm</type>\n  </os>\n  <metadata>\n    \
         <lcc:vm xmlns:lcc=\"{LCC_VM_XMLNS}\" load=\"{load}\"/>\n  </metadata>\n</domain>\n",
        xml_escape(name),
        xml_escape(uuid)
    )
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// A deterministic uuid from a name (for generated fixtures): the 128-bit FNV-1a hash of the
/// name, mixed, marked as an RFC 9562 version 8 ("custom") uuid; lowercase 8-4-4-4-12 hex.
pub fn uuid_for(name: &str) -> String {
    const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    // The splitmix64 finalizer: FNV alone leaves names that differ in their last character
    // (vm1, vm2) with uuids that differ in a few digits only.
    fn mix(mut x: u64) -> u64 {
        x ^= x >> 30;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    let mut fnv = FNV_OFFSET;
    for byte in name.bytes() {
        fnv ^= u128::from(byte);
        fnv = fnv.wrapping_mul(FNV_PRIME);
    }
    let (mut high, mut low) = ((fnv >> 64) as u64, fnv as u64);
    for _ in 0..2 {
        low = mix(low ^ high.rotate_left(32));
        high = mix(high ^ low);
    }
    let mut hash = (u128::from(high) << 64) | u128::from(low);
    // Version 8 in bits 76..80, variant 0b10 in bits 62..64.
    hash = (hash & !(0xf << 76)) | (0x8 << 76);
    hash = (hash & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{hash:032x}");
    normalize_uuid(&hex).unwrap_or(hex)
}

/// What a hypervisor state file holds (shared by [`MemoryHypervisor`] and the libvirt test
/// driver's emulation of a daemon that outlives the agent): every defined domain's XML and
/// whether it runs, in definition order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SavedState {
    pub(crate) domains: Vec<SavedDomain>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SavedDomain {
    pub(crate) xml: String,
    pub(crate) running: bool,
}

/// Reads a state file; `None` if there is none yet.
pub(crate) fn load_state(path: &Path) -> Result<Option<SavedState>, HvError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(HvError::Failed(format!(
                "cannot read the hypervisor state file {}: {error}",
                path.display()
            )));
        }
    };
    let state: SavedState = serde_json::from_str(&text).map_err(|error| {
        HvError::Failed(format!(
            "the hypervisor state file {} is not valid ({error}); fix it, or remove it to start \
             from the host's initial domains",
            path.display()
        ))
    })?;
    Ok(Some(state))
}

/// Writes a state file atomically (a temporary file next to it, then a rename).
pub(crate) fn save_state(path: &Path, state: &SavedState) -> Result<(), HvError> {
    let failed = |error: std::io::Error| {
        HvError::Failed(format!("cannot save the hypervisor state to {}: {error}", path.display()))
    };
    let json = serde_json::to_string_pretty(state)
        .map_err(|error| failed(std::io::Error::other(error.to_string())))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = std::fs::File::create(&temporary).map_err(failed)?;
    file.write_all(json.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(failed)
}

/// One domain of a [`MemoryHypervisor`]: its XML as defined (with a uuid) and its state.
#[derive(Clone, Debug)]
struct MemoryDomain {
    xml: String,
    domain: Domain,
}

/// In-memory hypervisor (no libvirt): the default host of `lcc agent` and of tests. With a
/// state file it survives a restart of the agent, as a real libvirtd outlives its agent.
#[derive(Debug)]
pub struct MemoryHypervisor {
    info: HostInfo,
    /// In definition order.
    domains: Vec<MemoryDomain>,
    state_file: Option<PathBuf>,
}

impl MemoryHypervisor {
    pub fn new(info: HostInfo) -> MemoryHypervisor {
        MemoryHypervisor { info, domains: Vec::new(), state_file: None }
    }

    /// Loads the domains from `path` if it exists, and saves them there after each change
    /// (write to a temporary file, then rename).
    pub fn with_state_file(info: HostInfo, path: PathBuf) -> Result<MemoryHypervisor, HvError> {
        let mut domains = Vec::new();
        if let Some(state) = load_state(&path)? {
            for saved in state.domains {
                let parsed = parse_domain(&saved.xml).map_err(|error| {
                    HvError::Failed(format!(
                        "the hypervisor state file {} holds a domain that does not parse: {error}",
                        path.display()
                    ))
                })?;
                domains.push(MemoryDomain {
                    xml: saved.xml,
                    domain: Domain { running: saved.running, ..parsed.domain },
                });
            }
        }
        let hypervisor = MemoryHypervisor { info, domains, state_file: Some(path) };
        hypervisor.persist(&hypervisor.domains)?;
        Ok(hypervisor)
    }

    fn position(&self, name: &str) -> Result<usize, HvError> {
        self.domains
            .iter()
            .position(|entry| entry.domain.name == name)
            .ok_or_else(|| HvError::NoSuchDomain(name.to_string()))
    }

    fn persist(&self, domains: &[MemoryDomain]) -> Result<(), HvError> {
        let Some(path) = &self.state_file else { return Ok(()) };
        let state = SavedState {
            domains: domains
                .iter()
                .map(|entry| SavedDomain { xml: entry.xml.clone(), running: entry.domain.running })
                .collect(),
        };
        save_state(path, &state)
    }

    /// Saves `domains` and only then makes them the current state, so that a failed save
    /// leaves memory and file in agreement.
    fn commit(&mut self, domains: Vec<MemoryDomain>) -> Result<(), HvError> {
        self.persist(&domains)?;
        self.domains = domains;
        Ok(())
    }

    fn set_running(&mut self, name: &str, running: bool) -> Result<(), HvError> {
        let index = self.position(name)?;
        let mut domains = self.domains.clone();
        let Some(entry) = domains.get_mut(index) else {
            return Err(HvError::NoSuchDomain(name.to_string()));
        };
        if entry.domain.running == running {
            return Ok(());
        }
        entry.domain.running = running;
        self.commit(domains)
    }
}

impl Hypervisor for MemoryHypervisor {
    fn host_info(&mut self) -> Result<HostInfo, HvError> {
        Ok(self.info.clone())
    }

    fn domains(&mut self) -> Result<Vec<Domain>, HvError> {
        Ok(self.domains.iter().map(|entry| entry.domain.clone()).collect())
    }

    fn domain_xml(&mut self, name: &str) -> Result<String, HvError> {
        let index = self.position(name)?;
        self.domains
            .get(index)
            .map(|entry| entry.xml.clone())
            .ok_or_else(|| HvError::NoSuchDomain(name.into()))
    }

    fn define(&mut self, xml: &str) -> Result<Domain, HvError> {
        let parsed = parse_domain(xml)?;
        let domain = parsed.domain;
        if self.domains.iter().any(|entry| entry.domain.name == domain.name) {
            return Err(HvError::AlreadyExists(domain.name));
        }
        if let Some(owner) = self.domains.iter().find(|entry| entry.domain.uuid == domain.uuid) {
            return Err(HvError::AlreadyExists(format!(
                "{} (its uuid {} is that of domain {})",
                domain.name, domain.uuid, owner.domain.name
            )));
        }
        // Keep the made-up uuid in the XML, so that the domain keeps it when it migrates.
        let xml = if parsed.uuid_given {
            xml.to_string()
        } else {
            let (Some(head), Some(tail)) = (xml.get(..parsed.name_end), xml.get(parsed.name_end..)) else {
                return Err(HvError::BadXml(format!(
                    "cannot insert a uuid into the XML of domain {}",
                    domain.name
                )));
            };
            format!("{head}<uuid>{}</uuid>{tail}", domain.uuid)
        };
        let mut domains = self.domains.clone();
        domains.push(MemoryDomain { xml, domain: domain.clone() });
        self.commit(domains)?;
        Ok(domain)
    }

    fn start(&mut self, name: &str) -> Result<(), HvError> {
        self.set_running(name, true)
    }

    fn destroy(&mut self, name: &str) -> Result<(), HvError> {
        self.set_running(name, false)
    }

    fn undefine(&mut self, name: &str) -> Result<(), HvError> {
        let index = self.position(name)?;
        if self.domains.get(index).is_some_and(|entry| entry.domain.running) {
            return Err(HvError::Failed(format!(
                "domain {name} is running, so it cannot be undefined; destroy it first"
            )));
        }
        let mut domains = self.domains.clone();
        domains.remove(index);
        self.commit(domains)
    }

    fn live_migrate(&mut self, name: &str, dest_uri: &str) -> Result<(), HvError> {
        self.position(name)?;
        Err(HvError::Unsupported(format!(
            "the in-memory hypervisor cannot live-migrate domain {name} to {dest_uri}; migrate it \
             offline (define its XML on the target and start it there, then destroy and undefine it here)"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn host() -> HostInfo {
        HostInfo { cpus: 4, memory_kib: 8 << 20 }
    }

    fn scratch_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lcc-hypervisor-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn parse_reads_name_uuid_memory_vcpus_and_load() {
        let xml = domain_xml("web1", &uuid_for("web1"), 1 << 20, 2, 12.5);
        let domain = parse_domain_xml(&xml).unwrap();
        assert_eq!(
            domain,
            Domain {
                name: "web1".into(),
                uuid: uuid_for("web1"),
                running: false,
                memory_kib: 1 << 20,
                vcpus: 2,
                load: 12.5
            }
        );
    }

    #[test]
    fn parse_without_metadata_has_load_one_and_converts_units() {
        let xml = "<domain type='kvm'><name>db</name><uuid>0123456789ABCDEF0123456789abcdef</uuid>\
                   <memory unit='GiB'>2</memory><metadata><other:x xmlns:other='urn:x' load='9'/></metadata></domain>";
        let domain = parse_domain_xml(xml).unwrap();
        assert_eq!(domain.load, DEFAULT_LOAD);
        assert_eq!(domain.uuid, "01234567-89ab-cdef-0123-456789abcdef");
        assert_eq!(domain.memory_kib, 2 << 20);
        assert_eq!(domain.vcpus, 1);
    }

    #[test]
    fn parse_reads_the_load_by_namespace_not_prefix() {
        let xml = format!(
            "<domain><name>a</name><memory>1024</memory><metadata><x:vm xmlns:x='{LCC_VM_XMLNS}' load='3'/></metadata></domain>"
        );
        let domain = parse_domain_xml(&xml).unwrap();
        assert_eq!(domain.load, 3.0);
        assert_eq!(domain.uuid, uuid_for("a"));
    }

    #[test]
    fn parse_rejects_bad_xml() {
        for bad in [
            "<domain><name>a</name>",
            "<vm><name>a</name><memory>1</memory></vm>",
            "<domain><memory>1</memory></domain>",
            "<domain><name>a</name></domain>",
            "<domain><name>a</name><memory unit='parsecs'>1</memory></domain>",
            "<domain><name>a</name><uuid>nope</uuid><memory>1</memory></domain>",
            "<domain><name>a</name><memory>1</memory><vcpu>0</vcpu></domain>",
        ] {
            assert!(matches!(parse_domain_xml(bad), Err(HvError::BadXml(_))), "{bad}");
        }
        let xml = format!(
            "<domain><name>a</name><memory>1</memory><metadata><lcc:vm xmlns:lcc='{LCC_VM_XMLNS}' load='-1'/></metadata></domain>"
        );
        let error = parse_domain_xml(&xml).unwrap_err();
        assert!(
            matches!(&error, HvError::BadXml(m) if m.contains("-1") && m.contains("domain a")),
            "{error}"
        );
    }

    #[test]
    fn uuid_for_is_deterministic_and_well_formed() {
        let uuid = uuid_for("site1-h1-vm1");
        assert_eq!(uuid, uuid_for("site1-h1-vm1"));
        assert_ne!(uuid, uuid_for("site1-h1-vm2"));
        assert_eq!(uuid.len(), 36);
        assert_eq!(normalize_uuid(&uuid).as_deref(), Some(uuid.as_str()));
        assert_eq!(uuid.as_bytes()[14], b'8');
    }

    #[test]
    fn domain_xml_escapes_the_name() {
        let xml = domain_xml("a<&>b", &uuid_for("x"), 1024, 1, 1.0);
        assert_eq!(parse_domain_xml(&xml).unwrap().name, "a<&>b");
    }

    #[test]
    fn memory_lifecycle() {
        let mut hv = MemoryHypervisor::new(host());
        assert_eq!(hv.host_info().unwrap(), host());
        let defined = hv.define(&domain_xml("web1", &uuid_for("web1"), 1 << 20, 2, 12.5)).unwrap();
        assert!(!defined.running);
        hv.start("web1").unwrap();
        hv.start("web1").unwrap();
        assert!(hv.domains().unwrap()[0].running);
        let error = hv.undefine("web1").unwrap_err();
        assert!(matches!(&error, HvError::Failed(m) if m.contains("web1")), "{error}");
        hv.destroy("web1").unwrap();
        hv.destroy("web1").unwrap();
        assert!(!hv.domains().unwrap()[0].running);
        hv.undefine("web1").unwrap();
        assert!(hv.domains().unwrap().is_empty());
    }

    #[test]
    fn memory_already_exists_by_name_or_uuid() {
        let mut hv = MemoryHypervisor::new(host());
        hv.define(&domain_xml("a", &uuid_for("a"), 1024, 1, 1.0)).unwrap();
        assert_eq!(
            hv.define(&domain_xml("a", &uuid_for("other"), 1024, 1, 1.0)),
            Err(HvError::AlreadyExists("a".into()))
        );
        let error = hv.define(&domain_xml("b", &uuid_for("a"), 1024, 1, 1.0)).unwrap_err();
        assert!(
            matches!(&error, HvError::AlreadyExists(m) if m.starts_with("b ") && m.contains(&uuid_for("a")))
        );
        assert!(error.to_string().contains("already defined"), "{error}");
    }

    #[test]
    fn memory_no_such_domain_names_the_domain() {
        let mut hv = MemoryHypervisor::new(host());
        for result in
            [hv.start("ghost"), hv.destroy("ghost"), hv.undefine("ghost"), hv.domain_xml("ghost").map(drop)]
        {
            let error = result.unwrap_err();
            assert_eq!(error, HvError::NoSuchDomain("ghost".into()));
            assert!(error.to_string().contains("ghost"));
        }
    }

    #[test]
    fn memory_domain_xml_keeps_uuid_and_load_and_adds_a_missing_uuid() {
        let mut source = MemoryHypervisor::new(host());
        let mut target = MemoryHypervisor::new(host());
        let xml = format!(
            "<domain><name>v</name><memory>2048</memory><metadata><lcc:vm xmlns:lcc='{LCC_VM_XMLNS}' load='7.25'/></metadata></domain>"
        );
        let defined = source.define(&xml).unwrap();
        source.start("v").unwrap();
        // Offline migration by hand.
        let exported = source.domain_xml("v").unwrap();
        assert!(exported.contains(&format!("<uuid>{}</uuid>", defined.uuid)));
        target.define(&exported).unwrap();
        target.start("v").unwrap();
        source.destroy("v").unwrap();
        source.undefine("v").unwrap();
        let moved = &target.domains().unwrap()[0];
        assert_eq!((moved.uuid.as_str(), moved.load, moved.running), (defined.uuid.as_str(), 7.25, true));
    }

    #[test]
    fn memory_live_migrate_is_unsupported() {
        let mut hv = MemoryHypervisor::new(host());
        hv.define(&domain_xml("a", &uuid_for("a"), 1024, 1, 1.0)).unwrap();
        let error = hv.live_migrate("a", "qemu+ssh://h2/system").unwrap_err();
        assert!(
            matches!(&error, HvError::Unsupported(m) if m.contains("a") && m.contains("qemu+ssh://h2/system"))
        );
        assert_eq!(hv.live_migrate("b", "qemu+ssh://h2/system"), Err(HvError::NoSuchDomain("b".into())));
    }

    #[test]
    fn memory_state_file_survives_a_restart() {
        let dir = scratch_dir("restart");
        let path = dir.join("host.json");
        {
            let mut hv = MemoryHypervisor::with_state_file(host(), path.clone()).unwrap();
            hv.define(&domain_xml("a", &uuid_for("a"), 1024, 1, 2.5)).unwrap();
            hv.define(&domain_xml("b", &uuid_for("b"), 1024, 1, 1.0)).unwrap();
            hv.define(&domain_xml("c", &uuid_for("c"), 1024, 1, 1.0)).unwrap();
            hv.start("a").unwrap();
            hv.undefine("b").unwrap();
        }
        assert!(!dir.join("host.json.tmp").exists());
        let mut hv = MemoryHypervisor::with_state_file(host(), path.clone()).unwrap();
        let domains = hv.domains().unwrap();
        let summary: Vec<_> = domains.iter().map(|d| (d.name.as_str(), d.running, d.load)).collect();
        assert_eq!(summary, [("a", true, 2.5), ("c", false, 1.0)]);
        std::fs::write(&path, "{not json").unwrap();
        let error = MemoryHypervisor::with_state_file(host(), path.clone()).unwrap_err();
        assert!(matches!(&error, HvError::Failed(m) if m.contains("host.json")), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
