//! Reading a run's files as they grow: from this machine, or streamed over ssh.
//!
//! Nothing is ever written to the run directory; the training never knows it is watched.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use fer::run::events::{EventReader, Record};
use fer::run::{hostname, RunInfo, EVENTS_FILE, RUN_INFO_FILE};

use crate::target::{follow_command, remote_path, ssh_args, Target};

/// How often `run.json` is read again.
const INFO_EVERY: Duration = Duration::from_secs(2);
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
    Ended,
    Info(Result<String, String>),
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
    info_pending: bool,
    connections: usize,
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
            info_pending: false,
            connections: 0,
        }
    }

    fn connect(&mut self) -> Result<(), String> {
        let file = format!("{}/{EVENTS_FILE}", self.dir.trim_end_matches('/'));
        let mut child = Command::new("ssh")
            .args(ssh_args(&self.host, &follow_command(&file, self.offset)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        let mut stdout = child.stdout.take().expect("piped stdout");
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
            let _ = sender.send(Message::Ended);
        });
        self.child = Some(child);
        self.connections += 1;
        Ok(())
    }

    fn request_info(&mut self) {
        if self.info_pending {
            return;
        }
        self.info_pending = true;
        let file = format!("{}/{RUN_INFO_FILE}", self.dir.trim_end_matches('/'));
        let args = ssh_args(&self.host, &format!("cat {}", remote_path(&file)));
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            let result = Command::new("ssh")
                .args(args)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run ssh: {e}"))
                .and_then(|out| {
                    if out.status.success() {
                        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
                    } else {
                        Err("run.json not readable".to_string())
                    }
                });
            let _ = sender.send(Message::Info(result));
        });
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
                    self.offset += bytes.len() as u64;
                    update.records.extend(reader.feed(&bytes));
                }
                Message::Ended => {
                    if let Some(mut child) = self.child.take() {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                    update.problem =
                        Some(format!("connection to {} lost; reconnecting", self.host));
                    self.reconnect_at = Some(Instant::now() + RECONNECT_AFTER);
                }
                Message::Info(result) => {
                    self.info_pending = false;
                    match result
                        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
                    {
                        Ok(info) => update.info = Some(info),
                        Err(problem) => update.problem = Some(problem),
                    }
                }
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
            (Target::Remote { .. }, Some(remote)) => {
                if info_due {
                    remote.request_info();
                }
                remote.poll(&mut self.reader, &mut update);
            }
            (Target::Remote { .. }, None) => unreachable!("remote targets have a stream"),
        }
        update
    }
}

/// Whether the run's process is alive, when it ran on this machine.
fn local_process_alive(info: &RunInfo) -> Option<bool> {
    (info.host == hostname()).then(|| Path::new(&format!("/proc/{}", info.pid)).exists())
}
