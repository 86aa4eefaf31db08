//! Everything that defines a training run, loadable from TOML.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::{Augment, DataError, Dataset, Emotion, SplitParts, SplitPlan, FACE_PIXELS, SIDE};
use crate::model::CnnConfig;
use crate::nsl::{AdvRegConfig, GraphRegConfig};
use crate::run::EpochRecord;
use crate::ConfigError;

/// How the learning rate changes between epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Multiply by `factor` after `patience` epochs without a better validation loss
    /// (Keras' `ReduceLROnPlateau`), never below `min_lr`.
    ReduceOnPlateau {
        factor: f64,
        patience: usize,
        min_lr: f64,
    },
    /// Multiply by `gamma` after every epoch.
    Exponential { gamma: f64 },
}

impl LrSchedule {
    /// The learning rate for the epoch after `record`, which ran at `lr`; `plateau` holds
    /// ReduceOnPlateau's lowest loss and epochs since it.
    pub(super) fn next_lr(
        &self,
        lr: f64,
        plateau: &mut Option<(f64, usize)>,
        record: &EpochRecord,
    ) -> f64 {
        match *self {
            LrSchedule::Constant => lr,
            LrSchedule::Exponential { gamma } => lr * gamma,
            LrSchedule::ReduceOnPlateau {
                factor,
                patience,
                min_lr,
            } => {
                let loss = record.validation.unwrap_or(record.train).loss;
                match plateau {
                    Some((best, waited)) if loss >= *best => {
                        *waited += 1;
                        if *waited >= patience {
                            *waited = 0;
                            return (lr * factor).max(min_lr);
                        }
                        lr
                    }
                    _ => {
                        *plateau = Some((loss, 0));
                        lr
                    }
                }
            }
        }
    }
}

/// Settings of a run; every field has the study's default.
///
/// ```
/// let config: fer::train::TrainConfig = toml::from_str(r#"
///     epochs = 3
///     [model]
///     preset = "tiny"
///     [adversarial]
///     multiplier = 0.3
///     adv_step_size = 0.12
/// "#).unwrap();
/// assert_eq!(config.batch_size, 50);
/// assert_eq!(config.adversarial.unwrap().multiplier, 0.3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// The built-in recipe this configuration came from (`recipes/`), which the report
    /// compares with the study's result.
    pub recipe: Option<String>,
    pub model: ModelChoice,
    pub epochs: usize,
    pub batch_size: usize,
    /// Faces per batch when scoring the validation set after each epoch (inference only:
    /// larger batches are faster, and do not change the scores beyond float rounding).
    pub validation_batch_size: usize,
    pub learning_rate: f64,
    /// Adam's epsilon (Keras: 1e-7; Burn's default would be 1e-5).
    pub adam_epsilon: f64,
    /// Seeds weights, batch order, dropout and augmentation.
    pub seed: u64,
    pub augment: Augment,
    /// Adversarial regularization; `None` trains the plain model.
    pub adversarial: Option<AdvRegConfig>,
    /// Graph regularization; `None` trains without a graph.
    pub graph: Option<GraphTraining>,
    /// Stop after this many epochs without a better validation accuracy.
    pub early_stopping_patience: Option<usize>,
    pub lr_schedule: LrSchedule,
    /// A `step` event every this many steps (and at least once a second).
    pub log_every: usize,
    /// Also write the events as TensorBoard summaries under `tb/` in the run folder.
    pub tensorboard: bool,
    /// Train on these classes only, relabeled in this order (the study's three-emotion run
    /// keeps happiness, sadness and neutral); `None` keeps all seven.
    pub classes: Option<Vec<Emotion>>,
    /// Which faces train, validate and test.
    pub split: SplitPlan,
}

/// Graph regularization of a run: the graph file, how it is packed, and NSL's settings.
///
/// In TOML, one `[graph]` table: `file`, `add_undirected_edges` and the fields of
/// [`GraphRegConfig`] side by side, its distance as `[graph.distance]`:
///
/// ```
/// let config: fer::train::TrainConfig = toml::from_str(r#"
///     [graph]
///     file = "faces.tsv"
///     multiplier = 0.1
///     max_neighbors = 2
///     [graph.distance]
///     distance_type = "kl_divergence"
///     sum_over_axis = -1
/// "#).unwrap();
/// let graph = config.graph.unwrap();
/// assert_eq!(graph.regularization.max_neighbors, 2);
/// assert!(!graph.add_undirected_edges);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphTraining {
    /// The TSV graph whose ids are the data file's 0-based rows (relative paths start in
    /// the working folder).
    pub file: PathBuf,
    /// Also use every edge reversed (NSL's `pack_nbrs --add_undirected_edges`).
    pub add_undirected_edges: bool,
    #[serde(flatten)]
    pub regularization: GraphRegConfig,
}

