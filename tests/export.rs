//! `fer::export`: the ONNX graph run by a reference interpreter written here from the ONNX
//! operator specs (and by ONNX Runtime, PyTorch and Keras when FER_INTEROP_PYTHON names a
//! python that has them), against fer's own forward pass; safetensors names and shapes.

mod common;

use std::collections::HashMap;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use common::{fer, stdout};
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::{BatchConfig, Emotion};
use fer::export::onnx::proto::{self, ModelProto};
use fer::model::{images_tensor, labels_tensor, Cnn, CnnConfig, ConvBlock, DenseLayer};
use fer::nsl::train_step;
use prost::Message;

/// A network trained a few steps, so weights, BatchNorm scales and running statistics are
/// all away from their initial values; and faces to run it on.
fn trained(network: &CnnConfig) -> (Cnn, Vec<f32>) {
    let device = Device::flex().autodiff();
    let faces = synthesize(&SynthConfig {
        n: 96,
        seed: 3,
        ..Default::default()
    })
    .unwrap()
    .select_classes(&Emotion::ALL[..network.classes])
    .unwrap();
    let mut model = network.init(&device);
    let mut optimizer = AdamConfig::new().init();
    let config = BatchConfig {
        batch_size: 16,
        ..Default::default()
    };
    let mut last = Vec::new();
    for batch in faces.batches(&config, 0).unwrap() {
        let labels = labels_tensor(&batch.labels, &device);
        last = batch.images.clone();
        let (grads, _) = train_step(
            &model,
            images_tensor(batch.images, &device),
            labels,
            None,
            None,
        );
        model = optimizer.step(0.01, model, grads);
    }
    (model, last)
}

fn probabilities(model: &Cnn, images: &[f32]) -> Vec<f32> {
    let device = Device::flex();
    let model = model.valid();
    let logits = model.forward(images_tensor(images.to_vec(), &device));
    softmax(logits, 1).into_data().try_to_vec::<f32>().unwrap()
}

/// A tensor of the reference interpreter: shape and row-major values.
#[derive(Clone, Debug)]
struct T {
    shape: Vec<usize>,
    v: Vec<f32>,
}

fn ints(node: &proto::NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
        .map(|a| a.ints.clone())
}

fn attribute<'a>(node: &'a proto::NodeProto, name: &str) -> Option<&'a proto::AttributeProto> {
    node.attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

/// Runs the graph on `images` `[N, 1, 48, 48]`, one operator at a time as the ONNX spec
/// defines it (only the operators fer writes; any other fails the test).
fn interpret(model: &ModelProto, images: &[f32]) -> T {
    let graph = model.graph.as_ref().unwrap();
    let mut values: HashMap<String, T> = graph
        .initializer
        .iter()
        .map(|t| {
            assert_eq!(t.data_type, Some(proto::FLOAT));
            let raw = t.raw_data.as_ref().unwrap();
            let v = raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            let shape = t.dims.iter().map(|&d| d as usize).collect();
            (t.name.clone().unwrap(), T { shape, v })
        })
        .collect();
    let input = graph.input[0].name.clone().unwrap();
    values.insert(
        input,
        T {
            shape: vec![images.len() / 2304, 1, 48, 48],
            v: images.to_vec(),
        },
    );
    for node in &graph.node {
        let x = |i: usize| values[&node.input[i]].clone();
        let out = match node.op_type.as_deref().unwrap() {
            "Conv" => conv(
                &x(0),
                &x(1),
                &x(2),
                &ints(node, "pads").unwrap(),
                &ints(node, "strides").unwrap(),
            ),
            "BatchNormalization" => {
                let epsilon = attribute(node, "epsilon").unwrap().f.unwrap();
                batch_norm(&x(0), &x(1), &x(2), &x(3), &x(4), epsilon)
            }
            "Elu" => {
                let alpha = attribute(node, "alpha").map_or(1.0, |a| a.f.unwrap());
                let mut t = x(0);
                t.v.iter_mut()
                    .for_each(|v| *v = if *v > 0.0 { *v } else { alpha * v.exp_m1() });
                t
            }
            "MaxPool" => max_pool(
                &x(0),
                &ints(node, "kernel_shape").unwrap(),
                &ints(node, "strides").unwrap(),
            ),
            "Flatten" => {
                assert_eq!(attribute(node, "axis").unwrap().i, Some(1));
                let t = x(0);
                T {
                    shape: vec![t.shape[0], t.shape[1..].iter().product()],
                    v: t.v,
                }
            }
            "Gemm" => {
                assert!(node.attribute.is_empty(), "Gemm with attributes");
                gemm(&x(0), &x(1), &x(2))
            }
            "Softmax" => {
                assert_eq!(attribute(node, "axis").unwrap().i, Some(1));
                let mut t = x(0);
                let k = t.shape[1];
                for row in t.v.chunks_mut(k) {
                    let max = row.iter().cloned().fold(f32::MIN, f32::max);
                    row.iter_mut().for_each(|v| *v = (*v - max).exp());
                    let sum: f32 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= sum);
                }
                t
            }
            other => panic!("operator {other} is not one fer writes"),
        };
        values.insert(node.output[0].clone(), out);
    }
    values
        .remove(graph.output[0].name.as_ref().unwrap())
        .unwrap()
}

