//! Lowering: AST -> IR. Resolves role references and variables, classifies constraints, and
//! reports the resolution errors (undefined role, arity, foreign role change, duplicate clause,
//! built-in arity) and the declaration warnings.

use crate::codes;
use crate::ir::*;
use lcc_syntax::ast::{self, DefKind, EventKind, ItemKind, TermKind};
use lcc_syntax::diagnostic::{Diagnostic, TextEdit};
use smol_str::SmolStr;
use std::collections::HashMap;

pub struct Lowered {
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn lower(source: &str, ast: &ast::Model) -> Lowered {
    let broken_roles = broken_roles(source, ast);
    let mut cx = Lowerer {
        source,
        diags: Vec::new(),
        model: Model::default(),
        role_index: HashMap::new(),
        arity_of: Vec::new(),
        head_role_span: Vec::new(),
        broken_roles,
    };
    cx.collect_roles(ast);
    cx.collect_declarations(ast);
    let annotations = total_constraints(ast);
    for (n, (item, clause)) in defining_clauses(ast).enumerate() {
        cx.lower_clause(ast, item, clause, ClauseId::from_index(n));
    }
    for sig in &mut cx.model.constraints {
        sig.total = annotations.iter().any(|(name, arity)| *name == sig.name && *arity == sig.arity);
    }
    Lowered { model: cx.model, diagnostics: cx.diags }
}

/// The clauses that define roles, in order: their `ClauseId` is their position here. A clause
/// with no body (the xlcc role-instance fact) defines nothing, and neither does a head whose
/// role is not an atom or compound (reported).
fn defining_clauses(ast: &ast::Model) -> impl Iterator<Item = (&ast::Item, &ast::Clause)> {
    ast.items.iter().filter_map(|item| match &item.kind {
        ItemKind::Clause(clause) if clause.body.is_some() && clause_role(clause).is_some() => {
            Some((item, clause))
        }
        _ => None,
    })
}

/// The role names of the items that failed to parse but start like a clause, `a(name`.
fn broken_roles(source: &str, ast: &ast::Model) -> Vec<SmolStr> {
    let mut out = Vec::new();
    for item in &ast.items {
        if !matches!(item.kind, ItemKind::Error) {
            continue;
        }
        let text = source.get(item.span.range()).unwrap_or("").trim_start();
        let Some(rest) = text.strip_prefix('a') else { continue };
        let Some(rest) = rest.trim_start().strip_prefix('(') else { continue };
        let rest = rest.trim_start();
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push(SmolStr::from(name));
        }
    }
    out
}

/// The role name and arguments of a clause head's role term, if it names a role.
fn clause_role(clause: &ast::Clause) -> Option<(&str, &[ast::Term])> {
    clause.head.role.functor()
}

/// External constraints marked total: `@annotation(@constraint(c(_)), total)`, also nested in
/// `@annotation(@role(r), …)`.
fn total_constraints(ast: &ast::Model) -> Vec<(SmolStr, usize)> {
    fn visit(target: &ast::AnnotationArg, value: &ast::AnnotationArg, out: &mut Vec<(SmolStr, usize)>) {
        if let ast::AnnotationArg::Tagged { name, args, .. } = target
            && name == "constraint"
        {
            let total = matches!(value, ast::AnnotationArg::Term(t)
                    if matches!(&t.kind, TermKind::Atom(a) if a == "total"));
            if let (true, Some(ast::AnnotationArg::Term(term))) = (total, args.first())
                && let Some((f, a)) = term.functor()
            {
                out.push((f.into(), a.len()));
            }
        }
        if let ast::AnnotationArg::Tagged { name, args, .. } = value
            && let ("annotation", [t, v]) = (name.as_str(), args.as_slice())
        {
            visit(t, v, out);
        }
    }
    let mut out = Vec::new();
    for item in &ast.items {
        if let ItemKind::Annotation(a) = &item.kind {
            visit(&a.target, &a.value, &mut out);
        }
    }
    out
}

struct Lowerer<'a> {
    source: &'a str,
    diags: Vec<Diagnostic>,
    model: Model,
    role_index: HashMap<SmolStr, RoleId>,
    /// Arity of every clause, by `ClauseId` (known before the clauses are lowered).
    arity_of: Vec<usize>,
    /// The span of the role term in every clause's head, by `ClauseId`.
    head_role_span: Vec<ast::Span>,
    /// Role names of clauses that failed to parse (`a(name…` at the start of an error item):
    /// references to them are not reported as undefined.
    broken_roles: Vec<SmolStr>,
}

