//! Remote targets against a fake `ssh` on PATH that runs the command locally, each
//! connection cut after a second so reconnection is exercised.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use fer::run::{EVENTS_FILE, RUN_INFO_FILE};
use fer_tui::runs::find_runs;
use fer_tui::source::RunSource;
use fer_tui::state::Status;
use fer_tui::target::Target;

/// Installs the fake ssh and points PATH at it (this test binary has one test, so the
/// environment change affects nothing else). It logs its arguments to `ssh.log`.
fn install_fake_ssh(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
printf '%s\n' "$*" >> {log}
while [ "$1" != "--" ]; do shift; done; shift
exec timeout 1 sh -c "$1"
"#,
        log = dir.join("ssh.log").display()
    );
    let path = bin.join("ssh");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let old = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{}:{old}", bin.display()));
}

fn append(path: &Path, records: &[fer::run::events::Record]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for r in records {
        writeln!(file, "{}", serde_json::to_string(r).unwrap()).unwrap();
    }
}

fn poll_until(source: &mut RunSource, want: usize, got: &mut Vec<fer::run::events::Record>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while got.len() < want && Instant::now() < deadline {
        got.extend(source.poll().records);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn streams_over_ssh_reconnects_from_the_byte_reached_and_lists_runs() {
    let dir = tempfile::tempdir().unwrap();
    install_fake_ssh(dir.path());
    let run = dir.path().join("runs/nsl-run");
    std::fs::create_dir_all(&run).unwrap();
    let info = serde_json::json!({
        "name": "nsl-run", "config": {}, "classes": CLASSES, "backend": "flex", "device": "cpu",
        "host": "gpu-box", "pid": 1, "start_time": 1.0, "updated_time": 1.0, "status": "running"
    });
    std::fs::write(run.join(RUN_INFO_FILE), info.to_string()).unwrap();
    let log = run.join(EVENTS_FILE);
    let mut all = vec![record(1.0, start(None))];
    all.extend(epochs(1, 2, 1.0));
    append(&log, &all[..12]);
    // A torn line: the writer is mid-way through the 13th event.
    let torn = serde_json::to_string(&all[12]).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&torn.as_bytes()[..30])
        .unwrap();

    let target = Target::parse(&format!("gpu-box:{}", run.display()));
    let mut source = RunSource::new(target);
    let mut got = Vec::new();
    poll_until(&mut source, 12, &mut got);
    assert_eq!(got.len(), 12);

    // Let the first connection drop, finish the torn line and add the rest.
    std::thread::sleep(Duration::from_millis(1500));
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(&torn.as_bytes()[30..]).unwrap();
    file.write_all(b"\n").unwrap();
    append(&log, &all[13..]);
    poll_until(&mut source, all.len(), &mut got);
    assert_eq!(got, all, "every event once, in order, across reconnects");
    assert!(source.connections() >= 2, "reconnected");
    assert_eq!(source.skipped_lines(), (0, 0));
    // run.json comes in the same login as the events: one per attach plus one per
    // reconnect, and the box's report of it arrives.
    let calls = std::fs::read_to_string(dir.path().join("ssh.log")).unwrap();
    // (Every ssh call so far is this run's; a logged command spans several lines.)
    let logins = calls.matches("-o BatchMode=yes").count();
    assert_eq!(logins, source.connections(), "{calls}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let reported = loop {
        if let Some(info) = source.poll().info {
            break info;
        }
        assert!(Instant::now() < deadline, "no run.json over the stream");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(reported.name, "nsl-run");

    assert!(calls.contains("-o BatchMode=yes"), "{calls}");
    assert!(
        calls.contains("gpu-box -- ( f=") && calls.contains("@@fer-info-begin"),
        "run.json is reported beside the events: {calls}"
    );
    assert!(
        calls.contains("LC_ALL=C awk -v len="),
        "the first connection samples the backlog on the box: {calls}"
    );
    assert!(
        calls
            .lines()
            .any(|l| l.contains("tail -c +") && !l.contains("tail -c +1 -f")),
        "later ones resume: {calls}"
    );

    let found = find_runs(&Target::parse(&format!(
        "gpu-box:{}",
        dir.path().join("runs").display()
    )))
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].view.name, "nsl-run");
    assert_eq!(found[0].view.epoch, 2);
    assert!(found[0].target.display().ends_with("runs/nsl-run"));

    // A run whose process died on the box shows stale; one whose process lives, running.
    // The fake ssh runs on this machine, so the box's name is this machine's name, as fer
    // writes it into run.json.
    let box_name = fer::run::hostname();
    for (name, pid) in [
        ("crashed", 999_999_999u64),
        ("alive", u64::from(std::process::id())),
    ] {
        let run = dir.path().join("runs").join(name);
        std::fs::create_dir_all(&run).unwrap();
        let info = serde_json::json!({
            "name": name, "config": {}, "classes": CLASSES, "backend": "flex",
            "device": "cpu", "host": box_name, "pid": pid, "start_time": 2.0,
            "updated_time": 2.0, "status": "running"
        });
        let pretty = serde_json::to_string_pretty(&info).unwrap();
        std::fs::write(run.join(RUN_INFO_FILE), pretty).unwrap();
    }
    let found = find_runs(&Target::parse(&format!(
        "gpu-box:{}",
        dir.path().join("runs").display()
    )))
    .unwrap();
    let status = |name: &str| {
        found
            .iter()
            .find(|f| f.view.name == name)
            .map(|f| f.view.status)
    };
    assert_eq!(status("crashed"), Some(Status::Stale));
    assert_eq!(status("alive"), Some(Status::Running));
    let mut source = RunSource::new(Target::parse(&format!(
        "gpu-box:{}",
        dir.path().join("runs/crashed").display()
    )));
    let deadline = Instant::now() + Duration::from_secs(10);
    let stale = loop {
        let update = source.poll();
        if update.info.is_some() {
            break update.process_alive;
        }
        assert!(Instant::now() < deadline, "no run.json over ssh");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        stale,
        Some(false),
        "the attached view learns the process is gone"
    );

    // A finished run's run.json cannot change: only the first login reads it.
    let done = dir.path().join("runs/done");
    std::fs::create_dir_all(&done).unwrap();
    let info = serde_json::json!({
        "name": "done", "config": {}, "classes": CLASSES, "backend": "flex",
        "device": "cpu", "host": box_name, "pid": 1, "start_time": 3.0,
        "updated_time": 3.0, "status": "finished"
    });
    std::fs::write(done.join(RUN_INFO_FILE), info.to_string()).unwrap();
    let logged_before = std::fs::read_to_string(dir.path().join("ssh.log"))
        .unwrap()
        .len();
    let mut source = RunSource::new(Target::parse(&format!("gpu-box:{}", done.display())));
    let until = Instant::now() + Duration::from_millis(4500);
    while Instant::now() < until {
        source.poll();
        std::thread::sleep(Duration::from_millis(50));
    }
    let calls = std::fs::read_to_string(dir.path().join("ssh.log")).unwrap();
    let calls = &calls[logged_before..];
    let logins = calls.matches("-o BatchMode=yes").count();
    assert_eq!(logins, source.connections(), "{calls}");
    assert!(logins >= 2, "the fake ssh cuts each login after a second");
    assert_eq!(calls.matches("done/run.json").count(), 1, "{calls}");

    // A long log is sampled on the box: every epoch end, a few thousand steps, then the
    // stream follows on from the byte reached.
    let long = dir.path().join("runs/long");
    std::fs::create_dir_all(&long).unwrap();
    let mut log = vec![record(1.0, start(None))];
    log.extend(epochs(1, 1500, 1.0));
    append(&long.join(EVENTS_FILE), &log);
    let size = std::fs::metadata(long.join(EVENTS_FILE)).unwrap().len();
    assert!(size > 5 << 20, "{size} bytes: long enough to be sampled");
    let mut source = RunSource::new(Target::parse(&format!("gpu-box:{}", long.display())));
    let ends = |records: &[fer::run::events::Record]| {
        records
            .iter()
            .filter(|r| matches!(r.event, fer::run::events::Event::EpochEnd { .. }))
            .count()
    };
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ends(&got) < 1500 {
        got.extend(source.poll().records);
        assert!(Instant::now() < deadline, "{} epoch ends", ends(&got));
        std::thread::sleep(Duration::from_millis(20));
    }
    let steps = got.len() - ends(&got) - 1;
    assert!(
        (4000..8000).contains(&steps),
        "{steps} of 15000 steps kept: about 4000 sampled plus the last MiB whole"
    );
    assert!(
        got.windows(2).all(|w| w[0].time <= w[1].time),
        "in file order"
    );
    let next = epochs(1501, 1501, 1.0);
    append(&long.join(EVENTS_FILE), &next);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ends(&got) < 1501 {
        got.extend(source.poll().records);
        assert!(
            Instant::now() < deadline,
            "the stream follows after the sample"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // `~` is the remote home, as with scp (the fake ssh's shell expands it from HOME).
    std::env::set_var("HOME", dir.path());
    let found = find_runs(&Target::parse("gpu-box:~/runs")).unwrap();
    assert_eq!(found.len(), 4, "runs under ~/runs (long has no run.json)");
    assert!(found
        .iter()
        .any(|f| f.target.display() == "gpu-box:~/runs/nsl-run"));
}
