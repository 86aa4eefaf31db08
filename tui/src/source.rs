//! Reading a run's files as they grow: from this machine, or streamed over ssh.
//!
//! Nothing is ever written to the run directory; the training never knows it is watched.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fer::run::events::{EventReader, Record};
use fer::run::{hostname, RunInfo, RunStatus, EVENTS_FILE, RUN_INFO_FILE};

use crate::target::{
    follow_command, remote_path, sampled_follow_command, ssh_args, Target, SAMPLED_MARK,
};

/// How often `run.json` is read again (locally; on a box, the stream's loop reads it).
const INFO_EVERY: Duration = Duration::from_secs(2);
/// How long an ended stream waits for ssh's last words on stderr.
const LAST_WORDS_WAIT: Duration = Duration::from_millis(300);
/// Wait before reconnecting a dropped ssh stream.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

/// What one poll found.
#[derive(Debug, Default)]
pub struct Update {
    pub records: Vec<Record>,
    pub info: Option<RunInfo>,
    /// Whether the training process still runs, when that can be known from here.
    pub process_alive: Option<bool>,
    /// A problem worth showing (connection lost, unreadable file).
    pub problem: Option<String>,
}

enum Message {
    Bytes(Vec<u8>),
    /// The stream's ssh ended, with the last line it wrote to stderr.
    Ended(String),
    Info(Result<RemoteInfo, String>),
}

/// `run.json` read on the box, and whether the training process is alive there.
pub(crate) struct RemoteInfo {
    pub info: RunInfo,
    /// `None` when the run was started on another machine than the one answering.
    pub alive: Option<bool>,
}

/// Marks the end of `run.json` in the info command's output.
const INFO_END: &str = "\n@@fer-host ";

/// Shell lines that print, after the `run.json` in shell variable `$f`, the box's host
/// name and whether the run's pid is alive there (`/proc`, or `kill -0` where there is
/// none), so a crashed remote run shows as stale.
pub(crate) const HOST_AND_ALIVE: &str = r#"pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$f" | head -n 1)
alive=no; if [ -n "$pid" ] && { [ -d "/proc/$pid" ] || kill -0 "$pid" 2>/dev/null; }; then alive=yes; fi
printf '\n@@fer-host %s %s\n' "$(uname -n)" "$alive""#;

/// The lines around each `run.json` report on the event stream's stderr.
const INFO_BEGIN: &str = "@@fer-info-begin";
const INFO_DONE: &str = "@@fer-info-done";

/// Shell lines that start, beside the event stream and in the same ssh login, a loop that
/// reports `run.json` and [`HOST_AND_ALIVE`]'s line on stderr (between [`INFO_BEGIN`] and
/// [`INFO_DONE`]) every 2 s, and stops once the run no longer runs: its `run.json` is then
/// final. It dies with the session (a write to a closed stderr).
fn info_loop(file: &str) -> String {
    format!(
        "( f={f}; exec >/dev/null; while :; do if [ -f \"$f\" ]; then\n\
         {{ printf '{INFO_BEGIN}\\n'; cat \"$f\"\n{HOST_AND_ALIVE}\nprintf '{INFO_DONE}\\n'; }} >&2\n\
         grep -q '\"status\": *\"running\"' \"$f\" || exit 0; fi; sleep 2; done ) &\n",
        f = remote_path(file)
    )
}

/// Reads `run.json` followed by [`HOST_AND_ALIVE`]'s line.
pub(crate) fn parse_info(text: &str) -> Result<RemoteInfo, String> {
    let (json, tail) = text.split_once(INFO_END).unwrap_or((text, ""));
    let info: RunInfo = serde_json::from_str(json).map_err(|e| format!("{RUN_INFO_FILE}: {e}"))?;
    let mut words = tail.split_whitespace();
    let alive = match (words.next(), words.next()) {
        (Some(host), Some(alive)) if host == info.host => Some(alive == "yes"),
        _ => None,
    };
    Ok(RemoteInfo { info, alive })
}

/// The event stream of a remote run: an `ssh ... tail -f` child, restarted from the byte
/// reached whenever it ends.
struct RemoteStream {
    host: String,
    dir: String,
    child: Option<Child>,
    messages: Receiver<Message>,
    sender: Sender<Message>,
    offset: u64,
    reconnect_at: Option<Instant>,
    /// The run has ended: run.json will not change, so reconnections do not read it.
    info_final: bool,
    connections: usize,
    /// When bytes last arrived, for the outage message.
    last_data: Option<Instant>,
    /// The sampled backlog so far, while the first connection sends it.
    sampling: Option<Sample>,
}

