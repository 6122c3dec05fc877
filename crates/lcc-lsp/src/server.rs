//! The LSP handlers: one per feature, each a thin conversion around one function of
//! `lcc_check::ide`, run by [`Backend::query`] on a database snapshot off the async runtime.

use crate::convert::{self, Text};
use crate::{Document, State, scan};
use lcc_check::{Database, SourceFile, ide};
use salsa::Setter;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// How long diagnostics wait after an edit for the next one (typing), by default.
const DEFAULT_DIAGNOSTICS_DELAY: Duration = Duration::from_millis(15);
/// At most this many model files of the workspace are loaded.
const WORKSPACE_LIMIT: usize = 20_000;

#[derive(Clone)]
pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    delay: Arc<Mutex<Duration>>,
}

/// What a query sees: the database snapshot, the file asked about, the whole workspace.
struct Snapshot {
    db: Database,
    file: SourceFile,
    workspace: Vec<SourceFile>,
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        Backend { client, state: Arc::default(), delay: Arc::new(Mutex::new(DEFAULT_DIAGNOSTICS_DELAY)) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic never happens while the lock is held (queries run on snapshots), but if one
        // did, the state is still consistent: every update is a single assignment.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn snapshot(&self, uri: &Uri) -> Option<Snapshot> {
        let state = self.state();
        let file = state.documents.get(uri)?.file;
        Some(Snapshot { db: state.db.clone(), file, workspace: state.workspace() })
    }

    /// Runs `f` on a snapshot in a blocking thread. `Ok(None)` for an unknown document; a
    /// cancelled query (an edit arrived) answers "content modified"; a panic answers an
    /// internal error and is logged.
    async fn query<T, F>(&self, uri: &Uri, what: &'static str, f: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Database, SourceFile, &[SourceFile]) -> T + Send + 'static,
    {
        let Some(snapshot) = self.snapshot(uri) else { return Ok(None) };
        self.run(snapshot, what, f).await.map(Some)
    }

    /// [`Backend::query`] on a snapshot already taken.
    async fn run<T, F>(&self, snapshot: Snapshot, what: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Database, SourceFile, &[SourceFile]) -> T + Send + 'static,
    {
        let outcome = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                // The snapshot is dropped after the query whatever happens: no state is shared.
                salsa::Cancelled::catch(AssertUnwindSafe(|| {
                    f(&snapshot.db, snapshot.file, &snapshot.workspace)
                }))
            }))
        })
        .await;
        match outcome {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(_cancelled))) => Err(Error::content_modified()),
            Ok(Err(panic)) => {
                let reason = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown");
                self.client
                    .log_message(MessageType::ERROR, format!("lcc lsp: {what} failed: {reason}"))
                    .await;
                Err(Error::internal_error())
            }
            Err(join) => {
                self.client.log_message(MessageType::ERROR, format!("lcc lsp: {what} failed: {join}")).await;
                Err(Error::internal_error())
            }
        }
    }

    /// Sets the text of a document (adding it when new), off the async runtime: salsa waits
    /// there for the queries running on older snapshots to see that they are cancelled.
    fn set_text(&self, uri: &Uri, text: String, version: Option<i32>) -> u64 {
        let state = Arc::clone(&self.state);
        let uri = uri.clone();
        tokio::task::block_in_place(move || {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            let State { db, documents, .. } = &mut *state;
            match documents.get_mut(&uri) {
                Some(doc) => {
                    doc.file.set_text(db).to(text);
                    doc.version = version;
                    doc.edits += 1;
                    doc.edits
                }
                None => {
                    let file = SourceFile::new(db, uri.to_string(), text);
                    documents.insert(uri, Document { file, version, edits: 0 });
                    0
                }
            }
        })
    }

    /// Publishes the diagnostics of `uri` after the debounce delay, unless another edit came.
    fn schedule_diagnostics(&self, uri: Uri, edits: u64) {
        let backend = self.clone();
        tokio::spawn(async move {
            let delay = *backend.delay.lock().unwrap_or_else(|p| p.into_inner());
            tokio::time::sleep(delay).await;
            // The version and the snapshot are taken under one lock: they are of the same text.
            let current = {
                let state = backend.state();
                state.documents.get(&uri).filter(|d| d.edits == edits).map(|d| {
                    (d.version, Snapshot { db: state.db.clone(), file: d.file, workspace: Vec::new() })
                })
            };
            let Some((version, snapshot)) = current else { return };
            let target = uri.clone();
            let result = backend
                .run(snapshot, "diagnostics", move |db, file, _| {
                    let text = Text::new(file.text(db));
                    lcc_check::diagnostics(db, file)
                        .iter()
                        .map(|d| convert::diagnostic(&target, &text, d))
                        .collect::<Vec<_>>()
                })
                .await;
            if let Ok(diagnostics) = result {
                backend.client.publish_diagnostics(uri, diagnostics, version).await;
            }
        });
    }
}

