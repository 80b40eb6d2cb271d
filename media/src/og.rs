//! Open Graph card rendering.
//!
//! When a quiz link is shared, chat apps and social networks show the
//! `og:image` of the page. A generated card with the quiz's title reads far
//! better than a generic logo, and it has to be produced without a browser or
//! system fonts on Lambda, hence pixels drawn here with an embedded font.
//!
//! Layout (1200×630, the size the big platforms recommend): a dark diagonal
//! gradient; the category in gold capitals with a short gold rule under it;
//! the title in white bold, word-wrapped and centred, at the largest size
//! from [`TITLE_SIZES`] that fits, with an ellipsis if even the smallest does
//! not; the block centred vertically above the footer, where the site name
//! sits in a muted grey-blue.
//!
//! The card is encoded as **PNG** with the best zlib compression. Measured on
//! a typical card (`og_format_sizes` test): PNG best 63 KB in 56 ms, PNG
//! default 72 KB in 30 ms, JPEG q90 67 KB in 22 ms, JPEG q85 57 KB. A
//! diagonal gradient compresses well in PNG (each row is the previous one
//! shifted, which PNG's filters turn into near-zero deltas), so lossless costs
//! no more bytes than JPEG q90 and keeps the text edges free of ringing. The
//! card is rendered once per quiz by a background job, so the slower
//! compression is paid once and the smaller file on every share.
//!
//! **Font**: DejaVu Sans Bold, embedded with `include_bytes!` (about 700 KB;
//! Latin, Greek and Cyrillic among others). The only crate found that ships
//! DejaVu as bytes bundles the whole family (about 12 MB) and was last released
//! in 2019, so copying the one file we need is smaller; its licence is in
//! `fonts/LICENSE-DejaVu.txt`.

use ab_glyph::{FontRef, InvalidFont};
use image::RgbImage;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};

use crate::text::Style;

/// Card width in pixels.
pub const WIDTH: u32 = 1200;
/// Card height in pixels.
pub const HEIGHT: u32 = 630;
/// Title font sizes tried, largest first.
pub const TITLE_SIZES: [f32; 6] = [72.0, 64.0, 56.0, 50.0, 44.0, SMALLEST_TITLE_SIZE];
const SMALLEST_TITLE_SIZE: f32 = 38.0;

/// Longest title considered; more could not fit on the card anyway, and the
/// cap bounds the layout work for absurd inputs.
const MAX_TITLE_CHARS: usize = 1000;
/// Left and right margin.
const MARGIN_X: f32 = 90.0;
/// Height reserved at the bottom for the site name.
const FOOTER: f32 = 100.0;
/// Height available to the title lines.
const TITLE_AREA: f32 = 340.0;
/// Line height as a multiple of the font size.
const LINE_SPACING: f32 = 1.2;
const CATEGORY_SIZE: f32 = 28.0;
const CATEGORY_TRACKING: f32 = 3.0;
/// Space between the category line and the title, holding the gold rule.
const CATEGORY_GAP: f32 = 44.0;
const RULE_WIDTH: u32 = 72;
const RULE_HEIGHT: u32 = 4;
const SITE_SIZE: f32 = 26.0;

const BACKGROUND_FROM: [f32; 3] = [14.0, 17.0, 38.0]; // top left, near-black navy
const BACKGROUND_TO: [f32; 3] = [52.0, 26.0, 82.0]; // bottom right, deep purple
const GOLD: [u8; 3] = [212, 175, 55];
const WHITE: [u8; 3] = [255, 255, 255];
const MUTED: [u8; 3] = [148, 155, 184];

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Why a card could not be rendered. Neither is expected in practice: the
/// font is embedded and the encoder writes to memory.
#[derive(Debug, thiserror::Error)]
pub enum OgError {
    #[error("embedded font is invalid: {0}")]
    Font(#[from] InvalidFont),
    #[error("encoding the card failed: {0}")]
    Encode(#[from] image::ImageError),
}

pub(crate) fn font() -> Result<FontRef<'static>, InvalidFont> {
    FontRef::try_from_slice(FONT_BYTES)
}

/// Renders the 1200×630 Open Graph card for a quiz and returns it as PNG.
///
/// Any string is accepted: empty parts are left out, control characters are
/// treated as spaces, over-long words are broken and an over-long title is
/// cut with an ellipsis.
pub fn render_og_image(title: &str, category: &str, site_name: &str) -> Result<Vec<u8>, OgError> {
    let image = draw_card(title, category, site_name)?;
    let mut bytes = Vec::new();
    let encoder = PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, FilterType::Adaptive);
    image.write_with_encoder(encoder)?;
    Ok(bytes)
}

