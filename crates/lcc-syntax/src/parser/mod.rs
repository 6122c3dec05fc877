//! The parser facade: `parse(source) -> (Model, Vec<Diagnostic>)`, which never fails.
//!
//! 1. The logos lexer tokenises the whole file; comments go to `Model::comments`; characters
//!    that start no token and unterminated literals are reported here and kept out of (or
//!    repaired for) the grammar.
//! 2. The token stream is cut into items at clause heads `a(…) ::`, at role declarations and
//!    annotations, and after `.` terminators; inside an unbalanced region, at `r(`/`@annotation`
//!    at the start of a line. One bad clause therefore never hides the next one.
//! 3. Delimiters are balanced per item: stray closers are dropped (reported), missing closers
//!    are added at the end of the item (reported at the opener), so the grammar still yields an
//!    AST while the user is typing.
//! 4. The lalrpop `Item` parser runs on each item, recovering inside definitions with `!`.

pub mod build;

use crate::ast::{DialectItem, DialectItemKind, Item, ItemKind, Model, Span};
use crate::ast::{Comment, CommentKind};
use crate::codes;
use crate::diagnostic::{Diagnostic, TextEdit};
use crate::lexer::{tokenize, Spanned, Token};
use lalrpop_util::{ErrorRecovery, ParseError};

#[allow(clippy::all, clippy::pedantic, unused_qualifications, unused_parens, dead_code)]
mod generated {
    lalrpop_util::lalrpop_mod!(pub lcc, "/lcc.rs");
}

/// Parses a whole LCC source. Never fails and never panics: malformed input yields `Error`
/// nodes and diagnostics, and every well-formed item around them is still in the model.
pub fn parse(source: &str) -> (Model, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut model = Model::default();
    if u32::try_from(source.len()).is_err() {
        diags.push(
            Diagnostic::new(&codes::SOURCE_TOO_LARGE, Span::new(0, 0), "the file is larger than 4 GiB")
                .with_help("split the model into several files"),
        );
        return (model, diags);
    }
    let tokens = significant_tokens(source, &mut model.comments, &mut diags);
    let parser = generated::lcc::ItemParser::new();
    for chunk in split_items(source, &tokens) {
        if let Some(item) = parse_item(source, &parser, chunk, &mut diags) {
            model.items.push(item);
        }
    }
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    (model, diags)
}

/// Removes trivia and reports lexical errors, repairing what the grammar can still use.
fn significant_tokens<'s>(
    source: &'s str,
    comments: &mut Vec<Comment>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<'s>> {
    let mut out = Vec::new();
    for tok in tokenize(source) {
        let span = Span::new(tok.start, tok.end);
        match tok.token {
            Token::LineComment(text) | Token::PercentComment(text) | Token::BlockComment(text) => {
                let kind = match tok.token {
                    Token::LineComment(_) => CommentKind::Line,
                    Token::PercentComment(_) => CommentKind::Percent,
                    _ => CommentKind::Block,
                };
                comments.push(Comment { kind, text: text.to_string(), span });
            }
            Token::UnterminatedBlockComment(text) => {
                diags.push(
                    Diagnostic::new(&codes::UNTERMINATED_LITERAL, Span::new(tok.start, tok.start + 2), "unterminated block comment")
                        .with_label("this comment runs to the end of the file")
                        .with_help("close it with `*/`"),
                );
                comments.push(Comment { kind: CommentKind::Block, text: text.to_string(), span });
            }
            Token::Unknown(ch) => {
                let help = match ch {
                    "!" => "`!` is not LCC; for inequality write `\\=` or `!=`".to_string(),
                    "'" | "\"" => "close the quote on the same line".to_string(),
                    "@" => "annotations are written `@annotation(Target, Value)`".to_string(),
                    _ => "remove it, or quote the text as an atom: 'text'".to_string(),
                };
                diags.push(
                    Diagnostic::new(&codes::UNKNOWN_CHARACTER, span, format!("unexpected character `{}`", ch.escape_debug()))
                        .with_label("no LCC token starts with this")
                        .with_help(help),
                );
            }
            Token::UnterminatedStr(text) | Token::UnterminatedQuotedAtom(text) => {
                let (what, quote) = match tok.token {
                    Token::UnterminatedStr(_) => ("string", "\""),
                    _ => ("quoted atom", "'"),
                };
                diags.push(
                    Diagnostic::new(&codes::UNTERMINATED_LITERAL, span, format!("unterminated {what}"))
                        .with_label(format!("this {what} has no closing `{quote}` on its line"))
                        .with_help(format!("add `{quote}` where the {what} ends (write `\\n` for a line break)"))
                        .with_fix(
                            format!("close the {what} at the end of the line"),
                            vec![TextEdit { span: Span::new(tok.end, tok.end), replacement: quote.into() }],
                        ),
                );
                let body = text.get(1..).unwrap_or("");
                let token = match tok.token {
                    Token::UnterminatedStr(_) => Token::Str(body),
                    _ => Token::QuotedAtom(body),
                };
                out.push(Spanned { token, ..tok });
            }
            _ => out.push(tok),
        }
    }
    out
}

