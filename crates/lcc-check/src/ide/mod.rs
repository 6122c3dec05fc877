//! What an editor asks about a model, answered from the salsa database: the typed IR and the
//! syntax tree of [`crate::db`], never by parsing again. IO-free and protocol-free: positions
//! are byte offsets into a file's text; `lcc-lsp` converts them to LSP positions.
//!
//! Everything starts from the [`symbol_index`] of a file: every place a role, variable,
//! message, constraint or built-in is named, with what it names. Hover, go to definition,
//! references, rename and semantic tokens are lookups in it.

mod complete;
mod tokens;

pub use complete::{CompletionItem, CompletionKind, Signature, SignatureHelp, completions, signature_help};
pub use tokens::{SemanticToken, TOKEN_MODIFIERS, TOKEN_TYPES, semantic_tokens};

use crate::db::{self, SourceFile};
use crate::ir::{self, AgentRef, ClauseId, Cond, ConstraintId, MessageId, Node, NodeKind, Term, VarId};
use lcc_syntax::ast::{self, Span};
use smol_str::SmolStr;
use std::fmt::Write as _;

/// What a name in the source stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Symbol {
    /// A role, by name: roles are identified by name, also across files of a workspace.
    Role(SmolStr),
    Var(ClauseId, VarId),
    Message(MessageId),
    Constraint(ConstraintId),
    Builtin(ir::Builtin),
}

/// How a place names its symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A clause head naming its role, or a variable's binding site.
    Definition,
    /// `r(Role, Kind, …)`.
    Declaration,
    /// A message sent (`m => …`).
    Send,
    /// A message received (`m <= …`).
    Receive,
    Reference,
}

/// One place a symbol is named: `span` covers the name only (the functor of a compound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub span: Span,
    pub symbol: Symbol,
    pub usage: Usage,
}

/// Every named place of a file, sorted by position. Tracked: computed once per version.
#[salsa::tracked(returns(ref))]
pub fn symbol_index(db: &dyn salsa::Database, file: SourceFile) -> Vec<Occurrence> {
    let text = file.text(db);
    let model = &db::check(db, file).ir;
    let ast = &db::parse(db, file).ast;
    let mut out = Vec::new();
    // Role names in clause heads and declarations come from the syntax tree.
    for item in &ast.items {
        match &item.kind {
            ast::ItemKind::Clause(clause) => {
                if let Some(span) = functor_span(text, &clause.head.role) {
                    let name = name_of(text, span);
                    out.push(Occurrence { span, symbol: Symbol::Role(name), usage: Usage::Definition });
                }
            }
            ast::ItemKind::RoleDecl(decl) => {
                if let Some(span) = functor_span(text, &decl.role) {
                    let name = name_of(text, span);
                    out.push(Occurrence { span, symbol: Symbol::Role(name), usage: Usage::Declaration });
                }
            }
            _ => {}
        }
    }
    for (index, clause) in model.clauses.iter().enumerate() {
        let clause_id = ClauseId(u32::try_from(index).unwrap_or(u32::MAX));
        for (v, var) in clause.vars.iter().enumerate() {
            let var_id = VarId(u32::try_from(v).unwrap_or(u32::MAX));
            out.push(Occurrence {
                span: var.binding,
                symbol: Symbol::Var(clause_id, var_id),
                usage: Usage::Definition,
            });
            for &span in var.occurrences.iter().filter(|&&s| s != var.binding) {
                out.push(Occurrence {
                    span,
                    symbol: Symbol::Var(clause_id, var_id),
                    usage: Usage::Reference,
                });
            }
        }
        if let Some(body) = &clause.body {
            index_node(text, body, &mut out);
        }
    }
    out.sort_by_key(|o| (o.span.start, o.span.end));
    out.dedup();
    out
}

/// The span of the functor (or atom) a term starts with, without arguments.
fn functor_span(text: &str, term: &ast::Term) -> Option<Span> {
    let (name, _) = term.functor()?;
    name_span_at(text, term.span.start, name)
}

