//! Faces and labels: loading FER2013 in its common forms, dataset operations, batches,
//! augmentation and synthetic faces. Free of Burn, so it builds and tests fast.

mod augment;
mod batch;
pub mod csv;
mod dataset;
mod emotion;
mod error;
pub mod folder;
mod pixels;
mod source;
mod spec;
mod split_plan;
mod stats;
pub mod synth;

pub use augment::Augment;
pub(crate) use batch::splitmix64;
pub use batch::{Batch, BatchConfig, Batches};
pub use dataset::{Dataset, Split, UsageSplit};
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
    } else {
        csv::read_csv(path, options)
    }
}
