//! The graph term of NSL's `GraphRegularization`: how far each face's output is from its
//! neighbours' outputs, computed as NSL 1.4.0's `pairwise_distance_wrapper` computes it.

use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};

use super::graph_config::{
    DistanceConfig, DistanceType, GraphRegConfig, Reduction, RegularizedOutput, TransformFn,
};

/// `tf.nn.l2_normalize`'s floor of the squared norm.
const NORMALIZE_EPSILON: f64 = 1e-12;
/// NSL's guard against `log(0)` in the divergences.
const LOG_EPSILON: f64 = 1e-7;

/// The neighbours of one batch, as NSL's `NeighborFeatures` unpacks them, without the
/// padding slots of faces with fewer than `max_neighbors` neighbours.
///
/// NSL runs zero-filled padding faces (weight 0) through the network; fer leaves them out.
/// The loss is the same (weight 0 adds nothing and `sum_by_nonzero_weights` does not count
/// them; `sum_over_batch_size` still divides by every slot), but a network with batch
/// statistics sees a batch without the zero faces.
#[derive(Debug, Clone)]
pub struct Neighbors {
    /// The neighbour faces, `[M, 1, 48, 48]`, on the training device.
    pub images: Tensor<4>,
    /// For each neighbour, the position in the batch of the face it belongs to.
    pub owners: Vec<usize>,
    /// The weight of the edge to each neighbour.
    pub weights: Vec<f32>,
    /// Neighbour slots of the batch: its size times `max_neighbors`.
    pub slots: usize,
}

/// The outputs a configuration compares, from the network's logits `[N, classes]`.
pub fn regularized_output(logits: Tensor<2>, config: &GraphRegConfig) -> Tensor<2> {
    match config.output {
        RegularizedOutput::Logits => logits,
        RegularizedOutput::Probabilities => softmax(logits, 1),
    }
}

/// `multiplier` times the distance between each face's output and its neighbours'.
///
/// `samples` are the batch's outputs `[N, C]` (already [`regularized_output`]), `neighbours`
/// the neighbours' `[M, C]`; `neighbors` says whose neighbour each row is and its weight.
pub fn scaled_graph_loss(
    samples: Tensor<2>,
    neighbours: Tensor<2>,
    neighbors: &Neighbors,
    config: &GraphRegConfig,
) -> Tensor<1> {
    let device = samples.device();
    let owners: Vec<i64> = neighbors.owners.iter().map(|&i| i as i64).collect();
    let owners =
        Tensor::<1, Int>::from_data(TensorData::new(owners, [neighbors.owners.len()]), &device);
    // NSL's `replicate_embeddings`: each face's output once per neighbour.
    let sources = samples.select(0, owners);
    pairwise_distance(
        sources,
        neighbours,
        &neighbors.weights,
        neighbors.slots,
        &config.distance,
    ) * config.multiplier
}

/// NSL's `pairwise_distance_wrapper` for `[M, C]` sources and targets with one weight per
/// row; `slots` is the number of rows NSL's padded batch would have (for
/// `sum_over_batch_size`).
///
/// ```
/// use burn::prelude::*;
/// use fer::nsl::{pairwise_distance, DistanceConfig};
/// let device = Device::flex();
/// let a = Tensor::<1>::from_floats([1.0, 1.0, 2.0, 2.0], &device).reshape([2, 2]);
/// let b = Tensor::<1>::from_floats([1.0, 1.0, 0.0, 2.0], &device).reshape([2, 2]);
/// // NSL's default: mean squared difference over the values with a non-zero weight.
/// let d = pairwise_distance(a, b, &[1.0, 1.0], 2, &DistanceConfig::default());
/// assert_eq!(d.into_scalar::<f32>(), 1.0); // (0 + 0 + 4 + 0) / 4
/// ```
pub fn pairwise_distance(
    sources: Tensor<2>,
    targets: Tensor<2>,
    weights: &[f32],
    slots: usize,
    config: &DistanceConfig,
) -> Tensor<1> {
    let [rows, width] = sources.dims();
    let device = sources.device();
    let (sources, targets) = (
        transform(sources, config.transform_fn),
        transform(targets, config.transform_fn),
    );
    let losses = match config.distance_type {
        DistanceType::L1 => (sources - targets).abs(),
        DistanceType::L2 => (sources - targets).powi_scalar(2),
        DistanceType::Cosine => {
            let products = l2_normalize(sources) * l2_normalize(targets);
            products.sum_dim(1).neg() + 1.0
        }
        DistanceType::KlDivergence => kl_terms(sources, targets).sum_dim(1),
        DistanceType::JensenShannonDivergence => {
            let means = (sources.clone() + targets.clone()) * 0.5;
            (kl_terms(sources, means.clone()) * 0.5 + kl_terms(targets, means) * 0.5).sum_dim(1)
        }
    };
    let per_row = losses.dims()[1];
    let weight_column = Tensor::<1>::from_floats(weights, &device).reshape([rows, 1]);
    let total = (losses * weight_column.expand([rows, per_row])).sum();
    // tf.compat.v1.losses.compute_weighted_loss: weights broadcast to the losses' shape.
    let denominator = match config.reduction {
        Reduction::Sum => 1.0,
        Reduction::Mean => weights.iter().map(|&w| w as f64).sum::<f64>() * per_row as f64,
        Reduction::SumOverBatchSize => (slots * per_row) as f64,
        Reduction::SumByNonzeroWeights => {
            (weights.iter().filter(|&&w| w != 0.0).count() * per_row) as f64
        }
    };
    // TensorFlow's `div_no_nan`: nothing to average over is a loss of 0.
    let mut loss = if denominator == 0.0 {
        total * 0.0
    } else {
        total / denominator
    };
    if config.sum_over_axis.is_some()
        && config.reduction.averages()
        && config.distance_type.is_elementwise()
    {
        // The averaged per-value loss times the axis length: a per-pair sum.
        loss = loss * width as f64;
    }
    loss
}

fn transform(t: Tensor<2>, transform: TransformFn) -> Tensor<2> {
    match transform {
        TransformFn::None => t,
        TransformFn::Softmax => softmax(t, 1),
        TransformFn::Sigmoid => sigmoid(t),
    }
}

/// `tf.nn.l2_normalize` along the class axis.
fn l2_normalize(t: Tensor<2>) -> Tensor<2> {
    let norm = t
        .clone()
        .powi_scalar(2)
        .sum_dim(1)
        .clamp_min(NORMALIZE_EPSILON)
        .sqrt();
    t / norm
}

/// NSL's `_kl_divergence_fn`: `p log(p + e) - p log(q + e)` per value.
fn kl_terms(p: Tensor<2>, q: Tensor<2>) -> Tensor<2> {
    p.clone() * ((p + LOG_EPSILON).log() - (q + LOG_EPSILON).log())
}
