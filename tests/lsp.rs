//! `lcc lsp` end to end: the real binary over stdio, driven by a small JSON-RPC client
//! (`lsp/client.rs`) that sends one request at a time and waits for its answer.
//!
//! - `lsp/features.rs`: what each request answers on small models (positions are written as
//!   `«name»` markers in the model text);
//! - `lsp/robustness.rs`: malformed messages, unknown methods and documents, positions out of
//!   range: the server answers (a result or a well-formed error) and keeps serving;
//! - `lsp/edits.rs`: a property test of random incremental edits, after which the server's
//!   diagnostics and formatting must be those of the test's own copy of the text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "lsp/client.rs"]
mod client;
#[path = "lsp/edits.rs"]
mod edits;
#[path = "lsp/features.rs"]
mod features;
#[path = "lsp/robustness.rs"]
mod robustness;
