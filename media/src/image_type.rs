//! The image types the platform accepts.
//!
//! Uploads arrive with a client-declared content type; this enum is the closed
//! set we accept, so that the rest of the code never has to deal with strings
//! or with formats we do not decode.

use std::fmt;

/// An accepted image type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageType {
    Jpeg,
    Png,
    Gif,
    WebP,
}

impl ImageType {
    /// Parses a MIME content type such as `image/jpeg`.
    ///
    /// Case-insensitive, ignores parameters (`image/png; charset=binary`) and
    /// accepts the common non-standard alias `image/jpg`. Returns `None` for
    /// anything else.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/gif" => Some(Self::Gif),
            "image/webp" => Some(Self::WebP),
            _ => None,
        }
    }

    /// The canonical MIME content type, e.g. `image/jpeg`.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
        }
    }

    /// The file extension without a dot, e.g. `jpg`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::WebP => "webp",
        }
    }

    /// Maps a format detected by the `image` crate onto the accepted set.
    pub(crate) fn from_format(format: image::ImageFormat) -> Option<Self> {
        match format {
            image::ImageFormat::Jpeg => Some(Self::Jpeg),
            image::ImageFormat::Png => Some(Self::Png),
            image::ImageFormat::Gif => Some(Self::Gif),
            image::ImageFormat::WebP => Some(Self::WebP),
            _ => None,
        }
    }

    pub(crate) fn format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::Gif => image::ImageFormat::Gif,
            Self::WebP => image::ImageFormat::WebP,
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.content_type())
    }
}

#[cfg(test)]
mod tests {
    use super::ImageType;

    #[test]
    fn content_type_round_trips() {
        for t in [ImageType::Jpeg, ImageType::Png, ImageType::Gif, ImageType::WebP] {
            assert_eq!(ImageType::from_content_type(t.content_type()), Some(t));
        }
    }

    #[test]
    fn content_type_parsing_is_lenient_but_closed() {
        assert_eq!(ImageType::from_content_type(" Image/JPG ; q=1"), Some(ImageType::Jpeg));
        assert_eq!(ImageType::from_content_type("image/svg+xml"), None);
        assert_eq!(ImageType::from_content_type(""), None);
        assert_eq!(ImageType::Jpeg.extension(), "jpg");
    }
}