fn uri_of(db: &Database, file: SourceFile) -> Option<Uri> {
    file.path(db).parse::<Uri>().ok()
}

fn location(db: &Database, target: &ide::Target) -> Option<Location> {
    let text = Text::new(target.file.text(db));
    Some(Location { uri: uri_of(db, target.file)?, range: text.range(target.focus) })
}

fn completion_kind(kind: ide::CompletionKind) -> CompletionItemKind {
    match kind {
        ide::CompletionKind::Role => CompletionItemKind::CLASS,
        ide::CompletionKind::Message => CompletionItemKind::FUNCTION,
        ide::CompletionKind::Constraint => CompletionItemKind::METHOD,
        ide::CompletionKind::Variable => CompletionItemKind::VARIABLE,
        ide::CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        ide::CompletionKind::Snippet => CompletionItemKind::SNIPPET,
    }
}

/// UTF-16 length of a string, as LSP offsets count.
fn utf16_len(s: &str) -> u32 {
    u32::try_from(s.chars().map(char::len_utf16).sum::<usize>()).unwrap_or(u32::MAX)
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` and `InitializeParams::root_uri` must be named.
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut roots: Vec<std::path::PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        if roots.is_empty()
            && let Some(root) =
                params.root_uri.as_ref().and_then(|u| u.to_file_path().map(|p| p.into_owned()))
        {
            roots.push(root);
        }
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.state().watch_files = watch;
        if let Some(delay) = params
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("diagnosticsDelayMs"))
            .and_then(serde_json::Value::as_u64)
        {
            *self.delay.lock().unwrap_or_else(|p| p.into_inner()) = Duration::from_millis(delay.min(10_000));
        }
        let files: Vec<(Uri, String)> = roots
            .iter()
            .flat_map(|root| scan(root, WORKSPACE_LIMIT))
            .filter_map(|path| Some((Uri::from_file_path(&path)?, std::fs::read_to_string(&path).ok()?)))
            .collect();
        {
            let mut state = self.state();
            state.roots = roots;
            for (uri, text) in files {
                let file = SourceFile::new(&state.db, uri.to_string(), text);
                state.documents.insert(uri, Document { file, version: None, edits: 0 });
            }
        }
        let legend = SemanticTokensLegend {
            token_types: ide::TOKEN_TYPES.iter().map(|t| SemanticTokenType::new(t)).collect(),
            token_modifiers: ide::TOKEN_MODIFIERS.iter().map(|m| SemanticTokenModifier::new(m)).collect(),
        };
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "lcc".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                position_encoding: Some(PositionEncodingKind::UTF16),
                text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    ..Default::default()
                })),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec!["(".into(), "-".into(), " ".into()]),
                    ..Default::default()
                }),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    ..Default::default()
                }),
                semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
                    SemanticTokensOptions {
                        legend,
                        full: Some(SemanticTokensFullOptions::Bool(true)),
                        ..Default::default()
                    },
                )),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_range_formatting_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                    ..Default::default()
                })),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let count = self.state().documents.len();
        self.client
            .log_message(MessageType::INFO, format!("lcc lsp: {count} model file(s) in the workspace"))
            .await;
        if self.state().watch_files {
            // Files changed on disk (a checkout, another tool) reach the database through the
            // client's watcher. In a task of its own: the client answers when it likes.
            let client = self.client.clone();
            tokio::spawn(async move {
                let options = DidChangeWatchedFilesRegistrationOptions {
                    watchers: vec![FileSystemWatcher {
                        glob_pattern: GlobPattern::String("**/*.{lcc,xlcc,im}".into()),
                        kind: None,
                    }],
                };
                let registration = Registration {
                    id: "lcc-model-files".into(),
                    method: "workspace/didChangeWatchedFiles".into(),
                    register_options: serde_json::to_value(options).ok(),
                };
                let _ = client.register_capability(vec![registration]).await;
            });
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for change in params.changes {
            // An open document follows the editor, not the disk.
            if self.state().documents.get(&change.uri).is_some_and(|d| d.version.is_some()) {
                continue;
            }
            let text = change.uri.to_file_path().and_then(|p| std::fs::read_to_string(p).ok());
            match text {
                Some(text) if change.typ != FileChangeType::DELETED => {
                    self.set_text(&change.uri, text, None);
                }
                _ => {
                    self.state().documents.remove(&change.uri);
                }
            }
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let edits = self.set_text(&doc.uri, doc.text, Some(doc.version));
        self.schedule_diagnostics(doc.uri, edits);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(snapshot) = self.snapshot(&uri) else {
            self.client
                .log_message(MessageType::WARNING, format!("lcc lsp: change to unopened {}", uri.as_str()))
                .await;
            return;
        };
        // Apply the changes in order, each on the text the previous one left.
        let mut text = snapshot.file.text(&snapshot.db).clone();
        drop(snapshot);
        for change in params.content_changes {
            match change.range {
                Some(range) => {
                    let span = Text::new(&text).span(range);
                    let (start, end) = (span.start as usize, span.end as usize);
                    if text.is_char_boundary(start) && text.is_char_boundary(end) && end <= text.len() {
                        text.replace_range(start..end, &change.text);
                    }
                }
                None => text = change.text,
            }
        }
        let edits = self.set_text(&uri, text, Some(params.text_document.version));
        self.schedule_diagnostics(uri, edits);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        // Back to the file on disk, when there is one; else forgotten.
        match uri.to_file_path().and_then(|p| std::fs::read_to_string(p).ok()) {
            Some(text) => {
                self.set_text(&uri, text, None);
            }
            None => {
                self.state().documents.remove(&uri);
            }
        }
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        self.query(&at.text_document.uri, "hover", move |db, file, _| {
            let text = Text::new(file.text(db));
            let (span, markdown) = ide::hover(db, file, text.offset(at.position))?;
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: markdown,
                }),
                range: Some(text.range(span)),
            })
        })
        .await
        .map(Option::flatten)
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        self.query(&at.text_document.uri, "definition", move |db, file, _| {
            let offset = Text::new(file.text(db)).offset(at.position);
            let targets: Vec<Location> =
                ide::definition(db, file, offset).iter().filter_map(|t| location(db, t)).collect();
            (!targets.is_empty()).then_some(GotoDefinitionResponse::Array(targets))
        })
        .await
        .map(Option::flatten)
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let include = params.context.include_declaration;
        self.query(&at.text_document.uri, "references", move |db, file, workspace| {
            let offset = Text::new(file.text(db)).offset(at.position);
            ide::references(db, file, workspace, offset, include)
                .iter()
                .filter_map(|t| location(db, t))
                .collect()
        })
        .await
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        self.query(&params.text_document.uri, "document symbols", move |db, file, _| {
            let text = Text::new(file.text(db));
            let symbols = ide::document_symbols(db, file)
                .into_iter()
                .map(|role| DocumentSymbol {
                    name: role.name.clone(),
                    detail: role.declaration.map(|d| text.text.get(d.range()).unwrap_or("").to_string()),
                    kind: SymbolKind::CLASS,
                    tags: None,
                    deprecated: None,
                    range: text.range(role.range),
                    selection_range: text.range(role.focus),
                    children: Some(
                        role.clauses
                            .iter()
                            .map(|(head, span, head_span)| DocumentSymbol {
                                name: head.clone(),
                                detail: None,
                                kind: SymbolKind::METHOD,
                                tags: None,
                                deprecated: None,
                                range: text.range(*span),
                                selection_range: text.range(*head_span),
                                children: None,
                            })
                            .collect(),
                    ),
                })
                .collect();
            DocumentSymbolResponse::Nested(symbols)
        })
        .await
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        // Any document will do to take the snapshot: the query is over the whole workspace.
        let Some(uri) = self.state().documents.keys().next().cloned() else { return Ok(None) };
        let query = params.query;
        self.query(&uri, "workspace symbols", move |db, _, workspace| {
            let symbols = ide::workspace_symbols(db, workspace, &query)
                .into_iter()
                .flat_map(|(file, role)| {
                    let text = Text::new(file.text(db));
                    let uri = uri_of(db, file);
                    role.clauses
                        .iter()
                        .filter_map(|(head, _, head_span)| {
                            Some(WorkspaceSymbol {
                                name: head.clone(),
                                kind: SymbolKind::CLASS,
                                tags: None,
                                container_name: Some(role.name.clone()),
                                location: OneOf::Left(Location {
                                    uri: uri.clone()?,
                                    range: text.range(*head_span),
                                }),
                                data: None,
                            })
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            WorkspaceSymbolResponse::Nested(symbols)
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        self.query(&at.text_document.uri, "completion", move |db, file, workspace| {
            let offset = Text::new(file.text(db)).offset(at.position);
            let items = ide::completions(db, file, workspace, offset)
                .into_iter()
                .map(|c| CompletionItem {
                    label: c.label,
                    kind: Some(completion_kind(c.kind)),
                    detail: Some(c.detail),
                    insert_text: Some(c.insert),
                    insert_text_format: Some(if c.snippet {
                        InsertTextFormat::SNIPPET
                    } else {
                        InsertTextFormat::PLAIN_TEXT
                    }),
                    ..Default::default()
                })
                .collect();
            CompletionResponse::Array(items)
        })
        .await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let at = params.text_document_position_params;
        self.query(&at.text_document.uri, "signature help", move |db, file, _| {
            let offset = Text::new(file.text(db)).offset(at.position);
            let help = ide::signature_help(db, file, offset)?;
            let signatures = help
                .signatures
                .into_iter()
                .map(|s| {
                    let parameters = s
                        .parameters
                        .iter()
                        .map(|&(a, b)| {
                            let start = utf16_len(s.label.get(..a as usize).unwrap_or(""));
                            let end = utf16_len(s.label.get(..b as usize).unwrap_or(""));
                            ParameterInformation {
                                label: ParameterLabel::LabelOffsets([start, end]),
                                documentation: None,
                            }
                        })
                        .collect();
                    SignatureInformation {
                        label: s.label,
                        documentation: s.doc.map(Documentation::String),
                        parameters: Some(parameters),
                        active_parameter: None,
                    }
                })
                .collect();
            Some(SignatureHelp {
                signatures,
                active_signature: Some(help.active_signature),
                active_parameter: Some(help.active_parameter),
            })
        })
        .await
        .map(Option::flatten)
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.query(&params.text_document.uri, "semantic tokens", move |db, file, _| {
            let text = Text::new(file.text(db));
            let mut data = Vec::new();
            let (mut line, mut col) = (0u32, 0u32);
            for token in ide::semantic_tokens(db, file) {
                // LSP tokens lie on one line: a block comment is sent line by line.
                let mut start = token.start;
                let end = token.end.min(u32::try_from(text.text.len()).unwrap_or(u32::MAX));
                while start < end {
                    let Some(rest) = text.text.get(start as usize..end as usize) else { break };
                    let piece = rest.split('\n').next().unwrap_or("");
                    let position = text.position(start);
                    let length = utf16_len(piece);
                    // Tokens must come in order (the encoding is relative): one that would go
                    // back is dropped rather than sent wrong.
                    let in_order = (position.line, position.character) >= (line, col);
                    if length > 0 && in_order {
                        let delta_line = position.line - line;
                        let delta_start =
                            if delta_line == 0 { position.character - col } else { position.character };
                        data.push(SemanticToken {
                            delta_line,
                            delta_start,
                            length,
                            token_type: token.kind,
                            token_modifiers_bitset: token.modifiers,
                        });
                        (line, col) = (position.line, position.character);
                    }
                    start += u32::try_from(piece.len()).unwrap_or(u32::MAX).saturating_add(1);
                }
            }
            SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        let new_name = params.new_name;
        let result = self
            .query(&at.text_document.uri, "rename", move |db, file, workspace| {
                let offset = Text::new(file.text(db)).offset(at.position);
                ide::rename(db, file, workspace, offset, &new_name).map(|edits| {
                    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                    for (f, span, replacement) in edits {
                        let text = Text::new(f.text(db));
                        if let Some(uri) = uri_of(db, f) {
                            changes
                                .entry(uri)
                                .or_default()
                                .push(TextEdit { range: text.range(span), new_text: replacement });
                        }
                    }
                    WorkspaceEdit { changes: Some(changes), ..Default::default() }
                })
            })
            .await?;
        match result {
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(ide::RenameError(message))) => Err(Error::invalid_params(message)),
            None => Ok(None),
        }
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let result = self
            .query(&params.text_document.uri, "prepare rename", move |db, file, _| {
                let text = Text::new(file.text(db));
                ide::prepare_rename(db, file, text.offset(params.position)).map(|span| text.range(span))
            })
            .await?;
        match result {
            Some(Ok(range)) => Ok(Some(PrepareRenameResponse::Range(range))),
            Some(Err(ide::RenameError(message))) => Err(Error::invalid_params(message)),
            None => Ok(None),
        }
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.query(&params.text_document.uri, "formatting", move |db, file, _| {
            let source = file.text(db);
            let formatted = lcc_syntax::format::format_source(source).ok()?;
            let text = Text::new(source);
            let whole = lcc_syntax::ast::Span::new(0, source.len());
            Some(if formatted == *source {
                Vec::new()
            } else {
                vec![TextEdit { range: text.range(whole), new_text: formatted }]
            })
        })
        .await
        .map(Option::flatten)
    }

    async fn range_formatting(&self, params: DocumentRangeFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.query(&params.text_document.uri, "range formatting", move |db, file, _| {
            let source = file.text(db);
            let text = Text::new(source);
            let span = text.span(params.range);
            let edits = lcc_syntax::format::format_range(source, span.start, span.end).ok()?;
            Some(convert::edits(&text, &edits))
        })
        .await
        .map(Option::flatten)
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        self.query(&params.text_document.uri, "code actions", move |db, file, _| {
            let text = Text::new(file.text(db));
            let wanted = text.span(params.range);
            lcc_check::diagnostics(db, file)
                .iter()
                .filter(|d| d.span.start <= wanted.end && wanted.start <= d.span.end)
                .filter_map(|d| {
                    let fix = d.fix.as_ref()?;
                    let edit = WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), convert::edits(&text, &fix.edits))])),
                        ..Default::default()
                    };
                    Some(CodeActionOrCommand::CodeAction(CodeAction {
                        title: fix.message.clone(),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![convert::diagnostic(&uri, &text, d)]),
                        edit: Some(edit),
                        is_preferred: Some(true),
                        ..Default::default()
                    }))
                })
                .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use tower_lsp_server::LspService;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    }

    fn backend_with(text: String) -> (Backend, Uri) {
        let (service, _socket) = LspService::new(Backend::new);
        let backend = service.inner().clone();
        let uri: Uri = "file:///tmp/model.lcc".parse().unwrap();
        backend.set_text(&uri, text, Some(1));
        (backend, uri)
    }

    /// A panic inside a query is an internal-error response, and the server answers the next
    /// request as usual.
    #[test]
    fn a_panicking_query_becomes_an_error_response() {
        runtime().block_on(async {
            let (backend, uri) = backend_with("a(r, X) :: null\n".into());
            let failed = backend.query(&uri, "test", |_, _, _| -> u32 { panic!("boom") }).await;
            assert_eq!(failed.unwrap_err().code, tower_lsp_server::jsonrpc::ErrorCode::InternalError);
            let fine =
                backend.query(&uri, "test", |db, file, _| lcc_check::diagnostics(db, file).len()).await;
            assert_eq!(fine.unwrap(), Some(0));
        });
    }

    /// An edit cancels a query still running on an older snapshot: it answers "content
    /// modified" instead of finishing on stale text.
    #[test]
    fn an_edit_cancels_the_queries_running_on_older_snapshots() {
        runtime().block_on(async {
            // Big enough that checking it takes far longer than the pause below.
            let mut text = String::new();
            for i in 0..4000 {
                text.push_str(&format!(
                    "a(r{i}, X) ::\n  m(Y) => a(r{}, X) <- c(Y) then a(r{i}, X)\n\n",
                    (i + 1) % 4000
                ));
            }
            let (backend, uri) = backend_with(text);
            let (started, has_started) = std::sync::mpsc::channel();
            let running = {
                let backend = backend.clone();
                let uri = uri.clone();
                tokio::spawn(async move {
                    backend
                        .query(&uri, "check", move |db, file, _| {
                            let _ = started.send(());
                            lcc_check::diagnostics(db, file).len()
                        })
                        .await
                })
            };
            // The query has its snapshot and is checking when the edit comes.
            tokio::task::spawn_blocking(move || has_started.recv()).await.unwrap().unwrap();
            let edit = {
                let backend = backend.clone();
                let uri = uri.clone();
                tokio::task::spawn_blocking(move || {
                    let handle = tokio::runtime::Handle::current();
                    let _guard = handle.enter();
                    backend.set_text(&uri, "a(r, X) :: null\n".into(), Some(2))
                })
            };
            let outcome = running.await.unwrap();
            edit.await.unwrap();
            assert_eq!(outcome.unwrap_err().code, tower_lsp_server::jsonrpc::ErrorCode::ContentModified);
            let fresh =
                backend.query(&uri, "check", |db, file, _| lcc_check::diagnostics(db, file).len()).await;
            assert_eq!(fresh.unwrap(), Some(0));
        });
    }
}
