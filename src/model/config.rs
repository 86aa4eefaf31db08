//! The CNN described as a table, like the study's tables 4.2, 5.1 and 5.2.

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Convolutions with the same filter count, then 2x2 max-pooling and dropout.
///
/// Each convolution has `same` padding, He-normal initialization, BatchNorm and ELU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvBlock {
    pub filters: usize,
    pub kernel: usize,
    /// How many convolutions before the pooling.
    pub convs: usize,
    /// Dropout rate after the pooling (0 for none).
    pub dropout: f64,
}

/// A dense layer with BatchNorm, ELU and dropout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseLayer {
    pub units: usize,
    pub dropout: f64,
}

/// The whole network: input shape, conv blocks, dense layers, and the class count.
///
/// ```
/// use fer::model::CnnConfig;
/// let dcnn = CnnConfig::preset("report-4.2").unwrap();
/// assert_eq!(dcnn.summary().total_params(), 2_395_591);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnConfig {
    /// Name shown in summaries (the preset's name).
    pub name: String,
    /// Input height and width in pixels (one gray channel).
    pub input: [usize; 2],
    pub blocks: Vec<ConvBlock>,
    pub dense: Vec<DenseLayer>,
    /// Number of outputs: 7 for FER2013, or as many as the selected classes.
    pub classes: usize,
    /// BatchNorm epsilon (Keras: 1e-3).
    pub batch_norm_epsilon: f64,
    /// BatchNorm running-average momentum as Keras states it (0.99: keep 99% of the old value).
    pub batch_norm_momentum: f64,
}

/// Preset names, for help texts and errors.
pub const PRESETS: [&str; 5] = ["report-4.2", "report-5.1", "report-5.2", "small", "tiny"];

fn block(filters: usize, kernel: usize, convs: usize, dropout: f64) -> ConvBlock {
    ConvBlock {
        filters,
        kernel,
        convs,
        dropout,
    }
}

impl CnnConfig {
    /// A named network:
    /// - `report-4.2`: the study's DCNN (table 4.2; 2,395,591 parameters as Keras counts them):
    ///   64@5x5 x2, 128@3x3 x2, 256@3x3 x2, dense 128, dropouts 0.4/0.4/0.5/0.6.
    /// - `report-5.1`: the deeper variant (four blocks up to 512 filters, two dense layers).
    /// - `report-5.2`: the lighter variant (one convolution per block, 32-64-128 filters).
    /// - `small` and `tiny`: quick networks for laptops and tests.
    pub fn preset(name: &str) -> Option<CnnConfig> {
        let (blocks, dense) = match name {
            "report-4.2" => (
                vec![
                    block(64, 5, 2, 0.4),
                    block(128, 3, 2, 0.4),
                    block(256, 3, 2, 0.5),
                ],
                vec![DenseLayer {
                    units: 128,
                    dropout: 0.6,
                }],
            ),
            "report-5.1" => (
                vec![
                    block(64, 3, 2, 0.3),
                    block(128, 3, 2, 0.3),
                    block(256, 3, 2, 0.4),
                    block(512, 3, 2, 0.4),
                ],
                vec![
                    DenseLayer {
                        units: 256,
                        dropout: 0.5,
                    },
                    DenseLayer {
                        units: 128,
                        dropout: 0.5,
                    },
                ],
            ),
            "report-5.2" => (
                vec![
                    block(32, 5, 1, 0.25),
                    block(64, 3, 1, 0.25),
                    block(128, 3, 1, 0.4),
                ],
                vec![DenseLayer {
                    units: 128,
                    dropout: 0.5,
                }],
            ),
            "small" => (
                vec![
                    block(16, 3, 1, 0.1),
                    block(32, 3, 1, 0.1),
                    block(64, 3, 1, 0.2),
                ],
                vec![DenseLayer {
                    units: 64,
                    dropout: 0.3,
                }],
            ),
            "tiny" => (
                vec![block(8, 3, 1, 0.0), block(16, 3, 1, 0.0)],
                vec![DenseLayer {
                    units: 32,
                    dropout: 0.0,
                }],
            ),
            _ => return None,
        };
        Some(CnnConfig {
            name: name.to_string(),
            input: [48, 48],
            blocks,
            dense,
            classes: 7,
            batch_norm_epsilon: 1e-3,
            batch_norm_momentum: 0.99,
        })
    }

    /// The same network with another number of outputs.
    pub fn with_classes(mut self, classes: usize) -> CnnConfig {
        self.classes = classes;
        self
    }

    /// Height and width after the last pooling (each 2x2 pooling floors odd sizes).
    pub fn feature_size(&self) -> [usize; 2] {
        let shrink = |s: usize| self.blocks.iter().fold(s, |s, _| s / 2);
        [shrink(self.input[0]), shrink(self.input[1])]
    }

    /// Values entering the first dense layer.
    pub fn flat_features(&self) -> usize {
        let [h, w] = self.feature_size();
        h * w * self.blocks.last().map_or(1, |b| b.filters)
    }

    /// Checks that the network can be built: something to classify, sizes that survive
    /// pooling, rates in [0, 1).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.classes < 2 {
            return Err(ConfigError::new(
                "classes",
                format!("{}: need at least 2", self.classes),
            ));
        }
        let [h, w] = self.feature_size();
        if h == 0 || w == 0 {
            return Err(ConfigError::new(
                "blocks",
                format!(
                    "input {}x{} is too small for {} poolings",
                    self.input[0],
                    self.input[1],
                    self.blocks.len()
                ),
            ));
        }
        for (i, b) in self.blocks.iter().enumerate() {
            for (name, value) in [
                ("filters", b.filters),
                ("kernel", b.kernel),
                ("convs", b.convs),
            ] {
                if value == 0 {
                    return Err(ConfigError::new(
                        format!("blocks[{i}].{name}"),
                        "must be at least 1",
                    ));
                }
            }
        }
        for (i, d) in self.dense.iter().enumerate() {
            if d.units == 0 {
                return Err(ConfigError::new(
                    format!("dense[{i}].units"),
                    "must be at least 1",
                ));
            }
        }
        let epsilon = self.batch_norm_epsilon;
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            return Err(ConfigError::new(
                "batch_norm_epsilon",
                format!("must be a positive number, not {epsilon}"),
            ));
        }
        let momentum = self.batch_norm_momentum;
        if !(0.0..=1.0).contains(&momentum) {
            return Err(ConfigError::new(
                "batch_norm_momentum",
                format!("must be in [0, 1], not {momentum}"),
            ));
        }
        let block_rates = self.blocks.iter().map(|b| b.dropout).enumerate();
        let dense_rates = self.dense.iter().map(|d| d.dropout).enumerate();
        let rates = (block_rates.map(|(i, r)| ("blocks", i, r)))
            .chain(dense_rates.map(|(i, r)| ("dense", i, r)));
        for (table, i, rate) in rates {
            if !(0.0..1.0).contains(&rate) {
                return Err(ConfigError::new(
                    format!("{table}[{i}].dropout"),
                    format!("{rate} is outside [0, 1)"),
                ));
            }
        }
        Ok(())
    }
}
