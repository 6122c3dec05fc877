//! Prints the S-expression of the AST and the rendered diagnostics of each file: a developer's
//! view of what the parser built (`cargo run -p lcc-syntax --example dump FILE...`).
fn main() {
    for path in std::env::args().skip(1) {
        let src = match std::fs::read_to_string(&path) {
            Ok(src) => src,
            Err(err) => {
                eprintln!("dump: cannot read {path}: {err}");
                continue;
            }
        };
        let (model, diags) = lcc_syntax::parse(&src);
        println!("=== {path}");
        print!("{}", lcc_syntax::sexpr::model(&model));
        for d in &diags {
            print!("{}", d.render_to_string(&path, &src));
        }
    }
}
