//! Analyses over the IR: variable binding (unbound and singleton variables, binding sites),
//! sort inference, message signatures and matching, and the structural lints.

use crate::codes;
use crate::ir::*;
use lcc_syntax::ast::{self, CmpOp, DefKind, ItemKind, Span};
use lcc_syntax::diagnostic::{Diagnostic, TextEdit};
use smol_str::SmolStr;
use std::collections::HashMap;

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

/// Runs the binding analysis of every clause: reports unbound and singleton variables and
/// records each variable's binding site.
pub fn bindings(model: &mut Model, source: &str, diags: &mut Vec<Diagnostic>) {
    for clause in &mut model.clauses {
        let mut binder = Binder {
            bound: vec![false; clause.vars.len()],
            first_bind: vec![None; clause.vars.len()],
            reported: vec![false; clause.vars.len()],
            vars: &clause.vars,
            diags,
            source,
        };
        let mut bound = vec![false; clause.vars.len()];
        for p in &clause.params {
            binder.bind_term(p, &mut bound);
        }
        binder.bind_term(&clause.self_id, &mut bound);
        if let Some(body) = &clause.body {
            binder.node(body, &mut bound);
        }
        let first_bind = std::mem::take(&mut binder.first_bind);
        for (var, site) in clause.vars.iter_mut().zip(first_bind) {
            if let Some(site) = site {
                var.binding = site;
            }
        }
        let self_var = clause.self_var();
        for (i, var) in clause.vars.iter().enumerate() {
            if var.name.starts_with('_') || var.occurrences.len() != 1 || self_var == Some(VarId::from_index(i)) {
                continue;
            }
            diags.push(
                Diagnostic::new(&codes::SINGLETON_VARIABLE, var.binding, format!("variable `{}` occurs only once", var.name))
                    .with_label("never used anywhere else in this clause")
                    .with_help(format!("if it is meant to be ignored, name it `_{}` or `_`; otherwise check for a typo", var.name))
                    .with_fix(
                        format!("rename it to `_{}`", var.name),
                        vec![TextEdit { span: var.binding, replacement: format!("_{}", var.name) }],
                    ),
            );
        }
    }
}

struct Binder<'a> {
    bound: Vec<bool>,
    first_bind: Vec<Option<Span>>,
    reported: Vec<bool>,
    vars: &'a [Variable],
    diags: &'a mut Vec<Diagnostic>,
    source: &'a str,
}

fn vars_of(t: &Term) -> Vec<(VarId, Span)> {
    let mut out = Vec::new();
    t.vars(&mut out);
    out
}

fn is_bound(bound: &[bool], v: VarId) -> bool {
    bound.get(v.index()).copied().unwrap_or(true)
}

impl Binder<'_> {
    fn bind(&mut self, v: VarId, span: Span, bound: &mut [bool]) {
        if let Some(b) = bound.get_mut(v.index()) {
            *b = true;
        }
        if let Some(site) = self.first_bind.get_mut(v.index()) {
            site.get_or_insert(span);
        }
        let _ = &self.bound;
    }

    fn bind_term(&mut self, t: &Term, bound: &mut [bool]) {
        for (v, s) in vars_of(t) {
            self.bind(v, s, bound);
        }
    }

    /// Reports every variable of `t` that has no value yet.
    fn need(&mut self, t: &Term, bound: &[bool], what: &str) {
        for (v, span) in vars_of(t) {
            if is_bound(bound, v) || self.reported.get(v.index()).copied().unwrap_or(true) {
                continue;
            }
            if let Some(r) = self.reported.get_mut(v.index()) {
                *r = true;
            }
            let name = self.vars.get(v.index()).map(|v| v.name.clone()).unwrap_or_default();
            let _ = self.source;
            self.diags.push(
                Diagnostic::new(&codes::UNBOUND_VARIABLE, span, format!("`{name}` has no value where {what}"))
                    .with_label(format!("`{name}` is still unbound here"))
                    .with_help(format!(
                        "bind `{name}` before this point: receive it in a message, take it from the clause head, \
                         or compute it in a guard (e.g. `<- choose({name})`)"
                    )),
            );
        }
    }

    fn node(&mut self, n: &Node, bound: &mut Vec<bool>) {
        match &n.kind {
            NodeKind::Send { message, to, guard, .. } => {
                if let Some(g) = guard {
                    self.cond(g, bound);
                }
                self.need(message, bound, "it is sent in a message");
                self.bind_term(&to.id, bound);
                for a in &to.args {
                    self.bind_term(a, bound);
                }
            }
            NodeKind::Receive { message, from, guard, .. } => {
                self.bind_term(message, bound);
                self.bind_term(&from.id, bound);
                for a in &from.args {
                    self.bind_term(a, bound);
                }
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
            }
            NodeKind::Then(children) => {
                for c in children {
                    self.node(c, bound);
                }
            }
            NodeKind::Or(children) => {
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
                let mut b = bound.clone();
                self.cond(inner, &mut b);
            }
            Cond::Compare { op: CmpOp::Unify, lhs, rhs, .. } => {
                self.bind_term(lhs, bound);
                self.bind_term(rhs, bound);
            }
            Cond::Compare { op, lhs, rhs, .. } => {
                let what = format!("`{}` compares it", op.text());
                self.need(lhs, bound, &what);
                self.need(rhs, bound, &what);
            }
            Cond::Is { lhs, rhs, .. } => {
                self.need(rhs, bound, "`is` evaluates it");
                self.bind_term(lhs, bound);
            }
            Cond::Builtin { builtin, args, .. } => {
                let ground = |t: &Term, b: &[bool]| vars_of(t).iter().all(|(v, _)| is_bound(b, *v));
                match (builtin, args.as_slice()) {
                    (Builtin::Member | Builtin::Nth0 | Builtin::Nth1, [_, list, ..]) => {
                        self.need(list, bound, &format!("`{}` needs the list", builtin.name()));
                    }
                    (Builtin::Append, [a, b, c]) => {
                        if !(ground(a, bound) && ground(b, bound)) && !ground(c, bound) {
                            self.need(c, bound, "`append` needs the first two lists or the whole list");
                        }
                    }
                    (Builtin::Length, [list, n]) => {
                        if !ground(list, bound) && !ground(n, bound) {
                            self.need(list, bound, "`length` needs the list or the length");
                        }
                    }
                    _ => {}
                }
                for a in args {
                    self.bind_term(a, bound);
                }
            }
            Cond::External { args, .. } => {
                for a in args {
                    self.bind_term(a, bound);
                }
            }
            Cond::Error(_) => {}
        }
    }
}

