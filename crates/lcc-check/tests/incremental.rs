//! Incrementality: editing one file re-runs that file's queries (`parse -> check ->
//! diagnostics`) and nothing of the other files. Read from the database's query log
//! (`Database::with_query_log`), whose lines look like `parse(Id(0))`.

// Test code: a failed expectation is a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use lcc_check::{Database, SourceFile, diagnostics};
use salsa::Setter;
use salsa::plumbing::AsId;

const FILE_A: &str = "\
a(buyer, B) ::
  ask(milk) => a(shopkeeper, S) then
  price(P) <= a(shopkeeper, S) then
  null <- pay(P)

a(shopkeeper, S) ::
  ask(X) <= a(buyer, B) then
  price(P) => a(buyer, B) <- quote(X, P)
";

/// FILE_A with one clause edited: the buyer now misspells the shopkeeper's role.
const FILE_A_EDITED: &str = "\
a(buyer, B) ::
  ask(milk) => a(shopkeper, S) then
  price(P) <= a(shopkeeper, S) then
  null <- pay(P)

a(shopkeeper, S) ::
  ask(X) <= a(buyer, B) then
  price(P) => a(buyer, B) <- quote(X, P)
";

const FILE_B: &str = "\
a(overloaded(Need), PID1) ::
  readyToMigrate(Need) => a(underloaded, PID2) then
  migration(OK) <= a(underloaded, PID2) then
  null <- migration(PID1, PID2, OK) then
  a(idle, PID1)

a(underloaded(Capacity), PID2) ::
  readyToMigrate(Need) <= a(overloaded, PID1) then
  migration(ok) => a(overloaded, PID1) <- canMigrate(Capacity, Need) then
  a(idle, PID1)

a(idle, ID) :: null
";

/// The log lines of the queries of one file, e.g. `["parse", "check"]`.
fn ran_for(log: &[String], file: SourceFile) -> Vec<String> {
    let id = format!("({:?})", file.as_id());
    log.iter().filter(|l| l.ends_with(&id)).map(|l| l.trim_end_matches(&id).to_string()).collect()
}

fn show(log: &[String]) -> String {
    log.iter().map(|l| format!("  {l}\n")).collect()
}

#[test]
fn editing_one_file_reruns_only_its_queries() {
    let mut db = Database::with_query_log();
    let a = SourceFile::new(&db, "a.lcc".into(), FILE_A.into());
    let b = SourceFile::new(&db, "b.lcc".into(), FILE_B.into());

    let a_before = diagnostics(&db, a).clone();
    let b_before = diagnostics(&db, b).clone();
    let first = db.take_query_log();
    for file in [a, b] {
        let mut ran = ran_for(&first, file);
        ran.sort();
        assert_eq!(ran, ["check", "diagnostics", "parse"], "first run, every query once:\n{}", show(&first));
    }
    assert!(a_before.iter().all(|d| !d.is_error()));
    assert!(b_before.iter().any(|d| d.code.id == "E0103"), "B keeps its own error: {b_before:#?}");

    // Nothing changed: nothing runs.
    let _ = diagnostics(&db, a);
    let _ = diagnostics(&db, b);
    let idle = db.take_query_log();
    assert!(idle.is_empty(), "no edit, yet queries ran:\n{}", show(&idle));

    // Edit one clause of A.
    a.set_text(&mut db).to(FILE_A_EDITED.into());
    let a_after = diagnostics(&db, a).clone();
    let b_after = diagnostics(&db, b).clone();
    let log = db.take_query_log();
    let mut ran_a = ran_for(&log, a);
    ran_a.sort();
    assert_eq!(ran_a, ["check", "diagnostics", "parse"], "A's queries must re-run:\n{}", show(&log));
    assert!(ran_for(&log, b).is_empty(), "B's queries must not re-run:\n{}", show(&log));
    assert_eq!(log.len(), 3, "only A's three queries:\n{}", show(&log));

    // And the results are the new ones for A, the old ones for B.
    assert!(a_after.iter().any(|d| d.code.id == "E0101"), "{a_after:#?}");
    assert_eq!(b_after, b_before);
}

/// An edit that leaves the syntax tree as it was (trailing blank lines) re-runs the queries
/// that read the text (`parse`, and `check`, which quotes the source in its messages), and salsa
/// sees that their results are equal: `diagnostics` does not run again.
#[test]
fn an_edit_that_keeps_the_tree_does_not_recheck() {
    let mut db = Database::with_query_log();
    let a = SourceFile::new(&db, "a.lcc".into(), FILE_A.into());
    let b = SourceFile::new(&db, "b.lcc".into(), FILE_B.into());
    let before = diagnostics(&db, a).clone();
    let _ = diagnostics(&db, b);
    let _ = db.take_query_log();

    a.set_text(&mut db).to(format!("{FILE_A}\n\n"));
    let after = diagnostics(&db, a).clone();
    let _ = diagnostics(&db, b);
    let log = db.take_query_log();
    assert_eq!(ran_for(&log, a), ["parse", "check"], "diagnostics must not re-run:\n{}", show(&log));
    assert!(ran_for(&log, b).is_empty(), "B's queries must not re-run:\n{}", show(&log));
    assert_eq!(after, before);
}

/// The database gives what `check_source` gives.
#[test]
fn database_and_check_source_agree() {
    let db = Database::default();
    for text in [FILE_A, FILE_A_EDITED, FILE_B] {
        let file = SourceFile::new(&db, "f.lcc".into(), text.into());
        let (ir, diags) = lcc_check::check_source(text);
        assert_eq!(diagnostics(&db, file), &diags);
        assert_eq!(&lcc_check::check(&db, file).ir, &ir);
    }
}