/// The card's pixels, before encoding.
fn draw_card(title: &str, category: &str, site_name: &str) -> Result<RgbImage, InvalidFont> {
    let font = font()?;
    let mut image = background();
    let max_width = WIDTH as f32 - 2.0 * MARGIN_X;

    let title = clean(title, MAX_TITLE_CHARS);
    let category = clean(category, MAX_TITLE_CHARS).to_uppercase();
    let site_name = clean(site_name, MAX_TITLE_CHARS);

    let category_style = Style::new(&font, CATEGORY_SIZE, CATEGORY_TRACKING);
    let category = category_style.ellipsize(&category, max_width);
    let (title_style, title_size, lines) = layout_title(&font, &title, max_width);
    let title_line_height = title_size * LINE_SPACING;

    // Centre the category + title block in the space above the footer.
    let category_block = if category.is_empty() { 0.0 } else { category_style.height() + CATEGORY_GAP };
    let block = category_block + lines.len() as f32 * title_line_height;
    let mut top = ((HEIGHT as f32 - FOOTER) - block).max(0.0) / 2.0 + FOOTER * 0.25;

    if !category.is_empty() {
        draw_centred(&mut image, &category_style, &category, top + category_style.ascent(), GOLD);
        let rule_top = top + category_style.height() + (CATEGORY_GAP - RULE_HEIGHT as f32) / 2.0;
        fill_rect(&mut image, (WIDTH - RULE_WIDTH) / 2, rule_top as u32, RULE_WIDTH, RULE_HEIGHT, GOLD);
        top += category_block;
    }
    for line in &lines {
        // Put the glyph box in the middle of the line box.
        let baseline = top + (title_line_height - title_style.height()) / 2.0 + title_style.ascent();
        draw_centred(&mut image, &title_style, line, baseline, WHITE);
        top += title_line_height;
    }

    let site_style = Style::new(&font, SITE_SIZE, 0.5);
    let site_name = site_style.ellipsize(&site_name, max_width);
    let site_baseline = HEIGHT as f32 - FOOTER / 2.0 + site_style.ascent() / 2.0;
    draw_centred(&mut image, &site_style, &site_name, site_baseline, MUTED);
    Ok(image)
}

/// Picks the largest title size whose wrapped lines fit [`TITLE_AREA`];
/// failing that, the smallest size with its lines cut to what fits.
fn layout_title<'f>(font: &'f FontRef<'f>, title: &str, max_width: f32) -> (Style<'f>, f32, Vec<String>) {
    let max_lines = |size: f32| ((TITLE_AREA / (size * LINE_SPACING)) as usize).max(1);
    for size in TITLE_SIZES {
        let style = Style::new(font, size, 0.0);
        let lines = style.wrap(title, max_width);
        if lines.len() <= max_lines(size) {
            return (style, size, lines);
        }
    }
    let size = SMALLEST_TITLE_SIZE;
    let style = Style::new(font, size, 0.0);
    let mut lines = style.wrap(title, max_width);
    lines.truncate(max_lines(size));
    if let Some(last) = lines.last_mut() {
        *last = style.cut_with_ellipsis(last, max_width);
    }
    (style, size, lines)
}

