//! Sanitising user uploads.
//!
//! Everything a user uploads is served back to other users, so before storing
//! it we make sure that it is what it claims to be, that it cannot exhaust a
//! Lambda's memory, that it does not leak the uploader's location through EXIF
//! GPS tags, and that it is of a sensible size. The steps, in order:
//!
//! 1. **Sniff** the magic bytes. Anything that is not one of the four accepted
//!    types is refused, and so is an image whose real type differs from the
//!    declared one (a PNG uploaded as `image/jpeg`), because the declared type
//!    becomes the stored object's `Content-Type`.
//! 2. **Bound** the work before allocating pixels: at most
//!    [`MAX_SIDE`] pixels per side, [`MAX_PIXELS`] pixels in all and
//!    [`MAX_DECODED_BYTES`] of decoded pixel data, checked from the header,
//!    then enforced again by the decoder through [`image::Limits`].
//! 3. **Decode** fully, so that truncated or corrupt files are refused here and
//!    not discovered by a browser later. JPEG decoding is lenient (a truncated
//!    scan decodes as grey), so JPEGs must also reach their end-of-image marker.
//! 4. **Orient**: the EXIF orientation is applied to the pixels, because the
//!    metadata that carried it is about to be dropped.
//! 5. **Crop and shrink**: avatars are centre-cropped to a square; every image
//!    is then shrunk to fit within [`MAX_OUTPUT_SIDE`]² keeping its aspect
//!    ratio, never enlarged.
//! 6. **Re-encode** from pixels. The `image` encoders write no EXIF, XMP, ICC
//!    or text chunks, so this is what strips the metadata.
//!
//! Output formats:
//!
//! * JPEG → JPEG at quality [`JPEG_QUALITY`].
//! * PNG → PNG (8 bits per channel; 16-bit input is reduced).
//! * WebP → the `image` crate can only *write* lossless WebP, which is several
//!   times larger than the lossy WebP photos usually arrive as. So a WebP with
//!   real transparency becomes PNG and an opaque one becomes JPEG; the result's
//!   [`Processed::image_type`] says which. Animated WebP keeps its first frame.
//! * Animated GIF (more than one frame) → the original bytes unchanged, after
//!   every frame has been decoded and the canvas checked against the limits.
//!   Re-encoding an animation would mean quantising every frame again (slow
//!   and lossy) and the `image` crate cannot resize animations. The price:
//!   animated avatars are not cropped or shrunk, and GIF comment and
//!   application extensions (which could hold an XMP packet) are kept. GIF has
//!   no EXIF block, and cameras and phones do not write GIFs, so location
//!   leaks through this path are unlikely; it is the accepted trade-off.
//! * Single-frame GIF → PNG. Treating it as a still gives it the same
//!   metadata stripping, avatar crop and size cap as every other still, and PNG
//!   is lossless (re-encoding to GIF would re-quantise the palette).
//!
//! Colour profiles are dropped with the rest of the metadata; wide-gamut
//! (Display P3) photos therefore look slightly less saturated. Converting them
//! to sRGB would need a colour-management step this crate does not do.

use std::borrow::Cow;
use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

use crate::image_type::ImageType;
use crate::{gif_check, jpeg_check};

pub use crate::limits::{MAX_PIXELS, MAX_SIDE, Rejected};

/// Most bytes of decoded pixel data: 50 MP of 8-bit RGBA (a 16-bit RGBA PNG
/// therefore tops out at 25 MP).
pub const MAX_DECODED_BYTES: u64 = MAX_PIXELS * 4;
/// Stored images fit within this many pixels on each side.
pub const MAX_OUTPUT_SIDE: u32 = 2000;
/// Quality of every JPEG written.
pub const JPEG_QUALITY: u8 = 85;
/// Resampling filter used when shrinking. Reducing a 4000×3000 photo to
/// 2000×1500 takes (best of 6) 427 ms with Triangle, 482 ms with CatmullRom
/// and 557 ms with Lanczos3 (`resize/*` benchmarks). `image` widens the
/// Triangle kernel to the scale factor when shrinking, so it is a proper
/// anti-aliased reduction; at the 1–10× reductions seen here the sharper
/// kernels make little visible difference, and Triangle is the fastest. The
/// crate README lists the faster alternatives considered.
pub const RESIZE_FILTER: FilterType = FilterType::Triangle;

/// What an upload is for; decides the crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Profile picture: centre-cropped to a square.
    Avatar,
    /// Image embedded in a post or quiz question.
    PostImage,
    /// Screenshot attached to a feedback report.
    FeedbackImage,
}

