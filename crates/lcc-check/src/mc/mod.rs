//! The model checker (`lcc verify`): LCC.md sections 5-7 over the typed IR.

pub mod explore;
pub mod graph;
pub mod mu;
pub mod scenario;
pub mod system;
pub mod term;
pub mod value;
pub mod verify;
