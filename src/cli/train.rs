//! `fer train`: configuration from a TOML file and flags, a progress bar fed by run events.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use fer::data::{DataSpec, Emotion, SplitPlan};
use fer::nsl::{AdvNorm, AdvRegConfig, DistanceType, Reduction, RegularizedOutput, TransformFn};
use fer::run::events::Event;
use fer::train::{self, GraphTraining, ModelChoice, Recipe, RunOptions, TrainConfig};
use fer::ConfigError;
use indicatif::{ProgressBar, ProgressStyle};

use super::ComputeArgs;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// FER2013 CSV (.csv/.csv.gz), image-folder tree, or synthetic[:N[:SEED]].
    #[arg(long, default_value = "synthetic")]
    data: DataSpec,
    /// TOML file with any TrainConfig fields; flags override it.
    #[arg(long, conflicts_with = "recipe")]
    config: Option<PathBuf>,
    /// One of the study's experiments (recipes/*.toml, built in): report-4.2, report-4.2-100,
    /// report-5.1, report-5.2, report-3class. Flags override it.
    #[arg(long)]
    recipe: Option<String>,
    /// Network preset: report-4.2, report-5.1, report-5.2, small, tiny.
    #[arg(long)]
    preset: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    /// Faces per batch when validating after each epoch (default 64).
    #[arg(long)]
    val_batch_size: Option<usize>,
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
    /// Train with graph regularization over this TSV graph (`fer graph build`; ids are
    /// 0-based data rows). NSL defaults unless set below.
    #[arg(long, value_name = "FILE")]
    graph: Option<PathBuf>,
    /// Weight of the graph loss (NSL: 0.01).
    #[arg(long)]
    graph_multiplier: Option<f64>,
    /// Neighbours per training face, the heaviest edges first (fer: 1).
    #[arg(long)]
    max_neighbors: Option<usize>,
    /// Also use every edge of the graph reversed (NSL's pack_nbrs --add_undirected_edges).
    #[arg(long)]
    add_undirected_edges: bool,
    /// The output the graph term compares: probabilities (as NSL on the study's model) or
    /// logits.
    #[arg(long)]
    graph_output: Option<RegularizedOutput>,
    /// l2, l1, cosine, kl_divergence or jensen_shannon_divergence.
    #[arg(long)]
    distance_type: Option<DistanceType>,
    /// sum, mean, sum_over_batch_size or sum_by_nonzero_weights (NSL's default).
    #[arg(long)]
    graph_reduction: Option<Reduction>,
    /// -1 sums the distance over the classes (per face-neighbour pair).
    #[arg(long, allow_negative_numbers = true)]
    sum_over_axis: Option<i64>,
    /// none, softmax or sigmoid, applied to both outputs before the distance.
    #[arg(long)]
    transform_fn: Option<TransformFn>,
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
    /// Train on these classes only, e.g. happiness,sadness,neutral (names, folder names or 0-6).
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<Emotion>>,
    /// Held-out share: validation when the data has no Usage split (default 0.1), or the
    /// validation-and-test part of a stratified split.
    #[arg(long)]
    val_fraction: Option<f64>,
    /// Stop cleanly at an epoch end before this many minutes have passed (when another epoch
    /// would not fit); the run is marked out_of_time and --resume continues it.
    #[arg(long, allow_negative_numbers = true)]
    max_minutes: Option<f64>,
    /// Folder of run directories.
    #[arg(long, default_value = fer::run::DEFAULT_ROOT)]
    run_dir: PathBuf,
    /// Run name (default: run-DATE-TIME).
    #[arg(long)]
    name: Option<String>,
    /// Continue the named run from its last checkpoint.
    #[arg(long, requires = "name")]
    resume: bool,
    /// Do not write TensorBoard event files (runs/NAME/tb/); TOML: tensorboard = false.
    #[arg(long)]
    no_tensorboard: bool,
    #[command(flatten)]
    compute: ComputeArgs,
    /// Skip bad rows of the data instead of stopping.
    #[arg(long)]
    lenient: bool,
}