impl GraphTraining {
    /// NSL's default settings with the graph in `file`.
    pub fn new(file: impl Into<PathBuf>) -> GraphTraining {
        GraphTraining {
            file: file.into(),
            add_undirected_edges: false,
            regularization: GraphRegConfig::default(),
        }
    }

    /// Checks the settings; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.file.as_os_str().is_empty() {
            return Err(ConfigError::new("file", "must name a graph file"));
        }
        self.regularization.validate()
    }
}

impl<'de> Deserialize<'de> for GraphTraining {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // serde's `flatten` cannot refuse unknown fields: take ours out and hand the rest to
        // GraphRegConfig, which names a stray field.
        let mut table = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let file: PathBuf = match table.remove("file") {
            Some(file) => serde_json::from_value(file).map_err(D::Error::custom)?,
            None => return Err(D::Error::missing_field("file")),
        };
        let add_undirected_edges = match table.remove("add_undirected_edges") {
            Some(flag) => serde_json::from_value(flag).map_err(D::Error::custom)?,
            None => false,
        };
        let regularization = GraphRegConfig::deserialize(serde_json::Value::Object(table))
            .map_err(D::Error::custom)?;
        Ok(GraphTraining {
            file,
            add_undirected_edges,
            regularization,
        })
    }
}

/// A preset by name, or a whole network table.
///
/// In TOML `model = { preset = "report-4.2" }`, or the table's fields; a misspelled field
/// is an error naming it, in either form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ModelChoice {
    Preset { preset: String },
    Custom(CnnConfig),
}

impl<'de> Deserialize<'de> for ModelChoice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Preset {
            preset: String,
        }
        // Which form decides which fields are allowed, so the error can name the stray one
        // (serde's untagged enums only say that nothing matched).
        let table = serde_json::Value::deserialize(deserializer)?;
        if table.get("preset").is_some() {
            let Preset { preset } = Preset::deserialize(table).map_err(D::Error::custom)?;
            Ok(ModelChoice::Preset { preset })
        } else {
            CnnConfig::deserialize(table)
                .map(ModelChoice::Custom)
                .map_err(D::Error::custom)
        }
    }
}

impl ModelChoice {
    /// The network with `classes` outputs.
    pub fn resolve(&self, classes: usize) -> Result<CnnConfig, ConfigError> {
        let config = match self {
            ModelChoice::Preset { preset } => CnnConfig::preset(preset).ok_or_else(|| {
                ConfigError::new(
                    "preset",
                    format!(
                        "unknown preset '{preset}' (expected one of {})",
                        crate::model::PRESETS.join(", ")
                    ),
                )
            })?,
            ModelChoice::Custom(config) => config.clone(),
        };
        let config = config.with_classes(classes);
        config.validate()?;
        if config.input != [SIDE, SIDE] {
            let [h, w] = config.input;
            return Err(ConfigError::new(
                "input",
                format!("{h}x{w} does not fit the faces, which are {SIDE}x{SIDE}"),
            ));
        }
        Ok(config)
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            recipe: None,
            model: ModelChoice::Preset {
                preset: "report-4.2".into(),
            },
            epochs: 10,
            batch_size: 50,
            validation_batch_size: 64,
            learning_rate: 1e-3,
            adam_epsilon: 1e-7,
            seed: 0,
            augment: Augment::NONE,
            adversarial: None,
            graph: None,
            early_stopping_patience: None,
            lr_schedule: LrSchedule::Constant,
            log_every: 10,
            tensorboard: true,
            classes: None,
            split: SplitPlan::default(),
        }
    }
}

