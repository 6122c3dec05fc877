//! The bytecode: each clause body of the typed IR flattened into one instruction array.
//! The instruction set is documented in `docs/runtime.md`; in short, control flow (`then`,
//! `or`, `par`) becomes jumps, choice points and forks, and each event is one instruction
//! whose operands (terms and guards) are compiled to [`Pat`] and [`Goal`] trees with
//! variables as slot numbers and constants as ready-made values.
//!
//! Compiling never fails: what the checker could not lower (an error node) becomes
//! [`Instr::Stuck`], an instruction that never executes, so that a model with errors still
//! runs up to the broken part (the CLI refuses such models before running them anyway).

use crate::value::Value;
use lcc_check::ir::{self, Builtin, Cond, NodeKind};
use lcc_syntax::ast::{ArithOp, CmpOp, Span};
use smol_str::SmolStr;

/// A compiled term: a pattern when unified, a value when instantiated.
#[derive(Clone, Debug, PartialEq)]
pub enum Pat {
    /// A variable: its slot in the clause's environment.
    Var(u32),
    /// `_` (and a term that could not be lowered).
    Anon,
    Const(Value),
    Compound(SmolStr, Box<[Pat]>),
    List(Box<[Pat]>, Option<Box<Pat>>),
    Arith(ArithOp, Box<Pat>, Box<Pat>),
    Neg(Box<Pat>),
}

/// A compiled guard.
#[derive(Clone, Debug, PartialEq)]
pub enum Goal {
    And(Box<[Goal]>),
    Or(Box<[Goal]>),
    Not(Box<Goal>),
    Compare(CmpOp, Pat, Pat),
    Is(Pat, Pat),
    Builtin(Builtin, Box<[Pat]>),
    /// An external constraint: its index in [`Program::constraints`].
    External(u32, Box<[Pat]>),
    /// A guard that could not be lowered: it never holds.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SendOp {
    pub message: Pat,
    /// Role functor of the receiver.
    pub role: SmolStr,
    pub id: Pat,
    /// `id` is a variable or `_`: the receiver may be discovered.
    pub guard: Option<Goal>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecvOp {
    pub message: Pat,
    /// Role functor of the sender.
    pub role: SmolStr,
    pub id: Pat,
    pub guard: Option<Goal>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BecomeOp {
    /// The target role, `None` when it is undefined (the checker reported it).
    pub role: Option<u32>,
    pub role_name: SmolStr,
    pub args: Box<[Pat]>,
    pub id: Pat,
    pub guard: Option<Goal>,
}

/// One instruction. Control falls through to the next one unless it says otherwise.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// `M => a(R, I) <- C`: solve C, then send M (discovering I when it is unbound).
    Send(Box<SendOp>),
    /// `M <= a(R, I) <- C`: take a matching message for which C holds, atomically.
    Recv(Box<RecvOp>),
    /// `null <- C`.
    Null(Option<Goal>),
    /// `a(R, Id) <- C`: run R's clause, then continue here (or nowhere: a tail call).
    Become(Box<BecomeOp>),
    /// `or`: committed choice between the alternatives starting at these addresses; each
    /// alternative ends with a jump past the last one.
    Choice(Box<[u32]>),
    /// `par`: run the branches starting at these addresses (each ends with `End`), then go on
    /// at `join`.
    Fork {
        branches: Box<[u32]>,
        join: u32,
    },
    Jump(u32),
    /// The end of a `par` branch, or of the clause.
    End,
    /// A part that could not be parsed: never executes.
    Stuck,
}

/// An external constraint the program calls.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintInfo {
    pub name: SmolStr,
    pub arity: usize,
    /// Marked `total` in the model: it never fails.
    pub total: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClauseCode {
    pub role: u32,
    pub role_name: SmolStr,
    pub params: Box<[Pat]>,
    pub self_id: Pat,
    pub var_names: Box<[SmolStr]>,
    /// Empty for a clause with no body (it cannot be entered).
    pub code: Vec<Instr>,
    /// Where each instruction comes from (its IR node).
    pub spans: Vec<Span>,
    pub head_span: Span,
}

impl ClauseCode {
    pub fn has_body(&self) -> bool {
        !self.code.is_empty()
    }
    pub fn instr(&self, pc: u32) -> Option<&Instr> {
        self.code.get(pc as usize)
    }
    pub fn span(&self, pc: u32) -> Span {
        self.spans.get(pc as usize).copied().unwrap_or(self.head_span)
    }

