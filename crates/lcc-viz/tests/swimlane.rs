//! The swimlane layout of `interaction_svg` on every model of the corpus and of `stdlib/`:
//! the SVG is well-formed XML with one lane per role, no two nodes overlap, every node lies in
//! its lane, and no arrow passes through a node (so none crosses a label). With
//! `LCC_VIZ_DUMP=DIR` the SVGs are also written to DIR, to look at.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_viz::{Layout, Options, Rect};
mod common;

use common::{corpus_root, files, stdlib_root};
use std::path::Path;

/// Whether the open interiors of two rectangles meet.
fn overlap(a: &Rect, b: &Rect) -> bool {
    a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom()
}

/// Whether the axis-aligned segment `p`-`q` passes through the interior of `r`.
fn crosses(p: (f64, f64), q: (f64, f64), r: &Rect) -> bool {
    let inner = Rect { x: r.x + 0.5, y: r.y + 0.5, w: (r.w - 1.0).max(0.0), h: (r.h - 1.0).max(0.0) };
    let seg = Rect { x: p.0.min(q.0), y: p.1.min(q.1), w: (p.0 - q.0).abs(), h: (p.1 - q.1).abs() };
    seg.x <= inner.right() && inner.x <= seg.right() && seg.y <= inner.bottom() && inner.y <= seg.bottom()
}

fn check(name: &str, source: &str, options: &Options) -> Layout {
    let (model, _) = lcc_check::check_source(source);
    let layout = lcc_viz::interaction_layout(&model, source, options);
    let svg = layout.svg();
    if let Some(dir) = std::env::var_os("LCC_VIZ_DUMP") {
        let file = Path::new(&dir).join(format!("{}.svg", name.replace(['/', '.'], "_")));
        std::fs::write(file, &svg).unwrap();
    }
    let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: not XML: {e}"));
    let lanes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("lane"))
        .filter_map(|n| n.attribute("data-role"))
        .collect();
    let roles: Vec<&str> = model
        .roles
        .iter()
        .map(|r| r.name.as_str())
        .filter(|r| options.roles.is_empty() || options.roles.iter().any(|s| s == r))
        .collect();
    assert_eq!(lanes, roles, "{name}: one lane per role, in declaration order");

    for (i, a) in layout.nodes.iter().enumerate() {
        let lane = &layout.lanes[a.lane].rect;
        assert!(
            a.rect.x >= lane.x
                && a.rect.right() <= lane.right()
                && a.rect.y >= lane.y
                && a.rect.bottom() <= lane.bottom(),
            "{name}: node `{}` outside its lane",
            a.label
        );
        for b in &layout.nodes[i + 1..] {
            assert!(!overlap(&a.rect, &b.rect), "{name}: `{}` overlaps `{}`", a.label, b.label);
        }
    }
    for edge in &layout.edges {
        let from = &layout.nodes[edge.from];
        let to = &layout.nodes[edge.to];
        assert!(edge.points.len() >= 2, "{name}: empty arrow");
        assert_eq!(
            edge.points.first().unwrap().1,
            from.rect.bottom(),
            "{name}: arrow leaves `{}`",
            from.label
        );
        assert_eq!(edge.points.last().unwrap().1, to.rect.y, "{name}: arrow enters `{}`", to.label);
        for pair in edge.points.windows(2) {
            let (p, q) = (pair[0], pair[1]);
            assert!(p.0 == q.0 || p.1 == q.1, "{name}: arrow segments are horizontal or vertical");
            for node in &layout.nodes {
                assert!(
                    !crosses(p, q, &node.rect),
                    "{name}: {:?} arrow from `{}` to `{}` crosses `{}` ({p:?} -> {q:?})",
                    edge.kind,
                    from.label,
                    to.label,
                    node.label
                );
            }
        }
    }
    // Texts outside nodes: the numbers of `or` alternatives and the heads of later clauses.
    let numbers = layout
        .numbers
        .iter()
        .map(|(t, x, y)| (t, Rect { x: *x, y: y - 9.0, w: 7.0 * t.len() as f64, h: 10.0 }));
    let heads = layout.clause_heads.iter().map(|(t, x, y)| {
        let w = 7.0 * t.chars().count() as f64;
        (t, Rect { x: x - w / 2.0, y: y - 10.0, w, h: 12.0 })
    });
    for (text, label) in numbers.chain(heads) {
        for node in &layout.nodes {
            assert!(!overlap(&label, &node.rect), "{name}: `{text}` written over `{}`", node.label);
        }
        for edge in &layout.edges {
            for pair in edge.points.windows(2) {
                assert!(!crosses(pair[0], pair[1], &label), "{name}: an arrow crosses `{text}`");
            }
        }
    }
    layout
}

#[test]
fn every_corpus_model_is_laid_out_without_arrows_through_labels() {
    let Some(root) = corpus_root() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let mut paths = Vec::new();
    files(&root, &mut paths);
    assert!(paths.len() >= 15);
    for path in paths {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        check(&name, &source, &Options::default());
    }
}

#[test]
fn every_shipped_model_is_laid_out_without_arrows_through_labels() {
    let root = stdlib_root();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    assert!(!paths.is_empty());
    for path in paths {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        let layout = check(&name, &source, &Options::default());
        assert!(
            layout.edges.iter().any(|e| e.kind == lcc_viz::EdgeKind::Message),
            "{name}: no message drawn"
        );
    }
}
