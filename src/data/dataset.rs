//! The in-memory data set: faces as bytes, labels as class indices, the FER2013 usage split.

use std::fmt;
use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::emotion::{Emotion, FACE_PIXELS};
use super::error::{DataError, Result};

/// Which part of the study a face belongs to (FER2013's `Usage` column).
///
/// FER2013 calls them `Training`, `PublicTest` and `PrivateTest`; the study used them as
/// train, validation and test (80/10/10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    /// All splits, in FER2013 order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The value FER2013's `Usage` column holds for this split.
    pub fn usage_name(self) -> &'static str {
        match self {
            Split::Train => "Training",
            Split::Validation => "PublicTest",
            Split::Test => "PrivateTest",
        }
    }

    /// The split's plain name in reports: train, validation or test.
    pub fn part_name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    /// The folder name of this split in an image-folder tree.
    pub fn folder_name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "val",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder_name())
    }
}

/// Accepts FER2013 usage names and folder names, in any case.
impl FromStr for Split {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "training" | "train" => Ok(Split::Train),
            "publictest" | "val" | "valid" | "validation" => Ok(Split::Validation),
            "privatetest" | "test" => Ok(Split::Test),
            _ => Err(format!(
                "'{s}' is not a usage (expected Training, PublicTest or PrivateTest)"
            )),
        }
    }
}

/// Identifies a data set's content ([`Dataset::fingerprint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    pub faces: usize,
    pub crc32: u32,
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} faces, CRC-32 {:08x}", self.faces, self.crc32)
    }
}

/// Faces with optional labels and usage, stored compactly: 2,304 bytes a face.
///
/// Labels are indices into [`classes`](Dataset::classes): the seven FER2013 emotions after a
/// load, a subset in a chosen order after [`select_classes`](Dataset::select_classes).
///
/// ```
/// use fer::data::{Dataset, Emotion, FACE_PIXELS};
/// let faces = vec![0u8; 3 * FACE_PIXELS];
/// let ds = Dataset::new(faces, Some(vec![3, 4, 3]), None, Emotion::ALL.to_vec()).unwrap();
/// assert_eq!(ds.len(), 3);
/// assert_eq!(ds.class_of(1), Some(Emotion::Sadness));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pixels: Vec<u8>,
    labels: Option<Vec<u8>>,
    usage: Option<Vec<Split>>,
    classes: Vec<Emotion>,
    /// Where each face came from: its 0-based data row in the source (see [`Dataset::source_row`]).
    rows: Vec<u32>,
}

/// The three parts of a data set by its `Usage` column.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageSplit {
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
}

impl Dataset {
    /// Builds a data set, checking that the parts agree in length and labels fit the classes.
    pub fn new(
        pixels: Vec<u8>,
        labels: Option<Vec<u8>>,
        usage: Option<Vec<Split>>,
        classes: Vec<Emotion>,
    ) -> Result<Dataset> {
        if !pixels.len().is_multiple_of(FACE_PIXELS) {
            return Err(DataError::Invalid(format!(
                "{} pixel bytes is not a whole number of {FACE_PIXELS}-byte faces",
                pixels.len()
            )));
        }
        let n = pixels.len() / FACE_PIXELS;
        if let Some(labels) = &labels {
            if labels.len() != n {
                return Err(DataError::Invalid(format!(
                    "{} labels for {n} faces",
                    labels.len()
                )));
            }
            if let Some(&bad) = labels.iter().find(|&&l| l as usize >= classes.len()) {
                return Err(DataError::Invalid(format!(
                    "label {bad} is outside the {} classes",
                    classes.len()
                )));
            }
        }
        if let Some(usage) = &usage {
            if usage.len() != n {
                return Err(DataError::Invalid(format!(
                    "{} usage values for {n} faces",
                    usage.len()
                )));
            }
        }
        Ok(Dataset {
            pixels,
            labels,
            usage,
            classes,
            rows: (0..n as u32).collect(),
        })
    }

