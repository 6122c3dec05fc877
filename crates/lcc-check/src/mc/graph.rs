//! The explored state space as an explicit labelled transition system, for the properties
//! that need the whole graph (`terminates`, mu-calculus formulas).

use super::value::Action;

/// States are `0..state_count()`; state 0 is the initial configuration. Transitions are
/// stored per source state (compressed sparse rows); each carries a label, an index into
/// `labels`, whose actions are the multi-action of that step.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// `offsets[s]..offsets[s + 1]` are the transitions of state `s`; `offsets.len()` is one
    /// more than the number of states.
    pub offsets: Vec<u32>,
    pub targets: Vec<u32>,
    /// Parallel to `targets`.
    pub edge_labels: Vec<u32>,
    pub labels: Vec<Vec<Action>>,
}

impl Graph {
    pub fn state_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn transition_count(&self) -> usize {
        self.targets.len()
    }
    /// The transitions of `state`: (edge index, label index, target).
    pub fn successors(&self, state: u32) -> impl Iterator<Item = (usize, u32, u32)> + '_ {
        let s = state as usize;
        let start = self.offsets.get(s).copied().unwrap_or(0) as usize;
        let end = self.offsets.get(s + 1).copied().unwrap_or(0) as usize;
        (start..end.max(start))
            .filter_map(move |e| Some((e, *self.edge_labels.get(e)?, *self.targets.get(e)?)))
    }
    pub fn label(&self, label: u32) -> &[Action] {
        self.labels.get(label as usize).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Builds a graph from an edge list `(source, label, target)` (any order) and labels.
    pub fn from_edges(states: usize, mut edges: Vec<(u32, u32, u32)>, labels: Vec<Vec<Action>>) -> Graph {
        edges.sort_unstable_by_key(|&(s, _, _)| s);
        let mut offsets = Vec::with_capacity(states + 1);
        let mut next = 0usize;
        offsets.push(0);
        for s in 0..states {
            while edges.get(next).is_some_and(|&(src, _, _)| src as usize == s) {
                next += 1;
            }
            offsets.push(u32::try_from(next).unwrap_or(u32::MAX));
        }
        let targets = edges.iter().map(|&(_, _, t)| t).collect();
        let edge_labels = edges.iter().map(|&(_, l, _)| l).collect();
        Graph { offsets, targets, edge_labels, labels }
    }
}