impl TrainArgs {
    /// The configuration: defaults, then the TOML file, then flags.
    fn config(&self) -> anyhow::Result<TrainConfig> {
        let mut config = match (&self.config, &self.recipe) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| {
                    format!("{}: invalid training configuration", path.display())
                })?
            }
            (None, Some(name)) => Recipe::named(name)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown recipe '{name}' (expected one of {})",
                        Recipe::names()
                    )
                })?
                .config(),
            (None, None) => TrainConfig::default(),
        };
        if let Some(preset) = &self.preset {
            config.model = ModelChoice::Preset {
                preset: preset.clone(),
            };
        }
        set(&mut config.epochs, self.epochs);
        set(&mut config.batch_size, self.batch_size);
        set(&mut config.validation_batch_size, self.val_batch_size);
        set(&mut config.learning_rate, self.learning_rate);
        set(&mut config.seed, self.seed);
        let augment = &mut config.augment;
        set(&mut augment.rotation_degrees, self.rotation);
        set(&mut augment.zoom, self.zoom);
        set(&mut augment.shift, self.shift);
        augment.horizontal_flip |= self.flip;
        config.tensorboard &= !self.no_tensorboard;
        if self.early_stopping.is_some() {
            config.early_stopping_patience = self.early_stopping;
        }
        if self.classes.is_some() {
            config.classes = self.classes.clone();
        }
        if let Some(held_out) = self.val_fraction {
            // Checked here: a stratified plan stores the complement, which would show in
            // its error instead of the number given.
            if !(held_out > 0.0 && held_out < 1.0) {
                anyhow::bail!(
                    "--val-fraction {held_out}: expected a number strictly between 0 and 1"
                );
            }
            match &mut config.split {
                SplitPlan::Usage {
                    validation_fraction,
                } => *validation_fraction = held_out,
                SplitPlan::Stratified { train_fraction, .. } => *train_fraction = 1.0 - held_out,
            }
        }
        let wants_adversarial = config.adversarial.is_some()
            || self.adversarial
            || self.multiplier.is_some()
            || self.adv_step_size.is_some()
            || self.adv_grad_norm.is_some()
            || self.pgd_iterations.is_some()
            || self.pgd_epsilon.is_some()
            || self.clip_min.is_some()
            || self.clip_max.is_some()
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
        self.set_graph(&mut config)?;
        config.validate().map_err(|error| explain(&error))?;
        Ok(config)
    }

    /// Applies the graph flags: `--graph` turns graph regularization on (over a `[graph]`
    /// table it replaces the file), the others change its settings.
    fn set_graph(&self, config: &mut TrainConfig) -> anyhow::Result<()> {
        if let Some(file) = &self.graph {
            match &mut config.graph {
                Some(graph) => graph.file = file.clone(),
                None => config.graph = Some(GraphTraining::new(file)),
            }
        }
        let settings = [
            ("--graph-multiplier", self.graph_multiplier.is_some()),
            ("--max-neighbors", self.max_neighbors.is_some()),
            ("--add-undirected-edges", self.add_undirected_edges),
            ("--graph-output", self.graph_output.is_some()),
            ("--distance-type", self.distance_type.is_some()),
            ("--graph-reduction", self.graph_reduction.is_some()),
            ("--sum-over-axis", self.sum_over_axis.is_some()),
            ("--transform-fn", self.transform_fn.is_some()),
        ];
        let Some(graph) = &mut config.graph else {
            if let Some((flag, _)) = settings.iter().find(|(_, given)| *given) {
                anyhow::bail!("{flag} sets graph regularization: also pass --graph FILE");
            }
            return Ok(());
        };
        graph.add_undirected_edges |= self.add_undirected_edges;
        let reg = &mut graph.regularization;
        set(&mut reg.multiplier, self.graph_multiplier);
        set(&mut reg.max_neighbors, self.max_neighbors);
        set(&mut reg.output, self.graph_output);
        let distance = &mut reg.distance;
        set(&mut distance.distance_type, self.distance_type);
        set(&mut distance.reduction, self.graph_reduction);
        set(&mut distance.transform_fn, self.transform_fn);
        if self.sum_over_axis.is_some() {
            distance.sum_over_axis = self.sum_over_axis;
        }
        Ok(())
    }

    /// The time budget of `--max-minutes`.
    fn max_duration(&self) -> anyhow::Result<Option<Duration>> {
        self.max_minutes
            .map(|minutes| {
                Duration::try_from_secs_f64(minutes * 60.0)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        anyhow::anyhow!("--max-minutes {minutes}: expected a positive number")
                    })
            })
            .transpose()
    }
}