/// ONNX Conv, NCHW, group 1, dilation 1: pads `[top, left, bottom, right]`.
fn conv(x: &T, w: &T, b: &T, pads: &[i64], strides: &[i64]) -> T {
    let [n, c, h, wd] = x.shape[..] else { panic!() };
    let [o, c2, kh, kw] = w.shape[..] else {
        panic!()
    };
    assert_eq!(c, c2);
    let [pt, pl, pb, pr] = pads[..] else { panic!() };
    let (sh, sw) = (strides[0] as usize, strides[1] as usize);
    let oh = (h + pt as usize + pb as usize - kh) / sh + 1;
    let ow = (wd + pl as usize + pr as usize - kw) / sw + 1;
    let mut v = vec![0.0; n * o * oh * ow];
    for ni in 0..n {
        for oi in 0..o {
            for y in 0..oh {
                for xx in 0..ow {
                    let mut acc = b.v[oi] as f64;
                    for ci in 0..c {
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = (y * sh + i) as i64 - pt;
                                let ix = (xx * sw + j) as i64 - pl;
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                                    continue;
                                }
                                let xv = x.v[((ni * c + ci) * h + iy as usize) * wd + ix as usize];
                                let wv = w.v[((oi * c + ci) * kh + i) * kw + j];
                                acc += xv as f64 * wv as f64;
                            }
                        }
                    }
                    v[((ni * o + oi) * oh + y) * ow + xx] = acc as f32;
                }
            }
        }
    }
    T {
        shape: vec![n, o, oh, ow],
        v,
    }
}

/// ONNX BatchNormalization in inference: statistics per channel (axis 1) of any rank.
fn batch_norm(x: &T, scale: &T, bias: &T, mean: &T, var: &T, epsilon: f32) -> T {
    let c = x.shape[1];
    let inner: usize = x.shape[2..].iter().product();
    let mut t = x.clone();
    for (i, v) in t.v.iter_mut().enumerate() {
        let ch = (i / inner) % c;
        *v = (*v - mean.v[ch]) / (var.v[ch] + epsilon).sqrt() * scale.v[ch] + bias.v[ch];
    }
    t
}

/// ONNX MaxPool without padding, floor mode.
fn max_pool(x: &T, kernel: &[i64], strides: &[i64]) -> T {
    let [n, c, h, w] = x.shape[..] else { panic!() };
    let (kh, kw, sh, sw) = (
        kernel[0] as usize,
        kernel[1] as usize,
        strides[0] as usize,
        strides[1] as usize,
    );
    let (oh, ow) = ((h - kh) / sh + 1, (w - kw) / sw + 1);
    let mut v = Vec::with_capacity(n * c * oh * ow);
    for plane in x.v.chunks(h * w) {
        for y in 0..oh {
            for xx in 0..ow {
                let mut m = f32::MIN;
                for i in 0..kh {
                    for j in 0..kw {
                        m = m.max(plane[(y * sh + i) * w + xx * sw + j]);
                    }
                }
                v.push(m);
            }
        }
    }
    T {
        shape: vec![n, c, oh, ow],
        v,
    }
}

/// ONNX Gemm with its defaults: `A · B + C`.
fn gemm(a: &T, b: &T, c: &T) -> T {
    let [m, k] = a.shape[..] else { panic!() };
    let [k2, n] = b.shape[..] else { panic!() };
    assert_eq!(k, k2);
    let mut v = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k)
                .map(|p| a.v[i * k + p] as f64 * b.v[p * n + j] as f64)
                .sum();
            v[i * n + j] = (dot + c.v[j] as f64) as f32;
        }
    }
    T {
        shape: vec![m, n],
        v,
    }
}

