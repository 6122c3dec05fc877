//! The core form the evaluator works on: negations pushed to the leaves (so every fixpoint
//! is of a monotone function), regular modalities unfolded into one-step modalities and
//! fresh fixpoints, subformulas shared as a DAG, and the fixpoints grouped into blocks.

use super::syntax::{ActionFormula, Formula, Regex};

/// Whether a fixpoint is least or greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sign {
    Mu,
    Nu,
}

/// A node of the core formula; operands are node indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Const(bool),
    And(usize, usize),
    Or(usize, usize),
    /// `[α] f` for the action formula with this index.
    Must(usize, usize),
    /// `<α> f`
    May(usize, usize),
    /// An occurrence of a fixpoint variable.
    Var(usize),
    /// The fixpoint binding the variable (its body is in [`Var`]).
    Fix(usize),
}

/// A fixpoint variable. Variables are numbered in the order of their binders in the formula,
/// so an enclosing binder has a smaller number than the binders inside it (the priority of
/// the variable in the evidence search).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Var {
    pub sign: Sign,
    pub body: usize,
    /// The block of the variable: nested fixpoints of the same sign are solved together, as
    /// one simultaneous fixpoint (Bekić), which keeps alternation-free formulas linear.
    pub block: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Ir {
    pub nodes: Vec<Node>,
    pub vars: Vec<Var>,
    /// The variables of each block.
    pub blocks: Vec<Vec<usize>>,
    pub actions: Vec<ActionFormula>,
    pub top: usize,
}

impl Ir {
    /// Translates a formula. A variable without a binder (impossible after [`super::parse`])
    /// reads as `false`.
    pub fn new(formula: &Formula) -> Ir {
        let mut builder = Builder {
            ir: Ir { nodes: Vec::new(), vars: Vec::new(), blocks: Vec::new(), actions: Vec::new(), top: 0 },
            lazies: Vec::new(),
            env: Vec::new(),
            fixpoints: Vec::new(),
        };
        builder.ir.top = builder.formula(formula, false);
        builder.ir
    }
}

