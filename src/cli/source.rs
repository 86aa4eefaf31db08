//! `--data` for the commands: loading with the skipped rows listed, and `--split`.

use anyhow::Context;
use clap::ValueEnum;
use fer::data::{DataSpec, Dataset, LoadOptions, Split, SplitParts};

/// Loads `--data`, listing every row a lenient load skipped.
pub fn load(spec: &DataSpec, lenient: bool) -> anyhow::Result<Dataset> {
    let loaded = spec
        .load(&LoadOptions { lenient })
        .with_context(|| match spec {
            DataSpec::Path(path) => format!("loading {}", path.display()),
            DataSpec::Synthetic { .. } => "drawing synthetic faces".into(),
        })?;
    if !loaded.skipped.is_empty() {
        eprintln!("skipped {} bad rows:", loaded.skipped.len());
        for row in &loaded.skipped {
            eprintln!("  {row}");
        }
    }
    Ok(loaded.dataset)
}

/// `--split`: a part of the run's data, as its split plan divides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitChoice {
    Train,
    Validation,
    Test,
    /// Every face of the data (of the run's classes).
    All,
}

impl SplitChoice {
    /// The chosen part: `None` (no `--split`) is the test part when the data has one, else
    /// the validation part. Returns the part and its name.
    pub fn select<'a>(
        choice: Option<SplitChoice>,
        whole: &'a Dataset,
        parts: &'a SplitParts,
    ) -> anyhow::Result<(&'a Dataset, &'static str)> {
        let split = match choice {
            None => parts.held_out().0,
            Some(SplitChoice::All) => return Ok((whole, "all")),
            Some(SplitChoice::Train) => Split::Train,
            Some(SplitChoice::Validation) => Split::Validation,
            Some(SplitChoice::Test) => Split::Test,
        };
        Ok((parts.part(split)?, split.part_name()))
    }
}
