//! The libvirt hypervisor against libvirt's test driver (no daemon): the node files under
//! `tests/fixtures/libvirt/` are hosts, each opened privately by the test that uses it.
//! (`test:///default` is shared by the whole process, so only read here.)
#![cfg(feature = "libvirt")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_runtime::agent::hypervisor::{Domain, HostInfo, HvError, Hypervisor, domain_xml, uuid_for};
use lcc_runtime::agent::libvirt::Libvirt;
use std::path::PathBuf;

fn node_uri(host: &str) -> String {
    format!("test://{}/tests/fixtures/libvirt/{host}.xml", env!("CARGO_MANIFEST_DIR"))
}

fn open(host: &str) -> Libvirt {
    Libvirt::open(&node_uri(host), None).unwrap()
}

/// The domains sorted by name (libvirt lists running domains first).
fn domains(hypervisor: &mut Libvirt) -> Vec<Domain> {
    let mut domains = hypervisor.domains().unwrap();
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    domains
}

fn names(hypervisor: &mut Libvirt) -> Vec<(String, bool)> {
    domains(hypervisor).into_iter().map(|domain| (domain.name, domain.running)).collect()
}

fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lcc-libvirt-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn opens_the_default_test_host() {
    let mut hypervisor = Libvirt::open("test:///default", None).unwrap();
    assert_eq!(hypervisor.uri(), "test:///default");
    assert!(hypervisor.host_info().unwrap().cpus > 0);
    let domains = hypervisor.domains().unwrap();
    // The default host's one domain, without lcc metadata.
    let test = domains.iter().find(|domain| domain.name == "test").unwrap();
    assert_eq!(test.load, 1.0);
}

#[test]
fn node_file_gives_capacity_and_domains_with_loads_from_metadata() {
    let mut hypervisor = open("site1-h1");
    assert_eq!(hypervisor.host_info().unwrap(), HostInfo { cpus: 4, memory_kib: 8 << 20 });
    let domain = |name: &str, running, memory_kib, vcpus, load| Domain {
        name: name.into(),
        uuid: uuid_for(name),
        running,
        memory_kib,
        vcpus,
        load,
    };
    assert_eq!(
        domains(&mut hypervisor),
        [
            domain("batch1", false, 512 << 10, 1, 1.0),
            domain("db1", true, 2 << 20, 2, 30.0),
            domain("web1", true, 1 << 20, 2, 12.5),
        ]
    );
    let mut empty = open("site1-h3");
    assert!(empty.domains().unwrap().is_empty());
    assert_eq!(open("site1-h2").host_info().unwrap(), HostInfo { cpus: 8, memory_kib: 16 << 20 });
}

#[test]
fn lifecycle_define_start_destroy_undefine() {
    let mut hypervisor = open("site1-h3");
    let defined = hypervisor.define(&domain_xml("vm-new", &uuid_for("vm-new"), 256 << 10, 1, 4.0)).unwrap();
    assert_eq!(
        defined,
        Domain {
            name: "vm-new".into(),
            uuid: uuid_for("vm-new"),
            running: false,
            memory_kib: 256 << 10,
            vcpus: 1,
            load: 4.0
        }
    );
    hypervisor.start("vm-new").unwrap();
    hypervisor.start("vm-new").unwrap();
    assert_eq!(names(&mut hypervisor), [("vm-new".to_string(), true)]);
    let error = hypervisor.undefine("vm-new").unwrap_err();
    assert!(matches!(&error, HvError::Failed(m) if m.contains("vm-new") && m.contains("destroy")), "{error}");
    hypervisor.destroy("vm-new").unwrap();
    hypervisor.destroy("vm-new").unwrap();
    assert_eq!(names(&mut hypervisor), [("vm-new".to_string(), false)]);
    hypervisor.undefine("vm-new").unwrap();
    assert!(hypervisor.domains().unwrap().is_empty());
}

#[test]
fn defining_a_used_name_or_uuid_is_already_exists() {
    let mut hypervisor = open("site1-h1");
    assert_eq!(
        hypervisor.define(&domain_xml("web1", &uuid_for("another"), 1 << 20, 1, 1.0)),
        Err(HvError::AlreadyExists("web1".into()))
    );
    let error = hypervisor.define(&domain_xml("web2", &uuid_for("web1"), 1 << 20, 1, 1.0)).unwrap_err();
    assert!(
        matches!(&error, HvError::AlreadyExists(m) if m.contains("web2") && m.contains("web1")),
        "{error:?}"
    );
    assert!(error.to_string().contains("already defined"), "{error}");
    assert_eq!(domains(&mut hypervisor).len(), 3);
}

