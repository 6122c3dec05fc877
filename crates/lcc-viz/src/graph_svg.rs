//! Plain graphs (the DOT of [`crate::state_space_dot`]) drawn as SVG with no Graphviz, by the
//! pure-Rust layout of the `layout-rs` crate.
//!
//! The DOT is read with layout-rs's own parser, but the graph is built here from its syntax
//! tree rather than by layout-rs's `GraphBuilder`: that builder draws `shape=plaintext` as a
//! circle, reads `width` as a line width, ignores `penwidth` and `rounded` on nodes, turns an
//! unknown fill colour black, and sizes boxes at a whole font size per character (twice the
//! width the text needs). Building the graph ourselves keeps those attributes, which is all
//! of what `state_space_dot` emits. Clusters (`subgraph cluster_*`) are not drawn as boxes:
//! their nodes are laid out as plain nodes.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::gv::DotParser;
use layout::gv::parser::ast;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;
use std::collections::HashMap;

type Attrs = HashMap<String, String>;

/// Lays out `dot` (a `digraph` or `graph`) and draws it as SVG.
///
/// Honoured attributes: graph `rankdir`; node `label`, `shape` (`box`, `plaintext`/`plain`/
/// `none`, `circle`/`ellipse`/`point`, `doublecircle`; others are boxes), `style` (`filled`,
/// `rounded`, `dashed`), `color`, `fillcolor`, `penwidth`, `fontsize`; edge `label`, `style`
/// (`dashed`, `dotted`, `invis`), `color`, `penwidth`, `fontsize`, `arrowhead=none`. Text is
/// drawn in a sans-serif font. An error is a message for people (DOT that does not parse).
pub fn graph_svg(dot: &str) -> Result<String, String> {
    let graph = DotParser::new(dot).process().map_err(|e| format!("cannot read the DOT graph: {e}"))?;
    let mut reader = Reader::default();
    reader.graph(&graph, &Attrs::new(), &Attrs::new());
    let orientation = match reader.graph_attrs.get("rankdir").map(String::as_str) {
        Some("LR" | "RL") => Orientation::LeftToRight,
        _ => Orientation::TopToBottom,
    };
    if reader.order.is_empty() {
        // layout-rs cannot lay out an empty graph (it panics): an empty picture.
        return Ok(concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>",
            "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\"/>\n"
        )
        .to_string());
    }
    let mut vg = VisualGraph::new(orientation);
    let mut handles = HashMap::new();
    for name in &reader.order {
        let attrs = reader.nodes.get(name).cloned().unwrap_or_default();
        handles.insert(name.clone(), vg.add_node(element(name, &attrs, orientation)));
    }
    for (from, to, attrs, directed) in &reader.edges {
        if let (Some(&a), Some(&b)) = (handles.get(from), handles.get(to)) {
            vg.add_edge(arrow(attrs, *directed), a, b);
        }
    }
    let mut svg = SVGWriter::new();
    vg.do_it(false, false, false, &mut svg);
    // layout-rs writes every text in Times; lcc's diagrams are in a sans-serif font.
    Ok(svg.finalize().replace("font-family: Times, serif;", "font-family: Helvetica, Arial, sans-serif;"))
}

/// The nodes (in order of appearance), edges and graph attributes of a DOT syntax tree, with
/// `node [...]`/`edge [...]` defaults applied by scope as DOT does.
#[derive(Default)]
struct Reader {
    graph_attrs: Attrs,
    order: Vec<String>,
    nodes: HashMap<String, Attrs>,
    edges: Vec<(String, String, Attrs, bool)>,
}