/// At most `max_chars` characters, control characters turned into spaces,
/// surrounding whitespace trimmed.
fn clean(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

fn draw_centred(image: &mut RgbImage, style: &Style<'_>, text: &str, baseline: f32, colour: [u8; 3]) {
    if text.is_empty() {
        return;
    }
    let x = (WIDTH as f32 - style.width(text)) / 2.0;
    style.draw(image, text, x, baseline, colour);
}

/// Diagonal gradient from the top-left to the bottom-right corner.
fn background() -> RgbImage {
    let span = (WIDTH + HEIGHT) as f32;
    RgbImage::from_fn(WIDTH, HEIGHT, |x, y| image::Rgb(mix(BACKGROUND_FROM, BACKGROUND_TO, (x + y) as f32 / span)))
}

/// The colour `t` of the way from `from` to `to` (0 ≤ t ≤ 1).
pub(crate) fn mix(from: [f32; 3], to: [f32; 3], t: f32) -> [u8; 3] {
    let mut rgb = [0; 3];
    for ((channel, from), to) in rgb.iter_mut().zip(from).zip(to) {
        *channel = (from + (to - from) * t).round() as u8;
    }
    rgb
}

pub(crate) fn fill_rect(image: &mut RgbImage, x: u32, y: u32, width: u32, height: u32, colour: [u8; 3]) {
    for py in y..y.saturating_add(height) {
        for px in x..x.saturating_add(width) {
            if let Some(pixel) = image.get_pixel_mut_checked(px, py) {
                pixel.0 = colour;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(title: &str, category: &str, site: &str) -> RgbImage {
        let bytes = render_og_image(title, category, site).unwrap_or_else(|e| panic!("{e}"));
        assert!(bytes.starts_with(b"\x89PNG"));
        let image = image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((image.width(), image.height()), (WIDTH, HEIGHT));
        image.to_rgb8()
    }

    fn is_white(p: &image::Rgb<u8>) -> bool {
        p.0.iter().all(|&c| c > 230)
    }

    fn white_pixels_in_band(image: &RgbImage, top: u32, bottom: u32) -> usize {
        (top..bottom)
            .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
            .filter(|&(x, y)| is_white(image.get_pixel(x, y)))
            .count()
    }

    #[test]
    fn card_has_title_text_and_is_not_flat() {
        let image = render("How closures capture their environment", "Rust", "Quizzy");
        let first = *image.get_pixel(0, 0);
        assert!(image.pixels().any(|p| *p != first), "card is one colour");
        assert!(white_pixels_in_band(&image, 200, 430) > 2000, "no title text");
        let gold = image.pixels().filter(|p| p.0[0] > 170 && p.0[1] > 140 && p.0[2] < 110).count();
        assert!(gold > 300, "no gold category text ({gold})");
    }

    #[test]
    #[ignore = "writes files"]
    fn write_samples() {
        let dir = std::env::temp_dir();
        for (i, (t, c, s)) in [
            ("How closures capture their environment", "Rust", "Quizzy"),
            ("Как работают замыкания", "Программирование", "Викторины"),
            (&*"Lorem ipsum dolor sit amet ".repeat(19), "History", "Quizzy"),
            (&*"W".repeat(500), &*"C".repeat(300), &*"S".repeat(300)),
            ("Capitals of Europe: how many can you name in five minutes?", "Geography", "quizzy.example"),
        ]
        .into_iter()
        .enumerate()
        {
            let bytes = render_og_image(t, c, s).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(dir.join(format!("og-sample-{i}.png")), bytes).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn cyrillic_renders() {
        let image = render("Как работают замыкания", "Программирование", "Викторины");
        assert!(white_pixels_in_band(&image, 200, 430) > 2000);
    }

    #[test]
    fn huge_and_odd_inputs_render() {
        let long_title = "Lorem ipsum dolor sit amet ".repeat(19);
        assert!(long_title.len() >= 500);
        render(&long_title, "History", "Quizzy");
        render(&"W".repeat(500), &"C".repeat(300), &"S".repeat(300));
        render("", "", "");
        render("\u{0}\u{7}\n\t tabs\r\nand\u{202e} bidi", "🦀 emoji", "日本語");
    }

    /// The measurement behind the choice of PNG for the card:
    /// `cargo test --release -- --ignored --nocapture og_format_sizes`.
    #[test]
    #[ignore = "measurement, not a check"]
    fn og_format_sizes() {
        use image::codecs::jpeg::JpegEncoder;
        let card = draw_card("How closures capture their environment in Rust", "Programming", "Quizzy")
            .unwrap_or_else(|e| panic!("{e}"));
        fn png(out: &mut Vec<u8>, level: CompressionType) -> PngEncoder<&mut Vec<u8>> {
            PngEncoder::new_with_quality(out, level, FilterType::Adaptive)
        }
        for name in ["JPEG q85", "JPEG q90", "PNG fast", "PNG default", "PNG best"] {
            let start = std::time::Instant::now();
            let mut out = Vec::new();
            let result = match name {
                "JPEG q85" => card.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85)),
                "JPEG q90" => card.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90)),
                "PNG fast" => card.write_with_encoder(png(&mut out, CompressionType::Fast)),
                "PNG default" => card.write_with_encoder(png(&mut out, CompressionType::Default)),
                _ => card.write_with_encoder(png(&mut out, CompressionType::Best)),
            };
            result.unwrap_or_else(|e| panic!("{e}"));
            println!("{name:12} {:>8} bytes {:>8.1?}", out.len(), start.elapsed());
        }
    }

    #[test]
    fn empty_title_has_no_white_text() {
        let image = render("", "Science", "");
        assert_eq!(white_pixels_in_band(&image, 0, HEIGHT), 0);
    }

    #[test]
    fn long_titles_shrink_and_fit() {
        let font = font().unwrap_or_else(|e| panic!("{e}"));
        let max_width = WIDTH as f32 - 2.0 * MARGIN_X;
        let (_, size, lines) = layout_title(&font, "Short title", max_width);
        assert_eq!((size, lines.len()), (TITLE_SIZES[0], 1));
        let (_, size, lines) = layout_title(&font, &"word ".repeat(60), max_width);
        assert!(size < TITLE_SIZES[0]);
        assert!(lines.len() as f32 * size * LINE_SPACING <= TITLE_AREA);
        let (style, _, lines) = layout_title(&font, &"word ".repeat(400), max_width);
        assert!(lines.last().is_some_and(|l| l.ends_with('…')));
        assert!(lines.iter().all(|l| style.width(l) <= max_width));
    }
}
