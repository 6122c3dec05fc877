//! The fast path: a hand-written recursive-descent parser for well-formed clauses and role
//! declarations, which are nearly every item of a real model. The lalrpop state machine moves
//! every symbol (up to a few hundred bytes) on each shift and reduce; this parser builds the
//! nodes in place and is several times faster.
//!
//! The contract: [`item`] returns `Some(item)` only when the grammar (`grammar/lcc.lalrpop`
//! through [`super::parse_item`]), given the same tokens, would build exactly this item and
//! report nothing. On anything else — an annotation, a dialect construct, any syntax error, any
//! action that reports (a bad literal, a LiJ call, xlcc braces, a term where an event belongs,
//! a LiJ role kind) — it returns `None` and the caller runs the grammar, so diagnostics and
//! recovery come from one place only.
//!
//! To keep the two in step, the nodes are built by the grammar's own actions in
//! [`super::build`] wherever that costs nothing (a few hot nodes are built inline, as the
//! actions build them), and any diagnostic they push makes the fast path give up. The rules
//! below mirror the grammar's rules one for one (same names); a change to the grammar or its
//! actions needs the same change here, and [`differential`] (run over corpus files, generated
//! models and random edits by `tests/robustness.rs`, over arbitrary bytes by `fuzz/`, and
//! over the benchmark's model) fails until both agree.

use super::build::{self, Cx};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{Spanned, Token};

/// Parses one item that is a well-formed clause `a(Role, Id) :: Def [.]` or role declaration
/// `r(Role, Kind, …) [.]`, or gives up.
pub(super) fn item(tokens: &[Spanned<'_>]) -> Option<Item> {
    let first = tokens.first()?;
    if super::exceeds_limits(tokens).is_some() {
        return None;
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        last_end: first.start,
        nest: 0,
        defs: Vec::new(),
        cxs: Vec::new(),
        ops: Vec::new(),
        diags: Vec::new(),
    };
    // Only these take the fast path; a cheap test before any allocation.
    let item = match first.token {
        Token::A => p.item()?,
        Token::R => p.role_decl()?,
        _ => return None,
    };
    (p.pos == tokens.len() && p.diags.is_empty()).then_some(item)
}

/// Deeper nesting is left to the grammar, whose parser keeps its stack on the heap: this one
/// recurses once per level (and a few hundred levels fit any thread's stack). Chains of
/// operators (`then`, `and`, `not`, …) are loops here, so only nesting counts.
const MAX_NEST: usize = 100;

struct Parser<'t, 's> {
    tokens: &'t [Spanned<'s>],
    pos: usize,
    /// The end of the last token consumed: lalrpop's `@R`.
    last_end: usize,
    /// How deep the parentheses, brackets and arguments around the current token go.
    nest: usize,
    /// Operands and operator positions of the chains being parsed, innermost chain last (each
    /// chain pops what it pushed), so that chains allocate nothing of their own.
    defs: Vec<(usize, Box<Def>)>,
    cxs: Vec<(usize, Cx)>,
    ops: Vec<usize>,
    /// Whatever the grammar's actions report; any entry makes the fast path give up.
    diags: Vec<Diagnostic>,
}

