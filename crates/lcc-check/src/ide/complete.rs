//! Completion and signature help. Both read the text just before the cursor to know where it
//! is (an agent term, a guard, an event), since the clause being typed rarely parses; what to
//! offer comes from the IR of the file and of the workspace.

use super::clause_at;
use crate::db::{self, SourceFile};
use crate::ir;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Role,
    Message,
    Constraint,
    Variable,
    Keyword,
    Snippet,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: String,
    /// Text to insert: an LSP snippet (`${1:X}`) when `snippet` is set, else plain text.
    pub insert: String,
    pub snippet: bool,
}

/// Where the cursor is, as far as the text before it tells.
#[derive(Debug, PartialEq, Eq)]
enum Context {
    /// Outside any clause: a new clause or declaration.
    TopLevel,
    /// Just after `a(`: a role name.
    AgentRole,
    /// In a guard, after `<-` (or a connective within one).
    Guard,
    /// Where an event starts.
    Event,
    /// The peer id of an agent term (`a(role, |)`).
    PeerId,
    /// Inside a term's arguments (a role's arguments): variables.
    Term,
}

fn item(label: impl Into<String>, kind: CompletionKind, detail: impl Into<String>) -> CompletionItem {
    let label = label.into();
    CompletionItem { insert: label.clone(), label, kind, detail: detail.into(), snippet: false }
}

fn snippet(label: &str, detail: &str, body: &str) -> CompletionItem {
    CompletionItem {
        label: label.into(),
        kind: CompletionKind::Snippet,
        detail: detail.into(),
        insert: body.into(),
        snippet: true,
    }
}

/// The text of the current clause before `offset` (from the last `::` item start, roughly: the
/// start of the clause the cursor is in, or the start of the line when it is in none).
fn context(text: &str, model: &ir::Model, offset: u32) -> Context {
    let before = text.get(..offset as usize).unwrap_or("");
    let word_start = before.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_').len();
    let prefix = before.get(..word_start).unwrap_or("").trim_end();
    if let Some(agent) = enclosing_agent(prefix) {
        // Right after `a(`: the role; after the role term's comma: the peer id.
        return if agent.commas == 0 && agent.role_argument.is_none() && prefix.ends_with('(') {
            Context::AgentRole
        } else if agent.commas > 0 && agent.role_argument.is_none() {
            Context::PeerId
        } else {
            Context::Term
        };
    }
    // The text since the last blank line (taken before trimming, so that a blank line just
    // before the cursor counts), unless a `.` closed the clause.
    let block = before.get(..word_start).unwrap_or("").rsplit("\n\n").next().unwrap_or("");
    let closed = prefix.ends_with('.') || block.trim().is_empty();
    let in_clause = !closed && (clause_at(model, offset).is_some() || block.contains("::"));
    if !in_clause {
        return Context::TopLevel;
    }
    // The last operator before the cursor decides between a guard and an event.
    let operators = ["<-", "←", "=>", "⇒", "<=", "⇐", "::", " then", " or", " par", "(", " and", ","];
    let last = operators.iter().filter_map(|op| prefix.rfind(op).map(|i| (i, *op))).max_by_key(|(i, _)| *i);
    match last {
        Some((_, "<-" | "←" | " and")) => Context::Guard,
        Some((i, "(" | ",")) => {
            // Inside a guard's arguments or a connective chain, if a `<-` opened it on this
            // event and no event operator came after.
            let event_ops = ["=>", "⇒", "<=", "⇐", " then", " or", " par", "::"];
            let guard = prefix.rfind("<-").max(prefix.rfind('←'));
            let event = event_ops.iter().filter_map(|op| prefix.rfind(op)).max();
            if guard.is_some() && guard > event && guard < Some(i) { Context::Guard } else { Context::Event }
        }
        _ => Context::Event,
    }
}

/// Where the cursor is inside an agent term `a(…)`.
struct AgentContext {
    /// Byte offset of the `(` of `a(`.
    open_at: usize,
    /// Commas directly inside `a(…)` before the cursor (0: in the role term; 1: in the peer id).
    commas: u32,
    /// Inside the role term's own arguments (`a(role(X, |), Id)`): which one.
    role_argument: Option<u32>,
}

/// Walks back from the end of `before` through every unclosed bracket, up to the `a(` of an
/// agent term, if the cursor is inside one (and not past an event operator or `::`).
fn enclosing_agent(before: &str) -> Option<AgentContext> {
    let is_agent_paren = |i: usize| {
        let head = before.get(..i).unwrap_or("").trim_end();
        head.strip_suffix('a')
            .is_some_and(|rest| !rest.ends_with(|ch: char| ch.is_alphanumeric() || ch == '_'))
    };
    let mut levels: Vec<(usize, u32)> = Vec::new();
    let (mut depth, mut commas) = (0u32, 0u32);
    let mut previous = '\0';
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' | ']' => depth += 1,
            '(' | '[' if depth > 0 => depth -= 1,
            '(' | '[' => {
                levels.push((i, commas));
                commas = 0;
                if c == '(' && is_agent_paren(i) {
                    let &(open_at, agent_commas) = levels.last()?;
                    let role_argument = levels.len().checked_sub(2).and_then(|i| levels.get(i)).map(|l| l.1);
                    return Some(AgentContext { open_at, commas: agent_commas, role_argument });
                }
            }
            ',' if depth == 0 => commas += 1,
            // `::`, `=>`, `<=`, `<-` or a line break outside brackets: no agent term.
            ':' if previous == ':' => return None,
            '>' | '\n' if depth == 0 => return None,
            '<' if depth == 0 => return None,
            _ => {}
        }
        previous = c;
        if levels.len() > 16 {
            return None;
        }
    }
    None
}

