//! `lcc viz` end to end: the output format (from `--format` or the extension of `-o`), the
//! engines (lcc's own layout, Graphviz `dot`), PNG, and the shipped models drawn as
//! well-formed SVG with one lane per role.
//!
//! Tests of the Graphviz engine run when `dot` is on PATH (`scripts/test-all` installs
//! Graphviz) and say that they skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{RawOutput, TempDir, run_lcc_raw};
use std::path::{Path, PathBuf};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn stdlib(model: &str) -> String {
    format!("{}/stdlib/{model}", env!("CARGO_MANIFEST_DIR"))
}

fn load_balancing() -> String {
    stdlib("vm/balance_as_published.lcc")
}

fn buyer_shopkeeper() -> String {
    stdlib("market/buyer_shopkeeper_as_published.lcc")
}

/// `lcc ARGS` in `dir`, with extra environment.
fn lcc_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> RawOutput {
    run_lcc_raw(dir, args, None, env)
}

fn lcc(args: &[&str]) -> RawOutput {
    lcc_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, &[])
}

/// Runs and expects success.
fn ok(args: &[&str]) -> RawOutput {
    let out = lcc(args);
    assert_eq!(out.code, 0, "lcc {args:?}: {}", out.stderr);
    out
}

/// Parses SVG (Graphviz's has a DOCTYPE) and returns it for inspection.
fn parse_svg(text: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{text}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg", "{text}");
    doc
}

/// The `data-role` of every `<g class="lane">`, in order.
fn lanes(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter(|n| {
            n.tag_name().name() == "g"
                && n.attribute("class").is_some_and(|c| c.split_whitespace().any(|c| c == "lane"))
        })
        .map(|n| n.attribute("data-role").expect("a lane names its role").to_string())
        .collect()
}

/// Width and height of a PNG, from its IHDR chunk (which the format puts first).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(PNG_SIGNATURE), "not a PNG: {:?}", &bytes[..bytes.len().min(16)]);
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (width, height)
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// Whether Graphviz `dot` is on PATH; says that the calling test skipped when it is not.
fn graphviz(test: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("dot").is_file()));
    if !found {
        eprintln!("skipped {test}: Graphviz `dot` is not on PATH (`apt-get install graphviz`)");
    }
    found
}

#[test]
fn help_documents_the_formats_and_engines() {
    let help = ok(&["viz", "--help"]);
    for word in ["--format", "--engine", "dot", "svg", "png", "auto", "builtin", ".gv", "Exit status"] {
        assert!(text(&help.stdout).contains(word), "`lcc viz --help` lacks {word}:\n{}", text(&help.stdout));
    }
}

#[test]
fn the_format_follows_the_extension_of_the_output_file() {
    let dir = TempDir::new("ext");
    let model = load_balancing();
    let dot = ok(&["viz", &model]);
    assert!(text(&dot.stdout).starts_with("digraph interaction {"));
    for name in ["lb.dot", "lb.gv"] {
        ok(&["viz", &model, "-o", &dir.file(name)]);
        assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), dot.stdout, "{name}");
    }
    for name in ["lb.svg", "LB.SVG"] {
        ok(&["viz", &model, "-o", &dir.file(name)]);
        let svg = std::fs::read_to_string(dir.path().join(name)).unwrap();
        parse_svg(&svg);
    }
    ok(&["viz", &model, "-o", &dir.file("lb.png")]);
    let (width, height) = png_size(&std::fs::read(dir.path().join("lb.png")).unwrap());
    assert!(width >= 32 && height >= 32, "{width} x {height}");
}

#[test]
fn the_format_flag_overrides_the_extension() {
    let dir = TempDir::new("flag");
    let model = load_balancing();
    ok(&["viz", &model, "--format", "svg", "-o", &dir.file("really-svg.dot")]);
    parse_svg(&std::fs::read_to_string(dir.path().join("really-svg.dot")).unwrap());
    ok(&["viz", &model, "--format", "dot", "-o", &dir.file("really-dot.svg")]);
    let dot = std::fs::read_to_string(dir.path().join("really-dot.svg")).unwrap();
    assert!(dot.starts_with("digraph interaction {"), "{dot}");
    // Any name at all with --format; standard output too.
    ok(&["viz", &model, "--format", "dot", "-o", &dir.file("no-extension")]);
    let svg = ok(&["viz", &model, "--format", "svg"]);
    parse_svg(text(&svg.stdout));
    // PNG to a pipe (not a terminal) is fine.
    let png = ok(&["viz", &model, "--format", "png"]);
    png_size(&png.stdout);
}

