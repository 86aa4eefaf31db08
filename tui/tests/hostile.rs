//! Hostile and broken run folders, end to end through the `fer-tui` binary: each case writes
//! its files, runs a command, and checks it neither panics nor stays silent about what is
//! wrong.

use std::process::Command;

/// One case: files to write, the arguments, whether the command should succeed, and what
/// its output (stdout and stderr together) must say.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: Vec<&'static str>,
    succeeds: bool,
    expect: Vec<&'static str>,
}

fn list(name: &'static str, files: Vec<(&'static str, Vec<u8>)>, expect: &[&'static str]) -> Case {
    Case {
        name,
        files,
        args: vec!["list", "runs"],
        succeeds: true,
        expect: expect.to_vec(),
    }
}

fn info(name: &str, status: &str) -> Vec<u8> {
    serde_json::json!({
        "name": name, "config": {}, "classes": ["happiness", "sadness"], "backend": "flex",
        "device": "cpu", "host": "elsewhere", "pid": 1, "start_time": 1.0,
        "updated_time": 1.0, "status": status
    })
    .to_string()
    .into_bytes()
}

fn cases() -> Vec<Case> {
    vec![
        list(
            "run.json not JSON",
            vec![("runs/a/run.json", b"not json".to_vec())],
            &["runs/a/run.json: expected"],
        ),
        list(
            "run.json empty",
            vec![("runs/a/run.json", Vec::new())],
            &["runs/a/run.json: EOF while parsing"],
        ),
        list(
            "run.json missing fields",
            vec![("runs/a/run.json", br#"{"name": "a"}"#.to_vec())],
            &["runs/a/run.json: missing field"],
        ),
        list(
            "an unknown status",
            vec![("runs/a/run.json", info("a", "paused"))],
            &["runs/a/run.json: unknown variant `paused`"],
        ),
        list(
            "run.json a number",
            vec![("runs/a/run.json", b"42".to_vec())],
            &["runs/a/run.json: invalid type"],
        ),
        list(
            "a binary event log",
            vec![
                ("runs/a/run.json", info("a", "running")),
                (
                    "runs/a/events.jsonl",
                    vec![0, 159, 146, 150, b'\n', 1, 2, b'\n'],
                ),
            ],
            &["events.jsonl: skipped 2 unreadable and 0 unknown lines"],
        ),
        list(
            "events of a newer schema",
            vec![
                ("runs/a/run.json", info("a", "running")),
                (
                    "runs/a/events.jsonl",
                    b"{\"v\":99,\"time\":1.0,\"event\":\"warp_drive\"}\n".to_vec(),
                ),
            ],
            &["skipped 0 unreadable and 1 unknown lines"],
        ),
        list(
            "a half-written last line is not garbage",
            vec![
                ("runs/a/run.json", info("a", "finished")),
                (
                    "runs/a/events.jsonl",
                    b"{\"v\":1,\"time\":1.0,\"ev".to_vec(),
                ),
            ],
            &["finished"],
        ),
        list(
            "one event line of a megabyte",
            vec![
                ("runs/a/run.json", info("a", "failed")),
                (
                    "runs/a/events.jsonl",
                    [vec![b'x'; 1 << 20], vec![b'\n']].concat(),
                ),
            ],
            &["failed", "skipped 1 unreadable"],
        ),
        list(
            "a run.json that is a folder",
            vec![("runs/a/run.json/x", b"x".to_vec())],
            &["no runs in runs"],
        ),
        list(
            "an interrupted run",
            vec![("runs/a/run.json", info("a", "interrupted"))],
            &["interrupted"],
        ),
        list(
            "a running run whose process is gone elsewhere stays running",
            vec![("runs/a/run.json", info("a", "running"))],
            &["running"],
        ),
        Case {
            name: "a root that does not exist",
            files: vec![],
            args: vec!["list", "nothere"],
            succeeds: false,
            expect: vec!["nothere: No such file or directory"],
        },
        Case {
            name: "a root that is a file",
            files: vec![("runs", b"x".to_vec())],
            args: vec!["list", "runs"],
            succeeds: false,
            expect: vec!["runs: Not a directory"],
        },
        Case {
            name: "attach without a terminal",
            files: vec![("runs/a/run.json", info("a", "finished"))],
            args: vec!["attach", "runs"],
            succeeds: false,
            expect: vec!["stdout is not one"],
        },
        Case {
            name: "a host that would be an ssh option",
            files: vec![],
            args: vec!["list", "--", "-oProxyCommand=touch:x"],
            succeeds: false,
            expect: vec!["-oProxyCommand=touch:x: No such file or directory"],
        },
        Case {
            name: "an unknown command",
            files: vec![],
            args: vec!["watch"],
            succeeds: false,
            expect: vec!["unrecognized subcommand 'watch'"],
        },
    ]
}

#[test]
fn broken_runs_are_named_and_nothing_panics() {
    let mut failures = Vec::new();
    let cases = cases();
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        for (path, bytes) in &case.files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_fer-tui"))
            .args(&case.args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        if out.status.success() != case.succeeds {
            problems.push(format!("exit {:?}", out.status.code()));
        }
        if text.contains("panicked") {
            problems.push("panicked".into());
        }
        for want in &case.expect {
            if !text.contains(want) {
                problems.push(format!("no {want:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{text}", case.name, problems.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
