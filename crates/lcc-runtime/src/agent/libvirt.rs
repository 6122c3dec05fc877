//! The libvirt host library of `lcc agent` (feature `libvirt`): [`Hypervisor`] over a libvirt
//! connection (`qemu:///system`, `qemu+ssh://host/system`, or the test driver's
//! `test:///default` and `test:///abs/path/node.xml`).
//!
//! Host capacity comes from the node info, the domains from `list_all_domains` and each
//! domain's name, uuid, memory, vcpus and lcc load from its XML ([`parse_domain_xml`]); libvirt's
//! own metrics are not used (the test driver's are fake).
//!
//! The test driver keeps its state in the process that opened it, so it forgets every change
//! when the agent exits. With a state file, [`Libvirt`] saves every defined domain's XML and
//! whether it runs after each change, and re-creates that state when it opens the node again:
//! an emulation of a libvirtd that outlives its agent.

use crate::agent::hypervisor::{
    Domain, HostInfo, HvError, Hypervisor, SavedDomain, SavedState, load_state, parse_domain,
    parse_domain_xml, save_state,
};
use std::path::PathBuf;
use virt::connect::Connect;
use virt::domain::Domain as VirtDomain;
use virt::enumutil::Enum;
use virt::error::{Error as VirtError, ErrorNumber};
use virt::sys;

/// A host's hypervisor reached through libvirt.
pub struct Libvirt {
    connection: Connect,
    uri: String,
    /// Whether `uri` is the in-process test driver (no migration; state lost on exit).
    test_driver: bool,
    /// Where the test driver's state is saved (`test://` URIs only).
    state_file: Option<PathBuf>,
}

impl std::fmt::Debug for Libvirt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Libvirt").field("uri", &self.uri).field("state_file", &self.state_file).finish()
    }
}

impl Libvirt {
    /// `uri`: e.g. `qemu:///system`, `test:///default`, `test:///abs/path/node.xml`.
    /// `state_file`: for `test://` URIs only — the test driver keeps its state in this
    /// process, so the agent saves every defined domain's XML and whether it runs after each
    /// change and re-creates them on open (emulating a libvirtd that outlives the agent; on
    /// open, domains of the node XML that the state file says were undefined are undefined,
    /// and domains the state file has that the node XML lacks are defined (and started if they ran)).
    pub fn open(uri: &str, state_file: Option<PathBuf>) -> Result<Libvirt, HvError> {
        // libvirt's default error handler prints every error to stderr; ours are returned.
        virt::error::clear_error_callback();
        let test_driver = uri.starts_with("test://");
        if let (Some(path), false) = (&state_file, test_driver) {
            return Err(HvError::Unsupported(format!(
                "a hypervisor state file ({}) is only for libvirt's in-process test driver \
                 (test:// URIs), not for {uri}, whose daemon keeps its own state; remove the state file setting",
                path.display()
            )));
        }
        let connection = Connect::open(Some(uri)).map_err(|error| {
            HvError::Failed(format!("cannot connect to libvirt at {uri}: {}", error.message()))
        })?;
        let mut libvirt = Libvirt { connection, uri: uri.to_string(), test_driver, state_file };
        if let Some(path) = libvirt.state_file.clone() {
            if let Some(state) = load_state(&path)? {
                // Not saving the steps of the restore: a failure half-way must leave the file whole.
                libvirt.state_file = None;
                libvirt.restore(&state).map_err(|error| {
                    HvError::Failed(format!(
                        "cannot restore the domains saved in {} on {uri}: {error}",
                        path.display()
                    ))
                })?;
                libvirt.state_file = Some(path);
            }
            libvirt.save()?;
        }
        Ok(libvirt)
    }

    /// The URI this hypervisor is connected to.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The error of `action` (a verb phrase, e.g. "start") on domain `name`.
    fn error(&self, action: &str, name: &str, error: &VirtError) -> HvError {
        let message = format!("cannot {action} domain {name} on {}: {}", self.uri, error.message());
        match error.code() {
            Enum::Known(ErrorNumber::NoDomain) => HvError::NoSuchDomain(name.to_string()),
            Enum::Known(ErrorNumber::DomExist) => HvError::AlreadyExists(name.to_string()),
            Enum::Known(
                ErrorNumber::NoSupport | ErrorNumber::OperationUnsupported | ErrorNumber::ArgumentUnsupported,
            ) => HvError::Unsupported(message),
            Enum::Known(ErrorNumber::XmlError | ErrorNumber::XmlDetail) => HvError::BadXml(message),
            _ => HvError::Failed(message),
        }
    }

