//! The swimlane layout behind `lcc viz -o FILE.svg` when Graphviz is not used.
//!
//! General graph layout crates (layout-rs) neither draw clusters nor keep a role's events in
//! one column, so an interaction diagram is laid out here, on a grid made for it:
//!
//! - one column (lane) per role, separated by *gutters*; one row per node, with a *gap* row
//!   above every row. A lane stacks its clause bodies; `or` and `par` put their arms side by
//!   side under the branch point, so each arm owns its columns down to the end of the branch.
//! - Every arrow is an orthogonal polyline whose horizontal segments lie in gap rows and whose
//!   vertical segments lie in a gutter, in the column of the node it leaves, or in the gap just
//!   above the node it enters. Gap rows and gutters hold no node, and a node's column below it
//!   is free down to the end of its arm, so **no arrow crosses a label**; arrows that would
//!   share a stretch of gap or gutter get separate tracks (interval colouring), and gaps and
//!   gutters grow to hold them.
//!
//! Text widths are estimated from DejaVu Sans metrics (the font named first in the SVG), with
//! a margin, since the renderer's font is not known here.

use crate::{Block, Diagram, LinkKind, Options, Shape, diagram};
use lcc_check::ir::Model;
use std::fmt::Write as _;

const FONT: f64 = 12.0;
const SMALL_FONT: f64 = 10.0;
const NODE_H: f64 = 26.0;
const BOX_PAD: f64 = 9.0;
const ARM_GAP: f64 = 26.0;
const LANE_PAD: f64 = 18.0;
const TITLE_H: f64 = 32.0;
/// Part of each gap row kept for the flow arrows and the numbers of `or` alternatives.
const GAP_BASE: f64 = 26.0;
const TRACK: f64 = 6.0;
const GUTTER_PAD: f64 = 8.0;
const GUTTER_MIN: f64 = 22.0;
const MARGIN: f64 = 12.0;
/// Rows left empty between two clauses of one lane.
const CLAUSE_SPACING: usize = 1;

/// An axis-aligned rectangle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn center_x(&self) -> f64 {
        self.x + self.w / 2.0
    }
}

/// A lane: the role it draws, its title and its rectangle.
#[derive(Clone, Debug)]
pub struct LaneBox {
    pub role: String,
    pub title: String,
    pub rect: Rect,
}

/// A placed node.
#[derive(Clone, Debug)]
pub struct NodeBox {
    pub shape: Shape,
    pub label: String,
    /// The whole text, shown as a tooltip.
    pub full: String,
    pub lane: usize,
    pub rect: Rect,
}

/// What an arrow stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// The order of events within a clause.
    Flow,
    RoleChange,
    Message,
}

/// A placed arrow: a polyline from a node's boundary to another's, the head at the end.
#[derive(Clone, Debug)]
pub struct Edge {
    pub kind: EdgeKind,
    pub from: usize,
    pub to: usize,
    pub points: Vec<(f64, f64)>,
    /// The number of an `or` alternative, drawn beside the arrow.
    pub number: Option<String>,
    /// Shown as a tooltip (the message signature, the role change).
    pub tooltip: Option<String>,
}

/// A laid-out interaction diagram.
#[derive(Clone, Debug)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub lanes: Vec<LaneBox>,
    pub nodes: Vec<NodeBox>,
    pub edges: Vec<Edge>,
    /// Where each `or` number is written: (text, baseline x, baseline y).
    pub numbers: Vec<(String, f64, f64)>,
    /// The heads of the second and later clauses of a lane, in the empty row above each:
    /// (text, centre x, baseline y).
    pub clause_heads: Vec<(String, f64, f64)>,
}

/// The interaction diagram of `model` as a standalone SVG document.
pub fn interaction_svg(model: &Model, source: &str, options: &Options) -> String {
    interaction_layout(model, source, options).svg()
}

/// Estimated advance of `text` in DejaVu Sans at `size` pixels.
fn text_width(text: &str, size: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            ' ' => 0.32,
            'i' | 'j' | 'l' | '\'' | '.' | ',' | ':' | ';' | '|' | '!' => 0.28,
            'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '{' | '}' => 0.40,
            'm' | 'w' | 'M' | 'W' | '@' | '%' => 0.95,
            '…' => 1.0,
            '⇒' | '⇐' | '=' | '<' | '>' | '+' | '~' => 0.84,
            '_' => 0.5,
            c if c.is_ascii_uppercase() => 0.72,
            c if c.is_ascii_digit() => 0.64,
            c if c.is_ascii() => 0.61,
            _ => 0.9,
        })
        .sum();
    em * size * 1.04
}

