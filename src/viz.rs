//! `lcc viz`: the interaction diagram of a model, as Graphviz DOT.

use crate::cli::VizArgs;
use crate::input;
use crate::output::{self, Status, complain, count, write_stderr, write_stdout};

pub fn run(args: &VizArgs) -> Status {
    let source = match input::read_source(&args.file) {
        Ok(source) => source,
        Err(err) => {
            complain(err);
            return Status::Trouble;
        }
    };
    if let Some(out) = &args.output
        && out.extension().is_some_and(|e| e != "dot" && e != "gv")
    {
        complain(format_args!(
            "cannot write {}: lcc viz writes Graphviz DOT; name the file `.dot` and render it with `dot -Tsvg`",
            out.display()
        ));
        return Status::Trouble;
    }
    let (model, diagnostics) = lcc_check::check_source(&source.text);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        let color = output::stderr_color();
        for d in &errors {
            let mut rendered = Vec::new();
            let _ = d.render(&source.name, &source.text, color, &mut rendered);
            write_stderr(&String::from_utf8_lossy(&rendered));
        }
        complain(format_args!(
            "{} cannot be drawn: fix the {} first (`lcc check {}`)",
            source.name,
            count(errors.len(), "error"),
            source.name
        ));
        return Status::Trouble;
    }
    for role in &args.role {
        if model.role_named(role).is_none() {
            let names: Vec<&str> = model.roles.iter().map(|r| r.name.as_str()).collect();
            complain(format_args!("{} has no role `{role}` (its roles: {})", source.name, names.join(", ")));
            return Status::Trouble;
        }
    }
    let dot = if args.state_space {
        match state_space(args, &model) {
            Ok(dot) => dot,
            Err(message) => {
                complain(message);
                return Status::Trouble;
            }
        }
    } else {
        let options = lcc_viz::Options { roles: args.role.clone(), max_label: Some(args.max_label) };
        lcc_viz::interaction_dot(&model, &source.text, &options)
    };
    match &args.output {
        None => match write_stdout(&dot) {
            Ok(()) => Status::Success,
            Err(err) => output::stdout_failed(&err),
        },
        Some(path) => match std::fs::write(path, dot) {
            Ok(()) => Status::Success,
            Err(err) => {
                complain(format_args!("cannot write {}: {}", path.display(), input::io_reason(&err)));
                Status::Trouble
            }
        },
    }
}

/// The state space of the scenario: `--peers`, else the first of the scenario file, else the
/// role declarations.
fn state_space(args: &VizArgs, model: &lcc_check::ir::Model) -> Result<String, String> {
    use lcc_check::mc::scenario;
    let chosen = if let Some(peers) = &args.peers {
        let peers = scenario::parse_peers(peers)
            .map_err(|e| format!("invalid --peers `{peers}`: {} (at column {})", e.message, e.offset + 1))?;
        scenario::Scenario {
            name: "command line".into(),
            peers,
            constraints: Vec::new(),
            bounds: Default::default(),
            properties: Vec::new(),
        }
    } else {
        let file = scenario::scenario_file_for(&args.file);
        match std::fs::read_to_string(&file) {
            Ok(text) if !input::is_stdin(&args.file) => scenario::parse_scenario_file(&text)
                .map_err(|e| format!("{}: {}", file.display(), e.message))?
                .into_iter()
                .next()
                .ok_or_else(|| format!("{} has no scenario", file.display()))?,
            _ => crate::verify::declared_scenario(model)?,
        }
    };
    let space = lcc_check::mc::verify::state_space(model, &chosen, args.max_states)
        .map_err(|m| format!("scenario `{}`: {}", chosen.name, m.message))?;
    Ok(lcc_viz::state_space_dot(&space))
}
