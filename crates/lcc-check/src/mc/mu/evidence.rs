//! Counterexamples and witnesses: a path from the initial state that justifies the value of
//! the formula there.
//!
//! The search runs on the evidence graph whose nodes are (subformula, state) pairs with the
//! value being justified (false for a counterexample). From a pair, the refuter chooses: a
//! false conjunct, or a transition of a false `[α]f` to a state where `f` is false; a
//! variable or fixpoint unfolds to its body. Where the other side would choose (`f || g`,
//! `<α>f`, and `false`) the trace ends. For a witness everything is dual.
//!
//! The shortest path to an end point is found by breadth-first search. Failing that, the
//! refutation of a least fixpoint is an infinite run, reported as a lasso: a reachable cycle
//! whose outermost unfolded variable (the one numbered first) is a `mu` (a `nu` for a
//! witness). For each candidate variable, a nested depth-first search (Courcoubetis et al.)
//! on the pairs without the unfoldings of the variables numbered before it finds an
//! unfolding of it that lies on a cycle; the lasso is then the shortest cycle through that
//! unfolding, entered where the search path from the root first meets it.

use super::Evidence;
use super::bits::Bits;
use super::eval::{NodeValue, Solver};
use super::ir::{Node, Sign};
use std::collections::HashMap;

/// A (node, state) pair of the evidence graph.
type Pair = (usize, usize);

/// A path in the evidence graph: each pair with the transition taken to reach it (none for a
/// move within a state, and for the first pair).
type Walk = Vec<(Pair, Option<usize>)>;

/// One move in the evidence graph: the pair reached and the transition taken, if any.
type Step = (Pair, Option<usize>);

/// A value per (node, state), the row of a node allocated on first write (zeroed memory, so
/// rows that are barely touched cost little).
struct Dense<T> {
    rows: Vec<Vec<T>>,
    states: usize,
}

impl<T: Copy + Default> Dense<T> {
    fn new(nodes: usize, states: usize) -> Dense<T> {
        Dense { rows: (0..nodes).map(|_| Vec::new()).collect(), states }
    }
    fn get(&self, (node, state): Pair) -> T {
        self.rows.get(node).and_then(|row| row.get(state)).copied().unwrap_or_default()
    }
    fn set(&mut self, (node, state): Pair, value: T) {
        let Some(row) = self.rows.get_mut(node) else { return };
        if row.is_empty() {
            *row = vec![T::default(); self.states];
        }
        if let Some(slot) = row.get_mut(state) {
            *slot = value;
        }
    }
}

/// A set of pairs, a bitset per node allocated on first insertion.
struct Marks {
    rows: Vec<Option<Bits>>,
    states: usize,
}

impl Marks {
    fn new(nodes: usize, states: usize) -> Marks {
        Marks { rows: (0..nodes).map(|_| None).collect(), states }
    }
    fn contains(&self, (node, state): Pair) -> bool {
        self.rows.get(node).and_then(Option::as_ref).is_some_and(|row| row.get(state))
    }
    fn insert(&mut self, (node, state): Pair) {
        if let Some(row) = self.rows.get_mut(node) {
            row.get_or_insert_with(|| Bits::filled(self.states, false)).set(state);
        }
    }
}

// How a pair was first reached in a breadth-first search: the previous node (bits 32..61)
// and, for a transition, the edge (bits 0..32; the previous state is its source).
const VISITED: u64 = 1 << 63;
const MODAL: u64 = 1 << 62;
const START: u64 = 1 << 61;
const NODE_LIMIT: usize = 1 << 29;

struct Search<'s, 'a> {
    solver: &'s Solver<'a>,
    values: Vec<NodeValue<'s>>,
    /// The value being justified: false for a counterexample, true for a witness.
    want: bool,
}

/// Evidence for the value `want` of the formula at state 0, if the search finds one.
pub(crate) fn find(solver: &Solver<'_>, want: bool) -> Option<Evidence> {
    if solver.states == 0 || solver.ir.nodes.len() >= NODE_LIMIT {
        return None;
    }
    let search = Search { solver, values: solver.node_values(), want };
    let root = (solver.ir.top, 0);
    let (end, visited) = search.breadth_first(root, 0, &mut |_, steps| steps.is_empty());
    match end {
        Some(pair) => {
            let edges = search.walk_to(&visited, pair).into_iter().filter_map(|(_, e)| e).collect();
            Some(Evidence { edges, cycle_start: None })
        }
        None => search.lasso(&visited),
    }
}

impl Search<'_, '_> {
    fn value(&self, node: usize, state: usize) -> bool {
        self.values.get(node).is_some_and(|v| v.get(state))
    }

