//! Trained networks in the formats the rest of the field reads: ONNX (for ONNX Runtime and
//! deployment) and safetensors with PyTorch's names (for PyTorch and Keras). Runs go out as
//! TensorBoard event files through [`crate::run::tensorboard`].
//!
//! Both writers take a network's [`CnnWeights`](crate::model::CnnWeights) (from
//! [`Cnn::weights`](crate::model::Cnn::weights)) and its classes.

pub mod onnx;
pub mod safetensors;

use std::io;
use std::path::Path;

use crate::data::Emotion;
use crate::model::CnnConfig;

/// Why a network could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the network has {outputs} outputs for {classes} classes")]
    Classes { outputs: usize, classes: usize },
    #[error(
        "{format} cannot hold this network: its weights take {bytes} bytes, over the 2 GiB \
         a protobuf message can hold"
    )]
    TooLarge { format: &'static str, bytes: u64 },
    #[error("the weights do not match the network's table ({0})")]
    Mismatch(&'static str),
    #[error("safetensors: {0}")]
    Safetensors(String),
}

/// Writes `bytes` to `path` whole or not at all, naming the file in the error.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    crate::atomic::write_atomically(path, |out| std::io::Write::write_all(out, bytes))
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// What both formats store beside the weights: `classes` (a JSON array of names, in output
/// order) and `network` (the table as JSON), so a reader can rebuild the network.
fn metadata(network: &CnnConfig, classes: &[Emotion]) -> [(&'static str, String); 2] {
    let names: Vec<&str> = classes.iter().map(|c| c.name()).collect();
    // Names, numbers and strings: serializing them cannot fail.
    [
        (
            "classes",
            serde_json::to_string(&names).expect("plain data"),
        ),
        (
            "network",
            serde_json::to_string(network).expect("plain data"),
        ),
    ]
}
