//! Finding runs under a target and summarizing them (`fer-tui list`, picking a run to attach).

use std::process::{Command, Stdio};

use fer::run::events::EventReader;
use fer::run::{EVENTS_FILE, RUN_INFO_FILE};

use crate::source::{parse_info, RemoteInfo, RunSource, HOST_AND_ALIVE};
use crate::state::RunView;
use crate::target::{remote_path, ssh_args, Target};

/// A run found under a target, with what its files say.
pub struct Found {
    pub target: Target,
    pub view: RunView,
    /// What was wrong with the run's files, when something was.
    pub notes: Vec<String>,
}

/// The remote script: for the run at PATH, or each run in the folder PATH, a marker line,
/// `run.json`, another marker and the log without its step lines.
fn remote_script(path: &str) -> String {
    format!(
        r#"cd {path} || exit 3
if [ -f {info} ]; then set -- .; else set -- */; fi
for d in "$@"; do d=${{d%/}}; [ -f "$d/{info}" ] || continue
printf '\n@@fer-run %s\n' "$d"; f="$d/{info}"; cat "$f"
{alive}
printf '@@fer-events\n'
grep -v '"kind":"step"' "$d/{events}" 2>/dev/null; done"#,
        path = remote_path(path),
        info = RUN_INFO_FILE,
        events = EVENTS_FILE,
        alive = HOST_AND_ALIVE,
    )
}

/// The note for log lines a reader skipped, if it skipped any.
fn skipped_note(garbage: usize, unknown: usize) -> Option<String> {
    (garbage + unknown > 0)
        .then(|| format!("{EVENTS_FILE}: skipped {garbage} unreadable and {unknown} unknown lines"))
}

/// Runs at `target`: the target itself when it is a run directory, else its subfolders that
/// hold a `run.json`. Sorted by start time, oldest first.
pub fn find_runs(target: &Target) -> anyhow::Result<Vec<Found>> {
    let mut found = match target {
        Target::Local(path) => {
            let dirs = if path.join(RUN_INFO_FILE).is_file() || path.join(EVENTS_FILE).is_file() {
                vec![path.clone()]
            } else {
                let entries = std::fs::read_dir(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let mut dirs: Vec<_> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.join(RUN_INFO_FILE).is_file())
                    .collect();
                dirs.sort();
                dirs
            };
            dirs.into_iter()
                .map(|dir| {
                    let name = dir
                        .file_name()
                        .map_or("run".into(), |n| n.to_string_lossy().into_owned());
                    let target = Target::Local(dir);
                    let mut source = RunSource::new(target.clone());
                    let mut view = RunView::new(&name);
                    let update = source.poll();
                    update.records.iter().for_each(|r| view.apply(r));
                    if let Some(info) = &update.info {
                        view.apply_info(info, update.process_alive);
                    }
                    let (garbage, unknown) = source.skipped_lines();
                    let notes = update
                        .problem
                        .into_iter()
                        .chain(skipped_note(garbage, unknown))
                        .collect();
                    Found {
                        target,
                        view,
                        notes,
                    }
                })
                .collect()
        }
        Target::Remote { host, path } => {
            let output = Command::new("ssh")
                .args(ssh_args(host, &remote_script(path)))
                .stdin(Stdio::null())
                .output()
                .map_err(|e| anyhow::anyhow!("cannot run ssh: {e}"))?;
            if !output.status.success() {
                anyhow::bail!(
                    "{host}:{path}: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
            }
            parse_remote(target, &String::from_utf8_lossy(&output.stdout))
        }
    };
    found.sort_by(|a, b| {
        a.view
            .started
            .unwrap_or(0.0)
            .total_cmp(&b.view.started.unwrap_or(0.0))
    });
    Ok(found)
}

/// Splits the remote script's output into runs.
fn parse_remote(target: &Target, text: &str) -> Vec<Found> {
    text.split("\n@@fer-run ")
        .skip(1)
        .filter_map(|section| {
            let (dir, rest) = section.split_once('\n')?;
            let (info, events) = rest.split_once("\n@@fer-events\n").unwrap_or((rest, ""));
            let RemoteInfo { info, alive } = parse_info(info).ok()?;
            let target = if dir == "." {
                target.clone()
            } else {
                target.join(dir)
            };
            let mut view = RunView::new(&info.name);
            let mut reader = EventReader::new("");
            let mut body = events.to_string();
            if !body.ends_with('\n') {
                body.push('\n');
            }
            reader
                .feed(body.as_bytes())
                .iter()
                .for_each(|r| view.apply(r));
            view.apply_info(&info, alive);
            let notes = skipped_note(reader.garbage_lines, reader.unknown_lines)
                .into_iter()
                .collect();
            Some(Found {
                target,
                view,
                notes,
            })
        })
        .collect()
}

/// Scans a folder of runs again and again on a thread of its own (remote scans take an ssh
/// login), so runs started after attaching appear and the others' statuses stay current.
pub struct Rescan {
    results: std::sync::mpsc::Receiver<Vec<Found>>,
}

impl Rescan {
    /// Scans `root` every `every` until this is dropped.
    pub fn start(root: Target, every: std::time::Duration) -> Rescan {
        let (sender, results) = std::sync::mpsc::channel();
        std::thread::spawn(move || loop {
            std::thread::sleep(every);
            // A failed scan (a dropped link) is retried at the next interval.
            if let Ok(found) = find_runs(&root) {
                if sender.send(found).is_err() {
                    return;
                }
            }
        });
        Rescan { results }
    }

    /// The newest finished scan, if one finished since the last call.
    pub fn latest(&self) -> Option<Vec<Found>> {
        self.results.try_iter().last()
    }
}

/// The run to attach to first: the newest live one, else the newest.
pub fn pick(runs: &[Found]) -> usize {
    runs.iter()
        .rposition(|r| r.view.status.is_live())
        .unwrap_or(runs.len().saturating_sub(1))
}

/// `fer-tui list`'s table.
pub fn table(runs: &[Found], now: f64) -> String {
    let mut out = format!(
        "{:<28} {:<13} {:>9} {:>9} {:>10}\n",
        "RUN", "STATUS", "EPOCH", "BEST VAL", "AGE"
    );
    for run in runs {
        let v = &run.view;
        let best = v.best.map_or("-".into(), |(_, a)| format!("{a:.4}"));
        let age = v
            .last_event
            .or(v.started)
            .map_or("-".into(), |t| human_age(now - t));
        out += &format!(
            "{:<28} {:<13} {:>9} {:>9} {:>10}\n",
            v.name,
            v.status.label(),
            format!("{}/{}", v.epoch, v.epochs),
            best,
            age
        );
        for note in &run.notes {
            out += &format!("  ! {note}\n");
        }
    }
    out
}

fn human_age(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 120.0 {
        format!("{s:.0}s ago")
    } else if s < 7200.0 {
        format!("{:.0}m ago", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.0}h ago", s / 3600.0)
    } else {
        format!("{:.0}d ago", s / 86_400.0)
    }
}