impl Reader {
    fn graph(&mut self, graph: &ast::Graph, node_defaults: &Attrs, edge_defaults: &Attrs) {
        let mut node_defaults = node_defaults.clone();
        let mut edge_defaults = edge_defaults.clone();
        for stmt in &graph.list.list {
            match stmt {
                ast::Stmt::Attribute(a) => {
                    let target = match a.target {
                        ast::AttrStmtTarget::Graph => &mut self.graph_attrs,
                        ast::AttrStmtTarget::Node => &mut node_defaults,
                        ast::AttrStmtTarget::Edge => &mut edge_defaults,
                    };
                    target.extend(a.list.iter().cloned());
                }
                ast::Stmt::Node(n) => {
                    self.node(&n.id.name, &node_defaults);
                    if let Some(attrs) = self.nodes.get_mut(&n.id.name) {
                        attrs.extend(n.list.iter().cloned());
                    }
                }
                ast::Stmt::Edge(e) => {
                    let mut attrs = edge_defaults.clone();
                    attrs.extend(e.list.iter().cloned());
                    self.node(&e.from.name, &node_defaults);
                    let mut from = &e.from.name;
                    for (to, kind) in &e.to {
                        self.node(&to.name, &node_defaults);
                        let directed = matches!(kind, ast::ArrowKind::Arrow);
                        self.edges.push((from.clone(), to.name.clone(), attrs.clone(), directed));
                        from = &to.name;
                    }
                }
                ast::Stmt::SubGraph(g) => self.graph(g, &node_defaults, &edge_defaults),
            }
        }
    }

    /// Declares a node with the defaults of its first appearance.
    fn node(&mut self, name: &str, defaults: &Attrs) {
        if !self.nodes.contains_key(name) {
            self.order.push(name.to_string());
            self.nodes.insert(name.to_string(), defaults.clone());
        }
    }
}

fn number(attrs: &Attrs, key: &str) -> Option<f64> {
    attrs.get(key).and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| v.is_finite() && *v >= 0.0)
}

/// A whole number of pixels (layout-rs's unit for widths and font sizes), within reason.
fn pixels(value: f64, min: usize, max: usize) -> usize {
    // The value is finite and clamped, so the conversion is exact enough and cannot overflow.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let px = value.round().clamp(0.0, 1.0e6) as usize;
    px.clamp(min, max)
}

/// A DOT colour layout-rs understands (`#rrggbb`, an X11 name), the first of a `a:b` list.
fn color(attrs: &Attrs, key: &str) -> Option<Color> {
    let value = attrs.get(key)?;
    let first = value.split(':').next().unwrap_or(value).trim();
    if first == "transparent" || first == "none" {
        return Some(Color::transparent());
    }
    Color::from_name(first)
}

fn styles(attrs: &Attrs) -> Vec<&str> {
    attrs.get("style").map(|s| s.split(',').map(str::trim).collect()).unwrap_or_default()
}

fn element(name: &str, attrs: &Attrs, orientation: Orientation) -> Element {
    let label = attrs.get("label").cloned().unwrap_or_else(|| name.to_string());
    let font_size = pixels(number(attrs, "fontsize").unwrap_or(14.0), 4, 72);
    let style = styles(attrs);
    let invisible = style.contains(&"invis");
    let shape_name = attrs.get("shape").map(String::as_str).unwrap_or("ellipse");
    let plain = invisible || matches!(shape_name, "plaintext" | "plain" | "none");
    let (shape, round) = match shape_name {
        "circle" | "ellipse" | "oval" | "point" => (ShapeKind::Circle(label.clone()), false),
        "doublecircle" => (ShapeKind::DoubleCircle(label.clone()), false),
        _ => (ShapeKind::Box(label.clone()), style.contains(&"rounded")),
    };
    let line = if plain {
        Color::transparent()
    } else {
        color(attrs, "color").unwrap_or_else(|| Color::fast("black"))
    };
    let fill = if style.contains(&"filled") {
        color(attrs, "fillcolor")
            .or_else(|| color(attrs, "color"))
            .unwrap_or_else(|| Color::fast("lightgray"))
    } else {
        Color::fast("white")
    };
    let width = pixels(number(attrs, "penwidth").unwrap_or(1.0), 1, 10);
    let look = StyleAttr::new(line, width, Some(fill), if round { 6 } else { 0 }, font_size);
    // layout-rs sizes text at a whole font size per character; real text needs about 0.6 of
    // that (the sans-serif fonts used), so boxes are drawn at that width plus a margin.
    let lines = label.lines().count().max(1);
    let widest = label.lines().map(|l| l.chars().count()).max().unwrap_or(0).max(1);
    let f = font_size as f64;
    let mut size = Point::new(widest as f64 * f * 0.62 + 16.0, lines as f64 * f * 1.1 + 10.0);
    if !matches!(shape, ShapeKind::Box(_)) {
        // Room for the text inside an ellipse.
        size = Point::new(size.x * 1.3 + 4.0, size.y * 1.3 + 4.0);
        if matches!(shape, ShapeKind::DoubleCircle(_)) || shape_name == "circle" {
            let side = size.x.max(size.y);
            size = Point::new(side, side);
        }
    }
    let id = name.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    Element::create_with_properties(
        shape,
        look,
        orientation.flip(),
        size,
        format!("class=\"node\" id=\"{id}\""),
    )
}

