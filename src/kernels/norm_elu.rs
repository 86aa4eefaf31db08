//! BatchNorm followed by ELU as one operation, with its own backward pass.
//!
//! Every convolution and dense layer of the study's network is followed by BatchNorm and ELU.
//! Composed from Burn's tensor operations, that pair costs about a dozen passes over the
//! activation forward and as many backward: Burn computes the batch statistics through a
//! transposed copy, and each step of ELU and its gradient is a pass of its own.
//! Here flex does it in two passes each way, in per-channel loops, and LibTorch calls its
//! native batch norm and ELU kernels. The autodiff backend records the pair as one step.

// Burn marks burn-tch deprecated in favour of CubeCL backends; it is still the project's
// chosen path to LibTorch (see src/train/device.rs).
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    backend_extension, Autodiff, AutodiffBackend, Backend, Dispatch, Flex, Scalar,
};
use burn::nn::BatchNorm;
use burn::prelude::*;

/// The backends that run [`batch_norm_elu`]. The default bodies compose Burn's operations and
/// are the reference the tests hold the others to.
#[backend_extension(Flex, LibTorch: cfg(feature = "tch"), Autodiff)]
pub trait NormEluBackend: Backend {
    /// `elu(batch_norm(x))` with the statistics of the batch `x` `[N, C, ...]`; returns the
    /// output, the batch mean and the biased batch variance (both `[C]`).
    fn batch_norm_elu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let result = Self::batch_norm_train(x, gamma, beta, epsilon);
        (elu::<Self>(result.output), result.mean, result.variance)
    }

    /// Gradients with respect to `x`, `gamma` and `beta` of
    /// [`batch_norm_elu_train`](NormEluBackend::batch_norm_elu_train), given its output `y`,
    /// the statistics it returned and the gradient of `y`.
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_elu_train_backward(
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        output_gradient: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        // ELU's derivative is 1 where y > 0 and y + 1 elsewhere: min(y, 0) + 1.
        let slope = Self::float_add_scalar(
            Self::float_clamp_max(y, Scalar::Float(0.0)),
            Scalar::Float(1.0),
        );
        let normalized_gradient = Self::float_mul(output_gradient, slope);
        let result =
            Self::batch_norm_train_backward(x, gamma, mean, variance, epsilon, normalized_gradient);
        (result.x_grad, result.gamma_grad, result.beta_grad)
    }

    /// `elu(batch_norm(x))` with given statistics (inference).
    fn batch_norm_elu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        elu::<Self>(Self::batch_norm(x, gamma, beta, mean, variance, epsilon))
    }
}

/// ELU as [`crate::kernels::elu`] computes it, on a backend's primitives.
fn elu<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let negative = B::float_clamp_max(x.clone(), Scalar::Float(0.0));
    B::float_add(
        B::relu(x),
        B::float_sub_scalar(B::float_exp(negative), Scalar::Float(1.0)),
    )
}

