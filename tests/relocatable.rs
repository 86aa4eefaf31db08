//! The relocatable build's launcher (scripts/fer-launcher.sh, filled in by
//! scripts/build-relocatable.sh): where it looks for LibTorch, in which order, and what it
//! says when none is usable. Fake LibTorch folders and a stand-in for fer-bin that prints
//! what it was given; no LibTorch needed.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BUILT: &str = "2.11.0";

/// A bundle (launcher + stand-in fer-bin) and room for fake LibTorch folders.
struct Bundle {
    root: tempfile::TempDir,
}

impl Bundle {
    /// The launcher as build-relocatable.sh writes it, with `baked` as the build's LibTorch.
    fn new(baked: &str) -> Bundle {
        let root = tempfile::tempdir().unwrap();
        let template = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fer-launcher.sh"),
        )
        .unwrap();
        let baked = baked.replace("ROOT", &root.path().display().to_string());
        let launcher = template
            .replace("@FER_TORCH_VERSION@", BUILT)
            .replace("@FER_BAKED_LIBTORCH@", &baked);
        let bundle = Bundle { root };
        fs::create_dir_all(bundle.path("dist")).unwrap();
        bundle.executable("dist/fer", &launcher);
        // fer-bin's stand-in: the first LD_LIBRARY_PATH entry, then each argument.
        bundle.executable(
            "dist/fer-bin",
            "#!/bin/sh\necho \"lib=${LD_LIBRARY_PATH}\"\nfor a in \"$@\"; do echo \"arg=$a\"; done\n",
        );
        bundle
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    fn executable(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A pip-style `torch/lib` under `relative` with its version.py; returns the lib folder.
    fn torch(&self, relative: &str, version: &str) -> String {
        let lib = self.path(relative).join("torch/lib");
        fs::create_dir_all(&lib).unwrap();
        for name in ["libtorch_cpu.so", "libtorch.so", "libc10.so"] {
            fs::write(lib.join(name), "").unwrap();
        }
        fs::write(
            lib.join("../version.py"),
            format!("from typing import Optional\n__version__ = '{version}'\ndebug = False\n"),
        )
        .unwrap();
        lib.display().to_string()
    }

    /// A `python3` first on PATH whose torch is at `lib` (or that has no torch).
    fn python(&self, lib: Option<&str>) {
        fs::create_dir_all(self.path("bin")).unwrap();
        let body = lib.map(|l| format!("echo '{l}'")).unwrap_or_default();
        self.executable("bin/python3", &format!("#!/bin/sh\n{body}\n"));
    }

    fn run(&self, launcher: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
        let path = format!("{}:/usr/bin:/bin", self.path("bin").display());
        let mut command = Command::new(self.path(launcher));
        command.env_clear().env("PATH", path).args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The folder fer-bin was started with, asserting the launcher succeeded.
fn chosen(output: &Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    stdout(output)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("lib="))
        .unwrap()
        .to_owned()
}

#[test]
fn fer_libtorch_comes_first_then_the_build_then_python3() {
    let bundle = Bundle::new("ROOT/baked/torch/lib");
    let env_lib = bundle.torch("env", "2.11.0");
    let baked = bundle.torch("baked", "2.11.0+cu130");
    let python = bundle.torch("site-packages", "2.11.0");
    bundle.python(Some(&python));

    let all = bundle.run("dist/fer", &[("FER_LIBTORCH", &env_lib)], &[]);
    assert_eq!(chosen(&all), env_lib);
    assert_eq!(stderr(&all), "", "no warning when FER_LIBTORCH is used");
    assert_eq!(chosen(&bundle.run("dist/fer", &[], &[])), baked);

    fs::remove_dir_all(bundle.path("baked")).unwrap();
    assert_eq!(chosen(&bundle.run("dist/fer", &[], &[])), python);
}

#[test]
fn arguments_pass_through_and_ld_library_path_is_kept_behind() {
    let bundle = Bundle::new("ROOT/baked/torch/lib");
    let baked = bundle.torch("baked", "2.11.0");
    let output = bundle.run(
        "dist/fer",
        &[("LD_LIBRARY_PATH", "/opt/other")],
        &["train", "--name", "two words", ""],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("lib={baked}:/opt/other\narg=train\narg=--name\narg=two words\narg=\n")
    );
}

#[test]
fn an_unusable_fer_libtorch_is_skipped_with_a_warning() {
    let bundle = Bundle::new("ROOT/baked/torch/lib");
    let baked = bundle.torch("baked", "2.11.0");
    let empty = bundle.path("empty");
    fs::create_dir_all(&empty).unwrap();
    let output = bundle.run(
        "dist/fer",
        &[("FER_LIBTORCH", empty.to_str().unwrap())],
        &[],
    );
    assert_eq!(chosen(&output), baked);
    assert_eq!(
        stderr(&output),
        format!(
            "fer: warning: not using FER_LIBTORCH: {} (no libtorch_cpu.so there); using {baked}\n",
            empty.display()
        )
    );
}

#[test]
fn another_torch_version_is_skipped() {
    let bundle = Bundle::new("ROOT/baked/torch/lib");
    bundle.torch("baked", "2.9.0");
    let python = bundle.torch("site-packages", "2.11.0+cu128");
    bundle.python(Some(&python));
    assert_eq!(chosen(&bundle.run("dist/fer", &[], &[])), python);
}

#[test]
fn a_standalone_libtorch_archive_is_read_by_its_build_version() {
    let bundle = Bundle::new("ROOT/none");
    bundle.python(None);
    let lib = bundle.path("libtorch/lib");
    fs::create_dir_all(&lib).unwrap();
    for name in ["libtorch_cpu.so", "libtorch.so", "libc10.so"] {
        fs::write(lib.join(name), "").unwrap();
    }
    let lib = lib.display().to_string();
    fs::write(bundle.path("libtorch/build-version"), "2.9.0+cpu\n").unwrap();
    let output = bundle.run("dist/fer", &[("FER_LIBTORCH", &lib)], &[]);
    assert_eq!(output.status.code(), Some(127));
    assert!(
        stderr(&output).contains(&format!(
            "FER_LIBTORCH: {lib} (torch 2.9.0; this fer needs 2.11.0)"
        )),
        "{}",
        stderr(&output)
    );

    fs::write(bundle.path("libtorch/build-version"), "2.11.0+cu130\n").unwrap();
    assert_eq!(
        chosen(&bundle.run("dist/fer", &[("FER_LIBTORCH", &lib)], &[])),
        lib
    );
}

#[test]
fn without_a_usable_libtorch_the_error_names_every_place_and_the_fixes() {
    let bundle = Bundle::new("ROOT/baked/torch/lib");
    bundle.torch("baked", "2.9.0");
    bundle.python(None);
    let output = bundle.run("dist/fer", &[], &["train"]);
    assert_eq!(output.status.code(), Some(127));
    assert_eq!(stdout(&output), "", "fer-bin must not start");
    let python3 = bundle.path("bin/python3");
    let baked = bundle.path("baked/torch/lib");
    assert_eq!(
        stderr(&output),
        format!(
            "fer: no usable LibTorch 2.11.0 found. Tried:\n  \
             FER_LIBTORCH: not set\n  \
             the build's LibTorch: {} (torch 2.9.0; this fer needs 2.11.0)\n  \
             python3 ({}): no torch module\n\
             Fix: pip install torch==2.11.0 (into the python3 on PATH), or point FER_LIBTORCH at\n\
             the torch/lib folder of torch 2.11.0, or rebuild fer against this machine's torch\n\
             (TORCH=<version> scripts/build-relocatable.sh).\n",
            baked.display(),
            python3.display()
        )
    );
}

#[test]
fn a_folder_missing_one_library_is_not_usable() {
    let bundle = Bundle::new("ROOT/baked/torch/lib");
    let baked = bundle.torch("baked", "2.11.0");
    fs::remove_file(Path::new(&baked).join("libc10.so")).unwrap();
    bundle.python(None);
    let output = bundle.run("dist/fer", &[], &[]);
    assert_eq!(output.status.code(), Some(127));
    assert!(
        stderr(&output).contains(&format!(
            "the build's LibTorch: {baked} (no libc10.so there)"
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_symlink_to_the_launcher_finds_fer_bin_beside_the_real_file() {
    let bundle = Bundle::new("ROOT/baked/torch/lib");
    let baked = bundle.torch("baked", "2.11.0");
    fs::create_dir_all(bundle.path("bin")).unwrap();
    symlink("../dist/fer", bundle.path("bin/fer")).unwrap();
    assert_eq!(chosen(&bundle.run("bin/fer", &[], &[])), baked);

    fs::remove_file(bundle.path("dist/fer-bin")).unwrap();
    let output = bundle.run("bin/fer", &[], &[]);
    assert_eq!(output.status.code(), Some(127));
    assert!(
        stderr(&output).contains("fer-bin is missing: keep fer and fer-bin side by side"),
        "{}",
        stderr(&output)
    );
}