/// The flag of `fer train` that sets each configuration field, by its TOML path.
const FLAGS: [(&str, &str); 29] = [
    ("epochs", "--epochs"),
    ("batch_size", "--batch-size"),
    ("validation_batch_size", "--val-batch-size"),
    ("learning_rate", "--lr"),
    ("seed", "--seed"),
    ("classes", "--classes"),
    ("early_stopping_patience", "--early-stopping"),
    ("split.validation_fraction", "--val-fraction"),
    ("split.train_fraction", "--val-fraction"),
    ("model.preset", "--preset"),
    ("adversarial.multiplier", "--multiplier"),
    ("adversarial.adv_step_size", "--adv-step-size"),
    ("adversarial.adv_grad_norm", "--adv-grad-norm"),
    ("adversarial.pgd_iterations", "--pgd-iterations"),
    ("adversarial.pgd_epsilon", "--pgd-epsilon"),
    ("adversarial.clip_value_min", "--clip-min"),
    ("adversarial.clip_value_max", "--clip-max"),
    ("adversarial.random_init", "--random-init"),
    ("augment.rotation_degrees", "--rotation"),
    ("augment.zoom", "--zoom"),
    ("augment.shift", "--shift"),
    ("graph.file", "--graph"),
    ("graph.multiplier", "--graph-multiplier"),
    ("graph.max_neighbors", "--max-neighbors"),
    ("graph.output", "--graph-output"),
    ("graph.distance.distance_type", "--distance-type"),
    ("graph.distance.reduction", "--graph-reduction"),
    ("graph.distance.sum_over_axis", "--sum-over-axis"),
    ("graph.distance.transform_fn", "--transform-fn"),
];

fn flag_of(field: &str) -> Option<&'static str> {
    FLAGS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, flag)| *flag)
}

/// A configuration error in `fer train`'s words: the TOML field and the flag that sets it.
fn explain(error: &ConfigError) -> anyhow::Error {
    match flag_of(&error.field) {
        Some(flag) => anyhow::anyhow!(
            "invalid training configuration: {} (flag {flag}): {}",
            error.field,
            error.reason
        ),
        None => anyhow::anyhow!("invalid training configuration: {error}"),
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let max_duration = args.max_duration()?;
    let compute = args.compute.compute()?;
    let dataset = super::source::load(&args.data, args.lenient)?;
    let parts = config.parts(&dataset)?;
    eprintln!(
        "training on {} faces, validating on {} ({} classes, {} backend)",
        parts.train.len(),
        parts.validation.len(),
        parts.train.classes().len(),
        compute.backend
    );
    let options = RunOptions {
        root: args.run_dir.clone(),
        name: args.name.clone(),
        resume: args.resume,
        data_source: Some(args.data.absolute().to_string()),
    };
    let (stop, exit_code) = stop_on_signals()?;
    let mut progress = Progress {
        resuming: args.resume,
        ..Progress::default()
    };
    let outcome = train::Training::new(&config)
        .validate_on(&parts.validation)
        .compute(compute)
        .max_duration(max_duration)
        .save(options)
        .interrupt_on(stop)
        .on_event(|e| progress.on(e))
        .fit(&parts.train)
        .map_err(|error| match error {
            train::TrainError::RunExists { .. } => {
                anyhow::anyhow!("{error}: pass --resume to continue it, or another --name")
            }
            train::TrainError::Config(error) => explain(&error),
            train::TrainError::BadRunName { .. } => anyhow::anyhow!("{error}: pass another --name"),
            other => other.into(),
        })?;
    progress.finish();
    if let Some(run_dir) = &outcome.run_dir {
        println!("run directory: {}", run_dir.path.display());
        match super::plot::draw_run(&run_dir.path) {
            Ok(written) => println!("pictures: {}", written.join(", ")),
            Err(problem) => eprintln!("could not draw the run's pictures: {problem:#}"),
        }
    }
    if let Some((epoch, accuracy)) = outcome.best {
        println!("best validation accuracy {:.4} at epoch {epoch}", accuracy);
    }
    if outcome.status == fer::run::RunStatus::Interrupted {
        eprintln!(
            "interrupted: the run keeps the checkpoint of epoch {}; --resume continues it",
            outcome.history.last().map_or(0, |r| r.epoch)
        );
        std::process::exit(exit_code.load(Ordering::Relaxed) as i32);
    }
    if outcome.status == fer::run::RunStatus::OutOfTime {
        println!(
            "stopped after epoch {} of {}: the --max-minutes budget was spent (--resume continues)",
            outcome.history.last().map_or(0, |r| r.epoch),
            config.epochs
        );
    }
    Ok(())
}

/// Ctrl-C and SIGTERM set the returned flag, which stops the run at its next step; the exit
/// code it should end with (130 or 143) goes in the other. A second Ctrl-C exits at once.
fn stop_on_signals() -> anyhow::Result<(Arc<AtomicBool>, Arc<AtomicUsize>)> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    let exit_code = Arc::new(AtomicUsize::new(130));
    for (signal, code) in [(SIGINT, 130), (SIGTERM, 143)] {
        // Registered first, so it sees the flag as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(signal, code as i32, stop.clone())?;
        signal_hook::flag::register_usize(signal, exit_code.clone(), code)?;
        signal_hook::flag::register(signal, stop.clone())?;
    }
    Ok((stop, exit_code))
}

