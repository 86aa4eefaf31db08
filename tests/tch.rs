//! The LibTorch backend (feature `tch`, built by scripts/setup-tch.sh): the same numbers as
//! the pure-Rust backend, real training, and checkpoints that move between the two.

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::Dataset;
use fer::model::{images_tensor, labels_tensor, CnnConfig};
use fer::nsl::{train_step, AdvRegConfig, Classifier};
use fer::train::checkpoint::Checkpoint;
use fer::train::{Compute, ComputeError, ModelChoice, RunOptions, TrainConfig, Training};

fn faces(n: usize, seed: u64) -> Dataset {
    synthesize(&SynthConfig {
        n,
        seed,
        ..Default::default()
    })
    .unwrap()
}

fn libtorch() -> Compute {
    Compute::new("tch", "cpu").expect("this build has the tch backend")
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

fn assert_close(a: &[f32], b: &[f32], tolerance: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * y.abs().max(1.0),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn an_adversarial_step_gives_the_same_losses_and_gradients_on_both_backends() {
    let flex = Device::flex().autodiff();
    let torch = libtorch().device().unwrap().autodiff();
    let network = CnnConfig::preset("tiny").unwrap(); // no dropout: nothing random
    let model = network.init(&flex);
    // The same weights, copied through a Burnpack buffer (a device move between autodiff
    // devices would tie the two graphs together).
    let mut store = BurnpackStore::from_bytes(None);
    model.save_into(&mut store).unwrap();
    let bytes = store.get_bytes().unwrap();
    let mut on_torch = network.init(&torch);
    on_torch
        .load_from(&mut BurnpackStore::from_bytes(Some(bytes)))
        .unwrap();
    let batch = faces(16, 3)
        .batches(&Default::default(), 0)
        .unwrap()
        .next()
        .unwrap();
    let config = AdvRegConfig::default().multiplier(0.3).adv_step_size(0.12);
    let step = |model: &fer::model::Cnn, device: &Device| {
        train_step(
            model,
            images_tensor(batch.images.clone(), device),
            labels_tensor(&batch.labels, device),
            Some(&config),
            None,
        )
    };
    let (flex_grads, flex_stats) = step(&model, &flex);
    let (torch_grads, torch_stats) = step(&on_torch, &torch);
    assert!((flex_stats.cross_entropy - torch_stats.cross_entropy).abs() < 1e-4);
    assert!(
        (flex_stats.scaled_adversarial_loss - torch_stats.scaled_adversarial_loss).abs() < 1e-4
    );
    assert!(flex_stats.scaled_adversarial_loss > 0.0);

    // The gradient of every parameter, compared one by one (both models list their
    // parameters in the same order).
    let flex_gradients = gradients(&model, &flex_grads);
    let torch_gradients = gradients(&on_torch, &torch_grads);
    assert_eq!(flex_gradients.len(), torch_gradients.len());
    assert!(
        flex_gradients.len() >= 8,
        "{} gradients",
        flex_gradients.len()
    );
    for ((name, a), (_, b)) in flex_gradients.iter().zip(&torch_gradients) {
        assert_close(a, b, 2e-3, name);
    }
}

/// Each parameter's gradient, in the model's order, with a readable name.
fn gradients(model: &fer::model::Cnn, grads: &GradientsParams) -> Vec<(String, Vec<f32>)> {
    struct Collect<'a> {
        grads: &'a GradientsParams,
        found: Vec<(String, Vec<f32>)>,
    }
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(gradient) = self.grads.get::<D>(param.id) {
                let name = format!("gradient {} (rank {D})", self.found.len());
                self.found.push((name, floats(gradient)));
            }
        }
    }
    let mut collect = Collect {
        grads,
        found: Vec::new(),
    };
    model.visit(&mut collect);
    collect.found
}

#[test]
fn training_on_libtorch_learns_and_its_checkpoint_predicts_the_same_on_flex() {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        model: ModelChoice::Preset {
            preset: "tiny".into(),
        },
        epochs: 3,
        batch_size: 32,
        learning_rate: 3e-3,
        seed: 5,
        adversarial: Some(AdvRegConfig::default().multiplier(0.2).adv_step_size(0.05)),
        ..Default::default()
    };
    let options = RunOptions {
        root: dir.path().to_path_buf(),
        name: Some("torch".into()),
        ..Default::default()
    };
    let (train, validation) = (faces(900, 1), faces(300, 2));
    let outcome = Training::new(&config)
        .validate_on(&validation)
        .compute(libtorch())
        .save(options)
        .fit(&train)
        .unwrap();
    let accuracy = outcome
        .history
        .last()
        .unwrap()
        .validation
        .unwrap()
        .categorical_accuracy;
    // The majority class (happiness) is 25% of the faces.
    assert!(accuracy > 0.4, "validation accuracy {accuracy}");

    let checkpoint = Checkpoint::read(&outcome.run_dir.unwrap().last_checkpoint()).unwrap();
    let on_flex = checkpoint.model(&Device::flex()).unwrap();
    let probe = validation.subset(&(0..64).collect::<Vec<_>>());
    let batch = probe
        .batches(&Default::default(), 0)
        .unwrap()
        .next()
        .unwrap();
    let torch_device = libtorch().device().unwrap();
    let torch_logits = floats(
        outcome
            .model
            .logits(images_tensor(batch.images.clone(), &torch_device)),
    );
    let flex_logits = floats(on_flex.logits(images_tensor(batch.images, &Device::flex())));
    assert_close(&flex_logits, &torch_logits, 1e-3, "logits");
}

