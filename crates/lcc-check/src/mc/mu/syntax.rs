//! Formulas: the abstract syntax, the parser and the canonical printer.

use crate::mc::value::{self, Action, Value};
use std::fmt;

/// A state formula: true or false of a state of the graph.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    True,
    False,
    /// A fixpoint variable, bound by an enclosing [`Formula::Mu`] or [`Formula::Nu`].
    Var(String),
    Not(Box<Formula>),
    And(Box<Formula>, Box<Formula>),
    Or(Box<Formula>, Box<Formula>),
    Implies(Box<Formula>, Box<Formula>),
    /// `[R] f`: every path matching `R` ends in a state satisfying `f`.
    Must(Regex, Box<Formula>),
    /// `<R> f`: some path matching `R` ends in a state satisfying `f`.
    May(Regex, Box<Formula>),
    /// `mu X. f`: the least fixpoint.
    Mu(String, Box<Formula>),
    /// `nu X. f`: the greatest fixpoint.
    Nu(String, Box<Formula>),
}

/// A regular expression over transitions: a set of finite paths.
#[derive(Clone, Debug, PartialEq)]
pub enum Regex {
    /// One transition whose label satisfies the action formula.
    Action(ActionFormula),
    /// `R . R`
    Seq(Box<Regex>, Box<Regex>),
    /// `R + R`
    Choice(Box<Regex>, Box<Regex>),
    /// `R*`: zero or more.
    Star(Box<Regex>),
    /// `R+`: one or more.
    Plus(Box<Regex>),
}

/// An action formula: true or false of one transition (its multi-action label).
#[derive(Clone, Debug, PartialEq)]
pub enum ActionFormula {
    True,
    False,
    /// An action whose arguments are patterns ([`Value::Unbound`] is the wildcard). Boxed:
    /// it is much larger than the other variants, and formulas are passed around by value.
    Pattern(Box<Action>),
    Not(Box<ActionFormula>),
    And(Box<ActionFormula>, Box<ActionFormula>),
    Or(Box<ActionFormula>, Box<ActionFormula>),
}

impl ActionFormula {
    /// Whether a transition labelled with these actions satisfies the formula: a pattern holds
    /// when some action of the label matches it.
    pub fn matches(&self, label: &[Action]) -> bool {
        match self {
            ActionFormula::True => true,
            ActionFormula::False => false,
            ActionFormula::Pattern(pattern) => label.iter().any(|action| pattern_matches(pattern, action)),
            ActionFormula::Not(a) => !a.matches(label),
            ActionFormula::And(a, b) => a.matches(label) && b.matches(label),
            ActionFormula::Or(a, b) => a.matches(label) || b.matches(label),
        }
    }
}

fn pattern_matches(pattern: &Action, action: &Action) -> bool {
    use Action::{Become, Call, Done, Recv, Send};
    match (pattern, action) {
        (Send { from, to, msg }, Send { from: f, to: t, msg: m })
        | (Recv { from, to, msg }, Recv { from: f, to: t, msg: m }) => {
            from.matches(f, false) && to.matches(t, false) && msg.matches(m, false)
        }
        (Call { peer, constraint }, Call { peer: p, constraint: c }) => {
            peer.matches(p, false) && constraint.matches(c, false)
        }
        // Roles are named by functor (LCC.md 7).
        (Become { peer, role }, Become { peer: p, role: r }) => {
            peer.matches(p, false) && role.matches(r, true)
        }
        (Done { peer }, Done { peer: p }) => peer.matches(p, false),
        _ => false,
    }
}

/// A syntax or well-formedness error in a formula: byte offset into the text and what was
/// expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormulaError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for FormulaError {}

/// The actions of LCC.md section 7 with the names of their arguments.
const ACTIONS: [(&str, &[&str]); 5] = [
    ("send", &["From", "To", "Msg"]),
    ("recv", &["From", "To", "Msg"]),
    ("call", &["Peer", "Constraint"]),
    ("become", &["Peer", "Role"]),
    ("done", &["Peer"]),
];

