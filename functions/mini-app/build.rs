//! Lists every file of `webapp/` as an `include_bytes!` entry of `shared::mini_app::Asset`, so the web app is part
//! of this binary and editing it rebuilds only this crate.
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("../../webapp").canonicalize().expect("webapp/ is beside functions/");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut out = String::from("pub static ASSETS: &[shared::mini_app::Asset] = &[\n");
    for file in &files {
        let path =
            file.strip_prefix(&root).expect("under webapp/").to_str().expect("a UTF-8 file name").replace('\\', "/");
        writeln!(
            out,
            "    shared::mini_app::Asset {{ path: {path:?}, body: include_bytes!({:?}) }},",
            file.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

/// Every file under `dir`, skipping hidden ones (editor and OS files).
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("webapp/ is readable") {
        let path = entry.expect("a readable directory entry").path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