#[test]
fn an_unknown_extension_is_refused() {
    let dir = TempDir::new("unknown");
    for name in ["lb.txt", "lb.jpeg", "lb"] {
        let out = lcc(&["viz", &load_balancing(), "-o", &dir.file(name)]);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        for word in [".dot", ".gv", ".svg", ".png", "--format"] {
            assert!(out.stderr.contains(word), "{name}: `{word}` not in {}", out.stderr);
        }
        assert!(out.stdout.is_empty());
        assert!(!dir.path().join(name).exists(), "{name} was written");
    }
    let bad = lcc(&["viz", &load_balancing(), "--format", "jpeg"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let engine = lcc(&["viz", &load_balancing(), "--format", "svg", "--engine", "cairo"]);
    assert_eq!(engine.code, 2, "{}", engine.stderr);
}

#[test]
fn builtin_svg_is_well_formed_with_one_lane_per_role() {
    for (model, roles) in [
        (load_balancing(), &["idle", "overloaded", "underloaded"][..]),
        (buyer_shopkeeper(), &["buyer", "shopkeeper"][..]),
    ] {
        let out = ok(&["viz", "--engine", "builtin", "--format", "svg", &model]);
        let doc = parse_svg(text(&out.stdout));
        assert_eq!(lanes(&doc), roles, "{model}");
        // --role draws only those lanes.
        let only = ok(&["viz", "--engine", "builtin", "--format", "svg", "--role", roles[0], &model]);
        assert_eq!(lanes(&parse_svg(text(&only.stdout))), &roles[..1], "{model}");
    }
}

/// Every model file under `stdlib/`.
fn shipped_models() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "lcc") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib"), &mut out);
    assert!(!out.is_empty());
    out
}

/// The names of the roles of a model, in declaration order.
fn role_names(model: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(model).unwrap();
    let (ir, _) = lcc_check::check_source(&source);
    ir.roles.iter().map(|r| r.name.to_string()).collect()
}

#[test]
fn every_shipped_model_renders_as_svg_with_one_lane_per_role() {
    let dir = TempDir::new("stdlib");
    for model in shipped_models() {
        let name = model.display().to_string();
        let file = dir.file("diagram.svg");
        ok(&["viz", "--engine", "builtin", &name, "-o", &file]);
        let svg = std::fs::read_to_string(&file).unwrap();
        assert_eq!(lanes(&parse_svg(&svg)), role_names(&model), "{name}");
        if graphviz("every_shipped_model_renders_as_svg_with_one_lane_per_role (dot)") {
            ok(&["viz", "--engine", "dot", &name, "-o", &file]);
            let svg = std::fs::read_to_string(&file).unwrap();
            let doc = parse_svg(&svg);
            // Graphviz draws each lane as a cluster, titled with the role's clause head.
            let clusters = doc.descendants().filter(|n| n.attribute("class") == Some("cluster")).count();
            assert_eq!(clusters, role_names(&model).len(), "{name}");
        }
    }
}

/// `docs/load_balancing.svg` and `.png` are what `lcc viz --engine builtin` draws today
/// (regenerate with the commands in docs/README.md).
#[test]
fn the_diagram_in_docs_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(root.join("docs/load_balancing.svg")).unwrap();
    let fresh = ok(&["viz", "--engine", "builtin", "--format", "svg", &load_balancing()]);
    assert!(
        committed == text(&fresh.stdout),
        "docs/load_balancing.svg is stale: regenerate it (docs/README.md)"
    );
    let png = std::fs::read(root.join("docs/load_balancing.png")).unwrap();
    let (width, height) = png_size(&png);
    let doc = parse_svg(&committed);
    let side = |name: &str| doc.root_element().attribute(name).and_then(|v| v.parse::<f64>().ok()).unwrap();
    assert_eq!((width, height), ((side("width") * 2.0).ceil() as u32, (side("height") * 2.0).ceil() as u32));
}

#[cfg(feature = "png")]
#[test]
fn builtin_png_is_a_png_at_twice_the_size_of_the_svg() {
    let dir = TempDir::new("png");
    for model in [load_balancing(), buyer_shopkeeper()] {
        let png = ok(&["viz", "--engine", "builtin", "--format", "png", &model]);
        let (width, height) = png_size(&png.stdout);
        assert!((16..=16_384).contains(&width) && (16..=16_384).contains(&height), "{width} x {height}");
        let svg = ok(&["viz", "--engine", "builtin", "--format", "svg", &model]);
        let svg = text(&svg.stdout);
        let root = parse_svg(svg);
        let side = |name: &str| root.root_element().attribute(name).and_then(|v| v.parse::<f64>().ok());
        if let (Some(w), Some(h)) = (side("width"), side("height")) {
            assert_eq!((width, height), ((w * 2.0).ceil() as u32, (h * 2.0).ceil() as u32), "{model}");
        }
        // The same bytes into a file.
        let file = dir.file("out.png");
        ok(&["viz", "--engine", "builtin", &model, "-o", &file]);
        assert_eq!(std::fs::read(&file).unwrap(), png.stdout);
    }
}

