//! Embeds the files `build.sh` wrote to `dist/`, as its `manifest.json` lists them.

use std::fmt::Write;
use std::path::Path;

#[derive(serde::Deserialize)]
struct Entry {
    /// Where it is served.
    path: String,
    /// Relative to `dist/`.
    file: String,
    content_type: String,
    /// Hashed name: cached for a year.
    immutable: bool,
}

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    println!("cargo::rerun-if-changed={}", dist.display());
    let manifest = dist.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the web page first: layers/web/build.sh (npm ci, then esbuild)",
            manifest.display()
        )
    });
    let entries: Vec<Entry> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let mut out = String::from("pub static ASSETS: &[Asset] = &[\n");
    for e in &entries {
        let file = dist.join(&e.file);
        assert!(
            file.is_file() && !e.file.contains(".."),
            "{}: {} is not a file of dist/",
            manifest.display(),
            e.file
        );
        writeln!(
            out,
            "    Asset {{ path: {:?}, content_type: {:?}, immutable: {}, bytes: include_bytes!({:?}) }},",
            e.path,
            e.content_type,
            e.immutable,
            file.display().to_string()
        )
        .expect("write to a string");
    }
    out.push_str("];\n");
    let generated = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("assets.rs");
    std::fs::write(generated, out).expect("write assets.rs");
}
