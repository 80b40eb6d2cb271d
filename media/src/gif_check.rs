//! Validating GIFs without compositing them.
//!
//! Animated GIFs are stored as uploaded (see [`crate::process`]), so this is
//! the only check they get: every frame's LZW data is decoded to palette
//! indices, which proves the file is complete and well-formed, and the canvas,
//! the frame count and the total decoded area are bounded. Using the `gif`
//! crate directly avoids `image`'s per-frame RGBA compositing, which costs a
//! full canvas buffer per frame and is not needed just to validate.

use std::num::NonZeroU64;

use crate::limits::{MAX_PIXELS, MAX_SIDE, Rejected};

/// Most frames accepted in one GIF.
pub const MAX_FRAMES: usize = 1000;
/// Most pixels decoded over all frames (bounds the CPU time spent).
pub const MAX_TOTAL_FRAME_PIXELS: u64 = 400_000_000;

/// What validation found out about a GIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GifInfo {
    pub width: u32,
    pub height: u32,
    pub frames: usize,
}

/// Decodes every frame of a GIF (as palette indices) within the limits.
pub(crate) fn inspect(bytes: &[u8]) -> Result<GifInfo, Rejected> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    // One byte per pixel in indexed mode, so this caps a frame at MAX_PIXELS.
    if let Some(limit) = NonZeroU64::new(MAX_PIXELS) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    // Frames must lie within the canvas, whose size is what gets checked.
    options.check_frame_consistency(true);

    let mut decoder = options.read_info(bytes).map_err(corrupt)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    let too_large = || Rejected::TooLarge { width, height };
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_large());
    }
    if width == 0 || height == 0 {
        return Err(Rejected::Corrupt("GIF canvas has no pixels".into()));
    }

    let mut frames = 0;
    let mut pixels: u64 = 0;
    loop {
        let frame = match decoder.read_next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(gif::DecodingError::MemoryLimit) => return Err(too_large()),
            Err(e) => return Err(corrupt(e)),
        };
        frames += 1;
        pixels += u64::from(frame.width) * u64::from(frame.height);
        if frames > MAX_FRAMES || pixels > MAX_TOTAL_FRAME_PIXELS {
            return Err(too_large());
        }
    }
    if frames == 0 {
        return Err(Rejected::Corrupt("GIF has no frames".into()));
    }
    Ok(GifInfo { width, height, frames })
}

fn corrupt(error: gif::DecodingError) -> Rejected {
    Rejected::Corrupt(format!("GIF: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::animated_gif;

    #[test]
    fn counts_frames() {
        let info = inspect(&animated_gif(20, 10, 3));
        assert_eq!(info, Ok(GifInfo { width: 20, height: 10, frames: 3 }));
    }

    #[test]
    fn every_truncation_is_rejected() {
        let full = animated_gif(20, 10, 2);
        for cut in 0..full.len() - 1 {
            assert!(inspect(&full[..cut]).is_err(), "cut at {cut}");
        }
    }
}
