//! `fer eval` and `fer predict`: a checkpoint against data, or against image files.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::module::Module;
use clap::{Args, ValueEnum};
use fer::data::{folder, DataSpec, Dataset, Emotion, Split};
use fer::metrics::{
    accuracy_under_attack, argmax, evaluate, predict_probabilities, write_predictions, Attack,
    FaceId, Prediction,
};
use fer::run::RunDir;
use fer::train::checkpoint::Checkpoint;

use super::source::{self, SplitChoice};
use super::ComputeArgs;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AttackKind {
    Fgsm,
    Pgd,
}

impl fmt::Display for AttackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttackKind::Fgsm => "FGSM",
            AttackKind::Pgd => "PGD",
        })
    }
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A checkpoint written by `fer train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// FER2013 CSV, image-folder tree, or synthetic[:N[:SEED]] (as used to train).
    #[arg(long, default_value = "synthetic")]
    data: DataSpec,
    /// The part of the data, divided as the run divided it [default: test when the data has
    /// test faces, else validation].
    #[arg(long, value_enum)]
    split: Option<SplitChoice>,
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
    /// List this many misclassified faces, most confident first.
    #[arg(long, default_value_t = 10)]
    show_wrong: usize,
    /// Write every face's prediction to this CSV: index (0-based data row), usage, true,
    /// predicted (FER2013 labels 0-6), p_<class>.
    #[arg(long)]
    predictions: Option<PathBuf>,
    #[command(flatten)]
    compute: ComputeArgs,
    #[arg(long)]
    lenient: bool,
}

/// Reads a checkpoint file, or the best checkpoint of a run directory.
pub fn read_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
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
    let loaded = source::load(&args.data, args.lenient)?;
    let (whole, parts) = ckpt.faces(&loaded)?;
    let (dataset, split) = SplitChoice::select(args.split, &whole, &parts)?;
    let model = ckpt.model(&device)?.valid();
    let adversarial = ckpt.state.config.adversarial.as_ref();
    let result = evaluate(&model, dataset, args.batch_size, adversarial, &device)?;
    let m = result.metrics;
    println!(
        "{} faces ({split}): loss {:.4}  categorical_crossentropy {:.4}  categorical_accuracy {:.4}  scaled_adversarial_loss {:.4}\n",
        dataset.len(), m.loss, m.categorical_crossentropy, m.categorical_accuracy, m.scaled_adversarial_loss
    );
    println!("{}", result.confusion.report());
    println!("{}", result.confusion);
    let table = result.table(dataset);
    let mut wrong: Vec<&Prediction> = table
        .iter()
        .filter(|p| p.truth != Some(p.predicted))
        .collect();
    println!("{} faces misclassified", wrong.len());
    if args.show_wrong > 0 && !wrong.is_empty() {
        wrong.sort_by(|a, b| b.confidence().total_cmp(&a.confidence()));
        let classes = dataset.classes();
        println!(
            "\n{} most confident (index: 0-based data row, header not counted; CSV line = index + 2):",
            args.show_wrong.min(wrong.len())
        );
        println!(
            "{:>7}  {:<11} {:<10} {:<10} {:>10}",
            "index", "usage", "true", "predicted", "confidence"
        );
        for p in wrong.iter().take(args.show_wrong) {
            let FaceId::Row(row) = p.face else {
                unreachable!("evaluation rows are data rows")
            };
            println!(
                "{row:>7}  {:<11} {:<10} {:<10} {:>10.4}",
                p.usage.map_or("-", Split::usage_name),
                p.truth.map_or("-", |t| classes[t as usize].name()),
                classes[p.predicted as usize].name(),
                p.confidence()
            );
        }
    }
    if let Some(path) = &args.predictions {
        write_predictions(path, dataset.classes(), &table)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("\npredictions of {} faces: {}", table.len(), path.display());
    }
    if let Some(kind) = args.attack {
        let reference = match &args.reference {
            Some(path) => read_checkpoint(path)?.model(&device)?.valid(),
            None => model.clone(),
        };
        println!("\naccuracy under {kind} attack:");
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
                dataset,
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
    /// Image files (PNG, JPEG, any size or color), folders of them (searched recursively;
    /// an emotion folder name such as happy/ gives the true class, a split folder above it
    /// the usage), or one FER2013 CSV (.csv, .csv.gz).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Write the predictions to this CSV (path or index, usage, true, predicted, p_<class>)
    /// instead of printing one line per face.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// With a CSV: skip bad rows instead of stopping.
    #[arg(long)]
    lenient: bool,
    #[command(flatten)]
    compute: ComputeArgs,
}

fn is_csv(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

/// Image files under `path` (itself when a file), sorted, recursively.
fn image_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if !path.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading folder {}", path.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading folder {}", path.display()))?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            image_files(&entry, out)?;
        } else if folder::is_image(&entry) {
            out.push(entry);
        }
    }
    Ok(())
}

/// The true class and usage an image's folders give (`.../test/happy/x.png`), when they do.
fn labels_from_folders(path: &Path, classes: &[Emotion]) -> (Option<u8>, Option<Split>) {
    let name = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
    };
    let parent = path.parent();
    let emotion = name(parent).and_then(|n| n.parse::<Emotion>().ok());
    let truth = emotion.and_then(|e| classes.iter().position(|&c| c == e).map(|i| i as u8));
    let usage = emotion
        .and(name(parent.and_then(Path::parent)))
        .and_then(|n| n.parse::<Split>().ok());
    (truth, usage)
}

pub fn run_predict(args: PredictArgs) -> anyhow::Result<()> {
    let device = args.compute.device()?;
    let ckpt = read_checkpoint(&args.checkpoint)?;
    let classes = ckpt.state.classes.clone();
    let csv_inputs = args.inputs.iter().filter(|p| is_csv(p)).count();
    // Images that could not be read: the others are still predicted, then the command fails.
    let mut unreadable = Vec::new();
    let (faces, mut rows) = if csv_inputs > 0 {
        if args.inputs.len() > 1 {
            anyhow::bail!(
                "give one FER2013 CSV, or image files and folders (got {} inputs, {csv_inputs} of them CSV)",
                args.inputs.len()
            );
        }
        let dataset = source::load(&DataSpec::Path(args.inputs[0].clone()), args.lenient)?;
        // The run's classes are the model's outputs; labels of other classes are left out.
        let keep: Vec<Option<u8>> = Emotion::ALL
            .iter()
            .map(|e| classes.iter().position(|c| c == e).map(|i| i as u8))
            .collect();
        let rows = (0..dataset.len())
            .map(|i| Prediction {
                face: FaceId::Row(dataset.source_row(i)),
                usage: dataset.usage().map(|u| u[i]),
                truth: dataset.class_of(i).and_then(|e| keep[e.index()]),
                predicted: 0,
                probabilities: Vec::new(),
            })
            .collect();
        (dataset, rows)
    } else {
        let mut files = Vec::new();
        for input in &args.inputs {
            image_files(input, &mut files)?;
        }
        if files.is_empty() {
            anyhow::bail!("no .png or .jpg images in {}", args.inputs[0].display());
        }
        let mut pixels = Vec::with_capacity(files.len() * fer::data::FACE_PIXELS);
        let mut rows = Vec::with_capacity(files.len());
        for path in files {
            match folder::read_face(&path) {
                Ok(face) => pixels.extend(face),
                Err(problem) => {
                    unreadable.push(format!("{}: {problem}", path.display()));
                    continue;
                }
            }
            let (truth, usage) = labels_from_folders(&path, &classes);
            rows.push(Prediction {
                face: FaceId::Path(path),
                usage,
                truth,
                predicted: 0,
                probabilities: Vec::new(),
            });
        }
        (Dataset::new(pixels, None, None, classes.clone())?, rows)
    };
    let model = ckpt.model(&device)?.valid();
    for (row, probabilities) in rows
        .iter_mut()
        .zip(predict_probabilities(&model, &faces, &device))
    {
        row.predicted = argmax(&probabilities);
        row.probabilities = probabilities;
    }
    match &args.output {
        Some(path) => {
            write_predictions(path, &classes, &rows)
                .with_context(|| format!("writing {}", path.display()))?;
            let labeled: Vec<&Prediction> = rows.iter().filter(|r| r.truth.is_some()).collect();
            let correct = labeled
                .iter()
                .filter(|r| r.truth == Some(r.predicted))
                .count();
            print!("predictions of {} faces: {}", rows.len(), path.display());
            if !labeled.is_empty() {
                print!(
                    " ({correct} of {} labeled faces right, accuracy {:.4})",
                    labeled.len(),
                    correct as f64 / labeled.len() as f64
                );
            }
            println!();
        }
        None => {
            for row in &rows {
                let all: Vec<String> = classes
                    .iter()
                    .zip(&row.probabilities)
                    .map(|(c, p)| format!("{} {:.3}", c.name(), p))
                    .collect();
                let face = match &row.face {
                    FaceId::Row(r) => format!("row {r}"),
                    FaceId::Path(p) => p.display().to_string(),
                };
                println!(
                    "{face}: {} ({:.1}%)  [{}]",
                    classes[row.predicted as usize].name(),
                    100.0 * row.confidence(),
                    all.join(", ")
                );
            }
        }
    }
    if !unreadable.is_empty() {
        for problem in &unreadable {
            eprintln!("error: {problem}");
        }
        anyhow::bail!("{} of the images could not be read", unreadable.len());
    }
    Ok(())
}
