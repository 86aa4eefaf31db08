//! Running the `fer` binary in a folder, for the end-to-end tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `fer args` in `dir`.
pub fn fer(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fer"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("fer runs")
}

/// The standard output of a run that must succeed.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "fer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
