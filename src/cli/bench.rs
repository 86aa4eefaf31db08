//! `fer bench`: throughput and peak memory, measured on this machine.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::prelude::*;
use clap::{Args, Subcommand};
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::{self, BatchConfig, Dataset, LoadOptions};
use fer::model::CnnConfig;
use fer::nsl::{train_step, AdvRegConfig, Classifier};
use fer::train::{images_tensor, labels_tensor};

use super::ComputeArgs;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time loading a data file once and report rows/s, MB/s and peak memory.
    ///
    /// Run it once per file in a fresh process: peak memory is the process's high-water mark.
    Load {
        /// A FER2013 CSV (plain or .gz) or an image-folder tree.
        path: PathBuf,
    },
    /// Images per second of training, adversarial training (the study's NSL settings) and
    /// prediction, with peak memory.
    Train(TrainBench),
}

#[derive(Debug, Args)]
pub struct TrainBench {
    #[arg(long, default_value = "report-4.2")]
    preset: String,
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    /// Images per timed training pass (after one warm-up step).
    #[arg(long, default_value_t = 500)]
    images: usize,
    /// Images to predict, in batches of 256.
    #[arg(long, default_value_t = 1024)]
    predict_images: usize,
    /// Which measurements: train, adv, predict.
    #[arg(long, value_delimiter = ',', default_value = "train,adv,predict")]
    which: Vec<String>,
    #[command(flatten)]
    compute: ComputeArgs,
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
        BenchCommand::Train(args) => bench_train(&args),
    }
}

fn bench_train(args: &TrainBench) -> anyhow::Result<()> {
    let compute = args.compute.compute()?;
    let device = compute.device().map_err(anyhow::Error::msg)?;
    let network = CnnConfig::preset(&args.preset)
        .ok_or_else(|| anyhow::anyhow!("unknown preset '{}'", args.preset))?;
    let faces = synthesize(&SynthConfig {
        n: args.images.max(args.predict_images),
        seed: 1,
        ..Default::default()
    })?;
    println!(
        "bench: {} ({} parameters), {} backend on {}, batch {}",
        network.name,
        network.summary().total_params(),
        compute.backend,
        compute.device,
        args.batch_size
    );
    let study = AdvRegConfig::default().multiplier(0.3).adv_step_size(0.12);
    for which in &args.which {
        let per_second = match which.as_str() {
            "train" => train_rate(&network, &faces, args, None, &device)?,
            "adv" => train_rate(&network, &faces, args, Some(&study), &device)?,
            "predict" => predict_rate(&network, &faces, args.predict_images, &device)?,
            other => {
                anyhow::bail!("unknown measurement '{other}' (expected train, adv or predict)")
            }
        };
        println!("{which:<8} {per_second:>8.1} images/s");
    }
    println!(
        "peak RSS {} MiB",
        peak_rss_mib().map_or("?".into(), |m| m.to_string())
    );
    Ok(())
}

fn train_rate(
    network: &CnnConfig,
    faces: &Dataset,
    args: &TrainBench,
    adversarial: Option<&AdvRegConfig>,
    device: &Device,
) -> anyhow::Result<f64> {
    let device = device.clone().autodiff();
    let mut model = network.init(&device);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-7).init();
    let config = BatchConfig {
        batch_size: args.batch_size,
        ..Default::default()
    };
    let batches: Vec<_> = faces
        .subset(&(0..args.images).collect::<Vec<_>>())
        .batches(&config, 0)?
        .collect();
    let mut step = |model: fer::model::Cnn, batch: data::Batch| {
        let labels = labels_tensor(&batch.labels, &device);
        let (grads, _) = train_step(
            &model,
            images_tensor(batch.images, &device),
            labels,
            adversarial,
        );
        optimizer.step(1e-3, model, grads)
    };
    let mut batches = batches.into_iter();
    let warm_up = batches
        .next()
        .ok_or_else(|| anyhow::anyhow!("no images to time"))?;
    model = step(model, warm_up);
    let start = Instant::now();
    let timed = batches.len() * args.batch_size;
    for batch in batches {
        model = step(model, batch);
    }
    drop(model);
    Ok(timed as f64 / start.elapsed().as_secs_f64())
}

fn predict_rate(
    network: &CnnConfig,
    faces: &Dataset,
    images: usize,
    device: &Device,
) -> anyhow::Result<f64> {
    let model = network.init(device).valid();
    let config = BatchConfig {
        batch_size: 256,
        shuffle: false,
        ..Default::default()
    };
    let faces = faces.subset(&(0..images).collect::<Vec<_>>());
    let run = || -> anyhow::Result<()> {
        for batch in faces.batches(&config, 0)? {
            let _ = model
                .logits(images_tensor(batch.images, device))
                .argmax(1)
                .into_data();
        }
        Ok(())
    };
    run()?;
    let start = Instant::now();
    run()?;
    Ok(images as f64 / start.elapsed().as_secs_f64())
}

/// The process's peak resident memory (VmHWM), in MiB, where /proc tells it.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
