//! `lcc-runtime`: executes LCC interaction models. The typed IR of `lcc-check` is compiled to
//! bytecode ([`bytecode`]); the VM ([`vm`]) runs peers with the semantics of LCC.md section 5,
//! calling external constraints through the constraint ABI ([`abi`]).

pub mod abi;
pub mod agent;
pub mod bytecode;
pub mod plot;
pub mod process;
pub mod sim;
pub mod solve;
pub mod terms;
pub mod value;
pub mod vm;
pub mod wire;
