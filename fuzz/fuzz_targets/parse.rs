//! Feeds arbitrary bytes (made text with `String::from_utf8_lossy`) to the lexer, the parser
//! and the formatter. Crashes are panics (including failed checks below) and sanitizer
//! reports. Checked on every input:
//! - every token, diagnostic and item span lies within the source, on char boundaries;
//! - the parser's speed-ups (lexing in segments, the fast path for well-formed clauses) give
//!   the same model and diagnostics as the plain pipeline (`parser::fast::differential`);
//! - when the formatter accepts the source, its output parses with no errors, has the same
//!   S-expression (meaning) as the input, and formatting it again changes nothing.
#![no_main]

use lcc_syntax::ast::Span;
use lcc_syntax::{format, lexer, parse, sexpr};
use libfuzzer_sys::fuzz_target;

fn assert_span(source: &str, start: usize, end: usize, what: &dyn std::fmt::Debug) {
    assert!(
        start <= end && end <= source.len() && source.is_char_boundary(start) && source.is_char_boundary(end),
        "bad span {start}..{end} of {what:?} in a source of {} bytes",
        source.len()
    );
}

fn assert_ast_span(source: &str, span: Span, what: &dyn std::fmt::Debug) {
    assert_span(source, span.start as usize, span.end as usize, what);
}

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let source = source.as_ref();

    for tok in lexer::tokenize(source) {
        assert_span(source, tok.start, tok.end, &tok.token);
        assert!(tok.start < tok.end, "empty token {:?}", tok.token);
    }

    let (model, diags) = parse(source);
    for diag in &diags {
        assert_ast_span(source, diag.span, &diag.message);
        for label in &diag.labels {
            assert_ast_span(source, label.span, &label.message);
        }
        for edit in diag.fix.iter().flat_map(|f| &f.edits) {
            assert_ast_span(source, edit.span, &diag.message);
        }
    }
    for item in &model.items {
        assert_ast_span(source, item.span, &item.kind);
    }
    for comment in &model.comments {
        assert_ast_span(source, comment.span, &comment.text);
    }

    // The parser's speed-ups (segments, the fast path for clean clauses) change nothing.
    if let Err(message) = lcc_syntax::parser::fast::differential(source) {
        panic!("{message}");
    }

    if let Ok(formatted) = format::format_source(source) {
        let (again, diags) = parse(&formatted);
        assert!(
            !diags.iter().any(|d| d.is_error()),
            "the formatted text does not parse: {:?}\n--- output\n{formatted}",
            diags.iter().filter(|d| d.is_error()).map(|d| &d.message).collect::<Vec<_>>()
        );
        assert_eq!(
            sexpr::model(&model),
            sexpr::model(&again),
            "formatting changed the meaning\n--- output\n{formatted}"
        );
        assert_eq!(
            format::format_source(&formatted).ok().as_deref(),
            Some(formatted.as_str()),
            "formatting is not idempotent"
        );
    }
});
