//! Embed an rpath to libtorch so `ertag` runs without LD_LIBRARY_PATH.
//!
//! torch-sys only adds the rpath to its own C++ shim; it exports the library directory to
//! crates that depend on it directly as `DEP_TCH_LIBTORCH_LIB` (it declares `links = "tch"`).
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
