//! The network as an ONNX graph, for ONNX Runtime and every other ONNX reader.
//!
//! Inference form, opset 17: per convolution `Conv` (`same` padding as Burn and Keras pad
//! it: the extra row and column of an even kernel at the end), `BatchNormalization` with the
//! running statistics and `Elu`; per block `MaxPool` 2x2; `Flatten`; per dense layer `Gemm`,
//! `BatchNormalization`, `Elu`; the output `Gemm` and `Softmax`. Dropout is the identity in
//! inference and is left out. Input `image` `[N, 1, H, W]` (pixels / 255, as fer feeds its
//! network) with a named batch dimension; output `probabilities` `[N, classes]`. The class
//! names are in the model's metadata (`classes`, a JSON array), with the network's table
//! (`network`, JSON).

pub mod proto;

use proto::*;

use super::ExportError;
use crate::data::Emotion;
use crate::model::{Array, CnnWeights, NormWeights};

/// The opset fer writes: the ops above have not changed since, so every current runtime
/// reads it.
pub const OPSET: i64 = 17;
/// The IR version that goes with opset 17.
const IR_VERSION: i64 = 8;
/// A protobuf message cannot exceed 2 GiB, and ONNX files without external data are one
/// message.
const PROTOBUF_LIMIT: u64 = (1 << 31) - 1;