    /// Sets the source row of every face, for loaders that skip rows (a lenient load).
    pub fn with_source_rows(mut self, rows: Vec<u32>) -> Result<Dataset> {
        if rows.len() != self.len() {
            return Err(DataError::Invalid(format!(
                "{} source rows for {} faces",
                rows.len(),
                self.len()
            )));
        }
        self.rows = rows;
        Ok(self)
    }

    /// The 0-based data row (header not counted) that face `i` was read from.
    ///
    /// Splits, subsets and class selections keep it, so predictions and wrong answers can be
    /// traced back to the file: row `r` of a CSV is line `r + 2`. In an image-folder tree it
    /// is the image's position in the sorted listing; in synthetic data, the face's number.
    ///
    /// ```
    /// use fer::data::{Dataset, Emotion, FACE_PIXELS};
    /// let ds = Dataset::new(vec![0; 4 * FACE_PIXELS], Some(vec![0, 3, 4, 3]), None, Emotion::ALL.to_vec())?;
    /// let happy = ds.select_classes(&[Emotion::Happiness])?;
    /// assert_eq!((happy.source_row(0), happy.source_row(1)), (1, 3));
    /// # Ok::<(), fer::data::DataError>(())
    /// ```
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn source_row(&self, i: usize) -> usize {
        self.rows[i] as usize
    }

    /// Number of faces.
    pub fn len(&self) -> usize {
        self.pixels.len() / FACE_PIXELS
    }

