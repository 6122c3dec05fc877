//! Feeds arbitrary bytes (made text with `String::from_utf8_lossy`) to the whole front end and
//! the semantic checker (`lcc_check::check_source`: parse, resolve, lower to the IR, every
//! analysis). Crashes are panics and sanitizer reports. Checked on every input: every
//! diagnostic span, secondary label and fix edit lies within the source, on char boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let source = source.as_ref();
    let (_ir, diagnostics) = lcc_check::check_source(source);
    let ok = |start: u32, end: u32| {
        let (start, end) = (start as usize, end as usize);
        start <= end && end <= source.len() && source.is_char_boundary(start) && source.is_char_boundary(end)
    };
    for d in &diagnostics {
        assert!(ok(d.span.start, d.span.end), "bad span of {d:?}");
        for label in &d.labels {
            assert!(ok(label.span.start, label.span.end), "bad label span of {d:?}");
        }
        for edit in d.fix.iter().flat_map(|f| &f.edits) {
            assert!(ok(edit.span.start, edit.span.end), "bad fix span of {d:?}");
        }
    }
});
