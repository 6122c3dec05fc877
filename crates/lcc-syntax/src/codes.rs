//! The registry of diagnostic codes. A code never changes meaning once published; every code
//! has a short name (shown next to it) and an explanation with an example
//! (`lcc check --explain CODE`). Syntax codes are E00xx/W00xx; later phases add their own
//! ranges to [`ALL`].

use crate::diagnostic::Severity;

#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    /// `E0001`, `W0003`, …
    pub id: &'static str,
    /// A kebab-case name, e.g. `unexpected-token`.
    pub name: &'static str,
    pub severity: Severity,
    /// A paragraph with an example, for `--explain`.
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($ident:ident = $id:literal, $name:literal, $sev:ident, $expl:literal;)*) => {
        $(pub static $ident: Code = Code {
            id: $id, name: $name, severity: Severity::$sev, explanation: $expl,
        };)*
        /// Every code, in id order.
        pub static ALL: &[&Code] = &[$(&$ident),*];
    };
}

codes! {
    UNEXPECTED_TOKEN = "E0001", "unexpected-token", Error,
"The parser met a token that cannot continue the construct it was reading. The message lists
what could have come instead. Parsing resumes at the next clause, so later errors are still
reported.

    a(buyer, B) ::
        ask(X) => a(shopkeeper, S) price(X) <= a(shopkeeper, S)
                                   ^^^^^ expected `then`, `or` or `par` before atom `price`

Join events with `then` (sequence), `or` (committed choice) or `par` (parallel); for a
missing `then` the fix inserts it.";

    UNKNOWN_CHARACTER = "E0002", "unknown-character", Error,
"A character that starts no LCC token, such as `#` or `$`. Variables start with an upper-case
letter or `_`, atoms with a lower-case letter; other text must be quoted.

    a(p, X) :: ping => a(q, #Y)      % `#` is not LCC: write a(q, Y)";

    UNTERMINATED_LITERAL = "E0003", "unterminated-literal", Error,
"A string, quoted atom or block comment is not closed. Strings and quoted atoms must close on
the line where they start (write `\\n` for a line break); a `/*` comment needs its `*/`.

    ask(\"milk) => a(shop, S)         % add the closing quote: \"milk\"";

    UNCLOSED_DELIMITER = "E0004", "unclosed-delimiter", Error,
"A `(`, `[` or `{` has no matching closer before the clause ends. The parser recovers at the
next clause head (`a(` at the start of a line), so the rest of the file is still checked.

    a(buyer, B) ::
        ask(X => a(shopkeeper, S)     % close the argument list: ask(X)";

    UNMATCHED_DELIMITER = "E0005", "unmatched-delimiter", Error,
"A closing `)`, `]` or `}` with no opening partner. It is skipped so parsing can go on; delete it.

    a(p, X) :: ping => a(q, Y))       % one `)` too many";

    BAD_CLAUSE_HEAD = "E0006", "bad-clause-head", Error,
"A clause must start with `a(Role, Id) ::`: the role term and the variable naming the peer that
plays it.

    buyer(B) :: ask(X) => a(shop, S)  % write a(buyer, B) :: …";

    NOT_AN_EVENT = "E0007", "not-an-event", Error,
"Every step of a definition is an event: a send `M => a(R, I)`, a receive `M <= a(R, I)`, `null`
or a role change `a(R, I)`, each with an optional guard `<- C`. A term on its own is none of these.
Note that the word `or` at the top level of a guard separates alternatives of the definition;
inside a guard write the disjunction in parentheses or with `||`.

    null <- ready(X) or busy(X)       % `busy(X)` is read as an alternative event
    null <- (ready(X) or busy(X))     % a disjunction inside the guard";

    BAD_ROLE_DECLARATION = "E0008", "bad-role-declaration", Error,
"A role declaration is `r(Role, Kind)`, `r(Role, Kind, Min)` or `r(Role, Kind, Min, Max)` where Kind
is `initial`, `necessary`, `optional` or `auxiliary` and Min/Max are non-negative integers.

    r(buyer, first)                   % write r(buyer, initial)";

    BAD_CONSTRAINT = "E0009", "bad-constraint", Error,
"A guard holds calls (`c(X)`), comparisons (`X > 3`), `X is Expr`, and `and`/`or`/`not` of these.
Arithmetic on its own is not a condition, and `<=` is always the receive arrow (compare with `=<`).

    null <- X + 1                     % not a condition: write Y is X + 1
    null <- X <= 3                    % write X =< 3";

    UNKNOWN_ITEM = "E0010", "unknown-item", Error,
"At the top level a file holds clauses `a(Role, Id) :: Def`, role declarations `r(…)` and
`@annotation(…, …)`. Anything else is reported and skipped.

    buyer :: ask => a(shop, S)        % write a(buyer, B) :: ask => a(shop, S)";

    BAD_LITERAL = "E0011", "bad-literal", Error,
"A literal that cannot be represented: an integer outside the signed 64-bit range, or an unknown
escape in a string (the escapes are `\\\"`, `\\'`, `\\\\`, `\\n` and `\\t`).

    null <- X = 99999999999999999999  % too large for a 64-bit integer";

    SOURCE_TOO_LARGE = "E0012", "source-too-large", Error,
"lcc reads files of up to 4 GiB; split larger models into several files.";

    TOO_DEEP = "E0013", "too-deep", Error,
"An item nests parentheses, brackets or braces more than 1,000 levels deep, or chains more than
100,000 operators (`then`, `or`, `par`, `and`, …) in one clause. Every later stage walks the
tree recursively, so lcc refuses such an item instead of risking its stack; no real model comes
near either limit. Split the clause into roles that hand over with role changes.";

    WEBLCC_HEADER = "W0001", "dialect-weblcc-header", Warning,
"The `header([ {jid: …, role: …}, … ])` block belongs to the WebLCC dialect (OKeilidh), where it
binds peers to roles. lcc skips it. Give the population with role declarations such as
`r(client, initial, 1)`, or with `lcc verify --peers 'a(client, alice), a(shop, bob)'`.";

    XLCC_BRACES = "W0002", "dialect-xlcc-braces", Warning,
"The xlcc dialect groups definitions with `{ … }`; LCC uses parentheses. lcc reads the braces as
parentheses; the fix rewrites them.

    { a => a(r, X) or b => a(r, X) }  % write ( a => a(r, X) or b => a(r, X) )";

    OKEILIDH_FACT = "W0003", "dialect-okeilidh-fact", Warning,
"`plays(Peer, Role).` and `knows(Url).` are deployment facts of the OKeilidh dialect, not part of
an interaction model. lcc skips them. Give peers with role declarations or
`lcc verify --peers 'a(Role, Id), …'`.";

    XLCC_ROLE_INSTANCE = "W0004", "dialect-xlcc-role-instance", Warning,
"A clause head with no `::` body, such as `a(publisher(Task), P).`, instantiates a role in the
xlcc dialect. lcc keeps it as a clause with no body (the role has no events). To start a peer in
that role, use a role declaration or `--peers 'a(publisher(task), p)'`.";

    LIJ_ROLE_KIND = "W0005", "dialect-lij-role-kind", Warning,
"The role kinds `cyclic` and `uncommitted` exist only in LiJ. lcc reads them as `auxiliary`, with
no special meaning. Use `initial`, `necessary`, `optional` or `auxiliary`.";

    LIJ_SPECIAL_CONSTRAINT = "W0006", "dialect-lij-special-constraint", Warning,
"LiJ calls built-in services through constraints whose names start with `_`, such as
`_findPeers(Role, Peers)`. In LCC a name starting with `_` is a variable, so lcc reads the call as
an external constraint of that name. In lcc, discovery needs no constraint: send to `a(Role, Id)`
with `Id` unbound and any peer in that role may receive it.";

    OK_EXTRA_PAREN = "W0007", "dialect-ok-extra-paren", Warning,
"A `)` with no partner right after an `@annotation(…)`. The OpenKnowledge kernel ignored it, and so
does lcc; the fix deletes it.";
}

/// Looks a code up by id (`E0001`, case-insensitive) or by name (`unexpected-token`).
pub fn lookup(key: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|c| c.id.eq_ignore_ascii_case(key) || c.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_explained() {
        for pair in ALL.windows(2) {
            if let [a, b] = pair {
                assert!(a.id != b.id && a.name != b.name, "{} duplicates {}", a.id, b.id);
            }
        }
        for code in ALL {
            assert!(code.explanation.len() > 60, "{} needs an explanation", code.id);
            let expected = if code.id.starts_with('E') { Severity::Error } else { Severity::Warning };
            assert_eq!(code.severity, expected, "{}", code.id);
        }
        assert_eq!(lookup("e0001").map(|c| c.name), Some("unexpected-token"));
        assert_eq!(lookup("dialect-xlcc-braces").map(|c| c.id), Some("W0002"));
    }
}