    /// True when there are no faces.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// All faces, back to back, row-major.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The 2,304 gray levels of face `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn face(&self, i: usize) -> &[u8] {
        &self.pixels[i * FACE_PIXELS..(i + 1) * FACE_PIXELS]
    }

    /// Class indices, one per face, or `None` for unlabeled faces (Kaggle's `test.csv`).
    pub fn labels(&self) -> Option<&[u8]> {
        self.labels.as_deref()
    }

    /// Labels, or an error saying that `what` needs them.
    pub fn require_labels(&self, what: &str) -> Result<&[u8]> {
        self.labels().ok_or_else(|| {
            DataError::Invalid(format!("{what} needs labeled faces; these have none"))
        })
    }

    /// The emotion of face `i`, when labeled.
    pub fn class_of(&self, i: usize) -> Option<Emotion> {
        self.labels
            .as_ref()
            .map(|labels| self.classes[labels[i] as usize])
    }

    /// The `Usage` of each face, when the source had one.
    pub fn usage(&self) -> Option<&[Split]> {
        self.usage.as_deref()
    }

    /// The classes the labels index into.
    pub fn classes(&self) -> &[Emotion] {
        &self.classes
    }

    /// What identifies these faces: their count and a CRC-32 of the pixels, labels and
    /// class list. A resumed run checks it, so it cannot continue on other data.
    ///
    /// ```
    /// use fer::data::synth::{synthesize, SynthConfig};
    /// let faces = synthesize(&SynthConfig { n: 50, seed: 1, ..Default::default() })?;
    /// assert_eq!(faces.fingerprint(), faces.clone().fingerprint());
    /// assert_ne!(faces.fingerprint(), faces.subset(&[0, 1]).fingerprint());
    /// # Ok::<(), fer::data::DataError>(())
    /// ```
    pub fn fingerprint(&self) -> Fingerprint {
        let mut crc = crc32fast::Hasher::new();
        crc.update(&self.pixels);
        crc.update(self.labels.as_deref().unwrap_or_default());
        for class in &self.classes {
            crc.update(class.name().as_bytes());
        }
        Fingerprint {
            faces: self.len(),
            crc32: crc.finalize(),
        }
    }

    /// The faces at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut pixels = Vec::with_capacity(indices.len() * FACE_PIXELS);
        for &i in indices {
            pixels.extend_from_slice(self.face(i));
        }
        Dataset {
            pixels,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            usage: self
                .usage
                .as_ref()
                .map(|u| indices.iter().map(|&i| u[i]).collect()),
            classes: self.classes.clone(),
            rows: indices.iter().map(|&i| self.rows[i]).collect(),
        }
    }

    /// Keeps the faces of `keep` and relabels them 0, 1, ... in the order given.
    ///
    /// The study's three-class run keeps happiness, sadness and neutral:
    /// ```
    /// use fer::data::{Dataset, Emotion, FACE_PIXELS};
    /// let ds = Dataset::new(vec![0; 4 * FACE_PIXELS], Some(vec![0, 3, 4, 6]), None, Emotion::ALL.to_vec())?;
    /// let three = ds.select_classes(&[Emotion::Happiness, Emotion::Sadness, Emotion::Neutral])?;
    /// assert_eq!(three.labels(), Some(&[0u8, 1, 2][..]));
    /// assert_eq!(three.classes(), &[Emotion::Happiness, Emotion::Sadness, Emotion::Neutral]);
    /// # Ok::<(), fer::data::DataError>(())
    /// ```
    pub fn select_classes(&self, keep: &[Emotion]) -> Result<Dataset> {
        let labels = self.require_labels("selecting classes")?;
        if keep.is_empty() {
            return Err(DataError::Invalid("select at least one class".into()));
        }
        let mut new_label = vec![None; self.classes.len()];
        for (new, emotion) in keep.iter().enumerate() {
            let old = self
                .classes
                .iter()
                .position(|c| c == emotion)
                .ok_or_else(|| {
                    DataError::Invalid(format!("class '{emotion}' is not in this data set"))
                })?;
            if new_label[old].is_some() {
                return Err(DataError::Invalid(format!(
                    "class '{emotion}' is selected twice"
                )));
            }
            new_label[old] = Some(new as u8);
        }
        let indices: Vec<usize> = (0..self.len())
            .filter(|&i| new_label[labels[i] as usize].is_some())
            .collect();
        let mut out = self.subset(&indices);
        if let Some(out_labels) = out.labels.as_mut() {
            for l in out_labels.iter_mut() {
                *l = new_label[*l as usize].expect("kept rows have a new label");
            }
        }
        out.classes = keep.to_vec();
        Ok(out)
    }

    /// Splits into (`fraction`, `1 - fraction`) parts with every class split in that ratio.
    ///
    /// Rows are drawn per class from a permutation seeded by `seed`, so the same seed gives
    /// the same split; each part keeps the original row order. A class with `n` faces puts
    /// `round(fraction * n)` of them in the first part.
    ///
    /// ```
    /// use fer::data::{synth, Emotion};
    /// let ds = synth::synthesize(&synth::SynthConfig { n: 200, seed: 1, ..Default::default() })?;
    /// let (train, val) = ds.split_stratified(0.9, 42)?;
    /// assert_eq!(train.len() + val.len(), 200);
    /// # Ok::<(), fer::data::DataError>(())
    /// ```
    pub fn split_stratified(&self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        let labels = self.require_labels("a stratified split")?;
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(DataError::Invalid(format!(
                "split fraction {fraction} must be strictly between 0 and 1"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut first = Vec::new();
        let mut second = Vec::new();
        for class in 0..self.classes.len() {
            let mut rows: Vec<usize> = (0..self.len())
                .filter(|&i| labels[i] as usize == class)
                .collect();
            rows.shuffle(&mut rng);
            let cut = (fraction * rows.len() as f64).round() as usize;
            first.extend_from_slice(&rows[..cut]);
            second.extend_from_slice(&rows[cut..]);
        }
        first.sort_unstable();
        second.sort_unstable();
        Ok((self.subset(&first), self.subset(&second)))
    }

    /// The faces whose `Usage` is `split`.
    pub fn split(&self, split: Split) -> Result<Dataset> {
        let usage = self.usage.as_ref().ok_or_else(|| {
            DataError::Invalid("this data set has no Usage column to split by".into())
        })?;
        let rows: Vec<usize> = (0..self.len()).filter(|&i| usage[i] == split).collect();
        Ok(self.subset(&rows))
    }

    /// Train / validation / test by the `Usage` column (Training / PublicTest / PrivateTest).
    pub fn split_by_usage(&self) -> Result<UsageSplit> {
        Ok(UsageSplit {
            train: self.split(Split::Train)?,
            validation: self.split(Split::Validation)?,
            test: self.split(Split::Test)?,
        })
    }
}
