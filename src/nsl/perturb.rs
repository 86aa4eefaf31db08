//! Adversarial neighbors, computed exactly as NSL 1.4.0 computes them.

use burn::prelude::*;
use burn::tensor::Distribution;

use super::config::{AdvNorm, AdvRegConfig};

/// Floor of norms and counts, as in NSL.
const EPSILON: f64 = 1e-6;

/// Per-example sum over every non-batch axis, shaped `[N, 1, 1, 1]` for broadcasting.
fn per_example_sum(t: Tensor<4>) -> Tensor<4> {
    let n = t.dims()[0];
    t.reshape([n as i32, -1]).sum_dim(1).reshape([n, 1, 1, 1])
}

fn per_example_max(t: Tensor<4>) -> Tensor<4> {
    let n = t.dims()[0];
    t.reshape([n as i32, -1]).max_dim(1).reshape([n, 1, 1, 1])
}

/// Per-example L2 norm, `[N, 1, 1, 1]`.
pub fn l2_norm(t: Tensor<4>) -> Tensor<4> {
    per_example_sum(t.powi_scalar(2)).sqrt()
}

/// The unit-norm direction that most increases a loss whose gradient is `g`.
///
/// l2: `g / max(||g||_2, 1e-6)` per example; infinity: `sign(g)`; l1: the sign on the
/// coordinates where |g| is largest, divided by their count (floored at 1e-6).
pub fn direction(g: Tensor<4>, norm: AdvNorm) -> Tensor<4> {
    match norm {
        AdvNorm::L2 => {
            let length = l2_norm(g.clone()).clamp_min(EPSILON);
            g / length
        }
        AdvNorm::Infinity => g.sign(),
        AdvNorm::L1 => {
            let magnitude = g.clone().abs();
            let largest = per_example_max(magnitude.clone());
            let at_max = magnitude.equal(largest.expand(g.dims())).float();
            let count = per_example_sum(at_max.clone()).clamp_min(EPSILON);
            g.sign() * at_max / count
        }
    }
}

/// Projects perturbations onto the `epsilon` ball: l2 rescales an example whose norm exceeds
/// epsilon (norm floored at 1e-6); infinity clamps each value. NSL has no l1 projection and
/// [`AdvRegConfig::validate`] rejects it; called anyway, l1 rescales by the l1 norm.
pub fn project(delta: Tensor<4>, norm: AdvNorm, epsilon: f64) -> Tensor<4> {
    match norm {
        AdvNorm::Infinity => delta.clamp(-epsilon, epsilon),
        AdvNorm::L2 | AdvNorm::L1 => {
            let length = match norm {
                AdvNorm::L2 => l2_norm(delta.clone()),
                _ => per_example_sum(delta.clone().abs()),
            };
            let scale = (length.clamp_min(EPSILON).recip() * epsilon).clamp_max(1.0);
            delta * scale
        }
    }
}

/// Clips adversarial inputs to the configured value range (either bound may be absent).
pub fn clip(x: Tensor<4>, config: &AdvRegConfig) -> Tensor<4> {
    match (config.clip_value_min, config.clip_value_max) {
        (Some(lo), Some(hi)) => x.clamp(lo, hi),
        (Some(lo), None) => x.clamp_min(lo),
        (None, Some(hi)) => x.clamp_max(hi),
        (None, None) => x,
    }
}

/// Zeroes non-finite gradient entries and applies the feature mask.
pub fn clean_gradient(g: Tensor<4>, config: &AdvRegConfig) -> Tensor<4> {
    let bad = g.clone().is_nan().bool_or(g.clone().is_inf());
    let g = g.mask_fill(bad, 0.0);
    match &config.feature_mask {
        None => g,
        Some(mask) => {
            let [_, c, h, w] = g.dims();
            let shape = if mask.len() == c * h * w {
                [1, c, h, w]
            } else {
                [1, 1, h, w]
            };
            let mask = Tensor::<1>::from_floats(mask.as_slice(), &g.device()).reshape(shape);
            g * mask
        }
    }
}

/// A random starting point in the epsilon ball around `x0`, drawn as NSL's
/// `random_in_norm_ball` draws it: uniform per value for infinity; uniform in the ball for
/// l2 (normal coordinates plus two extra ones, Barthe et al. 2005) and l1 (Laplace
/// coordinates plus one extra).
pub fn random_start(x0: &Tensor<4>, norm: AdvNorm, epsilon: f64) -> Tensor<4> {
    let device = x0.device();
    let dims = x0.dims();
    let per_example = [dims[0], 1, 1, 1];
    // Exponential(1) draws: -ln(U), U in [1e-7, 1) so the log stays finite in f32.
    let exponential = |shape: [usize; 4]| {
        Tensor::<4>::random(shape, Distribution::Uniform(1e-7, 1.0), &device)
            .log()
            .neg()
    };
    let offset = match norm {
        AdvNorm::Infinity => {
            Tensor::random(dims, Distribution::Uniform(-epsilon, epsilon), &device)
        }
        AdvNorm::L2 => {
            let samples = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
            // Two extra squared normals: Chi^2(2) = 2 * Exponential(1).
            let extra = exponential(per_example) * 2.0;
            let length = (per_example_sum(samples.clone().powi_scalar(2)) + extra).sqrt();
            samples / length * epsilon
        }
        AdvNorm::L1 => {
            let samples = exponential(dims) - exponential(dims);
            let length = per_example_sum(samples.clone().abs()) + exponential(per_example);
            samples / length * epsilon
        }
    };
    x0.clone() + offset
}

/// One step of steps 3-4: from the gradient `g` at the current iterate `xk`, the next
/// iterate `clip(x0 + project(step * direction(g) + (xk - x0)))`.
pub fn step_from(x0: &Tensor<4>, xk: &Tensor<4>, g: Tensor<4>, config: &AdvRegConfig) -> Tensor<4> {
    let g = clean_gradient(g, config);
    let mut delta =
        direction(g, config.adv_grad_norm) * config.adv_step_size + (xk.clone() - x0.clone());
    if let Some(epsilon) = config.pgd_epsilon {
        delta = project(delta, config.adv_grad_norm, epsilon);
    }
    clip(x0.clone() + delta, config)
}
