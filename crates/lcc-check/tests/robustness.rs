//! The checker never panics and keeps its spans inside the source, whatever the parser
//! recovered: every prefix of the test models and the corpus, and the same with one line
//! deleted, is checked.

// Test code: a failed expectation is a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

fn assert_sane(name: &str, source: &str) {
    let (ir, diags) = lcc_check::check_source(source);
    let len = source.len() as u32;
    for d in &diags {
        assert!(
            d.span.start <= d.span.end && d.span.end <= len,
            "{name}: span {:?} outside the source",
            d.span
        );
        for l in &d.labels {
            assert!(l.span.end <= len, "{name}: label span {:?} outside the source", l.span);
        }
        if let Some(fix) = &d.fix {
            for e in &fix.edits {
                assert!(e.span.end <= len, "{name}: fix span {:?} outside the source", e.span);
            }
        }
    }
    for clause in &ir.clauses {
        assert!(
            clause.span.end <= len && clause.head_span.end <= len,
            "{name}: clause span outside the source"
        );
        for v in &clause.vars {
            assert!(v.binding.end <= len, "{name}: binding site of {} outside the source", v.name);
        }
    }
}

fn models() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        common::CODE_CASES.iter().map(|(c, s)| (format!("{c}.lcc"), (*s).to_string())).collect();
    if let Some(corpus) = common::corpus() {
        for sub in ["seed", "external"] {
            for path in common::corpus_files(&corpus, sub) {
                out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn every_prefix_checks_without_panic() {
    for (name, source) in models() {
        let cuts: Vec<usize> =
            source.char_indices().map(|(i, _)| i).step_by(5).chain([source.len()]).collect();
        for cut in cuts {
            assert_sane(&format!("{name}[..{cut}]"), &source[..cut]);
        }
    }
}

#[test]
fn every_line_deleted_checks_without_panic() {
    for (name, source) in models() {
        let lines: Vec<&str> = source.lines().collect();
        for skip in 0..lines.len() {
            let text: String =
                lines.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, l)| format!("{l}\n")).collect();
            assert_sane(&format!("{name} without line {}", skip + 1), &text);
        }
    }
}