fn node_width(shape: Shape, label: &str) -> f64 {
    match shape {
        Shape::Or | Shape::Par => NODE_H,
        Shape::ParEnd => 14.0,
        // The pointed ends of the diamond take half the height on each side.
        Shape::Guard => text_width(label, FONT) + 2.0 * BOX_PAD + NODE_H,
        Shape::Null => text_width(label, FONT) + 4.0 * BOX_PAD,
        _ => (text_width(label, FONT) + 2.0 * BOX_PAD).max(44.0),
    }
}

/// Extent of a block around its axis, and its height in rows.
#[derive(Clone, Copy, Debug, Default)]
struct Extent {
    left: f64,
    right: f64,
    rows: usize,
}

struct Grid<'a> {
    diagram: &'a Diagram,
    widths: Vec<f64>,
    /// Per node: its lane, x of its centre relative to the lane's content, and its row.
    place: Vec<Option<(usize, f64, usize)>>,
    /// Flow arrows within lanes: (from, to, or-number).
    flows: Vec<(usize, usize, Option<String>)>,
}

impl Grid<'_> {
    fn measure(&self, block: &Block) -> Extent {
        match block {
            Block::Node(n) => {
                let w = self.widths.get(*n).copied().unwrap_or(0.0);
                Extent { left: w / 2.0, right: w / 2.0, rows: 1 }
            }
            Block::Seq(children) => children.iter().fold(Extent::default(), |acc, child| {
                let e = self.measure(child);
                Extent { left: acc.left.max(e.left), right: acc.right.max(e.right), rows: acc.rows + e.rows }
            }),
            Block::Branch { head, arms, join, .. } => {
                let arms_width = self.arms_width(arms);
                let head_w = self.widths.get(*head).copied().unwrap_or(0.0);
                let half = (arms_width / 2.0).max(head_w / 2.0);
                let rows = 1
                    + arms.iter().map(|a| self.measure(a).rows).max().unwrap_or(0)
                    + usize::from(join.is_some());
                Extent { left: half, right: half, rows }
            }
        }
    }

    fn arms_width(&self, arms: &[Block]) -> f64 {
        let sum: f64 = arms.iter().map(|a| self.measure(a)).map(|e| e.left + e.right).sum();
        sum + ARM_GAP * arms.len().saturating_sub(1) as f64
    }

    /// Places `block` with its axis at `axis`, from `row` down.
    fn place_block(&mut self, lane: usize, block: &Block, axis: f64, row: usize) {
        match block {
            Block::Node(n) => {
                if let Some(slot) = self.place.get_mut(*n) {
                    *slot = Some((lane, axis, row));
                }
            }
            Block::Seq(children) => {
                let mut r = row;
                for child in children {
                    self.place_block(lane, child, axis, r);
                    r += self.measure(child).rows;
                }
            }
            Block::Branch { head, arms, join, .. } => {
                if let Some(slot) = self.place.get_mut(*head) {
                    *slot = Some((lane, axis, row));
                }
                let mut x = axis - self.arms_width(arms) / 2.0;
                let mut deepest = 0;
                for arm in arms {
                    let e = self.measure(arm);
                    self.place_block(lane, arm, x + e.left, row + 1);
                    x += e.left + e.right + ARM_GAP;
                    deepest = deepest.max(e.rows);
                }
                if let Some(j) = join
                    && let Some(slot) = self.place.get_mut(*j)
                {
                    *slot = Some((lane, axis, row + 1 + deepest));
                }
            }
        }
    }

    fn entries(block: &Block) -> Vec<usize> {
        match block {
            Block::Node(n) => vec![*n],
            Block::Seq(children) => children.first().map(Self::entries).unwrap_or_default(),
            Block::Branch { head, .. } => vec![*head],
        }
    }

    fn exits(block: &Block) -> Vec<usize> {
        match block {
            Block::Node(n) => vec![*n],
            Block::Seq(children) => children.last().map(Self::exits).unwrap_or_default(),
            Block::Branch { join: Some(j), .. } => vec![*j],
            Block::Branch { arms, join: None, .. } => arms.iter().flat_map(Self::exits).collect(),
        }
    }

    /// The flow arrows of a block, in the same order as the DOT writes them.
    fn collect_flows(&mut self, block: &Block) {
        match block {
            Block::Node(_) => {}
            Block::Seq(children) => {
                for pair in children.windows(2) {
                    if let [a, b] = pair {
                        for from in Self::exits(a) {
                            for to in Self::entries(b) {
                                self.flows.push((from, to, None));
                            }
                        }
                    }
                }
                for child in children {
                    self.collect_flows(child);
                }
            }
            Block::Branch { head, numbered, arms, join } => {
                for (i, arm) in arms.iter().enumerate() {
                    let number = numbered.then(|| (i + 1).to_string());
                    for to in Self::entries(arm) {
                        self.flows.push((*head, to, number.clone()));
                    }
                    self.collect_flows(arm);
                    if let Some(j) = join {
                        for from in Self::exits(arm) {
                            self.flows.push((from, *j, None));
                        }
                    }
                }
            }
        }
    }
}

