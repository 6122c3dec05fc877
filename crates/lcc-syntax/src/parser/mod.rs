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
#[doc(hidden)]
pub mod fast;

use crate::ast::{Comment, CommentKind};
use crate::ast::{DialectItem, DialectItemKind, Item, ItemKind, Model, Span};
use crate::codes;
use crate::diagnostic::{Diagnostic, TextEdit};
use crate::lexer::{Spanned, Token, tokens};
use lalrpop_util::{ErrorRecovery, ParseError};

// Generated code: the workspace's restriction lints (no indexing, unwrap or panic) are for
// code written by hand; lalrpop's tables index and its unreachable paths panic.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unused_qualifications,
    unused_parens,
    dead_code
)]
mod generated {
    lalrpop_util::lalrpop_mod!(pub lcc, "/lcc.rs");
}

/// Parses a whole LCC source. Never fails and never panics: malformed input yields `Error`
/// nodes and diagnostics, and every well-formed item around them is still in the model.
pub fn parse(source: &str) -> (Model, Vec<Diagnostic>) {
    parse_in_segments(source, SEGMENT_TOKENS)
}

/// [`parse`], lexing `segment_tokens` tokens ahead at a time (the tests vary it).
fn parse_in_segments(source: &str, segment_tokens: usize) -> (Model, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut model = Model::default();
    if u32::try_from(source.len()).is_err() {
        diags.push(
            Diagnostic::new(&codes::SOURCE_TOO_LARGE, Span::new(0, 0), "the file is larger than 4 GiB")
                .with_help("split the model into several files"),
        );
        return (model, diags);
    }
    // The file is lexed and parsed in segments that end where a clause head `a(…) ::` starts a
    // line, which `split_items` always cuts at whatever came before; the tokens of a segment are
    // dropped once its items are parsed. Lexical diagnostics are kept apart and go first, so
    // the result is the same as lexing the whole file before parsing any of it.
    let mut lexical = Vec::new();
    let mut unterminated = Vec::new();
    let mut lexer = Significant::new(source);
    let parser = generated::lcc::ItemParser::new();
    let mut window: Vec<Spanned<'_>> = Vec::with_capacity(segment_tokens + HEAD_LOOKAHEAD + 2);
    let mut searched = 0;
    let mut at_eof = false;
    while !(at_eof && window.is_empty()) {
        let want = window.len() + segment_tokens.max(1);
        while !at_eof && window.len() < want {
            match lexer.next(&mut model.comments, &mut unterminated, &mut lexical) {
                Some(tok) => window.push(tok),
                None => at_eof = true,
            }
        }
        let end = if at_eof { window.len() } else { last_segment_start(source, &window, &mut searched) };
        let Some(segment) = window.get(..end).filter(|s| !s.is_empty()) else { continue };
        for chunk in split_items(source, segment) {
            // Well-formed clauses and role declarations take the hand-written fast path
            // (fast.rs), which builds exactly the grammar's tree; everything else, and every
            // error, goes through lalrpop.
            let item =
                fast::item(chunk).or_else(|| parse_item(source, &parser, chunk, &unterminated, &mut diags));
            if let Some(item) = item {
                model.items.push(item);
            }
        }
        window.drain(..end);
        searched = searched.saturating_sub(end);
    }
    lexical.append(&mut diags);
    let mut diags = lexical;
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    (model, diags)
}

/// How many tokens are lexed ahead at a time (see [`parse`]).
const SEGMENT_TOKENS: usize = 4096;

/// The index of the last token of `window` that starts a line with a clause head `a(…) ::`
/// whose lookahead lies inside the window (so [`is_clause_head`] says the same as it would on
/// the whole file), or 0. Tokens before `searched` were looked at already.
fn last_segment_start(source: &str, window: &[Spanned<'_>], searched: &mut usize) -> usize {
    let complete = window.len().saturating_sub(HEAD_LOOKAHEAD + 2);
    let mut last = 0;
    for i in (*searched).max(1)..complete {
        if window.get(i).is_some_and(|t| matches!(t.token, Token::A) && at_line_start(source, t.start))
            && is_clause_head(window, i)
        {
            last = i;
        }
    }
    *searched = complete.max(*searched);
    last
}

/// All the significant tokens of `source` at once (see [`Significant`]).
fn significant_tokens<'s>(
    source: &'s str,
    comments: &mut Vec<Comment>,
    unterminated: &mut Vec<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<'s>> {
    let mut out = Vec::with_capacity(source.len() / 3 + 8);
    let mut lexer = Significant::new(source);
    while let Some(tok) = lexer.next(comments, unterminated, diags) {
        out.push(tok);
    }
    out
}

