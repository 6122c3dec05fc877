//! `lcc-viz`: interaction diagrams from the typed IR of `lcc-check`.
//!
//! [`interaction_dot`] draws a model as Graphviz DOT: one lane (a cluster) per role with its
//! events in order down the lane, guards as diamonds before their event, `or` and `par` as
//! labelled branch points, role changes as bold arrows into the target lane, and messages as
//! dashed arrows from every send to every receive that can take it (the IR's message
//! signatures say which). [`sequence_mermaid`] and [`sequence_dot`] draw a trace (a
//! counterexample of `lcc verify`). Pure: text in, text out.

mod graph_svg;
mod sequence;
mod swimlane;

pub use graph_svg::graph_svg;
pub use sequence::{sequence_dot, sequence_mermaid, state_space_dot};
pub use swimlane::{Edge, EdgeKind, LaneBox, Layout, NodeBox, Rect, interaction_layout, interaction_svg};

use lcc_check::ir::{self, ClauseId, Model, Node, NodeKind};
use lcc_syntax::ast::Span;
use std::collections::HashMap;
use std::fmt::Write as _;

/// What to draw.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only these roles (by name); empty means every role.
    pub roles: Vec<String>,
    /// Labels longer than this are shortened, with the whole text in the tooltip.
    pub max_label: Option<usize>,
}

/// How a message arrow is drawn in DOT: it does not rank its ends (the lanes keep their order).
const MESSAGE_EDGE: &str = "style=dashed, color=\"#a83232\", fontcolor=\"#a83232\", constraint=false";
/// The same arrow ranking its receive at or below its send.
const MESSAGE_EDGE_RANKED: &str =
    "style=dashed, color=\"#a83232\", fontcolor=\"#a83232\", weight=0, minlen=0";

/// The interaction DOT with message arrows that take part in ranking (a receive never above
/// its send). Graphviz's `dot` fails on some graphs with many edges that rank nothing ("trouble
/// in init_rank", a long-standing dot bug); this form of the same drawing avoids it, so the CLI
/// retries with it when that happens.
pub fn with_ranked_messages(dot: &str) -> String {
    dot.replace(MESSAGE_EDGE, MESSAGE_EDGE_RANKED)
}

/// Labels are shortened past this many characters unless [`Options::max_label`] says otherwise.
pub const DEFAULT_MAX_LABEL: usize = 40;

/// What a node of the interaction diagram stands for (and so how it is drawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A send, a receive or `null`-free event: a rounded box.
    Event,
    /// A role change: a bold box with an arrow into the target lane.
    RoleChange,
    /// A guard (constraint) before its event: a diamond.
    Guard,
    /// The branch point of `or`.
    Or,
    /// The branch point of `par`.
    Par,
    /// Where the branches of a `par` join.
    ParEnd,
    /// `null`.
    Null,
    /// A part of the clause that did not parse.
    Unparsed,
}

/// A node: its shape, its (possibly shortened) label and its whole text.
#[derive(Clone, Debug)]
pub(crate) struct DiagramNode {
    pub(crate) shape: Shape,
    pub(crate) label: String,
    pub(crate) full: String,
}

/// The control structure of a clause body, kept for the swimlane layout.
#[derive(Clone, Debug)]
pub(crate) enum Block {
    Node(usize),
    Seq(Vec<Block>),
    Branch { head: usize, numbered: bool, arms: Vec<Block>, join: Option<usize> },
}

/// One lane: a role, its title and the bodies of its clauses.
#[derive(Clone, Debug)]
pub(crate) struct DiagramLane {
    pub(crate) role: String,
    pub(crate) title: String,
    pub(crate) clauses: Vec<Block>,
    /// The head of each clause in `clauses` (`a(mturk(L), M)`), written above all but the first.
    pub(crate) heads: Vec<String>,
    /// First node of the first clause body, where role changes into this role arrive.
    pub(crate) entry: Option<usize>,
}

/// An arrow between lanes (or back to the top of the same lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    RoleChange,
    Message,
}

#[derive(Clone, Debug)]
pub(crate) struct Link {
    pub(crate) kind: LinkKind,
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) label: String,
}

/// The drawing of a model, independent of the output format: the DOT text (written as the
/// lanes are walked, so its node order is the writing order of the model) and the structure
/// the swimlane layout of [`interaction_svg`] needs.
pub(crate) struct Diagram {
    pub(crate) dot: String,
    pub(crate) lanes: Vec<DiagramLane>,
    pub(crate) nodes: Vec<DiagramNode>,
    pub(crate) links: Vec<Link>,
}

struct Drawing<'a> {
    model: &'a Model,
    source: &'a str,
    max_label: usize,
    out: String,
    nodes: Vec<DiagramNode>,
    /// Event node per event span (for message and role-change arrows).
    events: HashMap<(ClauseId, Span), usize>,
    /// (event node, role of its clause, target role).
    role_changes: Vec<(usize, ir::RoleId, ir::RoleId)>,
}

