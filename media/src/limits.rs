//! What every accepted image stays within, and why an upload is refused: shared by the pipeline
//! ([`crate::process`]) and the checks it runs before decoding ([`crate::gif_check`]).

use crate::image_type::ImageType;

/// Longest side accepted on input, in pixels.
pub const MAX_SIDE: u32 = 20_000;
/// Most pixels accepted on input (50 megapixels).
pub const MAX_PIXELS: u64 = 50_000_000;

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// The bytes do not start like any image format we recognise.
    #[error("the file is not an image")]
    NotAnImage,
    /// A recognised image format we do not accept (BMP, TIFF, …), or an
    /// accepted format using a feature the decoder does not support.
    #[error("unsupported image format: {0}")]
    Unsupported(String),
    /// The bytes are a different accepted type than the one declared.
    #[error("declared as {declared} but the file is {actual}")]
    TypeMismatch { declared: ImageType, actual: ImageType },
    /// Over the size limits; refused before the pixels were allocated.
    /// Width and height are 0 in the unlikely case that a decoder refused
    /// before reporting them.
    #[error("image of {width}x{height} pixels exceeds the size limits")]
    TooLarge { width: u32, height: u32 },
    /// The header was fine but the image data is truncated or corrupt.
    #[error("the image is corrupt or truncated: {0}")]
    Corrupt(String),
    /// Writing the result failed (not expected for valid pixel data).
    #[error("re-encoding the image failed: {0}")]
    Encode(String),
}