    /// An error of the connection as a whole (no domain).
    fn host_error(&self, action: &str, error: &VirtError) -> HvError {
        HvError::Failed(format!("cannot {action} on {}: {}", self.uri, error.message()))
    }

    fn lookup(&self, name: &str) -> Result<VirtDomain, HvError> {
        self.connection.lookup_domain_by_name(name).map_err(|error| self.error("look up", name, &error))
    }

    fn is_active(&self, domain: &VirtDomain, name: &str) -> Result<bool, HvError> {
        domain.is_active().map_err(|error| self.error("query the state of", name, &error))
    }

    /// The domain's name, or a placeholder for messages when libvirt cannot say.
    fn name_of(domain: &VirtDomain) -> String {
        domain.name().unwrap_or_else(|_| "(unnamed)".to_string())
    }

    fn describe(&self, domain: &VirtDomain) -> Result<Domain, HvError> {
        let name = Self::name_of(domain);
        let xml = domain.xml_desc(0).map_err(|error| self.error("read the XML of", &name, &error))?;
        let parsed = parse_domain_xml(&xml).map_err(|error| {
            HvError::BadXml(format!("libvirt's XML of domain {name} on {}: {error}", self.uri))
        })?;
        Ok(Domain { running: self.is_active(domain, &name)?, ..parsed })
    }

    fn inactive_xml(&self, domain: &VirtDomain, name: &str) -> Result<String, HvError> {
        let flags = if self.test_driver {
            sys::VIR_DOMAIN_XML_INACTIVE
        } else {
            sys::VIR_DOMAIN_XML_INACTIVE | sys::VIR_DOMAIN_XML_MIGRATABLE
        };
        domain.xml_desc(flags).map_err(|error| self.error("read the XML of", name, &error))
    }

    /// Saves the test driver's domains to the state file, if there is one.
    fn save(&self) -> Result<(), HvError> {
        let Some(path) = &self.state_file else { return Ok(()) };
        let listed = self
            .connection
            .list_all_domains(0)
            .map_err(|error| self.host_error("list the domains", &error))?;
        let mut state = SavedState::default();
        for domain in &listed {
            let name = Self::name_of(domain);
            state.domains.push(SavedDomain {
                xml: self.inactive_xml(domain, &name)?,
                running: self.is_active(domain, &name)?,
            });
        }
        save_state(path, &state)
    }

    /// Makes the connection's domains those of `state`: domains it lacks (by name and uuid) are
    /// destroyed and undefined, the others defined, and each started or stopped as saved.
    fn restore(&mut self, state: &SavedState) -> Result<(), HvError> {
        let mut wanted = Vec::new();
        for saved in &state.domains {
            let parsed = parse_domain(&saved.xml)?;
            wanted.push((parsed.domain, saved));
        }
        let present = self.domains()?;
        for domain in &present {
            let kept = wanted.iter().any(|(want, _)| want.name == domain.name && want.uuid == domain.uuid);
            if !kept {
                self.destroy(&domain.name)?;
                self.undefine(&domain.name)?;
            }
        }
        for (want, saved) in &wanted {
            if !present.iter().any(|domain| domain.name == want.name && domain.uuid == want.uuid) {
                self.connection
                    .define_domain_xml(&saved.xml)
                    .map_err(|error| self.error("define", &want.name, &error))?;
            }
            if saved.running {
                self.start(&want.name)?;
            } else {
                self.destroy(&want.name)?;
            }
        }
        Ok(())
    }
}

impl Hypervisor for Libvirt {
    fn host_info(&mut self) -> Result<HostInfo, HvError> {
        let info =
            self.connection.node_info().map_err(|error| self.host_error("read the node info", &error))?;
        Ok(HostInfo { cpus: info.cpus, memory_kib: info.memory })
    }

    fn domains(&mut self) -> Result<Vec<Domain>, HvError> {
        let listed = self
            .connection
            .list_all_domains(0)
            .map_err(|error| self.host_error("list the domains", &error))?;
        listed.iter().map(|domain| self.describe(domain)).collect()
    }

