//! `lcc-viz`: interaction diagrams from the typed IR of `lcc-check`.
//!
//! [`interaction_dot`] draws a model as Graphviz DOT: one lane (a cluster) per role with its
//! events in order down the lane, guards as diamonds before their event, `or` and `par` as
//! labelled branch points, role changes as bold arrows into the target lane, and messages as
//! dashed arrows from every send to every receive that can take it (the IR's message
//! signatures say which). [`sequence_mermaid`] and [`sequence_dot`] draw a trace (a
//! counterexample of `lcc verify`). Pure: text in, text out.

mod sequence;

pub use sequence::{sequence_dot, sequence_mermaid, state_space_dot};

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

/// Labels are shortened past this many characters unless [`Options::max_label`] says otherwise.
pub const DEFAULT_MAX_LABEL: usize = 40;

struct Lane {
    id: String,
    /// First node of the clause body, where role changes into this role arrive.
    entry: Option<String>,
}

struct Drawing<'a> {
    model: &'a Model,
    source: &'a str,
    max_label: usize,
    out: String,
    next: usize,
    /// Event node per event span (for message and role-change arrows).
    events: HashMap<(ClauseId, Span), String>,
    /// (event node, role of its clause, target role).
    role_changes: Vec<(String, ir::RoleId, ir::RoleId)>,
}

/// The whole model as one DOT graph.
pub fn interaction_dot(model: &Model, source: &str, options: &Options) -> String {
    let mut d = Drawing {
        model,
        source,
        max_label: options.max_label.unwrap_or(DEFAULT_MAX_LABEL).max(4),
        out: String::new(),
        next: 0,
        events: HashMap::new(),
        role_changes: Vec::new(),
    };
    d.out.push_str("digraph interaction {\n");
    d.out.push_str("  rankdir=TB; compound=true; newrank=true; nodesep=0.4; ranksep=0.35;\n");
    d.out.push_str("  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=rounded];\n");
    d.out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let selected = |name: &str| options.roles.is_empty() || options.roles.iter().any(|r| r == name);
    let mut lanes: HashMap<ir::RoleId, Lane> = HashMap::new();
    for (index, role) in model.roles.iter().enumerate() {
        if !selected(&role.name) {
            continue;
        }
        let role_id = ir::RoleId(u32::try_from(index).unwrap_or(u32::MAX));
        let lane = d.lane(index, role);
        lanes.insert(role_id, lane);
    }
    // Role changes: into the lane of the target role.
    for (from, from_role, role) in std::mem::take(&mut d.role_changes) {
        if let Some(lane) = lanes.get(&role)
            && let Some(entry) = &lane.entry
        {
            // Back into its own lane (recursion): a plain arrow; into another lane: to its box.
            let head = if from_role == role { String::new() } else { format!(", lhead={}", lane.id) };
            let _ = writeln!(d.out, "  {from} -> {entry} [style=bold, color=\"#1f5fa8\"{head}];");
        }
    }
    // Messages: every send to every receive with the same signature.
    for sig in &model.messages {
        for send in &sig.sends {
            for receive in &sig.receives {
                let (Some(from), Some(to)) =
                    (d.events.get(&(send.clause, send.span)), d.events.get(&(receive.clause, receive.span)))
                else {
                    continue;
                };
                let label = format!("{}/{}", sig.functor, sig.arity);
                let _ = writeln!(
                    d.out,
                    "  {from} -> {to} [style=dashed, color=\"#a83232\", fontcolor=\"#a83232\", constraint=false, label={}];",
                    quote(&label)
                );
            }
        }
    }
    d.out.push_str("}\n");
    d.out
}