/// `elu(norm(x))`, as `burn::nn::BatchNorm::forward` followed by [`elu`](crate::kernels::elu)
/// computes it, including the update of the running statistics in training.
///
/// Like Burn's layer, it normalizes with the batch statistics on an autodiff device while the
/// layer trains, and with the running statistics otherwise.
///
/// ```
/// use burn::nn::BatchNormConfig;
/// use burn::prelude::*;
/// let device = Device::flex();
/// let norm = BatchNormConfig::new(2).init(&device);
/// let x = Tensor::<4>::from_floats([[[[-1.0]], [[3.0]]]], &device);
/// // Inference with the initial running statistics (mean 0, variance 1).
/// let y: Vec<f32> = fer::kernels::batch_norm_elu(&norm, x).into_data().try_to_vec().unwrap();
/// assert!((y[0] - (-1.0f32 / (1.0f32 + 1e-5).sqrt()).exp_m1()).abs() < 1e-6);
/// assert!((y[1] - 3.0 / (1.0f32 + 1e-5).sqrt()).abs() < 1e-5);
/// ```
pub fn batch_norm_elu<const D: usize>(norm: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !(device.is_autodiff() && norm.training.is_enabled()) {
        return Tensor::from_dispatch(Dispatch::batch_norm_elu(
            x.into_dispatch(),
            norm.gamma.val().into_dispatch(),
            norm.beta.val().into_dispatch(),
            norm.running_mean.value().to_device(&device).into_dispatch(),
            norm.running_var.value().to_device(&device).into_dispatch(),
            norm.epsilon,
        ));
    }
    let (y, mean, variance) = Dispatch::batch_norm_elu_train(
        x.into_dispatch(),
        norm.gamma.val().into_dispatch(),
        norm.beta.val().into_dispatch(),
        norm.epsilon,
    );
    let momentum = norm.momentum;
    let blend = |state: Tensor<1>, batch: Tensor<1>| {
        state
            .to_device(&device)
            .mul_scalar(1.0 - momentum)
            .add(batch.detach().mul_scalar(momentum))
            .detach()
    };
    let running_mean = blend(norm.running_mean.value_sync(), Tensor::from_dispatch(mean));
    let running_var = blend(
        norm.running_var.value_sync(),
        Tensor::from_dispatch(variance),
    );
    norm.running_mean.update(running_mean);
    norm.running_var.update(running_var);
    Tensor::from_dispatch(y)
}

impl NormEluBackend for Flex {
    fn batch_norm_elu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        flex::train(x, gamma, beta, epsilon)
    }

    fn batch_norm_elu_train_backward(
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        output_gradient: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        flex::train_backward(x, y, gamma, mean, variance, epsilon, output_gradient)
    }

    fn batch_norm_elu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        flex::inference(x, gamma, beta, mean, variance, epsilon)
    }
}

#[cfg(feature = "tch")]
impl NormEluBackend for burn::backend::LibTorch {
    fn batch_norm_elu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        libtorch::train(x, gamma, beta, epsilon)
    }

    fn batch_norm_elu_train_backward(
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        output_gradient: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        libtorch::train_backward(x, y, gamma, mean, variance, epsilon, output_gradient)
    }

    fn batch_norm_elu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        libtorch::inference(x, gamma, beta, mean, variance, epsilon)
    }
}

/// Backward step of the training form: the backend's fused gradient.
#[derive(Debug)]
struct BatchNormEluBackward;

/// Checkpointed input; output, gamma, batch mean, batch variance; epsilon.
type BackwardState<B> = (
    NodeId,
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    f64,
);

impl<B: NormEluBackend> Backward<B, 3> for BatchNormEluBackward {
    type State = BackwardState<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, y, gamma, mean, variance, epsilon) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
        let (x_grad, gamma_grad, beta_grad) =
            B::batch_norm_elu_train_backward(x, y, gamma, mean, variance, epsilon, grad);
        for (node, gradient) in [
            (node_x, x_grad),
            (node_gamma, gamma_grad),
            (node_beta, beta_grad),
        ] {
            if let Some(node) = node {
                grads.register::<B>(node.id, gradient);
            }
        }
    }
}

impl<B: NormEluBackend, C: CheckpointStrategy> NormEluBackend for Autodiff<B, C> {
    fn batch_norm_elu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prepared = BatchNormEluBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let (output, mean, variance) = match prepared {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma = gamma.into_primitive();
                let (y, mean, variance) = B::batch_norm_elu_train(
                    x.into_primitive(),
                    gamma.clone(),
                    beta.into_primitive(),
                    epsilon,
                );
                let state = (
                    x_state,
                    y.clone(),
                    gamma,
                    mean.clone(),
                    variance.clone(),
                    epsilon,
                );
                (prep.finish(state, y), mean, variance)
            }
            OpsKind::UnTracked(prep) => {
                let (y, mean, variance) = B::batch_norm_elu_train(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                (prep.finish(y), mean, variance)
            }
        };
        (output, Self::from_inner(mean), Self::from_inner(variance))
    }
}

/// The pair on flex's CPU buffers: per-channel statistics, then one pass per image.
mod flex {
    use burn::backend::flex::FlexTensor;
    use burn::tensor::TensorData;
    use rayon::prelude::*;