/// The whole model as one DOT graph.
pub fn interaction_dot(model: &Model, source: &str, options: &Options) -> String {
    diagram(model, source, options).dot
}

/// DOT name of node `index`.
fn dot_id(index: usize) -> String {
    format!("n{}", index + 1)
}

pub(crate) fn diagram(model: &Model, source: &str, options: &Options) -> Diagram {
    let mut d = Drawing {
        model,
        source,
        max_label: options.max_label.unwrap_or(DEFAULT_MAX_LABEL).max(4),
        out: String::new(),
        nodes: Vec::new(),
        events: HashMap::new(),
        role_changes: Vec::new(),
    };
    d.out.push_str("digraph interaction {\n");
    d.out.push_str("  rankdir=TB; compound=true; newrank=true; nodesep=0.4; ranksep=0.35;\n");
    d.out.push_str("  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=rounded];\n");
    d.out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let selected = |name: &str| options.roles.is_empty() || options.roles.iter().any(|r| r == name);
    let mut lanes: Vec<DiagramLane> = Vec::new();
    // Cluster name and lane index per role.
    let mut lane_of: HashMap<ir::RoleId, (String, usize)> = HashMap::new();
    for (index, role) in model.roles.iter().enumerate() {
        if !selected(&role.name) {
            continue;
        }
        let role_id = ir::RoleId(u32::try_from(index).unwrap_or(u32::MAX));
        lane_of.insert(role_id, (format!("cluster_{index}"), lanes.len()));
        lanes.push(d.lane(index, role));
    }
    let mut links = Vec::new();
    // Role changes: into the lane of the target role.
    for (from, from_role, role) in std::mem::take(&mut d.role_changes) {
        if let Some((cluster, lane)) = lane_of.get(&role)
            && let Some(entry) = lanes.get(*lane).and_then(|l| l.entry)
        {
            // Role changes do not rank (else Graphviz puts a lane's first event below the last
            // event of every lane that returns to it); into another lane: to its box.
            let head = if from_role == role { String::new() } else { format!(", lhead={cluster}") };
            let _ = writeln!(
                d.out,
                "  {} -> {} [style=bold, color=\"#1f5fa8\", constraint=false{head}];",
                dot_id(from),
                dot_id(entry)
            );
            let label = d.nodes.get(from).map(|n| n.full.clone()).unwrap_or_default();
            links.push(Link { kind: LinkKind::RoleChange, from, to: entry, label });
        }
    }
    // Messages: every send to every receive with the same signature.
    for sig in &model.messages {
        for send in &sig.sends {
            for receive in &sig.receives {
                let (Some(&from), Some(&to)) =
                    (d.events.get(&(send.clause, send.span)), d.events.get(&(receive.clause, receive.span)))
                else {
                    continue;
                };
                let label = format!("{}/{}", sig.functor, sig.arity);
                let _ = writeln!(
                    d.out,
                    "  {} -> {} [{MESSAGE_EDGE}, label={}];",
                    dot_id(from),
                    dot_id(to),
                    quote(&label)
                );
                links.push(Link { kind: LinkKind::Message, from, to, label });
            }
        }
    }
    d.out.push_str("}\n");
    Diagram { dot: d.out, lanes, nodes: d.nodes, links }
}

