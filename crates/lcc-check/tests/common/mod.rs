//! Models shared by the test files: one per checker code (`codes.rs` snapshots them, `fixes.rs`
//! applies every fix they carry), and the corpus location.

#![allow(dead_code)]

use std::path::PathBuf;

/// (code, model that triggers exactly that code).
pub const CODE_CASES: &[(&str, &str)] = &[
    (
        "E0101",
        "\
a(buyer, B) ::
  ask(milk) => a(shopkeper, S) then
  price(P) <= a(shopkeeper, S) then
  null <- pay(P)

a(shopkeeper, S) ::
  ask(X) <= a(buyer, B) then
  price(P) => a(buyer, B) <- quote(X, P)
",
    ),
    (
        "E0102",
        "\
a(client, C) ::
  req(1) => a(server(fast, now), S) then
  ack <= a(server, S)

a(server(Mode), S) ::
  req(N) <= a(client, C) then
  ack => a(client, C) <- handle(Mode, N)
",
    ),
    (
        "E0103",
        "\
a(idle, Me) ::
  null <- rest(Me)

a(worker, Me) ::
  job(J) <= a(boss, B) then
  done(J) => a(boss, B) then
  a(idle, B)

a(boss, B) ::
  job(1) => a(worker, W) then
  done(J) <= a(worker, W) then
  null <- log(J)
",
    ),
    (
        "E0104",
        "\
a(server, S) ::
  ping <= a(client, C) then pong => a(client, C)

a(server, S) ::
  hello <= a(client, C) then pong => a(client, C)

a(client, C) ::
  ping => a(server, S) then pong <= a(server, S) then
  hello => a(server, S) then pong <= a(server, S)
",
    ),
    (
        "E0105",
        "\
a(picker, P) ::
  null <- options(L) and length(L) then
  choice(L) => a(judge, J) then
  verdict(V) <= a(judge, J) then
  null <- show(V)

a(judge, J) ::
  choice(L) <= a(picker, P) then
  verdict(ok) => a(picker, P) <- fair(L)
",
    ),
    (
        "E0106",
        "\
a(client, C) ::
  ping => a(Server, S) then
  pong <= a(Server, S)
",
    ),
    (
        "W0101",
        "\
a(buyer, B) ::
  price(Item, Cost) <= a(shop, S) then
  buy(Item, Cost) => a(shop, S) <- afford(Item, Cst)

a(shop, S) ::
  price(apple, 3) => a(buyer, B) then
  buy(Item, Cost) <= a(buyer, B) then
  null <- sell(Item, Cost)
",
    ),
    (
        "W0102",
        "\
a(buyer, B) ::
  ask(X) => a(shop, S) then
  price(X, P) <= a(shop, S) then
  null <- pay(P)

a(shop, S) ::
  ask(X) <= a(buyer, B) then
  price(X, P) => a(buyer, B) <- quote(X, P)
",
    ),
    (
        "W0103",
        "\
a(client, C) ::
  order(pizza) => a(shop, S) then
  receipt(R) <= a(shop, S) then
  thanks(R) => a(shop, S)

a(shop, S) ::
  order(X) <= a(client, C) then
  receipt(X) => a(client, C)
",
    ),
    (
        "W0104",
        "\
a(client, C) ::
  order(pizza) => a(shop, S) then
  confirm(Id) <= a(shop, S) then
  null <- keep(Id)

a(shop, S) ::
  order(X) <= a(client, C) then
  null <- cook(X, C)
",
    ),
    (
        "W0105",
        "\
a(overloaded, P1) ::
  ready => a(underloaded, P2) then
  migration(ok) <= a(underloaded, P2)

a(underloaded, P2) ::
  ready <= a(overloaded, P1) then
  migration(\"ok\") => a(overloaded, P1)
",
    ),
    (
        "W0106",
        "\
a(server, S) ::
  hello <= a(client, C) then
  yes => a(client, C) or no => a(client, C)

a(client, C) ::
  hello => a(server, S) then
  (yes <= a(server, S) or no <= a(server, S))
",
    ),
    (
        "W0107",
        "\
a(waiter, W) ::
  a(waiter, W)
  or
  ( order(X) <= a(guest, G) then null <- serve(X, G) )

a(guest, G) ::
  order(soup) => a(waiter, W) then
  null <- wait(W)
",
    ),
    (
        "W0108",
        "\
r(client, initial)

a(client, C) ::
  hi => a(server, S) then
  null <- sent(S)

a(server, S) ::
  hi <= a(client, C) then
  null <- greet(C)
",
    ),
    (
        "W0109",
        "\
r(client, initial)
r(server, necessary)
r(auditor, optional)

a(client, C) ::
  hi => a(server, S) then
  null <- sent(S)

a(server, S) ::
  hi <= a(client, C) then
  null <- greet(C)
",
    ),
    (
        "W0110",
        "\
a(counter, C) ::
  a(counter(3), C)

a(counter(N), C) ::
  null <- N > 0 then
  a(counter, C)
",
    ),
];

/// `../shared/corpus` beside the repository, if it is there.
/// The model of `CODE_CASES` for a code.
pub fn code_case(code: &str) -> &'static str {
    CODE_CASES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, m)| *m)
        .unwrap_or_else(|| panic!("no case for {code}"))
}

pub fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/corpus not found");
        None
    }
}

/// Every file of the corpus directory `sub` (`seed`, `external`), recursively, sorted.
pub fn corpus_files(root: &std::path::Path, sub: &str) -> Vec<PathBuf> {
    fn visit(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                visit(&path, out);
            } else if path.extension().is_some_and(|e| e != "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    visit(&root.join(sub), &mut out);
    out.sort();
    out
}