fn is_opener(t: &Token<'_>) -> bool {
    matches!(t, Token::LParen | Token::LBracket | Token::LBrace)
}

fn is_closer(t: &Token<'_>) -> bool {
    matches!(t, Token::RParen | Token::RBracket | Token::RBrace)
}

/// Whether an item can end with this token (so that what follows may start a new one).
fn can_end_item(t: &Token<'_>) -> bool {
    matches!(
        t,
        Token::RParen
            | Token::RBracket
            | Token::RBrace
            | Token::Dot
            | Token::Var(_)
            | Token::Atom(_)
            | Token::A
            | Token::R
            | Token::QuotedAtom(_)
            | Token::Str(_)
            | Token::Int(_)
            | Token::Float(_)
            | Token::Null
    )
}

fn at_line_start(source: &str, offset: usize) -> bool {
    offset == 0 || source.as_bytes().get(offset - 1) == Some(&b'\n')
}

/// How far ahead a clause head is looked for; bounds the work on pathological input.
const HEAD_LOOKAHEAD: usize = 256;

/// `a ( … ) ::` starting at `i`.
fn is_clause_head(tokens: &[Spanned<'_>], i: usize) -> bool {
    let is = |k: usize, want: Token<'_>| tokens.get(k).is_some_and(|t| t.token == want);
    if !is(i, Token::A) || !is(i + 1, Token::LParen) {
        return false;
    }
    let mut depth = 0usize;
    for (k, tok) in tokens.iter().enumerate().skip(i + 1).take(HEAD_LOOKAHEAD) {
        if is_opener(&tok.token) {
            depth += 1;
        } else if is_closer(&tok.token) {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return is(k + 1, Token::ClauseOp);
            }
        } else if matches!(tok.token, Token::ClauseOp | Token::Then | Token::Dot) {
            return false;
        }
    }
    false
}

/// Tokens that begin a top-level item other than a clause.
fn starts_other_item(tokens: &[Spanned<'_>], i: usize) -> bool {
    let next_is_paren = tokens.get(i + 1).is_some_and(|t| t.token == Token::LParen);
    match tokens.get(i).map(|t| t.token) {
        Some(Token::AtName(_)) => true,
        Some(Token::R) => next_is_paren,
        Some(Token::Atom("header" | "plays" | "knows")) => next_is_paren,
        _ => false,
    }
}

/// Cuts the token stream into items (see the module documentation).
fn split_items<'t, 's>(source: &str, tokens: &'t [Spanned<'s>]) -> Vec<&'t [Spanned<'s>]> {
    let mut starts = vec![0usize];
    let mut depth = 0usize;
    for i in 0..tokens.len() {
        let Some(tok) = tokens.get(i) else { break };
        if i > 0 && starts.last() != Some(&i) {
            let prev = tokens.get(i - 1).map(|t| t.token);
            let prev_ends = prev.as_ref().is_some_and(can_end_item);
            let split = if is_clause_head(tokens, i) {
                true
            } else if depth == 0 {
                prev == Some(Token::Dot) || (prev_ends && starts_other_item(tokens, i))
            } else {
                at_line_start(source, tok.start)
                    && matches!(tok.token, Token::R | Token::AtName(_))
                    && starts_other_item(tokens, i)
            };
            if split {
                starts.push(i);
                depth = 0;
            }
        }
        if is_opener(&tok.token) {
            depth += 1;
        } else if is_closer(&tok.token) {
            depth = depth.saturating_sub(1);
        }
    }
    let mut chunks = Vec::with_capacity(starts.len());
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(tokens.len());
        if let Some(chunk) = tokens.get(start..end) {
            if !chunk.is_empty() {
                chunks.push(chunk);
            }
        }
    }
    chunks
}

