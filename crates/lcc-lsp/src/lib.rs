//! `lcc-lsp`: the LCC language server, on tower-lsp-server.
//!
//! The server keeps one salsa [`Database`] with a [`SourceFile`] per `.lcc` file of the
//! workspace (open documents hold the editor's text). Every request takes a snapshot of the
//! database (a cheap clone), and runs one function of `lcc_check::ide` on it in a blocking
//! thread, off the async runtime. An edit sets the file's text on the database, which cancels
//! every query still running on an older snapshot: those requests answer "content modified".
//! A panic in a query becomes an error response and a log line; the server lives on.
//!
//! Messages pass through `transport.rs` first: tower-lsp-server stops for good at the first
//! message it cannot decode, so malformed ones are answered there and never reach it.

mod convert;
mod server;
mod transport;

pub use server::Backend;
pub use transport::serve;

use lcc_check::{Database, SourceFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::Uri;

/// One file known to the server.
pub(crate) struct Document {
    pub file: SourceFile,
    /// The editor's version while open; `None` for a file read from disk.
    pub version: Option<i32>,
    /// Bumped on every edit, so that a debounced diagnostics run can see it is stale.
    pub edits: u64,
}

/// Everything behind the server's one lock. Handlers hold it only to copy what they need.
#[derive(Default)]
pub(crate) struct State {
    pub db: Database,
    pub documents: HashMap<Uri, Document>,
    pub roots: Vec<PathBuf>,
    /// The client can watch files for us (dynamic registration of didChangeWatchedFiles).
    pub watch_files: bool,
}

impl State {
    /// The workspace: every file known, open or not.
    pub fn workspace(&self) -> Vec<SourceFile> {
        self.documents.values().map(|d| d.file).collect()
    }
}

/// Model files under `root`: `.lcc`, `.xlcc` and `.im`, at most `limit`, skipping build and
/// dependency directories.
pub(crate) fn scan(root: &Path, limit: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !name.starts_with('.') && !matches!(name, "target" | "node_modules") {
                    stack.push(path);
                }
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "lcc" | "xlcc" | "im"))
            {
                out.push(path);
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

/// Serves the language server protocol on stdin/stdout until the client exits.
pub fn run_stdio() -> std::io::Result<()> {
    // Queries walk syntax trees recursively, as deep as the parser accepts (E0013): their
    // threads get the stack the command line's worker has. Only touched pages are committed.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .thread_stack_size(1 << 30)
        .enable_all()
        .build()?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // A read of stdin may still be pending (the client sent `exit` and kept it open).
    runtime.shutdown_background();
    Ok(())
}
