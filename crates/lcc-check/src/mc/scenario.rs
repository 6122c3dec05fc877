//! Verification scenarios (LCC.md section 7): which peers exist, how each external constraint
//! behaves, the bounds of the search, and the properties to check.
//!
//! A scenario comes from the command line (`--peers`, `--assume`, read by [`parse_peers`] and
//! [`parse_assume`]) or from a scenario file next to the model, `<model stem>.verify.toml`
//! (`balance_slides.verify.toml` for `balance_slides.lcc`), read by [`parse_scenario_file`].
//! Everything here is pure: text in, values or errors (with byte spans) out.
//!
//! # The scenario file
//!
//! ```toml
//! # Defaults for every scenario of the file.
//! properties = ["deadlock-free"]
//! [bounds]
//! mailbox = 4
//! [constraints]
//! "canMigrate/2" = "any"                                  # any | true | false
//! "getPeerState/1" = { solutions = [["high"], ["low"]] }  # exactly these solutions
//!
//! [[scenario]]
//! name = "two-hosts"
//! peers = ["a(idle, h1)", "a(idle, h2)"]      # or one string: "a(idle, h1), a(idle, h2)"
//! properties = ["deadlock-free", "terminates"]
//! [scenario.constraints]
//! "canMigrate/2" = true
//! [scenario.bounds]
//! states = 1000000
//! depth = 200
//! recursion = 16
//! ```
//!
//! - `[[scenario]]` (at least one): `name` (required, unique), `peers` (required: `a(Role, Id)`
//!   terms, with a ground role such as `idle` or `overloaded(3)` and a constant id, each id used
//!   once), `properties`, `constraints`, `bounds`. A scenario's own entries override the
//!   file-level defaults: its `properties` replace the default list, its constraints and bounds
//!   replace the defaults of the same name one by one.
//! - `properties`: property names (`deadlock-free`, `terminates`, `no-orphans`) or formulas, as
//!   strings; a single string is a list of one. Empty means the checker's default.
//! - `constraints`: keys `"name/arity"`; values:
//!   - `"any"` (the default for a constraint not listed): may succeed, binding its unbound
//!     outputs to `'?'`, or fail;
//!   - `"true"` or `true` (also `"succeeds"`): never fails;
//!   - `"false"` or `false` (also `"fails"`): always fails;
//!   - `{ solutions = [[arg, …], …] }`: exactly these solutions, each one a branch; the call
//!     fails when no row unifies. Each argument is an LCC term in a string (`"high"`,
//!     `"load(3)"`, `"_"`, `'"text"'` for an LCC string), a TOML number or boolean, or a TOML
//!     array (an LCC list). For a constraint of arity 1 a row may be the bare argument:
//!     `solutions = ["high", "low"]`.
//! - `bounds`: positive integers. `states` (default 20 000 000 explored states), `depth`
//!   (longest run explored; default none), `mailbox` (messages pending per peer; default 8),
//!   `recursion` (nested role calls per peer; default 64).

use super::value::{Value, ValueError, parse_value, read_value, skip_space};
use smol_str::SmolStr;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// One verification scenario, with the file-level defaults already merged in.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub peers: Vec<PeerSpec>,
    /// Behaviours fixed by the scenario; a constraint not listed here behaves as
    /// [`Behaviour::Any`] (or [`Behaviour::Succeeds`] when the model marks it `total`).
    pub constraints: Vec<ConstraintRule>,
    pub bounds: Bounds,
    /// Property names or formula texts, uninterpreted here. Empty: the checker's default.
    pub properties: Vec<String>,
}

impl Scenario {
    /// The behaviour the scenario fixes for `name/arity`, if any.
    pub fn behaviour(&self, name: &str, arity: usize) -> Option<&Behaviour> {
        self.constraints.iter().find(|r| r.name == name && r.arity == arity).map(|r| &r.behaviour)
    }

    /// Adds `rule`, replacing a rule for the same `name/arity` (how `--assume` overrides a file).
    pub fn assume(&mut self, rule: ConstraintRule) {
        match self.constraints.iter_mut().find(|r| r.name == rule.name && r.arity == rule.arity) {
            Some(old) => *old = rule,
            None => self.constraints.push(rule),
        }
    }
}