/// Bounds that keep every recursion over a formula (parsing, printing, translation, dropping)
/// shallow whatever the input.
const MAX_NODES: usize = 4000;
const MAX_BRACKET_DEPTH: usize = 200;
/// Groups (parentheses, fixpoint bodies, modalities) inside one another while parsing.
const MAX_NESTING: usize = 100;
/// Depth of the formula tree (operators inside operators).
const MAX_DEPTH: usize = 250;

type Parsed<T> = Result<T, FormulaError>;

/// Parses a state formula (the whole text) and checks that every fixpoint variable is bound
/// and occurs under an even number of negations.
pub fn parse(text: &str) -> Result<Formula, FormulaError> {
    check_bracket_depth(text)?;
    let mut parser = Parser { text, pos: 0, nodes: 0, nesting: 0, var_offsets: Vec::new() };
    let formula = parser.state()?;
    parser.skip();
    if parser.pos < text.len() {
        let found = parser.found();
        return parser
            .fail(parser.pos, format!("expected `&&`, `||`, `=>` or the end of the formula, found {found}"));
    }
    if depth(&formula) > MAX_DEPTH {
        return Err(FormulaError {
            offset: 0,
            message: format!(
                "the formula is nested too deeply (more than {MAX_DEPTH} operators inside one another)"
            ),
        });
    }
    Checker { offsets: &parser.var_offsets, next: 0, scope: Vec::new() }.walk(&formula, 0)?;
    Ok(formula)
}