    /// The `index`-th candidate move from `pair` (whether it exists or not), for the
    /// evidence graph without the unfoldings of variables numbered before `min_var`; `None`
    /// past the last candidate. Candidates: the two operands of a choice, the transitions of
    /// the state for a modal choice, the body for an unfolding.
    fn candidate(&self, (node, state): Pair, index: usize, min_var: usize) -> Option<Option<Step>> {
        let solver = self.solver;
        let refute = !self.want;
        match solver.ir.nodes.get(node).copied()? {
            Node::And(a, b) | Node::Or(a, b)
                if matches!(solver.ir.nodes.get(node), Some(Node::And(..))) == refute =>
            {
                let c = *[a, b].get(index)?;
                Some((self.value(c, state) == self.want).then_some(((c, state), None)))
            }
            Node::Must(action, c) | Node::May(action, c)
                if matches!(solver.ir.nodes.get(node), Some(Node::Must(..))) == refute =>
            {
                let range = solver.edges(state);
                let e = range.start + index;
                if e >= range.end {
                    return None;
                }
                let t = solver.target(e)?;
                Some(
                    (solver.matches(action, e) && self.value(c, t) == self.want).then_some(((c, t), Some(e))),
                )
            }
            Node::Var(v) | Node::Fix(v) if index == 0 => {
                let body = solver.ir.vars.get(v)?.body;
                Some((v >= min_var).then_some(((body, state), None)))
            }
            _ => None,
        }
    }

    /// All moves from `pair` (see [`Search::candidate`]); none at an end point.
    fn steps(&self, pair: Pair, min_var: usize, out: &mut Vec<Step>) {
        out.clear();
        let mut index = 0;
        while let Some(candidate) = self.candidate(pair, index, min_var) {
            index += 1;
            out.extend(candidate);
        }
    }

    /// The next move from `pair` at or after `*cursor`, advancing the cursor past it.
    fn next_step(&self, pair: Pair, cursor: &mut usize, min_var: usize) -> Option<Step> {
        loop {
            let candidate = self.candidate(pair, *cursor, min_var)?;
            *cursor += 1;
            if candidate.is_some() {
                return candidate;
            }
        }
    }

    /// Breadth-first search by number of transitions from `start`, without the unfoldings of
    /// variables numbered before `min_var`, for the first pair where `stop` holds (given the
    /// pair and its moves); also returns how every pair seen was first reached. The order is
    /// deterministic.
    fn breadth_first(
        &self,
        start: Pair,
        min_var: usize,
        stop: &mut dyn FnMut(Pair, &[Step]) -> bool,
    ) -> (Option<Pair>, Dense<u64>) {
        let solver = self.solver;
        let mut visited: Dense<u64> = Dense::new(solver.ir.nodes.len(), solver.states);
        visited.set(start, VISITED | START);
        let mut layer = vec![start];
        let mut steps = Vec::new();
        while !layer.is_empty() {
            // Everything at the same distance (moves within a state) is marked before the
            // transitions out of the layer are followed.
            let mut transitions = Vec::new();
            let mut i = 0;
            while let Some(&pair) = layer.get(i) {
                i += 1;
                self.steps(pair, min_var, &mut steps);
                if stop(pair, &steps) {
                    return (Some(pair), visited);
                }
                for &(next, edge) in &steps {
                    match edge {
                        None if visited.get(next) == 0 => {
                            visited.set(next, VISITED | ((pair.0 as u64) << 32));
                            layer.push(next);
                        }
                        None => {}
                        Some(e) => transitions.push((pair.0, next, e)),
                    }
                }
            }
            layer.clear();
            for (from, next, e) in transitions {
                if visited.get(next) == 0 {
                    visited.set(next, VISITED | MODAL | ((from as u64) << 32) | e as u64);
                    layer.push(next);
                }
            }
        }
        (None, visited)
    }

    /// The search path from the start of a breadth-first search to `pair`.
    fn walk_to(&self, visited: &Dense<u64>, mut pair: Pair) -> Walk {
        let mut walk = Vec::new();
        // A bound against a corrupt parent chain; the chain itself is a tree path.
        let mut budget = self.solver.ir.nodes.len().saturating_mul(self.solver.states).saturating_add(1);
        loop {
            let parent = visited.get(pair);
            if parent & VISITED == 0 || budget == 0 {
                return Vec::new();
            }
            if parent & START != 0 {
                walk.push((pair, None));
                break;
            }
            budget -= 1;
            let node = ((parent >> 32) & (NODE_LIMIT as u64 - 1)) as usize;
            if parent & MODAL != 0 {
                let edge = (parent & 0xFFFF_FFFF) as usize;
                walk.push((pair, Some(edge)));
                pair = (node, self.solver.source(edge));
            } else {
                walk.push((pair, None));
                pair = (node, pair.1);
            }
        }
        walk.reverse();
        walk
    }

