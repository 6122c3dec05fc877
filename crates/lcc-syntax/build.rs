//! Generates the LR(1) parser from `grammar/lcc.lalrpop` at the workspace root.
fn main() {
    let out_dir = match std::env::var("OUT_DIR") {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("OUT_DIR is not set: {err}");
            std::process::exit(1);
        }
    };
    let result = lalrpop::Configuration::new()
        .set_in_dir("../../grammar")
        .set_out_dir(out_dir)
        .emit_rerun_directives(true)
        .process();
    if let Err(err) = result {
        eprintln!("lalrpop failed on grammar/lcc.lalrpop: {err}");
        std::process::exit(1);
    }
}