/// Edit distance, for "did you mean".
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

impl Lowerer<'_> {
    fn text(&self, span: ast::Span) -> &str {
        self.source.get(span.range()).unwrap_or("")
    }

    fn collect_roles(&mut self, ast: &ast::Model) {
        let mut seen: HashMap<(SmolStr, usize), ast::Span> = HashMap::new();
        let mut arities: HashMap<SmolStr, (usize, ast::Span)> = HashMap::new();
        for item in &ast.items {
            let ItemKind::Clause(clause) = &item.kind else { continue };
            if clause_role(clause).is_none() {
                self.diags.push(
                    Diagnostic::new(
                        &codes::BAD_ROLE_TERM,
                        clause.head.role.span,
                        "a role must be an atom or a compound term",
                    )
                    .with_label("this cannot name a role")
                    .with_help(
                        "write the role's name, e.g. `a(buyer, B) :: …` or `a(overloaded(Need), P) :: …`",
                    ),
                );
            }
        }
        for (n, (_, clause)) in defining_clauses(ast).enumerate() {
            let Some((name, args)) = clause_role(clause) else { continue };
            let id = ClauseId::from_index(n);
            self.arity_of.push(args.len());
            self.head_role_span.push(clause.head.role.span);
            let key: SmolStr = name.into();
            if let Some(first) = seen.get(&(key.clone(), args.len())) {
                self.diags.push(
                    Diagnostic::new(
                        &codes::DUPLICATE_CLAUSE,
                        clause.head.span,
                        format!("role `{name}` is defined twice"),
                    )
                    .with_label("second clause for this role")
                    .with_secondary(*first, "first defined here")
                    .with_help("a role has one clause: combine the definitions with `or`"),
                );
            } else {
                seen.insert((key.clone(), args.len()), clause.head.span);
            }
            match arities.get(&key) {
                Some((arity, first)) if *arity != args.len() => {
                    self.diags.push(
                        Diagnostic::new(
                            &codes::ROLE_OVERLOADED,
                            clause.head.role.span,
                            format!(
                                "role `{name}` is defined with {} and with {} arguments",
                                arity,
                                args.len()
                            ),
                        )
                        .with_label("another clause of the same role name")
                        .with_secondary(*first, "first defined here")
                        .with_help("in LCC a role is identified by its name; rename one of the two roles"),
                    );
                }
                Some(_) => {}
                None => {
                    arities.insert(key.clone(), (args.len(), clause.head.role.span));
                }
            }
            let role = self.role_id(&key);
            if let Some(r) = self.model.roles.get_mut(role.index()) {
                r.clauses.push(id);
            }
        }
    }

    fn role_id(&mut self, name: &SmolStr) -> RoleId {
        if let Some(id) = self.role_index.get(name) {
            return *id;
        }
        let id = RoleId::from_index(self.model.roles.len());
        self.model.roles.push(Role { name: name.clone(), clauses: Vec::new(), declaration: None });
        self.role_index.insert(name.clone(), id);
        id
    }

    fn collect_declarations(&mut self, ast: &ast::Model) {
        let mut any = false;
        for item in &ast.items {
            let ItemKind::RoleDecl(decl) = &item.kind else { continue };
            any = true;
            let Some((name, _)) = decl.role.functor() else { continue };
            let declaration = Declaration {
                kind: decl.kind,
                min: decl.min.map(|(n, _)| n),
                max: decl.max.map(|(n, _)| n),
                span: item.span,
            };
            match self.role_index.get(name).copied() {
                Some(id) => {
                    if let Some(role) = self.model.roles.get_mut(id.index())
                        && role.declaration.is_none()
                    {
                        role.declaration = Some(declaration);
                    }
                }
                None if self.broken_roles.iter().any(|b| b == name) => {}
                None => self.diags.push(
                    Diagnostic::new(
                        &codes::ROLE_WITHOUT_CLAUSE,
                        decl.role.span,
                        format!("role `{name}` is declared but has no clause"),
                    )
                    .with_label("no clause `a(…, Id) :: …` defines this role")
                    .with_help("add the role's clause, or remove the declaration"),
                ),
            }
        }
        if any {
            // New declarations go after the last one, in its style.
            let last = ast.items.iter().rev().find(|i| matches!(i.kind, ItemKind::RoleDecl(_)));
            let last_span = last.map(|i| i.span);
            let (insert, dot) = match last {
                Some(item) => (
                    ast::Span::new(item.span.end as usize, item.span.end as usize),
                    if item.terminated { "." } else { "" },
                ),
                None => (ast::Span::default(), ""),
            };
            let mut reported: Vec<&str> = Vec::new();
            for (_, clause) in defining_clauses(ast) {
                let Some((name, _)) = clause_role(clause) else { continue };
                let declared = self
                    .role_index
                    .get(name)
                    .and_then(|id| self.model.roles.get(id.index()))
                    .is_some_and(|r| r.declaration.is_some());
                if !declared && !reported.contains(&name) {
                    reported.push(name);
                    let mut diag = Diagnostic::new(
                        &codes::UNDECLARED_ROLE,
                        clause.head.role.span,
                        format!("role `{name}` has no declaration"),
                    )
                    .with_label("no `r(…)` declares this role");
                    if let Some(at) = last_span {
                        diag =
                            diag.with_secondary(at, "the other roles of this model are declared with r(…)");
                    }
                    self.diags.push(
                        diag
                            .with_help("declare it: `initial` or `necessary` to start peers in it, `auxiliary` if peers only change into it")
                            .with_fix(
                                format!("declare `{name}` as auxiliary"),
                                vec![TextEdit { span: insert, replacement: format!("\nr({name}, auxiliary){dot}") }],
                            ),
                    );
                }
            }
        }
    }

    fn lower_clause(&mut self, ast: &ast::Model, item: &ast::Item, clause: &ast::Clause, id: ClauseId) {
        let Some((name, params)) = clause_role(clause) else { return };
        let role = self.role_id(&name.into());
        let mut scope = Scope::default();
        let params: Vec<Term> = params.iter().map(|p| scope.term(p)).collect();
        let self_id = scope.term(&clause.head.id);
        let doc = ast
            .comments
            .iter()
            .rev()
            .find(|c| c.span.end <= item.span.start && c.is_doc())
            .filter(|c| self.text(ast::Span { start: c.span.end, end: item.span.start }).trim().is_empty())
            .map(|c| c.text.clone());
        let mut clause_ir = Clause {
            role,
            params,
            self_id,
            head_span: clause.head.span,
            span: item.span,
            body: None,
            vars: Vec::new(),
            doc,
        };
        let body = clause.body.as_ref().map(|def| self.lower_def(def, &mut scope, &clause_ir, id, true));
        clause_ir.body = body;
        clause_ir.vars = scope.vars;
        self.model.clauses.push(clause_ir);
    }

    fn lower_def(
        &mut self,
        def: &ast::Def,
        scope: &mut Scope,
        clause: &Clause,
        id: ClauseId,
        tail: bool,
    ) -> Node {
        let def = def.ungrouped();
        if let Some((op, _, _)) = def.as_binary() {
            let mut parts = Vec::new();
            collect_chain(def, op, &mut parts);
            let last = parts.len().saturating_sub(1);
            let children: Vec<Node> = parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| {
                    let child_tail = match op {
                        ast::DefOp::Then => tail && i == last,
                        ast::DefOp::Or => tail,
                        ast::DefOp::Par => false,
                    };
                    self.lower_def(part, scope, clause, id, child_tail)
                })
                .collect();
            let kind = match op {
                ast::DefOp::Then => NodeKind::Then(children),
                ast::DefOp::Or => NodeKind::Or(children),
                ast::DefOp::Par => NodeKind::Par(children),
            };
            return Node { kind, span: def.span };
        }
        let DefKind::Event(event) = &def.kind else {
            return Node { kind: NodeKind::Error, span: def.span };
        };
        let kind = match &event.kind {
            EventKind::Send { message, to } => {
                let guard = self.lower_guard(event.guard.as_ref(), scope, id);
                let message = scope.term(message);
                let to = self.agent_ref(to, scope);
                NodeKind::Send { message, to, guard, message_id: None }
            }
            EventKind::Receive { message, from, guard_first } => {
                let message = scope.term(message);
                let from = self.agent_ref(from, scope);
                let guard = self.lower_guard(event.guard.as_ref(), scope, id);
                NodeKind::Receive { message, from, guard, guard_first: *guard_first, message_id: None }
            }
            EventKind::Null { .. } => {
                NodeKind::Null { guard: self.lower_guard(event.guard.as_ref(), scope, id) }
            }
            EventKind::RoleChange(agent) => {
                let guard = self.lower_guard(event.guard.as_ref(), scope, id);
                let target = self.agent_ref(agent, scope);
                self.check_own_id(agent, &target, clause);
                NodeKind::RoleChange { target, guard, tail }
            }
        };
        Node { kind, span: event.span }
    }

    /// A role change must keep the clause's own peer id.
    fn check_own_id(&mut self, agent: &ast::Agent, target: &AgentRef, clause: &Clause) {
        let same = match (&target.id, &clause.self_id) {
            // `_` names no peer, and a head with `_` as its id gives nothing to compare with.
            (Term::Anon(_) | Term::Error(_), _) | (_, Term::Anon(_) | Term::Error(_)) => true,
            (Term::Var(a, _), Term::Var(b, _)) => a == b,
            (a, b) => crate::analysis::same_term(a, b),
        };
        if same {
            return;
        }
        let own = self.text(clause.self_id.span()).to_string();
        let written = self.text(agent.id.span).to_string();
        self.diags.push(
            Diagnostic::new(
                &codes::FOREIGN_ROLE_CHANGE,
                agent.id.span,
                format!("role change names peer `{written}`, but this clause runs as `{own}`"),
            )
            .with_label(format!("should be `{own}`, this clause's own id"))
            .with_secondary(clause.self_id.span(), "the clause's own id")
            .with_help(
                "a role change changes the role of the peer running this clause; it cannot move another peer",
            )
            .with_fix(
                format!("use the clause's own id `{own}`"),
                vec![TextEdit { span: agent.id.span, replacement: own.clone() }],
            ),
        );
    }

    fn agent_ref(&mut self, agent: &ast::Agent, scope: &mut Scope) -> AgentRef {
        let id = scope.term(&agent.id);
        let Some((name, args)) = agent.role.functor() else {
            self.diags.push(
                Diagnostic::new(
                    &codes::BAD_ROLE_TERM,
                    agent.role.span,
                    "a role must be an atom or a compound term",
                )
                .with_label("this cannot name a role")
                .with_help("name the role, e.g. `a(buyer, B)`"),
            );
            // `a(Server, S)` where a role `server` exists: the capital was the slip.
            if let ast::TermKind::Var(var) = &agent.role.kind {
                let lower: String = var
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if i == 0 { c.to_ascii_lowercase() } else { c })
                    .collect();
                let defined =
                    self.role_index.get(lower.as_str()).and_then(|r| self.model.roles.get(r.index()));
                if let (Some(role), Some(diag)) =
                    (defined.filter(|r| !r.clauses.is_empty()), self.diags.last_mut())
                {
                    let name = role.name.clone();
                    *diag = diag
                        .clone()
                        .with_help(format!(
                            "a name that starts with a capital is a variable; the role is `{name}`"
                        ))
                        .with_fix(
                            format!("rename to `{name}`"),
                            vec![TextEdit { span: agent.role.span, replacement: name.to_string() }],
                        );
                }
            }
            return AgentRef {
                role: None,
                role_name: SmolStr::default(),
                args: Vec::new(),
                id,
                span: agent.span,
                role_span: agent.role.span,
            };
        };
        let args: Vec<Term> = args.iter().map(|a| scope.term(a)).collect();
        // The role's name as written (a quoted atom spans its quotes).
        let start = agent.role.span.start as usize;
        let name_span = match self.source.get(start..) {
            Some(rest) if rest.starts_with(name) => ast::Span::new(start, start + name.len()),
            _ => agent.role.span,
        };
        let role = self.role_index.get(name).copied();
        match role.and_then(|r| self.model.roles.get(r.index())) {
            None if self.broken_roles.iter().any(|b| b == name) => {
                // Its clause could not be parsed: a syntax error is reported there.
            }
            None => {
                // A suggestion only when one defined role is clearly the closest.
                let mut close: Vec<(usize, SmolStr)> = self
                    .model
                    .roles
                    .iter()
                    .filter(|r| !r.clauses.is_empty())
                    .map(|r| (distance(name, &r.name), r.name.clone()))
                    .filter(|(d, _)| {
                        *d > 0 && *d < name.chars().count() && *d <= (name.chars().count() / 3).max(1)
                    })
                    .collect();
                close.sort();
                let best = match close.as_slice() {
                    [(d, n), rest @ ..] if rest.first().is_none_or(|(e, _)| e > d) => Some((*d, n.clone())),
                    _ => None,
                };
                let defined_at = best.as_ref().and_then(|(_, n)| {
                    let role = self.role_index.get(n).and_then(|r| self.model.roles.get(r.index()))?;
                    role.clauses.first().and_then(|c| self.head_role_span.get(c.index())).copied()
                });
                let mut diag = Diagnostic::new(
                    &codes::UNDEFINED_ROLE,
                    name_span,
                    format!("role `{name}` is not defined"),
                )
                .with_label("no clause `a(…, Id) :: …` defines this role");
                if let (Some(at), Some((_, suggestion))) = (defined_at, &best) {
                    diag = diag.with_secondary(at, format!("`{suggestion}` is defined here"));
                }
                diag = match best {
                    Some((_, suggestion)) => {
                        diag.with_help(format!("did you mean `{suggestion}`?")).with_fix(
                            format!("rename to `{suggestion}`"),
                            vec![TextEdit { span: name_span, replacement: suggestion.to_string() }],
                        )
                    }
                    None => diag.with_help("add a clause for this role, or name a defined role"),
                };
                self.diags.push(diag);
            }
            Some(r) => {
                let mut arities: Vec<usize> =
                    r.clauses.iter().filter_map(|c| self.clause_arity(*c)).collect();
                arities.sort_unstable();
                arities.dedup();
                if !args.is_empty() && !arities.is_empty() && !arities.contains(&args.len()) {
                    let expected = arities.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" or ");
                    let plural = |n: usize| if n == 1 { "" } else { "s" };
                    let expected_s = plural(arities.last().copied().unwrap_or(0));
                    let mut diag = Diagnostic::new(
                        &codes::ROLE_ARITY,
                        agent.role.span,
                        format!("role `{name}` takes {expected} argument{expected_s}, not {}", args.len()),
                    )
                    .with_label(format!("{} argument{}", args.len(), plural(args.len())));
                    for c in &r.clauses {
                        if let (Some(at), Some(n)) =
                            (self.head_role_span.get(c.index()), self.clause_arity(*c))
                        {
                            diag = diag
                                .with_secondary(*at, format!("the clause takes {n} argument{}", plural(n)));
                        }
                    }
                    self.diags.push(diag.with_help(format!(
                        "write `a({name}, Id)` to refer to any peer in the role, or give it {expected} argument{expected_s}"
                    )));
                }
            }
        }
        AgentRef { role, role_name: name.into(), args, id, span: agent.span, role_span: agent.role.span }
    }

    fn clause_arity(&self, clause: ClauseId) -> Option<usize> {
        self.arity_of.get(clause.index()).copied()
    }

    fn lower_guard(
        &mut self,
        guard: Option<&ast::Guard>,
        scope: &mut Scope,
        clause: ClauseId,
    ) -> Option<Cond> {
        guard.map(|g| self.lower_cond(&g.constraint, scope, clause))
    }

    fn lower_cond(&mut self, c: &ast::Constraint, scope: &mut Scope, clause: ClauseId) -> Cond {
        use ast::ConstraintKind as K;
        match &c.kind {
            K::And(..) | K::Or(..) => {
                let is_and = matches!(c.kind, K::And(..));
                let mut parts = Vec::new();
                flatten_cond(c, is_and, &mut parts);
                let parts = parts.into_iter().map(|p| self.lower_cond(p, scope, clause)).collect();
                if is_and { Cond::And(parts, c.span) } else { Cond::Or(parts, c.span) }
            }
            K::Not(inner) => Cond::Not(Box::new(self.lower_cond(inner, scope, clause)), c.span),
            K::Compare { op, lhs, rhs } => {
                Cond::Compare { op: *op, lhs: scope.term(lhs), rhs: scope.term(rhs), span: c.span }
            }
            K::Is { lhs, rhs } => Cond::Is { lhs: scope.term(lhs), rhs: scope.term(rhs), span: c.span },
            K::Call(term) => {
                let Some((name, args)) = term.functor() else { return Cond::Error(c.span) };
                let args: Vec<Term> = args.iter().map(|a| scope.term(a)).collect();
                if let Some(builtin) = Builtin::by_name(name) {
                    if builtin.arity() == args.len() {
                        return Cond::Builtin { builtin, args, span: c.span };
                    }
                    self.diags.push(
                        Diagnostic::new(
                            &codes::BUILTIN_ARITY,
                            term.span,
                            format!(
                                "built-in `{name}` takes {} arguments, not {}",
                                builtin.arity(),
                                args.len()
                            ),
                        )
                        .with_label(format!("{name}/{} is the built-in", builtin.arity()))
                        .with_help(format!(
                            "{}; an external constraint needs a name that is not a built-in's",
                            match builtin {
                                Builtin::Member => "call it as `member(Element, List)`",
                                Builtin::Append => "call it as `append(Front, Back, Whole)`",
                                Builtin::Length => "call it as `length(List, Length)`",
                                Builtin::Nth0 => "call it as `nth0(Index, List, Element)`, counting from 0",
                                Builtin::Nth1 => "call it as `nth1(Index, List, Element)`, counting from 1",
                            }
                        )),
                    );
                    return Cond::Error(c.span);
                }
                let constraint = self.constraint_id(name, args.len());
                if let Some(sig) = self.model.constraints.get_mut(constraint.index()) {
                    sig.calls.push(MessageSite { clause, span: c.span });
                }
                Cond::External { constraint, args, span: c.span }
            }
            K::Error => Cond::Error(c.span),
        }
    }

    fn constraint_id(&mut self, name: &str, arity: usize) -> ConstraintId {
        if let Some(i) = self.model.constraints.iter().position(|s| s.name == name && s.arity == arity) {
            return ConstraintId::from_index(i);
        }
        self.model.constraints.push(ConstraintSig {
            name: name.into(),
            arity,
            arg_sorts: vec![Sort::Unknown; arity],
            total: false,
            calls: Vec::new(),
        });
        ConstraintId::from_index(self.model.constraints.len() - 1)
    }
}

