//! Feeds arbitrary text to the checker and draws whatever IR comes out (also of models with
//! errors, which the CLI refuses but the language server may draw): DOT and the swimlane
//! layout must never panic, and the layout keeps its invariants: finite coordinates, no two
//! nodes overlapping, every arrow horizontal or vertical.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let source = source.as_ref();
    let (ir, _) = lcc_check::check_source(source);
    let options = lcc_viz::Options::default();
    let dot = lcc_viz::interaction_dot(&ir, source, &options);
    assert!(dot.ends_with("}\n"));
    let layout = lcc_viz::interaction_layout(&ir, source, &options);
    assert!(layout.width.is_finite() && layout.height.is_finite());
    for (i, a) in layout.nodes.iter().enumerate() {
        for b in layout.nodes.iter().skip(i + 1) {
            let apart = a.rect.right() <= b.rect.x
                || b.rect.right() <= a.rect.x
                || a.rect.bottom() <= b.rect.y
                || b.rect.bottom() <= a.rect.y;
            assert!(apart, "{} overlaps {}", a.label, b.label);
        }
    }
    for edge in &layout.edges {
        for pair in edge.points.windows(2) {
            if let [p, q] = pair {
                assert!(p.0 == q.0 || p.1 == q.1);
            }
        }
    }
    let svg = layout.svg();
    assert!(svg.ends_with("</svg>\n"));
});
