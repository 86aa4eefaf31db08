//! Dropout whose mask comes from a parallel random generator, already scaled.
//!
//! Burn's `Dropout` draws a Bernoulli tensor, then multiplies twice: by the mask and by
//! `1 / keep`, and both CPU backends draw the Bernoulli numbers one at a time, on one
//! thread. Here the CPU backends fill the mask
//! `{0, 1 / keep}` in one pass of ChaCha8 streams on all threads, and the layer is one
//! multiplication each way.

// Burn marks burn-tch deprecated in favour of CubeCL backends; it is still the project's
// chosen path to LibTorch (see src/train/device.rs).
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    backend_extension, Autodiff, AutodiffBackend, Backend, Dispatch, Flex, Scalar, TensorMetadata,
};
use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::Distribution;
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// The backends that run [`dropout`]. The default body is Burn's Bernoulli draw, for the
/// GPU; the CPU backends fill the mask in parallel.
#[backend_extension(Flex, LibTorch: cfg(feature = "tch"), Autodiff)]
pub trait DropoutBackend: Backend {
    /// A tensor shaped like `x`, each value `1 / keep` with probability `keep` and 0
    /// otherwise, independently. LibTorch also gives it `x`'s memory order, so that the
    /// multiplication reads both alike.
    fn dropout_mask(x: FloatTensor<Self>, keep: f64) -> FloatTensor<Self> {
        let mask = Self::float_random(
            x.shape(),
            Distribution::Bernoulli(keep),
            &x.device(),
            x.dtype().into(),
        );
        Self::float_mul_scalar(mask, Scalar::Float(1.0 / keep))
    }
}

/// Dropout as `layer` configures it: in training (an autodiff device, the layer not frozen
/// by [`valid`](burn::module::Module::valid)) each value is zeroed with probability
/// `layer.prob` and the rest scaled by `1 / (1 - prob)`; otherwise `x` unchanged, as
/// Burn's [`Dropout::forward`].
///
/// ```
/// use burn::nn::DropoutConfig;
/// use burn::prelude::*;
/// let device = Device::flex().autodiff();
/// let x = Tensor::<2>::ones([100, 100], &device);
/// let y: Vec<f32> = fer::kernels::dropout(&DropoutConfig::new(0.25).init(), x)
///     .into_data()
///     .try_to_vec::<f32>()
///     .unwrap();
/// let kept = y.iter().filter(|&&v| v > 0.0).count();
/// assert!(y.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
/// assert!((7_200..7_800).contains(&kept), "{kept} of 10000 kept");
/// ```
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !layer.training.is_enabled() || !x.device().is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    let keep = 1.0 - layer.prob;
    let mask = Tensor::from_dispatch(Dispatch::dropout_mask(x.clone().into_dispatch(), keep));
    x * mask
}

/// Fills `mask` with `1 / keep` at probability `keep` and 0 otherwise: blocks of 64 Ki
/// values, each from its own ChaCha8 stream of `seed`, on rayon's threads. The same seed
/// gives the same mask on any number of threads.
pub(crate) fn fill_keep_mask(mask: &mut [f32], keep: f64, seed: u64) {
    const BLOCK: usize = 1 << 16;
    // A value is kept when a uniform u32 falls below keep · 2³², to within 2⁻³².
    let threshold = (keep * 4_294_967_296.0) as u64;
    let scale = (1.0 / keep) as f32;
    mask.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, values)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(block as u64);
            for value in values {
                *value = if u64::from(rng.next_u32()) < threshold {
                    scale
                } else {
                    0.0
                };
            }
        });
}

impl DropoutBackend for Flex {
    fn dropout_mask(x: FloatTensor<Self>, keep: f64) -> FloatTensor<Self> {
        use burn::backend::flex::FlexTensor;
        use burn::backend::ops::FloatTensorOps;
        use burn::tensor::TensorData;
        // The seed comes from flex's own generator, which `Device::seed` sets.
        let seed = Self::float_random(
            [2].into(),
            Distribution::Uniform(0.0, 16_777_216.0),
            &x.device(),
            burn::tensor::FloatDType::F32,
        );
        let seed: Vec<f32> = seed.into_data().try_to_vec::<f32>().unwrap_or_default();
        let seed = seed
            .iter()
            .fold(0u64, |acc, &half| (acc << 24) | half as u64);
        let shape = x.shape();
        let mut mask = vec![0f32; shape.num_elements()];
        fill_keep_mask(&mut mask, keep, seed);
        FlexTensor::from_data(TensorData::new(mask, shape))
    }
}

#[cfg(feature = "tch")]
impl DropoutBackend for burn::backend::LibTorch {
    fn dropout_mask(x: FloatTensor<Self>, keep: f64) -> FloatTensor<Self> {
        use burn::backend::libtorch::TchTensor;
        // `empty_like` keeps x's memory order (channels-last after fer's convolutions) and
        // is dense, so its storage is `numel` consecutive values.
        let mut mask = x.tensor.empty_like();
        if !fills_in_place(mask.device(), mask.kind()) {
            let _ = mask.bernoulli_float_(keep);
            let _ = mask.g_mul_scalar_(1.0 / keep);
            return TchTensor::new(mask);
        }
        // The seed comes from LibTorch's generator, which `Device::seed` sets.
        let seed = tch::Tensor::randint(i64::MAX, [1], (tch::Kind::Int64, tch::Device::Cpu))
            .int64_value(&[0]) as u64;
        let numel = mask.numel();
        // SAFETY: the mask is a fresh, dense f32 CPU tensor of `numel` values that nothing
        // else references until this function returns it.
        let values = unsafe { std::slice::from_raw_parts_mut(mask.data_ptr() as *mut f32, numel) };
        fill_keep_mask(values, keep, seed);
        TchTensor::new(mask)
    }
}