    /// The events that can start the code at `pc` (through jumps, forks and choices).
    pub fn first_events(&self, pc: u32, out: &mut Vec<u32>) {
        self.first_events_bounded(pc, out, 0);
    }
    fn first_events_bounded(&self, pc: u32, out: &mut Vec<u32>, depth: usize) {
        if depth > self.code.len() {
            return;
        }
        match self.instr(pc) {
            Some(Instr::Jump(t)) => self.first_events_bounded(*t, out, depth + 1),
            Some(Instr::Fork { branches: targets, .. } | Instr::Choice(targets)) => {
                for &t in targets.iter() {
                    self.first_events_bounded(t, out, depth + 1);
                }
            }
            Some(Instr::End) | None => {}
            Some(_) => out.push(pc),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RoleCode {
    pub name: SmolStr,
    pub clauses: Vec<u32>,
}

/// A compiled model.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub roles: Vec<RoleCode>,
    pub clauses: Vec<ClauseCode>,
    pub constraints: Vec<ConstraintInfo>,
}

impl Program {
    pub fn clause(&self, c: u32) -> Option<&ClauseCode> {
        self.clauses.get(c as usize)
    }
    pub fn role_named(&self, name: &str) -> Option<u32> {
        self.roles.iter().position(|r| r.name == name).and_then(|i| u32::try_from(i).ok())
    }

    /// The clause entered for role `role` with `arity` arguments: the one of that arity, or
    /// for `a(r, Id)` without arguments the first one (as the model checker does).
    pub fn clause_for(&self, role: u32, arity: usize) -> Option<u32> {
        let r = self.roles.get(role as usize)?;
        let with_body = |c: &&u32| self.clause(**c).is_some_and(ClauseCode::has_body);
        r.clauses
            .iter()
            .filter(with_body)
            .find(|&&c| self.clause(c).is_some_and(|c| c.params.len() == arity))
            .or_else(|| if arity == 0 { r.clauses.iter().find(with_body) } else { None })
            .copied()
    }

    /// Number of instructions over all clauses.
    pub fn len(&self) -> usize {
        self.clauses.iter().map(|c| c.code.len()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A listing of the bytecode (`lcc run --dump-bytecode`).
    pub fn disassemble(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for (i, c) in self.clauses.iter().enumerate() {
            let params: Vec<String> = c.params.iter().map(|p| show_pat(p, &c.var_names)).collect();
            let role = if params.is_empty() {
                c.role_name.to_string()
            } else {
                format!("{}({})", c.role_name, params.join(", "))
            };
            let _ = writeln!(
                out,
                "clause {i}: a({role}, {})  vars [{}]",
                show_pat(&c.self_id, &c.var_names),
                c.var_names.join(", ")
            );
            for (pc, instr) in c.code.iter().enumerate() {
                let text = match instr {
                    Instr::Send(op) => format!(
                        "SEND    {} => a({}, {}){}",
                        show_pat(&op.message, &c.var_names),
                        op.role,
                        show_pat(&op.id, &c.var_names),
                        show_guard(op.guard.as_ref())
                    ),
                    Instr::Recv(op) => format!(
                        "RECV    {} <= a({}, {}){}",
                        show_pat(&op.message, &c.var_names),
                        op.role,
                        show_pat(&op.id, &c.var_names),
                        show_guard(op.guard.as_ref())
                    ),
                    Instr::Null(g) => format!("NULL{}", show_guard(g.as_ref())),
                    Instr::Become(op) => {
                        let args: Vec<String> = op.args.iter().map(|p| show_pat(p, &c.var_names)).collect();
                        let role = if args.is_empty() {
                            op.role_name.to_string()
                        } else {
                            format!("{}({})", op.role_name, args.join(", "))
                        };
                        format!(
                            "BECOME  a({role}, {}){}",
                            show_pat(&op.id, &c.var_names),
                            show_guard(op.guard.as_ref())
                        )
                    }
                    Instr::Choice(alts) => format!("CHOICE  {}", join_pcs(alts)),
                    Instr::Fork { branches, join } => format!("FORK    {} join {join}", join_pcs(branches)),
                    Instr::Jump(t) => format!("JUMP    {t}"),
                    Instr::End => "END".into(),
                    Instr::Stuck => "STUCK".into(),
                };
                let _ = writeln!(out, "  {pc:4}  {text}");
            }
        }
        out
    }
}

fn join_pcs(pcs: &[u32]) -> String {
    pcs.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

fn show_guard(g: Option<&Goal>) -> &'static str {
    if g.is_some() { "  <- guard" } else { "" }
}

fn show_pat(p: &Pat, names: &[SmolStr]) -> String {
    match p {
        Pat::Var(v) => names.get(*v as usize).map_or_else(|| format!("_{v}"), |n| n.to_string()),
        Pat::Anon => "_".into(),
        Pat::Const(v) => v.to_string(),
        Pat::Compound(f, args) => {
            let args: Vec<String> = args.iter().map(|a| show_pat(a, names)).collect();
            format!("{}({})", Value::Atom(f.clone()), args.join(", "))
        }
        Pat::List(items, tail) => {
            let items: Vec<String> = items.iter().map(|a| show_pat(a, names)).collect();
            match tail {
                Some(t) => format!("[{} | {}]", items.join(", "), show_pat(t, names)),
                None => format!("[{}]", items.join(", ")),
            }
        }
        Pat::Arith(op, a, b) => format!("({} {} {})", show_pat(a, names), op.text(), show_pat(b, names)),
        Pat::Neg(a) => format!("-{}", show_pat(a, names)),
    }
}

/// Compiles the typed IR.
pub fn program(model: &ir::Model) -> Program {
    let roles = model
        .roles
        .iter()
        .map(|r| RoleCode { name: r.name.clone(), clauses: r.clauses.iter().map(|c| c.0).collect() })
        .collect();
    let clauses = model
        .clauses
        .iter()
        .map(|c| compile_clause(c, model.role(c.role).map(|r| r.name.clone()).unwrap_or_default()))
        .collect();
    let constraints = model
        .constraints
        .iter()
        .map(|c| ConstraintInfo { name: c.name.clone(), arity: c.arity, total: c.total })
        .collect();
    Program { roles, clauses, constraints }
}

fn compile_clause(clause: &ir::Clause, role_name: SmolStr) -> ClauseCode {
    let mut cx = Emitter { code: Vec::new(), spans: Vec::new() };
    if let Some(body) = &clause.body {
        cx.node(body);
        cx.emit(Instr::End, body.span);
    }
    ClauseCode {
        role: clause.role.0,
        role_name,
        params: clause.params.iter().map(pat).collect(),
        self_id: pat(&clause.self_id),
        var_names: clause.vars.iter().map(|v| v.name.clone()).collect(),
        code: cx.code,
        spans: cx.spans,
        head_span: clause.head_span,
    }
}

struct Emitter {
    code: Vec<Instr>,
    spans: Vec<Span>,
}

impl Emitter {
    fn pc(&self) -> u32 {
        u32::try_from(self.code.len()).unwrap_or(u32::MAX)
    }
    fn emit(&mut self, instr: Instr, span: Span) -> u32 {
        let pc = self.pc();
        self.code.push(instr);
        self.spans.push(span);
        pc
    }
    fn patch(&mut self, at: u32, instr: Instr) {
        if let Some(slot) = self.code.get_mut(at as usize) {
            *slot = instr;
        }
    }

    fn node(&mut self, node: &ir::Node) {
        let span = node.span;
        match &node.kind {
            NodeKind::Send { message, to, guard, .. } => {
                self.emit(
                    Instr::Send(Box::new(SendOp {
                        message: pat(message),
                        role: to.role_name.clone(),
                        id: pat(&to.id),
                        guard: guard.as_ref().map(goal),
                    })),
                    span,
                );
            }
            NodeKind::Receive { message, from, guard, .. } => {
                self.emit(
                    Instr::Recv(Box::new(RecvOp {
                        message: pat(message),
                        role: from.role_name.clone(),
                        id: pat(&from.id),
                        guard: guard.as_ref().map(goal),
                    })),
                    span,
                );
            }
            NodeKind::Null { guard } => {
                self.emit(Instr::Null(guard.as_ref().map(goal)), span);
            }
            NodeKind::RoleChange { target, guard, .. } => {
                self.emit(
                    Instr::Become(Box::new(BecomeOp {
                        role: target.role.map(|r| r.0),
                        role_name: target.role_name.clone(),
                        args: target.args.iter().map(pat).collect(),
                        id: pat(&target.id),
                        guard: guard.as_ref().map(goal),
                    })),
                    span,
                );
            }
            NodeKind::Then(children) => children.iter().for_each(|c| self.node(c)),
            NodeKind::Or(children) => {
                let at = self.emit(Instr::Choice(Box::default()), span);
                let mut alts = Vec::new();
                let mut exits = Vec::new();
                for c in children {
                    alts.push(self.pc());
                    self.node(c);
                    exits.push(self.emit(Instr::Jump(0), c.span));
                }
                let after = self.pc();
                for e in exits {
                    self.patch(e, Instr::Jump(after));
                }
                self.patch(at, Instr::Choice(alts.into_boxed_slice()));
            }
            NodeKind::Par(children) => {
                let at = self.emit(Instr::Fork { branches: Box::default(), join: 0 }, span);
                let mut branches = Vec::new();
                for c in children {
                    branches.push(self.pc());
                    self.node(c);
                    self.emit(Instr::End, c.span);
                }
                let join = self.pc();
                self.patch(at, Instr::Fork { branches: branches.into_boxed_slice(), join });
            }
            NodeKind::Error => {
                self.emit(Instr::Stuck, span);
            }
        }
    }
}

fn pat(term: &ir::Term) -> Pat {
    match term {
        ir::Term::Var(v, _) => Pat::Var(v.0),
        ir::Term::Anon(_) | ir::Term::Error(_) => Pat::Anon,
        ir::Term::Atom(a, _) => Pat::Const(Value::Atom(a.clone())),
        ir::Term::Int(n, _) => Pat::Const(Value::Int(*n)),
        ir::Term::Float(x, _) => Pat::Const(Value::Float(*x)),
        ir::Term::Str(s, _) => Pat::Const(Value::Str(SmolStr::new(s))),
        ir::Term::Compound { functor, args, .. } => {
            let args: Box<[Pat]> = args.iter().map(pat).collect();
            match ground(&args) {
                Some(values) => Pat::Const(Value::Compound(functor.clone(), values)),
                None => Pat::Compound(functor.clone(), args),
            }
        }
        ir::Term::List { items, tail, .. } => {
            let items: Box<[Pat]> = items.iter().map(pat).collect();
            match (tail, ground(&items)) {
                (None, Some(values)) => Pat::Const(Value::List(values)),
                _ => Pat::List(items, tail.as_ref().map(|t| Box::new(pat(t)))),
            }
        }
        ir::Term::Arith { op, lhs, rhs, .. } => Pat::Arith(*op, Box::new(pat(lhs)), Box::new(pat(rhs))),
        ir::Term::Neg(inner, _) => Pat::Neg(Box::new(pat(inner))),
    }
}

/// The values of patterns that are all constants (so that a ground compound is built once).
fn ground(pats: &[Pat]) -> Option<Vec<Value>> {
    pats.iter()
        .map(|p| match p {
            Pat::Const(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

fn goal(cond: &Cond) -> Goal {
    match cond {
        Cond::And(parts, _) => Goal::And(parts.iter().map(goal).collect()),
        Cond::Or(parts, _) => Goal::Or(parts.iter().map(goal).collect()),
        Cond::Not(inner, _) => Goal::Not(Box::new(goal(inner))),
        Cond::Compare { op, lhs, rhs, .. } => Goal::Compare(*op, pat(lhs), pat(rhs)),
        Cond::Is { lhs, rhs, .. } => Goal::Is(pat(lhs), pat(rhs)),
        Cond::Builtin { builtin, args, .. } => Goal::Builtin(*builtin, args.iter().map(pat).collect()),
        Cond::External { constraint, args, .. } => {
            Goal::External(constraint.0, args.iter().map(pat).collect())
        }
        Cond::Error(_) => Goal::Error,
    }
}