/// Assigns each interval `[lo, hi]` the lowest track on which it overlaps no other; returns the
/// tracks and how many were used.
fn colour(intervals: &[(f64, f64)], separation: f64) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (intervals.get(a).map(|i| i.0), intervals.get(b).map(|i| i.0));
        x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut track_end: Vec<f64> = Vec::new();
    let mut tracks = vec![0; intervals.len()];
    for i in order {
        let Some(&(lo, hi)) = intervals.get(i) else { continue };
        let free = track_end.iter().position(|&end| end + separation <= lo);
        let t = match free {
            Some(t) => t,
            None => {
                track_end.push(f64::NEG_INFINITY);
                track_end.len() - 1
            }
        };
        if let Some(end) = track_end.get_mut(t) {
            *end = hi;
        }
        if let Some(slot) = tracks.get_mut(i) {
            *slot = t;
        }
    }
    (tracks, track_end.len())
}

/// A link routed on the grid, before coordinates are known.
struct Route {
    kind: LinkKind,
    from: usize,
    to: usize,
    tooltip: String,
    /// Gap below the source, gap above the target.
    gap_out: usize,
    gap_in: usize,
    /// The gutter the link runs along (unused when both gaps are the same).
    gutter: usize,
}

/// Lays out the interaction diagram of `model`.
pub fn interaction_layout(model: &Model, source: &str, options: &Options) -> Layout {
    let diagram = diagram(model, source, options);
    let widths: Vec<f64> = diagram.nodes.iter().map(|n| node_width(n.shape, &n.label)).collect();
    let mut grid =
        Grid { diagram: &diagram, widths, place: vec![None; diagram.nodes.len()], flows: Vec::new() };

    // Rows and x within each lane's content.
    let mut lane_content: Vec<(f64, usize)> = Vec::new(); // (content width, rows)
    let mut head_rows: Vec<(usize, f64, usize, String)> = Vec::new(); // (lane, axis, row, text)
    for (li, lane) in grid.diagram.lanes.iter().enumerate() {
        let extents: Vec<Extent> = lane.clauses.iter().map(|b| grid.measure(b)).collect();
        let left = extents.iter().map(|e| e.left).fold(0.0, f64::max);
        let right = extents.iter().map(|e| e.right).fold(0.0, f64::max);
        let title_w = text_width(&lane.title, FONT + 1.0) + 8.0;
        let heads_w = lane.heads.iter().map(|h| text_width(h, SMALL_FONT + 1.0) + 8.0).fold(0.0, f64::max);
        let content_w = (left + right).max(title_w).max(heads_w).max(60.0);
        // Clause bodies share one axis, centred in the lane.
        let axis = content_w / 2.0 - (left + right) / 2.0 + left;
        let mut row = 0;
        for (i, (block, e)) in lane.clauses.iter().zip(&extents).enumerate() {
            if i > 0
                && let Some(head) = lane.heads.get(i)
            {
                head_rows.push((li, content_w / 2.0, row - 1, head.clone()));
            }
            grid.place_block(li, block, axis, row);
            row += e.rows + CLAUSE_SPACING;
        }
        lane_content.push((content_w, row.saturating_sub(CLAUSE_SPACING)));
        for block in &lane.clauses {
            grid.collect_flows(block);
        }
    }
    let lanes_n = lane_content.len();
    let rows = lane_content.iter().map(|l| l.1).max().unwrap_or(0).max(1);

    let row_of = |n: usize| grid.place.get(n).copied().flatten().map(|p| p.2);
    let lane_of = |n: usize| grid.place.get(n).copied().flatten().map(|p| p.0);

    // Links on the grid: out through the gap below the source, in through the gap above the
    // target, along the gutter beside the source's lane on the target's side.
    let mut routes: Vec<Route> = Vec::new();
    for link in &grid.diagram.links {
        let (Some(rs), Some(rt), Some(ls), Some(lt)) =
            (row_of(link.from), row_of(link.to), lane_of(link.from), lane_of(link.to))
        else {
            continue;
        };
        let gutter = if lt < ls { ls } else { ls + 1 };
        routes.push(Route {
            kind: link.kind,
            from: link.from,
            to: link.to,
            tooltip: link.label.clone(),
            gap_out: rs + 1,
            gap_in: rt,
            gutter,
        });
    }

    // Gutter tracks: vertical stretches, in gap indices.
    let mut gutter_tracks = vec![0usize; lanes_n + 1];
    let mut route_gutter_track = vec![0usize; routes.len()];
    for g in 0..=lanes_n {
        let members: Vec<usize> = (0..routes.len())
            .filter(|&i| routes.get(i).is_some_and(|r| r.gutter == g && r.gap_out != r.gap_in))
            .collect();
        let spans: Vec<(f64, f64)> = members
            .iter()
            .filter_map(|&i| routes.get(i))
            .map(|r| (r.gap_out.min(r.gap_in) as f64, r.gap_out.max(r.gap_in) as f64))
            .collect();
        let (tracks, used) = colour(&spans, 0.5);
        for (&i, t) in members.iter().zip(tracks) {
            if let Some(slot) = route_gutter_track.get_mut(i) {
                *slot = t;
            }
        }
        if let Some(slot) = gutter_tracks.get_mut(g) {
            *slot = used;
        }
    }

    // x: margin, gutter 0, lane 0, gutter 1, ..., gutter n.
    let gutter_w: Vec<f64> =
        gutter_tracks.iter().map(|&t| (2.0 * GUTTER_PAD + t as f64 * TRACK).max(GUTTER_MIN)).collect();
    let mut gutter_x = Vec::with_capacity(lanes_n + 1);
    let mut lane_x = Vec::with_capacity(lanes_n);
    let mut x = MARGIN;
    for i in 0..=lanes_n {
        gutter_x.push(x);
        x += gutter_w.get(i).copied().unwrap_or(GUTTER_MIN);
        if let Some((w, _)) = lane_content.get(i) {
            lane_x.push(x);
            x += w + 2.0 * LANE_PAD;
        }
    }
    let width = x + MARGIN;
    let node_x = |n: usize| -> Option<f64> {
        let (lane, cx, _) = grid.place.get(n).copied().flatten()?;
        Some(lane_x.get(lane)? + LANE_PAD + cx)
    };
    let half = |n: usize| grid.widths.get(n).copied().unwrap_or(0.0) / 2.0;
    // Where links leave a node (right part of its bottom) and enter one (left part of its top),
    // apart from the flow arrows at the centre.
    let exit_x = |n: usize| node_x(n).map(|x| x + (half(n) - 10.0).max(half(n) / 2.0));
    let enter_x = |n: usize| node_x(n).map(|x| x - (half(n) - 10.0).max(half(n) / 2.0));
    let gutter_track_x = |g: usize, t: usize| {
        gutter_x.get(g).copied().unwrap_or(MARGIN) + GUTTER_PAD + (t as f64 + 0.5) * TRACK
    };

    // Gap tracks: horizontal stretches of links, per gap.
    let mut horizontals: Vec<Vec<(usize, u8, f64, f64)>> = vec![Vec::new(); rows + 1];
    for (i, r) in routes.iter().enumerate() {
        let (Some(xs), Some(xt)) = (exit_x(r.from), enter_x(r.to)) else { continue };
        if r.gap_out == r.gap_in {
            if let Some(h) = horizontals.get_mut(r.gap_out) {
                h.push((i, 0, xs.min(xt), xs.max(xt)));
            }
        } else {
            let gx = gutter_track_x(r.gutter, route_gutter_track.get(i).copied().unwrap_or(0));
            if let Some(h) = horizontals.get_mut(r.gap_out) {
                h.push((i, 0, xs.min(gx), xs.max(gx)));
            }
            if let Some(h) = horizontals.get_mut(r.gap_in) {
                h.push((i, 1, xt.min(gx), xt.max(gx)));
            }
        }
    }
    // (route, which stretch) -> track; tracks used per gap.
    let mut stretch_track: std::collections::HashMap<(usize, u8), usize> = std::collections::HashMap::new();
    let mut gap_tracks = vec![0usize; rows + 1];
    for (g, list) in horizontals.iter().enumerate() {
        let spans: Vec<(f64, f64)> = list.iter().map(|s| (s.2, s.3)).collect();
        let (tracks, used) = colour(&spans, 4.0);
        for (s, t) in list.iter().zip(tracks) {
            stretch_track.insert((s.0, s.1), t);
        }
        if let Some(slot) = gap_tracks.get_mut(g) {
            *slot = used;
        }
    }

    // y: title band, then gap 0, row 0, gap 1, row 1, ..., row n-1, gap n.
    let top = MARGIN + TITLE_H;
    let mut gap_y = Vec::with_capacity(rows + 1);
    let mut row_y = Vec::with_capacity(rows);
    let mut y = top;
    for g in 0..=rows {
        gap_y.push(y);
        y += 4.0 + gap_tracks.get(g).copied().unwrap_or(0) as f64 * TRACK + GAP_BASE;
        if g < rows {
            row_y.push(y);
            y += NODE_H;
        }
    }
    let lanes_bottom = y;
    let height = lanes_bottom + MARGIN;
    let link_track_y =
        |g: usize, t: usize| gap_y.get(g).copied().unwrap_or(top) + 4.0 + (t as f64 + 0.5) * TRACK;
    // The flow arrows of a gap run below its link tracks.
    let flow_y = |g: usize| {
        gap_y.get(g).copied().unwrap_or(top)
            + 4.0
            + gap_tracks.get(g).copied().unwrap_or(0) as f64 * TRACK
            + 8.0
    };

    let rect_of = |n: usize| -> Option<Rect> {
        let (_, _, row) = grid.place.get(n).copied().flatten()?;
        let cx = node_x(n)?;
        let w = grid.widths.get(n).copied()?;
        // Round shapes are as tall as they are wide, centred in their row.
        let shape = grid.diagram.nodes.get(n)?.shape;
        let h = if matches!(shape, Shape::Or | Shape::Par | Shape::ParEnd) { w.min(NODE_H) } else { NODE_H };
        Some(Rect { x: cx - w / 2.0, y: row_y.get(row)? + (NODE_H - h) / 2.0, w, h })
    };

    let mut nodes = Vec::new();
    let mut index_of = vec![None; grid.diagram.nodes.len()];
    for (n, node) in grid.diagram.nodes.iter().enumerate() {
        let (Some(rect), Some(lane)) = (rect_of(n), lane_of(n)) else { continue };
        if let Some(slot) = index_of.get_mut(n) {
            *slot = Some(nodes.len());
        }
        nodes.push(NodeBox {
            shape: node.shape,
            label: node.label.clone(),
            full: node.full.clone(),
            lane,
            rect,
        });
    }

    let mut edges = Vec::new();
    let mut numbers = Vec::new();
    for (from, to, number) in &grid.flows {
        let (Some(a), Some(b), Some(rb)) = (rect_of(*from), rect_of(*to), row_of(*to)) else { continue };
        let (xa, xb) = (a.center_x(), b.center_x());
        let points = if (xa - xb).abs() < 0.5 {
            vec![(xa, a.bottom()), (xa, b.y)]
        } else {
            let yg = flow_y(rb);
            vec![(xa, a.bottom()), (xa, yg), (xb, yg), (xb, b.y)]
        };
        if let Some(text) = number {
            numbers.push((text.clone(), xb + 4.0, b.y - 4.0));
        }
        if let (Some(f), Some(t)) =
            (index_of.get(*from).copied().flatten(), index_of.get(*to).copied().flatten())
        {
            edges.push(Edge {
                kind: EdgeKind::Flow,
                from: f,
                to: t,
                points,
                number: number.clone(),
                tooltip: None,
            });
        }
    }
    for (i, r) in routes.iter().enumerate() {
        let (Some(a), Some(b), Some(xs), Some(xt)) =
            (rect_of(r.from), rect_of(r.to), exit_x(r.from), enter_x(r.to))
        else {
            continue;
        };
        let track = |stretch: u8| stretch_track.get(&(i, stretch)).copied().unwrap_or(0);
        let points = if r.gap_out == r.gap_in {
            let y = link_track_y(r.gap_out, track(0));
            vec![(xs, a.bottom()), (xs, y), (xt, y), (xt, b.y)]
        } else {
            let gx = gutter_track_x(r.gutter, route_gutter_track.get(i).copied().unwrap_or(0));
            let (y1, y2) = (link_track_y(r.gap_out, track(0)), link_track_y(r.gap_in, track(1)));
            vec![(xs, a.bottom()), (xs, y1), (gx, y1), (gx, y2), (xt, y2), (xt, b.y)]
        };
        let kind = match r.kind {
            LinkKind::RoleChange => EdgeKind::RoleChange,
            LinkKind::Message => EdgeKind::Message,
        };
        if let (Some(f), Some(t)) =
            (index_of.get(r.from).copied().flatten(), index_of.get(r.to).copied().flatten())
        {
            edges.push(Edge { kind, from: f, to: t, points, number: None, tooltip: Some(r.tooltip.clone()) });
        }
    }

    let clause_heads = head_rows
        .into_iter()
        .filter_map(|(lane, cx, row, text)| {
            Some((text, lane_x.get(lane)? + LANE_PAD + cx, row_y.get(row)? + NODE_H / 2.0 + 4.0))
        })
        .collect();
    let lanes = grid
        .diagram
        .lanes
        .iter()
        .enumerate()
        .map(|(i, lane)| {
            let w = lane_content.get(i).map(|l| l.0).unwrap_or(0.0) + 2.0 * LANE_PAD;
            LaneBox {
                role: lane.role.clone(),
                title: lane.title.clone(),
                rect: Rect {
                    x: lane_x.get(i).copied().unwrap_or(MARGIN),
                    y: MARGIN,
                    w,
                    h: lanes_bottom - MARGIN,
                },
            }
        })
        .collect();
    Layout { width, height, lanes, nodes, edges, numbers, clause_heads }
}