/// The target of a modality, translated where it is first needed: inside the fixpoints that
/// the regular expression introduces, so that the nesting of the core formula (block merging,
/// variable order) is the semantic one.
#[derive(Clone, Copy)]
enum Lazy<'a> {
    Node(usize),
    Formula(&'a Formula, bool),
    /// `[R] target` or `<R> target` (`bool`: must), the target being another deferred one.
    Modal(&'a Regex, bool, usize),
}

struct Builder<'a> {
    ir: Ir,
    /// Deferred modal targets and, once translated, their nodes.
    lazies: Vec<(Lazy<'a>, Option<usize>)>,
    /// Named variables in scope, innermost last.
    env: Vec<(&'a str, usize)>,
    /// Enclosing fixpoints (named or from regular modalities), innermost last.
    fixpoints: Vec<usize>,
}

impl<'a> Builder<'a> {
    fn push(&mut self, node: Node) -> usize {
        self.ir.nodes.push(node);
        self.ir.nodes.len() - 1
    }

    fn action(&mut self, action: &ActionFormula) -> usize {
        if let Some(i) = self.ir.actions.iter().position(|a| a == action) {
            return i;
        }
        self.ir.actions.push(action.clone());
        self.ir.actions.len() - 1
    }

    /// A fresh variable (its body is set once translated), in the block of the innermost
    /// enclosing fixpoint if that has the same sign.
    fn new_var(&mut self, sign: Sign) -> usize {
        let enclosing = self.fixpoints.last().and_then(|&v| self.ir.vars.get(v)).filter(|v| v.sign == sign);
        let block = match enclosing {
            Some(var) => var.block,
            None => {
                self.ir.blocks.push(Vec::new());
                self.ir.blocks.len() - 1
            }
        };
        let v = self.ir.vars.len();
        self.ir.vars.push(Var { sign, body: 0, block });
        if let Some(members) = self.ir.blocks.get_mut(block) {
            members.push(v);
        }
        v
    }

    fn set_body(&mut self, v: usize, body: usize) {
        if let Some(var) = self.ir.vars.get_mut(v) {
            var.body = body;
        }
    }

    /// Translates `formula`, negated if `negated` (negation normal form: `!mu X. f` becomes
    /// `nu X. !f[!X/X]`, and since `X` occurs under an even number of negations its
    /// occurrences come out un-negated).
    fn formula(&mut self, formula: &'a Formula, negated: bool) -> usize {
        match formula {
            Formula::True => self.push(Node::Const(!negated)),
            Formula::False => self.push(Node::Const(negated)),
            Formula::Not(f) => self.formula(f, !negated),
            Formula::And(a, b) | Formula::Or(a, b) => {
                let a = self.formula(a, negated);
                let b = self.formula(b, negated);
                let conjunction = matches!(formula, Formula::And(..)) != negated;
                self.push(if conjunction { Node::And(a, b) } else { Node::Or(a, b) })
            }
            Formula::Implies(a, b) => {
                let a = self.formula(a, !negated);
                let b = self.formula(b, negated);
                self.push(if negated { Node::And(a, b) } else { Node::Or(a, b) })
            }
            Formula::Must(regex, f) | Formula::May(regex, f) => {
                let must = matches!(formula, Formula::Must(..)) != negated;
                let target = self.lazy(Lazy::Formula(f, negated));
                self.modal(regex, must, target)
            }
            Formula::Mu(name, body) | Formula::Nu(name, body) => {
                let least = matches!(formula, Formula::Mu(..)) != negated;
                let v = self.new_var(if least { Sign::Mu } else { Sign::Nu });
                self.env.push((name, v));
                self.fixpoints.push(v);
                let body = self.formula(body, negated);
                self.fixpoints.pop();
                self.env.pop();
                self.set_body(v, body);
                self.push(Node::Fix(v))
            }
            Formula::Var(name) => match self.env.iter().rev().find(|(bound, _)| bound == name) {
                Some(&(_, v)) => self.push(Node::Var(v)),
                None => self.push(Node::Const(false)),
            },
        }
    }

    fn lazy(&mut self, target: Lazy<'a>) -> usize {
        self.lazies.push((target, None));
        self.lazies.len() - 1
    }

    /// The node of a deferred modal target, translated on first use.
    fn force(&mut self, lazy: usize) -> usize {
        let Some(&(target, memo)) = self.lazies.get(lazy) else {
            return self.push(Node::Const(false));
        };
        if let Some(node) = memo {
            return node;
        }
        let node = match target {
            Lazy::Node(node) => node,
            Lazy::Formula(formula, negated) => self.formula(formula, negated),
            Lazy::Modal(regex, must, inner) => self.modal(regex, must, inner),
        };
        if let Some(entry) = self.lazies.get_mut(lazy) {
            entry.1 = Some(node);
        }
        node
    }

    /// `[R] target` (`must`) or `<R> target`; `target` is a deferred target
    /// ([`Builder::lazies`]).
    fn modal(&mut self, regex: &'a Regex, must: bool, target: usize) -> usize {
        let combine = |a, b| if must { Node::And(a, b) } else { Node::Or(a, b) };
        match regex {
            Regex::Action(action) => {
                let action = self.action(action);
                let target = self.force(target);
                self.push(if must { Node::Must(action, target) } else { Node::May(action, target) })
            }
            // [R1.R2]f = [R1][R2]f
            Regex::Seq(a, b) => {
                let inner = self.lazy(Lazy::Modal(b, must, target));
                self.modal(a, must, inner)
            }
            // [R1+R2]f = [R1]f && [R2]f, sharing f
            Regex::Choice(a, b) => {
                let a = self.modal(a, must, target);
                let b = self.modal(b, must, target);
                self.push(combine(a, b))
            }
            // [R*]f = nu Y. f && [R]Y;  <R*>f = mu Y. f || <R>Y
            Regex::Star(r) => {
                let v = self.new_var(if must { Sign::Nu } else { Sign::Mu });
                self.fixpoints.push(v);
                let target = self.force(target);
                let y = self.push(Node::Var(v));
                let y = self.lazy(Lazy::Node(y));
                let step = self.modal(r, must, y);
                let body = self.push(combine(target, step));
                self.fixpoints.pop();
                self.set_body(v, body);
                self.push(Node::Fix(v))
            }
            // [R+]f = nu Y. [R](f && Y);  <R+>f = mu Y. <R>(f || Y)
            Regex::Plus(r) => {
                let v = self.new_var(if must { Sign::Nu } else { Sign::Mu });
                self.fixpoints.push(v);
                let target = self.force(target);
                let y = self.push(Node::Var(v));
                let next = self.push(combine(target, y));
                let next = self.lazy(Lazy::Node(next));
                let body = self.modal(r, must, next);
                self.fixpoints.pop();
                self.set_body(v, body);
                self.push(Node::Fix(v))
            }
        }
    }
}
