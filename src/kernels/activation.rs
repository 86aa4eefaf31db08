//! The network's activation, in the form that is cheapest for Burn's eager backends.

use burn::prelude::*;
use burn::tensor::activation::relu;

/// ELU with alpha 1 (Keras' `elu`): `x` for `x > 0`, `exp(x) - 1` otherwise.
///
/// Computed as `relu(x) + exp(min(x, 0)) - 1`. Burn's `activation::elu` builds it from a
/// comparison, `exp` of every value and `mask_where`; this form makes fewer passes over
/// the activations on the eager CPU backends, and never takes `exp` of a large positive value, so its gradient stays finite where Burn's
/// turns into NaN (inputs above about 88).
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let x = Tensor::<1>::from_floats([-1.0, 0.0, 2.0], &device);
/// let y: Vec<f32> = fer::kernels::elu(x).into_data().try_to_vec::<f32>().unwrap();
/// assert!((y[0] - (-1.0f32).exp_m1()).abs() < 1e-6 && y[1] == 0.0 && y[2] == 2.0);
/// ```
pub fn elu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    relu(x.clone()) + x.clamp_max(0.0).exp().sub_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn matches_burns_elu_over_a_range() {
        let device = Device::flex();
        let x = Tensor::<1>::from_floats(
            [
                -20.0, -3.0, -1.0, -0.1, -1e-6, 0.0, 1e-6, 0.1, 1.0, 3.0, 20.0,
            ],
            &device,
        );
        let ours = floats(elu(x.clone()));
        let burns = floats(burn::tensor::activation::elu(x, 1.0));
        for (a, b) in ours.iter().zip(&burns) {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{ours:?} vs {burns:?}"
            );
        }
    }

    #[test]
    fn gradient_is_one_above_zero_exp_below_and_finite_for_large_inputs() {
        let device = Device::flex().autodiff();
        let x = Tensor::<1>::from_floats([-2.0, -0.5, 0.5, 100.0, 1000.0], &device).require_grad();
        let grads = elu(x.clone()).sum().backward();
        let g = floats(x.grad(&grads).unwrap());
        let expected = [(-2.0f32).exp(), (-0.5f32).exp(), 1.0, 1.0, 1.0];
        for (got, want) in g.iter().zip(expected) {
            assert!(
                (got - want).abs() < 1e-6,
                "gradient {g:?}, expected {expected:?}"
            );
        }
    }
}