#[test]
fn bad_xml_is_bad_xml() {
    let mut hypervisor = open("site1-h3");
    assert!(matches!(hypervisor.define("<domain><name>x</name>"), Err(HvError::BadXml(_))));
    // Well-formed, but not a domain libvirt accepts (no <os>): libvirt's own message.
    let error = hypervisor
        .define("<domain type='test'><name>x</name><memory>1024</memory><devices><disk/></devices></domain>")
        .unwrap_err();
    assert!(error.to_string().contains('x'), "{error}");
}

#[test]
fn an_unknown_domain_is_no_such_domain_with_its_name() {
    let mut hypervisor = open("site1-h1");
    for result in [
        hypervisor.start("ghost"),
        hypervisor.destroy("ghost"),
        hypervisor.undefine("ghost"),
        hypervisor.domain_xml("ghost").map(drop),
        hypervisor.live_migrate("ghost", "qemu+ssh://site1-h2/system"),
    ] {
        let error = result.unwrap_err();
        assert_eq!(error, HvError::NoSuchDomain("ghost".into()));
        assert!(error.to_string().contains("ghost"), "{error}");
    }
}

#[test]
fn offline_migration_by_hand_keeps_uuid_and_load() {
    let mut source = open("site1-h1");
    let mut target = open("site1-h2");
    let xml = source.domain_xml("web1").unwrap();
    let defined = target.define(&xml).unwrap();
    assert_eq!((defined.uuid.as_str(), defined.load), (uuid_for("web1").as_str(), 12.5));
    target.start("web1").unwrap();
    source.destroy("web1").unwrap();
    source.undefine("web1").unwrap();
    assert_eq!(names(&mut source), [("batch1".to_string(), false), ("db1".to_string(), true)]);
    let moved = domains(&mut target).into_iter().find(|domain| domain.name == "web1").unwrap();
    assert_eq!(
        moved,
        Domain {
            name: "web1".into(),
            uuid: uuid_for("web1"),
            running: true,
            memory_kib: 1 << 20,
            vcpus: 2,
            load: 12.5
        }
    );
}

#[test]
fn live_migration_on_the_test_driver_is_unsupported() {
    let mut hypervisor = open("site1-h1");
    let error = hypervisor.live_migrate("web1", "qemu+ssh://site1-h2/system").unwrap_err();
    assert!(
        matches!(&error, HvError::Unsupported(m) if m.contains("web1") && m.contains("qemu+ssh://site1-h2/system")),
        "{error:?}"
    );
    assert!(error.to_string().contains("test driver"), "{error}");
    // Nothing moved.
    assert_eq!(domains(&mut hypervisor).len(), 3);
}

#[test]
fn a_state_file_keeps_the_changes_across_a_reopen() {
    let dir = scratch_dir("state");
    let state = dir.join("site1-h1.json");
    {
        let mut hypervisor = Libvirt::open(&node_uri("site1-h1"), Some(state.clone())).unwrap();
        hypervisor.define(&domain_xml("vm-new", &uuid_for("vm-new"), 256 << 10, 1, 4.0)).unwrap();
        hypervisor.start("vm-new").unwrap();
        hypervisor.undefine("batch1").unwrap();
        hypervisor.destroy("db1").unwrap();
    }
    let expected = [("db1".to_string(), false), ("vm-new".to_string(), true), ("web1".to_string(), true)];
    let mut reopened = Libvirt::open(&node_uri("site1-h1"), Some(state.clone())).unwrap();
    assert_eq!(names(&mut reopened), expected);
    let new = domains(&mut reopened).into_iter().find(|domain| domain.name == "vm-new").unwrap();
    assert_eq!((new.uuid, new.load), (uuid_for("vm-new"), 4.0));
    drop(reopened);
    // Re-opening again restores the same state (the restore itself saved nothing else).
    let mut again = Libvirt::open(&node_uri("site1-h1"), Some(state.clone())).unwrap();
    assert_eq!(names(&mut again), expected);
    // The node file itself is untouched.
    assert_eq!(names(&mut open("site1-h1")).len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_state_file_is_refused_for_a_real_daemon() {
    let error = Libvirt::open("qemu:///system", Some(PathBuf::from("/tmp/unused.json"))).unwrap_err();
    assert!(
        matches!(&error, HvError::Unsupported(m) if m.contains("qemu:///system") && m.contains("/tmp/unused.json")),
        "{error:?}"
    );
}

#[test]
fn a_bad_uri_gives_an_error_naming_it() {
    for uri in ["test:///nonexistent/lcc-node.xml", "nosuchdriver:///x"] {
        let error = Libvirt::open(uri, None).unwrap_err();
        assert!(error.to_string().contains(uri), "{error}");
    }
}
