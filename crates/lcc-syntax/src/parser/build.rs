//! Semantic actions of the grammar: they build AST nodes and report the diagnostics that the
//! grammar alone cannot (bad literals, dialect constructs, terms where events belong).

use crate::ast::*;
use crate::codes;
use crate::diagnostic::{Diagnostic, TextEdit};

/// The parser's user error type: the facade feeds only valid tokens, so it has no values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Never {}

impl std::fmt::Display for Never {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

/// Inside a guard, a node is either a condition or a term (an operand of a comparison or of
/// arithmetic) until its position says which it must be.
#[derive(Clone, Debug)]
pub enum Cx {
    Cond(Constraint),
    Term(Term),
}

fn span(l: usize, r: usize) -> Span {
    Span::new(l, r)
}

pub fn var(name: &str, l: usize, r: usize) -> Term {
    let kind = if name == "_" { TermKind::Anon } else { TermKind::Var(name.into()) };
    Term { kind, span: span(l, r) }
}

pub fn int(diags: &mut Vec<Diagnostic>, text: &str, negative: bool, l: usize, r: usize) -> Term {
    let parsed = if negative { format!("-{text}").parse::<i64>() } else { text.parse::<i64>() };
    let kind = match parsed {
        Ok(n) => TermKind::Int(n),
        Err(_) => {
            diags.push(
                Diagnostic::new(&codes::BAD_LITERAL, span(l, r), "integer literal out of range")
                    .with_label("does not fit in a signed 64-bit integer")
                    .with_help("integers range from -9223372036854775808 to 9223372036854775807"),
            );
            TermKind::Error
        }
    };
    Term { kind, span: span(l, r) }
}

pub fn float(diags: &mut Vec<Diagnostic>, text: &str, negative: bool, l: usize, r: usize) -> Term {
    let text = if negative { format!("-{text}") } else { text.to_string() };
    let kind = match text.parse::<f64>() {
        Ok(value) if value.is_finite() => TermKind::Float { value, text: text.into() },
        _ => {
            diags.push(
                Diagnostic::new(&codes::BAD_LITERAL, span(l, r), "float literal out of range")
                    .with_label("not a finite 64-bit float"),
            );
            TermKind::Error
        }
    };
    Term { kind, span: span(l, r) }
}

/// Resolves the escapes of a string or quoted atom body that starts at byte `start`.
pub fn unescape(diags: &mut Vec<Diagnostic>, raw: &str, start: usize) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, ch)) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, c @ ('\\' | '"' | '\''))) => out.push(c),
            Some((j, other)) => {
                diags.push(
                    Diagnostic::new(
                        &codes::BAD_LITERAL,
                        Span::new(start + i, start + j + other.len_utf8()),
                        format!("unknown escape `\\{other}`"),
                    )
                    .with_label("not an escape")
                    .with_help("the escapes are `\\\"`, `\\'`, `\\\\`, `\\n` and `\\t`; a backslash itself is `\\\\`")
                    .with_fix(
                        "escape the backslash",
                        vec![TextEdit { span: Span::new(start + i, start + i + 1), replacement: "\\\\".into() }],
                    ),
                );
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

pub fn string(diags: &mut Vec<Diagnostic>, raw: &str, l: usize, r: usize) -> Term {
    Term { kind: TermKind::Str(unescape(diags, raw, l + 1)), span: span(l, r) }
}

/// `_findPeers(…)`: LiJ's special constraints look like calls of a variable.
pub fn var_call(diags: &mut Vec<Diagnostic>, name: &str, args: Vec<Term>, l: usize, r: usize) -> Term {
    diags.push(
        Diagnostic::new(
            &codes::LIJ_SPECIAL_CONSTRAINT,
            span(l, l + name.len()),
            format!("`{name}(…)` is a LiJ special constraint"),
        )
        .with_label("a name starting with an upper-case letter or `_` is a variable in LCC")
        .with_help(
            "lcc reads it as an external constraint of that name; to find a peer, send to \
             `a(Role, Id)` with `Id` unbound instead",
        ),
    );
    Term { kind: TermKind::Compound { functor: name.into(), args }, span: span(l, r) }
}

pub fn def_binary(op: DefOp, a: Def, c: Def, l: usize, r: usize) -> Def {
    let (a, c) = (Box::new(a), Box::new(c));
    let kind = match op {
        DefOp::Then => DefKind::Then(a, c),
        DefOp::Or => DefKind::Or(a, c),
        DefOp::Par => DefKind::Par(a, c),
    };
    Def { kind, span: span(l, r) }
}

/// `A or C`. When `A` is an event with a guard and `C` starts with conditions that were
/// reported as "not an event", the writer almost surely meant a disjunction inside the guard
/// (the word `or` at the top level of a guard is the choice of the definition, LCC.md section
/// 3): those reports become one that says so, with a fix that parenthesises the guard.
pub fn def_or(diags: &mut Vec<Diagnostic>, a: Def, or: Span, c: Def, l: usize, r: usize) -> Def {
    if let DefKind::Event(Event { guard: Some(guard), .. }) = &a.kind {
        // The alternatives that follow, as long as each is a condition reported on its own.
        let mut bad: Vec<Span> = Vec::new();
        let mut next = Some(&c);
        while let Some(def) = next {
            let (unit, rest) = match def.as_binary() {
                Some((DefOp::Or, left, right)) => (left, Some(right)),
                _ => (def, None),
            };
            let DefKind::Event(Event { kind: EventKind::Null { span }, guard: None, .. }) = &unit.kind else {
                break;
            };
            if !diags.iter().any(|d| d.code == &codes::NOT_AN_EVENT && d.span == *span) {
                break;
            }
            bad.push(*span);
            next = rest;
        }
        if let (Some(first), Some(last)) = (bad.first().copied(), bad.last().copied()) {
            diags.retain(|d| !(d.code == &codes::NOT_AN_EVENT && bad.contains(&d.span)));
            let start = guard.constraint.span.start as usize;
            let mut diag = Diagnostic::new(
                &codes::NOT_AN_EVENT,
                first,
                "expected an event after `or`, found a condition",
            )
            .with_label("read as the next alternative of the definition, not as part of the guard")
            .with_secondary(or, "at the top level of a guard, `or` separates alternatives of the definition");
            for more in bad.iter().skip(1) {
                diag = diag.with_secondary(*more, "read as an alternative too");
            }
            diags.push(
                diag.with_help("to test either condition in the guard, put the disjunction in parentheses, or write `||`")
                    .with_fix(
                        "put the disjunction of the guard in parentheses",
                        vec![
                            TextEdit { span: Span::new(start, start), replacement: "(".into() },
                            TextEdit { span: Span::new(last.end as usize, last.end as usize), replacement: ")".into() },
                        ],
                    ),
            );
        }
    }
    def_binary(DefOp::Or, a, c, l, r)
}

pub fn brace_group(diags: &mut Vec<Diagnostic>, d: Def, l: usize, close: usize, r: usize) -> Def {
    // `close..r` is the `}`: empty when the facade supplied a missing one at the end of the item
    // (the fix then inserts the `)`), so never assume one byte there.
    diags.push(
        Diagnostic::new(&codes::XLCC_BRACES, span(l, l + 1), "`{ … }` grouping is xlcc syntax")
            .with_label("LCC groups definitions with parentheses")
            .with_secondary(span(close, r), "closed here")
            .with_help("lcc reads the braces as parentheses")
            .with_fix(
                "replace the braces with parentheses",
                vec![
                    TextEdit { span: span(l, l + 1), replacement: "(".into() },
                    TextEdit { span: span(close, r), replacement: ")".into() },
                ],
            ),
    );
    Def { kind: DefKind::Group { inner: Box::new(d), braces: true }, span: span(l, r) }
}

/// `a(Role, Id)` as a term, if it is one.
pub fn agent_of(term: &Term) -> Option<Agent> {
    match &term.kind {
        TermKind::Compound { functor, args } if functor == "a" => match args.as_slice() {
            [role, id] => Some(Agent { role: role.clone(), id: id.clone(), span: term.span }),
            _ => None,
        },
        _ => None,
    }
}

/// An event that is neither a send nor a receive: a role change, or a mistake.
pub fn bare_event(diags: &mut Vec<Diagnostic>, head: Cx, guard: Option<Guard>, l: usize, r: usize) -> Event {
    let kind = match head {
        Cx::Term(term) => match agent_of(&term) {
            Some(agent) => EventKind::RoleChange(agent),
            None => {
                let mut diag =
                    Diagnostic::new(&codes::NOT_AN_EVENT, term.span, "expected an event, found a term")
                        .with_label("this is not a send, a receive, `null` or a role change `a(Role, Id)`");
                diag = if matches!(term.kind, TermKind::Compound { ref functor, .. } if functor == "a") {
                    diag.with_help("a role change names the role and the peer id: `a(Role, Id)`")
                } else {
                    diag.with_help(
                        "to send it write `Msg => a(Role, Id)`, to receive it `Msg <= a(Role, Id)`; \
                         a step that only tests a condition is `null <- Condition`",
                    )
                };
                diags.push(diag);
                return Event { kind: EventKind::Null { span: term.span }, guard, span: span(l, r) };
            }
        },
        Cx::Cond(cond) => {
            diags.push(
                Diagnostic::new(&codes::NOT_AN_EVENT, cond.span, "a condition on its own is not an event")
                    .with_label("conditions belong in a guard")
                    .with_help("a local step that only tests a condition is `null <- Condition`")
                    .with_fix(
                        "make it a guarded `null` step",
                        vec![TextEdit { span: Span::new(l, l), replacement: "null <- ".into() }],
                    ),
            );
            EventKind::Null { span: cond.span }
        }
    };
    Event { kind, guard, span: span(l, r) }
}

pub fn guard_first_receive(
    diags: &mut Vec<Diagnostic>,
    cond: Cx,
    arrow: Span,
    message: Term,
    from: Agent,
    l: usize,
    r: usize,
) -> Event {
    let constraint = condition(diags, cond);
    Event {
        kind: EventKind::Receive { message, from, guard_first: true },
        guard: Some(Guard { arrow, constraint }),
        span: span(l, r),
    }
}

/// A guard operand that must be a condition: a term here is a call (`ready`, `c(X)`).
pub fn condition(diags: &mut Vec<Diagnostic>, cx: Cx) -> Constraint {
    match cx {
        Cx::Cond(c) => c,
        Cx::Term(t) => {
            let span = t.span;
            let kind = match &t.kind {
                TermKind::Atom(_) | TermKind::Compound { .. } => ConstraintKind::Call(t),
                TermKind::Error => ConstraintKind::Error,
                other => {
                    let what = match other {
                        TermKind::Var(_) | TermKind::Anon => "a variable",
                        TermKind::Arith { .. } | TermKind::Neg(_) => "arithmetic",
                        TermKind::List { .. } => "a list",
                        _ => "a literal",
                    };
                    let mut diag = Diagnostic::new(
                        &codes::BAD_CONSTRAINT,
                        span,
                        format!("expected a condition, found {what}"),
                    )
                    .with_label("not a condition");
                    diag = if what == "arithmetic" {
                        diag.with_help("bind the result with `Result is Expr`, or compare it: `Expr > 0`")
                    } else {
                        diag.with_help("a condition is a call `c(X)`, a comparison `X > 3` or `X is Expr`")
                    };
                    diags.push(diag);
                    ConstraintKind::Error
                }
            };
            Constraint { kind, span }
        }
    }
}

/// A guard operand that must be a term (a comparison or arithmetic operand).
fn operand(diags: &mut Vec<Diagnostic>, cx: Cx) -> Term {
    match cx {
        Cx::Term(t) => t,
        Cx::Cond(c) => {
            diags.push(
                Diagnostic::new(&codes::BAD_CONSTRAINT, c.span, "expected a value, found a condition")
                    .with_label("a condition cannot be compared or computed with")
                    .with_help("combine conditions with `and`, `or` and `not`"),
            );
            Term { kind: TermKind::Error, span: c.span }
        }
    }
}

pub fn cx_or(diags: &mut Vec<Diagnostic>, a: Cx, c: Cx, l: usize, r: usize) -> Cx {
    let (a, c) = (condition(diags, a), condition(diags, c));
    Cx::Cond(Constraint { kind: ConstraintKind::Or(Box::new(a), Box::new(c)), span: span(l, r) })
}

pub fn cx_and(diags: &mut Vec<Diagnostic>, a: Cx, c: Cx, l: usize, r: usize) -> Cx {
    let (a, c) = (condition(diags, a), condition(diags, c));
    Cx::Cond(Constraint { kind: ConstraintKind::And(Box::new(a), Box::new(c)), span: span(l, r) })
}

pub fn cx_not(diags: &mut Vec<Diagnostic>, c: Cx, l: usize, r: usize) -> Cx {
    let c = condition(diags, c);
    Cx::Cond(Constraint { kind: ConstraintKind::Not(Box::new(c)), span: span(l, r) })
}

pub fn cx_compare(diags: &mut Vec<Diagnostic>, op: CmpOp, a: Cx, c: Cx, l: usize, r: usize) -> Cx {
    let (lhs, rhs) = (operand(diags, a), operand(diags, c));
    Cx::Cond(Constraint { kind: ConstraintKind::Compare { op, lhs, rhs }, span: span(l, r) })
}

pub fn cx_is(diags: &mut Vec<Diagnostic>, a: Cx, c: Cx, l: usize, r: usize) -> Cx {
    let (lhs, rhs) = (operand(diags, a), operand(diags, c));
    Cx::Cond(Constraint { kind: ConstraintKind::Is { lhs, rhs }, span: span(l, r) })
}

pub fn cx_arith(diags: &mut Vec<Diagnostic>, op: ArithOp, a: Cx, c: Cx, l: usize, r: usize) -> Cx {
    let (lhs, rhs) = (operand(diags, a), operand(diags, c));
    Cx::Term(Term { kind: TermKind::Arith { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span: span(l, r) })
}

/// Unary minus: folded into a negative literal when it sits right before a number.
pub fn cx_neg(diags: &mut Vec<Diagnostic>, u: Cx, l: usize, r: usize) -> Cx {
    let t = operand(diags, u);
    let adjacent = t.span.start as usize == l + 1;
    let kind = match t.kind {
        TermKind::Int(n) if adjacent => match n.checked_neg() {
            Some(n) => TermKind::Int(n),
            None => TermKind::Neg(Box::new(Term { kind: TermKind::Int(n), span: t.span })),
        },
        TermKind::Float { value, text } if adjacent => {
            TermKind::Float { value: -value, text: format!("-{text}").into() }
        }
        kind => TermKind::Neg(Box::new(Term { kind, span: t.span })),
    };
    Cx::Term(Term { kind, span: span(l, r) })
}

/// Parentheses in a guard only group: a condition gets the wider span, a term stays as it is.
pub fn cx_paren(c: Cx, l: usize, r: usize) -> Cx {
    match c {
        Cx::Cond(mut cond) => {
            cond.span = span(l, r);
            Cx::Cond(cond)
        }
        Cx::Term(t) => Cx::Term(t),
    }
}

fn item(kind: ItemKind, terminated: bool, l: usize, r: usize) -> Item {
    Item { kind, span: span(l, r), terminated }
}

/// A clause whose head is not `a(Role, Id)`: say what it is, and how to write it.
fn bad_clause_head(head: &Term) -> Diagnostic {
    let diag = Diagnostic::new(&codes::BAD_CLAUSE_HEAD, head.span, "a clause head must be `a(Role, Id)`");
    match &head.kind {
        TermKind::Compound { functor, args } if functor == "a" => {
            let n = args.len();
            diag.with_label(format!("`a` with {n} argument{}", if n == 1 { "" } else { "s" }))
                .with_help("name the role and the peer that plays it, e.g. `a(buyer, B) :: …`")
        }
        TermKind::Compound { functor, args } => match args.as_slice() {
            [id] if id.is_var() => {
                let text = format!(
                    "a({}, {})",
                    crate::sexpr::term(&Term { kind: TermKind::Atom(functor.clone()), span: head.span }),
                    crate::sexpr::term(id)
                );
                diag.with_label("not of the form `a(Role, Id)`")
                    .with_help(format!("the role is the first argument of `a`: write `{text} :: …`"))
                    .with_fix(
                        format!("write `{text}`"),
                        vec![TextEdit { span: head.span, replacement: text }],
                    )
            }
            _ => diag
                .with_label("not of the form `a(Role, Id)`")
                .with_help("name the role and the peer that plays it, e.g. `a(buyer, B) :: …`"),
        },
        TermKind::Atom(_) => {
            let role = crate::sexpr::term(head);
            diag.with_label("a role with no peer id")
                .with_help(format!("name the peer that plays the role too: `a({role}, Id) :: …`"))
        }
        _ => diag
            .with_label("not of the form `a(Role, Id)`")
            .with_help("name the role and the peer that plays it, e.g. `a(buyer, B) :: …`"),
    }
}

/// Classifies an item that starts with a term: a clause, a role declaration, a dialect fact.
pub fn item_from_head(
    diags: &mut Vec<Diagnostic>,
    head: Term,
    body: Option<Def>,
    terminated: bool,
    l: usize,
    r: usize,
) -> Item {
    if let Some(agent) = agent_of(&head) {
        if body.is_none() {
            diags.push(
                Diagnostic::new(
                    &codes::XLCC_ROLE_INSTANCE,
                    head.span,
                    "a clause head with no `::` body is an xlcc role instance",
                )
                .with_label("no definition follows")
                .with_help(
                    "start peers with role declarations `r(Role, initial)` or \
                     `lcc verify --peers 'a(Role, id)'`; a clause needs `:: Definition`",
                ),
            );
        }
        return item(ItemKind::Clause(Clause { head: agent, body }), terminated, l, r);
    }
    if body.is_some() {
        diags.push(bad_clause_head(&head));
        return item(ItemKind::Error, terminated, l, r);
    }
    match head.functor() {
        Some(("r", args)) => role_decl(diags, &head, args, terminated, l, r),
        Some((name @ ("plays" | "knows"), _)) => {
            diags.push(
                Diagnostic::new(
                    &codes::OKEILIDH_FACT,
                    head.span,
                    format!("`{name}(…)` is an OKeilidh deployment fact"),
                )
                .with_label("not part of an interaction model; skipped")
                .with_help("give peers with role declarations or `lcc verify --peers 'a(Role, id), …'`"),
            );
            let kind = if name == "plays" { DialectItemKind::Plays } else { DialectItemKind::Knows };
            item(ItemKind::Dialect(DialectItem { kind }), terminated, l, r)
        }
        _ => {
            diags.push(
                Diagnostic::new(
                    &codes::UNKNOWN_ITEM,
                    head.span,
                    "expected a clause, a role declaration or an annotation",
                )
                .with_label("a term on its own is not an item")
                .with_help("a clause is `a(Role, Id) :: Definition`; a role declaration `r(Role, initial)`"),
            );
            item(ItemKind::Error, terminated, l, r)
        }
    }
}

/// A term as messages quote it: `name` for short ones, else what kind of term it is.
fn describe_term(t: &Term) -> String {
    let what = match &t.kind {
        TermKind::Var(_) | TermKind::Anon => "variable",
        TermKind::Atom(_) => "atom",
        TermKind::Int(_) | TermKind::Float { .. } => "number",
        TermKind::Str(_) => "string",
        TermKind::Compound { .. } => "term",
        TermKind::List { .. } => "list",
        TermKind::Arith { .. } | TermKind::Neg(_) => "expression",
        TermKind::Error => return "an unreadable term".into(),
    };
    let text = crate::sexpr::term(t);
    if text.chars().count() <= 30 { format!("{what} `{text}`") } else { format!("a {what}") }
}

fn role_decl(
    diags: &mut Vec<Diagnostic>,
    head: &Term,
    args: &[Term],
    terminated: bool,
    l: usize,
    r: usize,
) -> Item {
    let bad = |diags: &mut Vec<Diagnostic>, span: Span, message: String, label: &str| {
        diags.push(Diagnostic::new(&codes::BAD_ROLE_DECLARATION, span, message).with_label(label).with_help(
            "write r(Role, Kind), r(Role, Kind, Min) or r(Role, Kind, Min, Max) with Kind \
                 one of initial, necessary, optional, auxiliary",
        ));
        item(ItemKind::Error, terminated, l, r)
    };
    let (role, kind_term, counts) = match args {
        [role, kind, counts @ ..] if counts.len() <= 2 => (role, kind, counts),
        _ => {
            let message = format!("a role declaration takes 2 to 4 arguments, found {}", args.len());
            return bad(diags, head.span, message, "expected r(Role, Kind, Min, Max)");
        }
    };
    // A literal that could not be read has been reported already.
    if args.iter().any(|a| a.kind == TermKind::Error) {
        return item(ItemKind::Error, terminated, l, r);
    }
    if role.functor().is_none() {
        let message = format!("expected a role name, found {}", describe_term(role));
        return bad(diags, role.span, message, "the role must be an atom or a compound term");
    }
    let kind = match kind_term.functor() {
        Some((name, [])) => RoleKind::from_name(name),
        _ => None,
    };
    let Some(kind) = kind else {
        let message = format!("expected a role kind, found {}", describe_term(kind_term));
        return bad(diags, kind_term.span, message, "expected initial, necessary, optional or auxiliary");
    };
    if matches!(kind, RoleKind::Cyclic | RoleKind::Uncommitted) {
        diags.push(
            Diagnostic::new(
                &codes::LIJ_ROLE_KIND,
                kind_term.span,
                format!("role kind `{}` exists only in LiJ", kind.name()),
            )
            .with_label("read as `auxiliary`")
            .with_help("use initial, necessary, optional or auxiliary")
            .with_fix(
                "replace it with `auxiliary`",
                vec![TextEdit { span: kind_term.span, replacement: "auxiliary".into() }],
            ),
        );
    }
    let mut numbers = Vec::new();
    for (count, what) in counts.iter().zip(["minimum", "maximum"]) {
        match count.kind {
            TermKind::Int(n) if n >= 0 => numbers.push((n.unsigned_abs(), count.span)),
            _ => {
                let message =
                    format!("expected a number of peers as the {what}, found {}", describe_term(count));
                return bad(diags, count.span, message, "expected a non-negative integer");
            }
        }
    }
    let mut numbers = numbers.into_iter();
    let (min, max) = (numbers.next(), numbers.next());
    if let (Some((lo, _)), Some((hi, hi_span))) = (min, max)
        && hi < lo
    {
        let message = format!("the maximum number of peers ({hi}) is smaller than the minimum ({lo})");
        return bad(diags, hi_span, message, "smaller than the minimum");
    }
    item(
        ItemKind::RoleDecl(RoleDecl { role: role.clone(), kind, kind_span: kind_term.span, min, max }),
        terminated,
        l,
        r,
    )
}

pub fn annotation_item(
    diags: &mut Vec<Diagnostic>,
    ann: AnnotationArg,
    terminated: bool,
    l: usize,
    r: usize,
) -> Item {
    if let AnnotationArg::Tagged { name, args, span } = &ann {
        if name == "annotation" {
            if let [target, value] = args.as_slice() {
                return item(
                    ItemKind::Annotation(Annotation { target: target.clone(), value: value.clone() }),
                    terminated,
                    l,
                    r,
                );
            }
            diags.push(
                Diagnostic::new(
                    &codes::UNKNOWN_ITEM,
                    *span,
                    format!("an annotation takes two arguments, found {}", args.len()),
                )
                .with_label("expected @annotation(Target, Value)")
                .with_help("write @annotation(Target, Value), e.g. @annotation(@constraint(c(_)), total)"),
            );
            return item(ItemKind::Error, terminated, l, r);
        }
        diags.push(
            Diagnostic::new(&codes::UNKNOWN_ITEM, *span, format!("`@{name}` cannot stand at the top level"))
                .with_label("only `@annotation(…)` is an item")
                .with_help("wrap it: @annotation(@role(R), Value)"),
        );
    }
    item(ItemKind::Error, terminated, l, r)
}
