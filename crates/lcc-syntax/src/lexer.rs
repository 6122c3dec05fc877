//! The logos lexer. Every spelling that LCC.md section 2 accepts for one operator becomes the
//! same token, so the grammar never sees dialect spellings. Comments are tokens here; the parser
//! facade moves them aside (the formatter and hover need them) before the grammar runs.

use logos::Logos;

/// One lexical token. Text-carrying tokens borrow from the source.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[logos(skip r"[ \t\r\n\f\u{feff}]+")]
pub enum Token<'s> {
    // ---- trivia -------------------------------------------------------------------------
    #[regex(r"//[^\n]*", allow_greedy = true)]
    LineComment(&'s str),
    #[regex(r"%[^\n]*", allow_greedy = true)]
    PercentComment(&'s str),
    /// `/* … */`, not nested.
    BlockComment(&'s str),
    /// A block comment with no `*/`: reported, and treated as running to the end of the file.
    UnterminatedBlockComment(&'s str),

    // ---- words ----------------------------------------------------------------------------
    #[regex(r"[A-Z_][A-Za-z0-9_]*")]
    Var(&'s str),
    Atom(&'s str),
    /// `a`: the agent keyword in clause heads and events, an atom elsewhere.
    A,
    /// `r`: the role-declaration keyword at item level, an atom elsewhere.
    R,
    Null,
    Then,
    Or,
    Par,
    And,
    Not,
    Is,
    Mod,
    /// `'any text'`: the raw text between the quotes (escapes not yet resolved).
    #[regex(r"'([^'\\\n]|\\[^\n])*'", |lex| strip_quotes(lex.slice()))]
    QuotedAtom(&'s str),
    #[regex(r"'([^'\\\n]|\\[^\n])*", allow_greedy = true)]
    UnterminatedQuotedAtom(&'s str),
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, |lex| strip_quotes(lex.slice()))]
    Str(&'s str),
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, allow_greedy = true)]
    UnterminatedStr(&'s str),
    #[regex(r"[0-9]+")]
    Int(&'s str),
    #[regex(r"[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?")]
    Float(&'s str),
    /// `@annotation`, `@role`, `@message`, … (the name without `@`).
    #[regex(r"@[a-z][A-Za-z0-9_]*", |lex| lex.slice().get(1..).unwrap_or(""))]
    AtName(&'s str),

    // ---- definition operators ---------------------------------------------------------------
    #[token("::")]
    #[token("::=")]
    ClauseOp,
    #[token("=>")]
    #[token("⇒")]
    Send,
    #[token("<=")]
    #[token("⇐")]
    Receive,
    #[token("<-")]
    #[token("<--")]
    #[token("←")]
    Guard,

    // ---- constraint connectives (the word forms come through `word`) --------------------------
    #[token("∧")]
    #[token("&&")]
    AndSym,
    /// `∨` and `||`: always the constraint disjunction (the word `or` is also the choice operator).
    #[token("∨")]
    #[token("||")]
    OrSym,
    #[token("¬")]
    #[token("\\+")]
    NotSym,

    // ---- comparison and arithmetic ------------------------------------------------------------
    #[token("=")]
    Unify,
    #[token("\\=")]
    NotUnify,
    #[token("==")]
    Identical,
    #[token("\\==")]
    NotIdentical,
    #[token("!=")]
    NotEqual,
    #[token("<")]
    Less,
    #[token(">")]
    Greater,
    #[token("=<")]
    LessEq,
    #[token(">=")]
    GreaterEq,
    #[token("=:=")]
    ArithEq,
    #[token("=\\=")]
    ArithNotEq,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,

    // ---- punctuation ----------------------------------------------------------------------------
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    /// `{` `}`: only the xlcc dialect groups with braces; WebLCC headers hold JSON-like objects.
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token("|")]
    Bar,
    #[token(".")]
    Dot,
    /// `:` and `;` appear only inside WebLCC headers.
    #[token(":")]
    Colon,
    #[token(";")]
    Semicolon,

    /// Never produced. It carries the rules for words and block comments, whose callbacks
    /// decide the real token (a keyword or an atom; a closed or unterminated comment).
    #[regex(r"[a-z][A-Za-z0-9_]*", word)]
    #[token("/*", block_comment)]
    Rule,

    /// A character that starts no token. Never produced by logos itself: the facade maps a
    /// logos error to this so that every byte of the input is accounted for.
    Unknown(&'s str),
}

fn strip_quotes(s: &str) -> &str {
    s.get(1..s.len().saturating_sub(1)).unwrap_or("")
}

/// Keywords are lexed as words first and picked out here: one regex and a match is smaller
/// and faster than one logos rule per keyword.
fn word<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> Token<'s> {
    let text = lex.slice();
    match text {
        "a" => Token::A,
        "r" => Token::R,
        "null" => Token::Null,
        "then" => Token::Then,
        "or" => Token::Or,
        "par" => Token::Par,
        "and" => Token::And,
        "not" => Token::Not,
        "is" => Token::Is,
        "mod" => Token::Mod,
        _ => Token::Atom(text),
    }
}

fn block_comment<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> Token<'s> {
    let rest = lex.remainder();
    match rest.find("*/") {
        Some(end) => {
            lex.bump(end + 2);
            Token::BlockComment(lex.slice())
        }
        None => {
            lex.bump(rest.len());
            Token::UnterminatedBlockComment(lex.slice())
        }
    }
}

impl Token<'_> {
    /// True for comments, which the grammar never sees.
    pub fn is_trivia(&self) -> bool {
        matches!(
            self,
            Token::LineComment(_)
                | Token::PercentComment(_)
                | Token::BlockComment(_)
                | Token::UnterminatedBlockComment(_)
        )
    }

    /// How the token is named in "expected …" messages.
    pub fn describe(&self) -> String {
        match self {
            Token::LineComment(_) | Token::PercentComment(_) | Token::BlockComment(_) => "a comment".into(),
            Token::UnterminatedBlockComment(_) => "an unterminated comment".into(),
            Token::Var(v) => format!("variable `{v}`"),
            Token::Atom(a) => format!("atom `{a}`"),
            Token::QuotedAtom(a) => format!("atom `'{a}'`"),
            Token::UnterminatedQuotedAtom(_) => "an unterminated quoted atom".into(),
            Token::Str(s) => format!("string `\"{s}\"`"),
            Token::UnterminatedStr(_) => "an unterminated string".into(),
            Token::Int(n) | Token::Float(n) => format!("number `{n}`"),
            Token::AtName(n) => format!("`@{n}`"),
            Token::Unknown(c) => format!("character `{c}`"),
            other => format!("`{}`", other.canonical_text()),
        }
    }

    /// The canonical spelling of a fixed token (used by the formatter and in messages).
    pub fn canonical_text(&self) -> &str {
        match self {
            Token::A => "a",
            Token::R => "r",
            Token::Null => "null",
            Token::Then => "then",
            Token::Or => "or",
            Token::Par => "par",
            Token::And => "and",
            Token::Not => "not",
            Token::Is => "is",
            Token::Mod => "mod",
            Token::ClauseOp => "::",
            Token::Send => "=>",
            Token::Receive => "<=",
            Token::Guard => "<-",
            Token::AndSym => "&&",
            Token::OrSym => "||",
            Token::NotSym => "\\+",
            Token::Unify => "=",
            Token::NotUnify => "\\=",
            Token::Identical => "==",
            Token::NotIdentical => "\\==",
            Token::NotEqual => "!=",
            Token::Less => "<",
            Token::Greater => ">",
            Token::LessEq => "=<",
            Token::GreaterEq => ">=",
            Token::ArithEq => "=:=",
            Token::ArithNotEq => "=\\=",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::Comma => ",",
            Token::Bar => "|",
            Token::Dot => ".",
            Token::Rule => "",
            Token::Colon => ":",
            Token::Semicolon => ";",
            Token::LineComment(s)
            | Token::PercentComment(s)
            | Token::BlockComment(s)
            | Token::UnterminatedBlockComment(s)
            | Token::Var(s)
            | Token::Atom(s)
            | Token::QuotedAtom(s)
            | Token::UnterminatedQuotedAtom(s)
            | Token::Str(s)
            | Token::UnterminatedStr(s)
            | Token::Int(s)
            | Token::Float(s)
            | Token::AtName(s)
            | Token::Unknown(s) => s,
        }
    }
}

/// A token with its byte range in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spanned<'s> {
    pub token: Token<'s>,
    pub start: usize,
    pub end: usize,
}

/// Tokenises the whole source. Never fails: bytes that start no token become
/// [`Token::Unknown`], one per character.
pub fn tokenize(source: &str) -> Vec<Spanned<'_>> {
    // Real models have a token every 4 to 6 bytes; reserving for one every 3 means the vector
    // is (nearly) never copied to grow, and untouched capacity costs no memory.
    let mut out = Vec::with_capacity(source.len() / 3 + 8);
    out.extend(tokens(source));
    out
}

/// The tokens of `source` one at a time, exactly as [`tokenize`] returns them, for callers that
/// keep only some of them.
pub fn tokens(source: &str) -> Tokens<'_> {
    Tokens { source, lexer: Token::lexer(source), unknown: 0..0 }
}

/// The iterator behind [`tokens`].
pub struct Tokens<'s> {
    source: &'s str,
    lexer: logos::Lexer<'s, Token<'s>>,
    /// The rest of a run of characters that start no token: logos reports the longest failing
    /// prefix, and each character of it becomes its own [`Token::Unknown`].
    unknown: std::ops::Range<usize>,
}

impl<'s> Iterator for Tokens<'s> {
    type Item = Spanned<'s>;

    #[inline]
    fn next(&mut self) -> Option<Spanned<'s>> {
        loop {
            if self.unknown.start < self.unknown.end
                && let Some(ch) = self.source.get(self.unknown.clone()).and_then(|run| run.chars().next())
            {
                let start = self.unknown.start;
                let end = start + ch.len_utf8();
                self.unknown.start = end;
                let token = Token::Unknown(self.source.get(start..end).unwrap_or(""));
                return Some(Spanned { token, start, end });
            }
            let result = self.lexer.next()?;
            let span = self.lexer.span();
            match result {
                Ok(token) => return Some(Spanned { token, start: span.start, end: span.end }),
                Err(()) => self.unknown = span,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token<'_>> {
        tokenize(src).into_iter().map(|t| t.token).collect()
    }

    #[test]
    fn every_spelling_of_an_operator_is_one_token() {
        assert_eq!(kinds("=> ⇒"), vec![Token::Send, Token::Send]);
        assert_eq!(kinds("<= ⇐"), vec![Token::Receive, Token::Receive]);
        assert_eq!(kinds("<- <-- ←"), vec![Token::Guard; 3]);
        assert_eq!(kinds(":: ::="), vec![Token::ClauseOp; 2]);
        assert_eq!(kinds("and ∧ &&"), vec![Token::And, Token::AndSym, Token::AndSym]);
        assert_eq!(kinds("or ∨ ||"), vec![Token::Or, Token::OrSym, Token::OrSym]);
        assert_eq!(kinds("not ¬ \\+"), vec![Token::Not, Token::NotSym, Token::NotSym]);
    }

    #[test]
    fn comparisons_never_swallow_the_receive_arrow() {
        assert_eq!(
            kinds("= \\= == \\== != < > =< >= =:= =\\= <="),
            vec![
                Token::Unify,
                Token::NotUnify,
                Token::Identical,
                Token::NotIdentical,
                Token::NotEqual,
                Token::Less,
                Token::Greater,
                Token::LessEq,
                Token::GreaterEq,
                Token::ArithEq,
                Token::ArithNotEq,
                Token::Receive
            ]
        );
    }

    #[test]
    fn words_numbers_strings() {
        assert_eq!(
            kinds("a r x Xy _ _x 'q t' \"s\\\"\" 12 1.5e3 @role"),
            vec![
                Token::A,
                Token::R,
                Token::Atom("x"),
                Token::Var("Xy"),
                Token::Var("_"),
                Token::Var("_x"),
                Token::QuotedAtom("q t"),
                Token::Str("s\\\""),
                Token::Int("12"),
                Token::Float("1.5e3"),
                Token::AtName("role"),
            ]
        );
        // `1.` ends a clause: the dot is a terminator, not part of a float.
        assert_eq!(kinds("1."), vec![Token::Int("1"), Token::Dot]);
    }

    #[test]
    fn three_comment_styles_and_unterminated_forms() {
        assert_eq!(
            kinds("// a\n% b\n/* c */ /* d"),
            vec![
                Token::LineComment("// a"),
                Token::PercentComment("% b"),
                Token::BlockComment("/* c */"),
                Token::UnterminatedBlockComment("/* d"),
            ]
        );
        assert_eq!(kinds("\"abc\n"), vec![Token::UnterminatedStr("\"abc")]);
    }

    #[test]
    fn unknown_characters_are_kept_one_by_one() {
        let toks = tokenize("x # é");
        assert_eq!(toks.len(), 3);
        assert_eq!(toks.get(1).map(|t| t.token), Some(Token::Unknown("#")));
        assert_eq!(toks.get(2).map(|t| (t.token, t.start, t.end)), Some((Token::Unknown("é"), 4, 6)));
    }
}