/// A sanitised image, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// The type of `bytes`; may differ from the declared type (WebP and
    /// single-frame GIF inputs are converted, see the module docs).
    pub image_type: ImageType,
    pub width: u32,
    pub height: u32,
}

/// Validates, orients, strips, bounds and re-encodes an uploaded image.
///
/// `declared` is the type the client claimed (from its `Content-Type`).
/// See the module documentation for the rules.
pub fn process_upload(bytes: &[u8], declared: ImageType, purpose: Purpose) -> Result<Processed, Rejected> {
    let actual = sniff(bytes)?;
    if actual != declared {
        return Err(Rejected::TypeMismatch { declared, actual });
    }

    match actual {
        ImageType::Gif => {
            let gif = gif_check::inspect(bytes)?;
            if gif.frames > 1 {
                return Ok(Processed {
                    bytes: bytes.to_vec(),
                    image_type: ImageType::Gif,
                    width: gif.width,
                    height: gif.height,
                });
            }
        }
        ImageType::Jpeg => jpeg_check::check_complete(bytes).map_err(Rejected::Corrupt)?,
        ImageType::Png | ImageType::WebP => {}
    }

    let image = decode(bytes, actual)?;
    let image = fit(image, purpose);
    let encoding = output_encoding(actual, &image);
    encode(&image, encoding)
}

/// Identifies the real type from the magic bytes.
fn sniff(bytes: &[u8]) -> Result<ImageType, Rejected> {
    let format = image::guess_format(bytes).map_err(|_| Rejected::NotAnImage)?;
    ImageType::from_format(format).ok_or_else(|| Rejected::Unsupported(format!("{format:?}")))
}

fn check_dimensions(width: u32, height: u32) -> Result<(), Rejected> {
    let pixels = u64::from(width) * u64::from(height);
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(Rejected::TooLarge { width, height });
    }
    if pixels == 0 {
        return Err(Rejected::Corrupt("image has no pixels".into()));
    }
    Ok(())
}

pub(crate) fn decoding_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

/// Decodes within the limits and applies the EXIF orientation.
fn decode(bytes: &[u8], image_type: ImageType) -> Result<DynamicImage, Rejected> {
    // Read the header with only the allocation cap set, so that an oversized
    // image is reported with its dimensions; the dimension limits are then
    // handed to the decoder as well, which enforces them strictly.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_type.format());
    let mut header_limits = Limits::default();
    header_limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(header_limits);
    let mut decoder = reader.into_decoder().map_err(|e| rejection(e, (0, 0)))?;

    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(Rejected::TooLarge { width, height });
    }
    decoder.set_limits(decoding_limits()).map_err(|e| rejection(e, (width, height)))?;

    // A malformed EXIF block is not worth refusing the image for: it is
    // about to be thrown away anyway.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| rejection(e, (width, height)))?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn rejection(error: ImageError, (width, height): (u32, u32)) -> Rejected {
    match error {
        ImageError::Limits(_) => Rejected::TooLarge { width, height },
        ImageError::Unsupported(e) => Rejected::Unsupported(e.to_string()),
        ImageError::Encoding(e) => Rejected::Encode(e.to_string()),
        other => Rejected::Corrupt(other.to_string()),
    }
}

/// Centre-crops avatars to a square, then shrinks to fit [`MAX_OUTPUT_SIDE`].
fn fit(image: DynamicImage, purpose: Purpose) -> DynamicImage {
    let image = match purpose {
        Purpose::Avatar => centre_square(image),
        Purpose::PostImage | Purpose::FeedbackImage => image,
    };
    let (width, height) = (image.width(), image.height());
    let (w, h) = fit_within(width, height, MAX_OUTPUT_SIDE);
    if (w, h) == (width, height) { image } else { image.resize_exact(w, h, RESIZE_FILTER) }
}

fn centre_square(image: DynamicImage) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    if width == height {
        return image;
    }
    let side = width.min(height);
    image.crop_imm((width - side) / 2, (height - side) / 2, side, side)
}

/// The largest size within `max`×`max` with the same aspect ratio, or the
/// size itself when it already fits (never enlarges). Sides are at least 1.
fn fit_within(width: u32, height: u32, max: u32) -> (u32, u32) {
    if width <= max && height <= max {
        return (width, height);
    }
    let (long, short) = (u64::from(width.max(height)), u64::from(width.min(height)));
    // Rounded `short * max / long`; at most `max`, so it fits in a u32.
    let scaled = (short * u64::from(max) + long / 2) / long;
    let scaled = u32::try_from(scaled).unwrap_or(max).max(1);
    if width >= height { (max, scaled) } else { (scaled, max) }
}

