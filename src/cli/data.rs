//! `fer data`: statistics, synthetic faces and format conversion.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use fer::data::{self, synth, ClassCounts, Dataset, Duplicates, LoadOptions, PixelStats};

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Print class counts (per usage split when present), repeated faces and pixel statistics.
    Stats {
        /// A FER2013 CSV (plain or .gz) or an image-folder tree.
        path: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Write synthetic FER-format faces as CSV.
    Synth {
        /// Number of faces.
        #[arg(long, default_value_t = 1000)]
        n: usize,
        /// Random seed; the same seed gives the same faces.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Add a Usage column drawn with these train,validation,test fractions.
        #[arg(long, value_name = "TRAIN,VAL,TEST", value_parser = parse_fractions)]
        usage: Option<[f64; 3]>,
        /// Output CSV; a name ending in .gz is compressed.
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert between CSV and image folders (direction from the input's kind).
    ///
    /// A CSV input becomes an image-folder tree at OUTPUT (which must be new or empty);
    /// an image-folder input becomes a CSV (gzip when OUTPUT ends in .gz) that must not
    /// exist yet, unless --force.
    Convert(InOut),
    /// Pack a data set into one compact .ferpack file (zstd, checksummed) that every --data
    /// reads, much faster than a CSV: for shipping faces to a training box. OUTPUT must not
    /// exist yet, unless --force.
    Pack(InOut),
}

/// A data set read from one place and written to another.
#[derive(Debug, Args)]
pub struct InOut {
    /// A FER2013 CSV (plain or .gz), an image-folder tree, or a .ferpack.
    input: PathBuf,
    output: PathBuf,
    /// Overwrite an existing OUTPUT file.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Skip bad rows or images, listing them, instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
}

pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Stats { path, load } => {
            let dataset = load_reporting(&path, &load)?;
            println!("{}: {} faces", path.display(), dataset.len());
            if dataset.labels().is_some() {
                println!("\n{}", ClassCounts::of(&dataset)?);
            } else {
                println!("(unlabeled: no emotion column)\n");
            }
            println!("{}", Duplicates::of(&dataset));
            if let Some(stats) = PixelStats::of(&dataset) {
                print!("{stats}");
            }
            Ok(())
        }
        DataCommand::Synth {
            n,
            seed,
            usage,
            out,
        } => {
            let config = synth::SynthConfig {
                n,
                seed,
                usage,
                ..Default::default()
            };
            let dataset = synth::synthesize(&config)?;
            data::csv::write_csv(&dataset, &out)?;
            println!(
                "wrote {} synthetic faces to {}",
                dataset.len(),
                out.display()
            );
            Ok(())
        }
        DataCommand::Convert(InOut {
            input,
            output,
            force,
            load,
        }) => {
            if input.is_dir() && output.exists() && !force {
                bail!("{} exists: pass --force to overwrite it", output.display());
            }
            let dataset = load_reporting(&input, &load)?;
            if input.is_dir() {
                data::csv::write_csv(&dataset, &output)?;
            } else {
                data::folder::write_folder(&dataset, &output)?;
            }
            println!(
                "converted {} faces from {} to {}",
                dataset.len(),
                input.display(),
                output.display()
            );
            Ok(())
        }
        DataCommand::Pack(InOut {
            input,
            output,
            force,
            load,
        }) => {
            if output.exists() && !force {
                bail!("{} exists: pass --force to overwrite it", output.display());
            }
            let dataset = load_reporting(&input, &load)?;
            let started = std::time::Instant::now();
            let repeats = data::pack::write_pack(&dataset, &output)?;
            let size = std::fs::metadata(&output).map_or(0, |m| m.len());
            let repeats = match repeats {
                0 => String::new(),
                n => format!("; {n} repeated faces stored once"),
            };
            println!(
                "packed {} faces from {} into {} ({:.1} MB, {:.1} s{repeats})",
                dataset.len(),
                input.display(),
                output.display(),
                size as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// Loads `path`, printing what a lenient load skipped to stderr.
fn load_reporting(path: &Path, args: &LoadArgs) -> anyhow::Result<Dataset> {
    let options = LoadOptions {
        lenient: args.lenient,
    };
    let loaded =
        data::load(path, &options).with_context(|| format!("loading {}", path.display()))?;
    if !loaded.skipped.is_empty() {
        eprintln!("skipped {} bad rows:", loaded.skipped.len());
        for row in loaded.skipped.iter().take(20) {
            eprintln!("  {row}");
        }
        if loaded.skipped.len() > 20 {
            eprintln!("  ... and {} more", loaded.skipped.len() - 20);
        }
    }
    Ok(loaded.dataset)
}

fn parse_fractions(text: &str) -> anyhow::Result<[f64; 3]> {
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("'{text}' is not three numbers like 0.8,0.1,0.1"))?;
    match parts[..] {
        [a, b, c] => Ok([a, b, c]),
        _ => bail!(
            "expected three fractions TRAIN,VAL,TEST, got {}",
            parts.len()
        ),
    }
}