/// The depth of the formula tree, computed without recursion.
fn depth(formula: &Formula) -> usize {
    enum Item<'f> {
        State(&'f Formula),
        Regex(&'f Regex),
        Action(&'f ActionFormula),
    }
    let mut stack = vec![(Item::State(formula), 1usize)];
    let mut deepest = 0;
    while let Some((item, d)) = stack.pop() {
        deepest = deepest.max(d);
        match item {
            Item::State(f) => match f {
                Formula::True | Formula::False | Formula::Var(_) => {}
                Formula::Not(a) | Formula::Mu(_, a) | Formula::Nu(_, a) => {
                    stack.push((Item::State(a), d + 1))
                }
                Formula::And(a, b) | Formula::Or(a, b) | Formula::Implies(a, b) => {
                    stack.push((Item::State(a), d + 1));
                    stack.push((Item::State(b), d + 1));
                }
                Formula::Must(r, a) | Formula::May(r, a) => {
                    stack.push((Item::Regex(r), d + 1));
                    stack.push((Item::State(a), d + 1));
                }
            },
            Item::Regex(r) => match r {
                Regex::Action(a) => stack.push((Item::Action(a), d + 1)),
                Regex::Seq(a, b) | Regex::Choice(a, b) => {
                    stack.push((Item::Regex(a), d + 1));
                    stack.push((Item::Regex(b), d + 1));
                }
                Regex::Star(a) | Regex::Plus(a) => stack.push((Item::Regex(a), d + 1)),
            },
            Item::Action(a) => match a {
                ActionFormula::True | ActionFormula::False | ActionFormula::Pattern(_) => {}
                ActionFormula::Not(x) => stack.push((Item::Action(x), d + 1)),
                ActionFormula::And(x, y) | ActionFormula::Or(x, y) => {
                    stack.push((Item::Action(x), d + 1));
                    stack.push((Item::Action(y), d + 1));
                }
            },
        }
    }
    deepest
}

/// Rejects bracket nesting deep enough to exhaust the stack of the (recursive) term reader.
fn check_bracket_depth(text: &str) -> Parsed<()> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Err(FormulaError {
                        offset: i,
                        message: format!("brackets nest more than {MAX_BRACKET_DEPTH} levels deep"),
                    });
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Formula nodes built so far (bounded by [`MAX_NODES`]).
    nodes: usize,
    /// Groups open at the current position (bounded by [`MAX_NESTING`]).
    nesting: usize,
    /// Offsets of the variable occurrences, in text order (for the well-formedness errors).
    var_offsets: Vec<usize>,
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

impl<'a> Parser<'a> {
    fn fail<T>(&self, offset: usize, message: impl Into<String>) -> Parsed<T> {
        Err(FormulaError { offset, message: message.into() })
    }

    fn skip(&mut self) {
        value::skip_space(self.text, &mut self.pos);
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip();
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str, message: &str) -> Parsed<()> {
        if self.eat(token) {
            Ok(())
        } else {
            let found = self.found();
            self.fail(self.pos, format!("{message}, found {found}"))
        }
    }

    /// The word (identifier) at the current position, not consumed.
    fn peek_word(&mut self) -> Option<&'a str> {
        self.skip();
        let rest = self.rest();
        if !rest.starts_with(is_word_start) {
            return None;
        }
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        rest.get(..end)
    }

    /// What is at the current position, for error messages.
    fn found(&mut self) -> String {
        if let Some(word) = self.peek_word() {
            return format!("`{word}`");
        }
        match self.rest().chars().next() {
            Some(c) => format!("`{c}`"),
            None => "the end of the formula".to_string(),
        }
    }

    /// Counts one more formula node; fails beyond [`MAX_NODES`].
    fn node(&mut self) -> Parsed<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self
                .fail(self.pos, format!("the formula is too large (more than {MAX_NODES} operators)"));
        }
        Ok(())
    }

    /// Enters a nested group (parentheses, a fixpoint body, a modality); fails beyond
    /// [`MAX_NESTING`].
    fn enter(&mut self) -> Parsed<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return self.fail(self.pos, format!("the formula nests more than {MAX_NESTING} levels deep"));
        }
        Ok(())
    }

    fn state(&mut self) -> Parsed<Formula> {
        self.enter()?;
        // `=>` is right associative: collect the operands, then fold from the right.
        let mut operands = vec![self.or()?];
        while self.eat("=>") {
            self.node()?;
            operands.push(self.or()?);
        }
        self.nesting -= 1;
        let mut operands = operands.into_iter().rev();
        let last = operands.next().unwrap_or(Formula::True);
        Ok(operands.fold(last, |right, left| Formula::Implies(Box::new(left), Box::new(right))))
    }

    fn or(&mut self) -> Parsed<Formula> {
        let mut left = self.and()?;
        while self.eat("||") {
            self.node()?;
            let right = self.and()?;
            left = Formula::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Parsed<Formula> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            self.node()?;
            let right = self.unary()?;
            left = Formula::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// Prefix operators (`!`, `[R]`, `<R>`, read in a loop rather than by recursion) and the
    /// formula they apply to.
    fn unary(&mut self) -> Parsed<Formula> {
        enum Prefix {
            Not,
            Must(Regex),
            May(Regex),
        }
        let mut prefixes = Vec::new();
        loop {
            self.node()?;
            if self.eat("!") {
                prefixes.push(Prefix::Not);
            } else if self.eat("[") {
                let regex = self.regex()?;
                self.expect("]", "expected `]` to close the box modality `[R]`")?;
                prefixes.push(Prefix::Must(regex));
            } else if self.eat("<") {
                let regex = self.regex()?;
                self.expect(">", "expected `>` to close the diamond modality `<R>`")?;
                prefixes.push(Prefix::May(regex));
            } else {
                break;
            }
        }
        let mut formula = self.primary()?;
        for prefix in prefixes.into_iter().rev() {
            formula = match prefix {
                Prefix::Not => Formula::Not(Box::new(formula)),
                Prefix::Must(regex) => Formula::Must(regex, Box::new(formula)),
                Prefix::May(regex) => Formula::May(regex, Box::new(formula)),
            };
        }
        Ok(formula)
    }

    fn primary(&mut self) -> Parsed<Formula> {
        self.skip();
        let start = self.pos;
        if self.eat("(") {
            let formula = self.state()?;
            self.expect(")", "expected `)`")?;
            return Ok(formula);
        }
        let Some(word) = self.peek_word() else {
            return self.expected_state(start);
        };
        match word {
            "true" | "false" => {
                self.pos += word.len();
                Ok(if word == "true" { Formula::True } else { Formula::False })
            }
            "mu" | "nu" => {
                self.pos += word.len();
                let var = self.fixpoint_variable(word)?;
                let body = Box::new(self.state()?);
                Ok(if word == "mu" { Formula::Mu(var.into(), body) } else { Formula::Nu(var.into(), body) })
            }
            _ if word.starts_with(|c: char| c.is_uppercase()) => {
                self.pos += word.len();
                self.var_offsets.push(start);
                Ok(Formula::Var(word.into()))
            }
            _ => self.expected_state(start),
        }
    }

    /// The variable and the `.` after `mu` or `nu`.
    fn fixpoint_variable(&mut self, keyword: &str) -> Parsed<&'a str> {
        self.skip();
        let start = self.pos;
        match self.peek_word() {
            Some(var) if var.starts_with(|c: char| c.is_uppercase()) => {
                self.pos += var.len();
                self.expect(".", &format!("expected `.` after the fixpoint variable `{var}`"))?;
                Ok(var)
            }
            _ => {
                let found = self.found();
                self.fail(
                    start,
                    format!(
                        "expected a fixpoint variable (a name starting with an uppercase letter) after `{keyword}`, found {found}"
                    ),
                )
            }
        }
    }

    #[cold]
    fn expected_state<T>(&mut self, start: usize) -> Parsed<T> {
        let found = self.found();
        if let Some(word) = self.peek_word()
            && ACTIONS.iter().any(|(name, _)| *name == word)
        {
            return self.fail(
                start,
                format!(
                    "expected a state formula, found the action `{word}`: actions go inside a modality, `[...]` or `<...>`"
                ),
            );
        }
        self.fail(
            start,
            format!(
                "expected a state formula (`true`, `false`, a variable, `!`, `[R]`, `<R>`, `mu`, `nu` or `(`), found {found}"
            ),
        )
    }

    /// Whether the next token is a binary `+` (it is followed by something that can start a
    /// regular expression); otherwise a `+` is the postfix "one or more".
    fn binary_plus_ahead(&mut self) -> bool {
        self.skip();
        if !self.rest().starts_with('+') {
            return false;
        }
        let mut after = self.pos + 1;
        value::skip_space(self.text, &mut after);
        self.text
            .get(after..)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c == '(' || c == '!' || is_word_start(c))
    }

    fn regex(&mut self) -> Parsed<Regex> {
        self.enter()?;
        let mut left = self.seq()?;
        while self.binary_plus_ahead() {
            self.pos += 1;
            self.node()?;
            let right = self.seq()?;
            left = Regex::Choice(Box::new(left), Box::new(right));
        }
        self.nesting -= 1;
        Ok(left)
    }

    fn seq(&mut self) -> Parsed<Regex> {
        let mut left = self.postfix()?;
        while self.eat(".") {
            self.node()?;
            let right = self.postfix()?;
            left = Regex::Seq(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn postfix(&mut self) -> Parsed<Regex> {
        let mut regex = self.act_or()?;
        loop {
            self.skip();
            if self.rest().starts_with('*') {
                self.pos += 1;
                self.node()?;
                regex = Regex::Star(Box::new(regex));
            } else if self.rest().starts_with('+') && !self.binary_plus_ahead() {
                self.pos += 1;
                self.node()?;
                regex = Regex::Plus(Box::new(regex));
            } else {
                return Ok(regex);
            }
        }
    }

    /// An operand of `!`, `&&` or `||` must be an action formula, not a regular expression.
    fn action_operand(&self, regex: Regex, offset: usize, operator: &str) -> Parsed<ActionFormula> {
        match regex {
            Regex::Action(action) => Ok(action),
            _ => self.fail(
                offset,
                format!(
                    "`{operator}` combines action formulas, but this operand is a regular expression (it uses `.`, `+`, `*`)"
                ),
            ),
        }
    }

    fn act_or(&mut self) -> Parsed<Regex> {
        self.skip();
        let start = self.pos;
        let mut left = self.act_and()?;
        while self.eat("||") {
            self.node()?;
            self.skip();
            let right_start = self.pos;
            let right = self.act_and()?;
            let a = self.action_operand(left, start, "||")?;
            let b = self.action_operand(right, right_start, "||")?;
            left = Regex::Action(ActionFormula::Or(Box::new(a), Box::new(b)));
        }
        Ok(left)
    }

    fn act_and(&mut self) -> Parsed<Regex> {
        self.skip();
        let start = self.pos;
        let mut left = self.act_not()?;
        while self.eat("&&") {
            self.node()?;
            self.skip();
            let right_start = self.pos;
            let right = self.act_not()?;
            let a = self.action_operand(left, start, "&&")?;
            let b = self.action_operand(right, right_start, "&&")?;
            left = Regex::Action(ActionFormula::And(Box::new(a), Box::new(b)));
        }
        Ok(left)
    }

    fn act_not(&mut self) -> Parsed<Regex> {
        // A loop rather than recursion: `!!!...` cannot exhaust the stack.
        let mut negations = 0usize;
        loop {
            self.node()?;
            if !self.eat("!") {
                break;
            }
            negations += 1;
        }
        self.skip();
        let start = self.pos;
        let operand = self.act_primary()?;
        if negations == 0 {
            return Ok(operand);
        }
        let mut action = self.action_operand(operand, start, "!")?;
        for _ in 0..negations {
            action = ActionFormula::Not(Box::new(action));
        }
        Ok(Regex::Action(action))
    }

    fn act_primary(&mut self) -> Parsed<Regex> {
        self.skip();
        let start = self.pos;
        if self.eat("(") {
            let regex = self.regex()?;
            self.expect(")", "expected `)`")?;
            return Ok(regex);
        }
        let Some(word) = self.peek_word() else {
            let found = self.found();
            return self.fail(
                start,
                format!(
                    "expected an action formula (`true`, `false`, an action such as `send(_, _, Msg)`, `!` or `(`), found {found}"
                ),
            );
        };
        match word {
            "true" => {
                self.pos += word.len();
                Ok(Regex::Action(ActionFormula::True))
            }
            "false" => {
                self.pos += word.len();
                Ok(Regex::Action(ActionFormula::False))
            }
            _ => match ACTIONS.iter().find(|(name, _)| *name == word) {
                Some(&(name, params)) => {
                    self.pos += word.len();
                    let action = self.pattern(name, params, start)?;
                    Ok(Regex::Action(ActionFormula::Pattern(Box::new(action))))
                }
                None => self.fail(
                    start,
                    format!(
                        "expected an action formula, found `{word}`: the actions are `send`, `recv`, `call`, `become` and `done`"
                    ),
                ),
            },
        }
    }

    /// The argument list of an action pattern; `start` is the offset of its name.
    fn pattern(&mut self, name: &str, params: &[&str], start: usize) -> Parsed<Action> {
        self.expect("(", &format!("expected `(` after `{name}`"))?;
        let mut args: Vec<Value> = Vec::new();
        if !self.eat(")") {
            loop {
                let arg = value::read_value(self.text, &mut self.pos)
                    .map_err(|e| FormulaError { offset: e.offset, message: e.message })?;
                args.push(arg);
                if self.eat(",") {
                    continue;
                }
                self.expect(")", &format!("expected `,` or `)` in the arguments of `{name}`"))?;
                break;
            }
        }
        let action = match (name, args.as_slice()) {
            ("send", [from, to, msg]) => {
                Action::Send { from: from.clone(), to: to.clone(), msg: msg.clone() }
            }
            ("recv", [from, to, msg]) => {
                Action::Recv { from: from.clone(), to: to.clone(), msg: msg.clone() }
            }
            ("call", [peer, constraint]) => {
                Action::Call { peer: peer.clone(), constraint: constraint.clone() }
            }
            ("become", [peer, role]) => Action::Become { peer: peer.clone(), role: role.clone() },
            ("done", [peer]) => Action::Done { peer: peer.clone() },
            _ => {
                let plural = if params.len() == 1 { "" } else { "s" };
                return self.fail(
                    start,
                    format!(
                        "`{name}` takes {} argument{plural} ({}), found {}",
                        params.len(),
                        params.join(", "),
                        args.len()
                    ),
                );
            }
        };
        Ok(action)
    }
}

/// The well-formedness check: every variable bound, and under an even number of negations
/// relative to its binder (so that every fixpoint is of a monotone function).
struct Checker<'a> {
    /// Offsets of the variable occurrences in text order, which is the order of this walk.
    offsets: &'a [usize],
    next: usize,
    /// Enclosing binders: variable, binder keyword, negations above the binder.
    scope: Vec<(&'a str, &'static str, usize)>,
}

impl<'a> Checker<'a> {
    fn walk(&mut self, formula: &'a Formula, negations: usize) -> Parsed<()> {
        match formula {
            Formula::True | Formula::False => Ok(()),
            Formula::Var(name) => {
                let offset = self.offsets.get(self.next).copied().unwrap_or(0);
                self.next += 1;
                match self.scope.iter().rev().find(|(bound, _, _)| bound == name) {
                    None => Err(FormulaError {
                        offset,
                        message: format!(
                            "the fixpoint variable `{name}` is not bound: it must occur inside `mu {name}. ...` or `nu {name}. ...`"
                        ),
                    }),
                    Some(&(_, keyword, at_binder)) if (negations + at_binder) % 2 == 1 => Err(FormulaError {
                        offset,
                        message: format!(
                            "the fixpoint variable `{name}` occurs under an odd number of negations inside `{keyword} {name}` (the left side of `=>` counts as one), so the fixpoint is not well defined"
                        ),
                    }),
                    Some(_) => Ok(()),
                }
            }
            Formula::Not(f) => self.walk(f, negations + 1),
            Formula::And(a, b) | Formula::Or(a, b) => {
                self.walk(a, negations)?;
                self.walk(b, negations)
            }
            Formula::Implies(a, b) => {
                self.walk(a, negations + 1)?;
                self.walk(b, negations)
            }
            Formula::Must(_, f) | Formula::May(_, f) => self.walk(f, negations),
            Formula::Mu(name, body) | Formula::Nu(name, body) => {
                let keyword = if matches!(formula, Formula::Mu(..)) { "mu" } else { "nu" };
                self.scope.push((name, keyword, negations));
                let result = self.walk(body, negations);
                self.scope.pop();
                result
            }
        }
    }
}

// The printer: minimal parentheses for the precedences of the parser, so that parsing the
// output gives back the same tree.

fn state_precedence(formula: &Formula) -> u8 {
    match formula {
        Formula::Implies(..) => 1,
        Formula::Or(..) => 2,
        Formula::And(..) => 3,
        _ => 4,
    }
}

/// Writes `formula` where an operand of precedence at least `min` is expected; `tail` says
/// that nothing follows it up to the end of the enclosing group, so a `mu`/`nu` (which
/// extends as far right as possible) needs no parentheses.
fn write_state(f: &mut fmt::Formatter<'_>, formula: &Formula, min: u8, tail: bool) -> fmt::Result {
    let parens = match formula {
        Formula::Mu(..) | Formula::Nu(..) => !tail,
        _ => state_precedence(formula) < min,
    };
    if parens {
        f.write_str("(")?;
        write_state_bare(f, formula, true)?;
        f.write_str(")")
    } else {
        write_state_bare(f, formula, tail)
    }
}

fn write_state_bare(f: &mut fmt::Formatter<'_>, formula: &Formula, tail: bool) -> fmt::Result {
    match formula {
        Formula::True => f.write_str("true"),
        Formula::False => f.write_str("false"),
        Formula::Var(name) => f.write_str(name),
        Formula::Not(g) => {
            f.write_str("!")?;
            write_state(f, g, 4, tail)
        }
        Formula::And(a, b) => {
            write_state(f, a, 3, false)?;
            f.write_str(" && ")?;
            write_state(f, b, 4, tail)
        }
        Formula::Or(a, b) => {
            write_state(f, a, 2, false)?;
            f.write_str(" || ")?;
            write_state(f, b, 3, tail)
        }
        Formula::Implies(a, b) => {
            write_state(f, a, 2, false)?;
            f.write_str(" => ")?;
            write_state(f, b, 1, tail)
        }
        Formula::Must(r, g) => {
            write!(f, "[{r}] ")?;
            write_state(f, g, 4, tail)
        }
        Formula::May(r, g) => {
            write!(f, "<{r}> ")?;
            write_state(f, g, 4, tail)
        }
        Formula::Mu(name, body) | Formula::Nu(name, body) => {
            let keyword = if matches!(formula, Formula::Mu(..)) { "mu" } else { "nu" };
            write!(f, "{keyword} {name}. ")?;
            write_state(f, body, 0, true)
        }
    }
}

/// The canonical form: the syntax of [`parse`] with minimal parentheses.
impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_state(f, self, 0, true)
    }
}

