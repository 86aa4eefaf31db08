//! The `fer` binary end to end: real files in, real output and exit codes out.

use std::path::Path;
use std::process::{Command, Output};

fn fer(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fer"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("fer runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "fer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn synth_stats_and_convert_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = stdout(&fer(
        &[
            "data",
            "synth",
            "--n",
            "120",
            "--seed",
            "4",
            "--usage",
            "0.8,0.1,0.1",
            "--out",
            "s.csv",
        ],
        d,
    ));
    assert!(out.contains("wrote 120 synthetic faces"), "{out}");

    let stats = stdout(&fer(&["data", "stats", "s.csv"], d));
    assert!(stats.contains("s.csv: 120 faces"), "{stats}");
    for needle in [
        "happiness",
        "disgust",
        "Training",
        "PrivateTest",
        "median",
        "normalization",
    ] {
        assert!(stats.contains(needle), "missing {needle} in\n{stats}");
    }

    stdout(&fer(&["data", "convert", "s.csv", "tree"], d));
    assert!(d.join("tree/train").is_dir());
    stdout(&fer(&["data", "convert", "tree", "back.csv.gz"], d));
    let back = stdout(&fer(&["data", "stats", "back.csv.gz"], d));
    assert!(back.contains("back.csv.gz: 120 faces"), "{back}");
    // Same class table either way (the folder tree reorders rows, not counts).
    let table = |s: &str| s.lines().skip(1).take(10).collect::<Vec<_>>().join("\n");
    assert_eq!(table(&back), table(&stats));
}

#[test]
fn bad_input_prints_the_location_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.csv"), "emotion,pixels\n9,1 2 3\n").unwrap();
    let output = fer(&["data", "stats", "bad.csv"], d);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("bad.csv:2: column 'emotion': label 9 is outside 0-6"),
        "{err}"
    );

    let lenient = fer(&["data", "stats", "--lenient", "bad.csv"], d);
    let err = String::from_utf8_lossy(&lenient.stderr);
    assert!(!lenient.status.success(), "nothing left to describe");
    assert!(err.contains("label 9 is outside 0-6"), "{err}");

    let missing = fer(&["data", "stats", "nope.csv"], d);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.csv"));

    let usage = fer(
        &["data", "synth", "--usage", "0.8,0.2", "--out", "x.csv"],
        d,
    );
    assert!(!usage.status.success());
    assert!(String::from_utf8_lossy(&usage.stderr).contains("expected three fractions"));
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["data", "--help"],
        vec!["data", "stats", "--help"],
        vec!["data", "synth", "--help"],
        vec!["data", "convert", "--help"],
        vec!["bench", "load", "--help"],
    ] {
        let out = stdout(&fer(&args, dir.path()));
        assert!(out.contains("Usage: fer"), "{args:?}: {out}");
    }
}
