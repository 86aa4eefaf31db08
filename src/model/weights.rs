//! A trained network's numbers as plain arrays: what exporters write out.

use super::config::CnnConfig;
#[cfg(feature = "burn")]
use {super::cnn::Cnn, burn::module::Module, burn::nn::BatchNorm, burn::prelude::*};

/// Values with their shape, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

#[cfg(feature = "burn")]
impl Array {
    fn of<const D: usize>(tensor: Tensor<D>) -> Array {
        let shape = tensor.dims().to_vec();
        let values = tensor
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("converted to f32 above");
        Array { shape, values }
    }
}

/// A BatchNorm layer in inference form: `gamma * (x - mean) / sqrt(variance + epsilon) + beta`
/// per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct NormWeights {
    pub gamma: Array,
    pub beta: Array,
    pub mean: Array,
    pub variance: Array,
    pub epsilon: f64,
}

/// A convolution (`weight` `[out, in, kh, kw]`, `same` padding, stride 1) and its BatchNorm.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvWeights {
    pub weight: Array,
    pub bias: Array,
    pub norm: NormWeights,
}

/// A dense layer (`weight` `[in, out]`, Burn's layout) and, except for the output, its
/// BatchNorm.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseWeights {
    pub weight: Array,
    pub bias: Array,
    pub norm: Option<NormWeights>,
}

/// Every number inference needs, in layer order, beside the table that arranges them:
/// per block `convs` convolutions (each followed by BatchNorm and ELU), then 2x2 max-pooling;
/// the flattened features (channel-major, as NCHW flattens); dense layers (BatchNorm, ELU);
/// the output layer's logits.
#[derive(Debug, Clone, PartialEq)]
pub struct CnnWeights {
    pub network: CnnConfig,
    pub convs: Vec<ConvWeights>,
    pub dense: Vec<DenseWeights>,
    pub output: DenseWeights,
}

#[cfg(feature = "burn")]
impl Cnn {
    /// The network's weights and running statistics, copied out of the backend.
    ///
    /// ```
    /// use burn::prelude::*;
    /// use fer::model::CnnConfig;
    /// let network = CnnConfig::preset("tiny").unwrap();
    /// let weights = network.init(&Device::flex()).weights(&network);
    /// assert_eq!(weights.convs.len(), 2);
    /// assert_eq!(weights.convs[0].weight.shape, [8, 1, 3, 3]);
    /// assert_eq!(weights.output.weight.shape, [32, 7]);
    /// ```
    pub fn weights(&self, network: &CnnConfig) -> CnnWeights {
        let model = self.valid();
        let norm = |n: &BatchNorm| NormWeights {
            gamma: Array::of(n.gamma.val()),
            beta: Array::of(n.beta.val()),
            mean: Array::of(n.running_mean.value()),
            variance: Array::of(n.running_var.value()),
            epsilon: n.epsilon,
        };
        let convs = model
            .conv_units()
            .map(|(conv, n)| ConvWeights {
                weight: Array::of(conv.weight.val()),
                bias: bias(conv.bias.as_ref(), conv.weight.dims()[0]),
                norm: norm(n),
            })
            .collect();
        let linear = |l: &burn::nn::Linear, n: Option<&BatchNorm>| DenseWeights {
            weight: Array::of(l.weight.val()),
            bias: bias(l.bias.as_ref(), l.weight.dims()[1]),
            norm: n.map(norm),
        };
        let dense = model
            .dense_units()
            .map(|(l, n)| linear(l, Some(n)))
            .collect();
        CnnWeights {
            network: network.clone(),
            convs,
            dense,
            output: linear(model.output_layer(), None),
        }
    }
}

/// A layer's bias, or zeros for a layer built without one.
#[cfg(feature = "burn")]
fn bias(bias: Option<&burn::module::Param<Tensor<1>>>, len: usize) -> Array {
    bias.map(|b| Array::of(b.val())).unwrap_or_else(|| Array {
        shape: vec![len],
        values: vec![0.0; len],
    })
}
