//! The adversarial and graph steps against values derived by hand for a small linear model.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use fer::nsl::{
    adversarial_examples, perturb, train_step, AdvNorm, AdvRegConfig, Classifier, GraphRegConfig,
    GraphTerm, Neighbors, RegularizedOutput,
};

const W: [[f64; 3]; 4] = [
    [0.5, -0.3, 0.1],
    [0.2, 0.4, -0.6],
    [-0.7, 0.1, 0.3],
    [0.3, 0.2, -0.1],
];
const X: [[f64; 4]; 2] = [[0.2, 0.4, 0.6, 0.8], [0.9, 0.1, 0.5, 0.3]];
const Y: [usize; 2] = [0, 2];

/// logits = x W (no bias), over the 4 values of a 1x2x2 image.
#[derive(Module, Debug)]
struct LinearModel {
    linear: Linear,
}

impl Classifier for LinearModel {
    fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.linear.forward(images.flatten(1, 3))
    }
}

fn model(device: &Device) -> LinearModel {
    let mut linear = LinearConfig::new(4, 3).with_bias(false).init(device);
    let w: Vec<f32> = W.iter().flatten().map(|&v| v as f32).collect();
    linear.weight =
        Param::from_tensor(Tensor::<1>::from_floats(w.as_slice(), device).reshape([4, 3]));
    LinearModel { linear }
}

fn inputs(device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let x: Vec<f32> = X.iter().flatten().map(|&v| v as f32).collect();
    let images = Tensor::<1>::from_floats(x.as_slice(), device).reshape([2, 1, 2, 2]);
    let labels = Tensor::<1, Int>::from_ints([Y[0] as i64, Y[1] as i64], device);
    (images, labels)
}

// ---- the same computation by hand, in f64 ----

/// Class probabilities of `x` under weights `w`.
fn probabilities(w: &[[f64; 3]; 4], x: &[f64; 4]) -> [f64; 3] {
    let logits: [f64; 3] = std::array::from_fn(|k| (0..4).map(|i| x[i] * w[i][k]).sum());
    let max = logits.iter().cloned().fold(f64::MIN, f64::max);
    let z: f64 = logits.iter().map(|l| (l - max).exp()).sum();
    logits.map(|l| (l - max).exp() / z)
}

fn softmax_ce(x: &[f64; 4], y: usize) -> (Vec<f64>, f64) {
    let p = probabilities(&W, x);
    (p.to_vec(), -(p[y].ln()))
}

/// d(mean CE)/dx for example `e`: W (p - onehot) / batch.
fn gradient(x: &[f64; 4], y: usize) -> [f64; 4] {
    let (p, _) = softmax_ce(x, y);
    let mut g = [0.0; 4];
    for (i, gi) in g.iter_mut().enumerate() {
        *gi = (0..3)
            .map(|k| W[i][k] * (p[k] - f64::from(k == y)))
            .sum::<f64>()
            / 2.0;
    }
    g
}

fn hand_direction(g: [f64; 4], norm: AdvNorm) -> [f64; 4] {
    match norm {
        AdvNorm::L2 => {
            let n = g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-6);
            g.map(|v| v / n)
        }
        AdvNorm::Infinity => g.map(f64::signum),
        AdvNorm::L1 => {
            let max = g.iter().map(|v| v.abs()).fold(0.0, f64::max);
            let count = g.iter().filter(|v| v.abs() == max).count() as f64;
            g.map(|v| {
                if v.abs() == max {
                    v.signum() / count
                } else {
                    0.0
                }
            })
        }
    }
}

fn run(config: &AdvRegConfig) -> Vec<[f64; 4]> {
    let device = Device::flex().autodiff();
    let (images, labels) = inputs(&device);
    let out = adversarial_examples(&model(&device), &images, &labels, config, None);
    let values: Vec<f32> = out.into_data().try_to_vec().unwrap();
    values
        .chunks(4)
        .map(|c| [c[0] as f64, c[1] as f64, c[2] as f64, c[3] as f64])
        .collect()
}

