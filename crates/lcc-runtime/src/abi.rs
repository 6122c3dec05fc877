//! The constraint ABI, version [`ABI_VERSION`] (documented in `docs/constraint-abi.md`).
//!
//! An external constraint (LCC.md section 6) is answered by a [`Provider`]. A call carries the
//! calling peer's id and the arguments, instantiated: bound arguments are values, outputs are
//! [`Value::Unbound`]. The answer is a list of *solutions*, each a complete argument vector that
//! the VM unifies with the call's arguments (so a provider may fill outputs, and may also
//! refuse inputs it does not like). No solution means the constraint fails; several mean
//! backtracking points, tried in order. A provider that cannot answer returns a
//! [`ProviderError`]: the call fails, and the VM logs why.
//!
//! Three kinds of provider answer constraints: in-process Rust values registered by
//! name/arity ([`Registry::register`]), external processes speaking line-delimited JSON
//! ([`crate::process`]), and the built-ins of LCC.md section 6, which the VM evaluates itself.

use lcc_check::mc::value::Value;
use smol_str::SmolStr;
use std::collections::HashMap;
use std::fmt;

/// The version of the constraint ABI. An external provider states the version it speaks in
/// its handshake; a different major version is refused before the run starts.
pub const ABI_VERSION: u32 = 1;

/// One call of an external constraint.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The id of the calling peer (constraints run on the peer that owns them).
    pub peer: &'a Value,
    pub name: &'a str,
    /// The arguments: values where bound, [`Value::Unbound`] for outputs.
    pub args: &'a [Value],
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Value::Compound(SmolStr::new(self.name), self.args.to_vec()))
    }
}

/// Why a provider could not answer a call. The call fails; the VM reports the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderError(pub String);

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProviderError {}

/// The solutions of one call: each a complete argument vector. Empty: the constraint fails.
pub type Solutions = Vec<Vec<Value>>;

/// Something that answers external constraint calls.
pub trait Provider: Send {
    /// Answers one call. Must not panic on any input; a panic is caught by the VM and turned
    /// into a failed call, but the provider's state is then whatever the panic left.
    fn call(&mut self, call: &Call<'_>) -> Result<Solutions, ProviderError>;

    /// A short description for logs and error messages (`"process `python3 p.py`"`).
    fn describe(&self) -> String {
        "in-process provider".into()
    }
}

/// A closure as a provider.
pub struct FnProvider<F>(pub F);

impl<F> Provider for FnProvider<F>
where
    F: FnMut(&Call<'_>) -> Result<Solutions, ProviderError> + Send,
{
    fn call(&mut self, call: &Call<'_>) -> Result<Solutions, ProviderError> {
        (self.0)(call)
    }
}

/// A fixed table of solutions, as `lcc verify --assume name/arity=[[…]]` describes one: the
/// rows that unify with the call's arguments, in order. `true` is one row of the arguments as
/// given, `false` no row.
#[derive(Clone, Debug)]
pub struct TableProvider {
    pub rows: Option<Vec<Vec<Value>>>,
    pub succeeds: bool,
}

impl TableProvider {
    pub fn table(rows: Vec<Vec<Value>>) -> Self {
        TableProvider { rows: Some(rows), succeeds: false }
    }
    pub fn constant(succeeds: bool) -> Self {
        TableProvider { rows: None, succeeds }
    }
}

impl Provider for TableProvider {
    fn call(&mut self, call: &Call<'_>) -> Result<Solutions, ProviderError> {
        match &self.rows {
            None if self.succeeds => Ok(vec![call.args.to_vec()]),
            None => Ok(Vec::new()),
            Some(rows) => Ok(rows
                .iter()
                .filter(|row| {
                    row.len() == call.args.len()
                        && row.iter().zip(call.args).all(|(r, a)| crate::value::compatible(a, r))
                })
                .cloned()
                .collect()),
        }
    }
    fn describe(&self) -> String {
        "fixed table".into()
    }
}

/// Index of a provider in a [`Registry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProviderId(pub usize);

/// Providers by constraint name/arity. One provider may answer several constraints (an
/// external process usually does).
#[derive(Default)]
pub struct Registry {
    providers: Vec<Box<dyn Provider>>,
    by_name: HashMap<(SmolStr, usize), ProviderId>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds a provider (answering nothing yet); see [`Registry::bind`].
    pub fn add(&mut self, provider: Box<dyn Provider>) -> ProviderId {
        self.providers.push(provider);
        ProviderId(self.providers.len() - 1)
    }

    /// Makes `provider` answer `name/arity`, replacing an earlier binding.
    pub fn bind(&mut self, name: &str, arity: usize, provider: ProviderId) {
        self.by_name.insert((SmolStr::new(name), arity), provider);
    }

    /// Registers a provider for one constraint.
    pub fn register(&mut self, name: &str, arity: usize, provider: impl Provider + 'static) {
        let id = self.add(Box::new(provider));
        self.bind(name, arity, id);
    }

    /// Registers a closure for one constraint.
    pub fn register_fn(
        &mut self,
        name: &str,
        arity: usize,
        f: impl FnMut(&Call<'_>) -> Result<Solutions, ProviderError> + Send + 'static,
    ) {
        self.register(name, arity, FnProvider(f));
    }

    pub fn lookup(&self, name: &str, arity: usize) -> Option<ProviderId> {
        self.by_name.get(&(SmolStr::new(name), arity)).copied()
    }

    pub fn provides(&self, name: &str, arity: usize) -> bool {
        self.lookup(name, arity).is_some()
    }

    /// Calls the provider bound to the call's name/arity. A panicking provider fails the call.
    pub fn call(&mut self, call: &Call<'_>) -> Result<Solutions, ProviderError> {
        let Some(id) = self.lookup(call.name, call.args.len()) else {
            return Err(ProviderError(format!("no provider for `{}/{}`", call.name, call.args.len())));
        };
        let Some(provider) = self.providers.get_mut(id.0) else {
            return Err(ProviderError(format!("no provider for `{}/{}`", call.name, call.args.len())));
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| provider.call(call))) {
            Ok(answer) => answer,
            Err(payload) => {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                Err(ProviderError(format!("the provider panicked: {what}")))
            }
        }
    }
}
