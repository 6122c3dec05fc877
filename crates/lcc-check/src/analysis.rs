//! Analyses over the IR: variable binding (unbound and singleton variables, binding sites),
//! sort inference, message signatures and matching, and the structural lints.

use crate::codes;
use crate::ir::*;
use lcc_syntax::ast::{self, CmpOp, DefKind, ItemKind, Span};
use lcc_syntax::diagnostic::{Diagnostic, TextEdit};
use smol_str::SmolStr;
use std::collections::{HashMap, HashSet};

/// Structural equality of two terms, ignoring spans.
pub fn same_term(a: &Term, b: &Term) -> bool {
    match (a, b) {
        (Term::Var(x, _), Term::Var(y, _)) => x == y,
        (Term::Atom(x, _), Term::Atom(y, _)) => x == y,
        (Term::Int(x, _), Term::Int(y, _)) => x == y,
        (Term::Float(x, _), Term::Float(y, _)) => x == y,
        (Term::Str(x, _), Term::Str(y, _)) => x == y,
        (Term::Compound { functor: f, args: xs, .. }, Term::Compound { functor: g, args: ys, .. }) => {
            f == g && xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_term(x, y))
        }
        (Term::List { items: xs, tail: xt, .. }, Term::List { items: ys, tail: yt, .. }) => {
            xs.len() == ys.len()
                && xs.iter().zip(ys).all(|(x, y)| same_term(x, y))
                && match (xt, yt) {
                    (Some(x), Some(y)) => same_term(x, y),
                    (None, None) => true,
                    _ => false,
                }
        }
        _ => false,
    }
}

// ---- binding -------------------------------------------------------------------------------

/// How a variable gets its value at one binding site (the evidence of the sort inference).
#[derive(Clone, Debug)]
enum Origin {
    /// It is a peer id.
    Peer,
    /// `X = T` (or `T = X`): the value of T.
    Unify(Term),
    /// An element of the list T (`member(X, T)`, `nth0(_, T, X)`, `[X | _] = T`).
    Elem(Term),
    /// A number (`X is …`, `length(_, X)`).
    Number,
    /// A list (`length(X, _)`, `append`).
    List,
    /// Argument `i` of the message received by the event with this span.
    Received(Span, usize),
    /// Anything: an external constraint's output, a head argument, a nested pattern.
    Any,
}

/// A use of a variable that needs a value before anything has bound it.
struct Unbound {
    var: VarId,
    span: Span,
    what: &'static str,
}

/// The binding analysis of one clause, in execution order: which variables are bound where,
/// how, and which are used before they have a value.
struct Flow {
    first_bind: Vec<Option<Span>>,
    origins: Vec<(VarId, Origin)>,
    unbound: Vec<Unbound>,
    reported: Vec<bool>,
    /// The variables bound right before each message event and role change (for a send and a
    /// role change: after its guard), by the event's span.
    at: HashMap<Span, Vec<bool>>,
}

fn vars_of(t: &Term) -> Vec<(VarId, Span)> {
    let mut out = Vec::new();
    t.vars(&mut out);
    out
}

fn is_bound(bound: &[bool], v: VarId) -> bool {
    bound.get(v.index()).copied().unwrap_or(true)
}

impl Flow {
    fn run(clause: &Clause) -> Flow {
        let n = clause.vars.len();
        let mut flow = Flow {
            first_bind: vec![None; n],
            origins: Vec::new(),
            unbound: Vec::new(),
            reported: vec![false; n],
            at: HashMap::new(),
        };
        let mut bound = vec![false; n];
        for p in &clause.params {
            flow.bind_any(p, &mut bound);
        }
        flow.bind_as(&clause.self_id, Origin::Peer, &mut bound);
        if let Some(body) = &clause.body {
            flow.node(body, &mut bound);
        }
        flow
    }

    fn bind(&mut self, v: VarId, span: Span, origin: Origin, bound: &mut [bool]) {
        let Some(b) = bound.get_mut(v.index()) else { return };
        if *b {
            return;
        }
        *b = true;
        if let Some(site) = self.first_bind.get_mut(v.index()) {
            site.get_or_insert(span);
        }
        self.origins.push((v, origin));
    }

    /// Binds every variable of `t` to a value of unknown sort.
    fn bind_any(&mut self, t: &Term, bound: &mut [bool]) {
        for (v, s) in vars_of(t) {
            self.bind(v, s, Origin::Any, bound);
        }
    }

    /// Binds `t`: a variable gets its value from `origin`; the variables inside a larger term
    /// get values of unknown sort.
    fn bind_as(&mut self, t: &Term, origin: Origin, bound: &mut [bool]) {
        match t {
            Term::Var(v, s) => self.bind(*v, *s, origin, bound),
            _ => self.bind_any(t, bound),
        }
    }

    /// `a = b` binds the unbound variables of both sides.
    fn unify(&mut self, a: &Term, b: &Term, bound: &mut [bool]) {
        match (a, b) {
            (Term::Var(v, s), other) | (other, Term::Var(v, s)) if !is_bound(bound, *v) => {
                self.bind(*v, *s, Origin::Unify(other.clone()), bound);
                self.bind_any(other, bound);
            }
            (Term::List { items, tail, .. }, list @ Term::Var(..))
            | (list @ Term::Var(..), Term::List { items, tail, .. }) => {
                for item in items {
                    self.bind_as(item, Origin::Elem(list.clone()), bound);
                }
                if let Some(t) = tail {
                    self.bind_as(t, Origin::Unify(list.clone()), bound);
                }
            }
            (Term::Compound { functor: f, args: xs, .. }, Term::Compound { functor: g, args: ys, .. })
                if f == g && xs.len() == ys.len() =>
            {
                for (x, y) in xs.iter().zip(ys) {
                    self.unify(x, y, bound);
                }
            }
            (Term::List { items: xs, tail: xt, .. }, Term::List { items: ys, tail: yt, .. }) => {
                for (x, y) in xs.iter().zip(ys) {
                    self.unify(x, y, bound);
                }
                for t in xs.iter().skip(ys.len()).chain(ys.iter().skip(xs.len())) {
                    self.bind_any(t, bound);
                }
                for t in xt.iter().chain(yt) {
                    self.bind_any(t, bound);
                }
            }
            _ => {
                self.bind_any(a, bound);
                self.bind_any(b, bound);
            }
        }
    }