/// A peer of a scenario: `a(Role, Id)` with a ground role term and a constant id.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerSpec {
    /// The initial role: `idle` or `overloaded(3)`.
    pub role: Value,
    /// The peer id: an atom, string or number.
    pub id: Value,
}

impl fmt::Display for PeerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a({}, {})", self.role, self.id)
    }
}

/// How the model checker treats the external constraint `name/arity`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintRule {
    pub name: SmolStr,
    pub arity: usize,
    pub behaviour: Behaviour,
}

/// `name/arity=behaviour`, the `--assume` form (a table prints its rows).
impl fmt::Display for ConstraintRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}={}", Value::Atom(self.name.clone()), self.arity, self.behaviour)
    }
}

/// The abstract behaviour of an external constraint (LCC.md section 6).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Behaviour {
    /// May succeed (unbound outputs become `'?'`) or fail: the default.
    #[default]
    Any,
    /// Never fails (unbound outputs become `'?'`).
    Succeeds,
    /// Always fails.
    Fails,
    /// Exactly these solutions (rows of arguments), each one a branch; fails when no row unifies.
    Table(Vec<Vec<Value>>),
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Behaviour::Any => f.write_str("any"),
            Behaviour::Succeeds => f.write_str("true"),
            Behaviour::Fails => f.write_str("false"),
            Behaviour::Table(rows) => {
                let rows: Vec<Value> = rows.iter().map(|r| Value::List(r.clone())).collect();
                write!(f, "{}", Value::List(rows))
            }
        }
    }
}

/// The bounds of one exploration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Most states explored.
    pub states: u64,
    /// Longest run explored (steps from the initial configuration); `None`: no limit.
    pub depth: Option<u64>,
    /// Most messages pending in one peer's mailbox.
    pub mailbox: u32,
    /// Most nested role calls of one peer.
    pub recursion: u32,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { states: 20_000_000, depth: None, mailbox: 8, recursion: 64 }
    }
}

impl Bounds {
    /// These bounds with every value that `over` sets replaced.
    #[must_use]
    pub fn apply(self, over: &BoundsOverride) -> Bounds {
        Bounds {
            states: over.states.unwrap_or(self.states),
            depth: over.depth.or(self.depth),
            mailbox: over.mailbox.unwrap_or(self.mailbox),
            recursion: over.recursion.unwrap_or(self.recursion),
        }
    }
}

/// Bounds given in one place (a file's `[bounds]`, a scenario, the command line); `None`
/// keeps the value from below.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoundsOverride {
    pub states: Option<u64>,
    pub depth: Option<u64>,
    pub mailbox: Option<u32>,
    pub recursion: Option<u32>,
}

/// The role term of a peer that starts in `role`: its name, with `'?'` for each parameter of
/// its clause (an unknown argument).
pub fn initial_role(model: &crate::ir::Model, role: &crate::ir::Role) -> Value {
    let arity = role
        .clauses
        .iter()
        .filter_map(|&c| model.clause(c))
        .find(|c| c.body.is_some())
        .map_or(0, |c| c.params.len());
    if arity == 0 {
        Value::Atom(role.name.clone())
    } else {
        Value::Compound(role.name.clone(), vec![Value::atom(super::value::ABSTRACT); arity])
    }
}

/// The default population of LCC.md section 4: `Min` peers (default 1) of every `initial` and
/// `necessary` role, with ids `role1`, `role2`, … Empty when the model declares no such role.
pub fn declared_peers(model: &crate::ir::Model) -> Vec<PeerSpec> {
    let mut peers = Vec::new();
    for role in &model.roles {
        let Some(decl) = &role.declaration else { continue };
        for k in 1..=decl.default_population() {
            peers.push(PeerSpec {
                role: initial_role(model, role),
                id: Value::atom(&format!("{}{k}", role.name)),
            });
        }
    }
    peers
}

/// Where the scenario file of a model lives: `<dir>/<stem>.verify.toml`.
pub fn scenario_file_for(model: &Path) -> PathBuf {
    let stem = model.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    model.with_file_name(format!("{stem}.verify.toml"))
}

