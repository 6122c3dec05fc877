//! Modal mu-calculus properties (LCC.md section 7): the formula language, its evaluation on
//! the explored [`Graph`] and the evidence (counterexample or witness) behind the answer.
//!
//! ## Mu-calculus properties
//!
//! A property is a formula of the modal mu-calculus with regular modalities, in the style of
//! mCRL2, and holds when it is true at the initial configuration. Each transition of the
//! state space carries one or more actions: `send(From, To, Msg)`, `recv(From, To, Msg)`,
//! `call(Peer, Constraint)`, `become(Peer, Role)` and `done(Peer)` (a guarded send both calls
//! and sends; a peer's last step also says `done`).
//!
//! **State formulas** `f`:
//!
//! | Syntax | Meaning |
//! |---|---|
//! | `true`, `false` | |
//! | `!f`, `f && f`, `f \|\| f`, `f => f` | not, and, or, implies |
//! | `[R] f` | every path matching `R` ends in a state where `f` holds |
//! | `<R> f` | some path matching `R` ends in a state where `f` holds |
//! | `mu X. f`, `nu X. f` | least and greatest fixpoint; `X` (a name starting with an uppercase letter) may occur in `f`, under an even number of `!` (the left side of `=>` counts as one) |
//! | `(f)` | grouping |
//!
//! Tightest first: `!` and the modalities (prefix operators: `[R] f && g` is `([R] f) && g`),
//! `&&`, `||`, `=>` (right associative). `mu` and `nu` extend as far right as possible.
//!
//! **Regular expressions** `R` (sets of paths): an action formula (one transition), `R . R`
//! (sequence), `R + R` (choice), `R*` (zero or more), `R+` (one or more), `(R)`. Postfix
//! operators bind tightest, then `.`, then `+`. A `+` is binary when what follows it can
//! start an expression (`a+ + b` is "one or more `a`, or `b`").
//!
//! **Action formulas** (sets of transitions): `true` (any), `false`, an action pattern such as
//! `send(_, server, req(N))`, `!α`, `α && α`, `α || α`, `(α)`; these operators bind tighter
//! than those of regular expressions. A pattern's arguments are LCC terms in which `_` and
//! variables are wildcards; a transition matches when one of its actions does, and `!α` when
//! `α` does not. The role of `become` is matched by functor: `become(_, overloaded)` matches
//! the role `overloaded('?')`. So `[true*] f` says that `f` holds in every reachable state,
//! `<true*> f` that it holds in some.
//!
//! When a property fails, the counterexample is a path from the initial state: the shortest
//! one to a state where the property visibly fails (for `[true*. send(_, _, req)] false`, a
//! shortest run that sends `req`), or else a lasso, a path followed by a cycle repeated forever
//! (for an "eventually" that never happens).
//!
//! Examples:
//!
//! - `[true*. send(_, _, req)] false`: no `req` is ever sent.
//! - `<true*. done(server)> true`: the server can finish.
//! - `[true*. send(client, _, req)] mu X. ([!recv(client, _, resp)] X && <true> true)`: after
//!   each request, the client inevitably receives a response (no path avoids it forever or
//!   stops before it).
//! - `nu X. mu Y. ([recv(_, _, tick)] X && [!recv(_, _, tick)] Y)`: on every infinite run, a
//!   `tick` is received infinitely often.

mod bits;
mod eval;
mod evidence;
mod ir;
mod syntax;

pub use syntax::{ActionFormula, Formula, FormulaError, Regex, parse};

use super::graph::Graph;

/// The answer for one formula.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the formula holds at the initial state (state 0).
    pub holds: bool,
    /// A counterexample when it does not hold; when it holds, possibly a witness (for
    /// existential formulas such as `<R> f`, never an empty path).
    pub evidence: Option<Evidence>,
}

/// A path from the initial state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Edge indices into the graph, each leaving the state the previous one entered; the first
    /// leaves state 0.
    pub edges: Vec<usize>,
    /// If `Some(i)`, the path is a lasso: the last edge leads back to the source state of
    /// `edges[i]`, and the run repeats `edges[i..]` forever.
    pub cycle_start: Option<usize>,
}

/// Evaluates a formula on a graph: whether it holds at state 0, and the evidence. A graph
/// without states has no initial state, where nothing holds. The formula should come from
/// [`parse`]; in one built by hand, an unbound variable reads as `false`.
pub fn check(graph: &Graph, formula: &Formula) -> Outcome {
    if graph.state_count() == 0 {
        return Outcome { holds: false, evidence: None };
    }
    let ir = ir::Ir::new(formula);
    let mut solver = eval::Solver::new(graph, &ir);
    solver.run();
    let holds = solver.value(ir.top, 0);
    let evidence = evidence::find(&solver, holds).filter(|e| !holds || !e.edges.is_empty());
    Outcome { holds, evidence }
}

/// The value of a formula at every state of the graph.
pub fn satisfying_states(graph: &Graph, formula: &Formula) -> Vec<bool> {
    let ir = ir::Ir::new(formula);
    let mut solver = eval::Solver::new(graph, &ir);
    solver.run();
    (0..graph.state_count()).map(|s| solver.value(ir.top, s)).collect()
}