/// The span of `name` written at `start`, quoted or not.
fn name_span_at(text: &str, start: u32, name: &str) -> Option<Span> {
    let rest = text.get(start as usize..)?;
    let len = if rest.starts_with('\'') {
        // A quoted atom: up to the closing quote.
        rest.get(1..)?.find('\'').map(|i| i + 2)?
    } else if rest.starts_with(name) {
        name.len()
    } else {
        return None;
    };
    Some(Span::new(start as usize, start as usize + len))
}

fn name_of(text: &str, span: Span) -> SmolStr {
    SmolStr::new(text.get(span.range()).unwrap_or("").trim_matches('\''))
}

/// The role name of an agent term (`role_span` covers the role's arguments too).
fn index_agent(text: &str, agent: &AgentRef, out: &mut Vec<Occurrence>) {
    if let Some(span) = name_span_at(text, agent.role_span.start, &agent.role_name) {
        out.push(Occurrence { span, symbol: Symbol::Role(agent.role_name.clone()), usage: Usage::Reference });
    }
}

fn index_message(text: &str, message: &Term, id: Option<MessageId>, usage: Usage, out: &mut Vec<Occurrence>) {
    if let (Some(id), Some((name, _))) = (id, message.functor())
        && let Some(span) = name_span_at(text, message.span().start, name)
    {
        out.push(Occurrence { span, symbol: Symbol::Message(id), usage });
    }
}

fn index_cond(text: &str, cond: &Cond, out: &mut Vec<Occurrence>) {
    match cond {
        Cond::And(items, _) | Cond::Or(items, _) => items.iter().for_each(|c| index_cond(text, c, out)),
        Cond::Not(inner, _) => index_cond(text, inner, out),
        Cond::External { constraint, span, .. } => {
            if let Some(name) = text.get(span.range()).map(|s| s.split('(').next().unwrap_or("").trim())
                && let Some(name_span) = name_span_at(text, span.start, name)
                && !name.is_empty()
            {
                out.push(Occurrence {
                    span: name_span,
                    symbol: Symbol::Constraint(*constraint),
                    usage: Usage::Reference,
                });
            }
        }
        Cond::Builtin { builtin, span, .. } => {
            if let Some(name_span) = name_span_at(text, span.start, builtin.name()) {
                out.push(Occurrence {
                    span: name_span,
                    symbol: Symbol::Builtin(*builtin),
                    usage: Usage::Reference,
                });
            }
        }
        Cond::Compare { .. } | Cond::Is { .. } | Cond::Error(_) => {}
    }
}

fn index_node(text: &str, node: &Node, out: &mut Vec<Occurrence>) {
    if let Some(guard) = node.kind.guard() {
        index_cond(text, guard, out);
    }
    match &node.kind {
        NodeKind::Send { message, to, message_id, .. } => {
            index_message(text, message, *message_id, Usage::Send, out);
            index_agent(text, to, out);
        }
        NodeKind::Receive { message, from, message_id, .. } => {
            index_message(text, message, *message_id, Usage::Receive, out);
            index_agent(text, from, out);
        }
        NodeKind::RoleChange { target, .. } => index_agent(text, target, out),
        NodeKind::Then(children) | NodeKind::Or(children) | NodeKind::Par(children) => {
            children.iter().for_each(|c| index_node(text, c, out));
        }
        NodeKind::Null { .. } | NodeKind::Error => {}
    }
}

/// The text of `span` on one line (whitespace runs collapsed), as heads are shown.
pub(crate) fn one_line(text: &str, span: Span) -> String {
    text.get(span.range()).unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The occurrence at `offset` (touching it from either side); the innermost if several.
pub fn occurrence_at(db: &dyn salsa::Database, file: SourceFile, offset: u32) -> Option<Occurrence> {
    symbol_index(db, file)
        .iter()
        .filter(|o| o.span.start <= offset && offset <= o.span.end)
        .min_by_key(|o| (o.span.len(), std::cmp::Reverse(o.span.start)))
        .cloned()
}

/// A place in a file: the whole thing (`range`) and the part to select (`focus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub file: SourceFile,
    pub range: Span,
    pub focus: Span,
}