    fn unfolds(&self, (node, _): Pair, var: usize) -> bool {
        matches!(self.solver.ir.nodes.get(node), Some(Node::Var(w) | Node::Fix(w)) if *w == var)
    }

    /// A lasso: the search path to a cycle whose outermost unfolded variable has the sign
    /// that wins infinite runs for this side.
    fn lasso(&self, visited: &Dense<u64>) -> Option<Evidence> {
        let good = if self.want { Sign::Nu } else { Sign::Mu };
        for (v, var) in self.solver.ir.vars.iter().enumerate() {
            if var.sign != good {
                continue;
            }
            let Some(seed) = self.unfolding_on_cycle(visited, v) else { continue };
            // The shortest cycle through the unfolding, as a walk from its body back to it.
            let body = (var.body, seed.1);
            let (found, around) = self.breadth_first(body, v, &mut |pair, _| pair == seed);
            if found.is_none() {
                continue;
            }
            let mut cycle: Walk = vec![(seed, None)];
            cycle.extend(self.walk_to(&around, seed).into_iter().take_while(|&(pair, _)| pair != seed));
            // `cycle[i].1` is the transition into `cycle[i]`; the one into `cycle[0]` closes
            // the cycle and is the one of the last step of the walk to the seed.
            let closing = self.walk_to(&around, seed).last().and_then(|&(_, e)| e);
            if let Some(first) = cycle.first_mut() {
                first.1 = closing;
            }
            // Enter the cycle where the search path from the root first meets it.
            let position: HashMap<Pair, usize> =
                cycle.iter().enumerate().map(|(i, &(p, _))| (p, i)).collect();
            let prefix = self.walk_to(visited, seed);
            let meet = prefix.iter().position(|(pair, _)| position.contains_key(pair))?;
            let (entry, _) = *prefix.get(meet)?;
            let start = position.get(&entry).copied()?;
            let mut edges: Vec<usize> = prefix.iter().take(meet + 1).filter_map(|&(_, e)| e).collect();
            let cycle_start = edges.len();
            let rotated = cycle.iter().skip(start + 1).chain(cycle.iter().take(start + 1));
            edges.extend(rotated.filter_map(|&(_, e)| e));
            let cycle_start = (edges.len() > cycle_start).then_some(cycle_start);
            return Some(Evidence { edges, cycle_start });
        }
        None
    }

    /// Nested depth-first search over the reachable pairs, without the unfoldings of the
    /// variables numbered before `var`: an unfolding of `var` that lies on a cycle, if any.
    /// The outer search visits every pair; in its post-order, an inner search from each
    /// unfolding looks for a way back to it, sharing its visited set with the earlier inner
    /// searches (which is what keeps the whole linear).
    fn unfolding_on_cycle(&self, visited: &Dense<u64>, var: usize) -> Option<Pair> {
        let (nodes, states) = (self.solver.ir.nodes.len(), self.solver.states);
        let mut outer = Marks::new(nodes, states);
        let mut inner = Marks::new(nodes, states);
        let mut stack: Vec<(Pair, usize)> = Vec::new();
        let mut inner_stack: Vec<(Pair, usize)> = Vec::new();
        for (root_node, row) in visited.rows.iter().enumerate() {
            for (root_state, &mark) in row.iter().enumerate() {
                let root = (root_node, root_state);
                if mark == 0 || outer.contains(root) {
                    continue;
                }
                outer.insert(root);
                stack.push((root, 0));
                while let Some((pair, cursor)) = stack.last_mut() {
                    let pair = *pair;
                    if let Some((next, _)) = self.next_step(pair, cursor, var) {
                        if !outer.contains(next) {
                            outer.insert(next);
                            stack.push((next, 0));
                        }
                        continue;
                    }
                    stack.pop();
                    if !self.unfolds(pair, var) || inner.contains(pair) {
                        continue;
                    }
                    inner.insert(pair);
                    inner_stack.clear();
                    inner_stack.push((pair, 0));
                    while let Some((at, cursor)) = inner_stack.last_mut() {
                        let at = *at;
                        let Some((next, _)) = self.next_step(at, cursor, var) else {
                            inner_stack.pop();
                            continue;
                        };
                        if next == pair {
                            return Some(pair);
                        }
                        if !inner.contains(next) {
                            inner.insert(next);
                            inner_stack.push((next, 0));
                        }
                    }
                }
            }
        }
        None
    }
}