fn assert_close(got: &[[f64; 4]], want: &[[f64; 4]]) {
    for (g, w) in got.iter().zip(want) {
        for (a, b) in g.iter().zip(w) {
            assert!((a - b).abs() < 2e-5, "got {got:?}\nwant {want:?}");
        }
    }
}

#[test]
fn one_step_for_each_norm() {
    for norm in [AdvNorm::L2, AdvNorm::Infinity, AdvNorm::L1] {
        let config = AdvRegConfig::default()
            .adv_step_size(0.1)
            .adv_grad_norm(norm);
        let want: Vec<[f64; 4]> = (0..2)
            .map(|e| {
                let d = hand_direction(gradient(&X[e], Y[e]), norm);
                std::array::from_fn(|i| X[e][i] + 0.1 * d[i])
            })
            .collect();
        assert_close(&run(&config), &want);
    }
}

#[test]
fn clipping_bounds_the_adversarial_values() {
    let config = AdvRegConfig::default()
        .adv_step_size(0.5)
        .adv_grad_norm(AdvNorm::Infinity)
        .clip_values(Some(0.0), Some(1.0));
    let want: Vec<[f64; 4]> = (0..2)
        .map(|e| {
            let d = hand_direction(gradient(&X[e], Y[e]), AdvNorm::Infinity);
            std::array::from_fn(|i| (X[e][i] + 0.5 * d[i]).clamp(0.0, 1.0))
        })
        .collect();
    let got = run(&config);
    assert_close(&got, &want);
    assert!(
        got.iter().flatten().any(|&v| v == 0.0 || v == 1.0),
        "some values were clipped"
    );
}

#[test]
fn pgd_iterates_and_projects_onto_the_l2_ball() {
    let (step, eps) = (0.3, 0.25);
    let config = AdvRegConfig::default()
        .adv_step_size(step)
        .pgd(3, Some(eps));
    let project = |delta: [f64; 4]| {
        let n = delta.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-6);
        let scale = (eps / n).min(1.0);
        delta.map(|v| v * scale)
    };
    let want: Vec<[f64; 4]> = (0..2)
        .map(|e| {
            let x0 = X[e];
            let mut xk = x0;
            for _ in 0..3 {
                let d = hand_direction(gradient(&xk, Y[e]), AdvNorm::L2);
                let delta = project(std::array::from_fn(|i| step * d[i] + xk[i] - x0[i]));
                xk = std::array::from_fn(|i| x0[i] + delta[i]);
            }
            xk
        })
        .collect();
    let got = run(&config);
    assert_close(&got, &want);
    for (g, x) in got.iter().zip(&X) {
        let dist = g
            .iter()
            .zip(x)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((dist - eps).abs() < 1e-5, "on the ball's surface: {dist}");
    }
    // Projection applies even to a single step larger than epsilon.
    let one = run(&AdvRegConfig::default()
        .adv_step_size(step)
        .pgd(1, Some(eps)));
    let dist = one[0]
        .iter()
        .zip(&X[0])
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!((dist - eps).abs() < 1e-5);
}

#[test]
fn infinity_projection_clamps_each_value() {
    let config = AdvRegConfig::default()
        .adv_step_size(0.2)
        .adv_grad_norm(AdvNorm::Infinity)
        .pgd(2, Some(0.05));
    for (g, x) in run(&config).iter().zip(&X) {
        for (a, b) in g.iter().zip(x) {
            assert!(((a - b).abs() - 0.05).abs() < 1e-6);
        }
    }
}

#[test]
fn feature_mask_and_non_finite_gradients() {
    let config = AdvRegConfig::default()
        .adv_step_size(0.1)
        .adv_grad_norm(AdvNorm::Infinity)
        .feature_mask(Some(vec![1.0, 0.0, 1.0, 0.0]));
    for (g, x) in run(&config).iter().zip(&X) {
        assert!(
            (g[1] - x[1]).abs() < 1e-7 && (g[3] - x[3]).abs() < 1e-7,
            "masked pixels stay"
        );
        assert!((g[0] - x[0]).abs() > 0.09);
    }
    let device = Device::flex();
    let g = Tensor::<1>::from_floats([f32::NAN, 1.0, f32::INFINITY, -2.0], &device)
        .reshape([1, 1, 2, 2]);
    let cleaned: Vec<f32> = perturb::clean_gradient(g, &AdvRegConfig::default())
        .into_data()
        .try_to_vec()
        .unwrap();
    assert_eq!(cleaned, [0.0, 1.0, 0.0, -2.0]);
}

