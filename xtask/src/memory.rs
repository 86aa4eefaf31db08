//! Peak resident memory of a child process, from Linux's /proc (`None` elsewhere).

use std::io::Read;
use std::process::{Child, Output};

use fer::memory::process_peak_rss_mib;

/// Waits for `child` like [`Child::wait_with_output`] and also returns its peak resident
/// memory in MiB.
///
/// The peak is the child's own VmHWM, sampled every 20 ms until it exits: the kernel's
/// rusage figure would not do, as a forked child starts its count at the parent's size.
pub fn wait_with_peak(mut child: Child) -> std::io::Result<(Output, Option<u64>)> {
    // Both pipes are drained on their own threads so that a chatty child never blocks.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_end(&mut bytes)?;
            }
            Ok::<_, std::io::Error>(bytes)
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let mut peak = None;
    let status = loop {
        if let Some(mib) = process_peak_rss_mib(child.id()) {
            peak = peak.max(Some(mib));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let join = |handle: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| {
        handle
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("pipe reader panicked")))
    };
    let output = Output {
        status,
        stdout: join(stdout)?,
        stderr: join(stderr)?,
    };
    Ok((output, peak))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    #[cfg(target_os = "linux")]
    fn a_child_that_touches_memory_reports_its_peak_and_output() {
        // python3 is on every machine this project builds on (CI installs Jupyter with it).
        let child = Command::new("python3")
            .args([
                "-c",
                "import sys, time; b = bytearray(200 * 1024 * 1024); time.sleep(0.2); print('done'); sys.exit(3)",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (output, peak) = wait_with_peak(child).unwrap();
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "done");
        let peak = peak.expect("Linux has /proc");
        assert!((200..1024).contains(&peak), "peak {peak} MiB");
    }
}
