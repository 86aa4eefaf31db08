//! `--data`: a file, an image folder, or `synthetic[:N[:SEED]]`, and how runs split it.

use std::path::PathBuf;

use anyhow::{bail, Context};
use fer::data::{self, synth, Dataset, Emotion, LoadOptions, Split};

/// Default synthetic set: big enough to learn from in minutes on a laptop.
const SYNTHETIC_N: usize = 3000;
const SYNTHETIC_SEED: u64 = 2013;

/// Where faces come from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    Synthetic { n: usize, seed: u64 },
    Path(PathBuf),
}

impl std::str::FromStr for DataSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some(rest) = s.strip_prefix("synthetic") else {
            return Ok(DataSpec::Path(PathBuf::from(s)));
        };
        let mut parts = rest.split(':').skip(1);
        let n = match parts.next() {
            Some(n) => n
                .parse()
                .map_err(|_| format!("'{n}' in '{s}' is not a face count"))?,
            None if rest.is_empty() => SYNTHETIC_N,
            None => return Ok(DataSpec::Path(PathBuf::from(s))),
        };
        let seed = match parts.next() {
            Some(seed) => seed
                .parse()
                .map_err(|_| format!("'{seed}' in '{s}' is not a seed"))?,
            None => SYNTHETIC_SEED,
        };
        Ok(DataSpec::Synthetic { n, seed })
    }
}

impl DataSpec {
    /// Loads the faces, keeping only `classes` when given (relabeled in that order).
    pub fn load(&self, lenient: bool, classes: Option<&[Emotion]>) -> anyhow::Result<Dataset> {
        let dataset = match self {
            DataSpec::Synthetic { n, seed } => synth::synthesize(&synth::SynthConfig {
                n: *n,
                seed: *seed,
                usage: Some([0.8, 0.1, 0.1]),
                ..Default::default()
            })?,
            DataSpec::Path(path) => {
                let loaded = data::load(path, &LoadOptions { lenient })
                    .with_context(|| format!("loading {}", path.display()))?;
                if !loaded.skipped.is_empty() {
                    eprintln!(
                        "skipped {} bad rows (first: {})",
                        loaded.skipped.len(),
                        loaded.skipped[0]
                    );
                }
                loaded.dataset
            }
        };
        Ok(match classes {
            Some(keep) => dataset.select_classes(keep)?,
            None => dataset,
        })
    }
}

/// Parses `happiness,sadness,neutral` (names, folder names or digits).
pub fn parse_classes(text: &str) -> Result<Vec<Emotion>, String> {
    text.split(',').map(|c| c.parse::<Emotion>()).collect()
}

/// Train and validation parts: by Usage when the data has it (Training / PublicTest),
/// otherwise a stratified split keeping `val_fraction` for validation.
pub fn train_validation(
    dataset: &Dataset,
    val_fraction: f64,
    seed: u64,
) -> anyhow::Result<(Dataset, Dataset)> {
    if dataset.usage().is_some() {
        let train = dataset.split(Split::Train)?;
        let validation = dataset.split(Split::Validation)?;
        if train.is_empty() {
            bail!("the data has a Usage column but no Training rows");
        }
        if !validation.is_empty() {
            return Ok((train, validation));
        }
        return Ok(train.split_stratified(1.0 - val_fraction, seed)?);
    }
    Ok(dataset.split_stratified(1.0 - val_fraction, seed)?)
}

/// The part of the data named by `--split`.
pub fn select_split(dataset: &Dataset, split: &str) -> anyhow::Result<Dataset> {
    if split == "all" || dataset.usage().is_none() {
        return Ok(dataset.clone());
    }
    let split: Split = split.parse().map_err(anyhow::Error::msg)?;
    let part = dataset.split(split)?;
    if part.is_empty() {
        bail!("the data has no {} rows", split.usage_name());
    }
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_specs() {
        assert_eq!(
            "synthetic".parse(),
            Ok(DataSpec::Synthetic {
                n: 3000,
                seed: 2013
            })
        );
        assert_eq!(
            "synthetic:500".parse(),
            Ok(DataSpec::Synthetic { n: 500, seed: 2013 })
        );
        assert_eq!(
            "synthetic:500:7".parse(),
            Ok(DataSpec::Synthetic { n: 500, seed: 7 })
        );
        assert_eq!(
            "synthetic.csv".parse(),
            Ok(DataSpec::Path("synthetic.csv".into()))
        );
        assert!("synthetic:x".parse::<DataSpec>().is_err());
        assert_eq!(
            parse_classes("happy,4,neutral").unwrap(),
            [Emotion::Happiness, Emotion::Sadness, Emotion::Neutral]
        );
    }
}
