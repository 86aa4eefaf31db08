//! `fer report`: runs written up beside the study's results, as Markdown and HTML with
//! their pictures. What a student hands in.
//!
//! Per run: what ran (recipe, network, data and its split, backend, time, status), the
//! curves and the metrics after every epoch, the final model's metrics on each part of the
//! data, its classification report and confusion matrix on the test part, its accuracy under
//! FGSM and PGD, and the study's numbers with the difference. Several runs get a summary
//! table, and a robustness table side by side (plain versus NSL).

mod document;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::Device;

pub use document::{Block, Document};

use crate::atomic::write_atomically;
use crate::data::{DataError, DataSpec, Dataset, LoadOptions, Split, SplitPlan};
use crate::metrics::{accuracy_under_attack, evaluate, Attack, ConfusionMatrix};
use crate::run::events::Metrics;
use crate::run::{RunDir, RunInfo, RunLog, RunStatus};
use crate::train::checkpoint::Checkpoint;
use crate::train::{Recipe, TrainConfig};

/// What to compute for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// The data to evaluate on; `None` uses the data each run recorded in `run.json`.
    pub data: Option<DataSpec>,
    pub lenient: bool,
    /// The parts of each run's data to evaluate the final model on.
    pub splits: Vec<Split>,
    /// Attack sizes (infinity norm on [0, 1] images) for FGSM and PGD; empty for none.
    pub epsilons: Vec<f64>,
    /// Attack the first this many faces of the test part (attacks cost a gradient per step).
    pub attack_faces: usize,
    pub pgd_iterations: usize,
    pub batch_size: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            data: None,
            lenient: false,
            splits: Split::ALL.to_vec(),
            epsilons: vec![0.01, 0.02, 0.05],
            attack_faces: 500,
            pgd_iterations: 10,
            batch_size: 128,
        }
    }
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: not a run directory: {error}", path = path.display())]
    NotARun { path: PathBuf, error: io::Error },
    #[error("{path}: {error}", path = path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("run '{run}' does not record the data it trained on: name the data to evaluate on")]
    NoData { run: String },
    #[error("run '{run}': {error}")]
    Data { run: String, error: DataError },
    #[error("{what}: {error}")]
    Figure {
        what: String,
        error: crate::viz::DrawError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        error: source,
    }
}

