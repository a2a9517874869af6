//! Embeds every shipped `providers/*.toml` into the binary: writes `$OUT_DIR/builtin_providers.rs`,
//! a sorted table of `(name, include_str!(file))`, so that a file added to `providers/` is built in
//! without a code change. (The `include_dir` crate cannot tell cargo to rebuild when a file is added
//! on stable Rust; a build script watching the directory can.)

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read when the script runs, not baked in when it was compiled: a build script copied with
    // a target directory into another checkout must read that checkout's providers.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("providers");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read providers/")
        .map(|entry| entry.expect("read providers/").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut table = String::from("&[\n");
    for path in files {
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .expect("provider file names are UTF-8");
        writeln!(
            table,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to a String");
    }
    table.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_providers.rs");
    std::fs::write(out, table).expect("write builtin_providers.rs");
}