#[test]
fn random_init_starts_inside_the_ball() {
    let config = AdvRegConfig::default()
        .adv_step_size(0.0)
        .adv_grad_norm(AdvNorm::Infinity)
        .pgd(1, Some(0.1))
        .random_init(true);
    let got = run(&config);
    for (g, x) in got.iter().zip(&X) {
        assert!(g.iter().zip(x).all(|(a, b)| (a - b).abs() <= 0.1 + 1e-6));
    }
    assert_ne!(got[0], X[0], "moved off the clean point");
}

#[test]
fn training_step_losses_are_clean_plus_scaled_adversarial() {
    let device = Device::flex().autodiff();
    let (images, labels) = inputs(&device);
    let config = AdvRegConfig::default().multiplier(0.3).adv_step_size(0.12);
    let (_, stats) = train_step(&model(&device), images, labels, Some(&config), None);
    let clean = (softmax_ce(&X[0], Y[0]).1 + softmax_ce(&X[1], Y[1]).1) / 2.0;
    let adv: f64 = (0..2)
        .map(|e| {
            let d = hand_direction(gradient(&X[e], Y[e]), AdvNorm::L2);
            let xa: [f64; 4] = std::array::from_fn(|i| X[e][i] + 0.12 * d[i]);
            softmax_ce(&xa, Y[e]).1
        })
        .sum::<f64>()
        / 2.0;
    assert!(
        (stats.cross_entropy - clean).abs() < 1e-5,
        "{} vs {clean}",
        stats.cross_entropy
    );
    assert!((stats.scaled_adversarial_loss - 0.3 * adv).abs() < 1e-5);
    assert!((stats.loss() - (clean + 0.3 * adv)).abs() < 1e-5);
    assert!(adv > clean, "the perturbation increases the loss");
    assert_eq!(stats.predictions.len(), 2);
}

#[test]
fn random_starts_fill_the_l2_ball_and_l1_projection_is_refused() {
    let device = Device::flex();
    let x0 = Tensor::<4>::zeros([400, 1, 2, 2], &device);
    let start = perturb::random_start(&x0, AdvNorm::L2, 0.5);
    let norms: Vec<f32> = perturb::l2_norm(start).into_data().try_to_vec().unwrap();
    assert!(norms.iter().all(|&n| n <= 0.5 + 1e-6));
    // Uniform in a 4-d ball: P(r < R/2) = 1/16; a radius-uniform draw would give 1/2.
    let inner = norms.iter().filter(|&&n| n < 0.25).count();
    assert!(inner < 70, "{inner} of 400 in the inner half-radius ball");
    let l1 = AdvRegConfig::default()
        .adv_grad_norm(AdvNorm::L1)
        .pgd(2, Some(0.1));
    let refused = l1.validate().unwrap_err();
    assert_eq!(refused.field, "pgd_epsilon");
    assert!(
        refused.reason.contains("l2 and infinity balls only"),
        "{refused}"
    );
}

// ---- the graph step (NSL's GraphRegularization) ----

/// Neighbours: face 0 has one (weight 0.5), face 1 two (weights 1 and 0.25).
const NEIGHBOURS: [[f64; 4]; 3] = [
    [0.1, 0.5, 0.5, 0.9],
    [0.8, 0.0, 0.6, 0.2],
    [0.3, 0.3, 0.3, 0.3],
];
const OWNERS: [usize; 3] = [0, 1, 1];
const NEIGHBOUR_WEIGHTS: [f64; 3] = [0.5, 1.0, 0.25];

