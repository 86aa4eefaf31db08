//! Synthetic FER-format faces (being written).
use super::{Dataset, Result};

/// Settings of the generator.
#[derive(Debug, Clone, Default)]
pub struct SynthConfig {
    pub n: usize,
    pub seed: u64,
    pub usage: Option<[f64; 3]>,
}

/// Draws `config.n` faces.
pub fn synthesize(_config: &SynthConfig) -> Result<Dataset> {
    todo!()
}
