//! The canonical formatter behind `lcc fmt` (filled in below).

/// An atom as it must be written: quoted when it is not a plain lower-case word or is a keyword.
pub fn atom_text(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(name, "null" | "then" | "or" | "par" | "and" | "not" | "is" | "mod");
    if plain {
        name.to_string()
    } else {
        let mut out = String::with_capacity(name.len() + 2);
        out.push('\'');
        for ch in name.chars() {
            match ch {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    }
}

/// Formats a whole source file in the canonical layout. Refuses (returns the error
/// diagnostics) when the source has syntax errors, because a tree with error nodes cannot be
/// printed without losing text.
// PLACEHOLDER: returns the source unchanged until the formatter lands (same session).
pub fn format_source(source: &str) -> Result<String, Vec<crate::Diagnostic>> {
    let (_model, diags) = crate::parse(source);
    let errors: Vec<_> = diags.into_iter().filter(|d| d.is_error()).collect();
    if errors.is_empty() { Ok(source.to_string()) } else { Err(errors) }
}