// ---- sorts and messages ----------------------------------------------------------------------

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

fn set_sort(vars: &mut [Variable], t: &Term, sort: &Sort, changed: &mut bool) {
    if let Term::Var(v, _) = t {
        if let Some(var) = vars.get_mut(v.index()) {
            let joined = var.sort.join(sort);
            if joined != var.sort {
                var.sort = joined;
                *changed = true;
            }
        }
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

/// Infers variable sorts (fixpoint over guards and message signatures), builds the message and
/// constraint signatures, and reports messages that can never be received or sent.
pub fn messages(model: &mut Model, diags: &mut Vec<Diagnostic>) {
    // Peer ids.
    for clause in &mut model.clauses {
        let mut ids = vec![clause.self_id.clone()];
        if let Some(body) = &clause.body {
            walk(body, &mut |n| match &n.kind {
                NodeKind::Send { to: a, .. } | NodeKind::Receive { from: a, .. } | NodeKind::RoleChange { target: a, .. } => {
                    ids.push(a.id.clone())
                }
                _ => {}
            });
        }
        let mut changed = false;
        for id in ids {
            set_sort(&mut clause.vars, &id, &Sort::PeerId, &mut changed);
        }
    }
    for _round in 0..8 {
        let mut changed = false;
        // Local evidence from guards.
        for clause in &mut model.clauses {
            let Some(body) = clause.body.take() else { continue };
            walk(&body, &mut |n| {
                let Some(g) = node_guard(n) else { return };
                conds(g, &mut |c| match c {
                    Cond::Compare { op: CmpOp::Unify, lhs, rhs, .. } => {
                        let (ls, rs) = (term_sort(lhs, &clause.vars), term_sort(rhs, &clause.vars));
                        set_sort(&mut clause.vars, lhs, &rs, &mut changed);
                        set_sort(&mut clause.vars, rhs, &ls, &mut changed);
                    }
                    Cond::Compare { op, lhs, rhs, .. }
                        if matches!(op, CmpOp::Less | CmpOp::Greater | CmpOp::LessEq | CmpOp::GreaterEq | CmpOp::ArithEq | CmpOp::ArithNotEq) =>
                    {
                        set_sort(&mut clause.vars, lhs, &Sort::Number, &mut changed);
                        set_sort(&mut clause.vars, rhs, &Sort::Number, &mut changed);
                    }
                    Cond::Is { lhs, .. } => set_sort(&mut clause.vars, lhs, &Sort::Number, &mut changed),
                    Cond::Builtin { builtin: Builtin::Member, args, .. } => {
                        if let [x, list] = args.as_slice() {
                            if let Sort::List(elem) = term_sort(list, &clause.vars) {
                                set_sort(&mut clause.vars, x, &elem, &mut changed);
                            }
                        }
                    }
                    Cond::Builtin { builtin: Builtin::Length, args, .. } => {
                        if let [list, n] = args.as_slice() {
                            set_sort(&mut clause.vars, list, &Sort::List(Box::new(Sort::Unknown)), &mut changed);
                            set_sort(&mut clause.vars, n, &Sort::Number, &mut changed);
                        }
                    }
                    _ => {}
                });
            });
            clause.body = Some(body);
        }
        // Evidence across roles: what is sent gives the sorts of what is received.
        let mut sent: HashMap<MessageKey, Vec<Sort>> = HashMap::new();
        for clause in &model.clauses {
            let Some(body) = &clause.body else { continue };
            walk(body, &mut |n| {
                if let NodeKind::Send { message, to, .. } = &n.kind {
                    if let (Some(receiver), Some((f, arity))) = (to.role, message.functor()) {
                        let sorts = message_arg_sorts(message, &clause.vars);
                        let entry = sent.entry((clause.role, receiver, f.into(), arity)).or_insert_with(|| vec![Sort::Unknown; arity]);
                        for (e, s) in entry.iter_mut().zip(&sorts) {
                            *e = e.join(s);
                        }
                    }
                }
            });
        }
        for clause in &mut model.clauses {
            let Some(body) = clause.body.take() else { continue };
            walk(&body, &mut |n| {
                if let NodeKind::Receive { message, from, .. } = &n.kind {
                    if let (Some(sender), Some((f, arity))) = (from.role, message.functor()) {
                        if let (Some(sorts), Term::Compound { args, .. }) = (sent.get(&(sender, clause.role, f.into(), arity)), message) {
                            for (arg, s) in args.iter().zip(sorts) {
                                set_sort(&mut clause.vars, arg, s, &mut changed);
                            }
                        }
                    }
                }
            });
            clause.body = Some(body);
        }
        if !changed {
            break;
        }
    }
    build_signatures(model, diags);
}

fn message_arg_sorts(message: &Term, vars: &[Variable]) -> Vec<Sort> {
    match message {
        Term::Compound { args, .. } => args.iter().map(|a| term_sort(a, vars)).collect(),
        _ => Vec::new(),
    }
}

fn build_signatures(model: &mut Model, diags: &mut Vec<Diagnostic>) {
    let mut sigs: Vec<MessageSig> = Vec::new();
    let mut index: HashMap<MessageKey, MessageId> = HashMap::new();
    let mut constraint_sorts: Vec<Vec<Sort>> = model.constraints.iter().map(|c| vec![Sort::Unknown; c.arity]).collect();
    for (ci, clause) in model.clauses.iter_mut().enumerate() {
        let clause_id = ClauseId::from_index(ci);
        let role = clause.role;
        let vars = clause.vars.clone();
        let Some(body) = &mut clause.body else { continue };
        walk_mut(body, &mut |n| {
            if let Some(g) = node_guard(n) {
                conds(g, &mut |c| {
                    if let Cond::External { constraint, args, .. } = c {
                        if let Some(sorts) = constraint_sorts.get_mut(constraint.index()) {
                            for (s, a) in sorts.iter_mut().zip(args) {
                                *s = s.join(&term_sort(a, &vars));
                            }
                        }
                    }
                });
            }
            let span = n.span;
            let (message, other, send, message_id) = match &mut n.kind {
                NodeKind::Send { message, to, message_id, .. } => (&*message, to.role, true, message_id),
                NodeKind::Receive { message, from, message_id, .. } => (&*message, from.role, false, message_id),
                _ => return,
            };
            let key = match (other, message.functor()) {
                (Some(other), Some((f, arity))) => {
                    let (sender, receiver) = if send { (role, other) } else { (other, role) };
                    Some((sender, receiver, SmolStr::from(f), arity))
                }
                _ => None,
            };
            if let Some(key) = &key {
                let id = *index.entry(key.clone()).or_insert_with(|| {
                    sigs.push(MessageSig {
                        sender: key.0,
                        receiver: key.1,
                        functor: key.2.clone(),
                        arity: key.3,
                        arg_sorts: vec![Sort::Unknown; key.3],
                        sends: Vec::new(),
                        receives: Vec::new(),
                    });
                    MessageId::from_index(sigs.len() - 1)
                });
                if let Some(sig) = sigs.get_mut(id.index()) {
                    for (s, arg) in sig.arg_sorts.iter_mut().zip(message_arg_sorts(message, &vars)) {
                        *s = s.join(&arg);
                    }
                    let site = MessageSite { clause: clause_id, span };
                    if send { sig.sends.push(site) } else { sig.receives.push(site) }
                }
                *message_id = Some(id);
            }
        });
    }
    for (sig, sorts) in model.constraints.iter_mut().zip(constraint_sorts) {
        sig.arg_sorts = sorts;
    }
    // Wildcard messages (a variable) match anything between the two roles.
    let wildcard = |sender: Option<RoleId>, receiver: Option<RoleId>, model: &Model| -> bool {
        model.clauses.iter().enumerate().any(|(_, c)| {
            c.body.as_ref().is_some_and(|b| {
                let mut found = false;
                walk(b, &mut |n| match &n.kind {
                    NodeKind::Send { message: Term::Var(..), to, .. } => {
                        found |= Some(c.role) == sender && to.role == receiver;
                    }
                    NodeKind::Receive { message: Term::Var(..), from, .. } => {
                        found |= Some(c.role) == receiver && from.role == sender;
                    }
                    _ => {}
                });
                found
            })
        })
    };
    for sig in &sigs {
        let role_name = |id: RoleId| model.role(id).map(|r| r.name.clone()).unwrap_or_default();
        if sig.receives.is_empty() && !wildcard(Some(sig.sender), Some(sig.receiver), model) {
            for send in &sig.sends {
                diags.push(
                    Diagnostic::new(
                        &codes::UNRECEIVABLE_MESSAGE,
                        send.span,
                        format!("`{}/{}` is sent to role `{}`, which never receives it from `{}`", sig.functor, sig.arity, role_name(sig.receiver), role_name(sig.sender)),
                    )
                    .with_label("no matching receive")
                    .with_help(format!(
                        "add `{}(…) <= a({}, Id)` to the clause of `{}`, or check the message's name and arity",
                        sig.functor,
                        role_name(sig.sender),
                        role_name(sig.receiver)
                    )),
                );
            }
        }
        if sig.sends.is_empty() && !wildcard(Some(sig.sender), Some(sig.receiver), model) {
            for recv in &sig.receives {
                diags.push(
                    Diagnostic::new(
                        &codes::UNSENT_MESSAGE,
                        recv.span,
                        format!("role `{}` never sends `{}/{}` to `{}`", role_name(sig.sender), sig.functor, sig.arity, role_name(sig.receiver)),
                    )
                    .with_label("this receive can never happen")
                    .with_help("a peer waiting here waits for ever; check the message's name and arity, or the sending role"),
                );
            }
        }
    }
    incompatible_pairs(model, &sigs, diags);
    model.messages = sigs;
}

/// Send/receive pairs of one signature whose argument sorts can never unify.
fn incompatible_pairs(model: &Model, sigs: &[MessageSig], diags: &mut Vec<Diagnostic>) {
    let arg_sorts_at = |site: &MessageSite| -> Vec<(Sort, Span)> {
        let Some(clause) = model.clause(site.clause) else { return Vec::new() };
        let mut out = Vec::new();
        if let Some(body) = &clause.body {
            walk(body, &mut |n| {
                if n.span != site.span {
                    return;
                }
                if let NodeKind::Send { message: Term::Compound { args, .. }, .. }
                | NodeKind::Receive { message: Term::Compound { args, .. }, .. } = &n.kind
                {
                    out = args.iter().map(|a| (term_sort(a, &clause.vars), a.span())).collect();
                }
            });
        }
        out
    };
    for sig in sigs {
        let receives: Vec<Vec<(Sort, Span)>> = sig.receives.iter().map(arg_sorts_at).collect();
        for send in &sig.sends {
            let sent = arg_sorts_at(send);
            let clash = |recv: &Vec<(Sort, Span)>| {
                sent.iter().zip(recv).find(|((a, _), (b, _))| !a.compatible(b)).map(|(x, y)| (x.clone(), y.clone()))
            };
            let clashes: Vec<_> = receives.iter().map(clash).collect();
            if clashes.is_empty() || clashes.iter().any(Option::is_none) {
                continue;
            }
            if let Some(Some(((sent_sort, sent_span), (recv_sort, recv_span)))) = clashes.first() {
                diags.push(
                    Diagnostic::new(
                        &codes::INCOMPATIBLE_MESSAGE,
                        *sent_span,
                        format!("`{}/{}` sends a {} where the receiver expects a {}", sig.functor, sig.arity, sent_sort.describe(), recv_sort.describe()),
                    )
                    .with_label(format!("a {}", sent_sort.describe()))
                    .with_secondary(*recv_span, format!("received as a {}: these never unify", recv_sort.describe()))
                    .with_help("strings and atoms are different values (\"ok\" is not ok); make both ends agree"),
                );
            }
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
                    if let Some((inner_op, _, _)) = operand.as_binary() {
                        if inner_op != op {
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
                    Diagnostic::new(&codes::UNREACHABLE_ALTERNATIVE, dead.span, "this alternative can never be taken")
                        .with_label("never considered")
                        .with_secondary(first.span, "this earlier alternative is always enabled, and `or` commits to the first that is")
                        .with_help("move the always-enabled alternative last, or give it a guard"),
                );
            }
        });
    }
}