// ---------------------------------------------------------------------------------------------
// The command line

fn value_error(offset: usize, message: impl Into<String>) -> ValueError {
    ValueError { offset, message: message.into() }
}

fn next_char(text: &str, pos: usize) -> Option<char> {
    text.get(pos..).and_then(|r| r.chars().next())
}

/// Parses the `--peers` list: comma-separated `a(Role, Id)` with a ground role and a constant
/// id, each id used once. Error offsets are byte offsets into `text`.
pub fn parse_peers(text: &str) -> Result<Vec<PeerSpec>, ValueError> {
    Ok(read_peers(text)?.into_iter().map(|(peer, _)| peer).collect())
}

/// The peers of `text`, each with the byte offset of its id.
fn read_peers(text: &str) -> Result<Vec<(PeerSpec, usize)>, ValueError> {
    let mut pos = 0;
    let mut peers: Vec<(PeerSpec, usize)> = Vec::new();
    skip_space(text, &mut pos);
    if pos >= text.len() {
        return Err(value_error(pos, "expected a peer `a(Role, Id)`"));
    }
    loop {
        let (peer, id_at) = read_peer(text, &mut pos)?;
        if let Some((first, _)) = peers.iter().find(|(p, _)| p.id == peer.id) {
            return Err(value_error(
                id_at,
                format!("peer id `{}` is used twice (first by `{first}`)", peer.id),
            ));
        }
        peers.push((peer, id_at));
        skip_space(text, &mut pos);
        match next_char(text, pos) {
            None => return Ok(peers),
            Some(',') => pos += 1,
            Some(_) => return Err(value_error(pos, "expected `,` and another peer, or the end of the list")),
        }
    }
}

/// One `a(Role, Id)` at `*pos`, read piece by piece so that errors point at the role or the id.
fn read_peer(text: &str, pos: &mut usize) -> Result<(PeerSpec, usize), ValueError> {
    skip_space(text, pos);
    let start = *pos;
    let is_a = text.get(start..).is_some_and(|r| r.starts_with('a'))
        && !next_char(text, start + 1).is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut open = start + 1;
    skip_space(text, &mut open);
    if !is_a || next_char(text, open) != Some('(') {
        return Err(value_error(start, "expected a peer `a(Role, Id)`"));
    }
    *pos = open + 1;
    skip_space(text, pos);
    let role_at = *pos;
    let role = read_value(text, pos)?;
    match &role {
        Value::Atom(_) | Value::Compound(..) if is_ground(&role) => {}
        Value::Atom(_) | Value::Compound(..) => {
            return Err(value_error(role_at, "the role must be ground: write '?' for an abstract argument"));
        }
        _ => {
            return Err(value_error(
                role_at,
                "expected a role: an atom or compound term (`idle`, `overloaded(3)`)",
            ));
        }
    }
    skip_space(text, pos);
    if next_char(text, *pos) != Some(',') {
        return Err(value_error(*pos, "expected `,` and the peer id"));
    }
    *pos += 1;
    skip_space(text, pos);
    let id_at = *pos;
    let id = read_value(text, pos)?;
    match id {
        Value::Atom(_) | Value::Str(_) | Value::Int(_) | Value::Float(_) => {}
        Value::Unbound => {
            return Err(value_error(
                id_at,
                "the peer id must be a constant (atom, string or number), not a variable",
            ));
        }
        _ => return Err(value_error(id_at, "the peer id must be a constant (atom, string or number)")),
    }
    skip_space(text, pos);
    if next_char(text, *pos) != Some(')') {
        return Err(value_error(*pos, "expected `)` after the peer id"));
    }
    *pos += 1;
    Ok((PeerSpec { role, id }, id_at))
}

fn is_ground(value: &Value) -> bool {
    match value {
        Value::Unbound => false,
        Value::List(items) | Value::Compound(_, items) => items.iter().all(is_ground),
        _ => true,
    }
}

