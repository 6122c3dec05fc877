//! Interaction diagrams of every model of the shared corpus (seed and external) and of
//! `stdlib/`: one insta snapshot of the DOT per corpus file, and structural checks on every
//! diagram (one lane per role that has a clause, a dashed arrow for every send/receive pair of
//! a message signature, balanced braces, no empty label). The corpus lives beside the
//! repository and is never copied into it; without it the corpus test says it skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{corpus_root, files, stdlib_root};

/// Draws `source` and checks the structure of the drawing; returns the DOT.
fn draw_and_check(name: &str, source: &str) -> String {
    let (model, _) = lcc_check::check_source(source);
    let dot = lcc_viz::interaction_dot(&model, source, &lcc_viz::Options::default());
    assert!(dot.starts_with("digraph interaction {\n") && dot.ends_with("}\n"), "{name}");
    assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{name}: unbalanced braces");
    let with_body = model
        .roles
        .iter()
        .filter(|r| r.clauses.iter().any(|&c| model.clause(c).is_some_and(|c| c.body.is_some())))
        .count();
    let lanes = dot.matches("subgraph cluster_").count();
    assert!(lanes >= with_body && lanes <= model.roles.len(), "{name}: {lanes} lanes for {with_body} roles");
    let pairs: usize = model.messages.iter().map(|m| m.sends.len() * m.receives.len()).sum();
    assert_eq!(dot.matches("style=dashed, color=").count(), pairs, "{name}: message arrows");
    assert!(!dot.contains("label=\"\""), "{name}: empty label");
    dot
}

#[test]
fn every_corpus_model_is_drawn() {
    let Some(root) = corpus_root() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let mut paths = Vec::new();
    files(&root, &mut paths);
    assert!(paths.len() >= 15, "the corpus has {} models", paths.len());
    for path in paths {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        let dot = draw_and_check(&name, &source);
        insta::assert_snapshot!(name.replace(['/', '.'], "_"), dot);
    }
}

#[test]
fn every_shipped_model_is_drawn() {
    let mut paths = Vec::new();
    files(&stdlib_root(), &mut paths);
    assert!(!paths.is_empty());
    for path in paths {
        let source = std::fs::read_to_string(&path).unwrap();
        draw_and_check(&path.display().to_string(), &source);
    }
}

#[test]
fn lanes_events_guards_branches_and_arrows() {
    let source = "\
a(client, C) ::
  req(N) => a(server, S) <- pick(N) then
  ( ok <= a(server, S) or fail <= a(server, S) )

a(server, S) ::
  req(N) <= a(client, C) then
  ( ok => a(client, C) <- N > 0 par log(N) => a(server, S) ) then
  a(server, S)
";
    let dot = draw_and_check("example", source);
    assert!(dot.contains("label=\"a(client, C)\""), "{dot}");
    assert!(dot.contains("label=\"req(N) ⇒ a(server, S)\""), "{dot}");
    assert!(dot.contains("label=\"pick(N)\", tooltip=\"pick(N)\", shape=diamond"), "{dot}");
    assert!(
        dot.contains("label=\"or\"") && dot.contains("label=\"par\"") && dot.contains("label=\"par end\"")
    );
    // Alternatives are numbered in the order they are tried.
    assert!(dot.contains("[label=\"1\"]") && dot.contains("[label=\"2\"]"));
    // The recursive role change goes back to the top of its own lane, without `lhead`.
    // ... and does not rank the lane.
    assert!(dot.lines().any(|l| l.contains("style=bold, color=\"#1f5fa8\", constraint=false]")), "{dot}");
    // Only the selected lanes.
    let (model, _) = lcc_check::check_source(source);
    let options = lcc_viz::Options { roles: vec!["server".into()], max_label: Some(8) };
    let server = lcc_viz::interaction_dot(&model, source, &options);
    assert_eq!(server.matches("subgraph cluster_").count(), 1);
    // Long labels are shortened; the tooltip keeps the whole text.
    assert!(server.contains("label=\"req(N) …\", tooltip=\"req(N) ⇐ a(client, C)\""), "{server}");
}
