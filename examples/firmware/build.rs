//! Picks the linker memory map of the target's board: `memory/<target>.x` becomes the
//! `memory.x` that cortex-m-rt's `link.x` includes.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let source = PathBuf::from("memory").join(format!("{target}.x"));
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-changed=build.rs");
    if !target.starts_with("thumb") {
        return;
    }
    let map = fs::read(&source).unwrap_or_else(|e| {
        panic!(
            "no memory map {} for target {target}: {e}",
            source.display()
        )
    });
    fs::write(out.join("memory.x"), map).unwrap_or_else(|e| panic!("writing memory.x: {e}"));
    println!("cargo:rustc-link-search={}", out.display());
}
