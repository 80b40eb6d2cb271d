//! Structural completeness check for JPEG files.
//!
//! The JPEG decoder used by `image` (zune-jpeg, in its lenient mode) decodes a
//! file whose scan data was cut off and fills the missing part with grey,
//! without an error. An upload interrupted half-way would then be stored as a
//! half-grey picture. This walks the marker structure and insists that it
//! reaches the end-of-image marker.

/// `Ok` when the marker stream, starting with SOI, reaches an EOI marker.
///
/// Segments with a length (APPn, DQT, SOF, SOS headers, …) are skipped by
/// their length, so an EXIF thumbnail's own EOI inside APP1 does not count.
/// In entropy-coded data every `0xFF` is followed by a stuffed `0x00` or a
/// restart marker, which are stepped over; any other byte is skipped, which
/// also tolerates stray bytes between segments, as common decoders do.
pub(crate) fn check_complete(bytes: &[u8]) -> Result<(), String> {
    const SOI: u8 = 0xD8;
    const EOI: u8 = 0xD9;
    if bytes.get(..2) != Some(&[0xFF, SOI][..]) {
        return Err("missing JPEG start-of-image marker".into());
    }
    let truncated = || "JPEG is truncated: no end-of-image marker".to_string();
    let mut i = 2;
    loop {
        // Find the next 0xFF, then skip fill bytes (repeated 0xFF).
        i += bytes.get(i..).ok_or_else(truncated)?.iter().position(|&b| b == 0xFF).ok_or_else(truncated)?;
        while bytes.get(i) == Some(&0xFF) {
            i += 1;
        }
        let marker = *bytes.get(i).ok_or_else(truncated)?;
        i += 1;
        match marker {
            EOI => return Ok(()),
            // Stuffed zero byte, TEM and restart markers carry no length.
            0x00 | 0x01 | 0xD0..=0xD7 => {}
            SOI => return Err("unexpected start-of-image marker".into()),
            _ => {
                let len = match bytes.get(i..i + 2) {
                    Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
                    _ => return Err(truncated()),
                };
                if len < 2 {
                    return Err(format!("invalid length {len} for JPEG marker {marker:#04x}"));
                }
                i += len;
                if i > bytes.len() {
                    return Err(truncated());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_complete;
    use crate::test_support::{jpeg, with_exif};

    #[test]
    fn complete_jpegs_pass() {
        assert_eq!(check_complete(&jpeg(64, 48)), Ok(()));
        assert_eq!(check_complete(&with_exif(&jpeg(64, 48), 6)), Ok(()));
        let mut trailing = jpeg(64, 48);
        trailing.extend_from_slice(b"trailing junk some phones append");
        assert_eq!(check_complete(&trailing), Ok(()));
    }

    #[test]
    fn every_truncation_fails() {
        let full = jpeg(32, 24);
        for cut in 0..full.len() {
            assert!(check_complete(&full[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn bad_segment_lengths_fail() {
        assert!(check_complete(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01]).is_err());
        assert!(check_complete(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF]).is_err());
        assert!(check_complete(&[0xFF, 0xD8, 0xFF, 0xD8]).is_err());
        assert_eq!(check_complete(&[0xFF, 0xD8, 0xFF, 0xD9]), Ok(()));
    }
}
