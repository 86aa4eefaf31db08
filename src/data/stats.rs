//! The study's descriptive tables: class counts by usage, and pixel statistics.

use std::fmt;

use ndarray::{Array1, ArrayView1};
use ndarray_stats::interpolate::Nearest;
use ndarray_stats::Quantile1dExt;
use noisy_float::types::n64;

use super::dataset::{Dataset, Split};
use super::emotion::Emotion;
use super::error::Result;

/// Faces per class, overall and per usage split: the study's table 4.1.
///
/// ```
/// use fer::data::{synth, ClassCounts};
/// let ds = synth::synthesize(&synth::SynthConfig { n: 300, seed: 3, ..Default::default() })?;
/// let counts = ClassCounts::of(&ds)?;
/// assert_eq!(counts.total.iter().sum::<usize>(), 300);
/// println!("{counts}");
/// # Ok::<(), fer::data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClassCounts {
    pub classes: Vec<Emotion>,
    /// Faces of each class.
    pub total: Vec<usize>,
    /// Faces of each class in each usage split, when the data has a Usage column.
    pub by_split: Option<Vec<(Split, Vec<usize>)>>,
}

impl ClassCounts {
    /// Counts the labeled faces of `dataset`.
    pub fn of(dataset: &Dataset) -> Result<ClassCounts> {
        let labels = dataset.require_labels("class counts")?;
        let k = dataset.classes().len();
        let mut total = vec![0; k];
        let mut split_counts = [vec![0; k], vec![0; k], vec![0; k]];
        for (i, &label) in labels.iter().enumerate() {
            total[label as usize] += 1;
            if let Some(usage) = dataset.usage() {
                split_counts[usage[i] as usize][label as usize] += 1;
            }
        }
        let by_split = dataset
            .usage()
            .map(|_| Split::ALL.into_iter().zip(split_counts).collect());
        Ok(ClassCounts {
            classes: dataset.classes().to_vec(),
            total,
            by_split,
        })
    }
}

impl fmt::Display for ClassCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: usize = self.total.iter().sum();
        write!(
            f,
            "{:>5}  {:<10} {:>7} {:>7}",
            "label", "emotion", "count", "share"
        )?;
        for (split, _) in self.by_split.iter().flatten() {
            write!(f, " {:>11}", split.usage_name())?;
        }
        writeln!(f)?;
        for (c, emotion) in self.classes.iter().enumerate() {
            let share = 100.0 * self.total[c] as f64 / all.max(1) as f64;
            write!(
                f,
                "{:>5}  {:<10} {:>7} {:>6.1}%",
                emotion.index(),
                emotion.name(),
                self.total[c],
                share
            )?;
            for (_, counts) in self.by_split.iter().flatten() {
                write!(f, " {:>11}", counts[c])?;
            }
            writeln!(f)?;
        }
        write!(f, "{:>5}  {:<10} {:>7} {:>6.1}%", "", "total", all, 100.0)?;
        for (_, counts) in self.by_split.iter().flatten() {
            write!(f, " {:>11}", counts.iter().sum::<usize>())?;
        }
        writeln!(f)
    }
}

/// Summary of gray levels (0-255) over a set of faces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelSummary {
    pub count: usize,
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    pub min: u8,
    pub q25: u8,
    pub median: u8,
    pub q75: u8,
    pub max: u8,
}

impl PixelSummary {
    /// Summarizes `pixels`; quantiles are the nearest observed levels (ndarray-stats).
    fn of(pixels: ArrayView1<'_, u8>) -> Option<PixelSummary> {
        if pixels.is_empty() {
            return None;
        }
        let (sum, sum_sq) = pixels.iter().fold((0u64, 0u64), |(s, q), &p| {
            (s + p as u64, q + (p as u64) * (p as u64))
        });
        let n = pixels.len() as f64;
        let mean = sum as f64 / n;
        let var = (sum_sq as f64 / n - mean * mean).max(0.0);
        let mut owned: Array1<u8> = pixels.to_owned();
        let qs = Array1::from(vec![n64(0.0), n64(0.25), n64(0.5), n64(0.75), n64(1.0)]);
        let q = owned
            .quantiles_mut(&qs, &Nearest)
            .expect("non-empty array has quantiles");
        Some(PixelSummary {
            count: pixels.len(),
            mean,
            std: var.sqrt(),
            min: q[0],
            q25: q[1],
            median: q[2],
            q75: q[3],
            max: q[4],
        })
    }
}

/// Pixel statistics of a data set: over all faces, and per class when labeled.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelStats {
    pub overall: PixelSummary,
    pub per_class: Vec<(Emotion, Option<PixelSummary>)>,
}

