//! Checkpoints: model weights, optimizer state and the loop's own state in one file,
//! written atomically so a crash leaves the previous checkpoint intact.
//!
//! Layout: `FERCKPT2`, then three length-prefixed (u64 little-endian) parts: the JSON
//! [`CheckpointState`], the model (burnpack) and the optimizer state (burnpack); then the
//! CRC-32 (u32 little-endian) of everything between the magic bytes and it, so a damaged
//! file is an error rather than other predictions. `FERCKPT1` files (no checksum) still read.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use crate::atomic::write_atomically;
use crate::data::{DataError, Dataset, Emotion, Fingerprint, SplitParts};
use crate::model::{Cnn, CnnConfig};
use crate::run::EpochRecord;

const MAGIC: &[u8; 8] = b"FERCKPT2";
/// The first layout, without the checksum.
const MAGIC_V1: &[u8; 8] = b"FERCKPT1";

/// Everything besides tensors that a resumed run needs to continue exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Epochs completed.
    pub epoch: usize,
    pub config: TrainConfig,
    /// The network as built (with the run's class count).
    pub network: CnnConfig,
    pub classes: Vec<Emotion>,
    /// Learning rate for the next epoch.
    pub lr: f64,
    /// Best validation accuracy so far and its epoch.
    pub best: Option<(usize, f64)>,
    /// Lowest validation loss so far and epochs since it (for ReduceOnPlateau).
    pub plateau: Option<(f64, usize)>,
    pub history: Vec<EpochRecord>,
    /// The data the run trains and validates on (absent in checkpoints of older versions).
    #[serde(default)]
    pub data: Option<DataFingerprints>,
}

/// The data a run trains and validates on, as its checkpoints record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprints {
    pub train: Fingerprint,
    pub validation: Option<Fingerprint>,
    /// CRC-32 of the graph's edges, for graph regularization (absent in older checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<u32>,
}

/// Writes a checkpoint to `path` atomically.
pub fn save(
    path: &Path,
    state: &CheckpointState,
    model: &Cnn,
    optimizer_bytes: &[u8],
) -> io::Result<()> {
    let json = serde_json::to_vec(state).map_err(io::Error::other)?;
    let mut store = BurnpackStore::from_bytes(None);
    model
        .save_into(&mut store)
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    let weights = store
        .get_bytes()
        .map_err(|e| io::Error::other(format!("{e:?}")))?;
    write_atomically(path, |out| {
        let mut crc = crc32fast::Hasher::new();
        out.write_all(MAGIC)?;
        for part in [&json[..], &weights[..], optimizer_bytes] {
            let len = (part.len() as u64).to_le_bytes();
            for bytes in [&len[..], part] {
                crc.update(bytes);
                out.write_all(bytes)?;
            }
        }
        out.write_all(&crc.finalize().to_le_bytes())
    })
}

/// A checkpoint read back: state, weights and optimizer state.
pub struct Checkpoint {
    pub state: CheckpointState,
    weights: Vec<u8>,
    optimizer: Vec<u8>,
    /// The file it came from, for errors.
    path: PathBuf,
}

impl Checkpoint {
    /// Reads and checks a checkpoint file: its layout, every part's length against the
    /// file's size, the checksum, and the network table it describes.
    pub fn read(path: &Path) -> io::Result<Checkpoint> {
        let bad = |what: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a valid fer checkpoint ({what})", path.display()),
            )
        };
        let bytes = std::fs::read(path)?;
        let (magic, body) = bytes
            .split_first_chunk::<8>()
            .ok_or_else(|| bad("too short".into()))?;
        let checksummed = match magic {
            MAGIC => true,
            MAGIC_V1 => false,
            _ => return Err(bad("wrong magic bytes".into())),
        };
        let (body, stored_crc) = if checksummed {
            let (body, crc) = body
                .split_last_chunk::<4>()
                .ok_or_else(|| bad("no checksum".into()))?;
            (body, Some(u32::from_le_bytes(*crc)))
        } else {
            (body, None)
        };
        if let Some(stored) = stored_crc {
            let actual = crc32fast::hash(body);
            if actual != stored {
                return Err(bad(format!(
                    "checksum {actual:08x} instead of {stored:08x}: the file is damaged"
                )));
            }
        }
        let mut rest = body;
        let mut parts = Vec::new();
        for name in ["state", "weights", "optimizer"] {
            let (len, after) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| bad(format!("it ends before the {name} part")))?;
            let len = u64::from_le_bytes(*len);
            let len = usize::try_from(len)
                .ok()
                .filter(|&len| len <= after.len())
                .ok_or_else(|| {
                    bad(format!(
                        "the {name} part claims {len} bytes, {} are left",
                        after.len()
                    ))
                })?;
            let (part, after) = after.split_at(len);
            parts.push(part.to_vec());
            rest = after;
        }
        if !rest.is_empty() {
            return Err(bad(format!("{} bytes after the last part", rest.len())));
        }
        let optimizer = parts.pop().unwrap_or_default();
        let weights = parts.pop().unwrap_or_default();
        let state: CheckpointState =
            serde_json::from_slice(&parts[0]).map_err(|e| bad(format!("state: {e}")))?;
        state
            .network
            .validate()
            .map_err(|e| bad(format!("its network: {e}")))?;
        if state.network.classes != state.classes.len() {
            return Err(bad(format!(
                "its network has {} outputs for {} classes",
                state.network.classes,
                state.classes.len()
            )));
        }
        Ok(Checkpoint {
            state,
            weights,
            optimizer,
            path: path.to_path_buf(),
        })
    }

    /// The network with the checkpoint's weights, on `device`.
    pub fn model(&self, device: &Device) -> io::Result<Cnn> {
        let mut model = self.state.network.init(device);
        let mut store =
            BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(self.weights.clone())));
        model.load_from(&mut store).map_err(|e| {
            io::Error::other(format!("{}: loading weights: {e:?}", self.path.display()))
        })?;
        Ok(model)
    }

    /// `dataset` as the run saw it: narrowed to the run's classes (relabeled in its order)
    /// and divided by its split plan, so evaluation finds the faces the run held out.
    pub fn faces<'a>(
        &self,
        dataset: &'a Dataset,
    ) -> Result<(Cow<'a, Dataset>, SplitParts), DataError> {
        let classes = &self.state.classes;
        let dataset = if classes.as_slice() == Emotion::ALL {
            Cow::Borrowed(dataset)
        } else {
            Cow::Owned(dataset.select_classes(classes)?)
        };
        let config = &self.state.config;
        let parts = config.split.apply(&dataset, config.seed)?;
        Ok((dataset, parts))
    }

    /// Restores the saved optimizer state into `optimizer`.
    pub fn optimizer(&self, optimizer: ModuleOptimizer) -> io::Result<ModuleOptimizer> {
        optimizer
            .from_bytes(Bytes::from_bytes_vec(self.optimizer.clone()))
            .map_err(|e| {
                io::Error::other(format!(
                    "{}: loading optimizer state: {e:?}",
                    self.path.display()
                ))
            })
    }
}
