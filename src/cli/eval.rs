//! `fer eval` and `fer predict`: a checkpoint against data, or against image files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::module::Module;
use clap::{Args, ValueEnum};
use fer::data::{folder, Dataset, Emotion};
use fer::metrics::{accuracy_under_attack, evaluate, predict_probabilities, Attack};
use fer::run::RunDir;
use fer::train::checkpoint::Checkpoint;

use super::source::{select_split, DataSpec};
use super::ComputeArgs;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AttackKind {
    Fgsm,
    Pgd,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A checkpoint written by `fer train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// FER2013 CSV, image-folder tree, or synthetic[:N[:SEED]] (as used to train).
    #[arg(long, default_value = "synthetic")]
    data: DataSpec,
    /// train, validation, test or all (data without a Usage column is used whole).
    #[arg(long, default_value = "test")]
    split: String,
    /// Also report accuracy under this attack.
    #[arg(long)]
    attack: Option<AttackKind>,
    /// Attack sizes (infinity norm, images in [0, 1]).
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.02,0.05")]
    eps: Vec<f64>,
    /// PGD steps.
    #[arg(long, default_value_t = 10)]
    pgd_iterations: usize,
    /// Make the attacks against this model instead (NSL's tutorials attack the base model).
    #[arg(long)]
    reference: Option<PathBuf>,
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// How many wrong predictions to list.
    #[arg(long, default_value_t = 10)]
    show_wrong: usize,
    #[command(flatten)]
    compute: ComputeArgs,
    #[arg(long)]
    lenient: bool,
}

/// Reads a checkpoint file, or the best checkpoint of a run directory.
fn read_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
    let file = if path.is_dir() {
        RunDir {
            path: path.to_path_buf(),
        }
        .best_checkpoint()
    } else {
        path.to_path_buf()
    };
    Checkpoint::read(&file).with_context(|| format!("reading checkpoint {}", file.display()))
}

pub fn run_eval(args: EvalArgs) -> anyhow::Result<()> {
    let device = args.compute.device()?;
    let ckpt = read_checkpoint(&args.checkpoint)?;
    let classes = &ckpt.state.classes;
    let keep = (classes.len() < Emotion::ALL.len()).then_some(classes.as_slice());
    let dataset = select_split(&args.data.load(args.lenient, keep)?, &args.split)?;
    let model = ckpt.model(&device)?.valid();
    let adversarial = ckpt.state.config.adversarial.as_ref();
    let result = evaluate(&model, &dataset, args.batch_size, adversarial, &device)?;
    let m = result.metrics;
    println!(
        "{} faces ({}): loss {:.4}  categorical_crossentropy {:.4}  categorical_accuracy {:.4}  scaled_adversarial_loss {:.4}\n",
        dataset.len(), args.split, m.loss, m.categorical_crossentropy, m.categorical_accuracy, m.scaled_adversarial_loss
    );
    println!("{}", result.confusion.report());
    println!("{}", result.confusion);
    println!(
        "{} faces misclassified",
        result.misclassified(&dataset).len()
    );
    if let Some(kind) = args.attack {
        let reference = match &args.reference {
            Some(path) => read_checkpoint(path)?.model(&device)?.valid(),
            None => model.clone(),
        };
        println!("\naccuracy under {kind:?} attack:");
        for &epsilon in &args.eps {
            let attack = match kind {
                AttackKind::Fgsm => Attack::Fgsm { epsilon },
                AttackKind::Pgd => Attack::Pgd {
                    epsilon,
                    iterations: args.pgd_iterations,
                },
            };
            let accuracy = accuracy_under_attack(
                &model,
                &reference,
                &dataset,
                attack,
                args.batch_size,
                &device,
            )?;
            println!("  eps {epsilon:<6} accuracy {accuracy:.4}");
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A checkpoint written by `fer train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Image files of any size or color (PNG, JPEG).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[command(flatten)]
    compute: ComputeArgs,
}

pub fn run_predict(args: PredictArgs) -> anyhow::Result<()> {
    let device = args.compute.device()?;
    let ckpt = read_checkpoint(&args.checkpoint)?;
    let mut pixels = Vec::new();
    for path in &args.images {
        let face =
            folder::read_face(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        pixels.extend(face);
    }
    let faces = Dataset::new(pixels, None, None, ckpt.state.classes.clone())?;
    let model = ckpt.model(&device)?.valid();
    let classes = &ckpt.state.classes;
    for (path, probs) in args
        .images
        .iter()
        .zip(predict_probabilities(&model, &faces, &device))
    {
        let best = probs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        let all: Vec<String> = classes
            .iter()
            .zip(&probs)
            .map(|(c, p)| format!("{} {:.3}", c.name(), p))
            .collect();
        println!(
            "{}: {} ({:.1}%)  [{}]",
            path.display(),
            classes[best].name(),
            100.0 * probs[best],
            all.join(", ")
        );
    }
    Ok(())
}