impl PixelStats {
    /// Computes the statistics; `None` for an empty data set.
    ///
    /// ```
    /// use fer::data::{synth, PixelStats};
    /// let ds = synth::synthesize(&synth::SynthConfig { n: 100, seed: 5, ..Default::default() })?;
    /// let stats = PixelStats::of(&ds).unwrap();
    /// let (mean, std) = stats.normalization();
    /// assert!(mean > 0.0 && mean < 1.0 && std > 0.0);
    /// # Ok::<(), fer::data::DataError>(())
    /// ```
    pub fn of(dataset: &Dataset) -> Option<PixelStats> {
        let overall = PixelSummary::of(ArrayView1::from(dataset.pixels()))?;
        let per_class = match dataset.labels() {
            None => Vec::new(),
            Some(labels) => {
                let mut buckets = vec![Vec::new(); dataset.classes().len()];
                for (i, &label) in labels.iter().enumerate() {
                    buckets[label as usize].extend_from_slice(dataset.face(i));
                }
                dataset
                    .classes()
                    .iter()
                    .zip(buckets)
                    .map(|(&e, pixels)| (e, PixelSummary::of(ArrayView1::from(&pixels))))
                    .collect()
            }
        };
        Some(PixelStats { overall, per_class })
    }

    /// Global mean and standard deviation of pixels scaled to [0, 1], for normalization.
    pub fn normalization(&self) -> (f64, f64) {
        (self.overall.mean / 255.0, self.overall.std / 255.0)
    }
}

impl fmt::Display for PixelStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:>10} {:>7} {:>7} {:>4} {:>4} {:>6} {:>4} {:>4}",
            "pixels", "count", "mean", "std", "min", "q25", "median", "q75", "max"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &Option<PixelSummary>| match s {
            Some(s) => writeln!(
                f,
                "{:<10} {:>10} {:>7.2} {:>7.2} {:>4} {:>4} {:>6} {:>4} {:>4}",
                name, s.count, s.mean, s.std, s.min, s.q25, s.median, s.q75, s.max
            ),
            None => writeln!(f, "{name:<10} {:>10}", 0),
        };
        for (emotion, summary) in &self.per_class {
            row(f, emotion.name(), summary)?;
        }
        row(f, "all", &Some(self.overall))?;
        let (mean, std) = self.normalization();
        writeln!(
            f,
            "normalization (pixels / 255): mean {mean:.4}, std {std:.4}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::FACE_PIXELS;

    #[test]
    fn summary_of_known_levels() {
        // Two faces: one all 0, one all 200 -> mean 100, std 100.
        let mut pixels = vec![0u8; FACE_PIXELS];
        pixels.extend(vec![200u8; FACE_PIXELS]);
        let ds = Dataset::new(pixels, Some(vec![0, 3]), None, Emotion::ALL.to_vec()).unwrap();
        let stats = PixelStats::of(&ds).unwrap();
        assert_eq!(stats.overall.mean, 100.0);
        assert_eq!(stats.overall.std, 100.0);
        assert_eq!((stats.overall.min, stats.overall.max), (0, 200));
        assert_eq!(stats.per_class[3].1.unwrap().median, 200);
        assert_eq!(stats.per_class[1].1, None);
        let (m, s) = stats.normalization();
        assert!((m - 100.0 / 255.0).abs() < 1e-12 && (s - 100.0 / 255.0).abs() < 1e-12);
    }

    #[test]
    fn quantiles_of_a_ramp() {
        let face: Vec<u8> = (0..FACE_PIXELS)
            .map(|i| (i * 256 / FACE_PIXELS) as u8)
            .collect();
        let s = PixelSummary::of(ArrayView1::from(&face)).unwrap();
        assert_eq!(
            (s.min, s.q25, s.median, s.q75, s.max),
            (0, 64, 128, 191, 255)
        );
    }

    #[test]
    fn counts_by_split() {
        let ds = Dataset::new(
            vec![0; 4 * FACE_PIXELS],
            Some(vec![0, 0, 1, 6]),
            Some(vec![
                Split::Train,
                Split::Test,
                Split::Train,
                Split::Validation,
            ]),
            Emotion::ALL.to_vec(),
        )
        .unwrap();
        let counts = ClassCounts::of(&ds).unwrap();
        assert_eq!(counts.total, vec![2, 1, 0, 0, 0, 0, 1]);
        let by = counts.by_split.as_ref().unwrap();
        assert_eq!(by[0], (Split::Train, vec![1, 1, 0, 0, 0, 0, 0]));
        assert_eq!(by[2], (Split::Test, vec![1, 0, 0, 0, 0, 0, 0]));
        let table = counts.to_string();
        assert!(
            table.contains("disgust") && table.contains("PrivateTest"),
            "{table}"
        );
    }
}