/// Hover text (Markdown) for what is at `offset`, with the span it describes.
pub fn hover(db: &dyn salsa::Database, file: SourceFile, offset: u32) -> Option<(Span, String)> {
    let occurrence = occurrence_at(db, file, offset)?;
    let text = file.text(db);
    let model = &db::check(db, file).ir;
    let snippet = |span: Span| one_line(text, span);
    let mut out = String::new();
    match &occurrence.symbol {
        Symbol::Role(name) => {
            let _ = writeln!(out, "```lcc");
            let role = model.role_named(name).and_then(|r| model.role(r));
            for clause in role.iter().flat_map(|r| &r.clauses).filter_map(|&c| model.clause(c)) {
                let _ = writeln!(out, "{} ::", snippet(clause.head_span));
            }
            if let Some(decl) = role.and_then(|r| r.declaration.as_ref()) {
                let _ = writeln!(out, "{}", snippet(decl.span));
            }
            let _ = writeln!(out, "```");
            let Some(role) = role else {
                let _ = writeln!(out, "role `{name}` has no clause in this file");
                return Some((occurrence.span, out));
            };
            let _ = writeln!(
                out,
                "role `{name}`{}",
                match &role.declaration {
                    Some(d) => format!(", {}", d.kind.name()),
                    None => String::new(),
                }
            );
            if let Some(doc) =
                role.clauses.iter().filter_map(|&c| model.clause(c)).find_map(|c| c.doc.as_deref())
            {
                let _ = writeln!(out, "\n{}", doc_text(doc));
            }
            let role_id = model.role_named(name);
            let sends: Vec<String> = model
                .messages
                .iter()
                .filter(|m| Some(m.sender) == role_id && !m.sends.is_empty())
                .map(|m| format!("`{}/{}` to `{}`", m.functor, m.arity, role_name(model, m.receiver)))
                .collect();
            let receives: Vec<String> = model
                .messages
                .iter()
                .filter(|m| Some(m.receiver) == role_id && !m.receives.is_empty())
                .map(|m| format!("`{}/{}` from `{}`", m.functor, m.arity, role_name(model, m.sender)))
                .collect();
            if !sends.is_empty() {
                let _ = writeln!(out, "\nsends {}", sends.join(", "));
            }
            if !receives.is_empty() {
                let _ = writeln!(out, "\nreceives {}", receives.join(", "));
            }
        }
        Symbol::Var(clause, var) => {
            let clause = model.clause(*clause)?;
            let v = clause.var(*var)?;
            let (line, col) = lcc_syntax::diagnostic::LineIndex::new(text).line_col(text, v.binding.start);
            let _ = writeln!(out, "```lcc\n{}: {}\n```", v.name, v.sort.describe());
            let _ = writeln!(
                out,
                "variable of `{} ::`, bound at {line}:{col}, used {} times",
                snippet(clause.head_span),
                v.occurrences.len()
            );
        }
        Symbol::Message(id) => {
            let m = model.messages.get(id.index())?;
            let args: Vec<String> = m.arg_sorts.iter().map(|s| s.describe()).collect();
            let _ = writeln!(out, "```lcc\n{}({})\n```", m.functor, args.join(", "));
            let _ = writeln!(
                out,
                "message `{}/{}` from `{}` to `{}`: sent at {} place(s), received at {}",
                m.functor,
                m.arity,
                role_name(model, m.sender),
                role_name(model, m.receiver),
                m.sends.len(),
                m.receives.len()
            );
        }
        Symbol::Constraint(id) => {
            let c = model.constraint(*id)?;
            let args: Vec<String> = c.arg_sorts.iter().map(|s| s.describe()).collect();
            let _ = writeln!(out, "```lcc\n{}({})\n```", c.name, args.join(", "));
            let _ = writeln!(
                out,
                "external constraint `{}/{}`: satisfied by the peer's host at run time (a provider); called at {} place(s)",
                c.name,
                c.arity,
                c.calls.len()
            );
            if c.total {
                let _ =
                    writeln!(out, "\nannotated total: it never fails (`@annotation(@constraint(…), total)`)");
            }
            for annotation in annotations_of(db, file, &c.name) {
                let _ = writeln!(out, "\n`{annotation}`");
            }
        }
        Symbol::Builtin(b) => {
            let _ = writeln!(out, "```lcc\n{}/{}\n```", b.name(), b.arity());
            let _ = writeln!(out, "built-in constraint: {}", builtin_doc(*b));
        }
    }
    Some((occurrence.span, out))
}