    /// Records every variable of `t` that has no value yet (once per variable).
    fn need(&mut self, t: &Term, bound: &[bool], what: &'static str) {
        for (v, span) in vars_of(t) {
            if is_bound(bound, v) {
                continue;
            }
            let Some(reported) = self.reported.get_mut(v.index()) else { continue };
            if !*reported {
                *reported = true;
                self.unbound.push(Unbound { var: v, span, what });
            }
        }
    }

    fn node(&mut self, n: &Node, bound: &mut Vec<bool>) {
        match &n.kind {
            NodeKind::Send { message, to, guard, .. } => {
                if let Some(g) = guard {
                    self.cond(g, bound);
                }
                self.need(message, bound, "it is sent in a message");
                self.at.insert(n.span, bound.clone());
                // An unbound id is discovery: the send binds it to the peer it reaches.
                self.bind_as(&to.id, Origin::Peer, bound);
                for a in &to.args {
                    self.bind_any(a, bound);
                }
            }
            NodeKind::Receive { message, from, guard, .. } => {
                self.at.insert(n.span, bound.clone());
                match message {
                    Term::Compound { args, .. } => {
                        for (i, a) in args.iter().enumerate() {
                            self.bind_as(a, Origin::Received(n.span, i), bound);
                        }
                    }
                    other => self.bind_any(other, bound),
                }
                self.bind_as(&from.id, Origin::Peer, bound);
                for a in &from.args {
                    self.bind_any(a, bound);
                }
                // The guard is checked after the message matched, in both written forms.
                if let Some(g) = guard {
                    self.cond(g, bound);
                }
            }
            NodeKind::Null { guard } => {
                if let Some(g) = guard {
                    self.cond(g, bound);
                }
            }
            NodeKind::RoleChange { target, guard, .. } => {
                if let Some(g) = guard {
                    self.cond(g, bound);
                }
                for a in &target.args {
                    self.need(a, bound, "it is passed to the new role");
                }
                self.at.insert(n.span, bound.clone());
            }
            NodeKind::Then(children) => {
                for c in children {
                    self.node(c, bound);
                }
            }
            NodeKind::Or(children) => {
                // Bound afterwards: what every alternative binds.
                let start = bound.clone();
                let mut all: Option<Vec<bool>> = None;
                for c in children {
                    let mut b = start.clone();
                    self.node(c, &mut b);
                    all = Some(match all {
                        None => b,
                        Some(acc) => acc.iter().zip(&b).map(|(x, y)| *x && *y).collect(),
                    });
                }
                if let Some(all) = all {
                    *bound = all;
                }
            }
            NodeKind::Par(children) => {
                // Each branch may run first; afterwards, what any branch binds.
                let start = bound.clone();
                for c in children {
                    let mut b = start.clone();
                    self.node(c, &mut b);
                    for (acc, x) in bound.iter_mut().zip(b) {
                        *acc = *acc || x;
                    }
                }
            }
            NodeKind::Error => {}
        }
    }

    fn cond(&mut self, c: &Cond, bound: &mut Vec<bool>) {
        match c {
            Cond::And(parts, _) => {
                for p in parts {
                    self.cond(p, bound);
                }
            }
            Cond::Or(parts, _) => {
                let start = bound.clone();
                let mut all: Option<Vec<bool>> = None;
                for p in parts {
                    let mut b = start.clone();
                    self.cond(p, &mut b);
                    all = Some(match all {
                        None => b,
                        Some(acc) => acc.iter().zip(&b).map(|(x, y)| *x && *y).collect(),
                    });
                }
                if let Some(all) = all {
                    *bound = all;
                }
            }
            Cond::Not(inner, _) => {
                // `not` binds nothing; its inputs still need values.
                let mut b = bound.clone();
                self.cond(inner, &mut b);
            }
            Cond::Compare { op: CmpOp::Unify, lhs, rhs, .. } => self.unify(lhs, rhs, bound),
            // `\=` is a unification test: well defined on unbound terms.
            Cond::Compare { op: CmpOp::NotUnify, .. } => {}
            Cond::Compare { op, lhs, rhs, .. } => {
                let what = match op {
                    CmpOp::Identical | CmpOp::NotIdentical | CmpOp::NotEqual => "it is compared",
                    _ => "it is compared arithmetically",
                };
                self.need(lhs, bound, what);
                self.need(rhs, bound, what);
            }
            Cond::Is { lhs, rhs, .. } => {
                self.need(rhs, bound, "`is` evaluates it");
                self.bind_as(lhs, Origin::Number, bound);
            }
            Cond::Builtin { builtin, args, .. } => {
                let ground = |t: &Term, b: &[bool]| vars_of(t).iter().all(|(v, _)| is_bound(b, *v));
                match (builtin, args.as_slice()) {
                    (Builtin::Member, [x, list]) => {
                        self.need(list, bound, "`member` needs the list");
                        self.bind_as(x, Origin::Elem(list.clone()), bound);
                    }
                    (Builtin::Nth0 | Builtin::Nth1, [i, list, x]) => {
                        self.need(
                            list,
                            bound,
                            if *builtin == Builtin::Nth0 {
                                "`nth0` needs the list"
                            } else {
                                "`nth1` needs the list"
                            },
                        );
                        self.bind_as(i, Origin::Number, bound);
                        self.bind_as(x, Origin::Elem(list.clone()), bound);
                    }
                    (Builtin::Append, [a, b, c]) => {
                        let parts = ground(a, bound) && ground(b, bound);
                        if !parts && !ground(c, bound) {
                            self.need(c, bound, "`append` needs the first two lists or the whole list");
                        }
                        for t in [a, b, c] {
                            self.bind_as(t, Origin::List, bound);
                        }
                    }
                    (Builtin::Length, [list, n]) => {
                        if !ground(list, bound) && !ground(n, bound) {
                            self.need(list, bound, "`length` needs the list or the length");
                        }
                        self.bind_as(list, Origin::List, bound);
                        self.bind_as(n, Origin::Number, bound);
                    }
                    _ => {}
                }
                for a in args {
                    self.bind_any(a, bound);
                }
            }
            Cond::External { args, .. } => {
                for a in args {
                    self.bind_any(a, bound);
                }
            }
            Cond::Error(_) => {}
        }
    }
}

