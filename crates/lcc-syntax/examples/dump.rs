fn main() {
    for path in std::env::args().skip(1) {
        let src = std::fs::read_to_string(&path).unwrap_or_default();
        let (model, diags) = lcc_syntax::parse(&src);
        println!("=== {path}");
        print!("{}", lcc_syntax::sexpr::model(&model));
        for d in &diags {
            print!("{}", d.render_to_string(&path, &src));
        }
    }
}
