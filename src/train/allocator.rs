//! glibc's allocator, set up for batches of tensors.

/// Makes the process keep the memory it frees for its next allocations, instead of handing
/// it back to the kernel.
///
/// glibc serves each block over 32 MiB with a fresh `mmap` and unmaps it on free. A batch's
/// activations are such blocks (256 faces × 64 channels × 48 × 48 floats is 151 MB), so every
/// batch page-faulted its memory in again, zero-filled by the kernel: prediction ran 23%
/// (LibTorch) to 28% (flex) faster without it, with the same peak memory, since each batch
/// asks for the same sizes as the last (issue 6). `fer` calls this first thing; call it at
/// the start of a program or notebook that runs many batches.
///
/// Returns whether the allocator took the settings: only glibc on Linux has them.
///
/// ```
/// let tuned = fer::train::reuse_freed_memory();
/// assert_eq!(tuned, cfg!(all(target_os = "linux", target_env = "gnu")));
/// ```
pub fn reuse_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes the allocator's thresholds; it takes glibc's own lock.
        unsafe {
            // No block gets its own mapping, and the heap's free top is only given back
            // beyond 2 GiB.
            libc::mallopt(libc::M_MMAP_MAX, 0) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Page faults of this thread so far.
    fn page_faults() -> i64 {
        // SAFETY: getrusage writes one rusage struct, which is plain data.
        unsafe {
            let mut usage = std::mem::zeroed::<libc::rusage>();
            assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
            usage.ru_minflt
        }
    }

    #[test]
    fn a_freed_large_block_is_reused_without_faulting_its_pages_in_again() {
        assert!(reuse_freed_memory());
        const BYTES: usize = 48 << 20;
        let touch = || {
            let block = vec![1u8; BYTES];
            std::hint::black_box(&block);
        };
        touch();
        let before = page_faults();
        touch();
        let faults = page_faults() - before;
        // An unmapped block faults in all its 12,288 pages again.
        assert!(faults < 1000, "{faults} page faults");
    }
}
