//! Writes a JPEG photo with EXIF (orientation 1) to stdout, `WIDTH` × `HEIGHT` (default 4000 × 3000: 12
//! megapixels): what `infra/bench deploy` uploads to measure the upload job's peak memory.
//! Run: `cargo run --profile local -p integration-tests --example photo [WIDTH HEIGHT] > photo.jpg`

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u32>());
    let width = args.next().transpose()?.unwrap_or(4000);
    let height = args.next().transpose()?.unwrap_or(3000);
    let photo = media::test_support::with_exif(&media::test_support::jpeg(width, height), 1);
    std::io::stdout().write_all(&photo)?;
    Ok(())
}