impl<'s> Parser<'_, 's> {
    fn peek(&self) -> Option<Token<'s>> {
        self.tokens.get(self.pos).map(|t| t.token)
    }

    /// lalrpop's `@L`: where the next token starts.
    fn start(&self) -> Option<usize> {
        self.tokens.get(self.pos).map(|t| t.start)
    }

    fn bump(&mut self) -> Option<Spanned<'s>> {
        let tok = *self.tokens.get(self.pos)?;
        self.pos += 1;
        self.last_end = tok.end;
        Some(tok)
    }

    /// Consumes the next token if it is `want`, which carries no text (so that comparing
    /// variants is enough, and much cheaper than the derived `==`).
    fn eat(&mut self, want: Token<'_>) -> bool {
        self.is(want) && self.bump().is_some()
    }

    /// Whether the next token is `want`, a token that carries no text.
    fn is(&self, want: Token<'_>) -> bool {
        self.tokens
            .get(self.pos)
            .is_some_and(|t| std::mem::discriminant(&t.token) == std::mem::discriminant(&want))
    }

    fn expect(&mut self, want: Token<'_>) -> Option<()> {
        self.eat(want).then_some(())
    }

    /// One level deeper into brackets; gives up past [`MAX_NEST`]. The caller steps back out
    /// with `self.nest -= 1` once the nested part is parsed (after a failure it does not
    /// matter: the whole item is given up).
    fn deeper(&mut self) -> Option<()> {
        self.nest += 1;
        (self.nest <= MAX_NEST).then_some(())
    }

    /// Gives up as soon as an action has reported something.
    fn clean<T>(&self, value: T) -> Option<T> {
        self.diags.is_empty().then_some(value)
    }

    // ---- items ---------------------------------------------------------------------------

    /// `Item: Term ClauseBody "."?`, for a head `a(Role, Id)` with a body only (what
    /// `build::item_from_head` makes of it, without copying the head's arguments).
    fn item(&mut self) -> Option<Item> {
        let l = self.start()?;
        let head = into_agent(self.term()?)?;
        self.expect(Token::ClauseOp)?;
        let body = *self.def()?;
        let terminated = self.eat(Token::Dot);
        let item = Item {
            kind: ItemKind::Clause(Clause { head, body: Some(body) }),
            span: Span::new(l, self.last_end),
            terminated,
        };
        self.clean(item)
    }

    /// `Item: Term "."?` for a head `r(…)`: what `build::item_from_head` makes of it, if that
    /// is a role declaration and reports nothing.
    fn role_decl(&mut self) -> Option<Item> {
        let l = self.start()?;
        let head = self.term()?;
        let terminated = self.eat(Token::Dot);
        let item = build::item_from_head(&mut self.diags, head, None, terminated, l, self.last_end);
        match item.kind {
            ItemKind::RoleDecl(_) => self.clean(item),
            _ => None,
        }
    }

    // ---- definitions -----------------------------------------------------------------------

    // Definitions are boxed as soon as they are built: a `Def` is a few hundred bytes, and the
    // binary nodes hold their operands in boxes anyway. The nodes are what `build::def_binary`
    // makes; `build::def_or` differs from it only when diagnostics were reported before, and
    // then the fast path has given up already.

    /// `Def: ParDef "then" Def | ParDef`
    fn def(&mut self) -> Option<Box<Def>> {
        self.def_chain(Token::Then, Self::par_def, DefKind::Then)
    }

    /// `ParDef: OrDef "par" ParDef | OrDef`
    fn par_def(&mut self) -> Option<Box<Def>> {
        self.def_chain(Token::Par, Self::or_def, DefKind::Par)
    }

    /// `OrDef: Unit "or" OrDef | Unit`
    fn or_def(&mut self) -> Option<Box<Def>> {
        self.def_chain(Token::Or, Self::unit, DefKind::Or)
    }

    /// `operand (op operand)*`, right-nested as the grammar's right-recursive rules build it:
    /// each node spans from its left operand to the end of the chain.
    fn def_chain(
        &mut self,
        op: Token<'static>,
        operand: fn(&mut Self) -> Option<Box<Def>>,
        node: fn(Box<Def>, Box<Def>) -> DefKind,
    ) -> Option<Box<Def>> {
        let l = self.start()?;
        let first = operand(self)?;
        if !self.is(op) {
            return Some(first);
        }
        let base = self.defs.len();
        self.defs.push((l, first));
        while self.eat(op) {
            let l = self.start()?;
            let next = operand(self)?;
            self.defs.push((l, next));
        }
        let end = self.last_end;
        let (_, mut chain) = self.defs.pop()?;
        while self.defs.len() > base {
            let (l, a) = self.defs.pop()?;
            chain = Box::new(Def { kind: node(a, chain), span: Span::new(l, end) });
        }
        Some(chain)
    }

    /// `Unit: "(" Def ")" | Event` (braces and error recovery are the grammar's business).
    fn unit(&mut self) -> Option<Box<Def>> {
        let l = self.start()?;
        if self.eat(Token::LParen) {
            self.deeper()?;
            let inner = self.def()?;
            self.expect(Token::RParen)?;
            self.nest -= 1;
            return Some(Box::new(Def {
                kind: DefKind::Group { inner, braces: false },
                span: Span::new(l, self.last_end),
            }));
        }
        let e = self.event()?;
        Some(Box::new(Def { span: e.span, kind: DefKind::Event(e) }))
    }

    // ---- events ----------------------------------------------------------------------------

    /// `Event`: `null` with a guard, a send, a receive, a role change with a guard, or a
    /// receive with its guard first (`C <- M <= a(R, I)`, here only with a term as `C`).
    fn event(&mut self) -> Option<Event> {
        let l = self.start()?;
        if self.is(Token::Null) {
            let null = self.bump()?;
            let guard = self.opt_guard()?;
            return Some(Event {
                kind: EventKind::Null { span: Span::new(null.start, null.end) },
                guard,
                span: Span::new(l, self.last_end),
            });
        }
        let head = self.term()?;
        match self.peek() {
            Some(Token::Send) => {
                self.bump()?;
                let to = self.agent()?;
                let guard = self.opt_guard()?;
                Some(Event {
                    kind: EventKind::Send { message: head, to },
                    guard,
                    span: Span::new(l, self.last_end),
                })
            }
            Some(Token::Receive) => {
                self.bump()?;
                let from = self.agent()?;
                let guard = self.opt_guard()?;
                Some(Event {
                    kind: EventKind::Receive { message: head, from, guard_first: false },
                    guard,
                    span: Span::new(l, self.last_end),
                })
            }
            Some(Token::Guard) => {
                // `C <- M <= a(R, I)` when a term and `<=` follow the arrow; otherwise the
                // head is a role change and this is its guard.
                let (arrow_at, nest) = (self.pos, self.nest);
                let arrow = self.bump()?;
                let arrow_span = Span::new(arrow.start, arrow.end);
                if let Some(message) = self.term()
                    && self.is(Token::Receive)
                {
                    self.bump()?;
                    let from = self.agent()?;
                    let event = build::guard_first_receive(
                        &mut self.diags,
                        Cx::Term(head),
                        arrow_span,
                        message,
                        from,
                        l,
                        self.last_end,
                    );
                    return self.clean(event);
                }
                (self.pos, self.nest) = (arrow_at, nest);
                self.last_end = self.tokens.get(arrow_at.checked_sub(1)?).map(|t| t.end)?;
                let guard = self.opt_guard()?;
                self.role_change(head, guard, l)
            }
            // A condition (`X > 1`, `p and q`, …) cannot be an event on its own, and a head
            // followed by anything else is a syntax error: both are the grammar's to report.
            Some(
                Token::And
                | Token::AndSym
                | Token::OrSym
                | Token::Is
                | Token::Unify
                | Token::NotUnify
                | Token::Identical
                | Token::NotIdentical
                | Token::NotEqual
                | Token::Less
                | Token::Greater
                | Token::LessEq
                | Token::GreaterEq
                | Token::ArithEq
                | Token::ArithNotEq,
            ) => None,
            _ => self.role_change(head, None, l),
        }
    }

    /// A bare term as an event: a role change if it is `a(Role, Id)` (what `build::bare_event`
    /// makes of it, without copying the arguments).
    fn role_change(&mut self, head: Term, guard: Option<Guard>, l: usize) -> Option<Event> {
        let agent = into_agent(head)?;
        Some(Event { kind: EventKind::RoleChange(agent), guard, span: Span::new(l, self.last_end) })
    }

    /// `Guard?`: `"<-" GuardCond`.
    fn opt_guard(&mut self) -> Option<Option<Guard>> {
        if !self.is(Token::Guard) {
            return Some(None);
        }
        let arrow = self.bump()?;
        let c = self.guard_cond()?;
        let constraint = build::condition(&mut self.diags, c);
        self.clean(Some(Guard { arrow: Span::new(arrow.start, arrow.end), constraint }))
    }

    /// `Agent: "a" "(" TermArg "," TermArg ")"`
    fn agent(&mut self) -> Option<Agent> {
        let l = self.start()?;
        self.expect(Token::A)?;
        self.expect(Token::LParen)?;
        let role = self.term_arg()?;
        self.expect(Token::Comma)?;
        let id = self.term_arg()?;
        self.expect(Token::RParen)?;
        Some(Agent { role, id, span: Span::new(l, self.last_end) })
    }

    // ---- guards ----------------------------------------------------------------------------

    /// `GuardCond: AndCond "||" GuardCond | AndCond` (the word `or` ends the guard).
    fn guard_cond(&mut self) -> Option<Cx> {
        self.cx_chain(|t| matches!(t, Token::OrSym), Self::and_cond, build::cx_or)
    }

    /// `FullCond: AndCond ("or" | "||") FullCond | AndCond` (inside parentheses).
    fn full_cond(&mut self) -> Option<Cx> {
        self.cx_chain(|t| matches!(t, Token::Or | Token::OrSym), Self::and_cond, build::cx_or)
    }

    /// `AndCond: NotCond ("and" | "&&") AndCond | NotCond`
    fn and_cond(&mut self) -> Option<Cx> {
        self.cx_chain(|t| matches!(t, Token::And | Token::AndSym), Self::not_cond, build::cx_and)
    }

    /// `operand (op operand)*`, right-nested by the grammar's action `node`, each node spanning
    /// from its left operand to the end of the chain.
    fn cx_chain(
        &mut self,
        is_op: fn(&Token<'_>) -> bool,
        operand: fn(&mut Self) -> Option<Cx>,
        node: fn(&mut Vec<Diagnostic>, Cx, Cx, usize, usize) -> Cx,
    ) -> Option<Cx> {
        let l = self.start()?;
        let first = operand(self)?;
        if !self.peek().is_some_and(|t| is_op(&t)) {
            return Some(first);
        }
        let base = self.cxs.len();
        self.cxs.push((l, first));
        while self.peek().is_some_and(|t| is_op(&t)) {
            self.bump()?;
            let l = self.start()?;
            let next = operand(self)?;
            self.cxs.push((l, next));
        }
        let end = self.last_end;
        let (_, mut chain) = self.cxs.pop()?;
        while self.cxs.len() > base {
            let (l, a) = self.cxs.pop()?;
            chain = node(&mut self.diags, a, chain, l, end);
        }
        self.clean(chain)
    }

    /// `NotCond: CmpCond | ("not" | "\+") NotCond`
    fn not_cond(&mut self) -> Option<Cx> {
        self.prefixed(|t| matches!(t, Token::Not | Token::NotSym), Self::cmp_cond, build::cx_not)
    }

    /// `op* operand`, the innermost operator applied first, each node spanning from its
    /// operator to the end of the operand (the grammar's right recursion, as a loop).
    fn prefixed(
        &mut self,
        is_op: fn(&Token<'_>) -> bool,
        operand: fn(&mut Self) -> Option<Cx>,
        node: fn(&mut Vec<Diagnostic>, Cx, usize, usize) -> Cx,
    ) -> Option<Cx> {
        if !self.peek().is_some_and(|t| is_op(&t)) {
            return operand(self);
        }
        let base = self.ops.len();
        while self.peek().is_some_and(|t| is_op(&t)) {
            let op = self.bump()?;
            self.ops.push(op.start);
        }
        let mut cx = operand(self)?;
        let end = self.last_end;
        while self.ops.len() > base {
            let l = self.ops.pop()?;
            cx = node(&mut self.diags, cx, l, end);
        }
        self.clean(cx)
    }

    /// `CmpCond: Sum | Sum CmpOp Sum | Sum "is" Sum`
    fn cmp_cond(&mut self) -> Option<Cx> {
        let l = self.start()?;
        let a = self.sum()?;
        let cx = if self.eat(Token::Is) {
            let c = self.sum()?;
            build::cx_is(&mut self.diags, a, c, l, self.last_end)
        } else if let Some(op) = self.peek().and_then(cmp_op) {
            self.bump()?;
            let c = self.sum()?;
            build::cx_compare(&mut self.diags, op, a, c, l, self.last_end)
        } else {
            return Some(a);
        };
        self.clean(cx)
    }

    /// `Sum: Sum ("+" | "-") Product | Product` (left-associative).
    fn sum(&mut self) -> Option<Cx> {
        let l = self.start()?;
        let mut a = self.product()?;
        while let Some(op) = self.peek().and_then(add_op) {
            self.bump()?;
            let c = self.product()?;
            a = build::cx_arith(&mut self.diags, op, a, c, l, self.last_end);
        }
        self.clean(a)
    }

    /// `Product: Product ("*" | "/" | "mod") Unary | Unary` (left-associative).
    fn product(&mut self) -> Option<Cx> {
        let l = self.start()?;
        let mut a = self.unary()?;
        while let Some(op) = self.peek().and_then(mul_op) {
            self.bump()?;
            let c = self.unary()?;
            a = build::cx_arith(&mut self.diags, op, a, c, l, self.last_end);
        }
        self.clean(a)
    }

    /// `Unary: Primary | "-" Unary`
    fn unary(&mut self) -> Option<Cx> {
        self.prefixed(|t| matches!(t, Token::Minus), Self::primary, build::cx_neg)
    }

    /// `Primary: Term | "(" FullCond ")"`
    fn primary(&mut self) -> Option<Cx> {
        let l = self.start()?;
        if self.eat(Token::LParen) {
            self.deeper()?;
            let c = self.full_cond()?;
            self.expect(Token::RParen)?;
            self.nest -= 1;
            return Some(build::cx_paren(c, l, self.last_end));
        }
        self.term().map(Cx::Term)
    }

    // ---- terms -----------------------------------------------------------------------------

    /// `TermArg: Term | "-" Int | "-" Float`
    fn term_arg(&mut self) -> Option<Term> {
        if !self.is(Token::Minus) {
            return self.term();
        }
        let l = self.start()?;
        self.bump()?;
        let term = match self.bump()?.token {
            Token::Int(n) => build::int(&mut self.diags, n, true, l, self.last_end),
            Token::Float(n) => build::float(&mut self.diags, n, true, l, self.last_end),
            _ => return None,
        };
        self.clean(term)
    }

    /// `Term`: a variable, an atom or compound, a number, a string or a list.
    fn term(&mut self) -> Option<Term> {
        let l = self.start()?;
        let tok = self.bump()?;
        let term = match tok.token {
            // `X(…)` is a LiJ special constraint: reported by the grammar.
            Token::Var(_) if self.is(Token::LParen) => return None,
            Token::Var(v) => build::var(v, l, tok.end),
            Token::Int(n) => build::int(&mut self.diags, n, false, l, tok.end),
            Token::Float(n) => build::float(&mut self.diags, n, false, l, tok.end),
            Token::Str(s) => build::string(&mut self.diags, s, l, tok.end),
            Token::LBracket => {
                self.deeper()?;
                let list = self.list(l)?;
                self.nest -= 1;
                return Some(list);
            }
            Token::Atom(_) | Token::A | Token::R | Token::QuotedAtom(_) => {
                let functor: smol_str::SmolStr = match tok.token {
                    Token::Atom(a) => a.into(),
                    Token::A => "a".into(),
                    Token::R => "r".into(),
                    // `build::unescape` returns the text as it is when there is no escape.
                    Token::QuotedAtom(q) if !q.contains('\\') => q.into(),
                    Token::QuotedAtom(q) => build::unescape(&mut self.diags, q, l + 1).into(),
                    _ => return None,
                };
                if !self.eat(Token::LParen) {
                    Term { kind: TermKind::Atom(functor), span: Span::new(l, tok.end) }
                } else {
                    self.deeper()?;
                    let args = self.args()?;
                    self.nest -= 1;
                    Term { kind: TermKind::Compound { functor, args }, span: Span::new(l, self.last_end) }
                }
            }
            _ => return None,
        };
        self.clean(term)
    }

    /// `Comma<TermArg> ")"`, after the `(`.
    fn args(&mut self) -> Option<Vec<Term>> {
        if self.eat(Token::RParen) {
            return Some(Vec::new());
        }
        let mut args = Vec::with_capacity(self.count_elements());
        loop {
            args.push(self.term_arg()?);
            if !self.eat(Token::Comma) {
                break;
            }
        }
        self.expect(Token::RParen)?;
        Some(args)
    }

    /// How many comma-separated elements follow, up to the `)`, `]` or `|` that ends them: the
    /// exact capacity for their vector (the tree of a large model is most of the parser's
    /// memory, and most argument lists are short).
    fn count_elements(&self) -> usize {
        let mut depth = 0usize;
        let mut count = 1;
        for tok in self.tokens.iter().skip(self.pos) {
            match tok.token {
                Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
                Token::RParen | Token::RBracket | Token::RBrace | Token::Bar if depth == 0 => break,
                Token::RParen | Token::RBracket | Token::RBrace => depth -= 1,
                Token::Comma if depth == 0 => count += 1,
                _ => {}
            }
        }
        count
    }

    /// `"[" "]"` or `"[" Comma1<TermArg> ("|" TermArg)? "]"`, after the `[`.
    fn list(&mut self, l: usize) -> Option<Term> {
        let mut items = Vec::with_capacity(self.count_elements());
        let mut tail = None;
        if !self.eat(Token::RBracket) {
            loop {
                items.push(self.term_arg()?);
                if !self.eat(Token::Comma) {
                    break;
                }
            }
            if self.eat(Token::Bar) {
                tail = Some(Box::new(self.term_arg()?));
            }
            self.expect(Token::RBracket)?;
        }
        Some(Term { kind: TermKind::List { items, tail }, span: Span::new(l, self.last_end) })
    }
}

/// `build::agent_of`, taking the term apart instead of copying its arguments.
fn into_agent(term: Term) -> Option<Agent> {
    let span = term.span;
    match term.kind {
        TermKind::Compound { functor, args } if functor == "a" && args.len() == 2 => {
            let mut args = args.into_iter();
            let (role, id) = (args.next()?, args.next()?);
            Some(Agent { role, id, span })
        }
        _ => None,
    }
}

fn cmp_op(t: Token<'_>) -> Option<CmpOp> {
    Some(match t {
        Token::Unify => CmpOp::Unify,
        Token::NotUnify => CmpOp::NotUnify,
        Token::Identical => CmpOp::Identical,
        Token::NotIdentical => CmpOp::NotIdentical,
        Token::NotEqual => CmpOp::NotEqual,
        Token::Less => CmpOp::Less,
        Token::Greater => CmpOp::Greater,
        Token::LessEq => CmpOp::LessEq,
        Token::GreaterEq => CmpOp::GreaterEq,
        Token::ArithEq => CmpOp::ArithEq,
        Token::ArithNotEq => CmpOp::ArithNotEq,
        _ => return None,
    })
}

fn add_op(t: Token<'_>) -> Option<ArithOp> {
    match t {
        Token::Plus => Some(ArithOp::Add),
        Token::Minus => Some(ArithOp::Sub),
        _ => None,
    }
}

fn mul_op(t: Token<'_>) -> Option<ArithOp> {
    match t {
        Token::Star => Some(ArithOp::Mul),
        Token::Slash => Some(ArithOp::Div),
        Token::Mod => Some(ArithOp::Mod),
        _ => None,
    }
}

/// Checks the parser's two speed-ups against the plain pipeline (lex the whole file, cut it into
/// items, run the grammar on each): [`super::parse`], which lexes in segments and takes the fast
/// path, must return the same model and diagnostics, also with tiny segments; and on every item
/// that the fast path accepts, it must build what the grammar builds, and the grammar must
/// report nothing. `Ok(n)`: all agree, and the fast path took `n` items. For the tests only
/// (`tests/robustness.rs`, the benchmark); not part of the API.
#[doc(hidden)]
pub fn differential(source: &str) -> Result<usize, String> {
    let plain = plain_parse(source);
    for segment_tokens in [super::SEGMENT_TOKENS, 1, 7, 300] {
        let (model, diags) = super::parse_in_segments(source, segment_tokens);
        if model != plain.0 {
            return Err(format!(
                "parsing in segments of {segment_tokens} tokens gives another model\nsegments: {model:?}\nplain: {:?}",
                plain.0
            ));
        }
        if diags != plain.1 {
            return Err(format!(
                "parsing in segments of {segment_tokens} tokens gives other diagnostics\nsegments: {diags:?}\nplain: {:?}",
                plain.1
            ));
        }
    }
    fast_against_grammar(source)
}

/// The parser without its speed-ups: the whole file lexed first, every item through lalrpop.
fn plain_parse(source: &str) -> (Model, Vec<Diagnostic>) {
    if u32::try_from(source.len()).is_err() {
        return super::parse(source);
    }
    let mut model = Model::default();
    let mut diags = Vec::new();
    let mut unterminated = Vec::new();
    let tokens = super::significant_tokens(source, &mut model.comments, &mut unterminated, &mut diags);
    let parser = super::generated::lcc::ItemParser::new();
    for chunk in super::split_items(source, &tokens) {
        if let Some(item) = super::parse_item(source, &parser, chunk, &unterminated, &mut diags) {
            model.items.push(item);
        }
    }
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    (model, diags)
}

fn fast_against_grammar(source: &str) -> Result<usize, String> {
    let mut comments = Vec::new();
    let mut unterminated = Vec::new();
    let mut lexical = Vec::new();
    let tokens = super::significant_tokens(source, &mut comments, &mut unterminated, &mut lexical);
    let parser = super::generated::lcc::ItemParser::new();
    let mut agreed = 0;
    for chunk in super::split_items(source, &tokens) {
        let Some(fast) = item(chunk) else { continue };
        let mut diags = Vec::new();
        let slow = super::parse_item(source, &parser, chunk, &unterminated, &mut diags);
        if slow.as_ref() != Some(&fast) || !diags.is_empty() {
            let (start, end) = (chunk.first().map_or(0, |t| t.start), chunk.last().map_or(0, |t| t.end));
            return Err(format!(
                "the fast path and the grammar disagree on `{}`\nfast: {fast:?}\ngrammar: {slow:?}\ngrammar diagnostics: {:?}",
                source.get(start..end).unwrap_or(""),
                diags.iter().map(|d| &d.message).collect::<Vec<_>>()
            ));
        }
        agreed += 1;
    }
    Ok(agreed)
}
