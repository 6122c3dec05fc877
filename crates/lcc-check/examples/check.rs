fn main() {
    for path in std::env::args().skip(1) {
        let src = std::fs::read_to_string(&path).unwrap_or_default();
        let (_ir, diags) = lcc_check::check_source(&src);
        println!("=== {path}");
        for d in &diags {
            print!("{}", d.render_to_string(&path, &src));
        }
    }
}