/// Removes trivia and reports lexical errors, repairing what the grammar can still use. The
/// start of every unterminated string or quoted atom goes to `unterminated`: such a literal
/// swallows the rest of its line, so the errors that follow it are its consequences.
struct Significant<'s> {
    source: &'s str,
    tokens: crate::lexer::Tokens<'s>,
    /// A run of adjacent unknown characters, reported once when it ends.
    unknown_run: Option<(usize, usize)>,
}

impl<'s> Significant<'s> {
    fn new(source: &'s str) -> Self {
        Significant { source, tokens: tokens(source), unknown_run: None }
    }

    /// The next token the grammar sees, or `None` at the end of the file.
    #[inline]
    fn next(
        &mut self,
        comments: &mut Vec<Comment>,
        unterminated: &mut Vec<usize>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<'s>> {
        let (source, unknown_run) = (self.source, &mut self.unknown_run);
        for tok in self.tokens.by_ref() {
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
                        Diagnostic::new(
                            &codes::UNTERMINATED_LITERAL,
                            Span::new(tok.start, tok.start + 2),
                            "unterminated block comment",
                        )
                        .with_label("this comment runs to the end of the file")
                        .with_help("close it with `*/`"),
                    );
                    comments.push(Comment { kind: CommentKind::Block, text: text.to_string(), span });
                }
                Token::Unknown(_) => {
                    // A run of adjacent unknown characters is one mistake: report it once.
                    match unknown_run {
                        Some((_, end)) if *end == tok.start => *end = tok.end,
                        _ => {
                            flush_unknown(source, unknown_run.take(), diags);
                            *unknown_run = Some((tok.start, tok.end));
                        }
                    }
                }
                Token::UnterminatedStr(text) | Token::UnterminatedQuotedAtom(text) => {
                    let (what, quote) = match tok.token {
                        Token::UnterminatedStr(_) => ("string", "\""),
                        _ => ("quoted atom", "'"),
                    };
                    diags.push(
                        Diagnostic::new(&codes::UNTERMINATED_LITERAL, span, format!("unterminated {what}"))
                            .with_label(format!("this {what} has no closing `{quote}` on its line"))
                            .with_help(format!(
                                "add `{quote}` where the {what} ends (write `\\n` for a line break)"
                            ))
                            .with_fix(
                                format!("close the {what} at the end of the line"),
                                vec![TextEdit {
                                    span: Span::new(tok.end, tok.end),
                                    replacement: quote.into(),
                                }],
                            ),
                    );
                    unterminated.push(tok.start);
                    let body = text.get(1..).unwrap_or("");
                    let token = match tok.token {
                        Token::UnterminatedStr(_) => Token::Str(body),
                        _ => Token::QuotedAtom(body),
                    };
                    return Some(Spanned { token, ..tok });
                }
                _ => return Some(tok),
            }
        }
        flush_unknown(source, unknown_run.take(), diags);
        None
    }
}

