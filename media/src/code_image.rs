//! The code image of a published task (DOMAIN §7): the question's code block, syntax-highlighted by `syntect`
//! (Sublime Text's grammars and themes), with line numbers, in a dark rounded "console" window on a light canvas
//! of 1600×1000. The font (DejaVu Sans Mono, embedded) starts large and shrinks until the longest line and every
//! line fit; code too long even at the smallest size is cut, with a last line saying how much was left out.

use std::sync::OnceLock;

use ab_glyph::{FontRef, InvalidFont};
use image::{ImageEncoder, RgbImage};
use syntect::easy::HighlightLines;
use syntect::highlighting::{Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

use crate::og::{fill_rect, mix};
use crate::text::Style;

pub const WIDTH: u32 = 1600;
pub const HEIGHT: u32 = 1000;

const MARGIN: u32 = 70; // canvas to window
const RADIUS: u32 = 22;
const TITLE_BAR: u32 = 56;
const PADDING: f32 = 36.0; // window to code
const LARGEST: f32 = 40.0;
const SMALLEST: f32 = 14.0;
const LINE_SPACING: f32 = 1.35;
const TAB: &str = "    ";

const CANVAS_TOP: [f32; 3] = [236.0, 240.0, 247.0];
const CANVAS_BOTTOM: [f32; 3] = [214.0, 222.0, 236.0];
const WINDOW: [u8; 3] = [30, 32, 44];
const TITLE_BAR_COLOUR: [u8; 3] = [42, 45, 60];
const GUTTER_TEXT: [u8; 3] = [98, 104, 128];
const DOTS: [[u8; 3]; 3] = [[255, 95, 86], [255, 189, 46], [39, 201, 63]];
const THEME: &str = "base16-ocean.dark";

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSansMono.ttf");

#[derive(Debug, thiserror::Error)]
pub enum CodeImageError {
    #[error("embedded font is invalid: {0}")]
    Font(#[from] InvalidFont),
    #[error("highlighting failed: {0}")]
    Highlight(#[from] syntect::Error),
    #[error("encoding the image failed: {0}")]
    Encode(#[from] image::ImageError),
}

/// A rendered code image and how it was laid out.
#[derive(Debug)]
pub struct CodeImage {
    pub png: Vec<u8>,
    pub font_size: f32,
    /// Lines drawn (the last may be the "… more lines" note).
    pub lines: usize,
}

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn theme() -> &'static Theme {
    static THEMES: OnceLock<ThemeSet> = OnceLock::new();
    &THEMES.get_or_init(ThemeSet::load_defaults).themes[THEME]
}

/// Renders `code` highlighted as `language` (a name or file extension: `python`, `rs`, `JavaScript`; unknown
/// names are plain text) as a PNG.
pub fn render_code_image(code: &str, language: &str) -> Result<CodeImage, CodeImageError> {
    let font = FontRef::try_from_slice(FONT_BYTES)?;
    let lines: Vec<String> =
        code.trim_matches('\n').lines().map(|l| l.replace('\t', TAB).trim_end().to_string()).collect();
    let lines = if lines.is_empty() { vec![String::new()] } else { lines };

    let window_w = (WIDTH - 2 * MARGIN) as f32;
    let window_h = (HEIGHT - 2 * MARGIN - TITLE_BAR) as f32;
    let gutter_chars = lines.len().to_string().len() + 2;
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) + gutter_chars;
    // The largest size at which the longest line and every line fit; monospace, so one advance measures all.
    let mut size = LARGEST;
    let fits = |size: f32| {
        let style = Style::new(&font, size, 0.0);
        let advance = style.width("M");
        longest as f32 * advance <= window_w - 2.0 * PADDING
            && lines.len() as f32 * size * LINE_SPACING <= window_h - 2.0 * PADDING
    };
    while size > SMALLEST && !fits(size) {
        size -= 1.0;
    }
    let style = Style::new(&font, size, 0.0);
    let advance = style.width("M");
    let line_height = size * LINE_SPACING;
    let capacity = ((window_h - 2.0 * PADDING) / line_height).floor().max(1.0) as usize;
    let columns = (((window_w - 2.0 * PADDING) / advance).floor() as usize).saturating_sub(gutter_chars).max(1);

    let mut image = canvas();
    rounded_rect(&mut image, MARGIN, MARGIN, WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN, RADIUS, WINDOW);
    rounded_rect(&mut image, MARGIN, MARGIN, WIDTH - 2 * MARGIN, TITLE_BAR + RADIUS, RADIUS, TITLE_BAR_COLOUR);
    fill_rect(&mut image, MARGIN, MARGIN + TITLE_BAR, WIDTH - 2 * MARGIN, RADIUS, WINDOW);
    for (i, colour) in DOTS.iter().enumerate() {
        circle(&mut image, MARGIN + 34 + i as u32 * 30, MARGIN + TITLE_BAR / 2, 8, *colour);
    }

    let syntaxes = syntaxes();
    let syntax = syntaxes
        .find_syntax_by_token(language)
        .or_else(|| syntaxes.find_syntax_by_name(language))
        .unwrap_or_else(|| syntaxes.find_syntax_plain_text());
    let mut highlighter = HighlightLines::new(syntax, theme());
    let shown = if lines.len() > capacity { capacity - 1 } else { lines.len() };
    let left = MARGIN as f32 + PADDING;
    let top = (MARGIN + TITLE_BAR) as f32 + PADDING;
    let number_width = lines.len().to_string().len();
    for (i, line) in lines.iter().enumerate() {
        // Highlight every line, shown or not, so the grammar's state stays right.
        let with_newline = format!("{line}\n");
        let ranges = highlighter.highlight_line(&with_newline, syntaxes)?;
        if i >= shown {
            continue;
        }
        let baseline = top + i as f32 * line_height + style.ascent();
        style.draw(&mut image, &format!("{:>number_width$}", i + 1), left, baseline, GUTTER_TEXT);
        let mut column = 0;
        for (token_style, text) in ranges {
            let colour = [token_style.foreground.r, token_style.foreground.g, token_style.foreground.b];
            let text = text.trim_end_matches('\n');
            let room = columns.saturating_sub(column);
            let count = text.chars().count();
            let drawn: String = if count > room {
                text.chars().take(room.saturating_sub(1)).chain(['…']).collect()
            } else {
                text.to_string()
            };
            style.draw(&mut image, &drawn, left + (gutter_chars + column) as f32 * advance, baseline, colour);
            column += drawn.chars().count();
            if column >= columns {
                break;
            }
        }
    }
    if shown < lines.len() {
        let baseline = top + shown as f32 * line_height + style.ascent();
        let note = format!("… {} more lines", lines.len() - shown);
        style.draw(&mut image, &note, left + gutter_chars as f32 * advance, baseline, GUTTER_TEXT);
    }

    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(
        image.as_raw(),
        WIDTH,
        HEIGHT,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(CodeImage { png, font_size: size, lines: shown + usize::from(shown < lines.len()) })
}

fn canvas() -> RgbImage {
    RgbImage::from_fn(WIDTH, HEIGHT, |_, y| image::Rgb(mix(CANVAS_TOP, CANVAS_BOTTOM, y as f32 / HEIGHT as f32)))
}

/// A rectangle with corners of radius `r`, their edges anti-aliased.
fn rounded_rect(image: &mut RgbImage, x: u32, y: u32, width: u32, height: u32, r: u32, colour: [u8; 3]) {
    let (r, right, bottom) = (r as f32, (x + width) as f32, (y + height) as f32);
    for py in y..y + height {
        for px in x..x + width {
            let (cx, cy) = (px as f32 + 0.5, py as f32 + 0.5);
            // Distance outside the corner's circle, for pixels in a corner square.
            let dx = if cx < x as f32 + r {
                x as f32 + r - cx
            } else if cx > right - r {
                cx - (right - r)
            } else {
                0.0
            };
            let dy = if cy < y as f32 + r {
                y as f32 + r - cy
            } else if cy > bottom - r {
                cy - (bottom - r)
            } else {
                0.0
            };
            let coverage = (r + 0.5 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 1.0);
            blend(image, px, py, colour, coverage);
        }
    }
}

fn circle(image: &mut RgbImage, cx: u32, cy: u32, r: u32, colour: [u8; 3]) {
    let rf = r as f32;
    for py in cy.saturating_sub(r + 1)..=cy + r + 1 {
        for px in cx.saturating_sub(r + 1)..=cx + r + 1 {
            let (dx, dy) = (px as f32 + 0.5 - cx as f32, py as f32 + 0.5 - cy as f32);
            blend(image, px, py, colour, (rf + 0.5 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 1.0));
        }
    }
}

fn blend(image: &mut RgbImage, x: u32, y: u32, colour: [u8; 3], coverage: f32) {
    if coverage <= 0.0 {
        return;
    }
    if let Some(pixel) = image.get_pixel_mut_checked(x, y) {
        for (channel, target) in pixel.0.iter_mut().zip(colour) {
            *channel = (*channel as f32 + (target as f32 - *channel as f32) * coverage).round() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTHON: &str = "def greet(name):\n\tif not name:\n\t\treturn None\n\treturn f\"Hello, {name}!\"  # a comment\n\nprint(greet('quiz'))\n";

    fn decode(png: &[u8]) -> RgbImage {
        image::load_from_memory(png).unwrap().to_rgb8()
    }

    /// Distinct colours inside the window's code area.
    fn code_colours(image: &RgbImage) -> usize {
        let mut colours = std::collections::HashSet::new();
        for y in (MARGIN + TITLE_BAR + 10)..(HEIGHT - MARGIN - 10) {
            for x in (MARGIN + 10)..(WIDTH - MARGIN - 10) {
                colours.insert(image.get_pixel(x, y).0);
            }
        }
        colours.len()
    }

    #[test]
    fn a_python_snippet_is_a_highlighted_1600_by_1000_png_in_a_dark_window_on_a_light_canvas() {
        let rendered = render_code_image(PYTHON, "python").unwrap();
        let image = decode(&rendered.png);
        assert_eq!(image.dimensions(), (WIDTH, HEIGHT));
        assert_eq!(rendered.font_size, LARGEST, "a short snippet gets the largest size");
        assert_eq!(rendered.lines, 6);
        let canvas = image.get_pixel(5, 5).0;
        assert!(canvas.iter().all(|&c| c > 200), "light canvas: {canvas:?}");
        let window = image.get_pixel(WIDTH - MARGIN - 20, HEIGHT - MARGIN - 20).0;
        assert_eq!(window, WINDOW, "dark window");
        assert!(
            image.get_pixel(MARGIN, MARGIN).0.iter().all(|&c| c > 200),
            "rounded: the window's corner pixel is canvas"
        );
        assert!(code_colours(&image) > 20, "the text region is not one colour (highlighted, anti-aliased text)");
    }

    /// `cargo test -p media --lib code_image_sample -- --ignored` writes one to look at.
    #[test]
    #[ignore]
    fn code_image_sample() {
        std::fs::write(std::env::temp_dir().join("code-image.png"), render_code_image(PYTHON, "python").unwrap().png)
            .unwrap();
    }

    #[test]
    fn long_code_shrinks_the_font_and_code_too_long_for_the_smallest_is_cut_with_a_note() {
        let medium: String = (0..30).map(|i| format!("let value_{i} = compute({i}, \"some argument\");\n")).collect();
        let rendered = render_code_image(&medium, "rust").unwrap();
        assert!(rendered.font_size < LARGEST && rendered.font_size >= SMALLEST, "{}", rendered.font_size);
        assert_eq!(rendered.lines, 30, "everything fits once smaller");

        let huge: String = (0..200).map(|i| format!("x{i} = {}\n", "y".repeat(300))).collect();
        let rendered = render_code_image(&huge, "python").unwrap();
        assert_eq!(rendered.font_size, SMALLEST);
        assert!(rendered.lines < 200, "cut, with the note as the last line");
        assert_eq!(decode(&rendered.png).dimensions(), (WIDTH, HEIGHT));
    }

    #[test]
    fn unknown_languages_empty_code_and_odd_characters_render() {
        for (code, language) in
            [("", "python"), ("plain words", "no-such-language"), ("печать('привет') 🚀\u{0}", "py")]
        {
            let rendered = render_code_image(code, language).unwrap();
            assert_eq!(decode(&rendered.png).dimensions(), (WIDTH, HEIGHT), "{code:?}");
        }
    }
}