fn regex_precedence(regex: &Regex) -> u8 {
    match regex {
        Regex::Choice(..) => 1,
        Regex::Seq(..) => 2,
        Regex::Star(_) | Regex::Plus(_) => 3,
        Regex::Action(_) => 4,
    }
}

fn write_regex(f: &mut fmt::Formatter<'_>, regex: &Regex, min: u8) -> fmt::Result {
    if regex_precedence(regex) < min {
        f.write_str("(")?;
        write_regex(f, regex, 0)?;
        return f.write_str(")");
    }
    match regex {
        Regex::Action(a) => {
            // `a || b*` would mean `(a || b)*`: inside a larger expression, parenthesise.
            if min > 0 && matches!(a, ActionFormula::And(..) | ActionFormula::Or(..)) {
                write!(f, "({a})")
            } else {
                write!(f, "{a}")
            }
        }
        Regex::Seq(a, b) => {
            write_regex(f, a, 2)?;
            f.write_str(" . ")?;
            write_regex(f, b, 3)
        }
        Regex::Choice(a, b) => {
            write_regex(f, a, 1)?;
            f.write_str(" + ")?;
            write_regex(f, b, 2)
        }
        Regex::Star(a) => {
            write_regex(f, a, 3)?;
            f.write_str("*")
        }
        Regex::Plus(a) => {
            write_regex(f, a, 3)?;
            f.write_str("+")
        }
    }
}

impl fmt::Display for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_regex(f, self, 0)
    }
}

fn action_precedence(action: &ActionFormula) -> u8 {
    match action {
        ActionFormula::Or(..) => 1,
        ActionFormula::And(..) => 2,
        _ => 3,
    }
}

fn write_action(f: &mut fmt::Formatter<'_>, action: &ActionFormula, min: u8) -> fmt::Result {
    if action_precedence(action) < min {
        f.write_str("(")?;
        write_action(f, action, 0)?;
        return f.write_str(")");
    }
    match action {
        ActionFormula::True => f.write_str("true"),
        ActionFormula::False => f.write_str("false"),
        ActionFormula::Pattern(pattern) => write!(f, "{pattern}"),
        ActionFormula::Not(a) => {
            f.write_str("!")?;
            write_action(f, a, 3)
        }
        ActionFormula::And(a, b) => {
            write_action(f, a, 2)?;
            f.write_str(" && ")?;
            write_action(f, b, 3)
        }
        ActionFormula::Or(a, b) => {
            write_action(f, a, 1)?;
            f.write_str(" || ")?;
            write_action(f, b, 2)
        }
    }
}

impl fmt::Display for ActionFormula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_action(f, self, 0)
    }
}
