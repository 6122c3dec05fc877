//! The typed IR: the one input of the model checker, the diagrams, the language server and the
//! runtime. Names are resolved (every role reference points at its role, every variable at its
//! binding site), constraint calls are classified, and sorts are inferred.
//!
//! Indices (`RoleId`, `ClauseId`, `VarId`, …) index the vectors of [`Model`] and of a
//! [`Clause`]; they are stable for one version of a file.

use lcc_syntax::ast::{ArithOp, CmpOp, RoleKind, Span};
use smol_str::SmolStr;

macro_rules! id {
    ($name:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
            pub(crate) fn from_index(i: usize) -> Self {
                $name(u32::try_from(i).unwrap_or(u32::MAX))
            }
        }
    };
}
id!(RoleId);
id!(ClauseId);
id!(VarId);
id!(MessageId);
id!(ConstraintId);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub roles: Vec<Role>,
    pub clauses: Vec<Clause>,
    /// Message signatures per (sender role, receiver role, functor, arity).
    pub messages: Vec<MessageSig>,
    /// External constraints per (name, arity).
    pub constraints: Vec<ConstraintSig>,
}

impl Model {
    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.roles.get(id.index())
    }
    pub fn clause(&self, id: ClauseId) -> Option<&Clause> {
        self.clauses.get(id.index())
    }
    pub fn role_named(&self, name: &str) -> Option<RoleId> {
        self.roles.iter().position(|r| r.name == name).map(RoleId::from_index)
    }
    pub fn constraint(&self, id: ConstraintId) -> Option<&ConstraintSig> {
        self.constraints.get(id.index())
    }
    /// The clause of a role with a given arity, if the role has one.
    pub fn clause_of(&self, role: RoleId, arity: usize) -> Option<&Clause> {
        let role = self.role(role)?;
        role.clauses.iter().filter_map(|&c| self.clause(c)).find(|c| c.params.len() == arity)
    }
}

/// A role, identified by its functor name (LCC.md section 4).
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub name: SmolStr,
    /// Its clauses: one, or several with different arities in the LiJ dialect.
    pub clauses: Vec<ClauseId>,
    pub declaration: Option<Declaration>,
}

/// `r(Role, Kind, Min, Max)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Declaration {
    pub kind: RoleKind,
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub span: Span,
}

impl Declaration {
    /// The default population for verification: `Min` peers (default 1) for every initial and
    /// necessary role, none for the others.
    pub fn default_population(&self) -> u64 {
        match self.kind {
            RoleKind::Initial | RoleKind::Necessary => self.min.unwrap_or(1),
            _ => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub role: RoleId,
    /// The head's role arguments (`Capacity` in `a(underloaded(Capacity), P)`).
    pub params: Vec<Term>,
    /// The head's peer id (`P`): a variable of this clause, or a constant.
    pub self_id: Term,
    pub head_span: Span,
    pub span: Span,
    /// `None` for a clause with no body (the xlcc role-instance form).
    pub body: Option<Node>,
    pub vars: Vec<Variable>,
    /// Doc comment (`/** … */`) right before the clause, if any.
    pub doc: Option<String>,
}

impl Clause {
    pub fn var(&self, id: VarId) -> Option<&Variable> {
        self.vars.get(id.index())
    }
    pub fn self_var(&self) -> Option<VarId> {
        match self.self_id {
            Term::Var(v, _) => Some(v),
            _ => None,
        }
    }
}

/// A named variable of one clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    pub name: SmolStr,
    /// Where it is first bound (head, receive, constraint), or first written if never bound.
    pub binding: Span,
    pub occurrences: Vec<Span>,
    pub sort: Sort,
}

/// Inferred sort of a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Sort {
    Unknown,
    Atom,
    String,
    Number,
    PeerId,
    List(Box<Sort>),
    Compound(SmolStr, usize),
}