#[test]
fn a_missing_cuda_device_is_a_clear_error() {
    // These machines have no GPU; on a GPU box a device index past the last one fails the same way.
    let error = Compute::new("tch", "cuda:99").unwrap_err();
    assert!(
        matches!(&error, ComputeError::NoSuchCudaDevice { device, .. } if device == "cuda:99"),
        "{error}"
    );
    assert!(error.to_string().contains("cuda:99"), "{error}");
}

/// `sum(y * r)` with a position-dependent `r`, so that every gradient entry differs.
fn weighted_sum<const D: usize>(y: Tensor<D>) -> Tensor<1> {
    let values = (0..y.shape().num_elements()).map(|i| (i as f32 * 0.7).sin());
    let weighting = Tensor::<D>::from_data(
        TensorData::new(values.collect::<Vec<_>>(), y.dims()),
        &y.device(),
    );
    (y * weighting).sum()
}

/// Runs `run` on flex and on LibTorch and compares what it returns, entry by entry.
fn assert_same_on_both<const N: usize>(
    names: [&str; N],
    tolerance: f32,
    case: &str,
    run: impl Fn(Device) -> [Vec<f32>; N],
) {
    let on_flex = run(Device::flex().autodiff());
    let on_torch = run(libtorch().device().unwrap().autodiff());
    for (what, (a, b)) in names.iter().zip(on_flex.iter().zip(&on_torch)) {
        assert_close(a, b, tolerance, &format!("{what} of {case}"));
    }
}

/// Uniform values in `low..high`.
fn random_data(dims: &[usize], low: f64, high: f64) -> TensorData {
    use burn::tensor::Distribution;
    let count = dims.iter().product::<usize>();
    let values = Tensor::<1>::random([count], Distribution::Uniform(low, high), &Device::flex());
    TensorData::new(floats(values), dims.to_vec())
}

#[test]
fn convolution_gradients_match_flex_on_both_weight_gradient_paths() {
    // LibTorch takes the weight gradient from a product of image patches for one or two
    // input channels and from fer's shifted-rows products otherwise (its own kernel, through
    // fer's C++ shim, serves GPUs and other float types). Uneven kernels and paddings check
    // that height and width keep their order on both paths.
    let cases = [
        ([2, 1, 9, 8], [3, 1, 3, 5], [1, 2]),
        ([3, 2, 6, 7], [4, 2, 5, 3], [2, 0]),
        ([3, 4, 9, 8], [5, 4, 3, 5], [1, 2]),
        ([2, 6, 7, 7], [4, 6, 5, 5], [0, 0]),
    ];
    for (x_dims, w_dims, padding) in cases {
        let x = random_data(&x_dims, -2.0, 2.0);
        let w = random_data(&w_dims, -1.0, 1.0);
        let b = random_data(&[w_dims[0]], -1.0, 1.0);
        let names = [
            "output",
            "input gradient",
            "weight gradient",
            "bias gradient",
        ];
        let case = format!("{x_dims:?} * {w_dims:?}");
        assert_same_on_both(names, 1e-4, &case, |device| {
            let x = Tensor::<4>::from_data(x.clone(), &device).require_grad();
            let w = Tensor::<4>::from_data(w.clone(), &device).require_grad();
            let b = Tensor::<1>::from_data(b.clone(), &device).require_grad();
            let y = fer::kernels::conv2d(x.clone(), w.clone(), b.clone(), padding);
            let grads = weighted_sum(y.clone()).backward();
            [
                floats(y),
                floats(x.grad(&grads).unwrap()),
                floats(w.grad(&grads).unwrap()),
                floats(b.grad(&grads).unwrap()),
            ]
        });
    }
}

#[test]
fn a_convolution_of_a_strided_view_has_the_same_weight_gradient_on_both_backends() {
    // A window of a wider image is a view with gaps between rows: the weight gradient
    // reads a dense copy of it.
    let x = random_data(&[2, 4, 9, 12], -2.0, 2.0);
    let w = random_data(&[3, 4, 3, 3], -1.0, 1.0);
    let b = random_data(&[3], -1.0, 1.0);
    let names = ["output", "weight gradient"];
    assert_same_on_both(names, 1e-4, "a 9x8 window", |device| {
        let x = Tensor::<4>::from_data(x.clone(), &device).slice([0..2, 0..4, 0..9, 2..10]);
        let w = Tensor::<4>::from_data(w.clone(), &device).require_grad();
        let b = Tensor::<1>::from_data(b.clone(), &device);
        let y = fer::kernels::conv2d(x, w.clone(), b, [1, 1]);
        let grads = weighted_sum(y.clone()).backward();
        [floats(y), floats(w.grad(&grads).unwrap())]
    });
}

