//! The abstract syntax tree. Every node carries its byte span; a node that could not be parsed
//! is an `Error` node with the span of what was skipped, so later phases still see the rest.
//!
//! Definitions (`then`, `or`, `par`) are binary and right-nested, as LCC.md section 3 says;
//! all three are associative, so [`crate::sexpr`] prints chains of one operator flat.

use smol_str::SmolStr;

/// A half-open byte range `start..end` in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        // The facade refuses sources longer than u32::MAX, so this never saturates in practice.
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { start: clamp(start), end: clamp(end.max(start)) }
    }
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn len(self) -> u32 {
        self.end - self.start
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
    pub fn contains(self, offset: u32) -> bool {
        self.start <= offset && offset < self.end
    }
}

/// A parsed file: its items in source order and every comment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentKind {
    /// `// …`
    Line,
    /// `% …`
    Percent,
    /// `/* … */` (including `/** … */` doc comments)
    Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub kind: CommentKind,
    /// The full text, delimiters included.
    pub text: String,
    pub span: Span,
}

impl Comment {
    /// `/** … */` documents the item that follows it (shown on hover).
    pub fn is_doc(&self) -> bool {
        self.kind == CommentKind::Block && self.text.starts_with("/**") && self.text != "/**/"
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
    /// Whether the item ended with the optional `.` terminator.
    pub terminated: bool,
}

// Items are few and stored once each; boxing the clause would buy nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Clause(Clause),
    RoleDecl(RoleDecl),
    Annotation(Annotation),
    /// A construct of another LCC dialect, diagnosed and kept verbatim (see [`DialectItem`]).
    Dialect(DialectItem),
    /// Text that could not be parsed as an item; a diagnostic says why.
    Error,
}

/// `a(Role, Id) :: Def`.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub head: Agent,
    /// `None` for the xlcc role-instance fact `a(role(...), Id).` that has no body.
    pub body: Option<Def>,
}

/// `a(Role, Id)`: a role term and a peer id.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub role: Term,
    pub id: Term,
    pub span: Span,
}

/// `r(Role, Kind, Min, Max)`.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleDecl {
    pub role: Term,
    pub kind: RoleKind,
    pub kind_span: Span,
    pub min: Option<(u64, Span)>,
    pub max: Option<(u64, Span)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoleKind {
    Initial,
    Necessary,
    Optional,
    Auxiliary,
    /// LiJ only; read with a dialect warning.
    Cyclic,
    /// LiJ only; read with a dialect warning.
    Uncommitted,
}

impl RoleKind {
    pub fn from_name(name: &str) -> Option<RoleKind> {
        Some(match name {
            "initial" => RoleKind::Initial,
            "necessary" => RoleKind::Necessary,
            "optional" => RoleKind::Optional,
            "auxiliary" => RoleKind::Auxiliary,
            "cyclic" => RoleKind::Cyclic,
            "uncommitted" => RoleKind::Uncommitted,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            RoleKind::Initial => "initial",
            RoleKind::Necessary => "necessary",
            RoleKind::Optional => "optional",
            RoleKind::Auxiliary => "auxiliary",
            RoleKind::Cyclic => "cyclic",
            RoleKind::Uncommitted => "uncommitted",
        }
    }
}

/// `@annotation(Target, Value)`: kept for hover and for `@constraint(...)`, `total`.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub target: AnnotationArg,
    pub value: AnnotationArg,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AnnotationArg {
    /// `@name(args)`, e.g. `@role(buyer)`, `@constraint(c(_))`, a nested `@annotation(..)`.
    Tagged {
        name: SmolStr,
        args: Vec<AnnotationArg>,
        span: Span,
    },
    Term(Term),
}

impl AnnotationArg {
    pub fn span(&self) -> Span {
        match self {
            AnnotationArg::Tagged { span, .. } => *span,
            AnnotationArg::Term(t) => t.span,
        }
    }
}

/// Which dialect a [`DialectItem`] comes from and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectItemKind {
    /// WebLCC `header([...])` block.
    WebLccHeader,
    /// OKeilidh `plays(Peer, Role).` fact.
    Plays,
    /// OKeilidh `knows(Url).` fact.
    Knows,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DialectItem {
    pub kind: DialectItemKind,
}

/// A definition: the body of a clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    pub kind: DefKind,
    pub span: Span,
}

// An event is the common case of a definition; boxing it would add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum DefKind {
    Then(Box<Def>, Box<Def>),
    Or(Box<Def>, Box<Def>),
    Par(Box<Def>, Box<Def>),
    /// Explicit grouping: `( … )`, or `{ … }` in the xlcc dialect. Carries no meaning, but the
    /// checker needs it to tell written parentheses from precedence.
    Group {
        inner: Box<Def>,
        braces: bool,
    },
    Event(Event),
    Error,
}