#[cfg(not(feature = "png"))]
#[test]
fn builtin_png_needs_the_png_feature() {
    let out = lcc(&["viz", "--engine", "builtin", "--format", "png", &load_balancing()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("without PNG support"), "{}", out.stderr);
}

#[test]
fn builtin_state_space_svg_is_well_formed() {
    let out = ok(&[
        "viz",
        "--state-space",
        "--peers",
        "a(buyer, b), a(shopkeeper, s)",
        "--engine",
        "builtin",
        "--format",
        "svg",
        &buyer_shopkeeper(),
    ]);
    let svg = text(&out.stdout);
    let doc = parse_svg(svg);
    let nodes =
        doc.descendants().filter(|n| n.tag_name().name() == "g" && n.attribute("class") == Some("node"));
    // The same twelve states as the DOT of tests/cli.rs: three deadlocks, one success.
    assert_eq!(nodes.count(), 12, "{svg}");
    let words: Vec<&str> = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    assert_eq!(words.iter().filter(|w| **w == "deadlock").count(), 3, "{words:?}");
    assert_eq!(words.iter().filter(|w| **w == "success").count(), 1, "{words:?}");
    // And as PNG.
    if cfg!(feature = "png") {
        let png =
            ok(&["viz", "--state-space", "--engine", "builtin", "--format", "png", &buyer_shopkeeper()]);
        png_size(&png.stdout);
    }
}

#[test]
fn dot_engine_renders_svg_and_png() {
    if !graphviz("dot_engine_renders_svg_and_png") {
        return;
    }
    let model = load_balancing();
    let svg = ok(&["viz", "--engine", "dot", "--format", "svg", &model]);
    let svg = text(&svg.stdout);
    assert!(svg.contains("Generated by graphviz"), "{svg}");
    parse_svg(svg);
    let png = ok(&["viz", "--engine", "dot", "--format", "png", &model]);
    let (width, height) = png_size(&png.stdout);
    assert!(width >= 100 && height >= 100, "{width} x {height}");
    let states = ok(&["viz", "--state-space", "--engine", "dot", "--format", "svg", &buyer_shopkeeper()]);
    parse_svg(text(&states.stdout));
    // auto picks Graphviz when it is there.
    let auto = ok(&["viz", "--format", "svg", &model]);
    assert!(text(&auto.stdout).contains("Generated by graphviz"));
}

#[test]
fn dot_engine_without_graphviz_says_how_to_install_it() {
    let empty = TempDir::new("no-graphviz");
    let path = empty.path().to_str().unwrap();
    let model = load_balancing();
    let out = lcc_in(empty.path(), &["viz", "--engine", "dot", "--format", "svg", &model], &[("PATH", path)]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("apt-get install graphviz") && out.stderr.contains("--engine builtin"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    // auto falls back to the built-in layout.
    let auto = lcc_in(empty.path(), &["viz", "--format", "svg", &model], &[("PATH", path)]);
    assert_eq!(auto.code, 0, "{}", auto.stderr);
    assert_eq!(lanes(&parse_svg(text(&auto.stdout))).len(), 3);
    // DOT needs no engine.
    let dot = lcc_in(empty.path(), &["viz", "--engine", "dot", &model], &[("PATH", path)]);
    assert_eq!(dot.code, 0, "{}", dot.stderr);
}

#[cfg(unix)]
#[test]
fn a_failing_dot_is_reported_with_its_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let bin = TempDir::new("broken-graphviz");
    let fake = bin.path().join("dot");
    std::fs::write(&fake, "#!/bin/sh\necho 'Error: <stdin>: syntax error in line 1 near x' >&2\nexit 1\n")
        .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = bin.path().to_str().unwrap();
    for engine in ["dot", "auto"] {
        let out = lcc_in(
            bin.path(),
            &["viz", "--engine", engine, "--format", "svg", &load_balancing()],
            &[("PATH", path)],
        );
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains("syntax error in line 1 near x"), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

/// Under a pseudo-terminal (util-linux `script`), PNG on standard output is refused.
#[cfg(unix)]
#[test]
fn png_is_never_written_to_a_terminal() {
    let has_script =
        std::process::Command::new("script").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("skipped png_is_never_written_to_a_terminal: util-linux `script` is not installed");
        return;
    }
    let command = format!("'{}' viz --format png '{}'", env!("CARGO_BIN_EXE_lcc"), load_balancing());
    let out = std::process::Command::new("script").args(["-qec", &command, "/dev/null"]).output().unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{seen}");
    assert!(seen.contains("-o out.png") && !seen.contains("PNG\r\n"), "{seen}");
}
