//! Semantic tokens: the lexer's tokens, classified with the symbol index (an atom can be a
//! role, a message, a constraint, a built-in or just an atom; only the IR knows which).

use super::{Symbol, Usage, symbol_index};
use crate::db::SourceFile;
use lcc_syntax::lexer::{Token, tokens};

/// Token types, in the order of the legend the language server announces.
pub const TOKEN_TYPES: &[&str] = &[
    "keyword",    // 0
    "comment",    // 1
    "string",     // 2
    "number",     // 3
    "variable",   // 4
    "type",       // 5: roles
    "function",   // 6: messages
    "method",     // 7: constraints
    "enumMember", // 8: other atoms
    "decorator",  // 9: annotations
    "operator",   // 10
];

/// Token modifiers (bit i is `TOKEN_MODIFIERS[i]`).
pub const TOKEN_MODIFIERS: &[&str] = &["declaration", "defaultLibrary"];

/// One classified token: byte range, index into [`TOKEN_TYPES`], modifier bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    pub start: u32,
    pub end: u32,
    pub kind: u32,
    pub modifiers: u32,
}

/// Every token of the file worth colouring, in source order.
pub fn semantic_tokens(db: &dyn salsa::Database, file: SourceFile) -> Vec<SemanticToken> {
    let text = file.text(db);
    let index = symbol_index(db, file);
    let mut next = 0usize;
    let mut out = Vec::new();
    for t in tokens(text) {
        let (start, end) =
            (u32::try_from(t.start).unwrap_or(u32::MAX), u32::try_from(t.end).unwrap_or(u32::MAX));
        // The occurrence that starts at this token, if any (both are in source order).
        while index.get(next).is_some_and(|o| o.span.start < start) {
            next += 1;
        }
        let occurrence = index.get(next).filter(|o| o.span.start == start);
        let declaration =
            occurrence.is_some_and(|o| matches!(o.usage, Usage::Definition | Usage::Declaration));
        let (kind, mut modifiers) = match t.token {
            Token::A
            | Token::R
            | Token::Null
            | Token::Then
            | Token::Or
            | Token::Par
            | Token::And
            | Token::Not
            | Token::Is
            | Token::Mod => (0, 0),
            Token::LineComment(_)
            | Token::PercentComment(_)
            | Token::BlockComment(_)
            | Token::UnterminatedBlockComment(_) => (1, 0),
            Token::Str(_) | Token::UnterminatedStr(_) => (2, 0),
            Token::Int(_) | Token::Float(_) => (3, 0),
            Token::Var(_) => (4, 0),
            Token::Atom(_) | Token::QuotedAtom(_) | Token::UnterminatedQuotedAtom(_) => {
                match occurrence.map(|o| &o.symbol) {
                    Some(Symbol::Role(_)) => (5, 0),
                    Some(Symbol::Message(_)) => (6, 0),
                    Some(Symbol::Constraint(_)) => (7, 0),
                    Some(Symbol::Builtin(_)) => (7, 2),
                    _ => (8, 0),
                }
            }
            Token::AtName(_) => (9, 0),
            Token::ClauseOp | Token::Send | Token::Receive | Token::Guard => (10, 0),
            _ => continue,
        };
        if declaration {
            modifiers |= 1;
        }
        out.push(SemanticToken { start, end, kind, modifiers });
    }
    out
}
