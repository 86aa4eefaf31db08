//! `fer train`: configuration from a TOML file and flags, a progress bar fed by run events.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use fer::data::Emotion;
use fer::nsl::{AdvNorm, AdvRegConfig};
use fer::run::events::Event;
use fer::train::{self, ModelChoice, RunOptions, TrainConfig};
use indicatif::{ProgressBar, ProgressStyle};

use super::source::{parse_classes, train_validation, DataSpec};
use super::ComputeArgs;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// FER2013 CSV (.csv/.csv.gz), image-folder tree, or synthetic[:N[:SEED]].
    #[arg(long, default_value = "synthetic")]
    data: DataSpec,
    /// TOML file with any TrainConfig fields; flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Network preset: report-4.2, report-5.1, report-5.2, small, tiny.
    #[arg(long)]
    preset: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate.
    #[arg(long = "lr")]
    learning_rate: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Train with adversarial regularization (NSL defaults unless set below).
    #[arg(long)]
    adversarial: bool,
    #[arg(long)]
    multiplier: Option<f64>,
    #[arg(long)]
    adv_step_size: Option<f64>,
    /// l2, infinity or l1.
    #[arg(long)]
    adv_grad_norm: Option<AdvNorm>,
    #[arg(long)]
    pgd_iterations: Option<usize>,
    #[arg(long)]
    pgd_epsilon: Option<f64>,
    #[arg(long)]
    clip_min: Option<f64>,
    #[arg(long)]
    clip_max: Option<f64>,
    #[arg(long)]
    random_init: bool,
    /// Augmentation: rotation range in degrees.
    #[arg(long)]
    rotation: Option<f32>,
    /// Augmentation: zoom range (0.1 = 90%-110%).
    #[arg(long)]
    zoom: Option<f32>,
    /// Augmentation: shift range as a fraction of the side.
    #[arg(long)]
    shift: Option<f32>,
    /// Augmentation: random horizontal flips.
    #[arg(long)]
    flip: bool,
    /// Stop after this many epochs without a better validation accuracy.
    #[arg(long)]
    early_stopping: Option<usize>,
    /// Train on these classes only, e.g. happiness,sadness,neutral.
    #[arg(long, value_parser = parse_classes)]
    classes: Option<Vec<Emotion>>,
    /// Validation share when the data has no Usage column.
    #[arg(long, default_value_t = 0.1)]
    val_fraction: f64,
    /// Folder of run directories.
    #[arg(long, default_value = "runs")]
    run_dir: PathBuf,
    /// Run name (default: run-DATE-TIME).
    #[arg(long)]
    name: Option<String>,
    /// Continue the named run from its last checkpoint.
    #[arg(long, requires = "name")]
    resume: bool,
    #[command(flatten)]
    compute: ComputeArgs,
    /// Skip bad rows of the data instead of stopping.
    #[arg(long)]
    lenient: bool,
}

