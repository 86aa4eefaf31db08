//! The weights as safetensors with PyTorch's names, for `torch.nn.Sequential` and Keras.
//!
//! Names are the state-dict keys of the `torch.nn.Sequential` that lays the table out
//! module by module: per convolution `Conv2d`, `BatchNorm2d`, `ELU`; per block `MaxPool2d`,
//! `Dropout`; `Flatten`; per dense layer `Linear`, `BatchNorm1d`, `ELU`, `Dropout`; the output
//! `Linear`. So table 4.2's first convolution is `0.weight` and its BatchNorm `1.weight`,
//! `1.bias`, `1.running_mean`, `1.running_var`, `1.num_batches_tracked`. Linear weights are
//! PyTorch's `[out, in]`. The metadata holds `classes` and `network` (JSON) so
//! scripts/load_safetensors.py can build the same network in PyTorch or Keras.

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use super::ExportError;
use crate::data::Emotion;
use crate::model::{Array, CnnWeights, NormWeights};

/// One named tensor in little-endian bytes.
struct Named {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// The safetensors file of `weights`, with `classes` in its metadata.
///
/// ```
/// use burn::prelude::*;
/// use fer::model::CnnConfig;
/// let network = CnnConfig::preset("tiny").unwrap();
/// let weights = network.init(&Device::flex()).weights(&network);
/// let bytes = fer::export::safetensors::to_bytes(&weights, &fer::data::Emotion::ALL)?;
/// let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
/// assert_eq!(file.tensor("0.weight").unwrap().shape(), [8, 1, 3, 3]);
/// # Ok::<(), fer::export::ExportError>(())
/// ```
pub fn to_bytes(weights: &CnnWeights, classes: &[Emotion]) -> Result<Vec<u8>, ExportError> {
    let tensors = named_tensors(weights)?;
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                .map(|view| (t.name.clone(), view))
                .map_err(|e| ExportError::Safetensors(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut metadata: HashMap<String, String> = super::metadata(&weights.network, classes)
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
    metadata.insert("format".to_owned(), "pt".to_owned());
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| ExportError::Safetensors(e.to_string()))
}

/// The tensors in module order with their state-dict names.
fn named_tensors(weights: &CnnWeights) -> Result<Vec<Named>, ExportError> {
    let mut out = Vec::new();
    let mut index = 0;
    let mut convs = weights.convs.iter();
    for block in &weights.network.blocks {
        for _ in 0..block.convs {
            let conv = convs
                .next()
                .ok_or(ExportError::Mismatch("fewer convolutions"))?;
            out.push(float(format!("{index}.weight"), &conv.weight));
            out.push(float(format!("{index}.bias"), &conv.bias));
            norm(&mut out, index + 1, &conv.norm);
            index += 3; // Conv2d, BatchNorm2d, ELU
        }
        index += 2; // MaxPool2d, Dropout
    }
    index += 1; // Flatten
    for dense in &weights.dense {
        out.push(float(
            format!("{index}.weight"),
            &transposed(&dense.weight)?,
        ));
        out.push(float(format!("{index}.bias"), &dense.bias));
        let batch_norm = dense
            .norm
            .as_ref()
            .ok_or(ExportError::Mismatch("a dense layer without BatchNorm"))?;
        norm(&mut out, index + 1, batch_norm);
        index += 4; // Linear, BatchNorm1d, ELU, Dropout
    }
    out.push(float(
        format!("{index}.weight"),
        &transposed(&weights.output.weight)?,
    ));
    out.push(float(format!("{index}.bias"), &weights.output.bias));
    Ok(out)
}

fn norm(out: &mut Vec<Named>, index: usize, norm: &NormWeights) {
    out.push(float(format!("{index}.weight"), &norm.gamma));
    out.push(float(format!("{index}.bias"), &norm.beta));
    out.push(float(format!("{index}.running_mean"), &norm.mean));
    out.push(float(format!("{index}.running_var"), &norm.variance));
    // PyTorch's strict state-dict loading wants it; it only matters with momentum=None.
    out.push(Named {
        name: format!("{index}.num_batches_tracked"),
        dtype: Dtype::I64,
        shape: vec![],
        bytes: 0i64.to_le_bytes().to_vec(),
    });
}

fn float(name: String, array: &Array) -> Named {
    Named {
        name,
        dtype: Dtype::F32,
        shape: array.shape.clone(),
        bytes: array.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// Burn's `[in, out]` as PyTorch's `[out, in]`.
fn transposed(array: &Array) -> Result<Array, ExportError> {
    let [rows, cols] = array.shape[..] else {
        return Err(ExportError::Mismatch("a dense weight not of rank 2"));
    };
    let values = (0..cols)
        .flat_map(|c| (0..rows).map(move |r| array.values[r * cols + c]))
        .collect();
    Ok(Array {
        shape: vec![cols, rows],
        values,
    })
}
