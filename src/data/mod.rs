//! Faces and labels: loading FER2013 in its common forms, dataset operations, batches,
//! augmentation and synthetic faces. Free of Burn, so it builds and tests fast.

mod augment;
mod batch;
pub mod csv;
mod dataset;
pub mod duplicates;
mod emotion;
mod error;
pub mod folder;
pub mod pack;
mod pixels;
mod source;
mod spec;
mod split_plan;
mod stats;
pub mod synth;

pub use augment::Augment;
#[cfg(feature = "burn")]
pub(crate) use batch::splitmix64;
pub use batch::{Batch, BatchConfig, Batches};
pub use dataset::{Dataset, Fingerprint, Split, UsageSplit};
pub use duplicates::Duplicates;
pub use emotion::{Emotion, FACE_PIXELS, SIDE};
pub use error::{DataError, Result, RowError};
pub use spec::DataSpec;
pub use split_plan::{SplitParts, SplitPlan};
pub use stats::{ClassCounts, PixelStats, PixelSummary};

/// How strictly to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Skip bad rows (reporting each in [`Loaded::skipped`]) instead of stopping at the first.
    pub lenient: bool,
}

/// A loaded data set and the rows a lenient load skipped.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub dataset: Dataset,
    /// Every skipped row with its location and problem; empty for a strict load.
    pub skipped: Vec<RowError>,
}

/// The faces `spec` names, as `fer train --data` reads it: `synthetic[:N[:SEED]]`, or the
/// path of a FER2013 CSV (plain or gzip) or an image-folder tree, loaded strictly (see
/// [`DataSpec`]; [`DataSpec::load`] for a lenient load).
///
/// ```
/// let faces = fer::data::open("synthetic:300")?;
/// assert_eq!(faces.len(), 300);
/// let missing = fer::data::open("no/such/fer2013.csv").unwrap_err();
/// assert!(missing.to_string().contains("no/such/fer2013.csv"));
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn open(spec: &str) -> Result<Dataset> {
    let spec: DataSpec = spec.parse().map_err(DataError::Invalid)?;
    Ok(spec.load(&LoadOptions::default())?.dataset)
}

/// Loads a data set from a CSV file (plain or gzip) or an image-folder tree.
///
/// ```no_run
/// let loaded = fer::data::load("data/fer2013.csv", &fer::data::LoadOptions::default())?;
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn load(path: impl AsRef<std::path::Path>, options: &LoadOptions) -> Result<Loaded> {
    let path = path.as_ref();
    if path.is_dir() {
        folder::read_folder(path, options)
    } else if pack::is_pack(path) {
        Ok(Loaded {
            dataset: pack::read_pack(path)?,
            skipped: Vec::new(),
        })
    } else {
        csv::read_csv(path, options)
    }
}