/// Reads `name/arity`: a constraint name (an atom) and its arity. Offsets are into `text`.
fn parse_signature(text: &str) -> Result<(SmolStr, usize), ValueError> {
    let Some((name_text, arity_text)) = text.rsplit_once('/') else {
        return Err(value_error(
            text.trim_end().len(),
            "expected `/` and the arity after the constraint name, as in `canMigrate/2`",
        ));
    };
    let name = match parse_value(name_text) {
        Ok(Value::Atom(name)) => name,
        _ => {
            let mut at = 0;
            skip_space(text, &mut at);
            return Err(value_error(
                at,
                "expected a constraint name (an atom) before `/`, as in `canMigrate/2`",
            ));
        }
    };
    let arity_at = name_text.len() + 1;
    let arity = arity_text.trim().parse::<usize>().map_err(|_| {
        let mut at = arity_at;
        skip_space(text, &mut at);
        value_error(at, "the arity must be a non-negative integer, as in `canMigrate/2`")
    })?;
    Ok((name, arity))
}

/// The behaviour words of `--assume` and of a scenario file.
fn behaviour_word(word: &str) -> Option<Behaviour> {
    match word {
        "any" => Some(Behaviour::Any),
        "true" | "succeeds" => Some(Behaviour::Succeeds),
        "false" | "fails" => Some(Behaviour::Fails),
        _ => None,
    }
}

/// Parses `--assume 'name/arity=true|false|any'` (`succeeds` and `fails` are synonyms of
/// `true` and `false`). Error offsets are byte offsets into `text`.
pub fn parse_assume(text: &str) -> Result<ConstraintRule, ValueError> {
    let Some((signature, word)) = text.split_once('=') else {
        return Err(value_error(
            text.trim_end().len(),
            "expected `=` and a behaviour (true, false or any) after `name/arity`, as in `canMigrate/2=true`",
        ));
    };
    let (name, arity) = parse_signature(signature)?;
    let word_at = signature.len() + 1;
    let trimmed = word.trim();
    let behaviour = behaviour_word(trimmed).ok_or_else(|| {
        let mut at = word_at;
        skip_space(text, &mut at);
        let message = if trimmed.is_empty() {
            "expected a behaviour after `=`: true, false or any".to_string()
        } else {
            format!("unknown behaviour `{trimmed}`: expected true, false or any (or succeeds, fails)")
        };
        value_error(at, message)
    })?;
    Ok(ConstraintRule { name, arity, behaviour })
}

// ---------------------------------------------------------------------------------------------
// The scenario file

/// A mistake in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// Byte range in the file's text.
    pub span: Range<usize>,
    pub message: String,
    /// What to do about it, when there is something to say.
    pub help: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

fn error(span: Range<usize>, message: impl Into<String>) -> ScenarioError {
    ScenarioError { span, message: message.into(), help: None }
}

impl ScenarioError {
    fn help(mut self, help: impl Into<String>) -> ScenarioError {
        self.help = Some(help.into());
        self
    }
}

type Entry<'a, 'i> = (&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>);

const FILE_KEYS: &[&str] = &["bounds", "constraints", "properties", "scenario"];
const SCENARIO_KEYS: &[&str] = &["name", "peers", "properties", "constraints", "bounds"];
const BOUND_KEYS: &[&str] = &["states", "depth", "mailbox", "recursion"];
const TABLE_KEYS: &[&str] = &["solutions"];
const BEHAVIOUR_HELP: &str =
    "write \"any\", \"true\", \"false\" or a table of solutions: { solutions = [[\"arg\", …], …] }";
const SCENARIO_HELP: &str =
    "add one:\n[[scenario]]\nname = \"two-peers\"\npeers = [\"a(role, id1)\", \"a(role, id2)\"]";

/// The entries of a table in the order they are written (the map itself is sorted by key).
fn entries<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// What a TOML value is, for "must be X, not Y" messages.
fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn wrong_type(value: &Spanned<DeValue<'_>>, what: &str, expected: &str) -> ScenarioError {
    error(value.span(), format!("{what} must be {expected}, not {}", kind(value.get_ref())))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut next = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let replace = diagonal + usize::from(ca != *cb);
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX - 1) + 1;
            let left = next.last().copied().unwrap_or(usize::MAX - 1) + 1;
            diagonal = row.get(j + 1).copied().unwrap_or(0);
            next.push(replace.min(above).min(left));
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

