//! A compact S-expression view of the AST, without spans and without grouping. Two sources
//! mean the same thing exactly when their S-expressions are equal: `then`/`or`/`par` are
//! associative (LCC.md section 3), so chains of one operator print flat, and parentheses,
//! which only group, are not printed.

use crate::ast::*;
use std::fmt::Write;

/// The whole model, one item per line.
pub fn model(model: &Model) -> String {
    let mut out = String::new();
    for item in &model.items {
        out.push_str(&self::item(item));
        out.push('\n');
    }
    out
}

pub fn item(item: &Item) -> String {
    let mut out = String::new();
    match &item.kind {
        ItemKind::Clause(clause) => {
            out.push_str("(clause ");
            agent(&mut out, &clause.head);
            if let Some(body) = &clause.body {
                out.push(' ');
                def_into(&mut out, body);
            }
            out.push(')');
        }
        ItemKind::RoleDecl(decl) => {
            out.push_str("(role ");
            term_into(&mut out, &decl.role);
            let _ = write!(out, " {}", decl.kind.name());
            for (n, _) in decl.min.iter().chain(decl.max.iter()) {
                let _ = write!(out, " {n}");
            }
            out.push(')');
        }
        ItemKind::Annotation(ann) => {
            out.push_str("(annotation ");
            annotation_arg(&mut out, &ann.target);
            out.push(' ');
            annotation_arg(&mut out, &ann.value);
            out.push(')');
        }
        ItemKind::Dialect(d) => {
            let _ = write!(out, "(dialect {:?})", d.kind);
        }
        ItemKind::Error => out.push_str("(error)"),
    }
    out
}

fn annotation_arg(out: &mut String, arg: &AnnotationArg) {
    match arg {
        AnnotationArg::Tagged { name, args, .. } => {
            let _ = write!(out, "(@{name}");
            for a in args {
                out.push(' ');
                annotation_arg(out, a);
            }
            out.push(')');
        }
        AnnotationArg::Term(t) => term_into(out, t),
    }
}

fn agent(out: &mut String, a: &Agent) {
    out.push_str("(a ");
    term_into(out, &a.role);
    out.push(' ');
    term_into(out, &a.id);
    out.push(')');
}

/// A definition as an S-expression.
pub fn def(d: &Def) -> String {
    let mut out = String::new();
    def_into(&mut out, d);
    out
}

fn collect_chain<'d>(d: &'d Def, op: DefOp, acc: &mut Vec<&'d Def>) {
    match d.ungrouped().as_binary() {
        Some((o, l, r)) if o == op => {
            collect_chain(l, op, acc);
            collect_chain(r, op, acc);
        }
        _ => acc.push(d.ungrouped()),
    }
}

fn def_into(out: &mut String, d: &Def) {
    let d = d.ungrouped();
    if let Some((op, _, _)) = d.as_binary() {
        let mut parts = Vec::new();
        collect_chain(d, op, &mut parts);
        out.push('(');
        out.push_str(op.keyword());
        for part in parts {
            out.push(' ');
            def_into(out, part);
        }
        out.push(')');
        return;
    }
    match &d.kind {
        DefKind::Event(e) => event(out, e),
        _ => out.push_str("(error)"),
    }
}

fn event(out: &mut String, e: &Event) {
    match &e.kind {
        EventKind::Send { message, to } => {
            out.push_str("(send ");
            term_into(out, message);
            out.push(' ');
            agent(out, to);
        }
        EventKind::Receive { message, from, .. } => {
            out.push_str("(recv ");
            term_into(out, message);
            out.push(' ');
            agent(out, from);
        }
        EventKind::Null { .. } => out.push_str("(null"),
        EventKind::RoleChange(a) => {
            out.push_str("(become ");
            agent(out, a);
        }
    }
    if let Some(g) = &e.guard {
        out.push_str(" <- ");
        constraint(out, &g.constraint);
    }
    out.push(')');
}

fn constraint(out: &mut String, c: &Constraint) {
    match &c.kind {
        ConstraintKind::And(a, b) => binary_c(out, "and", a, b),
        ConstraintKind::Or(a, b) => binary_c(out, "or", a, b),
        ConstraintKind::Not(a) => {
            out.push_str("(not ");
            constraint(out, a);
            out.push(')');
        }
        ConstraintKind::Call(t) => term_into(out, t),
        ConstraintKind::Compare { op, lhs, rhs } => {
            let _ = write!(out, "({} ", op.text());
            term_into(out, lhs);
            out.push(' ');
            term_into(out, rhs);
            out.push(')');
        }
        ConstraintKind::Is { lhs, rhs } => {
            out.push_str("(is ");
            term_into(out, lhs);
            out.push(' ');
            term_into(out, rhs);
            out.push(')');
        }
        ConstraintKind::Error => out.push_str("(error)"),
    }
}

fn binary_c(out: &mut String, op: &str, a: &Constraint, b: &Constraint) {
    let _ = write!(out, "({op} ");
    constraint(out, a);
    out.push(' ');
    constraint(out, b);
    out.push(')');
}

/// A term as an S-expression.
pub fn term(t: &Term) -> String {
    let mut out = String::new();
    term_into(&mut out, t);
    out
}

fn term_into(out: &mut String, t: &Term) {
    match &t.kind {
        TermKind::Var(v) => out.push_str(v),
        TermKind::Anon => out.push('_'),
        TermKind::Atom(a) => {
            let _ = write!(out, "{}", crate::format::atom_text(a));
        }
        TermKind::Int(n) => {
            let _ = write!(out, "{n}");
        }
        TermKind::Float { value, .. } => {
            let _ = write!(out, "{value:?}");
        }
        TermKind::Str(s) => {
            let _ = write!(out, "{s:?}");
        }
        TermKind::Compound { functor, args } => {
            // `f()` is the atom `f` (LCC.md section 2).
            let _ = write!(out, "{}", crate::format::atom_text(functor));
            if !args.is_empty() {
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    term_into(out, a);
                }
                out.push(')');
            }
        }
        TermKind::List { items, tail } => {
            out.push('[');
            for (i, a) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                term_into(out, a);
            }
            if let Some(tail) = tail {
                out.push_str(" | ");
                term_into(out, tail);
            }
            out.push(']');
        }
        TermKind::Arith { op, lhs, rhs } => {
            let _ = write!(out, "({} ", op.text());
            term_into(out, lhs);
            out.push(' ');
            term_into(out, rhs);
            out.push(')');
        }
        TermKind::Neg(inner) => {
            out.push_str("(- ");
            term_into(out, inner);
            out.push(')');
        }
        TermKind::Error => out.push_str("(error)"),
    }
}