/// What may be typed at `offset`: roles after `a(`, constraints in a guard (built-ins and the
/// external constraints seen anywhere in `workspace`), messages at the start of an event (those
/// the target role accepts when the event already names it), variables in scope, keywords,
/// and snippets for a clause and a role declaration.
pub fn completions(
    db: &dyn salsa::Database,
    file: SourceFile,
    workspace: &[SourceFile],
    offset: u32,
) -> Vec<CompletionItem> {
    let text = file.text(db);
    let model = &db::check(db, file).ir;
    let mut out = Vec::new();
    let roles = |out: &mut Vec<CompletionItem>| {
        let mut seen = BTreeMap::new();
        for &f in std::iter::once(&file).chain(workspace.iter()) {
            let m = &db::check(db, f).ir;
            for role in &m.roles {
                let head = role
                    .clauses
                    .first()
                    .and_then(|&c| m.clause(c))
                    .map(|c| f.text(db).get(c.head_span.range()).unwrap_or("").to_string())
                    .unwrap_or_default();
                seen.entry(role.name.to_string()).or_insert(head);
            }
        }
        for (name, head) in seen {
            out.push(item(name, CompletionKind::Role, head));
        }
    };
    let variables = |out: &mut Vec<CompletionItem>| {
        // The clause being typed may end early (it does not parse to the cursor yet): then
        // the last clause that starts before the cursor.
        let clause = clause_at(model, offset)
            .map(|(_, c)| c)
            .or_else(|| model.clauses.iter().filter(|c| c.span.start <= offset).max_by_key(|c| c.span.start));
        let mut seen = std::collections::BTreeSet::new();
        if let Some(clause) = clause {
            for v in &clause.vars {
                seen.insert(v.name.to_string());
                out.push(item(v.name.as_str(), CompletionKind::Variable, v.sort.describe()));
            }
        }
        // Variables written in the part of the clause that does not parse yet.
        let before = text.get(..offset as usize).unwrap_or("");
        let block = before.rsplit("\n\n").next().unwrap_or("");
        for t in lcc_syntax::lexer::tokens(block) {
            if let lcc_syntax::lexer::Token::Var(name) = t.token
                && name != "_"
                && t.end < block.len()
                && seen.insert(name.to_string())
            {
                out.push(item(name, CompletionKind::Variable, "variable"));
            }
        }
    };
    match context(text, model, offset) {
        Context::AgentRole => roles(&mut out),
        Context::PeerId | Context::Term => variables(&mut out),
        Context::TopLevel => {
            out.push(snippet("a(role, Id) ::", "a clause", "a(${1:role}, ${2:Id}) ::\n    ${0:null}"));
            out.push(snippet(
                "r(role, kind)",
                "a role declaration",
                "r(${1:role}, ${2|initial,necessary,optional,auxiliary|}).",
            ));
        }
        Context::Guard => {
            let mut seen = BTreeMap::new();
            for &f in std::iter::once(&file).chain(workspace.iter()) {
                for c in &db::check(db, f).ir.constraints {
                    seen.entry((c.name.to_string(), c.arity)).or_insert_with(|| {
                        c.arg_sorts.iter().map(|s| s.describe()).collect::<Vec<_>>().join(", ")
                    });
                }
            }
            for ((name, arity), sorts) in seen {
                let args: Vec<String> = (1..=arity).map(|i| format!("${{{i}:_}}")).collect();
                let insert = if arity == 0 { name.clone() } else { format!("{name}({})", args.join(", ")) };
                out.push(CompletionItem {
                    label: format!("{name}/{arity}"),
                    kind: CompletionKind::Constraint,
                    detail: format!("external constraint ({sorts})"),
                    insert,
                    snippet: arity > 0,
                });
            }
            for b in [
                ir::Builtin::Member,
                ir::Builtin::Append,
                ir::Builtin::Length,
                ir::Builtin::Nth0,
                ir::Builtin::Nth1,
            ] {
                let args: Vec<String> = (1..=b.arity()).map(|i| format!("${{{i}:_}}")).collect();
                out.push(CompletionItem {
                    label: format!("{}/{}", b.name(), b.arity()),
                    kind: CompletionKind::Constraint,
                    detail: "built-in".into(),
                    insert: format!("{}({})", b.name(), args.join(", ")),
                    snippet: true,
                });
            }
            out.push(item("not", CompletionKind::Keyword, "negation"));
            out.push(item("and", CompletionKind::Keyword, "conjunction"));
            variables(&mut out);
        }
        Context::Event => {
            // The role this event sends to or receives from, when it is already written.
            let after = text.get(offset as usize..).unwrap_or("");
            let event_end =
                after.find(" then").unwrap_or(after.len()).min(after.find('\n').unwrap_or(after.len()));
            let event = after.get(..event_end).unwrap_or("");
            let target = event.find("a(").and_then(|i| event.get(i + 2..)).map(|s| {
                s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>()
            });
            let sending = event.contains("=>") || event.contains('⇒');
            let mut seen = BTreeMap::new();
            for m in &model.messages {
                let (other, accepts) = if sending {
                    (m.receiver, !m.receives.is_empty())
                } else {
                    (m.sender, !m.sends.is_empty())
                };
                let other = model.role(other).map(|r| r.name.to_string()).unwrap_or_default();
                if !accepts || target.as_ref().is_some_and(|t| !t.is_empty() && *t != other) {
                    continue;
                }
                let args: Vec<String> = (1..=m.arity).map(|i| format!("${{{i}:_}}")).collect();
                let insert = if m.arity == 0 {
                    m.functor.to_string()
                } else {
                    format!("{}({})", m.functor, args.join(", "))
                };
                let receiver = model.role(m.receiver).map(|r| r.name.as_str()).unwrap_or("?");
                seen.entry(format!("{}/{}", m.functor, m.arity)).or_insert(CompletionItem {
                    label: format!("{}/{}", m.functor, m.arity),
                    kind: CompletionKind::Message,
                    detail: format!("received by `{receiver}`"),
                    insert,
                    snippet: m.arity > 0,
                });
            }
            out.extend(seen.into_values());
            for (kw, detail) in
                [("then", "sequence"), ("or", "committed choice"), ("par", "parallel"), ("null", "no event")]
            {
                out.push(item(kw, CompletionKind::Keyword, detail));
            }
            out.push(snippet("=> a(role, Id)", "send", "=> a(${1:role}, ${2:Id})"));
            out.push(snippet("<= a(role, Id)", "receive", "<= a(${1:role}, ${2:Id})"));
            variables(&mut out);
        }
    }
    out
}

