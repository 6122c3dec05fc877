//! Instantiation, unification and arithmetic on compiled terms: the model checker's rules
//! (`lcc_check::mc::system`), over plain values instead of interned ones. The conformance
//! tests compare the two action by action, so any difference here shows up there.

use crate::bytecode::Pat;
use crate::value::{Value, compatible};
use lcc_check::mc::value::ABSTRACT;

pub type Env = Vec<Value>;

fn unknown() -> Value {
    Value::atom(ABSTRACT)
}

fn is_unknown(v: &Value) -> bool {
    matches!(v, Value::Atom(a) if a == ABSTRACT)
}

/// The value of a pattern in `env` (unbound variables and `_` give [`Value::Unbound`]).
pub fn instantiate(p: &Pat, env: &[Value]) -> Value {
    match p {
        Pat::Var(v) => env.get(*v as usize).cloned().unwrap_or(Value::Unbound),
        Pat::Anon => Value::Unbound,
        Pat::Const(v) => v.clone(),
        Pat::Compound(f, args) => {
            Value::Compound(f.clone(), args.iter().map(|a| instantiate(a, env)).collect())
        }
        Pat::List(items, tail) => {
            let mut values: Vec<Value> = items.iter().map(|a| instantiate(a, env)).collect();
            if let Some(tail) = tail {
                match instantiate(tail, env) {
                    Value::List(rest) => values.extend(rest),
                    _ => return unknown(),
                }
            }
            Value::List(values)
        }
        Pat::Arith(..) | Pat::Neg(_) => match arith(p, env) {
            Arith::Num(n) => number_value(n),
            Arith::Unbound => Value::Unbound,
            Arith::Unknown | Arith::NotNumber => unknown(),
        },
    }
}

/// Unifies a pattern with a value, extending `env`; `false` leaves `env` partly extended
/// (callers unify on a copy). `_` in the value binds nothing; `'?'` binds the pattern's
/// unbound variables to `'?'`.
pub fn unify(p: &Pat, value: &Value, env: &mut Env) -> bool {
    match p {
        Pat::Var(v) => match env.get_mut(*v as usize) {
            Some(slot @ Value::Unbound) => {
                *slot = value.clone();
                true
            }
            Some(slot) => compatible(slot, value),
            None => false,
        },
        Pat::Anon => true,
        _ if matches!(value, Value::Unbound) => true,
        _ if is_unknown(value) => {
            bind_unknown(p, env);
            true
        }
        Pat::Compound(f, args) => match value {
            Value::Compound(g, values) if f == g && values.len() == args.len() => {
                args.iter().zip(values).all(|(a, v)| unify(a, v, env))
            }
            _ => false,
        },
        Pat::List(items, tail) => {
            let Value::List(values) = value else { return false };
            if values.len() < items.len() || (tail.is_none() && values.len() != items.len()) {
                return false;
            }
            if !items.iter().zip(values).all(|(a, v)| unify(a, v, env)) {
                return false;
            }
            match tail {
                Some(tail) => {
                    let rest = values.get(items.len()..).unwrap_or(&[]).to_vec();
                    unify(tail, &Value::List(rest), env)
                }
                None => true,
            }
        }
        Pat::Const(c) => compatible(c, value),
        Pat::Arith(..) | Pat::Neg(_) => compatible(&instantiate(p, env), value),
    }
}

/// `A = B` with variables on both sides: structure against structure, so that a bound side
/// gives values to the variables of the other (`f(p, _) = f(W, _)` binds `W`). The model
/// checker's `unify_both` is the same rule.
pub fn unify_both(a: &Pat, b: &Pat, env: &mut Env) -> bool {
    let unbound =
        |p: &Pat, env: &Env| matches!(p, Pat::Var(v) if matches!(env.get(*v as usize), Some(Value::Unbound)));
    let structure = |p: &Pat| matches!(p, Pat::Compound(..) | Pat::List(..));
    match (a, b) {
        (Pat::Compound(f, xs), Pat::Compound(g, ys)) => {
            f == g && xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| unify_both(x, y, env))
        }
        (Pat::List(xs, None), Pat::List(ys, None)) => {
            xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| unify_both(x, y, env))
        }
        // A ground side (compiled to a constant) gives values to the other, as the checker's
        // structure-against-structure would.
        (_, Pat::Const(c)) => unify(a, c, env),
        (Pat::Const(c), _) => unify(b, c, env),
        _ if unbound(a, env) || !unbound(b, env) && !structure(b) => {
            let value = instantiate(b, env);
            unify(a, &value, env)
        }
        _ => {
            let value = instantiate(a, env);
            unify(b, &value, env)
        }
    }
}

fn bind_unknown(p: &Pat, env: &mut Env) {
    match p {
        Pat::Var(v) => {
            if let Some(slot @ Value::Unbound) = env.get_mut(*v as usize) {
                *slot = unknown();
            }
        }
        Pat::Compound(_, args) => args.iter().for_each(|a| bind_unknown(a, env)),
        Pat::List(items, tail) => {
            items.iter().for_each(|a| bind_unknown(a, env));
            if let Some(t) = tail {
                bind_unknown(t, env);
            }
        }
        Pat::Arith(_, a, b) => {
            bind_unknown(a, env);
            bind_unknown(b, env);
        }
        Pat::Neg(a) => bind_unknown(a, env),
        Pat::Anon | Pat::Const(_) => {}
    }
}

pub use lcc_check::mc::term::Number;

/// A number as a value.
pub fn number_value(n: Number) -> Value {
    match n {
        Number::Int(n) => Value::Int(n),
        Number::Float(x) => Value::Float(x),
    }
}

fn number_of(v: &Value) -> Option<Number> {
    match v {
        Value::Int(n) => Some(Number::Int(*n)),
        Value::Float(x) => Some(Number::Float(*x)),
        _ => None,
    }
}

/// The outcome of evaluating an arithmetic expression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arith {
    Num(Number),
    /// `'?'` is involved.
    Unknown,
    /// An input is unbound (a run-time error).
    Unbound,
    /// A value that is not a number, or an overflow or division by zero.
    NotNumber,
}

pub fn arith(p: &Pat, env: &[Value]) -> Arith {
    match p {
        Pat::Arith(op, lhs, rhs) => match (arith(lhs, env), arith(rhs, env)) {
            (Arith::Num(a), Arith::Num(b)) => {
                lcc_check::mc::term::apply(*op, a, b).map_or(Arith::NotNumber, Arith::Num)
            }
            (Arith::Unbound, _) | (_, Arith::Unbound) => Arith::Unbound,
            (Arith::NotNumber, _) | (_, Arith::NotNumber) => Arith::NotNumber,
            _ => Arith::Unknown,
        },
        Pat::Neg(inner) => match arith(inner, env) {
            Arith::Num(Number::Int(n)) => Arith::Num(Number::Int(n.wrapping_neg())),
            Arith::Num(Number::Float(x)) => Arith::Num(Number::Float(-x)),
            other => other,
        },
        _ => {
            let v = instantiate(p, env);
            match v {
                Value::Unbound => Arith::Unbound,
                _ if is_unknown(&v) => Arith::Unknown,
                _ => number_of(&v).map_or(Arith::NotNumber, Arith::Num),
            }
        }
    }
}

/// Whether the value holds `'?'` anywhere.
pub fn has_unknown(v: &Value) -> bool {
    match v {
        Value::Compound(_, args) | Value::List(args) => args.iter().any(has_unknown),
        _ => is_unknown(v),
    }
}
