//! Graph-regularization settings, with NSL 1.4's names and defaults.

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Parses one of `choices` (case-insensitive), or names them all in the error.
fn choose<T: Copy>(field: &str, value: &str, choices: &[(&str, T)]) -> Result<T, ConfigError> {
    let wanted = value.to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            ConfigError::new(
                field,
                format!("'{value}' is not one of {}", names.join(", ")),
            )
        })
}

/// How far apart a face's output and a neighbour's output are (NSL's `DistanceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DistanceType {
    /// Squared difference per value (`tf.compat.v1.losses.mean_squared_error`).
    #[default]
    L2,
    /// Absolute difference per value (`absolute_difference`).
    L1,
    /// One minus the cosine similarity along `sum_over_axis`.
    Cosine,
    /// `KL(face || neighbour)` along `sum_over_axis`; both must be distributions.
    KlDivergence,
    /// Jensen-Shannon divergence along `sum_over_axis`; both must be distributions.
    JensenShannonDivergence,
}

impl DistanceType {
    const CHOICES: [(&'static str, DistanceType); 5] = [
        ("l2", DistanceType::L2),
        ("l1", DistanceType::L1),
        ("cosine", DistanceType::Cosine),
        ("kl_divergence", DistanceType::KlDivergence),
        (
            "jensen_shannon_divergence",
            DistanceType::JensenShannonDivergence,
        ),
    ];

    /// The name NSL and TOML use.
    pub fn name(self) -> &'static str {
        let (name, _) = Self::CHOICES
            .iter()
            .find(|(_, kind)| *kind == self)
            .expect("every distance type has a name");
        name
    }

    /// L1 and L2 give one loss per output value; the others one per face-neighbour pair.
    pub fn is_elementwise(self) -> bool {
        matches!(self, DistanceType::L1 | DistanceType::L2)
    }

    /// The divergences, which need probability distributions on both sides.
    pub fn is_divergence(self) -> bool {
        matches!(
            self,
            DistanceType::KlDivergence | DistanceType::JensenShannonDivergence
        )
    }
}

impl std::str::FromStr for DistanceType {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose("distance_type", s, &Self::CHOICES)
    }
}

/// How the weighted distances become one number (`tf.compat.v1.losses.Reduction`).
///
/// TensorFlow's spellings (`weighted_mean`, `weighted_sum_by_nonzero_weights`) are accepted
/// in TOML. `NONE` is not offered: it leaves a tensor, which is no training objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// The sum of the weighted distances.
    Sum,
    /// The sum divided by the sum of the weights (TF's `MEAN`).
    #[serde(alias = "weighted_mean")]
    Mean,
    /// The sum divided by the number of distances, padding slots included.
    SumOverBatchSize,
    /// The sum divided by the number of distances with a non-zero weight (NSL's default).
    #[default]
    #[serde(
        alias = "weighted_sum_by_nonzero_weights",
        alias = "sum_over_nonzero_weights"
    )]
    SumByNonzeroWeights,
}

impl Reduction {
    const CHOICES: [(&'static str, Reduction); 4] = [
        ("sum", Reduction::Sum),
        ("mean", Reduction::Mean),
        ("sum_over_batch_size", Reduction::SumOverBatchSize),
        ("sum_by_nonzero_weights", Reduction::SumByNonzeroWeights),
    ];

    /// Every reduction but `sum` averages (NSL's `_is_reduced_by_average`).
    pub fn averages(self) -> bool {
        self != Reduction::Sum
    }
}

impl std::str::FromStr for Reduction {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose("reduction", s, &Self::CHOICES)
    }
}

/// A function applied to both sides before the distance (NSL's `TransformType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TransformFn {
    #[default]
    None,
    /// Softmax along `sum_over_axis` (the class axis when unset).
    Softmax,
    /// The logistic function per value. Not in NSL 1.4 (an addition of fer).
    Sigmoid,
}

impl std::str::FromStr for TransformFn {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose(
            "transform_fn",
            s,
            &[
                ("none", TransformFn::None),
                ("softmax", TransformFn::Softmax),
                ("sigmoid", TransformFn::Sigmoid),
            ],
        )
    }
}

/// Which output of the network the graph term compares.
///
/// NSL regularizes whatever the wrapped Keras model returns. The study's model ends in a
/// softmax, so NSL on it compares probabilities; `fer`'s networks return logits, so the
/// choice is explicit here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegularizedOutput {
    /// The class probabilities (softmax of the logits), as NSL on the study's model.
    #[default]
    Probabilities,
    /// The logits, as NSL on a model without a final softmax.
    Logits,
}

impl std::str::FromStr for RegularizedOutput {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        choose(
            "output",
            s,
            &[
                ("probabilities", RegularizedOutput::Probabilities),
                ("logits", RegularizedOutput::Logits),
            ],
        )
    }
}

/// NSL's `DistanceConfig`: the distance, its reduction, the axis and the transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DistanceConfig {
    pub distance_type: DistanceType,
    pub reduction: Reduction,
    /// Sum the distance over this axis of the `[faces, classes]` outputs: `-1` (or `1`),
    /// the class axis, makes it a per-pair distance; unset averages per value (l1, l2).
    pub sum_over_axis: Option<i64>,
    pub transform_fn: TransformFn,
}