/// Whether a clause holds a part that could not be parsed or lowered. Lints that depend on
/// every occurrence of a variable or every message stay quiet about such clauses: the broken
/// part may hold what they would miss.
fn is_broken(clause: &Clause) -> bool {
    fn term(t: &Term) -> bool {
        match t {
            Term::Error(_) => true,
            Term::Compound { args, .. } => args.iter().any(term),
            Term::List { items, tail, .. } => items.iter().any(term) || tail.as_deref().is_some_and(term),
            Term::Arith { lhs, rhs, .. } => term(lhs) || term(rhs),
            Term::Neg(t, _) => term(t),
            _ => false,
        }
    }
    fn cond(c: &Cond) -> bool {
        match c {
            Cond::Error(_) => true,
            Cond::And(parts, _) | Cond::Or(parts, _) => parts.iter().any(cond),
            Cond::Not(inner, _) => cond(inner),
            Cond::Compare { lhs, rhs, .. } | Cond::Is { lhs, rhs, .. } => term(lhs) || term(rhs),
            Cond::Builtin { args, .. } | Cond::External { args, .. } => args.iter().any(term),
        }
    }
    fn agent(a: &AgentRef) -> bool {
        term(&a.id) || a.args.iter().any(term)
    }
    let mut broken = clause.params.iter().any(term) || term(&clause.self_id);
    if let Some(body) = &clause.body {
        walk(body, &mut |n| {
            broken |= match &n.kind {
                NodeKind::Error => true,
                NodeKind::Send { message, to: a, .. } | NodeKind::Receive { message, from: a, .. } => {
                    term(message) || agent(a)
                }
                NodeKind::RoleChange { target, .. } => agent(target),
                _ => false,
            } || node_guard(n).is_some_and(cond);
        });
    }
    broken
}

/// Which clauses are broken: they hold a part that could not be parsed or lowered, or a syntax
/// error lies inside them (`syntax_errors`: the spans of the parser's errors).
pub fn broken_clauses(model: &Model, syntax_errors: &[Span]) -> Vec<bool> {
    model
        .clauses
        .iter()
        .map(|c| {
            is_broken(c)
                || syntax_errors.iter().any(|e| e.start < c.span.end && c.span.start < e.end.max(e.start + 1))
        })
        .collect()
}

/// Runs the binding analysis of every clause: reports unbound and singleton variables and
/// records each variable's binding site; quiet about the clauses marked in `broken` (see
/// [`broken_clauses`]).
pub fn bindings(model: &mut Model, broken: &[bool], diags: &mut Vec<Diagnostic>) {
    for (ci, clause) in model.clauses.iter_mut().enumerate() {
        let flow = Flow::run(clause);
        for (var, site) in clause.vars.iter_mut().zip(&flow.first_bind) {
            if let Some(site) = site {
                var.binding = *site;
            }
        }
        if broken.get(ci).copied().unwrap_or(false) {
            continue;
        }
        for u in &flow.unbound {
            let Some(var) = clause.var(u.var) else { continue };
            let name = &var.name;
            let mut diag = Diagnostic::new(
                &codes::UNBOUND_VARIABLE,
                u.span,
                format!("`{name}` has no value where {}", u.what),
            )
            .with_label(format!("`{name}` is still unbound here"));
            match flow.first_bind.get(u.var.index()).copied().flatten() {
                Some(site) if site.start > u.span.start => {
                    diag = diag.with_secondary(site, format!("`{name}` gets a value only here, later"));
                }
                Some(site) if site != u.span => {
                    diag = diag.with_secondary(
                        site,
                        format!("`{name}` is bound here, but not on every path to the use"),
                    );
                }
                _ => {}
            }
            diags.push(diag.with_help(format!(
                "bind `{name}` before this point: take it from the clause head, receive it in a message, \
                 or compute it in a guard (e.g. `<- choose({name})`)"
            )));
        }
        let self_var = clause.self_var();
        for (i, var) in clause.vars.iter().enumerate() {
            let reported = flow.reported.get(i).copied().unwrap_or(false);
            if var.name.starts_with('_')
                || var.occurrences.len() != 1
                || reported
                || self_var == Some(VarId::from_index(i))
            {
                continue;
            }
            let mut diag = Diagnostic::new(
                &codes::SINGLETON_VARIABLE,
                var.binding,
                format!("variable `{}` occurs only once", var.name),
            )
            .with_label("never used anywhere else in this clause");
            let similar = clause
                .vars
                .iter()
                .filter(|w| {
                    w.name != var.name
                        && var.name.chars().count() >= 3
                        && w.occurrences.len() > 1
                        && crate::lower::distance(&w.name, &var.name) == 1
                })
                .min_by_key(|w| w.binding.start);
            diag = match similar {
                Some(w) => diag
                    .with_secondary(w.binding, format!("`{}` has a similar name", w.name))
                    .with_help(format!(
                        "did you mean `{}`? If `{}` is meant to be ignored, name it `_{}` or `_`",
                        w.name, var.name, var.name
                    )),
                None => diag.with_help(format!(
                    "if it is meant to be ignored, name it `_{}` or `_`; otherwise check for a typo",
                    var.name
                )),
            };
            diags.push(diag.with_fix(
                format!("rename it to `_{}`", var.name),
                vec![TextEdit { span: var.binding, replacement: format!("_{}", var.name) }],
            ));
        }
    }
}

// ---- sorts -----------------------------------------------------------------------------------