    fn domain_xml(&mut self, name: &str) -> Result<String, HvError> {
        let domain = self.lookup(name)?;
        self.inactive_xml(&domain, name)
    }

    fn define(&mut self, xml: &str) -> Result<Domain, HvError> {
        let parsed = parse_domain(xml)?;
        let name = parsed.domain.name;
        // libvirt itself would silently redefine a domain of the same name and uuid.
        match self.connection.lookup_domain_by_name(&name) {
            Ok(_) => return Err(HvError::AlreadyExists(name)),
            Err(error) if error.code() == Enum::Known(ErrorNumber::NoDomain) => {}
            Err(error) => return Err(self.error("look up", &name, &error)),
        }
        if parsed.uuid_given {
            let uuid = parsed.domain.uuid;
            match self.connection.lookup_domain_by_uuid_string(&uuid) {
                Ok(owner) => {
                    return Err(HvError::AlreadyExists(format!(
                        "{name} (its uuid {uuid} is that of domain {})",
                        Self::name_of(&owner)
                    )));
                }
                Err(error) if error.code() == Enum::Known(ErrorNumber::NoDomain) => {}
                Err(error) => return Err(self.error("look up the uuid of", &name, &error)),
            }
        }
        let domain =
            self.connection.define_domain_xml(xml).map_err(|error| self.error("define", &name, &error))?;
        let defined = self.describe(&domain)?;
        self.save()?;
        Ok(defined)
    }

    fn start(&mut self, name: &str) -> Result<(), HvError> {
        let domain = self.lookup(name)?;
        if self.is_active(&domain, name)? {
            return Ok(());
        }
        domain.create().map_err(|error| self.error("start", name, &error))?;
        self.save()
    }

    fn destroy(&mut self, name: &str) -> Result<(), HvError> {
        let domain = self.lookup(name)?;
        if !self.is_active(&domain, name)? {
            return Ok(());
        }
        domain.destroy().map_err(|error| self.error("destroy", name, &error))?;
        self.save()
    }

    fn undefine(&mut self, name: &str) -> Result<(), HvError> {
        let domain = self.lookup(name)?;
        if self.is_active(&domain, name)? {
            return Err(HvError::Failed(format!(
                "domain {name} is running on {}, so it cannot be undefined; destroy it first",
                self.uri
            )));
        }
        // The test driver accepts only these two flags; a real one also keeps UEFI variables,
        // which a migrated domain's copy elsewhere may still need.
        let mut flags = sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
        if !self.test_driver {
            flags |= sys::VIR_DOMAIN_UNDEFINE_KEEP_NVRAM;
        }
        domain.undefine_flags(flags).map_err(|error| self.error("undefine", name, &error))?;
        self.save()
    }

    fn live_migrate(&mut self, name: &str, dest_uri: &str) -> Result<(), HvError> {
        let domain = self.lookup(name)?;
        // Opening the destination first could hang on ssh for a migration that cannot happen.
        if self.test_driver {
            return Err(HvError::Unsupported(format!(
                "cannot live-migrate domain {name} from {} to {dest_uri}: libvirt's test driver does not \
                 implement migration; migrate it offline (define its XML on the target and start it there, \
                 then destroy and undefine it here)",
                self.uri
            )));
        }
        let destination = Connect::open(Some(dest_uri)).map_err(|error| {
            HvError::Failed(format!(
                "cannot live-migrate domain {name} from {}: cannot connect to the destination {dest_uri}: {}",
                self.uri,
                error.message()
            ))
        })?;
        // Managed by this process (like `virsh migrate --live`), so only the agent needs access
        // to the destination, not the source's libvirtd.
        let flags = sys::VIR_MIGRATE_LIVE | sys::VIR_MIGRATE_PERSIST_DEST | sys::VIR_MIGRATE_UNDEFINE_SOURCE;
        domain.migrate(&destination, flags, None, None, 0).map_err(|error| {
            match self.error("live-migrate", name, &error) {
                HvError::Failed(message) => HvError::Failed(format!("{message} (destination {dest_uri})")),
                HvError::Unsupported(message) => {
                    HvError::Unsupported(format!("{message} (destination {dest_uri})"))
                }
                other => other,
            }
        })?;
        self.save()
    }
}