/// How a still image is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Jpeg,
    Png,
}

/// Output encoding for a still image; see the module docs.
fn output_encoding(input: ImageType, image: &DynamicImage) -> Encoding {
    match input {
        ImageType::Jpeg => Encoding::Jpeg,
        ImageType::Png | ImageType::Gif => Encoding::Png,
        ImageType::WebP if has_transparency(image) => Encoding::Png,
        ImageType::WebP => Encoding::Jpeg,
    }
}

/// True when some pixel is not fully opaque (an alpha channel alone is not
/// enough: many encoders add one that is opaque everywhere).
fn has_transparency(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageLumaA8(buf) => buf.pixels().any(|p| p.0[1] < u8::MAX),
        DynamicImage::ImageRgba8(buf) => buf.pixels().any(|p| p.0[3] < u8::MAX),
        DynamicImage::ImageLumaA16(buf) => buf.pixels().any(|p| p.0[1] < u16::MAX),
        DynamicImage::ImageRgba16(buf) => buf.pixels().any(|p| p.0[3] < u16::MAX),
        other => other.has_alpha(),
    }
}

fn encode(image: &DynamicImage, encoding: Encoding) -> Result<Processed, Rejected> {
    let mut bytes = Vec::new();
    let (result, image_type) = match encoding {
        Encoding::Jpeg => {
            let encoder = JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY);
            let pixels = if image.color().has_color() {
                DynamicImage::ImageRgb8(image.to_rgb8())
            } else {
                DynamicImage::ImageLuma8(image.to_luma8())
            };
            (pixels.write_with_encoder(encoder), ImageType::Jpeg)
        }
        Encoding::Png => {
            let encoder = PngEncoder::new_with_quality(&mut bytes, CompressionType::Default, PngFilter::Adaptive);
            (to_8_bit(image).write_with_encoder(encoder), ImageType::Png)
        }
    };
    result.map_err(|e| Rejected::Encode(e.to_string()))?;
    Ok(Processed { bytes, image_type, width: image.width(), height: image.height() })
}

