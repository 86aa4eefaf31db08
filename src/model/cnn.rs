//! The CNN of a [`CnnConfig`] as a Burn module.

use super::config::CnnConfig;
use crate::kernels::{batch_norm_elu, conv2d, dropout};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Initializer, Linear, LinearConfig,
    PaddingConfig2d,
};
use burn::prelude::*;

/// Keras' `he_normal`: standard deviation sqrt(2 / fan_in).
fn he_normal() -> Initializer {
    Initializer::KaimingNormal {
        gain: std::f64::consts::SQRT_2,
        fan_out_only: false,
    }
}

/// Convolution, BatchNorm, ELU.
#[derive(Module, Debug)]
struct ConvUnit {
    conv: Conv2d,
    norm: BatchNorm,
}

impl ConvUnit {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [kh, kw] = self.conv.kernel_size;
        let convolved = match &self.conv.bias {
            // `same` padding is symmetric for odd kernels: fer's convolution, whose weight
            // gradient is cheaper. Even kernels pad one side more and stay with Burn's.
            Some(bias) if kh % 2 == 1 && kw % 2 == 1 => {
                conv2d(x, self.conv.weight.val(), bias.val(), [kh / 2, kw / 2])
            }
            _ => self.conv.forward(x),
        };
        batch_norm_elu(&self.norm, convolved)
    }
}

/// Convolutions, then 2x2 max-pooling and dropout.
#[derive(Module, Debug)]
struct ConvStage {
    units: Vec<ConvUnit>,
    pool: MaxPool2d,
    dropout: Dropout,
}

/// Dense, BatchNorm, ELU, dropout.
#[derive(Module, Debug)]
struct DenseUnit {
    linear: Linear,
    norm: BatchNorm,
    dropout: Dropout,
}

/// The study's kind of CNN: conv stages, dense layers, and a linear output of class logits.
///
/// ```
/// use burn::prelude::*;
/// use fer::model::CnnConfig;
/// let device = Device::flex();
/// let model = CnnConfig::preset("tiny").unwrap().init(&device);
/// let logits = model.forward(Tensor::zeros([2, 1, 48, 48], &device));
/// assert_eq!(logits.dims(), [2, 7]);
/// ```
#[derive(Module, Debug)]
pub struct Cnn {
    stages: Vec<ConvStage>,
    dense: Vec<DenseUnit>,
    output: Linear,
}

impl CnnConfig {
    /// Builds the network with He-normal weights on `device` (an autodiff device to train).
    ///
    /// # Panics
    /// When [`validate`](CnnConfig::validate) fails.
    pub fn init(&self, device: &Device) -> Cnn {
        if let Err(problem) = self.validate() {
            panic!("invalid network: {problem}");
        }
        let norm = |features| {
            BatchNormConfig::new(features)
                .with_epsilon(self.batch_norm_epsilon)
                .with_momentum(1.0 - self.batch_norm_momentum)
                .init(device)
        };
        let mut channels = 1;
        let stages = self
            .blocks
            .iter()
            .map(|block| {
                let units = (0..block.convs)
                    .map(|_| {
                        let conv = Conv2dConfig::new([channels, block.filters], [block.kernel; 2])
                            .with_padding(PaddingConfig2d::Same)
                            .with_initializer(he_normal())
                            .init(device);
                        channels = block.filters;
                        ConvUnit {
                            conv,
                            norm: norm(block.filters),
                        }
                    })
                    .collect();
                ConvStage {
                    units,
                    pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
                    dropout: DropoutConfig::new(block.dropout).init(),
                }
            })
            .collect();
        let mut features = self.flat_features();
        let dense = self
            .dense
            .iter()
            .map(|layer| {
                let linear = LinearConfig::new(features, layer.units)
                    .with_initializer(he_normal())
                    .init(device);
                features = layer.units;
                DenseUnit {
                    linear,
                    norm: norm(layer.units),
                    dropout: DropoutConfig::new(layer.dropout).init(),
                }
            })
            .collect();
        let output = LinearConfig::new(features, self.classes)
            .with_initializer(Initializer::XavierUniform { gain: 1.0 })
            .init(device);
        Cnn {
            stages,
            dense,
            output,
        }
    }
}

impl Cnn {
    /// Class logits `[N, classes]` of images `[N, 1, H, W]`.
    ///
    /// BatchNorm uses batch statistics and dropout is active only on an autodiff device
    /// outside [`valid`](Module::valid) mode, as in Keras' `training=True`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.output.forward(self.embed(images))
    }

    /// The penultimate features `[N, F]` of images `[N, 1, H, W]`: the input of the output
    /// layer (the last dense unit's activations, or the flattened conv features without
    /// dense layers). Graph building compares faces by them.
    pub fn embed(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = images;
        for stage in &self.stages {
            for unit in &stage.units {
                x = unit.forward(x);
            }
            x = dropout(&stage.dropout, stage.pool.forward(x));
        }
        let mut x: Tensor<2> = x.flatten(1, 3);
        for unit in &self.dense {
            x = dropout(
                &unit.dropout,
                batch_norm_elu(&unit.norm, unit.linear.forward(x)),
            );
        }
        x
    }
}

/// The layers as [`weights`](Cnn::weights) reads them.
impl Cnn {
    pub(super) fn conv_units(&self) -> impl Iterator<Item = (&Conv2d, &BatchNorm)> {
        self.stages
            .iter()
            .flat_map(|stage| stage.units.iter().map(|unit| (&unit.conv, &unit.norm)))
    }

    pub(super) fn dense_units(&self) -> impl Iterator<Item = (&Linear, &BatchNorm)> {
        self.dense.iter().map(|unit| (&unit.linear, &unit.norm))
    }

    pub(super) fn output_layer(&self) -> &Linear {
        &self.output
    }
}