#[test]
fn batch_norm_elu_gradients_match_flex_on_planes_and_features() {
    use burn::nn::BatchNormConfig;
    // LibTorch's BatchNorm gradient comes from its own kernel through fer's C++ shim, for
    // image planes and for dense features.
    fn case<const D: usize>(dims: [usize; D]) {
        let channels = dims[1];
        let x = random_data(&dims, -3.0, 3.0);
        let gamma = random_data(&[channels], 0.5, 1.5);
        let beta = random_data(&[channels], -0.5, 0.5);
        let names = [
            "output",
            "input gradient",
            "gamma gradient",
            "beta gradient",
        ];
        assert_same_on_both(names, 1e-4, &format!("{dims:?}"), |device| {
            let mut norm = BatchNormConfig::new(channels)
                .with_epsilon(1e-3)
                .init(&device);
            norm.gamma = Param::from_tensor(Tensor::from_data(gamma.clone(), &device));
            norm.beta = Param::from_tensor(Tensor::from_data(beta.clone(), &device));
            let x = Tensor::<D>::from_data(x.clone(), &device).require_grad();
            let y = fer::kernels::batch_norm_elu(&norm, x.clone());
            let grads = weighted_sum(y.clone()).backward();
            [
                floats(y),
                floats(x.grad(&grads).unwrap()),
                floats(norm.gamma.val().grad(&grads).unwrap()),
                floats(norm.beta.val().grad(&grads).unwrap()),
            ]
        });
    }
    case([3, 5, 6, 7]);
    case([9, 6]);
}

/// The weight gradient of a 3 -> 4 channel 3x3 convolution of `kind` tensors, given an
/// output gradient of 5 channels: a mismatch.
#[allow(deprecated)] // burn-tch: fer's chosen path to LibTorch (src/train/device.rs)
fn weight_gradient_of_a_mismatched_output_gradient(kind: (tch::Kind, tch::Device)) {
    use burn::backend::libtorch::TchTensor;
    use burn::backend::LibTorch;
    use fer::kernels::ConvBackend;
    let tensor = |dims: &[i64]| TchTensor::new(tch::Tensor::zeros(dims, kind));
    LibTorch::conv2d_stride1_weight_gradient(
        tensor(&[2, 3, 6, 6]),
        tensor(&[4, 3, 3, 3]),
        tensor(&[2, 5, 6, 6]),
        [1, 1],
    );
}

#[test]
#[should_panic(expected = "LibTorch convolution weight gradient: ")]
fn a_libtorch_error_in_the_weight_gradient_is_a_panic_with_its_message() {
    // f64 tensors take LibTorch's own kernel through the shim, as GPU tensors do.
    weight_gradient_of_a_mismatched_output_gradient(tch::kind::DOUBLE_CPU);
}

#[test]
#[should_panic(
    expected = "convolution weight gradient: images [2, 3, 6, 6], weight [4, 3, 3, 3] \
                           and output gradient [2, 5, 6, 6] do not fit"
)]
fn a_mismatched_output_gradient_is_a_panic_that_names_the_shapes() {
    weight_gradient_of_a_mismatched_output_gradient(tch::kind::FLOAT_CPU);
}

#[test]
fn dropout_on_libtorch_keeps_its_share_scaled_and_repeats_with_the_device_seed() {
    use burn::nn::DropoutConfig;
    use fer::kernels::{conv2d, dropout};
    let torch = libtorch().device().unwrap().autodiff();
    let layer = DropoutConfig::new(0.4).init();
    // A convolution's output has channels-last memory on LibTorch; the mask follows it.
    let x = conv2d(
        Tensor::ones([8, 3, 12, 12], &torch),
        Tensor::ones([16, 3, 3, 3], &torch),
        Tensor::zeros([16], &torch),
        [1, 1],
    )
    .detach()
    .require_grad();
    let draw = |seed| {
        torch.seed(seed);
        let y = dropout(&layer, x.clone());
        let grads = y.clone().sum().backward();
        (floats(y), floats(x.grad(&grads).unwrap()))
    };
    let (y, gradient) = draw(5);
    let x = floats(x.clone());
    let mut kept = 0;
    for ((x, y), g) in x.iter().zip(&y).zip(&gradient) {
        if *y == 0.0 {
            assert_eq!(*g, 0.0);
        } else {
            kept += 1;
            assert!((y - x / 0.6).abs() < 1e-4 * y, "{x} -> {y}");
            assert!((g - 1.0 / 0.6).abs() < 1e-6, "{g}");
        }
    }
    // 18,432 values kept at 0.6: standard deviation 67.
    assert!((10_700..11_400).contains(&kept), "{kept} of {}", x.len());
    assert!(draw(5).0 == y, "the same seed gave another mask");
    assert!(draw(6).0 != y, "another seed gave the same mask");
}
