//! Checkpoints: model weights, optimizer state and the loop's own state in one file,
//! written atomically so a crash leaves the previous checkpoint intact.
//!
//! Layout: `FERCKPT1`, then three length-prefixed (u64 little-endian) parts: the JSON
//! [`CheckpointState`], the model (burnpack) and the optimizer state (burnpack).

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::path::Path;

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use crate::atomic::write_atomically;
use crate::data::{DataError, Dataset, Emotion, SplitParts};
use crate::model::{Cnn, CnnConfig};
use crate::run::EpochRecord;

const MAGIC: &[u8; 8] = b"FERCKPT1";

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
        out.write_all(MAGIC)?;
        for part in [&json[..], &weights[..], optimizer_bytes] {
            out.write_all(&(part.len() as u64).to_le_bytes())?;
            out.write_all(part)?;
        }
        Ok(())
    })
}

/// A checkpoint read back: state, weights and optimizer state.
pub struct Checkpoint {
    pub state: CheckpointState,
    weights: Vec<u8>,
    optimizer: Vec<u8>,
}

impl Checkpoint {
    /// Reads and checks a checkpoint file.
    pub fn read(path: &Path) -> io::Result<Checkpoint> {
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a fer checkpoint ({what})", path.display()),
            )
        };
        let mut file = io::BufReader::new(std::fs::File::open(path)?);
        let mut magic = [0u8; 8];
        file.read_exact(&mut magic).map_err(|_| bad("too short"))?;
        if &magic != MAGIC {
            return Err(bad("wrong magic bytes"));
        }
        let mut parts = Vec::new();
        for name in ["state", "weights", "optimizer"] {
            let mut len = [0u8; 8];
            file.read_exact(&mut len).map_err(|_| bad(name))?;
            let mut part = vec![0u8; u64::from_le_bytes(len) as usize];
            file.read_exact(&mut part).map_err(|_| bad(name))?;
            parts.push(part);
        }
        let optimizer = parts.pop().expect("three parts");
        let weights = parts.pop().expect("three parts");
        let state = serde_json::from_slice(&parts[0]).map_err(|e| bad(&e.to_string()))?;
        Ok(Checkpoint {
            state,
            weights,
            optimizer,
        })
    }

    /// The network with the checkpoint's weights, on `device`.
    pub fn model(&self, device: &Device) -> io::Result<Cnn> {
        let mut model = self.state.network.init(device);
        let mut store =
            BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(self.weights.clone())));
        model
            .load_from(&mut store)
            .map_err(|e| io::Error::other(format!("loading weights: {e:?}")))?;
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
            .map_err(|e| io::Error::other(format!("loading optimizer state: {e:?}")))
    }
}