/// A clause head offered as the signature of a role change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `a(overloaded(Need), PID1)`.
    pub label: String,
    /// Byte ranges within `label` of each parameter: the role arguments, then the peer id.
    pub parameters: Vec<(u32, u32)>,
    pub doc: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHelp {
    pub signatures: Vec<Signature>,
    pub active_signature: u32,
    pub active_parameter: u32,
}

/// Inside `a(role(…), Id)`: the heads of the role's clauses, and which argument the cursor is
/// in (the role arguments first, then the peer id).
pub fn signature_help(db: &dyn salsa::Database, file: SourceFile, offset: u32) -> Option<SignatureHelp> {
    let text = file.text(db);
    let before = text.get(..offset as usize)?;
    let AgentContext { open_at, commas: agent_commas, role_argument } = enclosing_agent(before)?;
    let name: String = text
        .get(open_at + 1..)?
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        return None;
    }
    let model = &db::check(db, file).ir;
    let role = model.role(model.role_named(&name)?)?;
    let signatures: Vec<Signature> = role
        .clauses
        .iter()
        .filter_map(|&c| model.clause(c))
        .map(|clause| {
            let label = super::one_line(text, clause.head_span);
            let base = clause.head_span.start;
            let mut parameters: Vec<(u32, u32)> = Vec::new();
            // Parameter ranges: relative to the head, valid when the head has no line breaks
            // inside a term (true for nearly every head); otherwise located by text search.
            for term in clause.params.iter().chain(std::iter::once(&clause.self_id)) {
                let span = term.span();
                let piece = text.get(span.range()).unwrap_or("");
                let relative = span.start.saturating_sub(base);
                let located = if label.get(relative as usize..).is_some_and(|s| s.starts_with(piece)) {
                    Some(relative)
                } else {
                    label.find(piece).and_then(|i| u32::try_from(i).ok())
                };
                if let Some(start) = located {
                    parameters.push((start, start + u32::try_from(piece.len()).unwrap_or(0)));
                }
            }
            Signature { label, parameters, doc: clause.doc.as_deref().map(super::doc_text) }
        })
        .collect();
    if signatures.is_empty() {
        return None;
    }
    // The clause whose arity fits what is written so far.
    let written = role_argument.map_or(0, |c| c as usize + 1);
    let active_signature = signatures.iter().position(|s| s.parameters.len() > written).unwrap_or(0);
    let arity = signatures.get(active_signature).map_or(1, |s| s.parameters.len());
    let active_parameter = match role_argument {
        Some(argument) => argument,
        None if agent_commas == 0 => 0,
        None => u32::try_from(arity.saturating_sub(1)).unwrap_or(0),
    };
    Some(SignatureHelp {
        signatures,
        active_signature: u32::try_from(active_signature).unwrap_or(0),
        active_parameter,
    })
}
