//! Just enough text layout for the OG card: measuring, greedy word wrapping,
//! ellipsising and drawing one line of glyphs onto an RGB image.
//!
//! `ab_glyph` gives glyph outlines and a coverage rasteriser; alpha-blending
//! the coverage onto the image is a few lines, which spares the `imageproc`
//! dependency tree (nalgebra, rand, …) for the one function we would use.
//! There is no shaping: characters map one-to-one to glyphs, with kerning.
//! That is right for Latin, Greek and Cyrillic titles; scripts that need
//! shaping (Arabic, Indic) render unjoined, and characters missing from the
//! font render as the font's "missing glyph" box.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::RgbImage;

/// One font at one size, with optional extra spacing between letters.
pub(crate) struct Style<'f> {
    font: &'f FontRef<'f>,
    scale: PxScale,
    /// Extra advance after every character but the last, in pixels.
    tracking: f32,
}

impl<'f> Style<'f> {
    pub(crate) fn new(font: &'f FontRef<'f>, size: f32, tracking: f32) -> Self {
        Self { font, scale: PxScale::from(size), tracking }
    }

    /// Distance from the baseline up to the top of the tallest glyphs.
    pub(crate) fn ascent(&self) -> f32 {
        self.font.as_scaled(self.scale).ascent()
    }

    /// Height of the glyph box: ascent plus the (negative) descent.
    pub(crate) fn height(&self) -> f32 {
        self.font.as_scaled(self.scale).height()
    }

    /// Advance width of `text` on one line.
    pub(crate) fn width(&self, text: &str) -> f32 {
        let font = self.font.as_scaled(self.scale);
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(prev) = previous {
                width += font.kern(prev, id) + self.tracking;
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// Greedy word wrap to `max_width`. Words wider than a line are broken
    /// between characters. Runs of whitespace collapse to one space.
    pub(crate) fn wrap(&self, text: &str, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            if !line.is_empty() {
                let candidate = format!("{line} {word}");
                if self.width(&candidate) <= max_width {
                    line = candidate;
                    continue;
                }
                lines.push(std::mem::take(&mut line));
            }
            // `word` starts a new line; break it wherever it overflows.
            for c in word.chars() {
                line.push(c);
                if self.width(&line) > max_width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// `text` if it fits in `max_width`, otherwise cut with an ellipsis.
    pub(crate) fn ellipsize(&self, text: &str, max_width: f32) -> String {
        if self.width(text) <= max_width { text.to_string() } else { self.cut_with_ellipsis(text, max_width) }
    }

    /// As much of `text` as fits in `max_width` together with a trailing
    /// ellipsis, which is always added.
    pub(crate) fn cut_with_ellipsis(&self, text: &str, max_width: f32) -> String {
        let mut cut = text.to_string();
        loop {
            let candidate = format!("{}…", cut.trim_end());
            if self.width(&candidate) <= max_width || cut.is_empty() {
                return candidate;
            }
            cut.pop();
        }
    }

    /// Draws one line with its left end at `x` and its baseline at
    /// `baseline`, blending `colour` by glyph coverage. Pixels outside the
    /// image are skipped.
    pub(crate) fn draw(&self, image: &mut RgbImage, text: &str, x: f32, baseline: f32, colour: [u8; 3]) {
        let font = self.font.as_scaled(self.scale);
        let mut caret = x;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(prev) = previous {
                caret += font.kern(prev, id) + self.tracking;
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(self.scale, point(caret, baseline));
            caret += font.h_advance(id);
            let Some(outlined) = self.font.outline_glyph(glyph) else {
                continue; // whitespace has no outline
            };
            let bounds = outlined.px_bounds();
            // Bounds are whole pixels; the casts saturate for absurd values.
            let (left, top) = (bounds.min.x as i64, bounds.min.y as i64);
            outlined.draw(|gx, gy, coverage| {
                let px = left + i64::from(gx);
                let py = top + i64::from(gy);
                let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) else {
                    return;
                };
                if let Some(pixel) = image.get_pixel_mut_checked(px, py) {
                    let a = coverage.clamp(0.0, 1.0);
                    for (channel, &target) in pixel.0.iter_mut().zip(&colour) {
                        let blended = f32::from(*channel) * (1.0 - a) + f32::from(target) * a;
                        *channel = blended.round() as u8;
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::og::font;

    #[test]
    fn wrap_respects_width_and_breaks_long_words() {
        let font = font().unwrap_or_else(|e| panic!("{e}"));
        let style = Style::new(&font, 40.0, 0.0);
        let long = "x".repeat(200);
        let text = format!("short words then {long} and more");
        let lines = style.wrap(&text, 400.0);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(style.width(line) <= 400.0, "{line:?} too wide");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn wrap_of_blank_text_is_empty() {
        let font = font().unwrap_or_else(|e| panic!("{e}"));
        assert!(Style::new(&font, 40.0, 0.0).wrap(" \n\t ", 400.0).is_empty());
    }

    #[test]
    fn ellipsize_fits() {
        let font = font().unwrap_or_else(|e| panic!("{e}"));
        let style = Style::new(&font, 30.0, 2.0);
        assert_eq!(style.ellipsize("Quiz", 500.0), "Quiz");
        let cut = style.ellipsize(&"ЖЖЖЖ ".repeat(100), 300.0);
        assert!(cut.ends_with('…') && style.width(&cut) <= 300.0);
        assert_eq!(style.ellipsize("WWW", 1.0), "…");
        assert_eq!(style.cut_with_ellipsis("Quiz ", 500.0), "Quiz…");
    }
}