impl Drawing<'_> {
    fn text(&self, span: Span) -> String {
        let text = self.source.get(span.start as usize..span.end as usize).unwrap_or("");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A node with a shortened label and the whole text as its tooltip.
    fn node(&mut self, shape: Shape, text: &str, attrs: &str) -> usize {
        let index = self.nodes.len();
        let short: String = if text.chars().count() > self.max_label {
            let mut s: String = text.chars().take(self.max_label - 1).collect();
            s.push('…');
            s
        } else {
            text.to_string()
        };
        let _ = writeln!(
            self.out,
            "    {} [label={}, tooltip={}{attrs}];",
            dot_id(index),
            quote(&short),
            quote(text)
        );
        self.nodes.push(DiagramNode { shape, label: short, full: text.to_string() });
        index
    }

    fn lane(&mut self, index: usize, role: &ir::Role) -> DiagramLane {
        let id = format!("cluster_{index}");
        let clauses: Vec<(ClauseId, &ir::Clause)> =
            role.clauses.iter().filter_map(|&c| Some((c, self.model.clause(c)?))).collect();
        let title = clauses
            .first()
            .map(|(_, c)| self.text(c.head_span))
            .unwrap_or_else(|| format!("a({}, _)", role.name));
        let _ = writeln!(self.out, "  subgraph {id} {{");
        let _ = writeln!(
            self.out,
            "    label={}; labelloc=t; style=\"rounded,filled\"; fillcolor=\"#f4f6fa\"; color=\"#8a94a6\"; fontname=\"Helvetica-Bold\"; fontsize=12;",
            quote(&title)
        );
        let mut entry = None;
        let mut blocks = Vec::new();
        let mut heads = Vec::new();
        for (clause_id, clause) in clauses {
            let Some(body) = &clause.body else { continue };
            heads.push(self.text(clause.head_span));
            let (block, entries, _) = self.flow(clause_id, body);
            if entry.is_none() {
                entry = entries.first().copied();
            }
            blocks.push(block);
        }
        self.out.push_str("  }\n");
        DiagramLane { role: role.name.to_string(), title, clauses: blocks, heads, entry }
    }

    fn connect(&mut self, from: &[usize], to: &[usize], label: Option<&str>) {
        for &f in from {
            for &t in to {
                match label {
                    Some(l) => {
                        let _ =
                            writeln!(self.out, "    {} -> {} [label={}];", dot_id(f), dot_id(t), quote(l));
                    }
                    None => {
                        let _ = writeln!(self.out, "    {} -> {};", dot_id(f), dot_id(t));
                    }
                }
            }
        }
    }

    /// Draws a definition; returns its block, its entry and its exit nodes.
    fn flow(&mut self, clause: ClauseId, node: &Node) -> (Block, Vec<usize>, Vec<usize>) {
        match &node.kind {
            NodeKind::Then(children) => {
                let mut entries = Vec::new();
                let mut exits: Vec<usize> = Vec::new();
                let mut blocks = Vec::new();
                for (i, child) in children.iter().enumerate() {
                    let (b, e, x) = self.flow(clause, child);
                    if i == 0 {
                        entries = e;
                    } else {
                        self.connect(&exits, &e, None);
                    }
                    exits = x;
                    blocks.push(b);
                }
                (Block::Seq(blocks), entries, exits)
            }
            NodeKind::Or(children) | NodeKind::Par(children) => {
                let is_or = matches!(node.kind, NodeKind::Or(_));
                let branch = self.node(
                    if is_or { Shape::Or } else { Shape::Par },
                    if is_or { "or" } else { "par" },
                    ", shape=circle, style=filled, fillcolor=\"#ffffff\", width=0.3, fixedsize=false",
                );
                let mut exits = Vec::new();
                let mut arms = Vec::new();
                for (i, child) in children.iter().enumerate() {
                    let (b, e, x) = self.flow(clause, child);
                    // `or` alternatives are tried in writing order: number them.
                    let label = is_or.then(|| (i + 1).to_string());
                    self.connect(&[branch], &e, label.as_deref());
                    exits.extend(x);
                    arms.push(b);
                }
                let mut join = None;
                if !is_or {
                    let end = self.node(Shape::ParEnd, "par end", ", shape=circle, width=0.3");
                    self.connect(&exits, &[end], None);
                    exits = vec![end];
                    join = Some(end);
                }
                (Block::Branch { head: branch, numbered: is_or, arms, join }, vec![branch], exits)
            }
            NodeKind::Error => {
                let id = self.node(Shape::Unparsed, "(unparsed)", ", style=dashed");
                (Block::Node(id), vec![id], vec![id])
            }
            kind => {
                let guard = kind.guard();
                let (text, shape, attrs) = match kind {
                    NodeKind::Send { message, to, .. } => {
                        (format!("{} ⇒ {}", self.text(message.span()), self.text(to.span)), Shape::Event, "")
                    }
                    NodeKind::Receive { message, from, .. } => (
                        format!("{} ⇐ {}", self.text(message.span()), self.text(from.span)),
                        Shape::Event,
                        "",
                    ),
                    NodeKind::RoleChange { target, .. } => (
                        self.text(target.span),
                        Shape::RoleChange,
                        ", style=\"rounded,bold\", color=\"#1f5fa8\"",
                    ),
                    _ => ("null".to_string(), Shape::Null, ", shape=ellipse"),
                };
                let event = self.node(shape, &text, attrs);
                self.events.insert((clause, node.span), event);
                if let NodeKind::RoleChange { target, .. } = kind
                    && let Some(role) = target.role
                    && let Some(own) = self.model.clause(clause).map(|c| c.role)
                {
                    self.role_changes.push((event, own, role));
                }
                match guard {
                    Some(cond) => {
                        let text = self.text(cond.span());
                        let diamond = self.node(
                            Shape::Guard,
                            &text,
                            ", shape=diamond, style=filled, fillcolor=\"#fff7e0\"",
                        );
                        self.connect(&[diamond], &[event], None);
                        (
                            Block::Seq(vec![Block::Node(diamond), Block::Node(event)]),
                            vec![diamond],
                            vec![event],
                        )
                    }
                    None => (Block::Node(event), vec![event], vec![event]),
                }
            }
        }
    }
}

/// A DOT string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
