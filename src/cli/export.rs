//! `fer export`: a trained network as ONNX or safetensors, a run as TensorBoard files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use fer::export::{self, onnx};
use prost::Message;

use super::eval::read_checkpoint;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("format").required(true).multiple(true))]
pub struct ExportArgs {
    /// A checkpoint written by `fer train`, or a run directory (its best checkpoint; its
    /// event log for --tensorboard).
    source: PathBuf,
    /// Write the network as ONNX (opset 17, input `image` [N, 1, 48, 48] of pixels / 255,
    /// output `probabilities`).
    #[arg(long, value_name = "FILE", group = "format")]
    onnx: Option<PathBuf>,
    /// Write the weights as safetensors with PyTorch's names (scripts/load_safetensors.py
    /// loads them into PyTorch and Keras).
    #[arg(long, value_name = "FILE", group = "format")]
    safetensors: Option<PathBuf>,
    /// Write the run's events as a TensorBoard events file into DIR (SOURCE must be a run
    /// directory).
    #[arg(long, value_name = "DIR", group = "format")]
    tensorboard: Option<PathBuf>,
    /// Overwrite existing --onnx and --safetensors files.
    #[arg(long)]
    force: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    for path in [&args.onnx, &args.safetensors].into_iter().flatten() {
        if path.exists() && !args.force {
            bail!("{} exists: pass --force to overwrite it", path.display());
        }
    }
    if let Some(dir) = &args.tensorboard {
        if !args.source.is_dir() {
            bail!(
                "--tensorboard needs a run directory, not {}",
                args.source.display()
            );
        }
        let renderer = fer::run::tensorboard::default_renderer();
        let (file, events) = fer::run::tensorboard::convert_run(&args.source, dir, renderer)
            .with_context(|| format!("converting {} to TensorBoard", args.source.display()))?;
        println!("wrote {} ({events} fer events)", file.display());
    }
    if args.onnx.is_none() && args.safetensors.is_none() {
        return Ok(());
    }
    let checkpoint = read_checkpoint(&args.source)?;
    let network = &checkpoint.state.network;
    let model = checkpoint.model(&fer::train::Compute::cpu_device())?;
    let weights = model.weights(network);
    let classes = &checkpoint.state.classes;
    if let Some(path) = &args.onnx {
        let bytes = onnx::model(&weights, classes)?.encode_to_vec();
        write(path, &bytes, "ONNX")?;
    }
    if let Some(path) = &args.safetensors {
        let bytes = export::safetensors::to_bytes(&weights, classes)?;
        write(path, &bytes, "safetensors")?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8], format: &str) -> anyhow::Result<()> {
    export::write_file(path, bytes)?;
    println!("wrote {} ({format}, {} bytes)", path.display(), bytes.len());
    Ok(())
}