/// Whether fer fills a LibTorch mask itself ([`fill_keep_mask`], through the tensor's memory):
/// f32 on the CPU only. A GPU mask takes LibTorch's own Bernoulli kernel.
#[cfg(feature = "tch")]
fn fills_in_place(device: tch::Device, kind: tch::Kind) -> bool {
    device == tch::Device::Cpu && kind == tch::Kind::Float
}

impl<B: DropoutBackend, C: CheckpointStrategy> DropoutBackend for Autodiff<B, C> {
    /// The mask is a constant of the graph: the multiplication's backward uses it and no
    /// gradient flows into it.
    fn dropout_mask(x: FloatTensor<Self>, keep: f64) -> FloatTensor<Self> {
        Self::from_inner(B::dropout_mask(Self::inner(x), keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;

    fn masked(seed: u64, keep: f64, len: usize) -> Vec<f32> {
        let mut mask = vec![f32::NAN; len];
        fill_keep_mask(&mut mask, keep, seed);
        mask
    }

    #[test]
    fn masks_keep_the_asked_share_scaled_and_repeat_with_their_seed() {
        // Three blocks and a part, so that blocks differ from each other.
        let len = 3 * (1 << 16) + 1_000;
        for keep in [0.4, 0.5, 0.9] {
            let mask = masked(7, keep, len);
            let kept = mask.iter().filter(|&&v| v != 0.0).count();
            assert!(mask
                .iter()
                .all(|&v| v == 0.0 || (v - 1.0 / keep as f32).abs() < 1e-6));
            // Binomial standard deviation is at most 250 here: 5 of them.
            let expected = keep * len as f64;
            assert!(
                (kept as f64 - expected).abs() < 1_250.0,
                "keep {keep}: {kept} of {len}"
            );
            assert!(
                mask == masked(7, keep, len),
                "the same seed gave another mask"
            );
            assert!(
                mask != masked(8, keep, len),
                "another seed gave the same mask"
            );
        }
        let mask = masked(7, 0.5, len);
        assert!(mask[..1 << 16] != mask[1 << 16..2 << 16], "blocks repeat");
    }

    #[test]
    fn training_dropout_zeroes_values_and_their_gradients_together() {
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.6).init();
        let x = Tensor::<2>::from_data(
            TensorData::new((0..4000).map(|i| i as f32 + 1.0).collect(), [40, 100]),
            &device,
        )
        .require_grad();
        let y = dropout(&layer, x.clone());
        let grads = (y.clone() * y.clone()).sum().backward();
        let x_grad: Vec<f32> = x
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let x: Vec<f32> = x.into_data().try_to_vec::<f32>().unwrap();
        let y: Vec<f32> = y.into_data().try_to_vec::<f32>().unwrap();
        let scale = 1.0 / 0.4;
        for ((x, y), g) in x.iter().zip(&y).zip(&x_grad) {
            if *y == 0.0 {
                assert_eq!(*g, 0.0);
            } else {
                // d(y²)/dx = 2 y · scale.
                assert!((y - x * scale).abs() < 1e-3 * y, "{x} -> {y}");
                assert!((g - 2.0 * y * scale).abs() < 1e-3 * g, "{g}");
            }
        }
        let kept = y.iter().filter(|&&v| v != 0.0).count();
        assert!((1_400..1_800).contains(&kept), "{kept} of 4000");
    }

    #[test]
    fn outside_training_dropout_is_the_identity() {
        let layer = DropoutConfig::new(0.5).init();
        let x = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &Device::flex());
        assert_eq!(
            dropout(&layer, x.clone()).into_data(),
            x.clone().into_data()
        );
        let device = Device::flex().autodiff();
        let x = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
        let frozen = layer.valid();
        assert_eq!(dropout(&frozen, x.clone()).into_data(), x.into_data());
    }

    #[test]
    fn the_device_seed_repeats_the_mask() {
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.5).init();
        let x = Tensor::<2>::ones([64, 64], &device);
        let draw = |seed| {
            device.seed(seed);
            dropout(&layer, x.clone()).into_data()
        };
        assert!(draw(3) == draw(3), "the same seed gave another mask");
        assert!(draw(3) != draw(4), "another seed gave the same mask");
    }
}

#[cfg(all(test, feature = "tch"))]
mod libtorch_routes {
    use super::fills_in_place;
    use tch::{Device, Kind};

    #[test]
    fn only_f32_cpu_masks_are_filled_in_place() {
        assert!(fills_in_place(Device::Cpu, Kind::Float));
        assert!(!fills_in_place(Device::Cpu, Kind::Double));
        assert!(!fills_in_place(Device::Cpu, Kind::Half));
        for device in [
            Device::Cuda(0),
            Device::Cuda(1),
            Device::Mps,
            Device::Vulkan,
        ] {
            assert!(!fills_in_place(device, Kind::Float), "{device:?}");
        }
    }
}
