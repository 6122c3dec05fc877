//! The JSON form of diagnostics (`lcc check --format json`), built with `serde_json::json!`.
//!
//! Positions are 1-based lines and columns (columns count Unicode scalar values); an end
//! position is the one just after the last character of the range.

use lcc_syntax::ast::Span;
use lcc_syntax::diagnostic::{Diagnostic, LineIndex};
use serde_json::{Value, json};

/// A file's source with its line index, for turning spans into positions.
pub struct Positions<'a> {
    source: &'a str,
    index: LineIndex,
}

impl<'a> Positions<'a> {
    pub fn new(source: &'a str) -> Positions<'a> {
        Positions { source, index: LineIndex::new(source) }
    }

    /// 1-based `(line, column)` of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        self.index.line_col(self.source, offset)
    }

    /// `(line, column, end_line, end_column)`, all 1-based.
    fn range(&self, span: Span) -> (usize, usize, usize, usize) {
        let (line, column) = self.index.line_col(self.source, span.start);
        let (end_line, end_column) = self.index.line_col(self.source, span.end);
        (line, column, end_line, end_column)
    }
}

/// One diagnostic as a JSON object.
pub fn diagnostic(file: &str, positions: &Positions<'_>, d: &Diagnostic) -> Value {
    let (line, column, end_line, end_column) = positions.range(d.span);
    let labels: Vec<Value> = d
        .labels
        .iter()
        .map(|label| {
            let (line, column, end_line, end_column) = positions.range(label.span);
            json!({
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "message": label.message,
            })
        })
        .collect();
    let fix = d.fix.as_ref().map(|fix| {
        let edits: Vec<Value> = fix
            .edits
            .iter()
            .map(|edit| {
                let (line, column, end_line, end_column) = positions.range(edit.span);
                json!({
                    "line": line,
                    "column": column,
                    "end_line": end_line,
                    "end_column": end_column,
                    "replacement": edit.replacement,
                })
            })
            .collect();
        json!({ "message": fix.message, "edits": edits })
    });
    json!({
        "file": file,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "severity": d.severity.as_str(),
        "code": d.code.id,
        "name": d.code.name,
        "message": d.message,
        "label": d.label,
        "help": d.help,
        "labels": labels,
        "fix": fix,
    })
}

/// The whole report: counts and every diagnostic, in file order then source order.
pub fn document(files: usize, errors: usize, warnings: usize, diagnostics: Vec<Value>) -> Value {
    json!({
        "files": files,
        "errors": errors,
        "warnings": warnings,
        "diagnostics": diagnostics,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // `Value`'s index returns `Null` for what is missing
mod tests {
    use super::*;
    use lcc_syntax::codes;
    use lcc_syntax::diagnostic::TextEdit;

    #[test]
    fn positions_are_one_based_and_fields_complete() {
        let source = "a(p, X) ::\n  é # null\n";
        let positions = Positions::new(source);
        let d = Diagnostic::new(&codes::UNKNOWN_CHARACTER, Span::new(16, 17), "unexpected character `#`")
            .with_secondary(Span::new(0, 7), "in this clause")
            .with_fix("remove it", vec![TextEdit { span: Span::new(16, 18), replacement: String::new() }]);
        let v = diagnostic("m.lcc", &positions, &d);
        assert_eq!(v["line"], 2);
        assert_eq!(v["column"], 5);
        assert_eq!(v["end_column"], 6);
        assert_eq!(v["code"], "E0002");
        assert_eq!(v["name"], "unknown-character");
        assert_eq!(v["severity"], "error");
        assert_eq!(v["help"], Value::Null);
        assert_eq!(v["labels"][0]["end_column"], 8);
        assert_eq!(v["fix"]["edits"][0]["end_column"], 7);
        assert_eq!(v["fix"]["edits"][0]["replacement"], "");
    }
}