fn assert_close(ours: &[f32], theirs: &[f32], tolerance: f32, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    let worst = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst <= tolerance, "{what}: differs by {worst}");
}

/// Uneven and even kernels (asymmetric `same` padding), two convolutions in a block, an odd
/// size pooled down (floor), two dense layers, three classes.
fn custom_table() -> CnnConfig {
    CnnConfig {
        name: "custom".into(),
        input: [48, 48],
        blocks: vec![
            ConvBlock {
                filters: 4,
                kernel: 4,
                convs: 2,
                dropout: 0.2,
            },
            ConvBlock {
                filters: 6,
                kernel: 3,
                convs: 1,
                dropout: 0.1,
            },
            ConvBlock {
                filters: 5,
                kernel: 2,
                convs: 1,
                dropout: 0.0,
            },
        ],
        dense: vec![
            DenseLayer {
                units: 12,
                dropout: 0.3,
            },
            DenseLayer {
                units: 8,
                dropout: 0.0,
            },
        ],
        classes: 3,
        batch_norm_epsilon: 1e-3,
        batch_norm_momentum: 0.9,
    }
}

#[test]
fn onnx_graph_computes_fers_probabilities() {
    let tiny = CnnConfig::preset("tiny").unwrap();
    let no_dense = CnnConfig {
        dense: vec![],
        ..CnnConfig::preset("tiny").unwrap()
    };
    for network in [tiny, custom_table(), no_dense] {
        let (model, faces) = trained(&network);
        let classes = &Emotion::ALL[..network.classes];
        let bytes = fer::export::onnx::model(&model.weights(&network), classes)
            .unwrap()
            .encode_to_vec();
        let decoded = ModelProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.opset_import[0].version, Some(17));
        let classes_json = &decoded.metadata_props[0];
        assert_eq!(classes_json.key.as_deref(), Some("classes"));
        let names: Vec<String> =
            serde_json::from_str(classes_json.value.as_ref().unwrap()).unwrap();
        assert_eq!(names, classes.iter().map(|c| c.name()).collect::<Vec<_>>());
        let output = interpret(&decoded, &faces);
        assert_eq!(output.shape, [faces.len() / 2304, network.classes]);
        assert_close(
            &output.v,
            &probabilities(&model, &faces),
            1e-5,
            &network.name,
        );
    }
}

#[test]
fn a_mismatched_class_list_is_refused() {
    let network = CnnConfig::preset("tiny").unwrap();
    let weights = network.init(&Device::flex()).weights(&network);
    let error = fer::export::onnx::model(&weights, &Emotion::ALL[..3]).unwrap_err();
    assert_eq!(error.to_string(), "the network has 7 outputs for 3 classes");
}

#[test]
fn a_network_over_protobufs_two_gib_is_refused_before_copying_it() {
    let network = CnnConfig {
        dense: vec![DenseLayer {
            units: 300_000,
            dropout: 0.0,
        }],
        ..CnnConfig::preset("tiny").unwrap()
    };
    // The shapes of the real thing, without its gigabytes of values.
    let shaped = |shape: Vec<usize>| fer::model::Array {
        shape,
        values: vec![],
    };
    let tiny = CnnConfig::preset("tiny").unwrap();
    let mut weights = tiny.init(&Device::flex()).weights(&tiny);
    weights.network = network.clone();
    weights.dense[0].weight = shaped(vec![network.flat_features(), 300_000]);
    weights.output.weight = shaped(vec![300_000, 7]);
    let bytes = 4 * (8 * 3 * 3 + 16 * 8 * 3 * 3 + network.flat_features() * 300_000 + 300_000 * 7);
    let error = fer::export::onnx::model(&weights, &Emotion::ALL).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "ONNX cannot hold this network: its weights take {bytes} bytes, over the 2 GiB a \
             protobuf message can hold"
        )
    );
}

