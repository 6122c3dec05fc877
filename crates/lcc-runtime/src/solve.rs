//! Guards at run time: a small backtracking solver over [`Goal`]s. Solutions are produced in
//! order (conjuncts left to right, disjuncts in writing order, provider solutions in the
//! order given, list built-ins from the front) and handed to a continuation, which accepts
//! one (the event fires) or asks for the next. External constraints are called only when the
//! search reaches them, as Prolog would, so a provider is not called for a solution that an
//! earlier conjunct already ruled out.

use crate::abi::{Call, Registry};
use crate::bytecode::{Goal, Pat, Program};
use crate::terms::{Arith, Env, arith, instantiate, number_value, unify, unify_both};
use crate::value::{Action, Value, compatible};
use lcc_check::ir::Builtin;
use lcc_check::mc::term::compare_numbers;
use lcc_syntax::ast::CmpOp;
use smol_str::SmolStr;

/// Why a guard failed (the first reason met), for stuck reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// An external constraint had no solution: the call as made.
    Constraint(Value),
    /// A test was false: its text with the values.
    Test(String),
    /// A built-in with an unbound input, or an arithmetic error.
    Error(String),
    /// A provider could not answer.
    Provider(Value, String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Constraint(call) => write!(f, "constraint `{call}` failed"),
            Failure::Test(text) => write!(f, "`{text}` is false"),
            Failure::Error(text) => write!(f, "{text}"),
            Failure::Provider(call, why) => write!(f, "constraint `{call}` failed: {why}"),
        }
    }
}

/// Something the solver reports as it goes: run-time errors and provider failures.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// A provider could not answer a call: the call failed.
    ProviderError { peer: Value, call: Value, reason: String },
    /// A run-time error in a guard (a built-in with an unbound input): the guard failed.
    GuardError { peer: Value, detail: String },
}

impl Notice {
    /// The peer it concerns.
    pub fn peer(&self) -> &Value {
        match self {
            Notice::ProviderError { peer, .. } | Notice::GuardError { peer, .. } => peer,
        }
    }

    /// A stable short name (`provider-error`, `guard-error`) for logs and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::ProviderError { .. } => "provider-error",
            Notice::GuardError { .. } => "guard-error",
        }
    }
}

/// What happened, without the peer: `constraint `c(x)` failed: why`.
impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::ProviderError { call, reason, .. } => write!(f, "constraint `{call}` failed: {reason}"),
            Notice::GuardError { detail, .. } => write!(f, "run-time error in a guard: {detail}"),
        }
    }
}

/// The solver of one guard evaluation.
pub struct Solver<'a> {
    pub program: &'a Program,
    pub registry: &'a mut Registry,
    pub peer: &'a Value,
    /// The constraint calls of the current branch of the search (labels of the step).
    pub calls: Vec<Action>,
    pub failure: Option<Failure>,
    pub notices: &'a mut Vec<Notice>,
    /// Whether any external constraint was called.
    pub called_external: bool,
    /// Build `call` actions (off when nobody reads the labels).
    pub record: bool,
}

