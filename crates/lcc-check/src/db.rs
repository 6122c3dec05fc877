//! The salsa database: source files are inputs; `parse -> check -> diagnostics` are tracked
//! queries whose results are plain values (diagnostics are returned, never pushed aside).
//! Editing one file re-runs only that file's queries.

use crate::ir;
use lcc_syntax::Diagnostic;
use lcc_syntax::ast;
use std::sync::{Arc, Mutex};

/// One source file: its path (for messages) and its text.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
}

/// The syntax tree of a file and its syntax diagnostics.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub ast: ast::Model,
    pub diagnostics: Vec<Diagnostic>,
}

/// The typed IR of a file and its semantic diagnostics.
#[derive(Debug, PartialEq)]
pub struct Checked {
    pub ir: ir::Model,
    pub diagnostics: Vec<Diagnostic>,
}

#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn salsa::Database, file: SourceFile) -> Parsed {
    let (ast, diagnostics) = lcc_syntax::parse(file.text(db));
    Parsed { ast, diagnostics }
}

/// Resolution, the typed IR, and the lints.
#[salsa::tracked(returns(ref))]
pub fn check(db: &dyn salsa::Database, file: SourceFile) -> Checked {
    let parsed = parse(db, file);
    let (ir, diagnostics) = crate::check_parsed(file.text(db), &parsed.ast, &parsed.diagnostics);
    Checked { ir, diagnostics }
}

/// Every diagnostic of a file (syntax and semantic), in source order.
#[salsa::tracked(returns(ref))]
pub fn diagnostics(db: &dyn salsa::Database, file: SourceFile) -> Vec<Diagnostic> {
    let mut all = parse(db, file).diagnostics.clone();
    all.extend(check(db, file).diagnostics.iter().cloned());
    crate::sort_diagnostics(&mut all);
    all
}

/// The database. Cloning is cheap (a handle); edits go through `SourceFile::set_text`.
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    /// When set, the names of executed queries are recorded (tests of incrementality).
    log: Option<Arc<Mutex<Vec<String>>>>,
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database that records every query execution (`WillExecute` events).
    pub fn with_query_log() -> Database {
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&log);
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind
                && let Ok(mut log) = sink.lock()
            {
                log.push(format!("{database_key:?}"));
            }
        })));
        Database { storage, log: Some(log) }
    }

    /// The queries executed since the last call, as `name(Id(..))` strings.
    pub fn take_query_log(&self) -> Vec<String> {
        match &self.log {
            Some(log) => log.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}
