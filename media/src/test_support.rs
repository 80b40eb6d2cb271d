//! Fixtures for the unit tests: images are generated, not checked in.

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, DynamicImage, Frame, ImageEncoder, RgbImage, Rgba, RgbaImage};

/// Tiny deterministic PRNG (no `rand` dependency needed).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_value(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn byte(&mut self) -> u8 {
        (self.next_value() & 0xFF) as u8
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_value() % n as u64) as usize
    }
}

/// Gradient plus a little noise: red grows left to right, green top to bottom.
pub fn photo(width: u32, height: u32) -> RgbImage {
    let mut rng = Lcg(1);
    RgbImage::from_fn(width, height, |x, y| {
        let noise = (rng.byte() % 16) as u32;
        image::Rgb([(x * 200 / width + noise) as u8, (y * 200 / height + noise) as u8, ((x + y) % 97 + noise) as u8])
    })
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let img = photo(width, height);
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap_or_else(|e| panic!("jpeg fixture: {e}"));
    out
}

/// Splices a minimal EXIF APP1 segment carrying only an orientation tag in
/// right after the SOI marker, as cameras do.
pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a"); // big-endian TIFF header
    tiff.extend_from_slice(&8u32.to_be_bytes()); // offset of IFD0
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    // A GPS-looking payload, to make sure nothing of it survives.
    tiff.extend_from_slice(b"GPS 48.8584N 2.2945E");

    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let len = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX);

    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn rgba(width: u32, height: u32, transparent: bool) -> RgbaImage {
    let base = photo(width, height);
    RgbaImage::from_fn(width, height, |x, y| {
        let [r, g, b] = base.get_pixel(x, y).0;
        let a = if transparent && x < width / 2 { 64 } else { 255 };
        Rgba([r, g, b, a])
    })
}

pub fn png(width: u32, height: u32, transparent: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let img = if transparent {
        DynamicImage::ImageRgba8(rgba(width, height, true))
    } else {
        DynamicImage::ImageRgb8(photo(width, height))
    };
    img.write_with_encoder(PngEncoder::new(&mut out)).unwrap_or_else(|e| panic!("png fixture: {e}"));
    out
}

/// Lossless WebP (the only kind the `image` crate writes), always with an
/// alpha channel; `transparent` decides whether any pixel uses it.
pub fn webp(width: u32, height: u32, transparent: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let img = rgba(width, height, transparent);
    WebPEncoder::new_lossless(&mut out)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgba8)
        .unwrap_or_else(|e| panic!("webp fixture: {e}"));
    out
}

/// A GIF with `frames` frames of different colours.
pub fn animated_gif(width: u32, height: u32, frames: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).unwrap_or_else(|e| panic!("gif fixture: {e}"));
        for i in 0..frames {
            let img = RgbaImage::from_fn(width, height, |x, _| Rgba([i.wrapping_mul(90), (x % 256) as u8, 200, 255]));
            let frame = Frame::from_parts(img, 0, 0, Delay::from_numer_denom_ms(100, 1));
            encoder.encode_frame(frame).unwrap_or_else(|e| panic!("gif fixture: {e}"));
        }
    }
    out
}

/// A PNG that claims `width`×`height` in its header but holds no pixel data.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
