//! Pure image work for the quiz platform's background jobs.
//!
//! Two Lambda functions need to touch pixels: the one that sanitises user
//! uploads (avatars, images in posts, screenshots attached to feedback) and the
//! one that renders the Open Graph card shown when a quiz link is shared. Both
//! live here, free of AWS, async and I/O, so that they can be unit-tested and
//! benchmarked on their own and the Lambda handlers stay thin:
//!
//! * [`process::process_upload`] checks that uploaded bytes really are the
//!   image type the client declared, refuses decompression bombs before
//!   allocating, applies EXIF orientation, strips all metadata (GPS positions in
//!   phone photos are the main concern), bounds the size and re-encodes.
//! * [`og::render_og_image`] draws a 1200×630 card with the quiz title, its
//!   category and the site name, using a font embedded in the binary.
//!
//! Nothing here panics on bad input: every failure is a typed error.

pub mod code_image;
pub mod image_type;
pub mod og;
pub mod process;

mod gif_check;
mod jpeg_check;
mod limits;
mod text;

/// Sample images (photos with EXIF, transparent PNGs, animated GIFs) for this crate's tests and, with the
/// `test-support` feature, for the integration tests of the jobs that use it.
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use code_image::{CodeImage, CodeImageError, render_code_image};
pub use image_type::ImageType;
pub use og::{OgError, render_og_image};
pub use process::{Processed, Purpose, Rejected, process_upload};