    /// `[N, C, ...]` as images of `channels` planes of `plane` values.
    #[derive(Clone, Copy)]
    struct Planes {
        channels: usize,
        plane: usize,
        count: usize,
    }

    impl Planes {
        fn of(t: &FlexTensor) -> Planes {
            let shape = t.layout().shape();
            Planes {
                channels: shape[1],
                plane: shape[2..].iter().product(),
                count: shape.iter().product::<usize>() / shape[1],
            }
        }

        /// The planes of channel `c`, image after image.
        fn channel<'a>(&self, values: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> {
            values
                .chunks_exact(self.plane)
                .skip(c)
                .step_by(self.channels)
        }
    }

    fn floats(t: &FlexTensor) -> Vec<f32> {
        t.to_contiguous().storage::<f32>().to_vec()
    }

    fn tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
    }

    /// Sum of `f` over paired values, in 16 f32 lanes that the compiler vectorizes.
    fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
        let mut lanes = [0f32; 16];
        let (a16, b16) = (a.chunks_exact(16), b.chunks_exact(16));
        let tail: f64 = a16
            .remainder()
            .iter()
            .zip(b16.remainder())
            .map(|(&a, &b)| f(a, b) as f64)
            .sum();
        for (a, b) in a16.zip(b16) {
            for lane in 0..16 {
                lanes[lane] += f(a[lane], b[lane]);
            }
        }
        lanes.iter().map(|&v| v as f64).sum::<f64>() + tail
    }

    /// `exp(x) - 1` for `x <= 0`, branch-free so that loops over it vectorize: `2^n · p(r)`
    /// with `x = n·ln 2 + r`, `|r| <= ln 2 / 2` and a degree-6 Taylor polynomial (relative
    /// error below 2e-7, absolute error of the result below 1.2e-7).
    #[inline(always)]
    fn exp_m1_nonpositive(x: f32) -> f32 {
        const SHIFTER: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer.
        let x = x.max(-87.0);
        let n = (x * std::f32::consts::LOG2_E + SHIFTER) - SHIFTER;
        let r = x - n * std::f32::consts::LN_2;
        let p = 1.0
            + r * (1.0
                + r * (0.5
                    + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
        let scale = f32::from_bits(((n as i32 + 127) << 23) as u32);
        p * scale - 1.0
    }

    #[inline(always)]
    fn elu(z: f32) -> f32 {
        z.max(0.0) + exp_m1_nonpositive(z.min(0.0))
    }

    /// `y = elu(x · scale[c] + shift[c])`, image by image in parallel.
    fn affine_elu(x: &FlexTensor, scale: &[f32], shift: &[f32]) -> FlexTensor {
        let planes = Planes::of(x);
        let xs = x.to_contiguous();
        let xs: &[f32] = xs.storage();
        let mut y = vec![0f32; xs.len()];
        let image = planes.channels * planes.plane;
        y.par_chunks_mut(image.max(1))
            .zip(xs.par_chunks(image.max(1)))
            .for_each(|(y, x)| {
                for (c, (y, x)) in y
                    .chunks_exact_mut(planes.plane)
                    .zip(x.chunks_exact(planes.plane))
                    .enumerate()
                {
                    let (a, b) = (scale[c], shift[c]);
                    for (y, &x) in y.iter_mut().zip(x) {
                        *y = elu(x * a + b);
                    }
                }
            });
        tensor(y, x.layout().shape())
    }

    pub fn train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let x = x.to_contiguous();
        let planes = Planes::of(&x);
        let xs: &[f32] = x.storage();
        let (mean, variance): (Vec<f32>, Vec<f32>) = (0..planes.channels)
            .into_par_iter()
            .map(|c| {
                let sum: f64 = planes
                    .channel(xs, c)
                    .map(|p| lane_sum(p, p, |v, _| v))
                    .sum();
                let mean = (sum / planes.count as f64) as f32;
                let squares: f64 = planes
                    .channel(xs, c)
                    .map(|p| lane_sum(p, p, |v, _| (v - mean) * (v - mean)))
                    .sum();
                (mean, (squares / planes.count as f64) as f32)
            })
            .unzip();
        let (gamma, beta) = (floats(&gamma), floats(&beta));
        let scale: Vec<f32> = gamma
            .iter()
            .zip(&variance)
            .map(|(g, v)| g / (v + epsilon as f32).sqrt())
            .collect();
        let shift: Vec<f32> = beta
            .iter()
            .zip(&mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        let y = affine_elu(&x, &scale, &shift);
        let channels = [planes.channels];
        (y, tensor(mean, &channels), tensor(variance, &channels))
    }

    /// With `dz = dy · elu'(z)` and `x̂` the normalized input, per channel:
    /// `dβ = Σ dz`, `dγ = Σ dz·x̂` and `dx = γ/σ · (dz - dβ/M - x̂·dγ/M)`.
    pub fn train_backward(
        x: FlexTensor,
        y: FlexTensor,
        gamma: FlexTensor,
        mean: FlexTensor,
        variance: FlexTensor,
        epsilon: f64,
        output_gradient: FlexTensor,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (x, y, dy) = (
            x.to_contiguous(),
            y.to_contiguous(),
            output_gradient.to_contiguous(),
        );
        let planes = Planes::of(&x);
        let (xs, ys, dys): (&[f32], &[f32], &[f32]) = (x.storage(), y.storage(), dy.storage());
        let (gamma, mean) = (floats(&gamma), floats(&mean));
        let inv_std: Vec<f32> = floats(&variance)
            .iter()
            .map(|v| 1.0 / (v + epsilon as f32).sqrt())
            .collect();
        // dz for paired (dy, y) values: ELU's derivative is min(y, 0) + 1.
        let dz = |dy: f32, y: f32| dy * (y.min(0.0) + 1.0);

        let (beta_grad, centred_sum): (Vec<f32>, Vec<f32>) = (0..planes.channels)
            .into_par_iter()
            .map(|c| {
                let m = mean[c];
                let (mut sum, mut centred) = (0f64, 0f64);
                let mut plane_dz = vec![0f32; planes.plane];
                let planes_of = |values| planes.channel(values, c);
                for ((dy, y), x) in planes_of(dys).zip(planes_of(ys)).zip(planes_of(xs)) {
                    for ((g, &dy), &y) in plane_dz.iter_mut().zip(dy).zip(y) {
                        *g = dz(dy, y);
                    }
                    sum += lane_sum(&plane_dz, &plane_dz, |g, _| g);
                    centred += lane_sum(&plane_dz, x, |g, x| g * (x - m));
                }
                (sum as f32, centred as f32)
            })
            .unzip();
        let gamma_grad: Vec<f32> = centred_sum
            .iter()
            .zip(&inv_std)
            .map(|(s, i)| s * i)
            .collect();

        let count = planes.count as f32;
        let mut x_grad = vec![0f32; xs.len()];
        let image = planes.channels * planes.plane;
        x_grad
            .par_chunks_mut(image.max(1))
            .zip(xs.par_chunks(image.max(1)))
            .zip(
                ys.par_chunks(image.max(1))
                    .zip(dys.par_chunks(image.max(1))),
            )
            .for_each(|((dx, x), (y, dy))| {
                let plane = planes.plane;
                let inputs = x.chunks_exact(plane).zip(y.chunks_exact(plane));
                for (c, (dx, ((x, y), dy))) in dx
                    .chunks_exact_mut(plane)
                    .zip(inputs.zip(dy.chunks_exact(plane)))
                    .enumerate()
                {
                    let k = gamma[c] * inv_std[c];
                    let mean_dz = beta_grad[c] / count;
                    // x̂·dγ/M = (x - m) · σ⁻² · Σ dz(x - m) / M
                    let slope = inv_std[c] * gamma_grad[c] / count;
                    let m = mean[c];
                    for (((dx, &x), &y), &dy) in dx.iter_mut().zip(x).zip(y).zip(dy) {
                        *dx = k * (dz(dy, y) - mean_dz - (x - m) * slope);
                    }
                }
            });
        let channels = [planes.channels];
        (
            tensor(x_grad, x.layout().shape()),
            tensor(gamma_grad, &channels),
            tensor(beta_grad, &channels),
        )
    }

    pub fn inference(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mean: FlexTensor,
        variance: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        let (gamma, beta, mean) = (floats(&gamma), floats(&beta), floats(&mean));
        let scale: Vec<f32> = gamma
            .iter()
            .zip(floats(&variance))
            .map(|(g, v)| g / (v + epsilon as f32).sqrt())
            .collect();
        let shift: Vec<f32> = beta
            .iter()
            .zip(&mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        affine_elu(&x, &scale, &shift)
    }
}

/// The pair with LibTorch's native batch norm and ELU kernels.
#[cfg(feature = "tch")]
mod libtorch {
    use crate::kernels::libtorch_shim::batch_norm_backward;
    use burn::backend::libtorch::TchTensor;
    use tch::Tensor;

    pub fn train(
        x: TchTensor,
        gamma: TchTensor,
        beta: TchTensor,
        epsilon: f64,
    ) -> (TchTensor, TchTensor, TchTensor) {
        let (mut y, mean, inv_std) = x.tensor.native_batch_norm(
            Some(&gamma.tensor),
            Some(&beta.tensor),
            None,
            None,
            true,
            0.0,
            epsilon,
        );
        let _ = y.elu_();
        let variance = inv_std.pow_tensor_scalar(-2.0) - epsilon;
        (
            TchTensor::new(y),
            TchTensor::new(mean),
            TchTensor::new(variance),
        )
    }

    /// ELU's gradient, then LibTorch's own batch-norm backward through fer's shim: one
    /// native kernel where the same formula in tch's operators takes seven passes over the
    /// activations.
    pub fn train_backward(
        x: TchTensor,
        y: TchTensor,
        gamma: TchTensor,
        mean: TchTensor,
        variance: TchTensor,
        epsilon: f64,
        output_gradient: TchTensor,
    ) -> (TchTensor, TchTensor, TchTensor) {
        let dz = Tensor::elu_backward(&output_gradient.tensor, 1.0, 1.0, 1.0, true, &y.tensor);
        let inv_std = (&variance.tensor + epsilon).rsqrt();
        // LibTorch's parallel kernels need both in one memory order; mixed orders fall back
        // to a serial loop. fer's convolutions keep activations channels-last, so this copy
        // is for other layers' outputs only.
        let (x, dz) = match x.tensor.is_contiguous() == dz.is_contiguous() {
            true => (x.tensor, dz),
            false => (x.tensor.contiguous(), dz.contiguous()),
        };
        let (x_grad, gamma_grad, beta_grad) =
            batch_norm_backward(&dz, &x, &gamma.tensor, &mean.tensor, &inv_std, epsilon);
        (
            TchTensor::new(x_grad),
            TchTensor::new(gamma_grad),
            TchTensor::new(beta_grad),
        )
    }

    pub fn inference(
        x: TchTensor,
        gamma: TchTensor,
        beta: TchTensor,
        mean: TchTensor,
        variance: TchTensor,
        epsilon: f64,
    ) -> TchTensor {
        let (mut y, _, _) = x.tensor.native_batch_norm(
            Some(&gamma.tensor),
            Some(&beta.tensor),
            Some(&mean.tensor),
            Some(&variance.tensor),
            false,
            0.0,
            epsilon,
        );
        let _ = y.elu_();
        TchTensor::new(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{floats, weighting};
    use burn::module::Module;
    use burn::nn::BatchNormConfig;
    use burn::tensor::{Distribution, TensorData};

    fn assert_close(ours: &[f32], burns: &[f32], what: &str) {
        crate::kernels::testing::assert_close(ours, burns, 2e-5, what);
    }

    /// A layer with non-trivial gamma, beta and running statistics.
    fn layer(channels: usize, device: &Device) -> BatchNorm {
        let mut norm = BatchNormConfig::new(channels)
            .with_epsilon(1e-3)
            .with_momentum(0.3)
            .init(device);
        let ramp = |offset: f32, step: f32| {
            let values: Vec<f32> = (0..channels).map(|c| offset + step * c as f32).collect();
            Tensor::<1>::from_data(TensorData::new(values, [channels]), device)
        };
        let trainable = |t: Tensor<1>| match device.is_autodiff() {
            true => t.require_grad(),
            false => t,
        };
        norm.gamma = norm.gamma.map(|_| trainable(ramp(0.5, 0.3)));
        norm.beta = norm.beta.map(|_| trainable(ramp(-0.4, 0.25)));
        norm.running_mean.update(ramp(0.2, -0.1));
        norm.running_var.update(ramp(0.5, 0.4));
        norm
    }

    /// Output; input, gamma and beta gradients of `sum(f(x) * r)`; running statistics after.
    fn run<const D: usize>(dims: [usize; D], train: bool, ours: bool) -> Vec<Vec<f32>> {
        let device = Device::flex().autodiff();
        let values: Vec<f32> = (0..dims.iter().product::<usize>())
            .map(|i| 2.0 * (i as f32 * 1.3).cos() + 0.5)
            .collect();
        let x = Tensor::<D>::from_data(TensorData::new(values, dims), &device).require_grad();
        let mut norm = layer(dims[1], &device);
        if !train {
            norm = norm.valid();
        }
        let y = if ours {
            batch_norm_elu(&norm, x.clone())
        } else {
            crate::kernels::elu(norm.forward(x.clone()))
        };
        let grads = (y.clone() * weighting(dims, &device)).sum().backward();
        let mut results = vec![floats(y.inner()), floats(x.grad(&grads).unwrap())];
        if train {
            results.push(floats(norm.gamma.grad(&grads).unwrap()));
            results.push(floats(norm.beta.grad(&grads).unwrap()));
        }
        results.push(floats(norm.running_mean.value()));
        results.push(floats(norm.running_var.value()));
        results
    }

    fn compare<const D: usize>(dims: [usize; D], train: bool) {
        let names: &[&str] = if train {
            &["output", "x grad", "gamma grad", "beta grad", "mean", "var"]
        } else {
            &["output", "x grad", "mean", "var"]
        };
        let ours = run(dims, train, true);
        let burns = run(dims, train, false);
        for (name, (a, b)) in names.iter().zip(ours.iter().zip(&burns)) {
            assert_close(a, b, &format!("{dims:?} train={train} {name}"));
        }
    }

    #[test]
    fn training_matches_burns_batch_norm_and_elu_with_gradients_and_running_stats() {
        compare([3, 4, 5, 6], true);
        compare([2, 3, 17, 1], true);
        compare([5, 6], true);
    }

    #[test]
    fn inference_matches_burns_batch_norm_and_elu_with_input_gradient() {
        compare([3, 4, 5, 6], false);
        compare([5, 6], false);
    }

    #[test]
    fn inference_without_autodiff_matches_the_autodiff_path() {
        let device = Device::flex();
        let x = Tensor::<4>::random([2, 3, 7, 5], Distribution::Normal(0.0, 2.0), &device);
        let norm = layer(3, &device);
        let plain = floats(batch_norm_elu(&norm, x.clone()));
        let burns = floats(crate::kernels::elu(norm.forward(x)));
        assert_close(&plain, &burns, "inference");
    }

    #[test]
    fn exp_m1_is_accurate_down_to_underflow() {
        let device = Device::flex();
        let values: Vec<f32> = (0..2000).map(|i| -(i as f32) * 0.06).collect();
        let norm = BatchNormConfig::new(1).with_epsilon(1e-12).init(&device);
        let n = values.len();
        let x = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, 1, n, 1]), &device);
        let y = floats(batch_norm_elu(&norm, x));
        for (v, y) in values.iter().zip(y) {
            let want = (*v as f64).exp_m1() as f32;
            assert!((y - want).abs() <= 3e-7, "elu({v}) = {y}, expected {want}");
        }
    }
}
