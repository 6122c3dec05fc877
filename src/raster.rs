//! SVG to PNG with no Graphviz: resvg, with the text in the system's fonts (cargo feature
//! `png`).

use resvg::tiny_skia::{Color, Pixmap, Transform};
use resvg::usvg::{self, fontdb};

/// Pixels per SVG unit: twice the SVG's size, for a crisp picture on high-density screens.
const SCALE: f32 = 2.0;
/// The largest side and area of a PNG, in pixels (a 64 M pixel RGBA bitmap is 256 MB).
const MAX_SIDE: f32 = 16_384.0;
const MAX_PIXELS: f32 = 64.0 * 1024.0 * 1024.0;

/// The SVG as PNG, on a white background, with the system's fonts.
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    let mut fonts = fontdb::Database::new();
    fonts.load_system_fonts();
    render(svg, fonts)?.encode_png().map_err(|e| format!("cannot encode the PNG: {e}"))
}

fn render(svg: &str, mut fonts: fontdb::Database) -> Result<Pixmap, String> {
    if fonts.is_empty() {
        return Err("no fonts found on this system, so a PNG would have no text: install some \
             (`apt-get install fonts-dejavu-core`) or write SVG"
            .to_string());
    }
    choose_generic_families(&mut fonts);
    let mut options = usvg::Options::default();
    *options.fontdb_mut() = fonts;
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| format!("cannot read the SVG to rasterise it: {e}"))?;
    let size = tree.size();
    let (width, height) = (size.width(), size.height());
    // Twice the size, less if that would make too large a bitmap.
    let scale =
        SCALE.min(MAX_SIDE / width).min(MAX_SIDE / height).min((MAX_PIXELS / (width * height)).sqrt());
    let too_large = || format!("the diagram is too large to rasterise ({width:.0} x {height:.0}): write SVG");
    let pixels = |side: f32| {
        let px = (side * scale).ceil();
        // Finite and between 1 and MAX_SIDE, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        (px.is_finite() && px <= MAX_SIDE).then(|| px.max(1.0) as u32)
    };
    let (Some(w), Some(h)) = (pixels(width), pixels(height)) else { return Err(too_large()) };
    let mut pixmap = Pixmap::new(w, h).ok_or_else(too_large)?;
    pixmap.fill(Color::WHITE);
    resvg::render(&tree, Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    Ok(pixmap)
}

/// Points the generic families (`serif`, `sans-serif`, `monospace`) at fonts that are
/// installed. usvg falls back to `serif` for a family it cannot find, and fontdb's defaults
/// (Times New Roman, Arial, Courier New) are rarely on Linux: without this, a system with only
/// DejaVu would draw no text at all.
fn choose_generic_families(fonts: &mut fontdb::Database) {
    let installed = |fonts: &fontdb::Database, name: &str| {
        fonts.faces().any(|face| face.families.iter().any(|(family, _)| family.eq_ignore_ascii_case(name)))
    };
    let any = fonts.faces().find_map(|face| face.families.first().map(|(family, _)| family.clone()));
    let pick = |fonts: &fontdb::Database, current: &str, preferred: &[&str]| -> Option<String> {
        if installed(fonts, current) {
            return None;
        }
        preferred
            .iter()
            .find(|name| installed(fonts, name))
            .map(|name| (*name).to_string())
            .or_else(|| any.clone())
    };
    let sans = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans", "Arial", "Helvetica"];
    let serif = ["DejaVu Serif", "Liberation Serif", "Noto Serif", "FreeSerif", "Times New Roman"];
    let mono = ["DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "FreeMono", "Courier New"];
    if let Some(name) = pick(fonts, fonts.family_name(&fontdb::Family::SansSerif), &sans) {
        fonts.set_sans_serif_family(name);
    }
    // The last resort of usvg: prefer a sans-serif face (the diagrams are drawn in one).
    let serif_or_sans: Vec<&str> = serif.iter().chain(&sans).copied().collect();
    if let Some(name) = pick(fonts, fonts.family_name(&fontdb::Family::Serif), &serif_or_sans) {
        fonts.set_serif_family(name);
    }
    if let Some(name) = pick(fonts, fonts.family_name(&fontdb::Family::Monospace), &mono) {
        fonts.set_monospace_family(name);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    const SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40" viewBox="0 0 100 40">
<text x="10" y="25" style="font-family: Helvetica, sans-serif; font-size: 14px">lane</text></svg>"#;

    #[test]
    fn no_fonts_is_an_error_that_says_what_to_install() {
        let err = render(SVG, fontdb::Database::new()).unwrap_err();
        assert!(err.contains("fonts-dejavu-core"), "{err}");
    }

    #[test]
    fn a_small_svg_becomes_a_png_at_twice_its_size() {
        let png = png(SVG).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR: width and height, big-endian, at bytes 16..24.
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), (200, 80));
    }

    #[test]
    fn text_is_drawn_in_an_installed_font() {
        let mut fonts = fontdb::Database::new();
        fonts.load_system_fonts();
        let pixmap = render(SVG, fonts).unwrap();
        // Only the text is drawn on the white background.
        let inked = pixmap.pixels().iter().filter(|p| p.red() < 128).count();
        assert!(inked > 100, "{inked} dark pixels: the text is missing");
    }

    #[test]
    fn bad_svg_is_an_error() {
        assert!(png("<svg").is_err());
    }
}