impl Sort {
    /// Whether values of the two sorts can ever unify.
    pub fn compatible(&self, other: &Sort) -> bool {
        match (self, other) {
            (Sort::Unknown, _) | (_, Sort::Unknown) => true,
            // Peer ids are constants: atoms or strings (numbers are not ruled out).
            (Sort::PeerId, Sort::Atom | Sort::String | Sort::Number | Sort::PeerId)
            | (Sort::Atom | Sort::String | Sort::Number, Sort::PeerId) => true,
            (Sort::List(a), Sort::List(b)) => a.compatible(b),
            (Sort::Compound(f, n), Sort::Compound(g, m)) => f == g && n == m,
            (a, b) => a == b,
        }
    }
    /// The more informative of two sorts (the first if both are known).
    pub fn join(&self, other: &Sort) -> Sort {
        match (self, other) {
            (Sort::Unknown, b) => b.clone(),
            (Sort::List(a), Sort::List(b)) => Sort::List(Box::new(a.join(b))),
            (a, _) => a.clone(),
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Sort::Unknown => "unknown".into(),
            Sort::Atom => "atom".into(),
            Sort::String => "string".into(),
            Sort::Number => "number".into(),
            Sort::PeerId => "peer id".into(),
            Sort::List(t) => format!("list of {}", t.describe()),
            Sort::Compound(f, n) => format!("{f}/{n}"),
        }
    }
}

/// A term with variables resolved to the clause's [`VarId`]s.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Var(VarId, Span),
    Anon(Span),
    Atom(SmolStr, Span),
    Int(i64, Span),
    Float(f64, Span),
    Str(String, Span),
    Compound {
        functor: SmolStr,
        args: Vec<Term>,
        span: Span,
    },
    List {
        items: Vec<Term>,
        tail: Option<Box<Term>>,
        span: Span,
    },
    Arith {
        op: ArithOp,
        lhs: Box<Term>,
        rhs: Box<Term>,
        span: Span,
    },
    Neg(Box<Term>, Span),
    /// Could not be lowered (a syntax error was reported).
    Error(Span),
}

impl Term {
    pub fn span(&self) -> Span {
        match self {
            Term::Var(_, s)
            | Term::Anon(s)
            | Term::Atom(_, s)
            | Term::Int(_, s)
            | Term::Float(_, s)
            | Term::Str(_, s)
            | Term::Neg(_, s)
            | Term::Error(s) => *s,
            Term::Compound { span, .. } | Term::List { span, .. } | Term::Arith { span, .. } => *span,
        }
    }
    /// Functor and arity of an atom or compound (`f()` is `f/0`).
    pub fn functor(&self) -> Option<(&str, usize)> {
        match self {
            Term::Atom(name, _) => Some((name, 0)),
            Term::Compound { functor, args, .. } => Some((functor, args.len())),
            _ => None,
        }
    }
    /// Every variable occurrence in the term, in writing order.
    pub fn vars(&self, out: &mut Vec<(VarId, Span)>) {
        match self {
            Term::Var(v, s) => out.push((*v, *s)),
            Term::Compound { args: items, .. } => items.iter().for_each(|t| t.vars(out)),
            Term::List { items, tail, .. } => {
                items.iter().for_each(|t| t.vars(out));
                if let Some(t) = tail {
                    t.vars(out);
                }
            }
            Term::Arith { lhs, rhs, .. } => {
                lhs.vars(out);
                rhs.vars(out);
            }
            Term::Neg(t, _) => t.vars(out),
            _ => {}
        }
    }
}

/// `a(Role, Id)` in an event, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentRef {
    /// `None` when the role is undefined (an error was reported).
    pub role: Option<RoleId>,
    pub role_name: SmolStr,
    /// The role's arguments as written (empty for `a(role, Id)`).
    pub args: Vec<Term>,
    pub id: Term,
    pub span: Span,
    /// The span of the role term (for rename and go to definition).
    pub role_span: Span,
}