/// The lattice of the sort inference: `Bot` (no evidence) below the sorts, `Top` (values of
/// several sorts, or of any sort) above them.
#[derive(Clone, Debug, PartialEq)]
enum S {
    Bot,
    Top,
    Atom,
    Str,
    Num,
    Peer,
    List(Box<S>),
    Comp(SmolStr, usize),
}

impl S {
    fn lub(&self, other: &S) -> S {
        match (self, other) {
            (S::Bot, x) | (x, S::Bot) => x.clone(),
            (S::Top, _) | (_, S::Top) => S::Top,
            (S::Peer, x @ (S::Atom | S::Str | S::Num)) | (x @ (S::Atom | S::Str | S::Num), S::Peer) => {
                x.clone()
            }
            (S::List(a), S::List(b)) => S::List(Box::new(a.lub(b))),
            (a, b) if a == b => a.clone(),
            _ => S::Top,
        }
    }

    /// Whether values of the two sorts can never unify. A peer id may be any value.
    fn clashes(&self, other: &S) -> bool {
        match (self, other) {
            (S::Bot | S::Top | S::Peer, _) | (_, S::Bot | S::Top | S::Peer) => false,
            (S::List(a), S::List(b)) => a.clashes(b),
            (a, b) => a != b,
        }
    }

    fn to_sort(&self) -> Sort {
        match self {
            S::Bot | S::Top => Sort::Unknown,
            S::Atom => Sort::Atom,
            S::Str => Sort::String,
            S::Num => Sort::Number,
            S::Peer => Sort::PeerId,
            S::List(e) => Sort::List(Box::new(e.to_sort())),
            S::Comp(f, n) => Sort::Compound(f.clone(), *n),
        }
    }

    /// "an atom", "a list of numbers", …
    fn describe(&self) -> String {
        match self {
            S::Bot | S::Top => "a value".into(),
            S::Atom => "an atom".into(),
            S::Str => "a string".into(),
            S::Num => "a number".into(),
            S::Peer => "a peer id".into(),
            S::List(e) => match e.plural() {
                Some(p) => format!("a list of {p}"),
                None => "a list".into(),
            },
            S::Comp(f, n) => format!("a compound term `{f}/{n}`"),
        }
    }

    fn plural(&self) -> Option<String> {
        Some(match self {
            S::Bot | S::Top => return None,
            S::Atom => "atoms".into(),
            S::Str => "strings".into(),
            S::Num => "numbers".into(),
            S::Peer => "peer ids".into(),
            S::List(_) => "lists".into(),
            S::Comp(f, n) => format!("`{f}/{n}` terms"),
        })
    }
}

/// The sort of a term, given the sorts of its variables.
fn sort_of(t: &Term, var: &dyn Fn(VarId) -> S) -> S {
    match t {
        Term::Var(v, _) => var(*v),
        Term::Anon(_) | Term::Error(_) => S::Top,
        Term::Atom(..) => S::Atom,
        Term::Int(..) | Term::Float(..) | Term::Arith { .. } | Term::Neg(..) => S::Num,
        Term::Str(..) => S::Str,
        Term::Compound { functor, args, .. } => S::Comp(functor.clone(), args.len()),
        Term::List { items, tail, .. } => {
            let mut elem = items.iter().fold(S::Bot, |acc, i| acc.lub(&sort_of(i, var)));
            if let Some(t) = tail {
                elem = match sort_of(t, var) {
                    S::List(e) => elem.lub(&e),
                    S::Bot => elem,
                    _ => S::Top,
                };
            }
            S::List(Box::new(elem))
        }
    }
}

/// The sort of a term as an [`ir::Sort`](Sort), from the variables' inferred sorts.
pub fn term_sort(t: &Term, vars: &[Variable]) -> Sort {
    match t {
        Term::Var(v, _) => vars.get(v.index()).map_or(Sort::Unknown, |v| v.sort.clone()),
        Term::Atom(..) => Sort::Atom,
        Term::Int(..) | Term::Float(..) | Term::Arith { .. } | Term::Neg(..) => Sort::Number,
        Term::Str(..) => Sort::String,
        Term::Compound { functor, args, .. } => Sort::Compound(functor.clone(), args.len()),
        Term::List { items, .. } => {
            Sort::List(Box::new(items.iter().fold(Sort::Unknown, |acc, i| acc.join(&term_sort(i, vars)))))
        }
        Term::Anon(_) | Term::Error(_) => Sort::Unknown,
    }
}

type MessageKey = (RoleId, RoleId, SmolStr, usize);

fn walk<'n>(n: &'n Node, f: &mut dyn FnMut(&'n Node)) {
    f(n);
    if let NodeKind::Then(c) | NodeKind::Or(c) | NodeKind::Par(c) = &n.kind {
        for child in c {
            walk(child, f);
        }
    }
}

fn walk_mut(n: &mut Node, f: &mut dyn FnMut(&mut Node)) {
    f(n);
    if let NodeKind::Then(c) | NodeKind::Or(c) | NodeKind::Par(c) = &mut n.kind {
        for child in c {
            walk_mut(child, f);
        }
    }
}

fn conds<'c>(c: &'c Cond, f: &mut dyn FnMut(&'c Cond)) {
    f(c);
    match c {
        Cond::And(parts, _) | Cond::Or(parts, _) => parts.iter().for_each(|p| conds(p, f)),
        Cond::Not(inner, _) => conds(inner, f),
        _ => {}
    }
}

fn node_guard(n: &Node) -> Option<&Cond> {
    match &n.kind {
        NodeKind::Send { guard, .. }
        | NodeKind::Receive { guard, .. }
        | NodeKind::Null { guard }
        | NodeKind::RoleChange { guard, .. } => guard.as_ref(),
        _ => None,
    }
}

/// One send or receive of the model.
struct Event<'m> {
    clause: ClauseId,
    /// The event's span (the key of [`Flow::at`] and of [`MessageSite`]).
    span: Span,
    message: &'m Term,
    send: bool,
    /// The role at the other end, if it resolved.
    other: Option<RoleId>,
    /// (sender, receiver, functor, arity), when the message has a functor and both roles
    /// resolved.
    key: Option<MessageKey>,
}