/// The graph term of the two faces of `inputs` under `config`.
fn graph_term<'a>(config: &'a GraphRegConfig, device: &Device) -> GraphTerm<'a> {
    let x: Vec<f32> = NEIGHBOURS.iter().flatten().map(|&v| v as f32).collect();
    GraphTerm {
        config,
        neighbors: Neighbors {
            images: Tensor::<1>::from_floats(x.as_slice(), device).reshape([3, 1, 2, 2]),
            owners: OWNERS.to_vec(),
            weights: NEIGHBOUR_WEIGHTS.iter().map(|&w| w as f32).collect(),
            slots: 4,
        },
    }
}

/// NSL's loss by hand: mean cross-entropy plus multiplier times the weighted squared
/// difference of probabilities over the values with a non-zero weight (3 pairs x 3).
fn hand_loss(w: &[[f64; 3]; 4], multiplier: f64) -> (f64, f64) {
    let ce = (0..2)
        .map(|e| -probabilities(w, &X[e])[Y[e]].ln())
        .sum::<f64>()
        / 2.0;
    let graph: f64 = (0..3)
        .map(|n| {
            let (p, q) = (
                probabilities(w, &X[OWNERS[n]]),
                probabilities(w, &NEIGHBOURS[n]),
            );
            NEIGHBOUR_WEIGHTS[n] * (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>()
        })
        .sum::<f64>()
        / 9.0;
    (ce, multiplier * graph)
}

#[test]
fn graph_step_loss_and_gradient_equal_the_hand_derived_ones() {
    let device = Device::flex().autodiff();
    let model = model(&device);
    let config = GraphRegConfig::default().multiplier(20.0).max_neighbors(2);
    let (images, labels) = inputs(&device);
    let term = graph_term(&config, &device);
    let (grads, stats) = train_step(&model, images, labels, None, Some(term));
    let (ce, graph) = hand_loss(&W, 20.0);
    close_to(stats.cross_entropy, ce);
    close_to(stats.scaled_graph_loss, graph);
    assert!(graph > 1e-3, "the neighbours are not already equal");
    close_to(stats.loss(), ce + graph);
    assert_eq!(stats.scaled_adversarial_loss, 0.0);

    // The parameter gradient is that of the total, by central differences.
    let got: Vec<f32> = grads
        .get::<2>(model.linear.weight.id)
        .unwrap()
        .into_data()
        .try_to_vec()
        .unwrap();
    let h = 1e-5;
    for i in 0..4 {
        for k in 0..3 {
            let shifted = |delta: f64| {
                let mut w = W;
                w[i][k] += delta;
                let (ce, graph) = hand_loss(&w, 20.0);
                ce + graph
            };
            let want = (shifted(h) - shifted(-h)) / (2.0 * h);
            let g = got[i * 3 + k] as f64;
            assert!((g - want).abs() < 2e-5, "dW[{i}][{k}] = {g}, want {want}");
        }
    }
}

#[test]
fn graph_and_adversarial_terms_add_up() {
    let device = Device::flex().autodiff();
    let config = GraphRegConfig::default()
        .multiplier(0.7)
        .max_neighbors(2)
        .output(RegularizedOutput::Logits);
    let adversarial = AdvRegConfig::default().multiplier(0.3);
    let step = |adv, graph| {
        let (images, labels) = inputs(&device);
        train_step(&model(&device), images, labels, adv, graph).1
    };
    let both = step(Some(&adversarial), Some(graph_term(&config, &device)));
    let graph_only = step(None, Some(graph_term(&config, &device)));
    let adversarial_only = step(Some(&adversarial), None);
    close_to(both.scaled_graph_loss, graph_only.scaled_graph_loss);
    assert!(both.scaled_adversarial_loss > 0.0);
    // The clean pass is the same whatever joins it.
    close_to(both.cross_entropy, graph_only.cross_entropy);
    close_to(both.cross_entropy, adversarial_only.cross_entropy);
    // With the graph in the clean backward, the attack follows L_lab + L_graph: a
    // different direction, so a different adversarial loss.
    assert!((both.scaled_adversarial_loss - adversarial_only.scaled_adversarial_loss).abs() > 1e-7);
}

fn close_to(got: f64, want: f64) {
    assert!(
        (got - want).abs() < 1e-5 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}