impl Drawing<'_> {
    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("n{}", self.next)
    }

    fn text(&self, span: Span) -> String {
        let text = self.source.get(span.start as usize..span.end as usize).unwrap_or("");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A node with a shortened label and the whole text as its tooltip.
    fn node(&mut self, text: &str, attrs: &str) -> String {
        let id = self.fresh();
        let short: String = if text.chars().count() > self.max_label {
            let mut s: String = text.chars().take(self.max_label - 1).collect();
            s.push('…');
            s
        } else {
            text.to_string()
        };
        let _ = writeln!(self.out, "    {id} [label={}, tooltip={}{attrs}];", quote(&short), quote(text));
        id
    }

    fn lane(&mut self, index: usize, role: &ir::Role) -> Lane {
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
        for (clause_id, clause) in clauses {
            let Some(body) = &clause.body else { continue };
            let (entries, _) = self.flow(clause_id, body);
            if entry.is_none() {
                entry = entries.first().cloned();
            }
        }
        self.out.push_str("  }\n");
        Lane { id, entry }
    }

    fn connect(&mut self, from: &[String], to: &[String], label: Option<&str>) {
        for f in from {
            for t in to {
                match label {
                    Some(l) => {
                        let _ = writeln!(self.out, "    {f} -> {t} [label={}];", quote(l));
                    }
                    None => {
                        let _ = writeln!(self.out, "    {f} -> {t};");
                    }
                }
            }
        }
    }

    /// Draws a definition; returns its entry and exit nodes.
    fn flow(&mut self, clause: ClauseId, node: &Node) -> (Vec<String>, Vec<String>) {
        match &node.kind {
            NodeKind::Then(children) => {
                let mut entries = Vec::new();
                let mut exits: Vec<String> = Vec::new();
                for (i, child) in children.iter().enumerate() {
                    let (e, x) = self.flow(clause, child);
                    if i == 0 {
                        entries = e;
                    } else {
                        self.connect(&exits, &e, None);
                    }
                    exits = x;
                }
                (entries, exits)
            }
            NodeKind::Or(children) | NodeKind::Par(children) => {
                let is_or = matches!(node.kind, NodeKind::Or(_));
                let branch = self.node(
                    if is_or { "or" } else { "par" },
                    ", shape=circle, style=filled, fillcolor=\"#ffffff\", width=0.3, fixedsize=false",
                );
                let mut exits = Vec::new();
                for (i, child) in children.iter().enumerate() {
                    let (e, x) = self.flow(clause, child);
                    // `or` alternatives are tried in writing order: number them.
                    let label = is_or.then(|| (i + 1).to_string());
                    self.connect(std::slice::from_ref(&branch), &e, label.as_deref());
                    exits.extend(x);
                }
                if !is_or {
                    let join = self.node("par end", ", shape=circle, width=0.3");
                    self.connect(&exits, std::slice::from_ref(&join), None);
                    exits = vec![join];
                }
                (vec![branch], exits)
            }
            NodeKind::Error => {
                let id = self.node("(unparsed)", ", style=dashed");
                (vec![id.clone()], vec![id])
            }
            kind => {
                let guard = kind.guard();
                let (text, attrs) = match kind {
                    NodeKind::Send { message, to, .. } => {
                        (format!("{} ⇒ {}", self.text(message.span()), self.text(to.span)), "")
                    }
                    NodeKind::Receive { message, from, .. } => {
                        (format!("{} ⇐ {}", self.text(message.span()), self.text(from.span)), "")
                    }
                    NodeKind::RoleChange { target, .. } => {
                        (self.text(target.span), ", style=\"rounded,bold\", color=\"#1f5fa8\"")
                    }
                    _ => ("null".to_string(), ", shape=ellipse"),
                };
                let event = self.node(&text, attrs);
                self.events.insert((clause, node.span), event.clone());
                if let NodeKind::RoleChange { target, .. } = kind
                    && let Some(role) = target.role
                    && let Some(own) = self.model.clause(clause).map(|c| c.role)
                {
                    self.role_changes.push((event.clone(), own, role));
                }
                match guard {
                    Some(cond) => {
                        let text = self.text(cond.span());
                        let diamond =
                            self.node(&text, ", shape=diamond, style=filled, fillcolor=\"#fff7e0\"");
                        self.connect(std::slice::from_ref(&diamond), std::slice::from_ref(&event), None);
                        (vec![diamond], vec![event])
                    }
                    None => (vec![event.clone()], vec![event]),
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
