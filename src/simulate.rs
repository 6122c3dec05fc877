//! `lcc simulate`: a VM-placement model on a simulated datacentre (the experiment of Fig. 3
//! of the VM-migration paper), with CSV and SVG output.

use crate::cli::{Format, SimulateArgs, When};
use crate::input;
use crate::output::{Status, complain, count, write_stderr, write_stdout};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lcc_runtime::bytecode;
use lcc_runtime::sim::{Config, Datacentre, simulate};
use serde_json::json;
use std::io::IsTerminal;

pub fn run(args: &SimulateArgs) -> Status {
    match execute(args) {
        Ok(status) => status,
        Err(message) => {
            complain(message);
            Status::Trouble
        }
    }
}

fn execute(args: &SimulateArgs) -> Result<Status, String> {
    if args.hosts == 0 {
        return Err("--hosts must be at least 1".into());
    }
    if !(args.lower.is_finite() && args.upper.is_finite() && 0.0 <= args.lower && args.lower < args.upper) {
        return Err(format!(
            "the thresholds must satisfy 0 <= --lower < --upper (got --lower {} --upper {})",
            args.lower, args.upper
        ));
    }
    if !(args.drift.is_finite() && (0.0..=1.0).contains(&args.drift)) {
        return Err(format!("--drift must be between 0 and 1 (got {})", args.drift));
    }
    if !(args.capacity.is_finite() && args.capacity > 0.0) {
        return Err(format!("--capacity must be a positive percentage (got {})", args.capacity));
    }
    let vm_load = parse_vm_load(&args.vm_load)?;
    let source = input::read_source(&args.file).map_err(|e| e.to_string())?;
    let (model, diagnostics) = lcc_check::check_source(&source.text);
    input::refuse_errors(&source, &diagnostics, "simulated")?;
    let program = bytecode::program(&model);
    let config = Config {
        hosts: args.hosts,
        vms: args.vms,
        seed: args.seed,
        upper: args.upper,
        lower: args.lower,
        drift: args.drift,
        capacity: args.capacity,
        max_ticks: args.max_ticks,
        stable_ticks: args.stable_ticks.max(1),
        vm_load,
    };
    if let Some(dir) = &args.export_nodes {
        export_nodes(dir, &config)?;
    }
    // On a terminal, a progress bar (indicatif draws only there); `--progress always` elsewhere
    // (a CI log) prints a plain line every tenth of the way instead.
    let on_terminal = std::io::stderr().is_terminal();
    let bar = match args.progress {
        When::Auto | When::Always if on_terminal => {
            ProgressBar::with_draw_target(Some(args.max_ticks), ProgressDrawTarget::stderr())
        }
        _ => ProgressBar::hidden(),
    };
    let lines = args.progress == When::Always && !on_terminal;
    let every = (args.max_ticks / 10).max(1);
    bar.set_style(
        ProgressStyle::with_template("{spinner} interval {pos}/{len} [{bar:30}] {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut migrations = 0usize;
    let outcome = simulate(&program, &config, &mut |tick| {
        migrations += tick.migrations;
        bar.set_position(tick.tick);
        bar.set_message(format!("{migrations} migrations"));
        if lines && tick.tick % every == 0 {
            write_stderr(&format!(
                "lcc simulate: interval {}/{}, {}\n",
                tick.tick,
                args.max_ticks,
                count(migrations, "migration")
            ));
        }
    })
    .map_err(|e| format!("{}: {e}", source.name))?;
    bar.finish_and_clear();
    let ids = Datacentre::new(&config).host_ids().to_vec();
    let mut written = Vec::new();
    if let Some(path) = &args.csv {
        std::fs::write(path, outcome.csv(&ids))
            .map_err(|e| format!("cannot write {}: {}", path.display(), input::io_reason(&e)))?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &args.plot {
        let title = format!("{}: {} hosts, {} VMs, seed {}", source.name, args.hosts, args.vms, args.seed);
        std::fs::write(path, lcc_runtime::plot::load_svg(&outcome, &ids, &title))
            .map_err(|e| format!("cannot write {}: {}", path.display(), input::io_reason(&e)))?;
        written.push(path.display().to_string());
    }
    let first = outcome.ticks.first();
    let initially_in_range = first.map_or(0, |t| {
        let (lo, hi) = (args.lower * t.average, args.upper * t.average);
        t.loads.iter().filter(|&&l| l >= lo && l <= hi).count()
    });
    let intervals = outcome.ticks.len().saturating_sub(1);
    let text = match args.format {
        Format::Human => {
            let mut out = format!(
                "{}: {}, {}, seed {}\n",
                source.name,
                count(args.hosts, "host"),
                count(args.vms, "VM"),
                args.seed
            );
            out.push_str(&if outcome.stable {
                format!(
                    "stable after {} (no migration in the last {}): {}, {}\n",
                    count(intervals, "interval"),
                    config.stable_ticks,
                    count(outcome.migrations, "migration"),
                    count(usize::try_from(outcome.steps).unwrap_or(usize::MAX), "step")
                )
            } else {
                format!(
                    "not stable after {} (--max-ticks): {}, {}\n",
                    count(intervals, "interval"),
                    count(outcome.migrations, "migration"),
                    count(usize::try_from(outcome.steps).unwrap_or(usize::MAX), "step")
                )
            });
            out.push_str(&format!(
                "hosts within {:.0}%-{:.0}% of the average load ({:.1}): {} of {} at the end ({} at the start)\n",
                args.lower * 100.0,
                args.upper * 100.0,
                outcome.average,
                outcome.in_range(),
                args.hosts,
                initially_in_range
            ));
            out.push_str(&format!("hosts with no VM: {} of {}\n", outcome.empty(), args.hosts));
            if !outcome.inventory_exact {
                out.push_str("warning: the VM inventory is not exact (a VM lost or on two hosts)\n");
            }
            if !written.is_empty() {
                out.push_str(&format!("wrote {}\n", written.join(", ")));
            }
            out
        }
        Format::Json => {
            let doc = json!({
                "file": source.name,
                "hosts": args.hosts,
                "vms": args.vms,
                "seed": args.seed,
                "stable": outcome.stable,
                "intervals": intervals,
                "migrations": outcome.migrations,
                "steps": outcome.steps,
                "average": outcome.average,
                "in_range": outcome.in_range(),
                "in_range_at_start": initially_in_range,
                "empty": outcome.empty(),
                "inventory_exact": outcome.inventory_exact,
                "final_loads": outcome.final_loads,
                "final_vm_counts": outcome.final_vm_counts,
            });
            format!("{doc:#}\n")
        }
    };
    write_stdout(&text).map_err(|e| format!("cannot write to standard output: {e}"))?;
    Ok(if !outcome.inventory_exact {
        Status::Failure
    } else if outcome.stable {
        Status::Success
    } else {
        Status::Inconclusive
    })
}

fn parse_vm_load(text: &str) -> Result<(f64, f64), String> {
    let bad =
        || format!("--vm-load `{text}`: expected MIN:MAX, two numbers with 0 <= MIN <= MAX (like 5:25)");
    let (lo, hi) = text.split_once(':').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (lo.trim().parse().map_err(|_| bad())?, hi.trim().parse().map_err(|_| bad())?);
    if lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi { Ok((lo, hi)) } else { Err(bad()) }
}

/// The initial placement as libvirt test-driver node files, one per host.
fn export_nodes(dir: &std::path::Path, config: &Config) -> Result<(), String> {
    use lcc_runtime::agent::hypervisor::{domain_xml, uuid_for};
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dc = lcc_runtime::sim::Datacentre::new(config);
    let mut nodes = vec![String::new(); config.hosts];
    for (host, name, load) in dc.placement() {
        if let Some(node) = nodes.get_mut(host) {
            node.push_str(&domain_xml(&name, &uuid_for(&name), 262_144, 1, load));
        }
    }
    for (i, domains) in nodes.iter().enumerate() {
        let path = dir.join(format!("h{}.xml", i + 1));
        let text = format!(
            "<node>\n<cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads><active>8</active><mhz>2000</mhz></cpu>\n<memory>67108864</memory>\n{domains}</node>\n"
        );
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
