//! Ground LCC values as the model checker shows them to people and reads them from them:
//! peer lists (`--peers`), constraint tables, action patterns of formulas, trace steps. The
//! exploration itself works on interned terms ([`super::term`]); these are the readable form.

use smol_str::SmolStr;
use std::fmt;

/// A value. In a *pattern*, [`Value::Unbound`] (written `_` or as a variable) matches anything.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Atom(SmolStr),
    Int(i64),
    Float(f64),
    Str(SmolStr),
    List(Vec<Value>),
    Compound(SmolStr, Vec<Value>),
    /// A variable that was never bound (sent as is), or the wildcard of a pattern.
    Unbound,
}

// Values are compared and hashed structurally, floats by their bits (labels are interned).
impl Eq for Value {}
impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Atom(a) | Value::Str(a) => a.hash(state),
            Value::Int(n) => n.hash(state),
            Value::Float(x) => x.to_bits().hash(state),
            Value::List(items) => items.hash(state),
            Value::Compound(f, args) => {
                f.hash(state);
                args.hash(state);
            }
            Value::Unbound => {}
        }
    }
}

/// The abstract value an external constraint gives an output it leaves unbound (LCC.md 6).
pub const ABSTRACT: &str = "?";

impl Value {
    pub fn atom(name: &str) -> Value {
        Value::Atom(SmolStr::new(name))
    }
    /// Functor name and arity of an atom or compound.
    pub fn functor(&self) -> Option<(&str, usize)> {
        match self {
            Value::Atom(a) => Some((a, 0)),
            Value::Compound(f, args) => Some((f, args.len())),
            _ => None,
        }
    }
    /// Whether this pattern matches `value`: `_` matches anything, `'?'` (unknown) is matched
    /// by anything, everything else must be equal; an atom pattern also matches any compound with that functor when
    /// `functor_only` (roles are named by functor: `become(P, overloaded)` matches
    /// `overloaded('?')`).
    pub fn matches(&self, value: &Value, functor_only: bool) -> bool {
        match (self, value) {
            (Value::Unbound, _) => true,
            // `'?'` is an unknown value: it may be the one the pattern names.
            (_, Value::Atom(a)) if a == ABSTRACT => true,
            // `f()` and `f` are the same value (LCC.md section 2).
            (Value::Atom(a), Value::Compound(f, args)) | (Value::Compound(f, args), Value::Atom(a))
                if args.is_empty() && a == f =>
            {
                true
            }
            (Value::Atom(a), Value::Compound(f, _)) if functor_only => a == f,
            (Value::Compound(f, ps), Value::Compound(g, vs)) => {
                f == g && ps.len() == vs.len() && ps.iter().zip(vs).all(|(p, v)| p.matches(v, false))
            }
            (Value::List(ps), Value::List(vs)) => {
                ps.len() == vs.len() && ps.iter().zip(vs).all(|(p, v)| p.matches(v, false))
            }
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => (*a as f64) == *b,
            (a, b) => a == b,
        }
    }
}

fn is_plain_atom(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_all(f: &mut fmt::Formatter<'_>, items: &[Value]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// LCC syntax: atoms that need it are quoted (`'?'`), strings double-quoted.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Atom(a) if is_plain_atom(a) => f.write_str(a),
            Value::Atom(a) => write!(f, "'{}'", a.replace('\\', "\\\\").replace('\'', "\\'")),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{:?}", s.as_str()),
            Value::List(items) => {
                f.write_str("[")?;
                write_all(f, items)?;
                f.write_str("]")
            }
            Value::Compound(name, args) => {
                write!(f, "{}(", Value::Atom(name.clone()))?;
                write_all(f, args)?;
                f.write_str(")")
            }
            Value::Unbound => f.write_str("_"),
        }
    }
}

/// One action of LCC.md section 7. A transition carries one or more (a guarded send both
/// calls its constraint and sends; the last event of a clause also says `done`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Send { from: Value, to: Value, msg: Value },
    Recv { from: Value, to: Value, msg: Value },
    Call { peer: Value, constraint: Value },
    Become { peer: Value, role: Value },
    Done { peer: Value },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Send { .. } => "send",
            Action::Recv { .. } => "recv",
            Action::Call { .. } => "call",
            Action::Become { .. } => "become",
            Action::Done { .. } => "done",
        }
    }
    /// The action's arguments in the order of LCC.md section 7.
    pub fn args(&self) -> Vec<&Value> {
        match self {
            Action::Send { from, to, msg } | Action::Recv { from, to, msg } => vec![from, to, msg],
            Action::Call { peer, constraint } => vec![peer, constraint],
            Action::Become { peer, role } => vec![peer, role],
            Action::Done { peer } => vec![peer],
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name())?;
        for (i, arg) in self.args().into_iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{arg}")?;
        }
        f.write_str(")")
    }
}

