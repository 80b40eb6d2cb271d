//! Benchmarks for the two Lambda jobs: sanitising a 12-megapixel phone photo
//! and rendering an OG card.
//!
//! Run with `cargo bench --bench process`. The `resize/*` group compares
//! `image`'s filters on the same photo (the choice of `RESIZE_FILTER`);
//! `stages/*` times decoding and encoding alone.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageEncoder, RgbImage};
use media::{ImageType, Purpose, process_upload, render_og_image};

/// A 4000×3000 photo-like image: smooth gradients plus per-pixel noise, so
/// the JPEG is of a realistic size (a flat image would be unrealistically
/// cheap to decode).
fn photo(width: u32, height: u32) -> RgbImage {
    let mut state: u32 = 0x9E37_79B9;
    RgbImage::from_fn(width, height, |x, y| {
        // xorshift32
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as f32;
        let fx = x as f32 / width as f32;
        let fy = y as f32 / height as f32;
        let wave = ((fx * 12.0).sin() * (fy * 9.0).cos() + 1.0) * 40.0;
        image::Rgb([
            (fx * 180.0 + noise).min(255.0) as u8,
            (fy * 160.0 + wave).min(255.0) as u8,
            ((1.0 - fx) * 120.0 + wave + noise).min(255.0) as u8,
        ])
    })
}

fn jpeg_12mp() -> Vec<u8> {
    let (width, height) = (4000, 3000);
    let mut bytes = Vec::new();
    let result = JpegEncoder::new_with_quality(&mut bytes, 90).write_image(
        photo(width, height).as_raw(),
        width,
        height,
        image::ExtendedColorType::Rgb8,
    );
    if let Err(e) = result {
        panic!("could not build the benchmark JPEG: {e}");
    }
    bytes
}

fn benches(c: &mut Criterion) {
    let jpeg = jpeg_12mp();
    eprintln!("input JPEG: 4000x3000, {} bytes", jpeg.len());
    if let Ok(out) = process_upload(&jpeg, ImageType::Jpeg, Purpose::PostImage) {
        eprintln!("output JPEG: {}x{}, {} bytes", out.width, out.height, out.bytes.len());
    }
    for (name, title) in [("short", "How closures capture their environment"), ("cyrillic", "Как работают замыкания")]
    {
        if let Ok(card) = render_og_image(title, "Rust", "Quizzy") {
            eprintln!("OG card ({name}): {} bytes", card.len());
        }
    }

    let mut group = c.benchmark_group("media");
    group.sample_size(20);
    group.bench_function("process_upload 12MP JPEG PostImage", |b| {
        b.iter(|| process_upload(black_box(&jpeg), ImageType::Jpeg, Purpose::PostImage))
    });
    group.bench_function("render_og_image", |b| {
        b.iter(|| {
            render_og_image(
                black_box("How closures capture their environment in Rust"),
                black_box("Programming"),
                black_box("Quizzy"),
            )
        })
    });
    // A typical task's code block: 12 lines of Python, highlighted, drawn and encoded as PNG.
    let code = "from functools import lru_cache\n\n@lru_cache(maxsize=None)\ndef fib(n: int) -> int:\n    \"\"\"The n-th Fibonacci number.\"\"\"\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\nvalues = [fib(i) for i in range(10)]\nprint(values[-1], len(values))  # what is printed?\n";
    let _ = media::render_code_image(code, "python"); // grammars and themes load once per process
    group.bench_function("render_code_image 12 lines Python", |b| {
        b.iter(|| media::render_code_image(black_box(code), black_box("python")))
    });
    group.finish();

    // The stages on their own; resampling 4000×3000 → 2000×1500 with each
    // candidate filter, to choose `RESIZE_FILTER`.
    let decoded = match image::load_from_memory(&jpeg) {
        Ok(image) => image,
        Err(e) => panic!("benchmark JPEG does not decode: {e}"),
    };
    let mut group = c.benchmark_group("resize");
    group.sample_size(10);
    for (name, filter) in
        [("Triangle", FilterType::Triangle), ("CatmullRom", FilterType::CatmullRom), ("Lanczos3", FilterType::Lanczos3)]
    {
        group.bench_function(name, |b| b.iter(|| decoded.resize_exact(2000, 1500, black_box(filter))));
    }
    group.finish();

    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    group.bench_function("decode 12MP JPEG", |b| b.iter(|| image::load_from_memory(black_box(&jpeg))));
    let small = decoded.resize_exact(2000, 1500, media::process::RESIZE_FILTER);
    group.bench_function("encode 2000x1500 JPEG q85", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            black_box(&small).write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        })
    });
    group.finish();
}

criterion_group!(process, benches);
criterion_main!(process);