/// Rejects keys outside `valid`, suggesting the closest valid key; `hint` may say more about
/// a key that belongs elsewhere.
fn check_keys(
    table: &DeTable<'_>,
    valid: &[&str],
    place: &str,
    hint: impl Fn(&str) -> Option<String>,
) -> Result<(), ScenarioError> {
    for (key, _) in entries(table) {
        let key_text: &str = key.get_ref();
        if valid.contains(&key_text) {
            continue;
        }
        let listing = valid.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let closest = valid
            .iter()
            .map(|k| (edit_distance(&key_text.to_lowercase(), k), *k))
            .min_by_key(|&(d, _)| d)
            .filter(|&(d, k)| d <= 2.max(k.len() / 3));
        let help = match (hint(key_text), closest) {
            (Some(hint), _) => hint,
            (None, Some((_, k))) => format!("did you mean `{k}`? The keys here are {listing}"),
            (None, None) => format!("the keys here are {listing}"),
        };
        return Err(error(key.span(), format!("unknown key `{key_text}` in {place}")).help(help));
    }
    Ok(())
}

/// Help for a key that belongs somewhere else than where it is written.
fn misplaced(key: &str, in_scenario: bool) -> Option<String> {
    if key.contains('/') {
        let table = if in_scenario { "[scenario.constraints]" } else { "[constraints]" };
        return Some(format!("constraints go in a {table} table"));
    }
    if !in_scenario && matches!(key, "name" | "peers") {
        return Some(format!("`{key}` belongs to a scenario: put it after a [[scenario]] line"));
    }
    if BOUND_KEYS.contains(&key) {
        let table = if in_scenario { "[scenario.bounds]" } else { "[bounds]" };
        return Some(format!("bounds go in a {table} table"));
    }
    None
}

/// 1-based line of a byte offset, for "first defined on line N".
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |before| before.matches('\n').count()) + 1
}

/// Where the characters of the TOML string `value` (spanning `span` in `text`) start in `text`,
/// when they appear there verbatim (no escapes).
fn string_base(text: &str, span: &Range<usize>, value: &str) -> Option<usize> {
    let raw = text.get(span.clone())?;
    let mut open = if raw.starts_with("\"\"\"") || raw.starts_with("'''") { 3 } else { 1 };
    // TOML drops a newline right after the opening delimiter of a multi-line string.
    if open == 3 {
        let after = raw.get(3..).unwrap_or("");
        open += if after.starts_with("\r\n") { 2 } else { usize::from(after.starts_with('\n')) };
    }
    (raw.get(open..open + value.len())? == value).then_some(span.start + open)
}

/// The extent of whatever starts at `offset` in `text`: the term there, else one character.
fn token_at(text: &str, offset: usize) -> Range<usize> {
    let mut end = offset;
    if read_value(text, &mut end).is_ok() && end > offset {
        return offset..end;
    }
    offset..offset + next_char(text, offset).map_or(0, char::len_utf8)
}

/// A span inside a TOML string: `local` (a range in the decoded string) moved to the file,
/// or the whole string when it was written with escapes.
fn inside(text: &str, string: &Spanned<DeValue<'_>>, value: &str, local: Range<usize>) -> Range<usize> {
    match string_base(text, &string.span(), value) {
        Some(base) => base + local.start..base + local.end,
        None => string.span(),
    }
}

/// A [`ValueError`] in the TOML string `string` (decoded as `value`) as a file error.
fn term_error(text: &str, string: &Spanned<DeValue<'_>>, value: &str, err: ValueError) -> ScenarioError {
    error(inside(text, string, value, token_at(value, err.offset)), err.message)
}