/// Text for SVG content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

const FLOW_COLOUR: &str = "#555b66";
const ROLE_COLOUR: &str = "#1f5fa8";
const MESSAGE_COLOUR: &str = "#a83232";

impl Layout {
    /// The layout as a standalone SVG document: lanes as `<g class="lane" data-role=…>`,
    /// nodes as `<g class="node …">` with their whole text as `<title>` (a tooltip).
    pub fn svg(&self) -> String {
        let mut out = String::new();
        let (w, h) = (self.width.ceil(), self.height.ceil());
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"{FONT}\">"
        );
        out.push_str("<defs>\n");
        for (id, colour) in [("flow", FLOW_COLOUR), ("role", ROLE_COLOUR), ("message", MESSAGE_COLOUR)] {
            let _ = writeln!(
                out,
                "  <marker id=\"arrow-{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{colour}\"/></marker>"
            );
        }
        out.push_str("</defs>\n");
        let _ = writeln!(out, "<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>");
        for lane in &self.lanes {
            let r = lane.rect;
            let _ = writeln!(out, "<g class=\"lane\" data-role=\"{}\">", esc(&lane.role));
            let _ = writeln!(
                out,
                "  <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"8\" fill=\"#f4f6fa\" stroke=\"#8a94a6\"/>",
                r.x, r.y, r.w, r.h
            );
            let _ = writeln!(
                out,
                "  <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\"{}\">{}</text>",
                r.center_x(),
                r.y + TITLE_H / 2.0 + 5.0,
                FONT + 1.0,
                esc(&lane.title)
            );
            out.push_str("</g>\n");
        }
        out.push_str("<g class=\"edges\" fill=\"none\">\n");
        for edge in &self.edges {
            let (colour, extra, marker) = match edge.kind {
                EdgeKind::Flow => (FLOW_COLOUR, " stroke-width=\"1.2\"", "flow"),
                EdgeKind::RoleChange => (ROLE_COLOUR, " stroke-width=\"2\"", "role"),
                EdgeKind::Message => {
                    (MESSAGE_COLOUR, " stroke-width=\"1.2\" stroke-dasharray=\"5,3\"", "message")
                }
            };
            let points: Vec<String> = edge.points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let class = match edge.kind {
                EdgeKind::Flow => "flow",
                EdgeKind::RoleChange => "role-change",
                EdgeKind::Message => "message",
            };
            let _ = write!(
                out,
                "  <polyline class=\"{class}\" points=\"{}\" stroke=\"{colour}\"{extra} marker-end=\"url(#arrow-{marker})\">",
                points.join(" ")
            );
            if let Some(tip) = &edge.tooltip {
                let _ = write!(out, "<title>{}</title>", esc(tip));
            }
            out.push_str("</polyline>\n");
        }
        out.push_str("</g>\n");
        for (text, x, y) in &self.numbers {
            let _ = writeln!(
                out,
                "<text class=\"alternative\" x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{SMALL_FONT}\" fill=\"{FLOW_COLOUR}\">{}</text>",
                esc(text)
            );
        }
        for (text, x, y) in &self.clause_heads {
            let _ = writeln!(
                out,
                "<text class=\"clause-head\" x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\"{}\" fill=\"#4a5260\">{}</text>",
                SMALL_FONT + 1.0,
                esc(text)
            );
        }
        for node in &self.nodes {
            node_svg(&mut out, node);
        }
        out.push_str("</svg>\n");
        out
    }
}

