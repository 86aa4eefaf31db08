//! `fer bench`: data loading, training and prediction speed and peak memory on this
//! machine. (Comparisons with other stacks are a developer task: `cargo xtask peers`.)

mod throughput;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::{self, LoadOptions};
use fer::model::CnnConfig;
use fer::nsl::AdvRegConfig;
use fer::train::Compute;
use serde::Serialize;

use fer::memory::{peak_rss_mib, reset_peak_rss};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time loading a data file once and report rows/s, MB/s and peak memory, then the
    /// time of its statistics (`fer data stats`: class counts and pixel statistics).
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
    /// The network: a preset (see `fer summary --help`).
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
    /// Which measurements, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "train,adv,predict"
    )]
    which: Vec<Measurement>,
    /// Backends to measure, in order: flex, and tch in a build with the tch feature.
    #[arg(long, value_delimiter = ',', default_value = "flex")]
    backend: Vec<String>,
    /// cpu, or cuda:N with the tch backend.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Also write the rates as JSON to this file (what `cargo xtask peers` reads).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// One timed measurement of `fer bench train`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Measurement {
    /// Plain training steps.
    Train,
    /// Adversarial training steps with the study's NSL settings (multiplier 0.3, step 0.12).
    Adv,
    /// Inference-mode prediction.
    Predict,
}

/// Images per second of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// By the wall clock: what a user waits for.
    pub wall: f64,
    /// Per CPU-second of the whole process, all its threads. Steadier than wall time on
    /// shared machines, whose neighbours take cores away for seconds at a time.
    pub cpu: Option<f64>,
}

/// One backend's rates and its peak memory, as `--json` writes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct BackendRates {
    /// "fer flex", "fer tch".
    name: String,
    device: String,
    train: Option<Rate>,
    adv: Option<Rate>,
    predict: Option<Rate>,
    peak_rss_mib: Option<u64>,
}

/// The `--json` document: the settings and each backend's rates.
#[derive(Debug, Serialize)]
struct BenchReport<'a> {
    preset: &'a str,
    batch_size: usize,
    images: usize,
    predict_images: usize,
    backends: Vec<BackendRates>,
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
                "load {}: {rows} faces in {seconds:.3} s ({:.0} faces/s, {:.0} MB/s of file), peak RSS {}",
                path.display(),
                rows as f64 / seconds,
                bytes as f64 / 1e6 / seconds,
                format_mib(peak_rss_mib())
            );
            let start = Instant::now();
            let counts = fer::data::ClassCounts::of(&loaded.dataset).ok();
            let stats = fer::data::PixelStats::of(&loaded.dataset);
            let seconds = start.elapsed().as_secs_f64();
            println!(
                "stats: class counts{} and pixel statistics of {} pixels in {seconds:.3} s",
                if counts.is_some() {
                    ""
                } else {
                    " (unlabeled: none)"
                },
                stats.map_or(0, |s| s.overall.count)
            );
            Ok(())
        }
        BenchCommand::Train(args) => bench_train(&args),
    }
}

fn bench_train(args: &TrainBench) -> anyhow::Result<()> {
    let network = CnnConfig::preset(&args.preset)
        .ok_or_else(|| anyhow::anyhow!("unknown preset '{}'", args.preset))?;
    let computes = args
        .backend
        .iter()
        .map(|backend| Compute::new(backend, &args.device))
        .collect::<Result<Vec<_>, _>>()?;
    let faces = synthesize(&SynthConfig {
        n: args.images.max(args.predict_images),
        seed: 1,
        ..Default::default()
    })?;
    println!(
        "bench: {} ({} parameters), batch {}, {} images per training pass, {} predicted",
        network.name,
        network.summary().total_params(),
        args.batch_size,
        args.images,
        args.predict_images
    );
    let study = AdvRegConfig::default().multiplier(0.3).adv_step_size(0.12);
    let mut backends = Vec::new();
    for compute in &computes {
        let device = compute.device()?;
        let mut rates = BackendRates {
            name: format!("fer {}", compute.backend),
            device: compute.device.to_string(),
            train: None,
            adv: None,
            predict: None,
            peak_rss_mib: None,
        };
        println!("{} on {}:", rates.name, rates.device);
        // Each backend's peak is its own, not the previous backend's.
        reset_peak_rss();
        for &which in &args.which {
            let (slot, adversarial) = match which {
                Measurement::Train => (&mut rates.train, None),
                Measurement::Adv => (&mut rates.adv, Some(&study)),
                Measurement::Predict => (&mut rates.predict, None),
            };
            let rate = if which == Measurement::Predict {
                throughput::predict_rate(&network, &faces, args.predict_images, &device)?
            } else {
                throughput::train_rate(
                    &network,
                    &faces,
                    args.images,
                    args.batch_size,
                    adversarial,
                    &device,
                )?
            };
            println!(
                "  {:<8} {:>8.1} images/s, {} per CPU-second",
                which
                    .to_possible_value()
                    .expect("every measurement has a name")
                    .get_name(),
                rate.wall,
                rate.cpu.map_or("-".into(), |cpu| format!("{cpu:.1}"))
            );
            *slot = Some(rate);
        }
        rates.peak_rss_mib = peak_rss_mib();
        println!("  peak RSS {}", format_mib(rates.peak_rss_mib));
        backends.push(rates);
    }
    if let Some(path) = &args.json {
        let report = BenchReport {
            preset: &network.name,
            batch_size: args.batch_size,
            images: args.images,
            predict_images: args.predict_images,
            backends,
        };
        fer::atomic::write_atomically(path, |out| {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            std::io::Write::write_all(out, b"\n")
        })
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

fn format_mib(mib: Option<u64>) -> String {
    mib.map_or("?".into(), |m| format!("{m} MiB"))
}