/// One node of a clause's event tree. `Then`, `Or` and `Par` are n-ary (associative chains
/// flattened), in writing order.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// `M => a(R, I) <- C`: C is solved first, then M is sent.
    Send {
        message: Term,
        to: AgentRef,
        guard: Option<Cond>,
        message_id: Option<MessageId>,
    },
    /// `M <= a(R, I) <- C` or `C <- M <= a(R, I)`: one atomic step.
    Receive {
        message: Term,
        from: AgentRef,
        guard: Option<Cond>,
        guard_first: bool,
        message_id: Option<MessageId>,
    },
    /// `null <- C`
    Null {
        guard: Option<Cond>,
    },
    /// `a(R, Id) <- C`: this peer continues as R. `tail` when nothing follows it in the clause
    /// (it replaces the current clause instead of nesting).
    RoleChange {
        target: AgentRef,
        guard: Option<Cond>,
        tail: bool,
    },
    Then(Vec<Node>),
    Or(Vec<Node>),
    Par(Vec<Node>),
    /// A definition that could not be parsed.
    Error,
}

impl NodeKind {
    /// The guard of an event, if it has one.
    pub fn guard(&self) -> Option<&Cond> {
        match self {
            NodeKind::Send { guard, .. }
            | NodeKind::Receive { guard, .. }
            | NodeKind::Null { guard }
            | NodeKind::RoleChange { guard, .. } => guard.as_ref(),
            _ => None,
        }
    }
}

/// A guard condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    And(Vec<Cond>, Span),
    Or(Vec<Cond>, Span),
    Not(Box<Cond>, Span),
    Compare {
        op: CmpOp,
        lhs: Term,
        rhs: Term,
        span: Span,
    },
    Is {
        lhs: Term,
        rhs: Term,
        span: Span,
    },
    /// A call of a built-in list predicate.
    Builtin {
        builtin: Builtin,
        args: Vec<Term>,
        span: Span,
    },
    /// A call of an external constraint (through the constraint ABI at run time, abstract in
    /// the model checker).
    External {
        constraint: ConstraintId,
        args: Vec<Term>,
        span: Span,
    },
    Error(Span),
}

impl Cond {
    pub fn span(&self) -> Span {
        match self {
            Cond::And(_, s) | Cond::Or(_, s) | Cond::Not(_, s) | Cond::Error(s) => *s,
            Cond::Compare { span, .. }
            | Cond::Is { span, .. }
            | Cond::Builtin { span, .. }
            | Cond::External { span, .. } => *span,
        }
    }
}

/// The built-in predicates of LCC.md section 6 besides comparisons and `is`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    Member,
    Append,
    Length,
    Nth0,
    Nth1,
}

impl Builtin {
    pub fn by_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "member" => Builtin::Member,
            "append" => Builtin::Append,
            "length" => Builtin::Length,
            "nth0" => Builtin::Nth0,
            "nth1" => Builtin::Nth1,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Member => "member",
            Builtin::Append => "append",
            Builtin::Length => "length",
            Builtin::Nth0 => "nth0",
            Builtin::Nth1 => "nth1",
        }
    }
    pub fn arity(self) -> usize {
        match self {
            Builtin::Member | Builtin::Length => 2,
            Builtin::Append | Builtin::Nth0 | Builtin::Nth1 => 3,
        }
    }
}

/// Where a message is sent or received.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageSite {
    pub clause: ClauseId,
    pub span: Span,
}

/// All sends and receives of one message between two roles.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageSig {
    pub sender: RoleId,
    pub receiver: RoleId,
    pub functor: SmolStr,
    pub arity: usize,
    /// Argument sorts, joined over every send and receive.
    pub arg_sorts: Vec<Sort>,
    pub sends: Vec<MessageSite>,
    pub receives: Vec<MessageSite>,
}

/// An external constraint `name/arity` and everywhere it is called.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintSig {
    pub name: SmolStr,
    pub arity: usize,
    pub arg_sorts: Vec<Sort>,
    /// Marked `@annotation(@constraint(c(…)), total)`: it never fails.
    pub total: bool,
    pub calls: Vec<MessageSite>,
}