fn role_name(model: &ir::Model, role: ir::RoleId) -> &str {
    model.role(role).map(|r| r.name.as_str()).unwrap_or("?")
}

/// A doc comment without its delimiters and leading stars.
fn doc_text(doc: &str) -> String {
    let inner = doc.trim().trim_start_matches("/**").trim_end_matches("*/");
    inner
        .lines()
        .map(|l| l.trim().trim_start_matches('*').trim())
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn builtin_doc(b: ir::Builtin) -> &'static str {
    match b {
        ir::Builtin::Member => "`member(X, List)`: X is an element of List",
        ir::Builtin::Append => "`append(A, B, AB)`: AB is A followed by B",
        ir::Builtin::Length => "`length(List, N)`: List has N elements",
        ir::Builtin::Nth0 => "`nth0(I, List, X)`: X is element I of List, counting from 0",
        ir::Builtin::Nth1 => "`nth1(I, List, X)`: X is element I of List, counting from 1",
    }
}

/// The text of every annotation of the file whose target names constraint `name`.
fn annotations_of(db: &dyn salsa::Database, file: SourceFile, name: &str) -> Vec<String> {
    let text = file.text(db);
    db::parse(db, file)
        .ast
        .items
        .iter()
        .filter(|item| match &item.kind {
            ast::ItemKind::Annotation(a) => {
                let target = text.get(a.target.span().range()).unwrap_or("");
                target.starts_with("@constraint(") && target.get(12..).is_some_and(|t| t.starts_with(name))
            }
            _ => false,
        })
        .map(|item| {
            text.get(item.span.range()).unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// Where what is at `offset` is defined: a role's clause (the one of matching arity when the
/// reference says), a variable's binding site, the receives a send can reach (and the sends a
/// receive can take), nothing for constraints.
pub fn definition(db: &dyn salsa::Database, file: SourceFile, offset: u32) -> Vec<Target> {
    let Some(occurrence) = occurrence_at(db, file, offset) else { return Vec::new() };
    let model = &db::check(db, file).ir;
    let text = file.text(db);
    match &occurrence.symbol {
        Symbol::Role(name) => {
            let Some(role_id) = model.role_named(name) else { return Vec::new() };
            let arity = agent_arity_at(model, occurrence.span);
            let clauses: Vec<&ir::Clause> = match arity.and_then(|a| model.clause_of(role_id, a)) {
                Some(clause) => vec![clause],
                None => model
                    .role(role_id)
                    .iter()
                    .flat_map(|r| &r.clauses)
                    .filter_map(|&c| model.clause(c))
                    .collect(),
            };
            clauses
                .into_iter()
                .map(|c| Target {
                    file,
                    range: c.span,
                    focus: head_role_span(text, c).unwrap_or(c.head_span),
                })
                .collect()
        }
        Symbol::Var(clause, var) => model
            .clause(*clause)
            .and_then(|c| c.var(*var))
            .map(|v| vec![Target { file, range: v.binding, focus: v.binding }])
            .unwrap_or_default(),
        Symbol::Message(id) => {
            let Some(sig) = model.messages.get(id.index()) else { return Vec::new() };
            let sites = if occurrence.usage == Usage::Receive { &sig.sends } else { &sig.receives };
            let index = symbol_index(db, file);
            sites
                .iter()
                .map(|site| {
                    // The functor of the message inside the event.
                    let focus = index
                        .iter()
                        .find(|o| {
                            o.symbol == occurrence.symbol
                                && site.span.start <= o.span.start
                                && o.span.end <= site.span.end
                        })
                        .map(|o| o.span)
                        .unwrap_or(site.span);
                    Target { file, range: site.span, focus }
                })
                .collect()
        }
        Symbol::Constraint(_) | Symbol::Builtin(_) => Vec::new(),
    }
}

/// The span of the role name in a clause head.
fn head_role_span(text: &str, clause: &ir::Clause) -> Option<Span> {
    let head = text.get(clause.head_span.range())?;
    let open = head.find('(')?;
    let after = head.get(open + 1..)?;
    let skip = after.len() - after.trim_start().len();
    let start = clause.head_span.start as usize + open + 1 + skip;
    let name = after.trim_start();
    let len = if name.starts_with('\'') {
        name.get(1..)?.find('\'')? + 2
    } else {
        name.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(name.len())
    };
    Some(Span::new(start, start + len))
}

/// The number of role arguments of the agent term whose role name is at `span`, if it is one.
fn agent_arity_at(model: &ir::Model, span: Span) -> Option<usize> {
    fn find(node: &Node, span: Span) -> Option<usize> {
        match &node.kind {
            NodeKind::Send { to: a, .. }
            | NodeKind::Receive { from: a, .. }
            | NodeKind::RoleChange { target: a, .. }
                if a.role_span.start == span.start =>
            {
                Some(a.args.len())
            }
            NodeKind::Then(c) | NodeKind::Or(c) | NodeKind::Par(c) => c.iter().find_map(|n| find(n, span)),
            _ => None,
        }
    }
    model
        .clauses
        .iter()
        .filter(|c| c.span.start <= span.start && span.end <= c.span.end)
        .find_map(|c| find(c.body.as_ref()?, span))
}

/// Every place that names what is at `offset`: in this file, and for roles in every file of
/// `workspace` (roles are identified by name). With `include_declaration`, definitions too.
pub fn references(
    db: &dyn salsa::Database,
    file: SourceFile,
    workspace: &[SourceFile],
    offset: u32,
    include_declaration: bool,
) -> Vec<Target> {
    let Some(occurrence) = occurrence_at(db, file, offset) else { return Vec::new() };
    let keep =
        |o: &Occurrence| include_declaration || !matches!(o.usage, Usage::Definition | Usage::Declaration);
    let mut out = Vec::new();
    let files: Vec<SourceFile> = match &occurrence.symbol {
        Symbol::Role(_) => {
            let mut files = vec![file];
            files.extend(workspace.iter().copied().filter(|f| *f != file));
            files
        }
        _ => vec![file],
    };
    for f in files {
        for o in symbol_index(db, f).iter().filter(|o| o.symbol == occurrence.symbol && keep(o)) {
            out.push(Target { file: f, range: o.span, focus: o.span });
        }
    }
    out
}

/// Why a rename cannot be done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameError(pub String);

/// The span to rename at `offset`, if what is there can be renamed (roles and variables).
pub fn prepare_rename(db: &dyn salsa::Database, file: SourceFile, offset: u32) -> Result<Span, RenameError> {
    match occurrence_at(db, file, offset) {
        Some(o) if matches!(o.symbol, Symbol::Role(_) | Symbol::Var(..)) => Ok(o.span),
        Some(_) => Err(RenameError("only roles and variables can be renamed".into())),
        None => Err(RenameError("no role or variable here".into())),
    }
}

/// The edits that rename what is at `offset` to `new_name`: a variable within its clause, a
/// role in every file of the workspace.
pub fn rename(
    db: &dyn salsa::Database,
    file: SourceFile,
    workspace: &[SourceFile],
    offset: u32,
    new_name: &str,
) -> Result<Vec<(SourceFile, Span, String)>, RenameError> {
    let occurrence =
        occurrence_at(db, file, offset).ok_or_else(|| RenameError("no role or variable here".into()))?;
    match &occurrence.symbol {
        Symbol::Var(clause, var) => {
            let ok = new_name.chars().next().is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                && new_name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !ok {
                return Err(RenameError(format!(
                    "`{new_name}` is not a variable name: it must start with a capital letter or `_`"
                )));
            }
            let model = &db::check(db, file).ir;
            if let Some(c) = model.clause(*clause)
                && c.vars.iter().enumerate().any(|(i, v)| v.name == new_name && i != var.index())
            {
                return Err(RenameError(format!("the clause already has a variable `{new_name}`")));
            }
        }
        Symbol::Role(_) => {
            let ok = new_name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && new_name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !ok {
                return Err(RenameError(format!(
                    "`{new_name}` is not a role name: it must start with a lowercase letter"
                )));
            }
        }
        _ => return Err(RenameError("only roles and variables can be renamed".into())),
    }
    Ok(references(db, file, workspace, offset, true)
        .into_iter()
        .map(|t| (t.file, t.range, new_name.to_string()))
        .collect())
}

/// A role of a file with its clauses, for the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSymbol {
    pub name: String,
    /// From the first clause (or declaration) to the last.
    pub range: Span,
    pub focus: Span,
    pub declaration: Option<Span>,
    /// (clause head text, clause span, head span).
    pub clauses: Vec<(String, Span, Span)>,
}

/// The roles and clauses of a file, in source order.
pub fn document_symbols(db: &dyn salsa::Database, file: SourceFile) -> Vec<RoleSymbol> {
    let text = file.text(db);
    let model = &db::check(db, file).ir;
    let mut out: Vec<RoleSymbol> = model
        .roles
        .iter()
        .filter_map(|role| {
            let clauses: Vec<(String, Span, Span)> = role
                .clauses
                .iter()
                .filter_map(|&c| model.clause(c))
                .map(|c| {
                    let head = one_line(text, c.head_span);
                    (head, c.span, c.head_span)
                })
                .collect();
            let declaration = role.declaration.as_ref().map(|d| d.span);
            let spans: Vec<Span> = clauses.iter().map(|c| c.1).chain(declaration).collect();
            let start = spans.iter().map(|s| s.start).min()?;
            let end = spans.iter().map(|s| s.end).max()?;
            let focus = clauses.first().map(|c| c.2).or(declaration)?;
            Some(RoleSymbol {
                name: role.name.to_string(),
                range: Span::new(start as usize, end as usize),
                focus,
                declaration,
                clauses,
            })
        })
        .collect();
    out.sort_by_key(|r| r.range.start);
    out
}

/// Clauses of the workspace whose role name matches `query` (case-insensitive, in order).
pub fn workspace_symbols(
    db: &dyn salsa::Database,
    workspace: &[SourceFile],
    query: &str,
) -> Vec<(SourceFile, RoleSymbol)> {
    let query: Vec<char> = query.to_lowercase().chars().collect();
    let matches = |name: &str| {
        let mut q = query.iter().peekable();
        for c in name.to_lowercase().chars() {
            if q.peek() == Some(&&c) {
                q.next();
            }
        }
        q.peek().is_none()
    };
    let mut out = Vec::new();
    for &file in workspace {
        for role in document_symbols(db, file) {
            if matches(&role.name) {
                out.push((file, role));
            }
        }
    }
    out
}

/// The clause whose span contains `offset`.
pub(crate) fn clause_at(model: &ir::Model, offset: u32) -> Option<(ClauseId, &ir::Clause)> {
    model
        .clauses
        .iter()
        .enumerate()
        .find(|(_, c)| c.span.start <= offset && offset <= c.span.end)
        .map(|(i, c)| (ClauseId(u32::try_from(i).unwrap_or(u32::MAX)), c))
}
