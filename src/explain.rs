//! `lcc check --explain [CODE]`: the explanation of one diagnostic code, or the list of all.

use crate::output::{Status, complain, stdout_failed, write_stdout};
use lcc_check::codes;
use lcc_syntax::codes::Code;

pub fn run(code: Option<&str>) -> Status {
    let text = match code {
        None => list(),
        Some(key) => match codes::lookup(key.trim()) {
            Some(code) => explanation(code),
            None => {
                complain(format_args!(
                    "unknown diagnostic code `{key}`; run `lcc check --explain` to list all codes"
                ));
                return Status::Trouble;
            }
        },
    };
    match write_stdout(&text) {
        Ok(()) => Status::Success,
        Err(err) => stdout_failed(&err),
    }
}

fn explanation(code: &Code) -> String {
    format!("{} ({}, {})\n\n{}\n", code.id, code.name, code.severity.as_str(), code.explanation)
}

fn list() -> String {
    let mut out = String::from("Diagnostic codes (`lcc check --explain CODE` explains one):\n\n");
    for code in codes::all() {
        out.push_str(&format!("  {}  {:<7}  {}\n", code.id, code.severity.as_str(), code.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_names_every_code() {
        let text = list();
        for code in codes::all() {
            assert!(text.contains(code.id) && text.contains(code.name), "{}", code.id);
        }
        assert!(
            explanation(&lcc_syntax::codes::UNEXPECTED_TOKEN)
                .starts_with("E0001 (unexpected-token, error)\n")
        );
    }
}