fn events(model: &Model) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    for (ci, clause) in model.clauses.iter().enumerate() {
        let Some(body) = &clause.body else { continue };
        walk(body, &mut |n| {
            let (message, other, send) = match &n.kind {
                NodeKind::Send { message, to, .. } => (message, to.role, true),
                NodeKind::Receive { message, from, .. } => (message, from.role, false),
                _ => return,
            };
            let key = match (other, message.functor()) {
                (Some(other), Some((f, arity))) => {
                    let (sender, receiver) = if send { (clause.role, other) } else { (other, clause.role) };
                    Some((sender, receiver, SmolStr::from(f), arity))
                }
                _ => None,
            };
            out.push(Event { clause: ClauseId::from_index(ci), span: n.span, message, send, other, key });
        });
    }
    out
}

/// The sorts of every clause's variables, and what is bound at each event.
struct Inference {
    flows: Vec<Flow>,
    sorts: Vec<Vec<S>>,
    /// (sender, receiver) role pairs with a message that is not `f(…)` (a variable, say): any
    /// message may pass between them.
    wildcards: HashSet<(RoleId, RoleId)>,
}

impl Inference {
    fn sort(&self, clause: ClauseId, v: VarId) -> S {
        self.sorts.get(clause.index()).and_then(|s| s.get(v.index())).cloned().unwrap_or(S::Top)
    }

    /// The sort of a term at an event: a variable still unbound there matches anything.
    fn sort_at(&self, clause: ClauseId, event: Span, t: &Term) -> S {
        self.sort_at_or(clause, event, t, &S::Top)
    }

    /// [`Inference::sort_at`], with `unbound` for the variables that have no value there.
    fn sort_at_or(&self, clause: ClauseId, event: Span, t: &Term, unbound: &S) -> S {
        let at = self.flows.get(clause.index()).and_then(|f| f.at.get(&event));
        sort_of(t, &|v| match at {
            Some(bound) if is_bound(bound, v) => self.sort(clause, v),
            _ => unbound.clone(),
        })
    }

    fn arg_sorts_at(&self, e: &Event<'_>) -> Vec<S> {
        match e.message {
            Term::Compound { args, .. } => args.iter().map(|a| self.sort_at(e.clause, e.span, a)).collect(),
            _ => Vec::new(),
        }
    }

    /// The sorts of the values an event carries: what a send sends (an unbound variable says
    /// nothing), what a receive's variables hold once it has happened.
    fn carried_sorts(&self, e: &Event<'_>) -> Vec<S> {
        let Term::Compound { args, .. } = e.message else { return Vec::new() };
        args.iter()
            .map(|a| match e.send {
                true => self.sort_at_or(e.clause, e.span, a, &S::Bot),
                false => sort_of(a, &|v| self.sort(e.clause, v)),
            })
            .collect()
    }
}