fn collect_chain<'d>(d: &'d ast::Def, op: ast::DefOp, acc: &mut Vec<&'d ast::Def>) {
    match d.ungrouped().as_binary() {
        Some((o, l, r)) if o == op => {
            collect_chain(l, op, acc);
            collect_chain(r, op, acc);
        }
        _ => acc.push(d.ungrouped()),
    }
}

fn flatten_cond<'c>(c: &'c ast::Constraint, and: bool, out: &mut Vec<&'c ast::Constraint>) {
    use ast::ConstraintKind as K;
    match (&c.kind, and) {
        (K::And(a, b), true) | (K::Or(a, b), false) => {
            flatten_cond(a, and, out);
            flatten_cond(b, and, out);
        }
        _ => out.push(c),
    }
}

/// The variables of one clause.
#[derive(Default)]
struct Scope {
    vars: Vec<Variable>,
    by_name: HashMap<SmolStr, VarId>,
}

impl Scope {
    /// Lowers a term, registering its variables (binding sites are set by the binding analysis).
    fn term(&mut self, t: &ast::Term) -> Term {
        let span = t.span;
        match &t.kind {
            TermKind::Var(name) => {
                let id = match self.by_name.get(name) {
                    Some(id) => *id,
                    None => {
                        let id = VarId::from_index(self.vars.len());
                        self.vars.push(Variable {
                            name: name.clone(),
                            binding: span,
                            occurrences: Vec::new(),
                            sort: Sort::Unknown,
                        });
                        self.by_name.insert(name.clone(), id);
                        id
                    }
                };
                if let Some(var) = self.vars.get_mut(id.index()) {
                    var.occurrences.push(span);
                }
                Term::Var(id, span)
            }
            TermKind::Anon => Term::Anon(span),
            TermKind::Atom(a) => Term::Atom(a.clone(), span),
            TermKind::Int(n) => Term::Int(*n, span),
            TermKind::Float { value, .. } => Term::Float(*value, span),
            TermKind::Str(s) => Term::Str(s.clone(), span),
            TermKind::Compound { functor, args } => {
                let args: Vec<Term> = args.iter().map(|a| self.term(a)).collect();
                if args.is_empty() {
                    Term::Atom(functor.clone(), span)
                } else {
                    Term::Compound { functor: functor.clone(), args, span }
                }
            }
            TermKind::List { items, tail } => Term::List {
                items: items.iter().map(|i| self.term(i)).collect(),
                tail: tail.as_ref().map(|t| Box::new(self.term(t))),
                span,
            },
            TermKind::Arith { op, lhs, rhs } => {
                Term::Arith { op: *op, lhs: Box::new(self.term(lhs)), rhs: Box::new(self.term(rhs)), span }
            }
            TermKind::Neg(inner) => Term::Neg(Box::new(self.term(inner)), span),
            TermKind::Error => Term::Error(span),
        }
    }
}
