//! Diagnostic codes of the semantic checker: E01xx errors, W01xx warnings. They use the one
//! `Code` type of `lcc_syntax::codes`; [`all`] lists every code of the toolchain.

use lcc_syntax::Severity::{Error, Warning};
use lcc_syntax::codes::Code;

pub static UNDEFINED_ROLE: Code = Code {
    id: "E0101",
    name: "undefined-role",
    severity: Error,
    explanation: "A message or role change names a role that no clause defines. Every role used in
`a(Role, Id)` needs a clause `a(Role, Id) :: …` in the same model.

    a(buyer, B) :: ask(X) => a(shopkeper, S)      % typo: the clause is a(shopkeeper, S)

The fix renames the reference when a defined role has a close name.",
};

pub static ROLE_ARITY: Code = Code {
    id: "E0102",
    name: "role-arity-mismatch",
    severity: Error,
    explanation: "A role is referenced with a number of arguments that is neither 0 nor the number its
clause takes. `a(underloaded, P)` (no arguments: any peer in that role) and
`a(underloaded(C), P)` both refer to the clause `a(underloaded(Capacity), P) :: …`;
`a(underloaded(C, D), P)` does not.",
};

pub static FOREIGN_ROLE_CHANGE: Code = Code {
    id: "E0103",
    name: "role-change-foreign-id",
    severity: Error,
    explanation: "A role change `a(Role, Id)` inside a clause changes the role of the peer running that
clause, so `Id` must be the clause's own id (the second argument of its head). Naming another
peer's id is a mistake; the seed paper's Fig. 2 has it:

    a(underloaded(Capacity), PID2) ::
        readyToMigrate(Need) <= a(overloaded, PID1) then
        …
        a(idle, PID1)                             % must be a(idle, PID2)

The fix renames the id to the clause's own.",
};

pub static DUPLICATE_CLAUSE: Code = Code {
    id: "E0104",
    name: "duplicate-clause",
    severity: Error,
    explanation: "Two clauses define the same role (same name and number of arguments). A role has one
definition; combine the two with `or`:

    a(server, S) :: req(X) <= a(client, C)
    a(server, S) :: ping <= a(client, C)          % merge: (req(X) <= … ) or (ping <= …)",
};

pub static BUILTIN_ARITY: Code = Code {
    id: "E0105",
    name: "builtin-arity",
    severity: Error,
    explanation: "A built-in constraint is called with the wrong number of arguments. The built-ins are
`member/2`, `append/3`, `length/2`, `nth0/3` and `nth1/3` (plus `=`, `\\=`, `==`, `\\==`,
comparisons and `is`).

    null <- member(X)                             % member(Element, List)",
};

pub static BAD_ROLE_TERM: Code = Code {
    id: "E0106",
    name: "bad-role-term",
    severity: Error,
    explanation: "The role of `a(Role, Id)` must be an atom (`buyer`) or a compound term
(`overloaded(Need)`); a variable, number, string or list cannot name a role.

    a(Role, X) :: ping => a(server, S)            % name the role: a(client, X)",
};

pub static SINGLETON_VARIABLE: Code = Code {
    id: "W0101",
    name: "singleton-variable",
    severity: Warning,
    explanation: "A variable occurs only once in its clause, so it never passes a value anywhere; it is
often a typo of another variable. Rename it `_` (or start it with `_`) if it is meant to be
ignored. The clause head's own id is exempt.

    price(X, P) <= a(shop, S) then buy(X, Q) => a(shop, S)   % Q occurs once: meant P?",
};

pub static UNBOUND_VARIABLE: Code = Code {
    id: "W0102",
    name: "unbound-variable",
    severity: Warning,
    explanation: "A variable is used where a value is needed (in a sent message, as an input of a built-in
constraint, or as an argument of a role change) before anything binds it. Variables are bound
by the clause head, by a received message, and by constraints (external constraints bind
their arguments; `X = …` and `X is …` bind X).

    a(buyer, B) :: ask(X) => a(shopkeeper, S)     % X has no value yet: bind it first
    a(buyer, B) :: ask(X) => a(shopkeeper, S) <- want(X)",
};

pub static UNRECEIVABLE_MESSAGE: Code = Code {
    id: "W0103",
    name: "unreceivable-message",
    severity: Warning,
    explanation: "A message is sent to a role whose clause never receives a message of that name and
arity from the sender's role, so it can never be consumed (an orphan at best).

    ask(X) => a(shop, S)          % but the shop clause only has:  query(X) <= a(buyer, B)",
};