/// One run, measured.
struct RunSection {
    name: String,
    info: RunInfo,
    config: Option<TrainConfig>,
    log: RunLog,
    /// The evaluated final model: (part name, faces, metrics).
    evaluations: Vec<(&'static str, usize, Metrics)>,
    /// The test part's name and confusion matrix.
    test: Option<(&'static str, ConfusionMatrix)>,
    /// (attack, epsilon, accuracy) on the first `attacked` faces of the test part, with
    /// "clean" at epsilon 0 first.
    robustness: Vec<(&'static str, f64, f64)>,
    attacked: usize,
    train_faces: Option<usize>,
    /// The data evaluated on, when it is not the data the run recorded.
    evaluated_on: Option<String>,
    checkpoint_epoch: Option<usize>,
}

/// Writes `report.md`, `report.html` and their pictures into `out` for the runs at `runs`,
/// evaluating each run's final model on `device`. Returns the Markdown file's path.
pub fn write_report(
    runs: &[PathBuf],
    out: &Path,
    options: &ReportOptions,
    device: &Device,
) -> Result<PathBuf, ReportError> {
    std::fs::create_dir_all(out).map_err(io_error(out))?;
    let mut data_cache: HashMap<String, Dataset> = HashMap::new();
    let mut sections = Vec::new();
    for dir in runs {
        sections.push(measure_run(dir, options, device, &mut data_cache)?);
    }
    let mut doc = Document {
        title: "fer report".into(),
        blocks: Vec::new(),
    };
    if sections.len() > 1 {
        summary_blocks(&sections, &mut doc.blocks);
    }
    for section in &sections {
        section_blocks(section, out, &mut doc.blocks)?;
    }
    let markdown = out.join("report.md");
    let html = out.join("report.html");
    for (path, text) in [(&markdown, doc.to_markdown()), (&html, doc.to_html())] {
        write_atomically(path, |f| f.write_all(text.as_bytes())).map_err(io_error(path))?;
    }
    Ok(markdown)
}

fn measure_run(
    dir: &Path,
    options: &ReportOptions,
    device: &Device,
    data_cache: &mut HashMap<String, Dataset>,
) -> Result<RunSection, ReportError> {
    let info = RunInfo::read(dir).map_err(|source| ReportError::NotARun {
        path: dir.to_path_buf(),
        error: source,
    })?;
    let log = RunLog::read(dir).unwrap_or_default();
    let config: Option<TrainConfig> = serde_json::from_value(info.config.clone()).ok();
    let mut section = RunSection {
        name: info.name.clone(),
        config,
        log,
        evaluations: Vec::new(),
        test: None,
        robustness: Vec::new(),
        attacked: 0,
        train_faces: None,
        evaluated_on: None,
        checkpoint_epoch: None,
        info,
    };
    let last = RunDir {
        path: dir.to_path_buf(),
    }
    .last_checkpoint();
    if !last.exists() {
        return Ok(section);
    }
    let ckpt = Checkpoint::read(&last).map_err(io_error(&last))?;
    section.checkpoint_epoch = Some(ckpt.state.epoch);
    let run = section.name.clone();
    let data_error = |source| ReportError::Data {
        run: run.clone(),
        error: source,
    };
    let spec = match (&options.data, &section.info.data) {
        (Some(spec), _) => spec.clone(),
        (None, Some(recorded)) => recorded.parse().map_err(|problem| ReportError::Data {
            run: run.clone(),
            error: DataError::Invalid(problem),
        })?,
        (None, None) => return Err(ReportError::NoData { run }),
    };
    let key = spec.to_string();
    if section.info.data.as_ref() != Some(&key) {
        section.evaluated_on = Some(key.clone());
    }
    if !data_cache.contains_key(&key) {
        let loaded = spec
            .load(&LoadOptions {
                lenient: options.lenient,
            })
            .map_err(data_error)?;
        data_cache.insert(key.clone(), loaded.dataset);
    }
    let (_, parts) = ckpt.faces(&data_cache[&key]).map_err(data_error)?;
    let config = &ckpt.state.config;
    section.train_faces = Some(parts.train.len());
    let model = ckpt.model(device).map_err(io_error(&last))?.valid();
    let evaluate_part = |part: &Dataset| {
        evaluate(
            &model,
            part,
            options.batch_size,
            config.adversarial.as_ref(),
            device,
        )
        .map_err(data_error)
    };
    let (test_split, test) = parts.held_out();
    let mut test_result = None;
    for &split in &options.splits {
        let Ok(part) = parts.part(split) else {
            continue;
        };
        let result = evaluate_part(part)?;
        section
            .evaluations
            .push((split.part_name(), part.len(), result.metrics));
        if split == test_split {
            test_result = Some(result);
        }
    }
    let result = match test_result {
        Some(result) => result,
        None => evaluate_part(test)?,
    };
    let test_name = test_split.part_name();
    if options.attack_faces > 0 && !options.epsilons.is_empty() {
        let n = options.attack_faces.min(test.len());
        let attacked = test.subset(&(0..n).collect::<Vec<_>>());
        section.attacked = n;
        let labels = attacked.labels().unwrap_or_default();
        let clean = labels
            .iter()
            .zip(&result.predictions)
            .filter(|(t, p)| t == p)
            .count();
        section
            .robustness
            .push(("clean", 0.0, clean as f64 / n.max(1) as f64));
        for &epsilon in &options.epsilons {
            for (name, attack) in [
                ("FGSM", Attack::Fgsm { epsilon }),
                (
                    "PGD",
                    Attack::Pgd {
                        epsilon,
                        iterations: options.pgd_iterations,
                    },
                ),
            ] {
                let accuracy = accuracy_under_attack(
                    &model,
                    &model,
                    &attacked,
                    attack,
                    options.batch_size,
                    device,
                )
                .map_err(data_error)?;
                section.robustness.push((name, epsilon, accuracy));
            }
        }
    }
    section.test = Some((test_name, result.confusion));
    Ok(section)
}

fn fixed(value: f64) -> String {
    format!("{value:.4}")
}

fn signed(value: f64) -> String {
    format!("{value:+.4}")
}

/// The run's status in words, saying when and why it stopped short.
fn status_text(section: &RunSection) -> String {
    let done = section.log.history.last().map_or(0, |r| r.epoch);
    let planned = section.config.as_ref().map_or(done, |c| c.epochs);
    let epochs = format!("{done} of {planned} epochs");
    match section.info.status {
        RunStatus::Finished => format!("finished ({epochs})"),
        RunStatus::StoppedEarly => {
            format!("stopped early by early stopping ({epochs})")
        }
        RunStatus::OutOfTime => {
            format!("stopped early: its time budget was spent ({epochs}; resuming continues it)")
        }
        RunStatus::Interrupted => {
            format!("interrupted by a signal ({epochs}; resuming continues it)")
        }
        RunStatus::Failed => format!(
            "FAILED after {epochs}: {}",
            section
                .log
                .failure
                .as_deref()
                .unwrap_or("no failure message logged")
        ),
        RunStatus::Running => format!("still running or interrupted ({epochs} so far)"),
    }
}

fn split_text(plan: &SplitPlan) -> String {
    match *plan {
        SplitPlan::Usage {
            validation_fraction,
        } => format!(
            "FER2013 Usage: Training trains, PublicTest validates, PrivateTest tests (without PublicTest rows, a stratified {validation_fraction} of Training validates)"
        ),
        SplitPlan::Stratified {
            train_fraction,
            seed,
        } => format!(
            "stratified {train_fraction}/{:.2} split of all faces (seed {seed}); the held-out part validates and tests",
            1.0 - train_fraction
        ),
    }
}

fn study_of(section: &RunSection) -> Option<Recipe> {
    section
        .config
        .as_ref()
        .and_then(|c| c.recipe.as_deref())
        .and_then(Recipe::named)
}

fn test_accuracy(section: &RunSection) -> Option<f64> {
    section.test.as_ref().map(|(_, cm)| cm.accuracy())
}

fn summary_blocks(sections: &[RunSection], blocks: &mut Vec<Block>) {
    blocks.push(Block::Heading(2, "Runs".into()));
    let rows = sections
        .iter()
        .map(|s| {
            let study = study_of(s).and_then(|r| r.study.test_accuracy);
            vec![
                s.name.clone(),
                s.config
                    .as_ref()
                    .and_then(|c| c.recipe.clone())
                    .unwrap_or_else(|| "custom".into()),
                status_text(s),
                s.log
                    .history
                    .iter()
                    .filter_map(|r| r.validation.map(|v| v.categorical_accuracy))
                    .fold(None, |best: Option<f64>, a| {
                        Some(best.map_or(a, |b| b.max(a)))
                    })
                    .map_or("-".into(), fixed),
                test_accuracy(s).map_or("-".into(), fixed),
                study.map_or("-".into(), fixed),
            ]
        })
        .collect();
    blocks.push(Block::Table {
        header: [
            "run",
            "recipe",
            "status",
            "best validation accuracy",
            "final test accuracy",
            "the study's test accuracy",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    let attacked: Vec<&RunSection> = sections
        .iter()
        .filter(|s| !s.robustness.is_empty())
        .collect();
    if attacked.len() > 1 {
        blocks.push(Block::Heading(3, "Robustness side by side".into()));
        let mut header = vec!["attack".to_string(), "epsilon".to_string()];
        header.extend(attacked.iter().map(|s| {
            let kind = match s
                .config
                .as_ref()
                .map(|c| (c.adversarial.is_some(), c.graph.is_some()))
            {
                Some((true, true)) => "NSL adv+graph",
                Some((true, false)) => "NSL",
                Some((false, true)) => "NSL graph",
                Some((false, false)) => "plain",
                None => "?",
            };
            format!("{} ({kind})", s.name)
        }));
        let mut rows = Vec::new();
        for (i, &(name, epsilon, _)) in attacked[0].robustness.iter().enumerate() {
            let mut row = vec![name.to_string(), epsilon.to_string()];
            row.extend(attacked.iter().map(|s| {
                s.robustness
                    .get(i)
                    .filter(|r| r.0 == name && r.1 == epsilon)
                    .map_or("-".into(), |r| fixed(r.2))
            }));
            rows.push(row);
        }
        blocks.push(Block::Table { header, rows });
        blocks.push(Block::Paragraph(
            "Each model is attacked through its own gradients (white box); all figures, clean ones included, are on the same first faces of its test part.".into(),
        ));
    }
}

/// Saves a drawn figure as `out/file` and returns the block that shows it.
fn picture(
    figure: Result<crate::viz::Figure, crate::viz::DrawError>,
    out: &Path,
    file: String,
    caption: String,
) -> Result<Block, ReportError> {
    let figure = figure.map_err(|source| ReportError::Figure {
        what: file.clone(),
        error: source,
    })?;
    let path = out.join(&file);
    figure.save_png(&path).map_err(io_error(&path))?;
    Ok(Block::Image { file, caption })
}

fn section_blocks(
    section: &RunSection,
    out: &Path,
    blocks: &mut Vec<Block>,
) -> Result<(), ReportError> {
    let info = &section.info;
    blocks.push(Block::Heading(2, format!("Run {}", section.name)));
    let mut facts = Vec::new();
    if let Some(config) = &section.config {
        facts.push(format!(
            "recipe: {}",
            config
                .recipe
                .as_deref()
                .unwrap_or("none (custom configuration)")
        ));
        let network = match &config.model {
            crate::train::ModelChoice::Preset { preset } => preset.clone(),
            crate::train::ModelChoice::Custom(c) => format!("custom table '{}'", c.name),
        };
        facts.push(format!(
            "network {network}; {} epochs planned, batch {}, Adam {}; {}",
            config.epochs,
            config.batch_size,
            config.learning_rate,
            match &config.adversarial {
                Some(adv) => format!(
                    "NSL adversarial regularization: multiplier {}, adv_step_size {}, {:?} norm",
                    adv.multiplier, adv.adv_step_size, adv.adv_grad_norm
                ),
                None => "no adversarial regularization".into(),
            }
        ));
        if let Some(graph) = &config.graph {
            let reg = &graph.regularization;
            facts.push(format!(
                "NSL graph regularization over {}: multiplier {}, max_neighbors {}{}, {} distance of the {}",
                graph.file.display(),
                reg.multiplier,
                reg.max_neighbors,
                if graph.add_undirected_edges { " (undirected)" } else { "" },
                reg.distance.distance_type.name(),
                format!("{:?}", reg.output).to_lowercase(),
            ));
        }
        facts.push(format!("split: {}", split_text(&config.split)));
    }
    facts.push(format!("classes: {}", info.classes.join(", ")));
    facts.push(format!(
        "data: {}{}{}",
        info.data.as_deref().unwrap_or("not recorded"),
        section
            .evaluated_on
            .as_ref()
            .map_or(String::new(), |spec| format!("; evaluated on {spec}")),
        section
            .train_faces
            .map_or(String::new(), |n| format!(" ({n} training faces)"))
    ));
    facts.push(format!(
        "backend {} on {}, host {}",
        info.backend, info.device, info.host
    ));
    let seconds: f64 = section.log.history.iter().map(|r| r.seconds).sum();
    let mut time = format!("training time {:.1} min", seconds / 60.0);
    if let (Some(n), true) = (section.train_faces, seconds > 0.0) {
        let _ = write!(
            time,
            " ({:.1} training images/s)",
            (n * section.log.history.len()) as f64 / seconds
        );
    }
    facts.push(time);
    facts.push(format!("status: {}", status_text(section)));
    blocks.push(Block::List(facts));

    if !section.log.history.is_empty() {
        blocks.push(picture(
            crate::viz::training_curves(&section.log.history),
            out,
            format!("{}-curves.png", section.name),
            "Loss, cross-entropy, scaled adversarial loss and accuracy by epoch".into(),
        )?);
        blocks.push(Block::Table {
            header: [
                "epoch",
                "loss",
                "accuracy",
                "scaled adv. loss",
                "scaled graph loss",
                "val loss",
                "val accuracy",
                "val scaled adv. loss",
                "seconds",
            ]
            .map(String::from)
            .to_vec(),
            rows: section
                .log
                .history
                .iter()
                .map(|r| {
                    let v = r.validation;
                    let val =
                        |f: fn(&Metrics) -> f64| v.as_ref().map_or("-".into(), |m| fixed(f(m)));
                    vec![
                        r.epoch.to_string(),
                        fixed(r.train.loss),
                        fixed(r.train.categorical_accuracy),
                        fixed(r.train.scaled_adversarial_loss),
                        fixed(r.train.scaled_graph_loss),
                        val(|m| m.loss),
                        val(|m| m.categorical_accuracy),
                        val(|m| m.scaled_adversarial_loss),
                        format!("{:.1}", r.seconds),
                    ]
                })
                .collect(),
        });
    }
    let Some(epoch) = section.checkpoint_epoch else {
        blocks.push(Block::Paragraph(
            "No checkpoint: no epoch finished, so there is no model to evaluate.".into(),
        ));
        return Ok(());
    };

    blocks.push(Block::Heading(
        3,
        format!("Final model (after epoch {epoch})"),
    ));
    blocks.push(Block::Table {
        header: [
            "part",
            "faces",
            "loss",
            "categorical_crossentropy",
            "categorical_accuracy",
            "scaled_adversarial_loss",
        ]
        .map(String::from)
        .to_vec(),
        rows: section
            .evaluations
            .iter()
            .map(|(name, n, m)| {
                vec![
                    name.to_string(),
                    n.to_string(),
                    fixed(m.loss),
                    fixed(m.categorical_crossentropy),
                    fixed(m.categorical_accuracy),
                    fixed(m.scaled_adversarial_loss),
                ]
            })
            .collect(),
    });
    if let Some((name, confusion)) = &section.test {
        if *name == "validation" {
            blocks.push(Block::Paragraph(
                "The data has no test faces (no PrivateTest rows): the classification report and confusion matrix are on the validation part.".into(),
            ));
        }
        blocks.push(Block::Heading(
            3,
            format!("Classification report ({name} part)"),
        ));
        blocks.push(Block::Code(confusion.report().to_string()));
        blocks.push(picture(
            crate::viz::confusion_heatmap(confusion),
            out,
            format!("{}-confusion.png", section.name),
            format!("Confusion matrix, {name} part (rows: true class)"),
        )?);
    }
    if !section.robustness.is_empty() {
        blocks.push(Block::Heading(3, "Robustness".into()));
        let rows = section
            .robustness
            .iter()
            .map(|&(name, eps, acc)| vec![name.to_string(), eps.to_string(), fixed(acc)])
            .collect();
        blocks.push(Block::Table {
            header: ["attack", "epsilon", "accuracy"].map(String::from).to_vec(),
            rows,
        });
        blocks.push(Block::Paragraph(format!(
            "On the first {} faces of the {} part; attacks through the model's own gradients, bounded in the infinity norm on [0, 1] images.",
            section.attacked,
            section.test.as_ref().map_or("test", |t| t.0)
        )));
    }
    if let Some(recipe) = study_of(section) {
        blocks.push(Block::Heading(
            3,
            format!("Beside the study ({})", recipe.name),
        ));
        let study = recipe.study;
        let test_metrics = section
            .test
            .as_ref()
            .and_then(|(name, _)| section.evaluations.iter().find(|e| e.0 == *name))
            .map(|e| e.2);
        let train_accuracy = section
            .log
            .history
            .last()
            .map(|r| r.train.categorical_accuracy);
        let ours = [
            (
                "train accuracy (last epoch, as Keras reports it)",
                train_accuracy,
                study.train_accuracy,
            ),
            ("test accuracy", test_accuracy(section), study.test_accuracy),
            ("test loss", test_metrics.map(|m| m.loss), study.test_loss),
            (
                "test categorical cross-entropy",
                test_metrics.map(|m| m.categorical_crossentropy),
                study.test_cross_entropy,
            ),
            (
                "test scaled adversarial loss",
                test_metrics.map(|m| m.scaled_adversarial_loss),
                study.test_scaled_adversarial_loss,
            ),
        ];
        let rows = ours
            .iter()
            .filter(|(_, fer, study)| fer.is_some() || study.is_some())
            .map(|(name, fer, study)| {
                vec![
                    name.to_string(),
                    fer.map_or("-".into(), fixed),
                    study.map_or("-".into(), fixed),
                    match (fer, study) {
                        (Some(f), Some(s)) => signed(f - s),
                        _ => "-".into(),
                    },
                ]
            })
            .collect();
        blocks.push(Block::Table {
            header: ["metric", "fer", "the study", "difference"]
                .map(String::from)
                .to_vec(),
            rows,
        });
        let mut note = format!("The study: {}.", study.note);
        if section.test.as_ref().is_some_and(|t| t.0 != "test") {
            note.push_str(
                " fer's test figures are on the validation part: the data has no test faces.",
            );
        }
        if let Some(config) = &section.config {
            let done = section.log.history.last().map_or(0, |r| r.epoch);
            let planned = Recipe::named(recipe.name).map_or(config.epochs, |r| r.config().epochs);
            if done < planned {
                let _ = write!(
                    note,
                    " This run trained {done} of the recipe's {planned} epochs, so its numbers are not yet comparable with the study's final ones."
                );
            }
        }
        blocks.push(Block::Paragraph(note));
    }
    Ok(())
}
