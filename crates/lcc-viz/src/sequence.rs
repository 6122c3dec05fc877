//! Sequence diagrams of traces (a counterexample of `lcc verify`), as Mermaid and as DOT.

use lcc_check::mc::value::Action;
use lcc_check::mc::verify::Trace;

/// A trace as a Mermaid sequence diagram: one participant per peer (`ids`, in scenario
/// order), an arrow per send, notes for receives, constraint calls, role changes and the end
/// of each peer, a `loop` box around the repeating part of a lasso, and a note for every
/// stuck peer.
pub fn sequence_mermaid(trace: &Trace, ids: &[String]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let esc = |s: &str| s.replace(';', ",").replace('#', "");
    // Mermaid names participants by plain words; other ids get an alias and a label.
    let plain = |id: &str| {
        id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let alias = |id: &str| match ids.iter().position(|x| x == id) {
        Some(_) if plain(id) => id.to_string(),
        Some(i) => format!("p{}", i + 1),
        None => id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
    };
    for id in ids {
        if plain(id) {
            out.push_str(&format!("    participant {id}\n"));
        } else {
            out.push_str(&format!("    participant {} as {}\n", alias(id), esc(id)));
        }
    }
    for (i, step) in trace.steps.iter().enumerate() {
        if trace.cycle_start == Some(i) {
            out.push_str("    loop forever\n");
        }
        let me = alias(&step.peer.to_string());
        let mut drew = false;
        for a in &step.actions {
            match a {
                Action::Send { from, to, msg } => {
                    let (from, to) = (alias(&from.to_string()), alias(&to.to_string()));
                    out.push_str(&format!("    {from}->>{to}: {}\n", esc(&msg.to_string())));
                    drew = true;
                }
                Action::Recv { from, msg, .. } => {
                    out.push_str(&format!(
                        "    Note over {me}: receives {} from {from}\n",
                        esc(&msg.to_string())
                    ));
                    drew = true;
                }
                Action::Call { constraint, .. } => {
                    let outcome = if step.failed { " fails" } else { "" };
                    out.push_str(&format!("    Note over {me}: {}{outcome}\n", esc(&constraint.to_string())));
                    drew = true;
                }
                Action::Become { role, .. } => {
                    out.push_str(&format!("    Note over {me}: becomes {}\n", esc(&role.to_string())));
                    drew = true;
                }
                Action::Done { .. } => out.push_str(&format!("    Note over {me}: done\n")),
            }
        }
        if !drew && step.actions.is_empty() {
            out.push_str(&format!("    Note over {me}: {}\n", esc(&step.event)));
        }
    }
    if trace.cycle_start.is_some() {
        out.push_str("    end\n");
    }
    for s in &trace.stuck {
        let who = alias(&s.peer.to_string());
        out.push_str(&format!("    Note over {who}: stuck at {}: {}\n", esc(&s.event), esc(&s.why)));
    }
    out
}

/// A trace as a Graphviz DOT sequence diagram: a column per peer (its lifeline), a row per
/// step; the stepping peer's cell says what it did; sends are arrows to the row where the
/// message is received (or to the bottom when it never is); a lasso's repeating rows are
/// marked; stuck peers get a red note at the bottom.
pub fn sequence_dot(trace: &Trace, ids: &[String]) -> String {
    let mut out = String::from("digraph sequence {\n");
    out.push_str("  rankdir=TB; newrank=true; nodesep=0.6; ranksep=0.25;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let column = |id: &str| ids.iter().position(|x| x == id);
    let rows = trace.steps.len() + 1;
    for (p, id) in ids.iter().enumerate() {
        out.push_str(&format!(
            "  h{p} [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6fa\", label={}];\n",
            crate::quote(id)
        ));
    }
    for row in 0..rows {
        let step = trace.steps.get(row);
        let actor = step.and_then(|s| column(&s.peer.to_string()));
        for p in 0..ids.len() {
            if actor == Some(p)
                && let Some(step) = step
            {
                let what: Vec<String> = step.actions.iter().map(ToString::to_string).collect();
                let mut label = if what.is_empty() { step.event.clone() } else { what.join("\n") };
                if step.failed {
                    label.push_str("\n(fails for good)");
                }
                let loop_mark =
                    if trace.cycle_start.is_some_and(|c| row >= c) { ", color=\"#1f5fa8\"" } else { "" };
                out.push_str(&format!(
                    "  c{p}_{row} [shape=box, style=rounded, label={}, tooltip={}{loop_mark}];\n",
                    crate::quote(&format!("{}. {label}", row + 1)),
                    crate::quote(&step.event)
                ));
            } else {
                out.push_str(&format!("  c{p}_{row} [shape=point, width=0.02, label=\"\"];\n"));
            }
        }
        let cells: Vec<String> = (0..ids.len()).map(|p| format!("c{p}_{row}")).collect();
        out.push_str(&format!("  {{ rank=same; {} }}\n", cells.join("; ")));
    }
    // Lifelines.
    for p in 0..ids.len() {
        let mut previous = format!("h{p}");
        for row in 0..rows {
            out.push_str(&format!(
                "  {previous} -> c{p}_{row} [arrowhead=none, style=dashed, color=\"#b0b0b0\"];\n"
            ));
            previous = format!("c{p}_{row}");
        }
    }
    // Messages: from the send to the first later receive of the same message by the receiver.
    for (row, step) in trace.steps.iter().enumerate() {
        for action in &step.actions {
            let Action::Send { from, to, msg } = action else { continue };
            let (Some(a), Some(b)) = (column(&from.to_string()), column(&to.to_string())) else { continue };
            let received = trace.steps.iter().enumerate().skip(row + 1).find(|(_, s)| {
                s.actions.iter().any(|r| matches!(r, Action::Recv { from: f, to: t, msg: m } if f == from && t == to && m == msg))
            });
            let target_row = received.map_or(rows - 1, |(r, _)| r);
            let style = if received.is_some() { "solid" } else { "dotted" };
            out.push_str(&format!(
                "  c{a}_{row} -> c{b}_{target_row} [style={style}, color=\"#a83232\", constraint=false, label={}];\n",
                crate::quote(&msg.to_string())
            ));
        }
    }
    for (i, s) in trace.stuck.iter().enumerate() {
        if let Some(p) = column(&s.peer.to_string()) {
            out.push_str(&format!(
                "  stuck{i} [shape=note, style=filled, fillcolor=\"#fde8e8\", color=\"#a83232\", label={}];\n  c{p}_{} -> stuck{i} [arrowhead=none, color=\"#a83232\"];\n",
                crate::quote(&format!("stuck at {}:\n{}", s.event, s.why)),
                rows - 1
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// A (small) state space as DOT: one box per configuration listing each peer's role and the
/// messages in flight; the initial configuration in bold, deadlocks red, successes green,
/// successes with orphan messages yellow; each transition labelled with its actions.
pub fn state_space_dot(space: &lcc_check::mc::verify::StateSpace) -> String {
    use lcc_check::mc::explore::TerminalKind;
    let mut out = String::from("digraph states {\n");
    out.push_str("  rankdir=TB; nodesep=0.3; ranksep=0.4;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=9, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=8];\n");
    for (i, state) in space.states.iter().enumerate() {
        let mut lines: Vec<String> =
            space.peer_ids.iter().zip(&state.roles).map(|(id, role)| format!("{id}: {role}")).collect();
        lines.extend(state.in_flight.iter().map(|m| format!("✉ {m}")));
        let (fill, note) = match state.terminal {
            Some(TerminalKind::Deadlock) => ("#f8c9c9", "\ndeadlock"),
            Some(TerminalKind::Orphans) => ("#fbeeb8", "\nsuccess, orphans"),
            Some(TerminalKind::Success) => ("#cdeccd", "\nsuccess"),
            None => ("#ffffff", ""),
        };
        let bold = if i == 0 { ", penwidth=2" } else { "" };
        out.push_str(&format!(
            "  s{i} [label={}, fillcolor=\"{fill}\"{bold}];\n",
            crate::quote(&format!("{}{note}", lines.join("\n")))
        ));
    }
    for (from, to, label) in &space.edges {
        out.push_str(&format!("  s{from} -> s{to} [label={}];\n", crate::quote(label)));
    }
    if !space.complete {
        out.push_str("  cut [shape=plaintext, label=\"(state bound reached: not every state is shown)\"];\n");
    }
    out.push_str("}\n");
    out
}