/// The ONNX model of `weights`, with `classes` in its metadata.
///
/// ```
/// use burn::prelude::*;
/// use fer::model::CnnConfig;
/// let network = CnnConfig::preset("tiny").unwrap();
/// let weights = network.init(&Device::flex()).weights(&network);
/// let model = fer::export::onnx::model(&weights, &fer::data::Emotion::ALL)?;
/// let graph = model.graph.unwrap();
/// let ops: Vec<_> = graph.node.iter().map(|n| n.op_type.clone().unwrap()).collect();
/// assert_eq!(ops[..4], ["Conv", "BatchNormalization", "Elu", "MaxPool"]);
/// assert_eq!(ops.last().unwrap(), "Softmax");
/// # Ok::<(), fer::export::ExportError>(())
/// ```
pub fn model(weights: &CnnWeights, classes: &[Emotion]) -> Result<ModelProto, ExportError> {
    let network = &weights.network;
    if classes.len() != network.classes {
        return Err(ExportError::Classes {
            outputs: network.classes,
            classes: classes.len(),
        });
    }
    // From the shapes, before any byte is copied.
    let size = |a: &Array| a.shape.iter().product::<usize>() as u64;
    let values: u64 = weights.convs.iter().map(|c| size(&c.weight)).sum::<u64>()
        + weights.dense.iter().map(|d| size(&d.weight)).sum::<u64>()
        + size(&weights.output.weight);
    if values * 4 > PROTOBUF_LIMIT {
        return Err(ExportError::TooLarge {
            format: "ONNX",
            bytes: values * 4,
        });
    }
    let mut graph = Graph::default();
    let mut x = "image".to_owned();
    let mut convs = weights.convs.iter();
    for (b, block) in network.blocks.iter().enumerate() {
        for u in 0..block.convs {
            let conv = convs
                .next()
                .ok_or(ExportError::Mismatch("fewer convolutions"))?;
            let name = format!("block{b}_conv{u}");
            let [kh, kw] = match conv.weight.shape[..] {
                [_, _, kh, kw] => [kh as i64, kw as i64],
                _ => return Err(ExportError::Mismatch("a convolution weight not of rank 4")),
            };
            // Burn's `same` for stride 1: (k - 1) / 2 before, the rest after.
            let pads = vec![(kh - 1) / 2, (kw - 1) / 2, kh / 2, kw / 2];
            let w = graph.initializer(&format!("{name}.weight"), &conv.weight);
            let bias = graph.initializer(&format!("{name}.bias"), &conv.bias);
            x = graph.node(
                "Conv",
                &name,
                vec![x, w, bias],
                vec![
                    ints("kernel_shape", vec![kh, kw]),
                    ints("pads", pads),
                    ints("strides", vec![1, 1]),
                ],
            );
            x = graph.norm_elu(&format!("{name}.norm"), x, &conv.norm);
        }
        x = graph.node(
            "MaxPool",
            &format!("block{b}_pool"),
            vec![x],
            vec![
                ints("kernel_shape", vec![2, 2]),
                ints("strides", vec![2, 2]),
            ],
        );
    }
    if convs.next().is_some() {
        return Err(ExportError::Mismatch(
            "more convolutions than the table has",
        ));
    }
    x = graph.node("Flatten", "flatten", vec![x], vec![int("axis", 1)]);
    if weights.dense.len() != network.dense.len() {
        return Err(ExportError::Mismatch("dense layers"));
    }
    for (d, dense) in weights.dense.iter().enumerate() {
        let name = format!("dense{d}");
        x = graph.gemm(&name, x, &dense.weight, &dense.bias);
        let norm = dense
            .norm
            .as_ref()
            .ok_or(ExportError::Mismatch("a dense layer without BatchNorm"))?;
        x = graph.norm_elu(&format!("{name}.norm"), x, norm);
    }
    x = graph.gemm("output", x, &weights.output.weight, &weights.output.bias);
    graph.node("Softmax", "probabilities", vec![x], vec![int("axis", 1)]);

    let [h, w] = network.input.map(|d| d as i64);
    let names: Vec<&str> = classes.iter().map(|c| c.name()).collect();
    Ok(ModelProto {
        ir_version: Some(IR_VERSION),
        producer_name: Some("fer".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        doc_string: Some(format!(
            "fer's {} network: facial expressions from grayscale {h}x{w} faces (pixels / 255) \
             to probabilities of {}",
            network.name,
            names.join(", ")
        )),
        graph: Some(GraphProto {
            node: graph.nodes,
            name: Some(network.name.clone()),
            initializer: graph.initializers,
            doc_string: None,
            input: vec![tensor_value(
                "image",
                vec![Dim::Named("N"), Dim::Size(1), Dim::Size(h), Dim::Size(w)],
            )],
            output: vec![tensor_value(
                "probabilities",
                vec![Dim::Named("N"), Dim::Size(network.classes as i64)],
            )],
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        metadata_props: super::metadata(network, classes)
            .into_iter()
            .map(|(key, value)| entry(key, value))
            .collect(),
    })
}

/// Nodes and initializers in the making, with unique value names.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Graph {
    fn initializer(&mut self, name: &str, array: &Array) -> String {
        self.initializers.push(TensorProto {
            dims: array.shape.iter().map(|&d| d as i64).collect(),
            data_type: Some(FLOAT),
            name: Some(name.to_owned()),
            raw_data: Some(array.values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        });
        name.to_owned()
    }

    /// Adds a node whose one output is named after it; returns that name.
    fn node(
        &mut self,
        op: &str,
        name: &str,
        input: Vec<String>,
        attribute: Vec<AttributeProto>,
    ) -> String {
        self.nodes.push(NodeProto {
            input,
            output: vec![name.to_owned()],
            name: Some(name.to_owned()),
            op_type: Some(op.to_owned()),
            attribute,
        });
        name.to_owned()
    }

    fn norm_elu(&mut self, name: &str, x: String, norm: &NormWeights) -> String {
        let inputs = vec![
            x,
            self.initializer(&format!("{name}.gamma"), &norm.gamma),
            self.initializer(&format!("{name}.beta"), &norm.beta),
            self.initializer(&format!("{name}.mean"), &norm.mean),
            self.initializer(&format!("{name}.variance"), &norm.variance),
        ];
        let y = self.node(
            "BatchNormalization",
            name,
            inputs,
            vec![float("epsilon", norm.epsilon as f32)],
        );
        self.node(
            "Elu",
            &format!("{name}.elu"),
            vec![y],
            vec![float("alpha", 1.0)],
        )
    }

    /// `x · weight + bias` with Burn's `[in, out]` weight as Gemm's B.
    fn gemm(&mut self, name: &str, x: String, weight: &Array, bias: &Array) -> String {
        let w = self.initializer(&format!("{name}.weight"), weight);
        let b = self.initializer(&format!("{name}.bias"), bias);
        self.node("Gemm", name, vec![x, w, b], vec![])
    }
}

enum Dim {
    Size(i64),
    Named(&'static str),
}

fn tensor_value(name: &str, dims: Vec<Dim>) -> ValueInfoProto {
    let dim = dims
        .into_iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Size(size) => DimensionValue::DimValue(size),
                Dim::Named(name) => DimensionValue::DimParam(name.into()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: Some(FLOAT),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
        doc_string: None,
    }
}

fn entry(key: &str, value: String) -> StringStringEntryProto {
    StringStringEntryProto {
        key: Some(key.into()),
        value: Some(value),
    }
}

fn ints(name: &str, values: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        ints: values,
        r#type: Some(ATTRIBUTE_INTS),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(value),
        r#type: Some(ATTRIBUTE_INT),
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        f: Some(value),
        r#type: Some(ATTRIBUTE_FLOAT),
        ..Default::default()
    }
}
