//! `fer bench`: throughput and peak memory, measured in a fresh process per case.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;
use fer::data::{self, LoadOptions};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time loading a data file once and report rows/s, MB/s and peak memory.
    ///
    /// Run it once per file in a fresh process: peak memory is the process's high-water mark.
    Load {
        /// A FER2013 CSV (plain or .gz) or an image-folder tree.
        path: PathBuf,
    },
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Load { path } => {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let start = Instant::now();
            let loaded = data::load(&path, &LoadOptions::default())?;
            let seconds = start.elapsed().as_secs_f64();
            let rows = loaded.dataset.len();
            println!(
                "load {}: {rows} faces in {seconds:.3} s ({:.0} faces/s, {:.0} MB/s of file), peak RSS {} MiB",
                path.display(),
                rows as f64 / seconds,
                bytes as f64 / 1e6 / seconds,
                peak_rss_mib().map_or("?".into(), |m| m.to_string())
            );
            Ok(())
        }
    }
}

/// The process's peak resident memory (VmHWM), in MiB, where /proc tells it.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
