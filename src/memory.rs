//! Peak resident memory of a process, from Linux's /proc (`None` elsewhere): what
//! `fer bench` reports, and what a notebook can print after a step.

/// This process's peak resident memory (VmHWM) in MiB.
///
/// ```
/// if cfg!(target_os = "linux") {
///     assert!(fer::memory::peak_rss_mib().is_some_and(|mib| mib > 0));
/// }
/// ```
pub fn peak_rss_mib() -> Option<u64> {
    vm_hwm_mib(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The peak resident memory (VmHWM) of process `pid` in MiB, while it runs.
pub fn process_peak_rss_mib(pid: u32) -> Option<u64> {
    vm_hwm_mib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// Starts a new peak at the current resident size, so that one measurement's peak is not
/// an earlier one's (Linux: writing 5 to clear_refs resets VmHWM). False where it cannot.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// VmHWM of a /proc/PID/status text, in MiB.
fn vm_hwm_mib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn the_peak_restarts_after_a_reset() {
        let big = vec![1u8; 300 * 1024 * 1024];
        std::hint::black_box(&big);
        let before = peak_rss_mib().unwrap();
        drop(big);
        assert!(reset_peak_rss());
        let after = peak_rss_mib().unwrap();
        assert!(
            after + 250 <= before,
            "peak {before} MiB, after reset {after} MiB"
        );
        assert!(process_peak_rss_mib(std::process::id()).is_some());
    }

    #[test]
    fn vm_hwm_is_read_in_mib() {
        let status = "Name:\tfer\nVmPeak:\t 9000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(vm_hwm_mib(status), Some(200));
        assert_eq!(vm_hwm_mib("Name:\tfer\n"), None);
    }
}
