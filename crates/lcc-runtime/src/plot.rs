//! The load of every host over time as an SVG line chart (the form of Fig. 3 of the
//! VM-migration paper): one line per host, the average as a dashed line, and the band between
//! the lower and upper thresholds shaded.

use crate::sim::Outcome;
use crate::value::Value;
use std::fmt::Write;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 56.0;

/// Colours that stay apart for up to 20 lines (Tableau 20).
const PALETTE: [&str; 20] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
    "#dbdb8d", "#9edae5",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A "nice" step for about `n` ticks on an axis spanning `range`.
fn nice_step(range: f64, n: f64) -> f64 {
    let raw = (range / n).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The chart. With more than 20 hosts, only the lines are drawn (no legend).
pub fn load_svg(outcome: &Outcome, ids: &[Value], title: &str) -> String {
    let ticks = &outcome.ticks;
    let last_tick = ticks.last().map_or(1, |t| t.tick).max(1) as f64;
    let max_load = ticks.iter().flat_map(|t| t.loads.iter().copied()).fold(0.0f64, f64::max).max(1.0);
    let y_step = nice_step(max_load, 6.0);
    let y_max = (max_load / y_step).ceil() * y_step;
    let x_step = nice_step(last_tick, 8.0).max(1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: f64| LEFT + plot_w * t / last_tick;
    let y = |l: f64| TOP + plot_h * (1.0 - l / y_max);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        LEFT + plot_w / 2.0,
        esc(title)
    );
    // The accepted range, from the average of each tick.
    let band: Vec<String> = ticks
        .iter()
        .map(|t| format!("{:.1},{:.1}", x(t.tick as f64), y(t.average * outcome.upper)))
        .chain(
            ticks
                .iter()
                .rev()
                .map(|t| format!("{:.1},{:.1}", x(t.tick as f64), y(t.average * outcome.lower))),
        )
        .collect();
    let _ = writeln!(
        s,
        r##"<polygon class="range" points="{}" fill="#2ca02c" fill-opacity="0.12" stroke="none"><title>from {}% to {}% of the average load</title></polygon>"##,
        band.join(" "),
        (outcome.lower * 100.0).round(),
        (outcome.upper * 100.0).round()
    );
    // Axes and grid.
    let mut v = 0.0;
    while v <= y_max + 1e-9 {
        let yy = y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            yy + 4.0,
            v
        );
        v += y_step;
    }
    let mut t = 0.0;
    while t <= last_tick + 1e-9 {
        let xx = x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#444"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 5.0,
            TOP + plot_h + 19.0,
            t
        );
        t += x_step;
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w:.1}" height="{plot_h:.1}" fill="none" stroke="#444"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time (monitoring intervals)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 14.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">host load (% of one CPU)</text>"#,
        TOP + plot_h / 2.0
    );
    // One line per host.
    let hosts = ticks.first().map_or(0, |t| t.loads.len());
    for h in 0..hosts {
        let colour = PALETTE.get(h % PALETTE.len()).copied().unwrap_or("#000");
        let points: Vec<String> = ticks
            .iter()
            .filter_map(|t| t.loads.get(h).map(|l| format!("{:.1},{:.1}", x(t.tick as f64), y(*l))))
            .collect();
        let name = ids.get(h).map_or_else(|| format!("host {}", h + 1), ToString::to_string);
        let _ = writeln!(
            s,
            r#"<polyline class="host" points="{}" fill="none" stroke="{colour}" stroke-width="1.6"><title>{}</title></polyline>"#,
            points.join(" "),
            esc(&name)
        );
        if hosts <= PALETTE.len() {
            let ly = TOP + 8.0 + h as f64 * 18.0;
            let lx = LEFT + plot_w + 16.0;
            let _ = writeln!(
                s,
                r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                lx + 18.0,
                lx + 24.0,
                ly + 4.0,
                esc(&name)
            );
        }
    }
    let avg: Vec<String> =
        ticks.iter().map(|t| format!("{:.1},{:.1}", x(t.tick as f64), y(t.average))).collect();
    let _ = writeln!(
        s,
        r##"<polyline class="average" points="{}" fill="none" stroke="#000" stroke-width="1.4" stroke-dasharray="6 4"><title>average</title></polyline>"##,
        avg.join(" ")
    );
    s.push_str("</svg>\n");
    s
}