/// A progress bar per epoch, driven by the run's events.
#[derive(Default)]
struct Progress {
    /// `--resume` was asked for.
    resuming: bool,
    bar: Option<ProgressBar>,
    steps: u64,
    epochs: usize,
    /// The run has graph regularization.
    graph: bool,
}

impl Progress {
    fn on(&mut self, event: &Event) {
        match event {
            Event::RunStart {
                epochs,
                steps_per_epoch,
                resumed_from_epoch,
                graph,
                ..
            } => {
                self.graph = *graph;
                self.epochs = *epochs;
                self.steps = *steps_per_epoch as u64;
                match resumed_from_epoch {
                    Some(epoch) => eprintln!("resuming after epoch {epoch}"),
                    None if self.resuming => {
                        eprintln!("the run stopped before its first checkpoint: starting it over")
                    }
                    None => {}
                }
            }
            Event::Step {
                epoch,
                step,
                metrics,
                images_per_second,
                ..
            } => {
                let graph = self.graph_part(metrics);
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
                    "loss {:.4} acc {:.3} adv {:.4}{} {:.0} img/s",
                    metrics.loss,
                    metrics.categorical_accuracy,
                    metrics.scaled_adversarial_loss,
                    graph,
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
                    "epoch {epoch}/{}: loss {:.4} ce {:.4} acc {:.4} adv {:.4}{}{val} ({seconds:.1} s, {:.0} ms waiting for data)",
                    self.epochs, train.loss, train.categorical_crossentropy, train.categorical_accuracy, train.scaled_adversarial_loss,
                    self.graph_part(train), data_wait_seconds * 1e3
                );
            }
            Event::Failure { message, .. } => eprintln!("failed: {message}"),
            _ => {}
        }
    }

    /// The scaled graph loss for a progress line, when the run has a graph.
    fn graph_part(&self, metrics: &fer::run::events::Metrics) -> String {
        if self.graph {
            format!(" graph {:.4}", metrics.scaled_graph_loss)
        } else {
            String::new()
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// `fer train`'s flags alone, as clap parses them.
    #[derive(Debug, Parser)]
    struct Train {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn parse(flags: &[&str]) -> TrainArgs {
        let argv = std::iter::once("train").chain(flags.iter().copied());
        Train::try_parse_from(argv).unwrap().args
    }

    fn config(flags: &[&str]) -> TrainConfig {
        parse(flags).config().unwrap()
    }

    #[test]
    fn configuration_errors_name_a_flag_that_exists() {
        let command = Train::command();
        let longs: Vec<&str> = command
            .get_arguments()
            .filter_map(|a| a.get_long())
            .collect();
        for (field, flag) in FLAGS {
            assert!(longs.contains(&&flag[2..]), "{field}: {flag} is not a flag");
            assert_eq!(flag_of(field), Some(flag));
        }
        assert_eq!(flag_of("lr_schedule.factor"), None);

        let error = parse(&["--multiplier=-1"])
            .config()
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "invalid training configuration: adversarial.multiplier (flag --multiplier): \
             must be a finite number >= 0, not -1"
        );
        let split = ConfigError::new("split.validation_fraction", "1 must be in (0, 1)");
        assert_eq!(
            explain(&split).to_string(),
            "invalid training configuration: split.validation_fraction (flag --val-fraction): \
             1 must be in (0, 1)"
        );
    }

    #[test]
    fn every_configuration_flag_reaches_the_configuration() {
        let c = config(&[
            "--preset",
            "small",
            "--epochs",
            "7",
            "--batch-size",
            "16",
            "--val-batch-size",
            "200",
            "--lr",
            "0.01",
            "--seed",
            "9",
            "--rotation",
            "5",
            "--zoom",
            "0.2",
            "--shift",
            "0.1",
            "--flip",
            "--early-stopping",
            "3",
            "--classes",
            "happy,sadness,6",
            "--val-fraction",
            "0.2",
        ]);
        assert_eq!(
            c.model,
            ModelChoice::Preset {
                preset: "small".into()
            }
        );
        assert_eq!(
            (c.epochs, c.batch_size, c.learning_rate, c.seed),
            (7, 16, 0.01, 9)
        );
        assert_eq!(c.validation_batch_size, 200);
        let a = c.augment;
        assert_eq!(
            (a.rotation_degrees, a.zoom, a.shift, a.horizontal_flip),
            (5.0, 0.2, 0.1, true)
        );
        assert_eq!(c.early_stopping_patience, Some(3));
        assert_eq!(
            c.classes,
            Some(vec![Emotion::Happiness, Emotion::Sadness, Emotion::Neutral])
        );
        assert_eq!(
            c.split,
            SplitPlan::Usage {
                validation_fraction: 0.2
            }
        );
        assert!(c.adversarial.is_none());
    }

    #[test]
    fn adversarial_flags_set_nsl_settings_alone_or_over_a_file() {
        let c = config(&[
            "--multiplier",
            "0.3",
            "--adv-step-size",
            "0.12",
            "--adv-grad-norm",
            "infinity",
            "--pgd-iterations",
            "3",
            "--pgd-epsilon",
            "0.05",
            "--clip-min",
            "0",
            "--clip-max",
            "1",
            "--random-init",
        ]);
        let adv = c.adversarial.unwrap();
        assert_eq!((adv.multiplier, adv.adv_step_size), (0.3, 0.12));
        assert_eq!(adv.adv_grad_norm, AdvNorm::Infinity);
        assert_eq!((adv.pgd_iterations, adv.pgd_epsilon), (3, Some(0.05)));
        assert_eq!(
            (adv.clip_value_min, adv.clip_value_max),
            (Some(0.0), Some(1.0))
        );
        assert!(adv.random_init);
        assert_eq!(
            config(&["--adversarial"]).adversarial,
            Some(AdvRegConfig::default())
        );

        // Clip flags alone turn regularization on; over a recipe they change its table.
        let clipped = config(&["--clip-max", "0.9"]).adversarial.unwrap();
        assert_eq!(clipped.clip_value_max, Some(0.9));
        let recipe = config(&["--recipe", "report-5.2", "--clip-min", "0.1"]);
        let adv = recipe.adversarial.unwrap();
        assert_eq!((adv.multiplier, adv.clip_value_min), (0.3, Some(0.1)));
    }

    #[test]
    fn graph_flags_set_nsl_settings_alone_or_over_a_file() {
        use fer::nsl::GraphRegConfig;
        let c = config(&["--graph", "g.tsv"]);
        let graph = c.graph.unwrap();
        assert_eq!(graph.file, PathBuf::from("g.tsv"));
        assert_eq!(graph.regularization, GraphRegConfig::default());
        assert!(!graph.add_undirected_edges);

        let c = config(&[
            "--graph",
            "g.tsv",
            "--graph-multiplier",
            "0.2",
            "--max-neighbors",
            "3",
            "--add-undirected-edges",
            "--graph-output",
            "logits",
            "--distance-type",
            "jensen_shannon_divergence",
            "--graph-reduction",
            "sum",
            "--sum-over-axis=-1",
            "--transform-fn",
            "softmax",
        ]);
        let graph = c.graph.unwrap();
        let reg = graph.regularization;
        assert!(graph.add_undirected_edges);
        assert_eq!((reg.multiplier, reg.max_neighbors), (0.2, 3));
        assert_eq!(reg.output, RegularizedOutput::Logits);
        let d = reg.distance;
        assert_eq!(d.distance_type, DistanceType::JensenShannonDivergence);
        assert_eq!(d.reduction, Reduction::Sum);
        assert_eq!(d.sum_over_axis, Some(-1));
        assert_eq!(d.transform_fn, TransformFn::Softmax);

        // Over a [graph] table the flags change single settings, --graph the file.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("run.toml");
        std::fs::write(
            &file,
            "[graph]\nfile = \"a.tsv\"\nmultiplier = 0.05\n[graph.distance]\nsum_over_axis = -1\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let graph = config(&["--config", path, "--max-neighbors", "2"])
            .graph
            .unwrap();
        assert_eq!(graph.file, PathBuf::from("a.tsv"));
        let reg = graph.regularization;
        assert_eq!((reg.multiplier, reg.max_neighbors), (0.05, 2));
        assert_eq!(reg.distance.sum_over_axis, Some(-1));
        let moved = config(&["--config", path, "--graph", "b.tsv"])
            .graph
            .unwrap();
        assert_eq!(moved.file, PathBuf::from("b.tsv"));
        assert_eq!(moved.regularization.multiplier, 0.05);

        // Errors name the flag; a setting without a graph is refused.
        let error = parse(&["--graph", "g.tsv", "--distance-type", "cosine"])
            .config()
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "invalid training configuration: graph.distance.sum_over_axis (flag \
             --sum-over-axis): cosine distances are taken along an axis: set it to -1"
        );
        let error = parse(&["--graph", "g.tsv", "--max-neighbors", "0"])
            .config()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("graph.max_neighbors (flag --max-neighbors)"),
            "{error}"
        );
        let error = parse(&["--transform-fn", "sigmoid"]).config().unwrap_err();
        assert_eq!(
            error.to_string(),
            "--transform-fn sets graph regularization: also pass --graph FILE"
        );
        let unknown = Train::try_parse_from(["train", "--graph", "g", "--distance-type", "l3"]);
        assert!(unknown
            .unwrap_err()
            .to_string()
            .contains("'l3' is not one of l2, l1, cosine"));
    }

    #[test]
    fn recipes_and_config_files_are_bases_that_flags_override() {
        let c = config(&[
            "--recipe",
            "report-4.2",
            "--epochs",
            "2",
            "--val-fraction",
            "0.2",
        ]);
        assert_eq!(c.recipe.as_deref(), Some("report-4.2"));
        assert_eq!(c.epochs, 2);
        assert_eq!(
            c.split,
            SplitPlan::Stratified {
                train_fraction: 0.8,
                seed: 42
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("run.toml");
        std::fs::write(&file, "epochs = 4\nseed = 3\n").unwrap();
        let c = config(&["--config", file.to_str().unwrap(), "--seed", "8"]);
        assert_eq!((c.epochs, c.seed), (4, 8));
        let both = Train::try_parse_from(["train", "--config", "a.toml", "--recipe", "report-4.2"]);
        assert!(both
            .unwrap_err()
            .to_string()
            .contains("cannot be used with"));
        let error = parse(&["--recipe", "report-7"])
            .config()
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown recipe 'report-7'") && error.contains("report-3class"));
        // The number given, also where a stratified split keeps its complement.
        for recipe in ["report-5.2", "report-4.2"] {
            let error = parse(&["--recipe", recipe, "--val-fraction", "1.5"])
                .config()
                .unwrap_err()
                .to_string();
            assert_eq!(
                error,
                "--val-fraction 1.5: expected a number strictly between 0 and 1"
            );
        }
    }

    #[test]
    fn run_flags_are_kept() {
        let args = parse(&[
            "--data",
            "synthetic:50:2",
            "--run-dir",
            "elsewhere",
            "--name",
            "x",
            "--resume",
            "--lenient",
            "--backend",
            "flex",
            "--device",
            "cpu",
            "--max-minutes",
            "1.5",
        ]);
        assert_eq!(args.data, DataSpec::Synthetic { n: 50, seed: 2 });
        assert_eq!(args.run_dir, PathBuf::from("elsewhere"));
        assert_eq!(args.name.as_deref(), Some("x"));
        assert!(args.resume && args.lenient);
        assert_eq!(args.max_duration().unwrap(), Some(Duration::from_secs(90)));
        assert!(args.compute.compute().is_ok());
        for bad in ["0", "nan", "-2", "inf"] {
            let error = parse(&["--max-minutes", bad]).max_duration().unwrap_err();
            assert!(
                error.to_string().contains("expected a positive number"),
                "{bad}"
            );
        }
        assert!(
            Train::try_parse_from(["train", "--resume"]).is_err(),
            "--resume needs --name"
        );
    }
}
