//! Byte offsets and lcc types to LSP positions and types, and back. Positions from the client
//! are clamped into the text: an out-of-range position is the end of its line or of the file.

use lcc_syntax::ast::Span;
use lcc_syntax::diagnostic::LineIndex;
use lcc_syntax::{Diagnostic, Severity};
use tower_lsp_server::ls_types::{self as lsp, Position, Range, Uri};

/// A file's text with its line index, for conversions.
pub struct Text<'a> {
    pub text: &'a str,
    pub lines: LineIndex,
}

impl<'a> Text<'a> {
    pub fn new(text: &'a str) -> Text<'a> {
        Text { text, lines: LineIndex::new(text) }
    }

    pub fn position(&self, offset: u32) -> Position {
        let (line, character) = self.lines.utf16_position(self.text, offset);
        Position { line, character }
    }

    pub fn range(&self, span: Span) -> Range {
        Range { start: self.position(span.start), end: self.position(span.end.max(span.start)) }
    }

    /// The byte offset of a position, clamped into the text. A position past the end of a line
    /// ending in `\r\n` is before the `\r` (the LSP's line terminator is `\r\n` as a whole),
    /// so that an edit there never splits the pair.
    pub fn offset(&self, position: Position) -> u32 {
        let offset = self.lines.offset_of_utf16(self.text, position.line, position.character);
        let bytes = self.text.as_bytes();
        let split_crlf = offset > 0
            && bytes.get(offset as usize) == Some(&b'\n')
            && bytes.get(offset as usize - 1) == Some(&b'\r');
        if split_crlf { offset - 1 } else { offset }
    }

    pub fn span(&self, range: Range) -> Span {
        let (a, b) = (self.offset(range.start), self.offset(range.end));
        Span::new(a.min(b) as usize, a.max(b) as usize)
    }
}

/// An lcc diagnostic as the LSP has it: code, severity, message (with the help appended),
/// secondary labels as related information.
pub fn diagnostic(uri: &Uri, text: &Text<'_>, d: &Diagnostic) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(label) = &d.label {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .map(|l| lsp::DiagnosticRelatedInformation {
            location: lsp::Location { uri: uri.clone(), range: text.range(l.span) },
            message: l.message.clone(),
        })
        .collect();
    lsp::Diagnostic {
        range: text.range(d.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.id.to_string())),
        source: Some("lcc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

/// The LSP text edits of a list of byte-range replacements.
pub fn edits(text: &Text<'_>, edits: &[lcc_syntax::diagnostic::TextEdit]) -> Vec<lsp::TextEdit> {
    edits
        .iter()
        .map(|e| lsp::TextEdit { range: text.range(e.span), new_text: e.replacement.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_clamp_into_lines() {
        let text = Text::new("ab\r\né😀\nx");
        let at = |line, character| text.offset(Position { line, character });
        assert_eq!(at(0, 2), 2);
        assert_eq!(at(0, 3), 2, "past the end of a CRLF line: before the \\r");
        assert_eq!(at(0, 1_000_000), 2);
        assert_eq!(at(1, 1), 6);
        assert_eq!(at(1, 2), 10, "inside a surrogate pair: after the character");
        assert_eq!(at(1, 3), 10);
        assert_eq!(at(1, 9), 10);
        assert_eq!(at(2, 1), 12);
        assert_eq!(at(1_000_000, 0), 12);
        assert_eq!(text.position(10), Position { line: 1, character: 3 });
    }
}