pub type Cont<'k, 'a> = dyn FnMut(&mut Solver<'a>, Env) -> bool + 'k;

impl<'a> Solver<'a> {
    fn fail(&mut self, why: impl FnOnce() -> Failure) -> bool {
        if self.failure.is_none() {
            self.failure = Some(why());
        }
        false
    }

    /// Solves `goal` in `env`, calling `k` with each solution until it returns `true`.
    /// Returns whether `k` accepted one.
    pub fn solve(&mut self, goal: &Goal, env: Env, k: &mut Cont<'_, 'a>) -> bool {
        match goal {
            Goal::And(parts) => self.solve_all(parts, env, k),
            Goal::Or(parts) => {
                for part in parts.iter() {
                    if self.solve(part, env.clone(), k) {
                        return true;
                    }
                }
                false
            }
            Goal::Not(inner) => {
                let calls = self.calls.len();
                let failure = self.failure.clone();
                let holds = self.solve(inner, env.clone(), &mut |_, _| true);
                self.calls.truncate(calls);
                self.failure = failure;
                if holds {
                    self.fail(|| Failure::Test("the negated condition holds".into()))
                } else {
                    k(self, env)
                }
            }
            Goal::Compare(op, lhs, rhs) => self.compare(*op, lhs, rhs, env, k),
            Goal::Is(lhs, rhs) => match arith(rhs, &env) {
                Arith::Num(n) => {
                    let mut env = env;
                    if unify(lhs, &number_value(n), &mut env) {
                        k(self, env)
                    } else {
                        self.fail(|| Failure::Test(format!("{} is {}", show(lhs, &env), number_value(n))))
                    }
                }
                Arith::Unknown => {
                    let mut env = env;
                    if unify(lhs, &Value::atom(lcc_check::mc::value::ABSTRACT), &mut env) {
                        k(self, env)
                    } else {
                        self.fail(|| Failure::Test("`is`".into()))
                    }
                }
                Arith::Unbound => self.error(format!("`is`: an input of `{}` is unbound", show(rhs, &env))),
                Arith::NotNumber => {
                    self.fail(|| Failure::Error(format!("`is`: `{}` is not a number", show(rhs, &env))))
                }
            },
            Goal::Builtin(b, args) => self.builtin(*b, args, env, k),
            Goal::External(c, args) => self.external(*c, args, env, k),
            Goal::Error => self.fail(|| Failure::Error("the guard could not be parsed".into())),
        }
    }

    fn solve_all(&mut self, parts: &[Goal], env: Env, k: &mut Cont<'_, 'a>) -> bool {
        match parts.split_first() {
            None => k(self, env),
            Some((first, rest)) => {
                self.solve(first, env, &mut |s: &mut Solver<'a>, e| s.solve_all(rest, e, k))
            }
        }
    }

    fn error(&mut self, detail: String) -> bool {
        self.notices.push(Notice::GuardError { peer: self.peer.clone(), detail: detail.clone() });
        self.fail(|| Failure::Error(detail))
    }

    fn compare(&mut self, op: CmpOp, lhs: &Pat, rhs: &Pat, env: Env, k: &mut Cont<'_, 'a>) -> bool {
        let (l, r) = (instantiate(lhs, &env), instantiate(rhs, &env));
        let text = |l: &Value, r: &Value| format!("{l} {} {r}", op.text());
        match op {
            CmpOp::Unify => {
                let mut env = env;
                let ok = unify_both(lhs, rhs, &mut env);
                if ok { k(self, env) } else { self.fail(|| Failure::Test(text(&l, &r))) }
            }
            CmpOp::NotUnify | CmpOp::Identical | CmpOp::NotIdentical | CmpOp::NotEqual => {
                let holds = match op {
                    CmpOp::NotUnify => !compatible(&l, &r),
                    CmpOp::Identical => l == r,
                    _ => l != r,
                };
                if holds { k(self, env) } else { self.fail(|| Failure::Test(text(&l, &r))) }
            }
            _ => match (arith(lhs, &env), arith(rhs, &env)) {
                (Arith::Num(a), Arith::Num(b)) => {
                    let holds = compare_numbers(op, a, b);
                    if holds { k(self, env) } else { self.fail(|| Failure::Test(text(&l, &r))) }
                }
                (Arith::Unbound, _) | (_, Arith::Unbound) => {
                    self.error(format!("`{}`: an input is unbound", text(&l, &r)))
                }
                _ => self.fail(|| Failure::Error(format!("`{}`: not a number", text(&l, &r)))),
            },
        }
    }

    fn builtin(&mut self, b: Builtin, args: &[Pat], env: Env, k: &mut Cont<'_, 'a>) -> bool {
        let values: Vec<Value> = args.iter().map(|a| instantiate(a, &env)).collect();
        let name = b.name();
        let mut any = false;
        // Tries one binding; `Some(true)` when the continuation accepted it.
        macro_rules! attempt {
            ($env:expr) => {{
                let e: Option<Env> = $env;
                if let Some(e) = e {
                    any = true;
                    if k(self, e) {
                        return true;
                    }
                }
            }};
        }
        let bind = |p: &Pat, v: &Value, env: &Env| {
            let mut e = env.clone();
            unify(p, v, &mut e).then_some(e)
        };
        match (b, args, values.as_slice()) {
            (Builtin::Member, [x, _], [_, Value::List(items)]) => {
                for item in items {
                    attempt!(bind(x, item, &env));
                }
            }
            (Builtin::Length, [_, n], [Value::List(items), _]) => {
                let len = Value::Int(i64::try_from(items.len()).unwrap_or(i64::MAX));
                attempt!(bind(n, &len, &env));
            }
            (Builtin::Nth0 | Builtin::Nth1, [i, _, e], [iv, Value::List(items), _]) => {
                let base = if b == Builtin::Nth0 { 0 } else { 1 };
                match iv {
                    Value::Int(k) => {
                        let item = k
                            .checked_sub(base)
                            .and_then(|k| usize::try_from(k).ok())
                            .and_then(|k| items.get(k));
                        if let Some(item) = item {
                            attempt!(bind(e, item, &env));
                        }
                    }
                    Value::Unbound => {
                        for (k, item) in items.iter().enumerate() {
                            let idx = Value::Int(i64::try_from(k).unwrap_or(0) + base);
                            attempt!(bind(i, &idx, &env).and_then(|env| bind(e, item, &env)));
                        }
                    }
                    _ => return self.error(format!("{name}/3: the index {iv} is not an integer")),
                }
            }
            (Builtin::Append, [a, bp, c], [av, bv, cv]) => match (av, bv, cv) {
                (Value::List(x), Value::List(y), _) => {
                    let joined = Value::List(x.iter().chain(y).cloned().collect());
                    attempt!(bind(c, &joined, &env));
                }
                (_, _, Value::List(z)) => {
                    for k in 0..=z.len() {
                        let (x, y) = z.split_at(k);
                        let (x, y) = (Value::List(x.to_vec()), Value::List(y.to_vec()));
                        attempt!(bind(a, &x, &env).and_then(|env| bind(bp, &y, &env)));
                    }
                }
                _ => return self.error("append/3: the inputs are unbound".into()),
            },
            (Builtin::Member | Builtin::Length, [_, _], _) => {
                return self.error(format!("{name}/2: the list is unbound or not a list"));
            }
            (Builtin::Nth0 | Builtin::Nth1, [_, _, _], _) => {
                return self.error(format!("{name}/3: the list is unbound or not a list"));
            }
            _ => return self.error(format!("{name}: wrong number of arguments")),
        }
        if !any {
            let call = Value::Compound(SmolStr::new(name), values);
            return self.fail(|| Failure::Test(format!("{call} has no solution")));
        }
        false
    }

    fn external(&mut self, c: u32, args: &[Pat], env: Env, k: &mut Cont<'_, 'a>) -> bool {
        let Some(info) = self.program.constraints.get(c as usize) else {
            return self.fail(|| Failure::Error("unknown constraint".into()));
        };
        self.called_external = true;
        let values: Vec<Value> = args.iter().map(|a| instantiate(a, &env)).collect();
        let answer = self.registry.call(&Call { peer: self.peer, name: &info.name, args: &values });
        let solutions = match answer {
            Ok(s) => s,
            Err(e) => {
                let call = Value::Compound(info.name.clone(), values);
                self.notices.push(Notice::ProviderError {
                    peer: self.peer.clone(),
                    call: call.clone(),
                    reason: e.0.clone(),
                });
                return self.fail(|| Failure::Provider(call, e.0));
            }
        };
        for row in &solutions {
            if row.len() != args.len() {
                continue;
            }
            let mut e = env.clone();
            if !args.iter().zip(row).all(|(a, v)| unify(a, v, &mut e)) {
                continue;
            }
            let depth = self.calls.len();
            if self.record {
                let call =
                    Value::Compound(info.name.clone(), args.iter().map(|a| instantiate(a, &e)).collect());
                self.calls.push(Action::Call { peer: self.peer.clone(), constraint: call });
            }
            if k(self, e) {
                return true;
            }
            self.calls.truncate(depth);
        }
        let name = info.name.clone();
        self.fail(|| Failure::Constraint(Value::Compound(name, values)))
    }
}

fn show(p: &Pat, env: &[Value]) -> String {
    instantiate(p, env).to_string()
}