/// Parses a scenario file (see the module documentation) into its scenarios, each with the
/// file-level defaults merged in.
pub fn parse_scenario_file(text: &str) -> Result<Vec<Scenario>, ScenarioError> {
    let document = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        error(span, e.message().to_string())
    })?;
    let root = document.get_ref();
    check_keys(root, FILE_KEYS, "the scenario file", |k| misplaced(k, false))?;
    let bounds = match root.get("bounds") {
        Some(value) => read_bounds(value)?,
        None => BoundsOverride::default(),
    };
    let constraints = match root.get("constraints") {
        Some(value) => read_constraints(text, value)?,
        None => Vec::new(),
    };
    let properties = match root.get("properties") {
        Some(value) => read_properties(value)?,
        None => Vec::new(),
    };
    let Some(list) = root.get("scenario") else {
        return Err(error(text.len()..text.len(), "the file has no scenario").help(SCENARIO_HELP));
    };
    let DeValue::Array(items) = list.get_ref() else {
        return Err(error(list.span(), "`scenario` must be an array of tables")
            .help("start each scenario with a [[scenario]] line (two brackets)"));
    };
    if items.is_empty() {
        return Err(error(list.span(), "the file has no scenario").help(SCENARIO_HELP));
    }
    let defaults = Scenario {
        name: String::new(),
        peers: Vec::new(),
        constraints,
        bounds: Bounds::default().apply(&bounds),
        properties,
    };
    let mut scenarios: Vec<(Scenario, usize)> = Vec::new();
    for item in items.iter() {
        let (scenario, name_at) = read_scenario(text, item, &defaults)?;
        if let Some((_, first)) = scenarios.iter().find(|(s, _)| s.name == scenario.name) {
            let line = line_of(text, *first);
            return Err(error(name_at, format!("scenario `{}` is defined twice", scenario.name))
                .help(format!("the first is on line {line}; give each scenario its own name")));
        }
        scenarios.push((scenario, name_at.start));
    }
    Ok(scenarios.into_iter().map(|(s, _)| s).collect())
}

/// One `[[scenario]]` table over `defaults`, with the span of its name.
fn read_scenario(
    text: &str,
    item: &Spanned<DeValue<'_>>,
    defaults: &Scenario,
) -> Result<(Scenario, Range<usize>), ScenarioError> {
    let DeValue::Table(table) = item.get_ref() else {
        return Err(wrong_type(item, "a scenario", "a table"));
    };
    check_keys(table, SCENARIO_KEYS, "a scenario", |k| misplaced(k, true))?;
    let Some(name_value) = table.get("name") else {
        return Err(error(item.span(), "this scenario has no name").help("add a line `name = \"…\"` to it"));
    };
    let Some(name) = name_value.get_ref().as_str() else {
        return Err(wrong_type(name_value, "a scenario's name", "a string"));
    };
    if name.trim().is_empty() {
        return Err(error(name_value.span(), "a scenario's name must not be empty"));
    }
    let Some(peers_value) = table.get("peers") else {
        return Err(error(item.span(), format!("scenario `{name}` has no peers"))
            .help("add a line `peers = [\"a(role, id1)\", \"a(role, id2)\"]` to it"));
    };
    let peers = read_scenario_peers(text, peers_value)?;
    let mut scenario = Scenario { name: name.to_string(), peers, ..defaults.clone() };
    if let Some(value) = table.get("properties") {
        scenario.properties = read_properties(value)?;
    }
    if let Some(value) = table.get("constraints") {
        for rule in read_constraints(text, value)? {
            scenario.assume(rule);
        }
    }
    if let Some(value) = table.get("bounds") {
        scenario.bounds = scenario.bounds.apply(&read_bounds(value)?);
    }
    Ok((scenario, name_value.span()))
}