/// A syntax error in a value: byte offset into the text and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    pub offset: usize,
    pub message: String,
}

/// Parses the whole of `text` as one value (surrounding whitespace allowed).
pub fn parse_value(text: &str) -> Result<Value, ValueError> {
    let mut pos = 0;
    let value = read_value(text, &mut pos)?;
    skip_space(text, &mut pos);
    if pos < text.len() {
        return Err(ValueError { offset: pos, message: "expected the end of the term".into() });
    }
    Ok(value)
}

pub(crate) fn skip_space(text: &str, pos: &mut usize) {
    while let Some(c) = text.get(*pos..).and_then(|rest| rest.chars().next()) {
        if !c.is_whitespace() {
            break;
        }
        *pos += c.len_utf8();
    }
}

/// Reads one value at `*pos` and moves `*pos` past it: atoms (`idle`, `'?'`), numbers,
/// strings, lists, compounds; variables and `_` read as [`Value::Unbound`]. Used by every
/// little language of the model checker (peer lists, tables, formulas).
pub fn read_value(text: &str, pos: &mut usize) -> Result<Value, ValueError> {
    skip_space(text, pos);
    let start = *pos;
    let rest = text.get(start..).unwrap_or("");
    let err = |offset: usize, message: &str| ValueError { offset, message: message.to_string() };
    let Some(first) = rest.chars().next() else {
        return Err(err(start, "expected a term"));
    };
    let word_end = |from: usize| {
        text.get(from..)
            .unwrap_or("")
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
            .map_or(text.len(), |(i, _)| from + i)
    };
    let value = if first.is_ascii_digit()
        || (first == '-' && rest.get(1..).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())))
    {
        let mut end = start + 1;
        let bytes = text.as_bytes();
        while bytes.get(end).is_some_and(|b| b.is_ascii_digit() || *b == b'.' || *b == b'e') {
            end += 1;
        }
        let digits = text.get(start..end).unwrap_or("");
        *pos = end;
        if let Ok(n) = digits.parse::<i64>() {
            Value::Int(n)
        } else if let Ok(x) = digits.parse::<f64>() {
            Value::Float(x)
        } else {
            return Err(err(start, "expected a number"));
        }
    } else if first == '"' || first == '\'' {
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1);
        let mut closed = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, e)) = chars.next() {
                        out.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                }
                c if c == first => {
                    closed = Some(i);
                    break;
                }
                c => out.push(c),
            }
        }
        let Some(close) = closed else {
            return Err(err(start, "unclosed quote"));
        };
        *pos = start + close + 1;
        if first == '"' { Value::Str(out.into()) } else { Value::Atom(out.into()) }
    } else if first == '[' {
        *pos += 1;
        let items = read_args(text, pos, ']')?;
        Value::List(items)
    } else if first.is_alphabetic() || first == '_' {
        let end = word_end(start);
        let name = text.get(start..end).unwrap_or("");
        *pos = end;
        if first.is_uppercase() || first == '_' {
            Value::Unbound
        } else if text.get(end..).is_some_and(|r| r.starts_with('(')) {
            *pos += 1;
            let args = read_args(text, pos, ')')?;
            Value::Compound(name.into(), args)
        } else {
            Value::atom(name)
        }
    } else {
        return Err(err(start, "expected a term (atom, number, string, list or compound)"));
    };
    Ok(value)
}

/// Comma-separated values up to `close` (consumed); `*pos` is just after the opening bracket.
fn read_args(text: &str, pos: &mut usize, close: char) -> Result<Vec<Value>, ValueError> {
    let mut items = Vec::new();
    skip_space(text, pos);
    if text.get(*pos..).is_some_and(|r| r.starts_with(close)) {
        *pos += 1;
        return Ok(items);
    }
    loop {
        items.push(read_value(text, pos)?);
        skip_space(text, pos);
        match text.get(*pos..).and_then(|r| r.chars().next()) {
            Some(',') => *pos += 1,
            Some(c) if c == close => {
                *pos += 1;
                return Ok(items);
            }
            _ => {
                return Err(ValueError { offset: *pos, message: format!("expected `,` or `{close}`") });
            }
        }
    }
}