/// Reduces to 8 bits per channel, keeping grey/colour and alpha as they are.
fn to_8_bit(image: &DynamicImage) -> Cow<'_, DynamicImage> {
    Cow::Owned(match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => return Cow::Borrowed(image),
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgb32F(_) => DynamicImage::ImageRgb8(image.to_rgb8()),
        _ => DynamicImage::ImageRgba8(image.to_rgba8()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    fn process(bytes: &[u8], t: ImageType, p: Purpose) -> Processed {
        match process_upload(bytes, t, p) {
            Ok(out) => out,
            Err(e) => panic!("expected success, got {e:?}"),
        }
    }

    fn decoded(out: &Processed) -> DynamicImage {
        image::load_from_memory_with_format(&out.bytes, out.image_type.format())
            .unwrap_or_else(|e| panic!("output does not decode: {e}"))
    }

    #[test]
    fn large_jpeg_with_exif_is_shrunk_and_stripped() {
        let input = with_exif(&jpeg(4000, 3000), 1);
        assert!(contains(&input, b"Exif\0\0"), "fixture must carry EXIF");
        let out = process(&input, ImageType::Jpeg, Purpose::PostImage);
        assert_eq!(out.image_type, ImageType::Jpeg);
        assert_eq!((out.width, out.height), (2000, 1500));
        assert!(out.bytes.starts_with(&[0xFF, 0xD8]));
        assert!(!contains(&out.bytes, b"Exif"), "EXIF must be stripped");
        let img = decoded(&out);
        assert_eq!((img.width(), img.height()), (2000, 1500));
    }

    #[test]
    fn exif_orientation_6_is_applied() {
        let out = process(&with_exif(&jpeg(300, 200), 6), ImageType::Jpeg, Purpose::PostImage);
        assert_eq!((out.width, out.height), (200, 300));
        // Left edge of the source is dark red (see `jpeg`); rotated 90° clockwise
        // it becomes the top edge.
        let img = decoded(&out).to_rgb8();
        let top = img.get_pixel(100, 2).0;
        let bottom = img.get_pixel(100, 297).0;
        assert!(top[0] < bottom[0], "top {top:?} should be darker than bottom {bottom:?}");
    }

    #[test]
    fn text_declared_as_png_is_not_an_image() {
        let text = b"just some notes, renamed to notes.png\n";
        assert_eq!(process_upload(text, ImageType::Png, Purpose::PostImage), Err(Rejected::NotAnImage));
        assert_eq!(process_upload(b"", ImageType::Jpeg, Purpose::Avatar), Err(Rejected::NotAnImage));
    }

    #[test]
    fn png_declared_as_jpeg_is_a_type_mismatch() {
        assert_eq!(
            process_upload(&png(10, 10, false), ImageType::Jpeg, Purpose::PostImage),
            Err(Rejected::TypeMismatch { declared: ImageType::Jpeg, actual: ImageType::Png })
        );
    }

    #[test]
    fn other_image_formats_are_unsupported() {
        let bmp = b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0";
        assert!(matches!(process_upload(bmp, ImageType::Png, Purpose::PostImage), Err(Rejected::Unsupported(_))));
    }

    #[test]
    fn avatar_is_centre_cropped_square() {
        let out = process(&jpeg(3000, 1000), ImageType::Jpeg, Purpose::Avatar);
        assert_eq!((out.image_type, out.width, out.height), (ImageType::Jpeg, 1000, 1000));
        let out = process(&png(90, 240, false), ImageType::Png, Purpose::Avatar);
        assert_eq!((out.image_type, out.width, out.height), (ImageType::Png, 90, 90));
    }

    #[test]
    fn large_avatar_is_cropped_then_shrunk() {
        let image = fit(DynamicImage::new_rgb8(2400, 2100), Purpose::Avatar);
        assert_eq!((image.width(), image.height()), (2000, 2000));
        let image = fit(DynamicImage::new_rgb8(2400, 2100), Purpose::FeedbackImage);
        assert_eq!((image.width(), image.height()), (2000, 1750));
    }

    #[test]
    fn wide_transparent_png_is_shrunk_with_alpha() {
        let out = process(&png(2400, 60, true), ImageType::Png, Purpose::PostImage);
        assert_eq!((out.image_type, out.width, out.height), (ImageType::Png, 2000, 50));
        let img = decoded(&out).to_rgba8();
        assert_eq!(img.get_pixel(10, 25).0[3], 64, "left half stays translucent");
        assert_eq!(img.get_pixel(1990, 25).0[3], 255, "right half stays opaque");
    }

    #[test]
    fn small_png_is_not_upscaled() {
        let out = process(&png(100, 80, true), ImageType::Png, Purpose::FeedbackImage);
        assert_eq!(out.image_type, ImageType::Png);
        assert_eq!((out.width, out.height), (100, 80));
        let img = decoded(&out);
        assert_eq!((img.width(), img.height()), (100, 80));
        assert!(img.color().has_alpha(), "transparency must survive");
    }

    #[test]
    fn tall_png_is_shrunk_keeping_aspect_ratio() {
        let out = process(&png(300, 2400, false), ImageType::Png, Purpose::PostImage);
        assert_eq!((out.width, out.height), (250, 2000));
    }

    #[test]
    fn animated_gif_is_kept_byte_for_byte() {
        let input = animated_gif(64, 48, 2);
        let out = process(&input, ImageType::Gif, Purpose::PostImage);
        assert_eq!(out.image_type, ImageType::Gif);
        assert_eq!((out.width, out.height), (64, 48));
        assert_eq!(out.bytes, input);
    }

    #[test]
    fn single_frame_gif_becomes_png() {
        let out = process(&animated_gif(64, 48, 1), ImageType::Gif, Purpose::PostImage);
        assert_eq!(out.image_type, ImageType::Png);
        assert_eq!((out.width, out.height), (64, 48));
        decoded(&out);
    }

    #[test]
    fn truncated_gif_is_rejected() {
        let input = animated_gif(64, 48, 3);
        let cut = &input[..input.len() * 2 / 3];
        assert!(matches!(process_upload(cut, ImageType::Gif, Purpose::PostImage), Err(Rejected::Corrupt(_))));
    }

    #[test]
    fn opaque_webp_becomes_jpeg_and_transparent_webp_becomes_png() {
        let out = process(&webp(120, 90, false), ImageType::WebP, Purpose::PostImage);
        assert_eq!((out.image_type, out.width, out.height), (ImageType::Jpeg, 120, 90));
        decoded(&out);
        let out = process(&webp(120, 90, true), ImageType::WebP, Purpose::PostImage);
        assert_eq!((out.image_type, out.width, out.height), (ImageType::Png, 120, 90));
        assert!(decoded(&out).color().has_alpha());
    }

    #[test]
    fn truncated_jpeg_is_rejected() {
        let input = jpeg(400, 300);
        for cut in [input.len() / 2, input.len() - 2, 700, 3] {
            let result = process_upload(&input[..cut], ImageType::Jpeg, Purpose::PostImage);
            assert!(matches!(result, Err(Rejected::Corrupt(_))), "cut at {cut}: {result:?}");
        }
    }

    #[test]
    fn truncated_png_is_rejected() {
        let input = png(400, 300, false);
        for cut in [input.len() / 2, 40, 9] {
            let result = process_upload(&input[..cut], ImageType::Png, Purpose::PostImage);
            assert!(matches!(result, Err(Rejected::Corrupt(_))), "cut at {cut}: {result:?}");
        }
    }

    #[test]
    fn random_bytes_are_rejected() {
        let mut rng = Lcg(42);
        for len in [0, 1, 7, 100, 5000] {
            let bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
            for t in [ImageType::Jpeg, ImageType::Png, ImageType::Gif, ImageType::WebP] {
                // Refused as a fault of the file: neither accepted nor blamed on our encoder.
                let result = process_upload(&bytes, t, Purpose::PostImage);
                assert!(
                    matches!(result, Err(ref r) if !matches!(r, Rejected::Encode(_))),
                    "{len} bytes as {t:?}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn random_bytes_behind_a_valid_signature_are_rejected() {
        let mut rng = Lcg(7);
        let headers: [(&[u8], ImageType); 4] = [
            (b"\xFF\xD8\xFF\xE0", ImageType::Jpeg),
            (b"\x89PNG\r\n\x1a\n", ImageType::Png),
            (b"GIF89a", ImageType::Gif),
            (b"RIFF\x10\0\0\0WEBPVP8 ", ImageType::WebP),
        ];
        for (header, t) in headers {
            for _ in 0..50 {
                let mut bytes = header.to_vec();
                bytes.extend((0..300).map(|_| rng.byte()));
                let result = process_upload(&bytes, t, Purpose::PostImage);
                // The signature matches what is declared: what refuses it is the content, never our encoder.
                assert!(
                    matches!(result, Err(ref r) if !matches!(r, Rejected::Encode(_) | Rejected::TypeMismatch { .. })),
                    "{t:?}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn a_corrupted_jpeg_is_refused_as_an_image_fault_or_comes_out_whole() {
        let input = jpeg(200, 150);
        let mut rng = Lcg(3);
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..200 {
            let mut bytes = input.clone();
            for _ in 0..8 {
                let i = rng.below(bytes.len());
                bytes[i] = rng.byte();
            }
            match process_upload(&bytes, ImageType::Jpeg, Purpose::Avatar) {
                // What comes out is a whole avatar: a square JPEG that decodes to the size it reports.
                Ok(p) => {
                    accepted += 1;
                    assert_eq!(p.image_type, ImageType::Jpeg);
                    assert_eq!(p.width, p.height, "an avatar is square");
                    let decoded = image::load_from_memory(&p.bytes).expect("the output decodes");
                    assert_eq!((decoded.width(), decoded.height()), (p.width, p.height));
                }
                // A refusal names a fault of the file, never of our encoder.
                Err(Rejected::Encode(e)) => panic!("a corrupted input made the encoder fail: {e}"),
                Err(_) => refused += 1,
            }
        }
        assert!(
            accepted > 0 && refused > 0,
            "{accepted} accepted, {refused} refused: the corruptions should give both"
        );
    }

    #[test]
    fn oversized_dimensions_are_refused_from_the_header() {
        // A PNG header claiming 30000×10 pixels, with no pixel data at all.
        let header = png_header(30_000, 10);
        assert_eq!(
            process_upload(&header, ImageType::Png, Purpose::PostImage),
            Err(Rejected::TooLarge { width: 30_000, height: 10 })
        );
        assert_eq!(
            process_upload(&png_header(20_000, 20_000), ImageType::Png, Purpose::PostImage),
            Err(Rejected::TooLarge { width: 20_000, height: 20_000 })
        );
        // 8000×8000 = 64 MP: each side is fine, the total is not.
        assert_eq!(
            process_upload(&png_header(8000, 8000), ImageType::Png, Purpose::PostImage),
            Err(Rejected::TooLarge { width: 8000, height: 8000 })
        );
    }

    #[test]
    fn fit_within_rounds_and_never_collapses() {
        assert_eq!(fit_within(4000, 3000, 2000), (2000, 1500));
        assert_eq!(fit_within(3000, 4000, 2000), (1500, 2000));
        assert_eq!(fit_within(20000, 1, 2000), (2000, 1));
        assert_eq!(fit_within(2000, 2000, 2000), (2000, 2000));
        assert_eq!(fit_within(1, 1, 2000), (1, 1));
    }
}