/// Binary definition operators, tightest first: `or`, `par`, `then`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefOp {
    Or,
    Par,
    Then,
}

impl DefOp {
    pub fn keyword(self) -> &'static str {
        match self {
            DefOp::Or => "or",
            DefOp::Par => "par",
            DefOp::Then => "then",
        }
    }
}

impl Def {
    /// The operator and operands of a binary definition.
    pub fn as_binary(&self) -> Option<(DefOp, &Def, &Def)> {
        match &self.kind {
            DefKind::Then(l, r) => Some((DefOp::Then, l, r)),
            DefKind::Or(l, r) => Some((DefOp::Or, l, r)),
            DefKind::Par(l, r) => Some((DefOp::Par, l, r)),
            _ => None,
        }
    }
    /// The definition with any grouping removed.
    pub fn ungrouped(&self) -> &Def {
        let mut def = self;
        while let DefKind::Group { inner, .. } = &def.kind {
            def = inner;
        }
        def
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub guard: Option<Guard>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// `Msg => a(Role, Id)`
    Send { message: Term, to: Agent },
    /// `Msg <= a(Role, Id)`; `guard_first` for the `C <- Msg <= a(R, I)` form.
    Receive { message: Term, from: Agent, guard_first: bool },
    /// `null`
    Null { span: Span },
    /// `a(Role, Id)`: this peer takes on another role.
    RoleChange(Agent),
}

/// `<- Constraint`, with the span of the arrow.
#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    pub arrow: Span,
    pub constraint: Constraint,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConstraintKind {
    And(Box<Constraint>, Box<Constraint>),
    Or(Box<Constraint>, Box<Constraint>),
    Not(Box<Constraint>),
    /// A call `c(X, Y)` or a bare atom `ready`.
    Call(Term),
    Compare {
        op: CmpOp,
        lhs: Term,
        rhs: Term,
    },
    /// `X is Expr`
    Is {
        lhs: Term,
        rhs: Term,
    },
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Unify,
    NotUnify,
    Identical,
    NotIdentical,
    /// `!=`
    NotEqual,
    Less,
    Greater,
    LessEq,
    GreaterEq,
    ArithEq,
    ArithNotEq,
}

impl CmpOp {
    pub fn text(self) -> &'static str {
        match self {
            CmpOp::Unify => "=",
            CmpOp::NotUnify => "\\=",
            CmpOp::Identical => "==",
            CmpOp::NotIdentical => "\\==",
            CmpOp::NotEqual => "!=",
            CmpOp::Less => "<",
            CmpOp::Greater => ">",
            CmpOp::LessEq => "=<",
            CmpOp::GreaterEq => ">=",
            CmpOp::ArithEq => "=:=",
            CmpOp::ArithNotEq => "=\\=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl ArithOp {
    pub fn text(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "mod",
        }
    }
    /// Binding strength: multiplicative operators bind tighter.
    pub fn precedence(self) -> u8 {
        match self {
            ArithOp::Add | ArithOp::Sub => 1,
            ArithOp::Mul | ArithOp::Div | ArithOp::Mod => 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub kind: TermKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TermKind {
    Var(SmolStr),
    /// `_`: every occurrence is a fresh variable.
    Anon,
    /// An atom, its quotes (if any) removed and escapes resolved. `f()` is the atom `f` too,
    /// but is kept as a [`TermKind::Compound`] with no arguments so the formatter can keep it.
    Atom(SmolStr),
    Int(i64),
    /// A float, with its source spelling (so formatting never changes its value).
    Float {
        value: f64,
        text: SmolStr,
    },
    /// A string, escapes resolved.
    Str(String),
    Compound {
        functor: SmolStr,
        args: Vec<Term>,
    },
    List {
        items: Vec<Term>,
        tail: Option<Box<Term>>,
    },
    /// Arithmetic: only inside constraints.
    Arith {
        op: ArithOp,
        lhs: Box<Term>,
        rhs: Box<Term>,
    },
    /// Unary minus on a non-literal: only inside constraints.
    Neg(Box<Term>),
    Error,
}

impl Term {
    /// The functor and arguments of an atom or compound (`f` and `f()` alike).
    pub fn functor(&self) -> Option<(&str, &[Term])> {
        match &self.kind {
            TermKind::Atom(name) => Some((name.as_str(), &[])),
            TermKind::Compound { functor, args } => Some((functor.as_str(), args.as_slice())),
            _ => None,
        }
    }
    pub fn is_var(&self) -> bool {
        matches!(self.kind, TermKind::Var(_) | TermKind::Anon)
    }
}
