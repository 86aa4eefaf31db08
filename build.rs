//! With the `tch` feature:
//! - bake LibTorch's folder into the binaries' run path, so `fer` built against a
//!   pip-installed torch runs without `LD_LIBRARY_PATH`;
//! - compile the C++ shim for the LibTorch operators tch leaves out
//!   (src/kernels/libtorch_shim.cpp) against the same LibTorch's headers.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        #[cfg(feature = "tch")]
        compile_shim(std::path::Path::new(&dir));
    }
}

/// torch-sys passes on only the library folder; LibTorch's headers sit beside it, both in
/// pip's `torch/` and in the standalone `libtorch/` archive. The C++ ABI defaults to the new
/// one, as torch-sys's does (every torch wheel since 2.7).
#[cfg(feature = "tch")]
fn compile_shim(lib: &std::path::Path) {
    const SHIM: &str = "src/kernels/libtorch_shim.cpp";
    println!("cargo:rerun-if-changed={SHIM}");
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned());
    cc::Build::new()
        .cpp(true)
        .pic(true)
        // -isystem: LibTorch's headers warn under -Wextra; fer's own code still does not.
        .flag("-isystem")
        .flag(lib.join("../include").display().to_string())
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file(SHIM)
        .compile("fer_libtorch");
}
