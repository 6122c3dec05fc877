//! `lcc-check`: salsa database, name resolution, the typed IR, lints and the model checker.
//! Empty until the semantic checker lands (issue 3); nothing here pretends to work yet.
