//! The one diagnostic type of the whole toolchain. The parser, the checker, the model checker
//! and the runtime all produce [`Diagnostic`]s; the terminal (ariadne), `--format json` and the
//! language server all consume them. Nothing here does IO except [`Diagnostic::render`], which
//! writes to a caller-supplied writer.

use crate::ast::Span;
use crate::codes::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary location with its own message ("the receive that does not match", …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One replacement of the text in `span` (an empty span inserts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub replacement: String,
}

/// A machine-applicable fix: applying all its edits removes the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub message: String,
    pub edits: Vec<TextEdit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static Code,
    pub severity: Severity,
    pub message: String,
    /// The primary location, and what to say right at it.
    pub span: Span,
    pub label: Option<String>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: &'static Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity,
            message: message.into(),
            span,
            label: None,
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into() });
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    pub fn with_fix(mut self, message: impl Into<String>, edits: Vec<TextEdit>) -> Diagnostic {
        self.fix = Some(Fix { message: message.into(), edits });
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic with ariadne, showing the source around every span.
    pub fn render(
        &self,
        file_name: &str,
        source: &str,
        color: bool,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        use ariadne::{Config, IndexType, Label as AriLabel, Report, ReportKind, Source};
        let kind = match self.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let clamp = |span: Span| {
            let len = source.len();
            let start = (span.start as usize).min(len);
            let end = (span.end as usize).min(len).max(start);
            (file_name, start..end)
        };
        let primary_color = match self.severity {
            Severity::Error => ariadne::Color::Red,
            Severity::Warning => ariadne::Color::Yellow,
        };
        let mut primary = AriLabel::new(clamp(self.span)).with_order(-1);
        if color {
            primary = primary.with_color(primary_color);
        }
        if let Some(label) = &self.label {
            primary = primary.with_message(label);
        }
        let mut report = Report::build(kind, clamp(self.span))
            .with_config(
                Config::default().with_index_type(IndexType::Byte).with_color(color).with_compact(false),
            )
            .with_code(format!("{}:{}", self.code.id, self.code.name))
            .with_message(&self.message)
            .with_label(primary);
        for (order, label) in self.labels.iter().enumerate() {
            let mut secondary = AriLabel::new(clamp(label.span))
                .with_message(&label.message)
                .with_order(i32::try_from(order).unwrap_or(i32::MAX));
            if color {
                secondary = secondary.with_color(ariadne::Color::Blue);
            }
            report = report.with_label(secondary);
        }
        if let Some(help) = &self.help {
            report = report.with_help(help);
        }
        if let Some(fix) = &self.fix {
            report = report.with_note(format!("fix available: {}", fix.message));
        }
        report.finish().write((file_name, Source::from(source)), out)
    }

    /// The rendered text without colour, as in snapshots and logs.
    pub fn render_to_string(&self, file_name: &str, source: &str) -> String {
        let mut buf = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = self.render(file_name, source, false, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Applies text edits to a source; edits must not overlap. Returns `None` if any edit lies
/// outside the source or splits a character.
pub fn apply_edits(source: &str, edits: &[TextEdit]) -> Option<String> {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(source.len());
    let mut pos = 0usize;
    for edit in sorted {
        let range = edit.span.range();
        if range.start < pos {
            return None;
        }
        out.push_str(source.get(pos..range.start)?);
        out.push_str(&edit.replacement);
        pos = range.end;
    }
    out.push_str(source.get(pos..)?);
    Some(out)
}

/// Line and column lookup for byte offsets. Lines and columns are 1-based; columns count
/// Unicode scalar values (what editors and terminals show). [`LineIndex::utf16_position`]
/// gives the 0-based UTF-16 position the LSP needs.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let mut line_starts = vec![0];
        for (i, b) in source.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        LineIndex { line_starts }
    }

    /// 0-based line of a byte offset.
    fn line_of(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        }
    }

    fn line_start(&self, line: usize) -> u32 {
        self.line_starts.get(line).copied().unwrap_or(0)
    }

    /// 1-based (line, column) of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, source: &str, offset: u32) -> (usize, usize) {
        let offset = offset.min(u32::try_from(source.len()).unwrap_or(u32::MAX));
        let line = self.line_of(offset);
        let start = self.line_start(line) as usize;
        let text = source.get(start..offset as usize).unwrap_or("");
        (line + 1, text.chars().count() + 1)
    }

    /// 0-based (line, UTF-16 column) of a byte offset, for the LSP.
    pub fn utf16_position(&self, source: &str, offset: u32) -> (u32, u32) {
        let offset = offset.min(u32::try_from(source.len()).unwrap_or(u32::MAX));
        let line = self.line_of(offset);
        let start = self.line_start(line) as usize;
        let text = source.get(start..offset as usize).unwrap_or("");
        let col: usize = text.chars().map(char::len_utf16).sum();
        (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX))
    }

    /// The byte offset of a 0-based (line, UTF-16 column), clamped into the source.
    pub fn offset_of_utf16(&self, source: &str, line: u32, col: u32) -> u32 {
        let Some(&start) = self.line_starts.get(line as usize) else {
            return u32::try_from(source.len()).unwrap_or(u32::MAX);
        };
        let rest = source.get(start as usize..).unwrap_or("");
        let mut units = 0u32;
        for (i, ch) in rest.char_indices() {
            if units >= col || ch == '\n' {
                return start + u32::try_from(i).unwrap_or(u32::MAX);
            }
            units += u32::try_from(ch.len_utf16()).unwrap_or(2);
        }
        u32::try_from(source.len()).unwrap_or(u32::MAX)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = "ab\né x\n";
        let idx = LineIndex::new(src);
        assert_eq!(idx.line_col(src, 0), (1, 1));
        assert_eq!(idx.line_col(src, 3), (2, 1));
        assert_eq!(idx.line_col(src, 6), (2, 3)); // after "é "
        assert_eq!(idx.line_col(src, 99), (3, 1));
        assert_eq!(idx.utf16_position(src, 6), (1, 2));
        assert_eq!(idx.offset_of_utf16(src, 1, 2), 6);
        assert_eq!(idx.offset_of_utf16(src, 7, 0), src.len() as u32);
    }

    #[test]
    fn edits_apply_in_order_and_reject_overlap() {
        let edits = vec![
            TextEdit { span: Span::new(4, 5), replacement: "Z".into() },
            TextEdit { span: Span::new(0, 1), replacement: "ab".into() },
        ];
        assert_eq!(apply_edits("x = y", &edits).as_deref(), Some("ab = Z"));
        let overlap = vec![
            TextEdit { span: Span::new(0, 3), replacement: String::new() },
            TextEdit { span: Span::new(2, 4), replacement: String::new() },
        ];
        assert_eq!(apply_edits("abcdef", &overlap), None);
    }
}