fn node_svg(out: &mut String, node: &NodeBox) {
    let r = node.rect;
    let (cx, cy) = (r.center_x(), r.y + r.h / 2.0);
    let class = match node.shape {
        Shape::Event => "event",
        Shape::RoleChange => "role-change",
        Shape::Guard => "guard",
        Shape::Or => "or",
        Shape::Par => "par",
        Shape::ParEnd => "par-end",
        Shape::Null => "null",
        Shape::Unparsed => "unparsed",
    };
    let _ = write!(out, "<g class=\"node {class}\"><title>{}</title>", esc(&node.full));
    let text = |out: &mut String, size: f64| {
        let _ = write!(
            out,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{size}\">{}</text>",
            cy + size * 0.36,
            esc(&node.label)
        );
    };
    match node.shape {
        Shape::Event | Shape::Unparsed | Shape::RoleChange => {
            let stroke = match node.shape {
                Shape::RoleChange => format!("stroke=\"{ROLE_COLOUR}\" stroke-width=\"2\""),
                Shape::Unparsed => "stroke=\"#888888\" stroke-dasharray=\"4,3\"".to_string(),
                _ => "stroke=\"#3a3f47\"".to_string(),
            };
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" fill=\"#ffffff\" {stroke}/>",
                r.x, r.y, r.w, r.h
            );
            text(out, FONT);
        }
        Shape::Guard => {
            let d = r.h / 2.0;
            let _ = write!(
                out,
                "<polygon points=\"{:.1},{cy:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{cy:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"#fff7e0\" stroke=\"#b08a2e\"/>",
                r.x,
                r.x + d,
                r.y,
                r.right() - d,
                r.y,
                r.right(),
                r.right() - d,
                r.bottom(),
                r.x + d,
                r.bottom()
            );
            text(out, FONT);
        }
        Shape::Or | Shape::Par => {
            let _ = write!(
                out,
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{:.1}\" fill=\"#ffffff\" stroke=\"#3a3f47\"/>",
                r.w / 2.0
            );
            text(out, SMALL_FONT);
        }
        Shape::ParEnd => {
            let _ = write!(
                out,
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{:.1}\" fill=\"#3a3f47\"/>",
                r.w / 2.0
            );
        }
        Shape::Null => {
            let _ = write!(
                out,
                "<ellipse cx=\"{cx:.1}\" cy=\"{cy:.1}\" rx=\"{:.1}\" ry=\"{:.1}\" fill=\"#ffffff\" stroke=\"#3a3f47\"/>",
                r.w / 2.0,
                r.h / 2.0
            );
            text(out, FONT);
        }
    }
    out.push_str("</g>\n");
}