impl TrainConfig {
    /// Checks values a run cannot start with; the error names the setting by its TOML path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field: &str, reason: String| Err(ConfigError::new(field, reason));
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1".into());
        }
        if self.validation_batch_size == 0 {
            return bad("validation_batch_size", "must be at least 1".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(
                "learning_rate",
                format!("must be a positive number, not {}", self.learning_rate),
            );
        }
        self.augment.validate().map_err(|e| e.within("augment"))?;
        if let Some(adv) = &self.adversarial {
            adv.validate().map_err(|e| e.within("adversarial"))?;
            if let Some(mask) = &adv.feature_mask {
                if mask.len() != FACE_PIXELS {
                    return bad(
                        "adversarial.feature_mask",
                        format!(
                            "has {} values; a face has {FACE_PIXELS} ({SIDE}x{SIDE})",
                            mask.len()
                        ),
                    );
                }
            }
        }
        if let Some(graph) = &self.graph {
            graph.validate().map_err(|e| e.within("graph"))?;
        }
        self.split.validate().map_err(|e| e.within("split"))?;
        if self.classes.as_ref().is_some_and(Vec::is_empty) {
            return bad("classes", "must name at least one class".into());
        }
        match self.lr_schedule {
            LrSchedule::ReduceOnPlateau { factor, .. } if !(factor > 0.0 && factor < 1.0) => bad(
                "lr_schedule.factor",
                format!("must be in (0, 1), not {factor}"),
            ),
            LrSchedule::Exponential { gamma } if gamma.is_nan() || gamma <= 0.0 => bad(
                "lr_schedule.gamma",
                format!("must be positive, not {gamma}"),
            ),
            _ => Ok(()),
        }
    }

    /// The run's faces before training: `dataset` narrowed to [`classes`](Self::classes),
    /// divided by [`split`](Self::split). After training, [`Checkpoint::faces`] finds the
    /// same parts from the checkpoint.
    ///
    /// [`Checkpoint::faces`]: crate::train::checkpoint::Checkpoint::faces
    pub fn parts(&self, dataset: &Dataset) -> Result<SplitParts, DataError> {
        match &self.classes {
            Some(keep) => self.split.apply(&dataset.select_classes(keep)?, self.seed),
            None => self.split.apply(dataset, self.seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::Metrics;

    fn record(loss: f64) -> EpochRecord {
        let m = Metrics {
            loss,
            ..Default::default()
        };
        EpochRecord {
            epoch: 1,
            train: m,
            validation: Some(m),
            lr: 0.1,
            seconds: 1.0,
        }
    }

    #[test]
    fn graph_tables_refuse_stray_and_missing_fields_and_round_trip() {
        let parse = |text: &str| toml::from_str::<TrainConfig>(text).map_err(|e| e.to_string());
        let stray = parse("[graph]\nfile = \"g.tsv\"\nmultipler = 0.1\n").unwrap_err();
        assert!(stray.contains("unknown field `multipler`"), "{stray}");
        let deep =
            parse("[graph]\nfile = \"g.tsv\"\n[graph.distance]\nkind = \"l2\"\n").unwrap_err();
        assert!(deep.contains("unknown field `kind`"), "{deep}");
        let no_file = parse("[graph]\nmultiplier = 0.1\n").unwrap_err();
        assert!(no_file.contains("missing field `file`"), "{no_file}");
        let bad_flag = parse("[graph]\nfile = \"g.tsv\"\nadd_undirected_edges = 1\n").unwrap_err();
        assert!(bad_flag.contains("expected a boolean"), "{bad_flag}");
        let config =
            parse("[graph]\nfile = \"g.tsv\"\nadd_undirected_edges = true\nmax_neighbors = 4\n")
                .unwrap();
        // What a run stores (run.json, checkpoints) reads back as the same configuration.
        let stored = serde_json::to_value(&config).unwrap();
        assert_eq!(stored["graph"]["max_neighbors"], 4);
        assert_eq!(
            serde_json::from_value::<TrainConfig>(stored).unwrap(),
            config
        );
        let empty = TrainConfig {
            graph: Some(GraphTraining::new("")),
            ..TrainConfig::default()
        };
        assert_eq!(empty.validate().unwrap_err().field, "graph.file");
    }

    #[test]
    fn reduce_on_plateau_waits_for_patience() {
        let schedule = LrSchedule::ReduceOnPlateau {
            factor: 0.5,
            patience: 1,
            min_lr: 0.03,
        };
        let mut plateau = None;
        let mut lr = 0.1;
        let mut rates = Vec::new();
        for loss in [1.0, 0.9, 0.95, 0.96, 0.97, 0.99, 1.0, 1.1] {
            lr = schedule.next_lr(lr, &mut plateau, &record(loss));
            rates.push(lr);
        }
        assert_eq!(rates, [0.1, 0.1, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03]);
        let mut none = None;
        assert_eq!(
            LrSchedule::Exponential { gamma: 0.5 }.next_lr(0.1, &mut none, &record(1.0)),
            0.05
        );
    }
}
