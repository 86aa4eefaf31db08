//! Naming a data set in one string: a file, an image-folder tree, or synthetic faces.

use std::path::PathBuf;
use std::str::FromStr;

use super::error::Result;
use super::{load, synth, LoadOptions, Loaded};

/// Default synthetic set: big enough to learn from in minutes on a laptop.
const SYNTHETIC_N: usize = 3000;
const SYNTHETIC_SEED: u64 = 2013;

/// Where faces come from, as `--data` and the notebooks name it.
///
/// `synthetic[:N[:SEED]]` draws faces with an 80/10/10 Usage column (3,000 faces, seed 2013
/// by default); anything else is a path for [`load`].
///
/// ```
/// use fer::data::{DataSpec, LoadOptions};
/// let spec: DataSpec = "synthetic:200:7".parse()?;
/// assert_eq!(spec, DataSpec::Synthetic { n: 200, seed: 7 });
/// let faces = spec.load(&LoadOptions::default())?.dataset;
/// assert_eq!(faces.len(), 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    Synthetic { n: usize, seed: u64 },
    Path(PathBuf),
}

impl FromStr for DataSpec {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
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

/// The form [`FromStr`] reads back.
impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSpec::Synthetic { n, seed } => write!(f, "synthetic:{n}:{seed}"),
            DataSpec::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

impl DataSpec {
    /// The same data named from anywhere: a path made canonical (absolute if it does not
    /// exist).
    pub fn absolute(&self) -> DataSpec {
        match self {
            DataSpec::Path(path) => DataSpec::Path(
                std::fs::canonicalize(path)
                    .or_else(|_| std::path::absolute(path))
                    .unwrap_or_else(|_| path.clone()),
            ),
            synthetic => synthetic.clone(),
        }
    }

    /// Loads (or draws) the faces.
    pub fn load(&self, options: &LoadOptions) -> Result<Loaded> {
        match self {
            DataSpec::Synthetic { n, seed } => Ok(Loaded {
                dataset: synth::synthesize(&synth::SynthConfig {
                    n: *n,
                    seed: *seed,
                    usage: Some([0.8, 0.1, 0.1]),
                    ..Default::default()
                })?,
                skipped: Vec::new(),
            }),
            DataSpec::Path(path) => load(path, options),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_specs() {
        let parse = |s: &str| s.parse::<DataSpec>();
        assert_eq!(
            parse("synthetic"),
            Ok(DataSpec::Synthetic {
                n: 3000,
                seed: 2013
            })
        );
        assert_eq!(
            parse("synthetic:500"),
            Ok(DataSpec::Synthetic { n: 500, seed: 2013 })
        );
        assert_eq!(
            parse("synthetic:500:7"),
            Ok(DataSpec::Synthetic { n: 500, seed: 7 })
        );
        assert_eq!(
            parse("synthetic.csv"),
            Ok(DataSpec::Path("synthetic.csv".into()))
        );
        assert!(parse("synthetic:x").unwrap_err().contains("'x'"));
        for text in ["synthetic:500:7", "data/x.csv"] {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
        let absolute = parse("x.csv").unwrap().absolute();
        assert!(matches!(absolute, DataSpec::Path(p) if p.is_absolute() && p.ends_with("x.csv")));
        assert!(parse("synthetic:5:y").unwrap_err().contains("'y'"));
    }
}
