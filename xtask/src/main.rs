//! Developer tasks of the fer workspace, run as `cargo xtask <task>`: measurements of fer
//! against other stacks, which users of `fer` do not need (they have `fer bench`).

mod goals;
mod memory;
mod peers;
mod rates;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use clap::{Args, Parser};
use serde::Deserialize;

use peers::Peer;
use rates::Rates;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Developer tasks of the fer workspace")]
enum Task {
    /// fer's training speed beside the reference stacks (the study's TF + NSL, PyTorch
    /// eager), measured in one run on this machine: images/s, peak memory, fer's ratios to
    /// each peer and the speed goals met or not.
    Peers(PeersArgs),
}

#[derive(Debug, Args)]
struct PeersArgs {
    /// Folder of the reference scripts, seed_nsl.py and seed_torch.py.
    #[arg(long)]
    peers_dir: PathBuf,
    /// The fer binary to measure: `cargo build --release`, or `scripts/setup-tch.sh` for a
    /// build with the tch backend.
    #[arg(long, default_value = "target/release/fer")]
    fer: PathBuf,
    /// fer's backends to measure, in order (tch needs a tch build).
    #[arg(long, value_delimiter = ',', default_value = "flex")]
    backend: Vec<String>,
    /// Images per timed training pass, for fer and TF + NSL (PyTorch's script has its own).
    #[arg(long, default_value_t = 500)]
    images: usize,
    /// Images to predict in batches of 256, for fer and TF + NSL.
    #[arg(long, default_value_t = 1024)]
    predict_images: usize,
    /// Python of a venv with tensorflow-cpu, tf-keras and neural-structured-learning.
    #[arg(long, default_value = ".venv-tf/bin/python")]
    tf_python: PathBuf,
    /// Python of a venv with torch (scripts/setup-tch.sh makes this one).
    #[arg(long, default_value = ".venv-torch/bin/python")]
    torch_python: PathBuf,
}

/// What `fer bench train --json` writes.
#[derive(Debug, Deserialize)]
struct FerBench {
    backends: Vec<FerBackend>,
}

#[derive(Debug, Deserialize)]
struct FerBackend {
    name: String,
    #[serde(flatten)]
    rates: Rates,
}

fn main() -> anyhow::Result<()> {
    match Task::parse() {
        Task::Peers(args) => peers(&args),
    }
}

fn peers(args: &PeersArgs) -> anyhow::Result<()> {
    let mut rows = fer_rates(args)?;
    let peers = [
        Peer::tf_nsl(
            &args.peers_dir,
            args.tf_python.clone(),
            args.images,
            args.predict_images,
        ),
        Peer::torch(&args.peers_dir, args.torch_python.clone()),
    ];
    for peer in peers {
        if let Some(why) = peer.missing() {
            println!("{}: skipped ({why})", peer.name);
            continue;
        }
        println!("{}: running {} ...", peer.name, peer.script.display());
        match peer.run() {
            Ok(rates) => rows.push((peer.name.to_string(), rates)),
            Err(error) => println!("{}: failed: {error:#}", peer.name),
        }
    }
    println!();
    print!("{}", rates::rates_table(&rows));
    let ratios = rates::ratio_table(&rows);
    if !ratios.is_empty() {
        println!();
        print!("{ratios}");
        println!();
        print!("{}", goals::goals_report(&rows));
    }
    Ok(())
}

/// Runs `fer bench train` on the study's network at the scripts' batch size, its progress
/// on the terminal, and reads its rates back.
fn fer_rates(args: &PeersArgs) -> anyhow::Result<Vec<(String, Rates)>> {
    let json = tempfile::NamedTempFile::new()?;
    let status = Command::new(&args.fer)
        .args([
            "bench",
            "train",
            "--preset",
            "report-4.2",
            "--batch-size",
            "50",
        ])
        .arg("--backend")
        .arg(args.backend.join(","))
        .arg("--images")
        .arg(args.images.to_string())
        .arg("--predict-images")
        .arg(args.predict_images.to_string())
        .arg("--json")
        .arg(json.path())
        .status()
        .with_context(|| format!("starting {} (build it first)", args.fer.display()))?;
    if !status.success() {
        anyhow::bail!("{} bench train exited with {status}", args.fer.display());
    }
    read_fer_bench(json.path())
}

fn read_fer_bench(path: &Path) -> anyhow::Result<Vec<(String, Rates)>> {
    let text = std::fs::read_to_string(path)?;
    let bench: FerBench = serde_json::from_str(&text)
        .with_context(|| format!("reading fer's rates from {}", path.display()))?;
    Ok(bench
        .backends
        .into_iter()
        .map(|backend| (backend.name, backend.rates))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rates::Rate;

    #[test]
    fn fer_bench_json_becomes_rows_with_missing_measurements_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.json");
        std::fs::write(
            &path,
            r#"{"preset": "report-4.2", "batch_size": 50, "backends": [
                {"name": "fer flex", "device": "cpu",
                 "train": {"wall": 29.7, "cpu": 16.2}, "adv": null,
                 "predict": {"wall": 70.2, "cpu": null}, "peak_rss_mib": 1548}]}"#,
        )
        .unwrap();
        let rows = read_fer_bench(&path).unwrap();
        assert_eq!(rows.len(), 1);
        let (name, rates) = &rows[0];
        assert_eq!(name, "fer flex");
        assert_eq!(
            rates.train,
            Some(Rate {
                wall: 29.7,
                cpu: Some(16.2)
            })
        );
        assert_eq!(rates.adv, None);
        assert_eq!(rates.predict.map(|r| r.cpu), Some(None));
        assert_eq!(rates.peak_rss_mib, Some(1548));
    }

    #[test]
    fn the_peers_folder_is_required() {
        let error = Task::try_parse_from(["cargo xtask", "peers"]).unwrap_err();
        assert!(error.to_string().contains("--peers-dir"), "{error}");
    }
}