/// `peers`: a string of peers, or an array of such strings.
fn read_scenario_peers(text: &str, value: &Spanned<DeValue<'_>>) -> Result<Vec<PeerSpec>, ScenarioError> {
    const EXPECTED: &str = "an array of strings such as \"a(idle, h1)\"";
    let strings: Vec<&Spanned<DeValue<'_>>> = match value.get_ref() {
        DeValue::String(_) => vec![value],
        DeValue::Array(items) => items.iter().collect(),
        _ => return Err(wrong_type(value, "`peers`", EXPECTED)),
    };
    if strings.is_empty() {
        return Err(
            error(value.span(), "`peers` is empty").help("a scenario needs at least one peer `a(role, id)`")
        );
    }
    let mut peers: Vec<PeerSpec> = Vec::new();
    for string in strings {
        let Some(s) = string.get_ref().as_str() else {
            return Err(wrong_type(string, "a peer", "a string such as \"a(idle, h1)\""));
        };
        let read = read_peers(s).map_err(|e| term_error(text, string, s, e))?;
        for (peer, id_at) in read {
            if let Some(first) = peers.iter().find(|p| p.id == peer.id) {
                let span = inside(text, string, s, token_at(s, id_at));
                return Err(error(span, format!("peer id `{}` is used twice (first by `{first}`)", peer.id)));
            }
            peers.push(peer);
        }
    }
    Ok(peers)
}

/// `properties`: a string, or an array of strings.
fn read_properties(value: &Spanned<DeValue<'_>>) -> Result<Vec<String>, ScenarioError> {
    const EXPECTED: &str = "an array of strings such as [\"deadlock-free\"]";
    let strings: Vec<&Spanned<DeValue<'_>>> = match value.get_ref() {
        DeValue::String(_) => vec![value],
        DeValue::Array(items) => items.iter().collect(),
        _ => return Err(wrong_type(value, "`properties`", EXPECTED)),
    };
    strings
        .into_iter()
        .map(|string| match string.get_ref().as_str() {
            Some(s) if s.trim().is_empty() => Err(error(string.span(), "a property must not be empty")),
            Some(s) => Ok(s.to_string()),
            None => Err(wrong_type(string, "a property", "a string")),
        })
        .collect()
}

/// A `[bounds]` table.
fn read_bounds(value: &Spanned<DeValue<'_>>) -> Result<BoundsOverride, ScenarioError> {
    let DeValue::Table(table) = value.get_ref() else {
        return Err(wrong_type(value, "`bounds`", "a table"));
    };
    check_keys(table, BOUND_KEYS, "`bounds`", |_| None)?;
    let mut over = BoundsOverride::default();
    for (key, value) in entries(table) {
        let key: &str = key.get_ref();
        match key {
            "states" => over.states = Some(read_bound(key, value, u64::MAX)?),
            "depth" => over.depth = Some(read_bound(key, value, u64::MAX)?),
            "mailbox" => over.mailbox = Some(narrow(key, value, u32::MAX)?),
            _ => over.recursion = Some(narrow(key, value, u32::MAX)?),
        }
    }
    Ok(over)
}

fn narrow(key: &str, value: &Spanned<DeValue<'_>>, max: u32) -> Result<u32, ScenarioError> {
    let n = read_bound(key, value, max.into())?;
    u32::try_from(n).map_err(|_| error(value.span(), format!("`{key}` is too large (at most {max})")))
}

/// A positive integer of at most `max`.
fn read_bound(key: &str, value: &Spanned<DeValue<'_>>, max: u64) -> Result<u64, ScenarioError> {
    let DeValue::Integer(n) = value.get_ref() else {
        return Err(wrong_type(value, &format!("`{key}`"), "a positive integer"));
    };
    match i128::from_str_radix(n.as_str(), n.radix()) {
        Ok(n) if n < 1 => Err(error(value.span(), format!("`{key}` must be at least 1"))),
        Ok(n) => u64::try_from(n)
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| error(value.span(), format!("`{key}` is too large (at most {max})"))),
        Err(_) => Err(error(value.span(), format!("`{key}` is too large (at most {max})"))),
    }
}

/// A `[constraints]` table, in writing order.
fn read_constraints(text: &str, value: &Spanned<DeValue<'_>>) -> Result<Vec<ConstraintRule>, ScenarioError> {
    let DeValue::Table(table) = value.get_ref() else {
        return Err(wrong_type(value, "`constraints`", "a table of \"name/arity\" = behaviour")
            .help("write [constraints] and then lines such as \"canMigrate/2\" = \"any\""));
    };
    let mut rules: Vec<ConstraintRule> = Vec::new();
    for (key, value) in entries(table) {
        let (name, arity) = parse_signature(key.get_ref()).map_err(|e| {
            error(key.span(), format!("`{}` is not a constraint `name/arity`: {}", key.get_ref(), e.message))
                .help("write the constraint's name and arity in quotes: \"canMigrate/2\" = \"any\"")
        })?;
        if rules.iter().any(|r| r.name == name && r.arity == arity) {
            return Err(error(key.span(), format!("constraint `{name}/{arity}` is given twice")));
        }
        let behaviour = read_behaviour(text, value, &name, arity)?;
        rules.push(ConstraintRule { name, arity, behaviour });
    }
    Ok(rules)
}

