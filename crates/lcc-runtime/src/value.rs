//! Values at run time: the ground terms of [`lcc_check::mc::value::Value`], the same type the
//! model checker shows in its labels, so that a runtime trace and a checker path compare
//! action by action. Unification here follows the checker's exactly (`_` in a value binds
//! nothing and matches anything; `'?'` is an atom like any other at run time).

pub use lcc_check::mc::value::{Action, Value};

/// Whether two values may be equal: `_` is equal to anything (an argument sent unbound), and
/// so is `'?'`, as in the model checker.
pub fn compatible(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Unbound, _) | (_, Value::Unbound) => true,
        (Value::Atom(x), _) | (_, Value::Atom(x)) if x == lcc_check::mc::value::ABSTRACT => true,
        (Value::Compound(f, xs), Value::Compound(g, ys)) => {
            f == g && xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| compatible(x, y))
        }
        (Value::List(xs), Value::List(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| compatible(x, y))
        }
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (x, y) => x == y,
    }
}

/// Whether the value holds `_` anywhere.
pub fn has_unbound(v: &Value) -> bool {
    match v {
        Value::Unbound => true,
        Value::Compound(_, args) | Value::List(args) => args.iter().any(has_unbound),
        _ => false,
    }
}

/// The functor of a role term (`overloaded` for `overloaded(3)`).
pub fn functor(v: &Value) -> Option<&smol_str::SmolStr> {
    match v {
        Value::Atom(a) | Value::Compound(a, _) => Some(a),
        _ => None,
    }
}
