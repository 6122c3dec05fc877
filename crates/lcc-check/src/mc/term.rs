//! Interned ground terms: the values the explored configurations hold. Every distinct term is
//! stored once and named by a [`TermId`], so environments, messages and roles are small
//! fixed-width vectors that hash and compare as plain integers.

use super::value::{ABSTRACT, Value};
use lcc_syntax::ast::{ArithOp, CmpOp};
use smol_str::SmolStr;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TermId(pub u32);

/// An unbound variable (in an environment) or an unbound argument sent as is (in a message):
/// it unifies with anything and binds nothing.
pub const UNBOUND: TermId = TermId(0);
/// `'?'`, the value an abstract constraint gives an output it leaves unbound. It stands for an
/// unknown value: it unifies with anything, and comparisons involving it may go either way.
pub const UNKNOWN: TermId = TermId(1);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TermData {
    Unbound,
    Atom(SmolStr),
    Int(i64),
    /// The bits of an `f64` (so that terms hash).
    Float(u64),
    Str(SmolStr),
    Compound(SmolStr, Box<[TermId]>),
    List(Box<[TermId]>),
}

/// The term table.
#[derive(Debug)]
pub struct Terms {
    data: Vec<TermData>,
    index: HashMap<TermData, TermId>,
}

impl Default for Terms {
    fn default() -> Self {
        let mut terms = Terms { data: Vec::new(), index: HashMap::new() };
        terms.intern(TermData::Unbound);
        terms.intern(TermData::Atom(SmolStr::new(ABSTRACT)));
        terms
    }
}

/// A number, for arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// Arithmetic of LCC.md section 6, shared by the model checker and the runtime: integers stay
/// integers (`None` on overflow or division by zero), anything with a float is a float.
pub fn apply(op: ArithOp, a: Number, b: Number) -> Option<Number> {
    Some(match (a, b) {
        (Number::Int(x), Number::Int(y)) => Number::Int(match op {
            ArithOp::Add => x.checked_add(y)?,
            ArithOp::Sub => x.checked_sub(y)?,
            ArithOp::Mul => x.checked_mul(y)?,
            ArithOp::Div => x.checked_div(y)?,
            ArithOp::Mod => x.checked_rem_euclid(y)?,
        }),
        (a, b) => {
            let (x, y) = (a.as_f64(), b.as_f64());
            Number::Float(match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
                ArithOp::Mod => x % y,
            })
        }
    })
}

/// An arithmetic comparison (`<`, `>`, `=<`, `>=`, `=:=`, `=\=`) of two numbers.
pub fn compare_numbers(op: CmpOp, a: Number, b: Number) -> bool {
    let (a, b) = (a.as_f64(), b.as_f64());
    match op {
        CmpOp::Less => a < b,
        CmpOp::Greater => a > b,
        CmpOp::LessEq => a <= b,
        CmpOp::GreaterEq => a >= b,
        CmpOp::ArithEq => a == b,
        _ => a != b,
    }
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Float(x) => x,
        }
    }
}

impl Terms {
    pub fn intern(&mut self, data: TermData) -> TermId {
        if let Some(&id) = self.index.get(&data) {
            return id;
        }
        let id = TermId(u32::try_from(self.data.len()).unwrap_or(u32::MAX));
        self.data.push(data.clone());
        self.index.insert(data, id);
        id
    }
    pub fn lookup(&self, data: &TermData) -> Option<TermId> {
        self.index.get(data).copied()
    }
    pub fn get(&self, id: TermId) -> &TermData {
        self.data.get(id.0 as usize).unwrap_or(&TermData::Unbound)
    }
    pub fn atom(&mut self, name: &str) -> TermId {
        self.intern(TermData::Atom(SmolStr::new(name)))
    }
    pub fn int(&mut self, n: i64) -> TermId {
        self.intern(TermData::Int(n))
    }
    pub fn number(&mut self, n: Number) -> TermId {
        match n {
            Number::Int(n) => self.intern(TermData::Int(n)),
            Number::Float(x) => self.intern(TermData::Float(x.to_bits())),
        }
    }
    /// Functor name of an atom or compound: roles are named by it.
    pub fn functor(&self, id: TermId) -> Option<&SmolStr> {
        match self.get(id) {
            TermData::Atom(a) | TermData::Compound(a, _) => Some(a),
            _ => None,
        }
    }
    pub fn args(&self, id: TermId) -> &[TermId] {
        match self.get(id) {
            TermData::Compound(_, args) | TermData::List(args) => args,
            _ => &[],
        }
    }
    pub fn as_number(&self, id: TermId) -> Option<Number> {
        match self.get(id) {
            TermData::Int(n) => Some(Number::Int(*n)),
            TermData::Float(x) => Some(Number::Float(f64::from_bits(*x))),
            _ => None,
        }
    }
    /// Whether the term holds `'?'` anywhere (so that concrete tests on it are undecided).
    pub fn has_unknown(&self, id: TermId) -> bool {
        id == UNKNOWN || self.args(id).iter().any(|&a| self.has_unknown(a))
    }
    pub fn has_unbound(&self, id: TermId) -> bool {
        id == UNBOUND || self.args(id).iter().any(|&a| self.has_unbound(a))
    }
    /// Whether two values may be equal: `_` and `'?'` are equal to anything.
    pub fn compatible(&self, a: TermId, b: TermId) -> bool {
        if a == b || a == UNBOUND || b == UNBOUND || a == UNKNOWN || b == UNKNOWN {
            return true;
        }
        match (self.get(a), self.get(b)) {
            (TermData::Compound(f, xs), TermData::Compound(g, ys)) => {
                f == g
                    && xs.len() == ys.len()
                    && xs.iter().zip(ys.iter()).all(|(&x, &y)| self.compatible(x, y))
            }
            (TermData::List(xs), TermData::List(ys)) => {
                xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(&x, &y)| self.compatible(x, y))
            }
            (TermData::Int(x), TermData::Float(y)) | (TermData::Float(y), TermData::Int(x)) => {
                (*x as f64) == f64::from_bits(*y)
            }
            _ => false,
        }
    }
    pub fn to_value(&self, id: TermId) -> Value {
        match self.get(id) {
            TermData::Unbound => Value::Unbound,
            TermData::Atom(a) => Value::Atom(a.clone()),
            TermData::Int(n) => Value::Int(*n),
            TermData::Float(x) => Value::Float(f64::from_bits(*x)),
            TermData::Str(s) => Value::Str(s.clone()),
            TermData::Compound(f, args) => {
                Value::Compound(f.clone(), args.iter().map(|&a| self.to_value(a)).collect())
            }
            TermData::List(items) => Value::List(items.iter().map(|&a| self.to_value(a)).collect()),
        }
    }
    pub fn from_value(&mut self, value: &Value) -> TermId {
        let data = match value {
            Value::Unbound => return UNBOUND,
            Value::Atom(a) => TermData::Atom(a.clone()),
            Value::Int(n) => TermData::Int(*n),
            Value::Float(x) => TermData::Float(x.to_bits()),
            Value::Str(s) => TermData::Str(s.clone()),
            Value::Compound(f, args) => {
                let args = args.iter().map(|a| self.from_value(a)).collect();
                TermData::Compound(f.clone(), args)
            }
            Value::List(items) => TermData::List(items.iter().map(|a| self.from_value(a)).collect()),
        };
        self.intern(data)
    }
    pub fn show(&self, id: TermId) -> String {
        self.to_value(id).to_string()
    }
    /// Total order for `@<`-free use: only equality matters to LCC, but sorted mailboxes and
    /// tables need some order; ids give one.
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