/// Reports a run of characters that start no token.
fn flush_unknown(source: &str, run: Option<(usize, usize)>, diags: &mut Vec<Diagnostic>) {
    let Some((start, end)) = run else { return };
    let text = source.get(start..end).unwrap_or("");
    let help = match text {
        "!" => "`!` is not LCC: negate with `not`; for inequality write `\\=` or `!=`",
        "@" => "annotations are written `@annotation(Target, Value)`",
        "&" => "conjunction is `and` (or `&&`)",
        _ if text.chars().count() > 1 => "remove them, or quote the text as an atom: 'text'",
        _ => "remove it, or quote the text as an atom: 'text'",
    };
    let (what, these) =
        if text.chars().count() == 1 { ("character", "this") } else { ("characters", "these") };
    diags.push(
        Diagnostic::new(
            &codes::UNKNOWN_CHARACTER,
            Span::new(start, end),
            format!("unexpected {what} `{}`", text.escape_debug()),
        )
        .with_label(format!("no LCC token starts with {these}"))
        .with_help(help),
    );
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
#[inline]
fn is_clause_head(tokens: &[Spanned<'_>], i: usize) -> bool {
    // `matches!` rather than `==`: the derived comparison is a call (this runs on every token).
    matches!(tokens.get(i).map(|t| t.token), Some(Token::A))
        && matches!(tokens.get(i + 1).map(|t| t.token), Some(Token::LParen))
        && args_then_clause_op(tokens, i + 1)
}

/// A head that is not `a(…)` but is followed by `::`, such as `buyer(B) ::` or `buyer ::`: a
/// clause with a bad head (reported as such), not a continuation of the item before it.
fn is_bad_clause_head(tokens: &[Spanned<'_>], i: usize) -> bool {
    let next = tokens.get(i + 1).map(|t| t.token);
    matches!(tokens.get(i).map(|t| t.token), Some(Token::Atom(_) | Token::Var(_) | Token::QuotedAtom(_)))
        && match next {
            Some(Token::ClauseOp) => true,
            Some(Token::LParen) => args_then_clause_op(tokens, i + 1),
            _ => false,
        }
}

/// From the `(` at `open`: whether its balanced `)` is directly followed by `::`.
fn args_then_clause_op(tokens: &[Spanned<'_>], open: usize) -> bool {
    let is = |k: usize, want: Token<'_>| tokens.get(k).is_some_and(|t| t.token == want);
    let mut depth = 0usize;
    for (k, tok) in tokens.iter().enumerate().skip(open).take(HEAD_LOOKAHEAD) {
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
        // Only these tokens can start an item; after any other, only a `.` ends one.
        let may_start = matches!(
            tok.token,
            Token::A | Token::R | Token::Atom(_) | Token::Var(_) | Token::QuotedAtom(_) | Token::AtName(_)
        );
        if i > 0 && !may_start {
            if depth == 0 && matches!(tokens.get(i - 1).map(|t| t.token), Some(Token::Dot)) {
                starts.push(i);
            }
        } else if i > 0 && starts.last() != Some(&i) {
            let prev = tokens.get(i - 1).map(|t| t.token);
            let prev_ends = prev.as_ref().is_some_and(can_end_item);
            let line_start = at_line_start(source, tok.start);
            // `M => a(R, I) ::` mid-line is a stray `::` after the recipient, not a new clause;
            // at the start of a line it is a new clause after an unfinished one.
            let after_arrow = matches!(prev, Some(Token::Send | Token::Receive));
            let split = if (is_clause_head(tokens, i) && (line_start || !after_arrow))
                || (line_start && is_bad_clause_head(tokens, i))
            {
                true
            } else if depth == 0 {
                prev == Some(Token::Dot) || (prev_ends && starts_other_item(tokens, i))
            } else {
                line_start && matches!(tok.token, Token::R | Token::AtName(_)) && starts_other_item(tokens, i)
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
        if let Some(chunk) = tokens.get(start..end)
            && !chunk.is_empty()
        {
            chunks.push(chunk);
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

/// `unclosed (`, reported at the opener; callers add where the item or the enclosing group ends.
fn unclosed(open: &Spanned<'_>) -> Diagnostic {
    Diagnostic::new(
        &codes::UNCLOSED_DELIMITER,
        Span::new(open.start, open.end),
        format!("unclosed `{}`", open.token.canonical_text()),
    )
    .with_label("opened here and never closed")
}

/// Balances delimiters in one item: drops stray closers, appends missing ones. Returns the
/// repaired tokens and the offset of the first unclosed opener, if any. An opener before
/// `literal` (the start of an unterminated string or quoted atom, which swallowed the rest of
/// its line and most likely the closer with it) is closed without a report of its own.
fn balance<'s>(
    chunk: &[Spanned<'s>],
    noun: &str,
    literal: Option<usize>,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Spanned<'s>>, Option<usize>) {
    let mut out = Vec::with_capacity(chunk.len() + 2);
    let mut stack: Vec<Spanned<'s>> = Vec::new();
    let is_annotation = matches!(chunk.first().map(|t| t.token), Some(Token::AtName(_)));
    for (i, tok) in chunk.iter().enumerate() {
        if is_opener(&tok.token) {
            stack.push(*tok);
        } else if is_closer(&tok.token) {
            let span = Span::new(tok.start, tok.end);
            let text = tok.token.canonical_text();
            if stack.last().is_some_and(|open| closer_for(&open.token) == tok.token) {
                stack.pop();
            } else if let Some(depth) = stack.iter().rposition(|open| closer_for(&open.token) == tok.token) {
                // It closes an enclosing opener: the ones opened inside it were left open.
                // Close them right here, so that what follows is read as written.
                while stack.len() > depth + 1 {
                    let Some(open) = stack.pop() else { break };
                    let closer = closer_for(&open.token);
                    let want = closer.canonical_text();
                    diags.push(
                        unclosed(&open)
                            .with_secondary(span, format!("`{text}` closes what encloses it here"))
                            .with_help(format!("add the missing `{want}` before this `{text}`"))
                            .with_fix(
                                format!("insert `{want}`"),
                                vec![TextEdit {
                                    span: Span::new(tok.start, tok.start),
                                    replacement: want.into(),
                                }],
                            ),
                    );
                    out.push(Spanned { token: closer, start: tok.start, end: tok.start });
                }
                stack.pop();
            } else if let Some(open) = stack.pop() {
                // It closes nothing that is open: most likely a slip for the innermost closer.
                let closer = closer_for(&open.token);
                let want = closer.canonical_text();
                diags.push(
                    Diagnostic::new(
                        &codes::UNMATCHED_DELIMITER,
                        span,
                        format!(
                            "expected `{want}` to close the `{}`, found `{text}`",
                            open.token.canonical_text()
                        ),
                    )
                    .with_label(format!("does not match the `{}`", open.token.canonical_text()))
                    .with_secondary(Span::new(open.start, open.end), "opened here")
                    .with_help(format!("write `{want}` here; lcc reads this `{text}` as `{want}`"))
                    .with_fix(format!("write `{want}`"), vec![TextEdit { span, replacement: want.into() }]),
                );
                out.push(Spanned { token: closer, ..*tok });
                continue;
            } else {
                let only_closers_left = chunk
                    .get(i..)
                    .is_some_and(|rest| rest.iter().all(|t| is_closer(&t.token) || t.token == Token::Dot));
                let fix = vec![TextEdit { span, replacement: String::new() }];
                let diag = if is_annotation && only_closers_left {
                    Diagnostic::new(
                        &codes::OK_EXTRA_PAREN,
                        span,
                        format!("unmatched `{text}` after an annotation"),
                    )
                    .with_label("no `(` opens this")
                    .with_help("the OpenKnowledge kernel ignores it, and so does lcc")
                    .with_fix("delete it", fix)
                } else {
                    Diagnostic::new(&codes::UNMATCHED_DELIMITER, span, format!("unmatched `{text}`"))
                        .with_label("nothing open here is closed by this")
                        .with_help("delete it")
                        .with_fix("delete it", fix)
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
        let swallowed = literal.is_some_and(|lit| open.start < lit);
        if !swallowed {
            diags.push(
                unclosed(&open)
                    .with_secondary(Span::new(end, end), format!("the {noun} ends here"))
                    .with_help(format!("add the missing `{}`", closer.canonical_text())),
            );
        }
        // Insert before a trailing `.` so the terminator still ends the item.
        let at = if out.last().is_some_and(|t| t.token == Token::Dot) { out.len() - 1 } else { out.len() };
        out.insert(at, Spanned { token: closer, start: end, end });
    }
    (out, first_unclosed)
}

/// How many missing `then`s one item may have inserted before its errors are left alone.
const MAX_INSERTIONS: usize = 8;

/// What an item is, for messages ("the end of the clause").
fn item_noun(chunk: &[Spanned<'_>]) -> &'static str {
    match chunk.first().map(|t| t.token) {
        Some(Token::A) => "clause",
        Some(Token::R) => "role declaration",
        Some(Token::AtName(_)) => "annotation",
        _ => "item",
    }
}

type Recovered<'s> = Vec<ErrorRecovery<usize, Token<'s>, build::Never>>;

/// Deepest nesting of delimiters that an item may have.
pub(crate) const MAX_NESTING: usize = 1_000;
/// Most definition and guard operators that one item may chain.
pub(crate) const MAX_OPERATORS: usize = 100_000;

/// The first place where an item goes past [`MAX_NESTING`] or [`MAX_OPERATORS`]: the later
/// stages recurse over the tree, and refusing such an item keeps every stack bounded.
pub(super) fn exceeds_limits(chunk: &[Spanned<'_>]) -> Option<(Span, String)> {
    let (mut depth, mut operators) = (0usize, 0usize);
    for tok in chunk {
        match tok.token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                depth += 1;
                if depth > MAX_NESTING {
                    let why = format!("nests brackets more than {MAX_NESTING} levels deep");
                    return Some((Span::new(tok.start, tok.end), why));
                }
            }
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            Token::Then
            | Token::Or
            | Token::Par
            | Token::And
            | Token::AndSym
            | Token::OrSym
            | Token::Not
            | Token::NotSym
            | Token::Minus => {
                operators += 1;
                if operators > MAX_OPERATORS {
                    let why = format!("chains more than {MAX_OPERATORS} operators");
                    return Some((Span::new(tok.start, tok.end), why));
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_item(
    source: &str,
    parser: &generated::lcc::ItemParser,
    chunk: &[Spanned<'_>],
    unterminated: &[usize],
    diags: &mut Vec<Diagnostic>,
) -> Option<Item> {
    let first = chunk.first()?;
    let last = chunk.last()?;
    let item_span = Span::new(first.start, last.end);
    if let Some((span, why)) = exceeds_limits(chunk) {
        diags.push(
            Diagnostic::new(&codes::TOO_DEEP, span, format!("this item is {why}"))
                .with_label("the limit is reached here")
                .with_secondary(item_span, "this item is skipped")
                .with_help("split the clause into roles that hand over with role changes"),
        );
        return Some(Item { kind: ItemKind::Error, span: item_span, terminated: false });
    }
    if first.token == Token::Atom("header") {
        diags.push(
            Diagnostic::new(
                &codes::WEBLCC_HEADER,
                Span::new(first.start, first.end),
                "`header(…)` is a WebLCC block",
            )
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
    let noun = item_noun(chunk);
    let literal = unterminated.iter().copied().find(|&at| at >= first.start && at < last.end);
    let (mut tokens, first_unclosed) = balance(chunk, noun, literal, diags);
    if tokens.is_empty() {
        return None;
    }
    // Parse; where two events meet with no operator between them, insert the `then` the user
    // most likely forgot, report it, and parse again, so that both events are in the tree.
    let mut inserted: Vec<Diagnostic> = Vec::new();
    let (result, recovered, item_diags) = loop {
        let mut recovered: Recovered<'_> = Vec::new();
        let mut item_diags = Vec::new();
        let result = parser.parse(
            &mut recovered,
            &mut item_diags,
            tokens.iter().map(|t| Ok::<_, build::Never>((t.start, t.token, t.end))),
        );
        if inserted.len() < MAX_INSERTIONS
            && let Some(at) = missing_then(source, &tokens, &recovered, result.as_ref().err())
            && let (Some(prev), Some(next)) = (at.checked_sub(1).and_then(|p| tokens.get(p)), tokens.get(at))
        {
            inserted.push(missing_then_diagnostic(prev, next));
            let then = Spanned { token: Token::Then, start: prev.end, end: prev.end };
            tokens.insert(at, then);
            continue;
        }
        break (result, recovered, item_diags);
    };
    let cx = ItemCx { source, tokens: &tokens, span: item_span, noun };
    let mut syntax: Vec<Diagnostic> = recovered.into_iter().map(|rec| parse_error(&cx, rec.error)).collect();
    let item = match result {
        Ok(item) => item,
        Err(err) => {
            syntax.push(parse_error(&cx, err));
            Item { kind: ItemKind::Error, span: item_span, terminated: false }
        }
    };
    // Past an unclosed delimiter or an unterminated literal, the tokens the grammar saw were
    // repaired by guesswork: errors there are consequences, so only the delimiter or literal
    // diagnostic stands. A diagnostic whose span reaches past that point (a term that holds
    // the opener) is a consequence too.
    let cut = first_unclosed.into_iter().chain(literal).min();
    let keep = |d: &Diagnostic| cut.is_none_or(|cut| (d.span.end as usize) <= cut);
    inserted.retain(keep);
    syntax.retain(keep);
    let mut item_diags = item_diags;
    item_diags.retain(keep);
    diags.extend(inserted);
    diags.extend(item_diags);
    diags.extend(syntax);
    Some(Item { span: item_span, ..item })
}

/// Whether a token can begin an event (and so a new step after a complete one).
fn starts_event(t: &Token<'_>) -> bool {
    matches!(
        t,
        Token::Var(_)
            | Token::Atom(_)
            | Token::QuotedAtom(_)
            | Token::Str(_)
            | Token::Int(_)
            | Token::Float(_)
            | Token::A
            | Token::R
            | Token::Null
            | Token::LParen
            | Token::LBrace
            | Token::LBracket
    )
}

/// Whether the tokens from `i` look like a whole event: `null`, a role change `a(…)`, or a
/// message with its arrow before the next operator.
fn looks_like_event(tokens: &[Spanned<'_>], i: usize) -> bool {
    let next_is_paren = tokens.get(i + 1).is_some_and(|t| t.token == Token::LParen);
    match tokens.get(i).map(|t| t.token) {
        Some(Token::Null) => return true,
        Some(Token::A) if next_is_paren => return true,
        _ => {}
    }
    let mut depth = 0usize;
    for tok in tokens.iter().skip(i) {
        match tok.token {
            t if is_opener(&t) => depth += 1,
            t if is_closer(&t) => depth = depth.saturating_sub(1),
            Token::Send | Token::Receive if depth == 0 => return true,
            Token::Then | Token::Or | Token::Par | Token::Dot | Token::ClauseOp if depth == 0 => {
                return false;
            }
            _ => {}
        }
    }
    false
}

/// The index of the token before which a `then` is missing, if the first syntax error of the
/// item is two events with nothing between them.
fn missing_then(
    source: &str,
    tokens: &[Spanned<'_>],
    recovered: &Recovered<'_>,
    fatal: Option<&ParseError<usize, Token<'_>, build::Never>>,
) -> Option<usize> {
    let first = recovered.iter().map(|r| &r.error).chain(fatal).min_by_key(|e| match e {
        ParseError::UnrecognizedToken { token: (l, _, _), .. } => *l,
        ParseError::UnrecognizedEof { location, .. } | ParseError::InvalidToken { location } => *location,
        ParseError::ExtraToken { token: (l, _, _) } => *l,
        ParseError::User { error } => match *error {},
    })?;
    let ParseError::UnrecognizedToken { token: (l, tok, _), expected } = first else { return None };
    if !expected.iter().any(|e| e == "\"then\"") || !starts_event(tok) {
        return None;
    }
    let at = tokens.iter().position(|t| t.start == *l && t.token == *tok)?;
    let line_start = at_line_start_ws(source, *l);
    (looks_like_event(tokens, at) || line_start).then_some(at)
}

fn missing_then_diagnostic(prev: &Spanned<'_>, next: &Spanned<'_>) -> Diagnostic {
    Diagnostic::new(
        &codes::UNEXPECTED_TOKEN,
        Span::new(next.start, next.end),
        format!("expected `then`, `or` or `par` before {}", next.token.describe()),
    )
    .with_label("a new event starts here")
    .with_secondary(Span::new(prev.start, prev.end), "the previous event ends here")
    .with_help("join events with `then` (sequence), `or` (choice) or `par` (parallel); lcc read `then`")
    .with_fix(
        "insert `then`",
        vec![TextEdit { span: Span::new(prev.end, prev.end), replacement: " then".into() }],
    )
}

/// Whether only blanks stand between the previous line break and `at`.
fn at_line_start_ws(source: &str, at: usize) -> bool {
    source.get(..at).is_some_and(|before| {
        let trimmed = before.trim_end_matches([' ', '\t', '\r']);
        trimmed.is_empty() || trimmed.ends_with('\n')
    })
}

/// What [`parse_error`] needs to know about the item the error is in.
struct ItemCx<'a, 's> {
    source: &'a str,
    /// The tokens the grammar saw (delimiters balanced, `then`s inserted).
    tokens: &'a [Spanned<'s>],
    span: Span,
    noun: &'static str,
}

/// Turns a lalrpop error into a diagnostic that says what was expected in LCC's words.
fn parse_error(cx: &ItemCx<'_, '_>, err: ParseError<usize, Token<'_>, build::Never>) -> Diagnostic {
    match err {
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => {
            let at = cx.tokens.iter().position(|t| t.start == l && t.token == tok);
            let prev = at.and_then(|i| i.checked_sub(1)).and_then(|i| cx.tokens.get(i));
            unexpected(cx, prev, Some(&Spanned { token: tok, start: l, end: r }), at, &expected)
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let prev = cx.tokens.iter().rev().find(|t| t.end <= location);
            unexpected(cx, prev, None, None, &expected)
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::new(
            &codes::UNEXPECTED_TOKEN,
            Span::new(l, r),
            format!("unexpected {} after the end of the {}", tok.describe(), cx.noun),
        )
        .with_label(format!("the {} is already complete", cx.noun))
        .with_help("delete it, or start a new item on a new line"),
        ParseError::InvalidToken { location } => {
            Diagnostic::new(&codes::UNEXPECTED_TOKEN, Span::new(location, location), "invalid token")
                .with_label("no LCC token starts here")
        }
        ParseError::User { error } => match error {},
    }
}

/// A token the grammar did not expect (`found`), or the end of the item (`None`).
fn unexpected(
    cx: &ItemCx<'_, '_>,
    prev: Option<&Spanned<'_>>,
    found: Option<&Spanned<'_>>,
    found_at: Option<usize>,
    expected: &[String],
) -> Diagnostic {
    let names: Vec<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    let wanted = describe_expected(expected);
    let found_text = found.map_or_else(|| format!("the end of the {}", cx.noun), |f| f.token.describe());
    let span = match found {
        Some(f) => Span::new(f.start, f.end),
        None => {
            let end = prev.map_or(cx.span.end as usize, |p| p.end);
            Span::new(end, end)
        }
    };
    let label =
        if found.is_some() { "unexpected here".to_string() } else { format!("the {} ends here", cx.noun) };
    let prev_tok = prev.map(|p| p.token);
    let expects_event = wanted.starts_with("an event");
    let delete =
        |s: &Spanned<'_>| vec![TextEdit { span: Span::new(s.start, s.end), replacement: String::new() }];
    let mut fix: Option<(String, Vec<TextEdit>)> = None;
    let (message, help): (String, Option<String>) = match prev_tok {
        Some(Token::Send) if names == ["a"] => (
            format!("expected the recipient `a(Role, Id)` after `=>`, found {found_text}"),
            Some("a message is sent to an agent: `Msg => a(Role, Id)`".into()),
        ),
        Some(Token::Receive) if names == ["a"] => (
            format!("expected the sender `a(Role, Id)` after `<=`, found {found_text}"),
            Some("a message is received from an agent: `Msg <= a(Role, Id)`".into()),
        ),
        Some(Token::ClauseOp) if expects_event => (
            format!("expected a definition after `::`, found {found_text}"),
            Some(
                "write the events of the role after `::`, e.g. `a(buyer, B) :: ask(X) => a(shop, S)`; \
                 a role with nothing to do is `null`"
                    .into(),
            ),
        ),
        Some(Token::Guard) if wanted.starts_with("a condition") => (
            format!("expected a condition after `<-`, found {found_text}"),
            Some(
                "a guard is a call `c(X)`, a comparison `X > 3` or `X is Expr`, and these joined \
                 with `and`, `or` and `not`"
                    .into(),
            ),
        ),
        Some(op @ (Token::Then | Token::Or | Token::Par)) if expects_event => {
            let op = op.canonical_text();
            let help = match (found, prev) {
                (None, Some(p)) => {
                    fix = Some((format!("delete the trailing `{op}`"), delete(p)));
                    Some(format!("delete the trailing `{op}`, or write the event that follows it"))
                }
                (Some(f), _) if matches!(f.token, Token::Then | Token::Or | Token::Par) => {
                    fix = Some((
                        format!("delete the second operator `{}`", f.token.canonical_text()),
                        delete(f),
                    ));
                    Some("two operators in a row: delete one of them".into())
                }
                _ => None,
            };
            (format!("expected an event after `{op}`, found {found_text}"), help)
        }
        _ if names == [","] && in_agent(cx.tokens, found_at) => (
            format!("expected `,` and the peer id after the role, found {found_text}"),
            Some("an agent names a role and the peer that plays it: `a(Role, Id)`".into()),
        ),
        Some(Token::Bar) if wanted.starts_with("a term") => (
            format!("expected the tail of the list after `|`, found {found_text}"),
            Some("write the rest of the list after `|`, as in `[H | T]`, or delete the `|`".into()),
        ),
        _ => {
            let help = found.and_then(|f| contextual_help(cx, prev, f, found_at, &names, &wanted, &mut fix));
            (format!("expected {wanted}, found {found_text}"), help)
        }
    };
    let help = help.or_else(|| found.is_none().then(|| format!("complete the {}, or delete it", cx.noun)));
    let mut diag = Diagnostic::new(&codes::UNEXPECTED_TOKEN, span, message).with_label(label);
    if let Some(help) = help {
        diag = diag.with_help(help);
    }
    if let Some((msg, edits)) = fix {
        diag = diag.with_fix(msg, edits);
    }
    diag
}

/// The `(`, `[` or `{` that encloses token `at`, if any.
fn enclosing_opener<'t, 's>(tokens: &'t [Spanned<'s>], at: usize) -> Option<(usize, &'t Spanned<'s>)> {
    let mut depth = 0usize;
    for (i, tok) in tokens.iter().enumerate().take(at).rev() {
        if is_closer(&tok.token) {
            depth += 1;
        } else if is_opener(&tok.token) {
            if depth == 0 {
                return Some((i, tok));
            }
            depth -= 1;
        }
    }
    None
}

/// Whether token `at` is inside the parentheses of an agent `a(…)`.
fn in_agent(tokens: &[Spanned<'_>], at: Option<usize>) -> bool {
    at.and_then(|at| enclosing_opener(tokens, at)).is_some_and(|(open, tok)| {
        tok.token == Token::LParen
            && open.checked_sub(1).and_then(|i| tokens.get(i)).is_some_and(|t| t.token == Token::A)
    })
}

/// A help line for a token that the grammar did not expect, from what surrounds it.
fn contextual_help(
    cx: &ItemCx<'_, '_>,
    prev: Option<&Spanned<'_>>,
    found: &Spanned<'_>,
    found_at: Option<usize>,
    names: &[&str],
    wanted: &str,
    fix: &mut Option<(String, Vec<TextEdit>)>,
) -> Option<String> {
    let tok = found.token;
    let span = Span::new(found.start, found.end);
    if tok == Token::Receive && names.contains(&"=<") {
        *fix = Some(("write `=<`".into(), vec![TextEdit { span, replacement: "=<".into() }]));
        return Some("`<=` is always the receive arrow; to compare, write `=<`".into());
    }
    if matches!(tok, Token::Colon | Token::Semicolon) {
        return Some(format!(
            "`{}` is not LCC: separate arguments with `,` and events with `then`",
            tok.canonical_text()
        ));
    }
    if tok == Token::Guard && !names.contains(&"<-") {
        return Some("an event takes one guard: join its conditions with `and`, as in `<- C1 and C2`".into());
    }
    if let (Token::Atom(word), Some(Spanned { token: Token::Int(_), end, .. })) = (tok, prev)
        && word.strip_prefix('e').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        && *end == found.start
    {
        return Some("a float needs a decimal point before its exponent: write `1.0e5`, not `1e5`".into());
    }
    if is_closer(&tok)
        && let Some(comma @ Spanned { token: Token::Comma, .. }) = prev
    {
        *fix = Some((
            "delete the trailing `,`".into(),
            vec![TextEdit { span: Span::new(comma.start, comma.end), replacement: String::new() }],
        ));
        return Some("delete the trailing `,`, or add the missing argument".into());
    }
    if in_agent(cx.tokens, found_at) {
        return Some("an agent names a role and the peer that plays it: `a(Role, Id)`".into());
    }
    if wanted.contains("`then`") && at_line_start_ws(cx.source, found.start) {
        return Some("join events with `then` (sequence), `or` (choice) or `par` (parallel)".into());
    }
    if tok == Token::ClauseOp {
        return Some(
            "`::` only follows the head of a clause, `a(Role, Id) ::`, at the start of a line; \
             join events with `then`, `or` or `par`"
                .into(),
        );
    }
    None
}

/// lalrpop names terminals by their grammar spelling; say it the way a user would, most
/// useful first: what may start here, the arrows and operators of definitions, closers, and
/// the operators of guards last.
fn describe_expected(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    let has = |n: &str| names.contains(&n);
    let term_starts = ["Var", "AtomName", "QuotedAtom", "Str", "Int", "Float", "[", "a", "r"];
    let cmp_ops = ["=", "\\\\=", "==", "\\\\==", "!=", "<", ">", "=<", ">=", "=:=", "=\\\\="];
    let arith_ops = ["+", "-", "*", "/", "mod"];
    let mut lead: Vec<String> = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    if term_starts.iter().filter(|n| has(n)).count() >= 4 {
        used.extend(term_starts);
        if has("null") {
            lead.push("an event".into());
            used.extend(["null", "(", "{", "not", "\\\\+", "-"]);
        } else if has("not") || has("\\\\+") {
            lead.push("a condition".into());
            used.extend(["(", "not", "\\\\+", "-"]);
        } else {
            lead.push("a term".into());
            used.push("-");
        }
    } else if names == ["a"] {
        lead.push("`a(Role, Id)`".into());
        used.push("a");
    }
    // Operators of guards, grouped.
    let mut ops: Vec<String> = Vec::new();
    if cmp_ops.iter().filter(|n| has(n)).count() >= 4 {
        ops.push("a comparison".into());
        used.extend(cmp_ops);
    }
    if arith_ops.iter().filter(|n| has(n)).count() >= 3 {
        ops.push("an arithmetic operator".into());
        used.extend(arith_ops);
    }
    if has("and") || has("&&") {
        ops.push("`and`".into());
        used.extend(["and", "&&"]);
    }
    for name in ["||", "is"] {
        if has(name) {
            ops.push(format!("`{name}`"));
            used.push(name);
        }
    }
    // Everything else, in a fixed order of usefulness.
    let order =
        ["=>", "<=", "<-", "then", "or", "par", "::", ",", "|", ")", "]", "}", "(", "[", "{", "AtName"];
    let mut rest: Vec<&str> = names.iter().copied().filter(|n| !used.contains(n) && *n != ".").collect();
    rest.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(order.len()));
    let mut parts = lead;
    for name in rest {
        let text = match name {
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
    if parts.len() + ops.len() > 7 && ops.len() > 1 {
        ops = vec!["an operator".into()];
    }
    parts.extend(ops);
    if has(".") {
        parts.push("`.`".into());
    }
    match parts.len() {
        0 => "nothing more".into(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} or {}", parts.join(", "), last)
        }
    }
}