impl RemoteStream {
    fn new(host: &str, dir: &str) -> RemoteStream {
        let (sender, messages) = channel();
        RemoteStream {
            host: host.to_string(),
            dir: dir.to_string(),
            child: None,
            messages,
            sender,
            offset: 0,
            reconnect_at: Some(Instant::now()),
            info_final: false,
            connections: 0,
            last_data: None,
            sampling: None,
        }
    }

    fn connect(&mut self) -> Result<(), String> {
        let dir = self.dir.trim_end_matches('/');
        let file = format!("{dir}/{EVENTS_FILE}");
        // From the start, the box samples the backlog; later connections continue from the
        // byte reached.
        let follow = if self.offset == 0 {
            self.sampling = Some(Sample::default());
            sampled_follow_command(&file, BACKLOG_STEPS)
        } else {
            follow_command(&file, self.offset)
        };
        // One login streams both files: run.json comes on stderr while the run runs.
        let command = if self.info_final {
            follow
        } else {
            format!("{}{follow}", info_loop(&format!("{dir}/{RUN_INFO_FILE}")))
        };
        let mut child = Command::new("ssh")
            .args(ssh_args(&self.host, &command))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        let mut stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        // ssh's own words ("Connection refused", "Broken pipe"): its last stderr line that is
        // not part of a run.json report.
        let said = Arc::new(Mutex::new(String::new()));
        let (stderr_closed, stderr_done) = channel::<()>();
        let sender = self.sender.clone();
        let words = said.clone();
        std::thread::spawn(move || {
            read_reports(stderr, &sender, &words);
            let _ = stderr_closed.send(());
        });
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                match stdout.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if sender.send(Message::Bytes(buffer[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = stderr_done.recv_timeout(LAST_WORDS_WAIT);
            let last = said.lock().map(|s| s.clone()).unwrap_or_default();
            let _ = sender.send(Message::Ended(last));
        });
        self.child = Some(child);
        self.connections += 1;
        Ok(())
    }

    /// "connection lost" with how long ago data last came and what ssh said.
    fn outage(&self, said: &str) -> String {
        let mut text = format!("connection to {} lost, reconnecting", self.host);
        if let Some(at) = self.last_data {
            text += &format!(" (last data {:.0} s ago)", at.elapsed().as_secs_f64());
        }
        if !said.is_empty() {
            text += &format!(": {said}");
        }
        text
    }

    fn poll(&mut self, reader: &mut EventReader, update: &mut Update) {
        if self.reconnect_at.is_some_and(|at| Instant::now() >= at) {
            self.reconnect_at = None;
            if let Err(problem) = self.connect() {
                update.problem = Some(problem);
                self.reconnect_at = Some(Instant::now() + RECONNECT_AFTER);
            }
        }
        while let Ok(message) = self.messages.try_recv() {
            match message {
                Message::Bytes(bytes) => {
                    self.last_data = Some(Instant::now());
                    let raw = match &mut self.sampling {
                        Some(sample) => {
                            let Some((lines, offset, rest)) = sample.add(&bytes) else {
                                continue;
                            };
                            update.records.extend(reader.feed(&lines));
                            self.sampling = None;
                            self.offset = offset;
                            rest
                        }
                        None => bytes,
                    };
                    self.offset += raw.len() as u64;
                    update.records.extend(reader.feed(&raw));
                }
                Message::Ended(said) => {
                    // Cut before its sample ended: nothing of it was applied; the next
                    // connection samples again.
                    self.sampling = None;
                    if let Some(mut child) = self.child.take() {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                    update.problem = Some(self.outage(&said));
                    self.reconnect_at = Some(Instant::now() + RECONNECT_AFTER);
                }
                Message::Info(result) => match result {
                    Ok(RemoteInfo { info, alive }) => {
                        self.info_final = info.status != RunStatus::Running;
                        update.process_alive = alive;
                        update.info = Some(info);
                    }
                    Err(problem) => update.problem = Some(problem),
                },
            }
        }
    }
}

impl Drop for RemoteStream {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads a stream's stderr: each run.json report between [`INFO_BEGIN`] and [`INFO_DONE`]
/// goes to `sender`; any other line is ssh's, the last one kept in `said`.
fn read_reports(stderr: impl Read, sender: &Sender<Message>, said: &Mutex<String>) {
    let mut report: Option<String> = None;
    for line in BufReader::new(stderr).split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line);
        match (line.trim_end(), &mut report) {
            (INFO_BEGIN, _) => report = Some(String::new()),
            (INFO_DONE, Some(text)) => {
                let _ = sender.send(Message::Info(parse_info(text)));
                report = None;
            }
            (_, Some(text)) => {
                text.push_str(&line);
                text.push('\n');
            }
            (other, None) if !other.trim().is_empty() => {
                if let Ok(mut said) = said.lock() {
                    *said = other.trim().to_string();
                }
            }
            _ => {}
        }
    }
}

/// Step events kept from a long backlog (the charts hold 2,000 points each).
const BACKLOG_STEPS: usize = 4000;

/// One run's files, polled for what is new.
pub struct RunSource {
    target: Target,
    reader: EventReader,
    remote: Option<RemoteStream>,
    next_info: Instant,
    backlog_read: bool,
}

impl RunSource {
    pub fn new(target: Target) -> RunSource {
        let (reader, remote) = match &target {
            Target::Local(dir) => (EventReader::new(dir.join(EVENTS_FILE)), None),
            Target::Remote { host, path } => {
                (EventReader::new(""), Some(RemoteStream::new(host, path)))
            }
        };
        RunSource {
            target,
            reader,
            remote,
            next_info: Instant::now(),
            backlog_read: false,
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Lines skipped as garbage or of unknown kind so far.
    pub fn skipped_lines(&self) -> (usize, usize) {
        (self.reader.garbage_lines, self.reader.unknown_lines)
    }

    /// How many times the remote stream (re)connected.
    pub fn connections(&self) -> usize {
        self.remote.as_ref().map_or(0, |r| r.connections)
    }

    /// Everything new since the last poll; never blocks on the network.
    pub fn poll(&mut self) -> Update {
        let mut update = Update::default();
        let info_due = Instant::now() >= self.next_info;
        if info_due {
            self.next_info = Instant::now() + INFO_EVERY;
        }
        match (&self.target, &mut self.remote) {
            (Target::Local(dir), _) => {
                let polled = if self.backlog_read {
                    self.reader.poll()
                } else {
                    self.backlog_read = true;
                    self.reader.poll_backlog(BACKLOG_STEPS)
                };
                match polled {
                    Ok(records) => update.records = records,
                    Err(e) => update.problem = Some(format!("{}: {e}", dir.display())),
                }
                if info_due {
                    match RunInfo::read(dir) {
                        Ok(info) => {
                            update.process_alive = local_process_alive(&info);
                            update.info = Some(info);
                        }
                        // Not written yet: the run is starting.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            update.problem =
                                Some(format!("{}: {e}", dir.join(RUN_INFO_FILE).display()))
                        }
                    }
                }
            }
            (Target::Remote { .. }, Some(remote)) => remote.poll(&mut self.reader, &mut update),
            (Target::Remote { .. }, None) => unreachable!("remote targets have a stream"),
        }
        update
    }
}

/// A sampled backlog arriving: held whole until its [`SAMPLED_MARK`] line (it is bounded by
/// the sampling), so a link cut mid-sample leaves nothing half applied and the next
/// connection samples afresh.
#[derive(Default)]
struct Sample {
    bytes: Vec<u8>,
    /// Where the next line starts: lines before it were looked at already.
    scanned: usize,
}

impl Sample {
    /// Adds `chunk`; once the mark has arrived, the sample's lines, the file offset after
    /// them, and the raw bytes that followed the mark.
    fn add(&mut self, chunk: &[u8]) -> Option<(Vec<u8>, u64, Vec<u8>)> {
        self.bytes.extend_from_slice(chunk);
        while let Some(end) = self.bytes[self.scanned..].iter().position(|&b| b == b'\n') {
            let line = &self.bytes[self.scanned..self.scanned + end + 1];
            if let Some(mark) = line.strip_prefix(SAMPLED_MARK.as_bytes()) {
                let offset = String::from_utf8_lossy(mark).trim().parse().ok()?;
                let rest = self.bytes[self.scanned + end + 1..].to_vec();
                self.bytes.truncate(self.scanned);
                return Some((std::mem::take(&mut self.bytes), offset, rest));
            }
            self.scanned += end + 1;
        }
        None
    }
}

/// Whether the run's process is alive, when it ran on this machine.
fn local_process_alive(info: &RunInfo) -> Option<bool> {
    (info.host == hostname()).then(|| Path::new(&format!("/proc/{}", info.pid)).exists())
}