fn arrow(attrs: &Attrs, directed: bool) -> Arrow {
    let style = styles(attrs);
    let line_style = if style.contains(&"invis") {
        LineStyleKind::None
    } else if style.contains(&"dashed") {
        LineStyleKind::Dashed
    } else if style.contains(&"dotted") {
        LineStyleKind::Dotted
    } else {
        LineStyleKind::Normal
    };
    let end = if directed && attrs.get("arrowhead").is_none_or(|a| a != "none") {
        LineEndKind::Arrow
    } else {
        LineEndKind::None
    };
    let look = StyleAttr::new(
        color(attrs, "color").unwrap_or_else(|| Color::fast("black")),
        pixels(number(attrs, "penwidth").unwrap_or(1.0), 1, 10),
        None,
        0,
        pixels(number(attrs, "fontsize").unwrap_or(14.0), 4, 72),
    );
    let label = attrs.get("label").cloned().unwrap_or_default();
    Arrow::new(LineEndKind::None, end, line_style, &label, &look, &None, &None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::graph_svg;

    const SMALL: &str = r##"digraph states {
  rankdir=TB; nodesep=0.3; ranksep=0.4;
  node [fontname="Helvetica", fontsize=9, shape=box, style="rounded,filled", fillcolor="#ffffff"];
  edge [fontname="Helvetica", fontsize=8];
  s0 [label="b: buyer\ns: shopkeeper", fillcolor="#ffffff", penwidth=2];
  s1 [label="b: -\ns: -\nsuccess", fillcolor="#cdeccd"];
  s2 [label="b: buyer\ns: shopkeeper\ndeadlock", fillcolor="#f8c9c9"];
  s0 -> s1 [label="send(b, s, \"ask\" <&>)"];
  s0 -> s2 [label="call(b, want(_))"];
  s2 -> s2;
  cut [shape=plaintext, label="(state bound reached: not every state is shown)"];
}
"##;

    #[test]
    fn a_small_state_space_is_drawn_as_well_formed_svg() {
        let svg = graph_svg(SMALL).unwrap();
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let nodes: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "g" && n.attribute("class") == Some("node"))
            .map(|n| n.attribute("id").unwrap().to_string())
            .collect();
        assert_eq!(nodes, ["s0", "s1", "s2", "cut"]);
        let text: String = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
        for expected in ["s: shopkeeper", "deadlock", "send(b, s, \"ask\" <&>)", "state bound reached"] {
            assert!(text.contains(expected), "{expected} missing from {text}");
        }
        // The fill colours and the bold initial state survive; no Times.
        assert!(svg.contains("#f8c9c9") && svg.contains("#cdeccd"), "{svg}");
        assert!(svg.contains("stroke-width=\"2\""), "{svg}");
        assert!(svg.contains("sans-serif") && !svg.contains("Times"), "{svg}");
        let width: f64 = root.attribute("width").unwrap().parse().unwrap();
        assert!(width > 50.0 && width < 3000.0, "{width}");
    }

    #[test]
    fn empty_graphs_and_bad_dot() {
        let empty = graph_svg("digraph g { }").unwrap();
        roxmltree::Document::parse(&empty).unwrap();
        let err = graph_svg("digraph g { a -> }").unwrap_err();
        assert!(err.contains("cannot read the DOT graph"), "{err}");
        assert!(graph_svg("").is_err());
        assert!(graph_svg("digraph { a [label=\"open").is_err());
    }
}
