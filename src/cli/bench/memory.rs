//! Peak resident memory of this process, from Linux's /proc (`None` elsewhere).

/// This process's peak resident memory (VmHWM) in MiB.
pub fn peak_rss_mib() -> Option<u64> {
    vm_hwm_mib(&std::fs::read_to_string("/proc/self/status").ok()?)
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
    }
}