/// Infers the sorts of the variables: a least fixpoint over the binding sites of every clause,
/// where a received argument has the sort of what the sending role sends in its place.
fn infer(model: &Model, events: &[Event<'_>]) -> Inference {
    let flows: Vec<Flow> = model.clauses.iter().map(Flow::run).collect();
    let mut wildcards = HashSet::new();
    for e in events {
        if let (None, Some(other), Some(clause)) = (&e.key, e.other, model.clause(e.clause)) {
            wildcards.insert(if e.send { (clause.role, other) } else { (other, clause.role) });
        }
    }
    let recv_keys: HashMap<Span, &MessageKey> =
        events.iter().filter(|e| !e.send).filter_map(|e| e.key.as_ref().map(|k| (e.span, k))).collect();
    let mut inf = Inference {
        sorts: model.clauses.iter().map(|c| vec![S::Bot; c.vars.len()]).collect(),
        flows,
        wildcards,
    };
    for _round in 0..32 {
        let mut sent: HashMap<&MessageKey, Vec<S>> = HashMap::new();
        for e in events.iter().filter(|e| e.send) {
            let Some(key) = &e.key else { continue };
            let sorts = inf.arg_sorts_at(e);
            let entry = sent.entry(key).or_insert_with(|| vec![S::Bot; key.3]);
            for (acc, s) in entry.iter_mut().zip(&sorts) {
                *acc = acc.lub(s);
            }
        }
        let mut next = Vec::with_capacity(model.clauses.len());
        for (ci, flow) in inf.flows.iter().enumerate() {
            let clause = ClauseId::from_index(ci);
            let mut vars = vec![S::Bot; inf.sorts.get(ci).map_or(0, Vec::len)];
            let current = |v: VarId| inf.sort(clause, v);
            for (v, origin) in &flow.origins {
                let s = match origin {
                    Origin::Peer => S::Peer,
                    Origin::Unify(t) => sort_of(t, &current),
                    Origin::Elem(t) => match sort_of(t, &current) {
                        S::List(e) => *e,
                        S::Top => S::Top,
                        _ => S::Bot,
                    },
                    Origin::Number => S::Num,
                    Origin::List => S::List(Box::new(S::Bot)),
                    Origin::Any => S::Top,
                    Origin::Received(site, i) => match recv_keys.get(site) {
                        Some(key) if !inf.wildcards.contains(&(key.0, key.1)) => {
                            sent.get(key).and_then(|s| s.get(*i)).cloned().unwrap_or(S::Bot)
                        }
                        _ => S::Top,
                    },
                };
                if let Some(slot) = vars.get_mut(v.index()) {
                    *slot = slot.lub(&s);
                }
            }
            next.push(vars);
        }
        if next == inf.sorts {
            break;
        }
        inf.sorts = next;
    }
    inf
}

/// Infers variable sorts, builds the message and constraint signatures, and reports messages
/// that can never be received or sent, and sends that no receive can ever match; quiet about
/// messages whose partner may be in a clause marked in `broken`.
pub fn messages(model: &mut Model, broken: &[bool], diags: &mut Vec<Diagnostic>) {
    let (inf, sigs, ids) = {
        let events = events(model);
        let inf = infer(model, &events);
        let (sigs, ids) = signatures(&events, &inf);
        message_lints(model, broken, &events, &inf, &sigs, diags);
        (inf, sigs, ids)
    };
    for (ci, clause) in model.clauses.iter_mut().enumerate() {
        for (i, var) in clause.vars.iter_mut().enumerate() {
            var.sort = inf.sort(ClauseId::from_index(ci), VarId::from_index(i)).to_sort();
        }
        let Some(body) = &mut clause.body else { continue };
        walk_mut(body, &mut |n| {
            let span = n.span;
            if let NodeKind::Send { message_id, .. } | NodeKind::Receive { message_id, .. } = &mut n.kind {
                *message_id = ids.get(&(ci, span)).copied();
            }
        });
    }
    let mut constraint_sorts: Vec<Vec<S>> = model.constraints.iter().map(|c| vec![S::Bot; c.arity]).collect();
    for (ci, clause) in model.clauses.iter().enumerate() {
        let Some(body) = &clause.body else { continue };
        walk(body, &mut |n| {
            let Some(g) = node_guard(n) else { return };
            conds(g, &mut |c| {
                if let Cond::External { constraint, args, .. } = c
                    && let Some(sorts) = constraint_sorts.get_mut(constraint.index())
                {
                    for (s, a) in sorts.iter_mut().zip(args) {
                        *s = s.lub(&sort_of(a, &|v| inf.sort(ClauseId::from_index(ci), v)));
                    }
                }
            });
        });
    }
    for (sig, sorts) in model.constraints.iter_mut().zip(constraint_sorts) {
        sig.arg_sorts = sorts.iter().map(S::to_sort).collect();
    }
    model.messages = sigs;
}

/// The message signatures, and the signature of every event (by clause index and span).
fn signatures(events: &[Event<'_>], inf: &Inference) -> (Vec<MessageSig>, HashMap<(usize, Span), MessageId>) {
    let mut sigs: Vec<MessageSig> = Vec::new();
    let mut sorts: Vec<Vec<S>> = Vec::new();
    let mut index: HashMap<&MessageKey, MessageId> = HashMap::new();
    let mut ids = HashMap::new();
    for e in events {
        let Some(key) = &e.key else { continue };
        let id = *index.entry(key).or_insert_with(|| {
            sigs.push(MessageSig {
                sender: key.0,
                receiver: key.1,
                functor: key.2.clone(),
                arity: key.3,
                arg_sorts: Vec::new(),
                sends: Vec::new(),
                receives: Vec::new(),
            });
            sorts.push(vec![S::Bot; key.3]);
            MessageId::from_index(sigs.len() - 1)
        });
        if let (Some(sig), Some(acc)) = (sigs.get_mut(id.index()), sorts.get_mut(id.index())) {
            for (s, arg) in acc.iter_mut().zip(inf.carried_sorts(e)) {
                *s = s.lub(&arg);
            }
            let site = MessageSite { clause: e.clause, span: e.span };
            if e.send {
                sig.sends.push(site);
            } else {
                sig.receives.push(site);
            }
        }
        ids.insert((e.clause.index(), e.span), id);
    }
    for (sig, s) in sigs.iter_mut().zip(sorts) {
        sig.arg_sorts = s.iter().map(S::to_sort).collect();
    }
    (sigs, ids)
}

/// Why a sent term can never match a received one.
struct Clash {
    sent: Span,
    sent_what: String,
    received: Span,
    received_what: String,
    kind: ClashKind,
}

#[derive(Clone, Copy, PartialEq)]
enum ClashKind {
    /// Values of different sorts.
    Sort,
    /// Different values of one sort (`busy` against `idle`).
    Value,
    /// Lists of different lengths.
    Length,
}

fn value_text(t: &Term) -> Option<String> {
    Some(match t {
        Term::Atom(a, _) => format!("`{a}`"),
        Term::Str(s, _) => format!("`{s:?}`"),
        Term::Int(n, _) => format!("`{n}`"),
        Term::Float(x, _) => format!("`{x}`"),
        _ => return None,
    })
}

/// The variable written at `span` inside `t`, if any.
fn var_at(t: &Term, span: Span) -> Option<VarId> {
    vars_of(t).into_iter().find(|(_, s)| *s == span).map(|(v, _)| v)
}

/// The first place where a sent term and a receive pattern can never unify.
fn clash(a: &Term, sa: &dyn Fn(&Term) -> S, b: &Term, sb: &dyn Fn(&Term) -> S) -> Option<Clash> {
    let by_sort = || {
        let (x, y) = (sa(a), sb(b));
        x.clashes(&y).then(|| Clash {
            sent: a.span(),
            sent_what: x.describe(),
            received: b.span(),
            received_what: y.describe(),
            kind: ClashKind::Sort,
        })
    };
    let by_value = |differ: bool| {
        differ.then(|| Clash {
            sent: a.span(),
            sent_what: value_text(a).unwrap_or_default(),
            received: b.span(),
            received_what: value_text(b).unwrap_or_default(),
            kind: ClashKind::Value,
        })
    };
    match (a, b) {
        (Term::Var(..), _) | (_, Term::Var(..)) => by_sort(),
        (Term::Anon(_) | Term::Error(_) | Term::Arith { .. } | Term::Neg(..), _)
        | (_, Term::Anon(_) | Term::Error(_) | Term::Arith { .. } | Term::Neg(..)) => None,
        (Term::Atom(x, _), Term::Atom(y, _)) => by_value(x != y),
        (Term::Str(x, _), Term::Str(y, _)) => by_value(x != y),
        (Term::Int(x, _), Term::Int(y, _)) => by_value(x != y),
        (Term::Compound { functor: f, args: xs, .. }, Term::Compound { functor: g, args: ys, .. })
            if f == g && xs.len() == ys.len() =>
        {
            xs.iter().zip(ys).find_map(|(x, y)| clash(x, sa, y, sb))
        }
        (Term::List { items: xs, tail: xt, .. }, Term::List { items: ys, tail: yt, .. }) => {
            if let Some(c) = xs.iter().zip(ys).find_map(|(x, y)| clash(x, sa, y, sb)) {
                return Some(c);
            }
            let length = |items: &[Term], tail: &Option<Box<Term>>| match tail {
                None => {
                    format!("a list of {} element{}", items.len(), if items.len() == 1 { "" } else { "s" })
                }
                Some(_) => format!(
                    "a list of at least {} element{}",
                    items.len(),
                    if items.len() == 1 { "" } else { "s" }
                ),
            };
            let short = (xt.is_none() && xs.len() < ys.len()) || (yt.is_none() && ys.len() < xs.len());
            short.then(|| Clash {
                sent: a.span(),
                sent_what: length(xs, xt),
                received: b.span(),
                received_what: length(ys, yt),
                kind: ClashKind::Length,
            })
        }
        _ => by_sort(),
    }
}

/// W0103, W0104 and W0105.
fn message_lints(
    model: &Model,
    broken: &[bool],
    events: &[Event<'_>],
    inf: &Inference,
    sigs: &[MessageSig],
    diags: &mut Vec<Diagnostic>,
) {
    let role_name = |id: RoleId| model.role(id).map(|r| r.name.clone()).unwrap_or_default();
    let role_broken = |id: RoleId| {
        model
            .role(id)
            .is_some_and(|r| r.clauses.iter().any(|c| broken.get(c.index()).copied().unwrap_or(false)))
    };
    let role_of = |e: &Event<'_>| model.clause(e.clause).map(|c| c.role);
    // Indexes: events by site, and by (role of their clause, send).
    let by_site: HashMap<(ClauseId, Span), &Event<'_>> =
        events.iter().map(|e| ((e.clause, e.span), e)).collect();
    let mut by_role: HashMap<(RoleId, bool), Vec<&Event<'_>>> = HashMap::new();
    for e in events {
        if let Some(role) = role_of(e) {
            by_role.entry((role, e.send)).or_default().push(e);
        }
    }
    let of_role = |role: RoleId, send: bool| by_role.get(&(role, send)).map_or(&[][..], Vec::as_slice);
    let head_of = |role: RoleId| {
        model.role(role).and_then(|r| r.clauses.first()).and_then(|&c| model.clause(c)).map(|c| c.head_span)
    };
    // Events of a role with a functor/arity whose other end did not resolve (an error was
    // reported there): they may be the missing partner.
    let unresolved = |role: RoleId, send: bool, f: &str, arity: usize| {
        of_role(role, send)
            .iter()
            .any(|e| e.other.is_none() && e.message.functor().is_none_or(|m| m == (f, arity)))
    };
    let message_span =
        |site: &MessageSite| by_site.get(&(site.clause, site.span)).map_or(site.span, |e| e.message.span());
    for sig in sigs {
        let (sender, receiver) = (role_name(sig.sender), role_name(sig.receiver));
        let wild = inf.wildcards.contains(&(sig.sender, sig.receiver));
        let quiet_receiver =
            wild || role_broken(sig.receiver) || unresolved(sig.receiver, false, &sig.functor, sig.arity);
        if sig.receives.is_empty() && !quiet_receiver {
            // What the receiver does receive under that name.
            let near: Vec<&Event<'_>> = of_role(sig.receiver, false)
                .iter()
                .filter(|e| e.message.functor().is_some_and(|(f, _)| f == sig.functor))
                .copied()
                .take(2)
                .collect();
            for send in &sig.sends {
                let mut diag = Diagnostic::new(
                    &codes::UNRECEIVABLE_MESSAGE,
                    message_span(send),
                    format!(
                        "`{}/{}` is sent to role `{receiver}`, which never receives it from `{sender}`",
                        sig.functor, sig.arity
                    ),
                )
                .with_label("no receive matches this message");
                for e in &near {
                    let (f, n) = e.message.functor().unwrap_or_default();
                    let from = e.other.map(&role_name).unwrap_or_default();
                    diag = diag.with_secondary(
                        e.message.span(),
                        format!("`{receiver}` receives `{f}/{n}` from `{from}` here"),
                    );
                }
                if let (true, Some(head)) = (near.is_empty(), head_of(sig.receiver)) {
                    diag = diag.with_secondary(
                        head,
                        format!(
                            "the clause of `{receiver}` receives no `{}/{}` from `{sender}`",
                            sig.functor, sig.arity
                        ),
                    );
                }
                diags.push(diag.with_help(format!(
                    "add `{}{} <= a({sender}, Id)` to the clause of `{receiver}`, or check the message's name and arity",
                    sig.functor,
                    if sig.arity == 0 { String::new() } else { "(…)".into() },
                )));
            }
        }
        let quiet_sender =
            wild || role_broken(sig.sender) || unresolved(sig.sender, true, &sig.functor, sig.arity);
        if sig.sends.is_empty() && !quiet_sender {
            let near: Vec<&Event<'_>> = of_role(sig.sender, true)
                .iter()
                .filter(|e| e.message.functor().is_some_and(|(f, _)| f == sig.functor))
                .copied()
                .take(2)
                .collect();
            for recv in &sig.receives {
                let mut diag = Diagnostic::new(
                    &codes::UNSENT_MESSAGE,
                    message_span(recv),
                    format!("role `{sender}` never sends `{}/{}` to `{receiver}`", sig.functor, sig.arity),
                )
                .with_label("this receive can never happen");
                for e in &near {
                    let (f, n) = e.message.functor().unwrap_or_default();
                    let to = e.other.map(&role_name).unwrap_or_default();
                    diag = diag.with_secondary(
                        e.message.span(),
                        format!("`{sender}` sends `{f}/{n}` to `{to}` here"),
                    );
                }
                if let (true, Some(head)) = (near.is_empty(), head_of(sig.sender)) {
                    diag = diag.with_secondary(
                        head,
                        format!(
                            "the clause of `{sender}` sends no `{}/{}` to `{receiver}`",
                            sig.functor, sig.arity
                        ),
                    );
                }
                diags.push(diag.with_help("a peer waiting here waits for ever; check the message's name and arity, or the sending role"));
            }
        }
        if wild || sig.receives.is_empty() {
            continue;
        }
        // Sends that no receive of their signature can ever match.
        let find = |site: &MessageSite| by_site.get(&(site.clause, site.span)).copied();
        let receives: Vec<&Event<'_>> = sig.receives.iter().filter_map(find).collect();
        for send in sig.sends.iter().filter_map(find) {
            let sa = |t: &Term| inf.sort_at(send.clause, send.span, t);
            let clashes: Vec<Clash> = receives
                .iter()
                .filter_map(|r| {
                    clash(send.message, &sa, r.message, &|t: &Term| inf.sort_at(r.clause, r.span, t))
                })
                .collect();
            if clashes.len() != receives.len() {
                continue;
            }
            let Some(first) = clashes.first() else { continue };
            let message = match first.kind {
                ClashKind::Value => format!(
                    "`{}/{}` is sent with {}, but `{receiver}` only receives it with {}",
                    sig.functor, sig.arity, first.sent_what, first.received_what
                ),
                _ => format!(
                    "`{}/{}` is sent with {}, but `{receiver}` receives it as {}",
                    sig.functor, sig.arity, first.sent_what, first.received_what
                ),
            };
            let label = match first.kind {
                ClashKind::Value => "no receive accepts this value".to_string(),
                _ => format!("{} here", first.sent_what),
            };
            let mut diag =
                Diagnostic::new(&codes::INCOMPATIBLE_MESSAGE, first.sent, message).with_label(label);
            for (c, r) in clashes.iter().zip(&receives).take(3) {
                // A variable of the pattern that already holds a value: say so.
                let bound = var_at(r.message, c.received)
                    .and_then(|v| model.clause(r.clause).and_then(|cl| cl.var(v)))
                    .map(|v| v.name.clone());
                diag = diag.with_secondary(
                    c.received,
                    match (c.kind, bound) {
                        (ClashKind::Value, _) => format!("expects {} here", c.received_what),
                        (_, Some(name)) => format!(
                            "`{name}` already holds {} here: never unifies with {}",
                            c.received_what, c.sent_what
                        ),
                        _ => format!("expects {}: never unifies with {}", c.received_what, c.sent_what),
                    },
                );
            }
            let help = match first.kind {
                ClashKind::Value => format!(
                    "no receive of `{}/{}` in `{receiver}` matches this value; send a value that is received, or receive this one",
                    sig.functor, sig.arity
                ),
                ClashKind::Length => {
                    "a list pattern without a tail `[… | T]` matches only lists of its length".to_string()
                }
                ClashKind::Sort => {
                    "atoms, strings, numbers, lists and compound terms never unify with each other \
                    (`\"ok\"` is not `ok`, `1` is not `\"1\"`); make both ends agree"
                        .to_string()
                }
            };
            diags.push(diag.with_help(help));
        }
    }
}

// ---- structural lints ----------------------------------------------------------------------

/// `then`/`or`/`par` mixed without parentheses (on the AST, which keeps written grouping).
pub fn ambiguous_precedence(ast: &ast::Model, diags: &mut Vec<Diagnostic>) {
    fn visit(d: &ast::Def, diags: &mut Vec<Diagnostic>) {
        match &d.kind {
            DefKind::Group { inner, .. } => visit(inner, diags),
            _ => {
                let Some((op, l, r)) = d.as_binary() else { return };
                for operand in [l, r] {
                    if let Some((inner_op, _, _)) = operand.as_binary()
                        && inner_op != op
                    {
                        diags.push(
                                Diagnostic::new(
                                    &codes::AMBIGUOUS_PRECEDENCE,
                                    operand.span,
                                    format!("`{}` inside `{}` without parentheses", inner_op.keyword(), op.keyword()),
                                )
                                .with_label(format!("lcc reads this as one operand of `{}`", op.keyword()))
                                .with_help("lcc, like the OpenKnowledge kernel, binds `or` tighter than `par` tighter than `then`; LiJ and WebLCC read it the other way")
                                .with_fix(
                                    "add parentheses as lcc reads it",
                                    vec![
                                        TextEdit { span: Span { start: operand.span.start, end: operand.span.start }, replacement: "(".into() },
                                        TextEdit { span: Span { start: operand.span.end, end: operand.span.end }, replacement: ")".into() },
                                    ],
                                ),
                            );
                    }
                    visit(operand, diags);
                }
            }
        }
    }
    for item in &ast.items {
        if let ItemKind::Clause(ast::Clause { body: Some(body), .. }) = &item.kind {
            visit(body, diags);
        }
    }
}

/// Whether a definition's first step is always enabled (an unguarded `null` or role change).
fn always_enabled(n: &Node) -> bool {
    match &n.kind {
        NodeKind::Null { guard: None } | NodeKind::RoleChange { guard: None, .. } => true,
        NodeKind::Then(c) => c.first().is_some_and(always_enabled),
        NodeKind::Or(c) | NodeKind::Par(c) => c.iter().any(always_enabled),
        _ => false,
    }
}

/// `or` alternatives after one that is always enabled.
pub fn unreachable_alternatives(model: &Model, diags: &mut Vec<Diagnostic>) {
    for clause in &model.clauses {
        let Some(body) = &clause.body else { continue };
        walk(body, &mut |n| {
            let NodeKind::Or(alts) = &n.kind else { return };
            let mut pairs = alts.iter().zip(alts.iter().skip(1));
            if let Some((first, dead)) = pairs.find(|(a, _)| always_enabled(a)) {
                diags.push(
                    Diagnostic::new(
                        &codes::UNREACHABLE_ALTERNATIVE,
                        dead.span,
                        "this alternative can never be taken",
                    )
                    .with_label("never considered")
                    .with_secondary(
                        first.span,
                        "this earlier alternative is always enabled, and `or` commits to the first that is",
                    )
                    .with_help("move the always-enabled alternative last, or give it a guard"),
                );
            }
        });
    }
}