/// NSL's `GraphRegConfig`: how much the graph term weighs and how it is measured.
///
/// Built like `nsl.configs.make_graph_reg_config`:
/// ```
/// use fer::nsl::{DistanceType, GraphRegConfig};
/// let config = GraphRegConfig::default().max_neighbors(2).multiplier(0.1);
/// assert_eq!(config.distance.distance_type, DistanceType::L2);
/// config.validate()?;
/// # Ok::<(), fer::ConfigError>(())
/// ```
///
/// Where fer differs from NSL: `max_neighbors` defaults to 1 (NSL's 0 turns graph
/// regularization off; in fer leaving out the graph does), and `transform_fn` may also be
/// `sigmoid`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphRegConfig {
    /// Weight of the graph loss in the total loss (NSL: 0.01).
    pub multiplier: f64,
    /// Neighbours per face, the heaviest edges first (NSL's `neighbor_config.max_neighbors`).
    pub max_neighbors: usize,
    /// The network output the distance compares.
    pub output: RegularizedOutput,
    pub distance: DistanceConfig,
}

impl Default for GraphRegConfig {
    fn default() -> Self {
        GraphRegConfig {
            multiplier: 0.01,
            max_neighbors: 1,
            output: RegularizedOutput::default(),
            distance: DistanceConfig::default(),
        }
    }
}

impl GraphRegConfig {
    pub fn multiplier(mut self, value: f64) -> Self {
        self.multiplier = value;
        self
    }

    pub fn max_neighbors(mut self, value: usize) -> Self {
        self.max_neighbors = value;
        self
    }

    pub fn output(mut self, value: RegularizedOutput) -> Self {
        self.output = value;
        self
    }

    pub fn distance(mut self, value: DistanceConfig) -> Self {
        self.distance = value;
        self
    }

    /// Checks the settings make sense together, with the reasons NSL would fail at run time.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.multiplier >= 0.0 && self.multiplier.is_finite()) {
            return Err(ConfigError::new(
                "multiplier",
                format!("must be a finite number >= 0, not {}", self.multiplier),
            ));
        }
        if self.max_neighbors == 0 {
            return Err(ConfigError::new(
                "max_neighbors",
                "must be at least 1 (to train without the graph, leave it out)",
            ));
        }
        let distance = &self.distance;
        match distance.sum_over_axis {
            None | Some(-1) | Some(1) => {}
            Some(axis) => {
                return Err(ConfigError::new(
                    "distance.sum_over_axis",
                    format!(
                        "{axis} is not the class axis of the [faces, classes] outputs \
                         (expected -1 or 1, or leave it unset)"
                    ),
                ))
            }
        }
        if !distance.distance_type.is_elementwise() && distance.sum_over_axis.is_none() {
            return Err(ConfigError::new(
                "distance.sum_over_axis",
                format!(
                    "{} distances are taken along an axis: set it to -1",
                    distance.distance_type.name()
                ),
            ));
        }
        let distributions = match distance.transform_fn {
            TransformFn::Softmax => true,
            TransformFn::Sigmoid => false,
            TransformFn::None => self.output == RegularizedOutput::Probabilities,
        };
        if distance.distance_type.is_divergence() && !distributions {
            return Err(ConfigError::new(
                "distance.distance_type",
                "divergences compare probability distributions: use output = \
                 \"probabilities\" or transform_fn = \"softmax\"",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_nsl_defaults() {
        let config = GraphRegConfig::default();
        assert_eq!(config.multiplier, 0.01);
        assert_eq!(config.distance.distance_type, DistanceType::L2);
        assert_eq!(config.distance.reduction, Reduction::SumByNonzeroWeights);
        assert_eq!(config.distance.sum_over_axis, None);
        assert_eq!(config.distance.transform_fn, TransformFn::None);
        config.validate().unwrap();
    }

    #[test]
    fn names_parse_as_nsl_spells_them() {
        assert_eq!(
            "Jensen_Shannon_Divergence".parse::<DistanceType>().unwrap(),
            DistanceType::JensenShannonDivergence
        );
        let error = "hamming".parse::<DistanceType>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "distance_type: 'hamming' is not one of l2, l1, cosine, kl_divergence, \
             jensen_shannon_divergence"
        );
        let tf_name = r#"{"reduction": "weighted_sum_by_nonzero_weights"}"#;
        let distance: DistanceConfig = serde_json::from_str(tf_name).unwrap();
        assert_eq!(distance.reduction, Reduction::SumByNonzeroWeights);
        let mean: DistanceConfig =
            serde_json::from_str(r#"{"reduction": "weighted_mean"}"#).unwrap();
        assert_eq!(mean.reduction, Reduction::Mean);
    }

    #[test]
    fn settings_nsl_would_fail_on_are_refused() {
        let with = |distance| GraphRegConfig::default().distance(distance);
        let cosine = DistanceConfig {
            distance_type: DistanceType::Cosine,
            ..Default::default()
        };
        let error = with(cosine).validate().unwrap_err();
        assert_eq!(error.field, "distance.sum_over_axis");
        assert!(error.reason.starts_with("cosine distances"), "{error}");
        let kl = DistanceConfig {
            distance_type: DistanceType::KlDivergence,
            sum_over_axis: Some(-1),
            ..Default::default()
        };
        with(kl).validate().unwrap();
        let on_logits = with(kl).output(RegularizedOutput::Logits);
        assert_eq!(
            on_logits.validate().unwrap_err().field,
            "distance.distance_type"
        );
        let softmaxed = DistanceConfig {
            transform_fn: TransformFn::Softmax,
            ..kl
        };
        with(softmaxed)
            .output(RegularizedOutput::Logits)
            .validate()
            .unwrap();
        let batch_axis = DistanceConfig {
            sum_over_axis: Some(0),
            ..Default::default()
        };
        assert!(with(batch_axis)
            .validate()
            .unwrap_err()
            .reason
            .contains("class axis"));
        assert_eq!(
            GraphRegConfig::default()
                .max_neighbors(0)
                .validate()
                .unwrap_err()
                .field,
            "max_neighbors"
        );
        assert_eq!(
            GraphRegConfig::default()
                .multiplier(f64::NAN)
                .validate()
                .unwrap_err()
                .field,
            "multiplier"
        );
    }
}