impl TrainArgs {
    /// The configuration: defaults, then the TOML file, then flags.
    fn config(&self) -> anyhow::Result<TrainConfig> {
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| {
                    format!("{}: invalid training configuration", path.display())
                })?
            }
            None => TrainConfig::default(),
        };
        if let Some(preset) = &self.preset {
            config.model = ModelChoice::Preset {
                preset: preset.clone(),
            };
        }
        set(&mut config.epochs, self.epochs);
        set(&mut config.batch_size, self.batch_size);
        set(&mut config.learning_rate, self.learning_rate);
        set(&mut config.seed, self.seed);
        let augment = &mut config.augment;
        set(&mut augment.rotation_degrees, self.rotation);
        set(&mut augment.zoom, self.zoom);
        set(&mut augment.shift, self.shift);
        augment.horizontal_flip |= self.flip;
        if self.early_stopping.is_some() {
            config.early_stopping_patience = self.early_stopping;
        }
        let wants_adversarial = self.adversarial
            || self.multiplier.is_some()
            || self.adv_step_size.is_some()
            || self.adv_grad_norm.is_some()
            || self.pgd_iterations.is_some()
            || self.pgd_epsilon.is_some()
            || self.random_init;
        if wants_adversarial {
            let adv = config.adversarial.get_or_insert_with(AdvRegConfig::default);
            set(&mut adv.multiplier, self.multiplier);
            set(&mut adv.adv_step_size, self.adv_step_size);
            set(&mut adv.adv_grad_norm, self.adv_grad_norm);
            set(&mut adv.pgd_iterations, self.pgd_iterations);
            if self.pgd_epsilon.is_some() {
                adv.pgd_epsilon = self.pgd_epsilon;
            }
            if self.clip_min.is_some() {
                adv.clip_value_min = self.clip_min;
            }
            if self.clip_max.is_some() {
                adv.clip_value_max = self.clip_max;
            }
            adv.random_init |= self.random_init;
        }
        config.validate().map_err(anyhow::Error::msg)?;
        Ok(config)
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let compute = args.compute.compute()?;
    let dataset = args.data.load(args.lenient, args.classes.as_deref())?;
    let (train_set, validation) = train_validation(&dataset, args.val_fraction, config.seed)?;
    eprintln!(
        "training on {} faces, validating on {} ({} classes, {} backend)",
        train_set.len(),
        validation.len(),
        train_set.classes().len(),
        compute.backend
    );
    let options = RunOptions {
        root: args.run_dir.clone(),
        name: args.name.clone(),
        resume: args.resume,
        compute,
    };
    let mut progress = Progress::default();
    let outcome = train::fit(&config, &train_set, Some(&validation), &options, &mut |e| {
        progress.on(e)
    })?;
    progress.finish();
    println!("run directory: {}", outcome.run_dir.path.display());
    match super::plot::draw_run(&outcome.run_dir.path) {
        Ok(written) => println!("pictures: {}", written.join(", ")),
        Err(problem) => eprintln!("could not draw the run's pictures: {problem:#}"),
    }
    if let Some((epoch, accuracy)) = outcome.best {
        println!("best validation accuracy {:.4} at epoch {epoch}", accuracy);
    }
    Ok(())
}

/// A progress bar per epoch, driven by the run's events.
#[derive(Default)]
struct Progress {
    bar: Option<ProgressBar>,
    steps: u64,
    epochs: usize,
}

impl Progress {
    fn on(&mut self, event: &Event) {
        match event {
            Event::RunStart {
                epochs,
                steps_per_epoch,
                resumed_from_epoch,
                ..
            } => {
                self.epochs = *epochs;
                self.steps = *steps_per_epoch as u64;
                if let Some(epoch) = resumed_from_epoch {
                    eprintln!("resuming after epoch {epoch}");
                }
            }
            Event::Step {
                epoch,
                step,
                metrics,
                images_per_second,
                ..
            } => {
                let bar = self.bar.get_or_insert_with(|| {
                    let bar = ProgressBar::new(self.steps);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {pos}/{len} {msg} ({eta})",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    );
                    bar
                });
                bar.set_prefix(format!("epoch {epoch}/{}", self.epochs));
                bar.set_position(*step as u64);
                bar.set_message(format!(
                    "loss {:.4} acc {:.3} adv {:.4} {:.0} img/s",
                    metrics.loss,
                    metrics.categorical_accuracy,
                    metrics.scaled_adversarial_loss,
                    images_per_second
                ));
            }
            Event::EpochEnd {
                epoch,
                train,
                validation,
                seconds,
                data_wait_seconds,
                ..
            } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let val = validation.map_or(String::new(), |v| {
                    format!(
                        " | val loss {:.4} acc {:.4} adv {:.4}",
                        v.loss, v.categorical_accuracy, v.scaled_adversarial_loss
                    )
                });
                eprintln!(
                    "epoch {epoch}/{}: loss {:.4} ce {:.4} acc {:.4} adv {:.4}{val} ({seconds:.1} s, {:.0} ms waiting for data)",
                    self.epochs, train.loss, train.categorical_crossentropy, train.categorical_accuracy, train.scaled_adversarial_loss,
                    data_wait_seconds * 1e3
                );
            }
            Event::Failure { message, .. } => eprintln!("failed: {message}"),
            _ => {}
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