#[test]
fn safetensors_names_and_shapes_follow_pytorchs_sequential_for_table_4_2() {
    let network = CnnConfig::preset("report-4.2").unwrap();
    let weights = network.init(&Device::flex()).weights(&network);
    let bytes = fer::export::safetensors::to_bytes(&weights, &Emotion::ALL).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort_by_key(|n| {
        let (index, field) = n.split_once('.').unwrap();
        (index.parse::<usize>().unwrap(), field.to_owned())
    });
    let bn = |i: usize| {
        [
            "bias",
            "num_batches_tracked",
            "running_mean",
            "running_var",
            "weight",
        ]
        .map(|f| format!("{i}.{f}"))
    };
    let mut want = Vec::new();
    for (conv, norm) in [
        (0, 1),
        (3, 4),
        (8, 9),
        (11, 12),
        (16, 17),
        (19, 20),
        (25, 26),
    ] {
        want.extend([format!("{conv}.bias"), format!("{conv}.weight")]);
        want.extend(bn(norm));
    }
    want.extend(["29.bias".to_owned(), "29.weight".to_owned()]);
    assert_eq!(names, want.iter().collect::<Vec<_>>());
    let shape = |name: &str| file.tensor(name).unwrap().shape().to_vec();
    assert_eq!(shape("0.weight"), [64, 1, 5, 5]);
    assert_eq!(shape("3.weight"), [64, 64, 5, 5]);
    assert_eq!(shape("8.weight"), [128, 64, 3, 3]);
    assert_eq!(shape("19.weight"), [256, 256, 3, 3]);
    assert_eq!(shape("20.running_var"), [256]);
    assert_eq!(shape("25.weight"), [128, 9216]);
    assert_eq!(shape("26.num_batches_tracked"), Vec::<usize>::new());
    assert_eq!(shape("29.weight"), [7, 128]);
    // PyTorch's [out, in] is Burn's [in, out] transposed.
    let output = file.tensor("29.weight").unwrap();
    let value = |i: usize| f32::from_le_bytes(output.data()[i * 4..i * 4 + 4].try_into().unwrap());
    let burn = &weights.output.weight;
    assert_eq!(value(128 * 2 + 5), burn.values[5 * 7 + 2]);
    let metadata = file_metadata(&bytes);
    assert_eq!(metadata["format"], "pt");
    let table: CnnConfig = serde_json::from_str(&metadata["network"]).unwrap();
    assert_eq!(table, network);
}

fn file_metadata(bytes: &[u8]) -> HashMap<String, String> {
    let (_, metadata) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
    metadata.metadata().clone().unwrap()
}

/// `fer export` end to end; with FER_INTEROP_PYTHON (numpy, onnxruntime, safetensors,
/// torch and, when present, tensorflow) also the other runtimes on `fer eval`'s faces.
#[test]
fn export_command_writes_files_the_other_runtimes_agree_with() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stdout(&fer(
        &[
            "train",
            "--data",
            "synthetic:200",
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--name",
            "x",
        ],
        d,
    ));
    let out = stdout(&fer(
        &[
            "export",
            "runs/x",
            "--onnx",
            "x.onnx",
            "--safetensors",
            "x.safetensors",
        ],
        d,
    ));
    assert!(
        out.contains("wrote x.onnx (ONNX,") && out.contains("wrote x.safetensors (safetensors,"),
        "{out}"
    );
    let again = fer(&["export", "runs/x", "--onnx", "x.onnx"], d);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("x.onnx exists: pass --force"));
    let before = std::fs::metadata(d.join("x.onnx"))
        .unwrap()
        .modified()
        .unwrap();
    stdout(&fer(
        &[
            "export",
            "runs/x/checkpoints/best.ckpt",
            "--onnx",
            "x.onnx",
            "--force",
        ],
        d,
    ));
    assert!(
        std::fs::metadata(d.join("x.onnx"))
            .unwrap()
            .modified()
            .unwrap()
            >= before
    );
    let nothing = fer(&["export", "runs/x"], d);
    assert!(
        !nothing.status.success(),
        "an export without a format must fail"
    );

    let Ok(python) = std::env::var("FER_INTEROP_PYTHON") else {
        eprintln!("FER_INTEROP_PYTHON is not set: ONNX Runtime, PyTorch and Keras not compared");
        return;
    };
    // A relative path means the test's folder, not the temporary one python runs in.
    let python = match python.contains('/') {
        true => std::path::absolute(&python).unwrap(),
        false => python.into(),
    };
    stdout(&fer(
        &[
            "data",
            "synth",
            "--n",
            "40",
            "--seed",
            "9",
            "--out",
            "faces.csv",
        ],
        d,
    ));
    stdout(&fer(
        &[
            "eval",
            "--checkpoint",
            "runs/x",
            "--data",
            "faces.csv",
            "--split",
            "all",
            "--predictions",
            "p.csv",
        ],
        d,
    ));
    let check = std::process::Command::new(python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_export.py"))
        .args(["faces.csv", "p.csv", "x.onnx", "x.safetensors"])
        .current_dir(d)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        report.contains("onnxruntime") && report.contains("torch"),
        "{report}"
    );
}