pub static UNSENT_MESSAGE: Code = Code {
    id: "W0104",
    name: "unsent-message",
    severity: Warning,
    explanation: "A clause waits for a message that the named role never sends to it, so the receive can
never happen and the peer waits there for ever (a deadlock once it is reached).

    reply(R) <= a(server, S)      % but the server clause never sends reply/1 to this role",
};

pub static INCOMPATIBLE_MESSAGE: Code = Code {
    id: "W0105",
    name: "incompatible-message",
    severity: Warning,
    explanation: "A send and every receive of that message (same name and arity, between the same two
roles) disagree on an argument, so the message is never taken: the sorts differ (atom, string,
number, list, compound term), two constants differ (`busy` against `idle`), or two lists have
different lengths. Strings and atoms are different values, and so are `1` and `\"1\"`.

    migration(\"ok\") => a(overloaded, P)       % sends a string
    migration(ok) <= a(underloaded, Q)          % expects the atom ok: never matches

A variable matches anything unless it already holds a value; sorts are inferred from where each
variable gets its value (a constant, `is`, what the other role sends in its place).",
};

pub static AMBIGUOUS_PRECEDENCE: Code = Code {
    id: "W0106",
    name: "ambiguous-precedence",
    severity: Warning,
    explanation: "`then`, `or` and `par` are mixed without parentheses. lcc follows the OpenKnowledge
kernel (`or` binds tighter than `par`, which binds tighter than `then`), so
`a or b then c` is `(a or b) then c`; LiJ and WebLCC read it the other way. Parentheses say
which you mean; the fix adds them as lcc reads the text.",
};

pub static UNREACHABLE_ALTERNATIVE: Code = Code {
    id: "W0107",
    name: "unreachable-alternative",
    severity: Warning,
    explanation: "In a committed choice `A or B`, B is considered only when A cannot start. When A starts
with a step that is always enabled (an unguarded `null` or role change), B is never taken.

    a(idle, X) or (ping => a(peer, P))        % a(idle, X) is always enabled: reorder or guard it",
};

pub static UNDECLARED_ROLE: Code = Code {
    id: "W0108",
    name: "undeclared-role",
    severity: Warning,
    explanation: "The model declares roles with `r(Role, Kind, …)`, but this role has a clause and no
declaration. Declarations give the default population for verification; declare every role
(`auxiliary` for roles that peers only change into).",
};

pub static ROLE_WITHOUT_CLAUSE: Code = Code {
    id: "W0109",
    name: "role-without-clause",
    severity: Warning,
    explanation: "A role is declared with `r(…)` but no clause defines it, so a peer in that role could do
nothing. Add its clause or remove the declaration.",
};

pub static ROLE_OVERLOADED: Code = Code {
    id: "W0110",
    name: "dialect-role-arity",
    severity: Warning,
    explanation: "Two clauses define roles with the same name and different numbers of arguments, e.g.
`a(waiter, W)` and `a(waiter(L), W)`. LiJ treats them as two roles; in LCC a role is identified
by its name (LCC.md section 4), so a message to `a(waiter, W)` may reach either. lcc keeps
both clauses; rename one of them to make the model unambiguous.",
};

/// The checker's own codes.
pub static CHECK_CODES: &[&Code] = &[
    &UNDEFINED_ROLE,
    &ROLE_ARITY,
    &FOREIGN_ROLE_CHANGE,
    &DUPLICATE_CLAUSE,
    &BUILTIN_ARITY,
    &BAD_ROLE_TERM,
    &SINGLETON_VARIABLE,
    &UNBOUND_VARIABLE,
    &UNRECEIVABLE_MESSAGE,
    &UNSENT_MESSAGE,
    &INCOMPATIBLE_MESSAGE,
    &AMBIGUOUS_PRECEDENCE,
    &UNREACHABLE_ALTERNATIVE,
    &UNDECLARED_ROLE,
    &ROLE_WITHOUT_CLAUSE,
    &ROLE_OVERLOADED,
];

/// Every code of the toolchain: syntax codes, then the checker's.
pub fn all() -> impl Iterator<Item = &'static Code> {
    lcc_syntax::codes::ALL.iter().copied().chain(CHECK_CODES.iter().copied())
}

/// Looks a code up by id (case-insensitive) or name.
pub fn lookup(key: &str) -> Option<&'static Code> {
    all().find(|c| c.id.eq_ignore_ascii_case(key) || c.name == key)
}