fn closer_for(t: &Token<'_>) -> Token<'static> {
    match t {
        Token::LBracket => Token::RBracket,
        Token::LBrace => Token::RBrace,
        _ => Token::RParen,
    }
}

/// Balances delimiters in one item: drops stray closers, appends missing ones. Returns the
/// repaired tokens and the offset of the first unclosed opener, if any.
fn balance<'s>(
    chunk: &[Spanned<'s>],
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Spanned<'s>>, Option<usize>) {
    let mut out = Vec::with_capacity(chunk.len() + 2);
    let mut stack: Vec<Spanned<'s>> = Vec::new();
    let is_annotation = matches!(chunk.first().map(|t| t.token), Some(Token::AtName(_)));
    for (i, tok) in chunk.iter().enumerate() {
        if is_opener(&tok.token) {
            stack.push(*tok);
        } else if is_closer(&tok.token) {
            let matches = stack.last().is_some_and(|open| closer_for(&open.token) == tok.token);
            if matches {
                stack.pop();
            } else {
                let span = Span::new(tok.start, tok.end);
                let only_closers_left = chunk
                    .get(i..)
                    .is_some_and(|rest| rest.iter().all(|t| is_closer(&t.token) || t.token == Token::Dot));
                let fix = vec![TextEdit { span, replacement: String::new() }];
                let diag = if is_annotation && stack.is_empty() && only_closers_left {
                    Diagnostic::new(&codes::OK_EXTRA_PAREN, span, format!("unmatched `{}` after an annotation", tok.token.canonical_text()))
                        .with_label("no `(` opens this")
                        .with_help("the OpenKnowledge kernel ignores it, and so does lcc")
                        .with_fix("delete it", fix)
                } else {
                    let mut diag = Diagnostic::new(
                        &codes::UNMATCHED_DELIMITER,
                        span,
                        format!("unmatched `{}`", tok.token.canonical_text()),
                    )
                    .with_label("nothing open here is closed by this");
                    if let Some(open) = stack.last() {
                        diag = diag
                            .with_secondary(Span::new(open.start, open.end), format!("this `{}` is still open", open.token.canonical_text()))
                            .with_help(format!("close it with `{}`, or delete this one", closer_for(&open.token).canonical_text()));
                    } else {
                        diag = diag.with_help("delete it").with_fix("delete it", fix);
                    }
                    diag
                };
                diags.push(diag);
                continue;
            }
        }
        out.push(*tok);
    }
    let first_unclosed = stack.first().map(|t| t.start);
    let end = chunk.last().map_or(0, |t| t.end);
    // Close innermost first; the openers are reported once each, at the opener.
    while let Some(open) = stack.pop() {
        let closer = closer_for(&open.token);
        diags.push(
            Diagnostic::new(
                &codes::UNCLOSED_DELIMITER,
                Span::new(open.start, open.end),
                format!("unclosed `{}`", open.token.canonical_text()),
            )
            .with_label("opened here and never closed")
            .with_secondary(Span::new(end, end), "the item ends here")
            .with_help(format!("add the missing `{}`", closer.canonical_text())),
        );
        // Insert before a trailing `.` so the terminator still ends the item.
        let at = if out.last().is_some_and(|t| t.token == Token::Dot) { out.len() - 1 } else { out.len() };
        out.insert(at, Spanned { token: closer, start: end, end });
    }
    (out, first_unclosed)
}

fn parse_item(
    source: &str,
    parser: &generated::lcc::ItemParser,
    chunk: &[Spanned<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Option<Item> {
    let first = chunk.first()?;
    let last = chunk.last()?;
    let item_span = Span::new(first.start, last.end);
    if first.token == Token::Atom("header") {
        diags.push(
            Diagnostic::new(&codes::WEBLCC_HEADER, Span::new(first.start, first.end), "`header(…)` is a WebLCC block")
                .with_label("skipped: WebLCC binds peers to roles here")
                .with_help(
                    "give the population with role declarations such as `r(client, initial, 1)` \
                     or with `lcc verify --peers 'a(client, alice), a(shop, bob)'`",
                ),
        );
        return Some(Item {
            kind: ItemKind::Dialect(DialectItem { kind: DialectItemKind::WebLccHeader }),
            span: item_span,
            terminated: last.token == Token::Dot,
        });
    }
    let before = diags.len();
    let (tokens, first_unclosed) = balance(chunk, diags);
    if tokens.is_empty() {
        return None;
    }
    let mut recovered: Vec<ErrorRecovery<usize, Token<'_>, build::Never>> = Vec::new();
    let mut item_diags = Vec::new();
    let result = parser.parse(
        &mut recovered,
        &mut item_diags,
        tokens.iter().map(|t| Ok::<_, build::Never>((t.start, t.token, t.end))),
    );
    let mut syntax: Vec<Diagnostic> = recovered
        .into_iter()
        .map(|rec| parse_error(source, rec.error, item_span))
        .collect();
    let item = match result {
        Ok(item) => item,
        Err(err) => {
            syntax.push(parse_error(source, err, item_span));
            Item { kind: ItemKind::Error, span: item_span, terminated: false }
        }
    };
    // With an unclosed delimiter, errors past the opener are consequences of it: keep only the
    // delimiter diagnostic there.
    let keep = |d: &Diagnostic| first_unclosed.is_none_or(|open| (d.span.start as usize) < open);
    syntax.retain(keep);
    item_diags.retain(keep);
    diags.extend(item_diags);
    diags.extend(syntax);
    debug_assert!(diags.len() >= before);
    Some(Item { span: item_span, ..item })
}

/// Turns a lalrpop error into a diagnostic that says what was expected in LCC's words.
fn parse_error(source: &str, err: ParseError<usize, Token<'_>, build::Never>, item: Span) -> Diagnostic {
    match err {
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => {
            let expected = describe_expected(&expected);
            let mut diag = Diagnostic::new(
                &codes::UNEXPECTED_TOKEN,
                Span::new(l, r),
                format!("expected {expected}, found {}", tok.describe()),
            )
            .with_label("unexpected here");
            if let Some(help) = contextual_help(source, &tok, l, &expected) {
                diag = diag.with_help(help);
            }
            diag
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let expected = describe_expected(&expected);
            let at = location.min(item.end as usize);
            Diagnostic::new(&codes::UNEXPECTED_TOKEN, Span::new(at, at), format!("expected {expected}, found the end of the item"))
                .with_label("the item ends here")
                .with_secondary(item, "in this item")
                .with_help("complete the item, or delete it")
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::new(&codes::UNEXPECTED_TOKEN, Span::new(l, r), format!("unexpected {} after the item", tok.describe()))
                .with_label("the item is already complete")
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::new(&codes::UNEXPECTED_TOKEN, Span::new(location, location), "invalid token")
        }
        ParseError::User { error } => match error {},
    }
}

fn contextual_help(source: &str, tok: &Token<'_>, at: usize, expected: &str) -> Option<String> {
    if *tok == Token::Receive && expected.contains("comparison") {
        return Some("`<=` is always the receive arrow; to compare, write `=<`".into());
    }
    if matches!(tok, Token::Colon | Token::Semicolon) {
        return Some(format!("`{}` is not LCC: separate arguments with `,` and events with `then`", tok.canonical_text()));
    }
    let line_start = source.get(..at).is_some_and(|before| {
        before.trim_end_matches([' ', '\t', '\r']).ends_with('\n')
    });
    if expected.contains("`then`") && line_start {
        return Some("join events with `then` (sequence), `or` (choice) or `par` (parallel)".into());
    }
    if *tok == Token::ClauseOp {
        return Some("a clause head is `a(Role, Id) ::` at the start of an item".into());
    }
    None
}

/// lalrpop names terminals by their grammar spelling; say it the way a user would.
fn describe_expected(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    let has = |n: &str| names.contains(&n);
    let term_starts = ["Var", "AtomName", "QuotedAtom", "Str", "Int", "Float", "[", "a", "r"];
    let cmp_ops = ["=", "\\\\=", "==", "\\\\==", "!=", "<", ">", "=<", ">=", "=:=", "=\\\\="];
    let arith_ops = ["+", "-", "*", "/", "mod"];
    let mut parts: Vec<String> = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    if term_starts.iter().filter(|n| has(n)).count() >= 4 {
        parts.push(if has("null") { "an event".into() } else { "a term".into() });
        used.extend(term_starts);
        if has("null") {
            used.extend(["null", "(", "{", "not", "\\\\+"]);
        }
    }
    if cmp_ops.iter().filter(|n| has(n)).count() >= 4 {
        parts.push("a comparison".into());
        used.extend(cmp_ops);
        used.push("is");
    }
    if arith_ops.iter().filter(|n| has(n)).count() >= 3 {
        parts.push("an arithmetic operator".into());
        used.extend(arith_ops);
    }
    for name in &names {
        if used.contains(name) {
            continue;
        }
        let text = match *name {
            "Var" => "a variable".to_string(),
            "AtomName" | "QuotedAtom" => "an atom".to_string(),
            "Str" => "a string".to_string(),
            "Int" | "Float" => "a number".to_string(),
            "AtName" => "an `@annotation`".to_string(),
            other => format!("`{}`", other.replace("\\\\", "\\")),
        };
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    match parts.len() {
        0 => "nothing more".into(),
        1 => parts.remove(0),
        n if n > 7 => format!("{}, …", parts.get(..6).unwrap_or(&[]).join(", ")),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} or {}", parts.join(", "), last)
        }
    }
}