fn read_behaviour(
    text: &str,
    value: &Spanned<DeValue<'_>>,
    name: &str,
    arity: usize,
) -> Result<Behaviour, ScenarioError> {
    let table = match value.get_ref() {
        DeValue::Boolean(true) => return Ok(Behaviour::Succeeds),
        DeValue::Boolean(false) => return Ok(Behaviour::Fails),
        DeValue::String(word) => {
            return behaviour_word(word.trim()).ok_or_else(|| {
                error(value.span(), format!("unknown behaviour `{word}` for `{name}/{arity}`"))
                    .help(BEHAVIOUR_HELP)
            });
        }
        DeValue::Table(table) => table,
        _ => {
            return Err(wrong_type(
                value,
                &format!("the behaviour of `{name}/{arity}`"),
                "a string, a boolean or a table",
            )
            .help(BEHAVIOUR_HELP));
        }
    };
    check_keys(table, TABLE_KEYS, &format!("the table of `{name}/{arity}`"), |_| None)?;
    let Some(solutions) = table.get("solutions") else {
        return Err(error(value.span(), format!("the table of `{name}/{arity}` has no `solutions`"))
            .help("write { solutions = [[\"arg\", …], …] }: one row of arguments per solution"));
    };
    let DeValue::Array(rows) = solutions.get_ref() else {
        return Err(wrong_type(solutions, "`solutions`", "an array of rows of arguments"));
    };
    let mut table_rows = Vec::new();
    for row in rows.iter() {
        let args: Vec<&Spanned<DeValue<'_>>> = match row.get_ref() {
            DeValue::Array(args) => args.iter().collect(),
            // A bare argument is a row of one.
            _ if arity == 1 => vec![row],
            _ => {
                return Err(wrong_type(
                    row,
                    &format!("a solution of `{name}/{arity}`"),
                    "an array of its arguments",
                ));
            }
        };
        if args.len() != arity {
            let plural = if args.len() == 1 { "" } else { "s" };
            return Err(error(
                row.span(),
                format!(
                    "this solution has {} argument{plural}, but `{name}/{arity}` takes {arity}",
                    args.len()
                ),
            ));
        }
        let values = args.into_iter().map(|arg| read_term(text, arg)).collect::<Result<Vec<_>, _>>()?;
        table_rows.push(values);
    }
    Ok(Behaviour::Table(table_rows))
}

/// An argument of a table row: an LCC term in a string, a number, a boolean (an atom) or an
/// array (a list).
fn read_term(text: &str, value: &Spanned<DeValue<'_>>) -> Result<Value, ScenarioError> {
    match value.get_ref() {
        DeValue::String(s) => parse_value(s).map_err(|e| term_error(text, value, s, e)),
        DeValue::Integer(n) => i64::from_str_radix(n.as_str(), n.radix())
            .map(Value::Int)
            .map_err(|_| error(value.span(), "integer out of range (64 bits)")),
        DeValue::Float(x) => {
            x.as_str().parse::<f64>().map(Value::Float).map_err(|_| error(value.span(), "invalid number"))
        }
        DeValue::Boolean(b) => Ok(Value::atom(if *b { "true" } else { "false" })),
        DeValue::Array(items) => {
            items.iter().map(|item| read_term(text, item)).collect::<Result<_, _>>().map(Value::List)
        }
        DeValue::Datetime(_) | DeValue::Table(_) => Err(wrong_type(
            value,
            "an argument",
            "an LCC term in a string (\"high\", \"load(3)\"), a number, a boolean or an array",
        )),
    }
}
