//! The study's descriptive tables: class counts by usage, and pixel statistics.

use std::fmt;

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

/// How many pixels have each of the 256 gray levels.
///
/// Pixels are bytes, so a histogram holds everything the summary needs: exact quantiles,
/// mean and standard deviation in one pass, whatever the number of faces.
#[derive(Debug, Clone, PartialEq)]
struct LevelHistogram([u64; 256]);

impl LevelHistogram {
    fn new() -> LevelHistogram {
        LevelHistogram([0; 256])
    }

    fn add(&mut self, pixels: &[u8]) {
        for &p in pixels {
            self.0[p as usize] += 1;
        }
    }

    fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The level at sorted position `index` (0-based).
    fn level_at(&self, index: u64) -> u8 {
        let mut seen = 0;
        for (level, &n) in self.0.iter().enumerate() {
            seen += n;
            if seen > index {
                return level as u8;
            }
        }
        255
    }

    /// The `q` quantile as the nearest observed level: sorted position `q·(n-1)`, rounded
    /// half up (ndarray-stats' `Nearest`).
    fn quantile(&self, q: f64) -> u8 {
        let position = q * (self.count() - 1) as f64;
        let index = if position.fract() < 0.5 {
            position.floor()
        } else {
            position.ceil()
        };
        self.level_at(index as u64)
    }

    fn summary(&self) -> Option<PixelSummary> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let (mut sum, mut sum_sq) = (0u128, 0u128);
        for (level, &n) in self.0.iter().enumerate() {
            sum += level as u128 * n as u128;
            sum_sq += (level * level) as u128 * n as u128;
        }
        let n = count as f64;
        let mean = sum as f64 / n;
        let var = (sum_sq as f64 / n - mean * mean).max(0.0);
        Some(PixelSummary {
            count: count as usize,
            mean,
            std: var.sqrt(),
            min: self.quantile(0.0),
            q25: self.quantile(0.25),
            median: self.quantile(0.5),
            q75: self.quantile(0.75),
            max: self.quantile(1.0),
        })
    }
}

impl PixelSummary {
    /// Summarizes `pixels`; quantiles are the nearest observed levels.
    pub fn of(pixels: &[u8]) -> Option<PixelSummary> {
        let mut histogram = LevelHistogram::new();
        histogram.add(pixels);
        histogram.summary()
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
        let mut per_class = vec![LevelHistogram::new(); dataset.classes().len()];
        let mut overall = LevelHistogram::new();
        match dataset.labels() {
            Some(labels) => {
                for (i, &label) in labels.iter().enumerate() {
                    per_class[label as usize].add(dataset.face(i));
                }
                for class in &per_class {
                    for (total, n) in overall.0.iter_mut().zip(class.0) {
                        *total += n;
                    }
                }
            }
            None => overall.add(dataset.pixels()),
        }
        let per_class = match dataset.labels() {
            None => Vec::new(),
            Some(_) => dataset
                .classes()
                .iter()
                .zip(&per_class)
                .map(|(&e, histogram)| (e, histogram.summary()))
                .collect(),
        };
        Some(PixelStats {
            overall: overall.summary()?,
            per_class,
        })
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
        let s = PixelSummary::of(&face).unwrap();
        assert_eq!(
            (s.min, s.q25, s.median, s.q75, s.max),
            (0, 64, 128, 191, 255)
        );
    }

    /// Nearest-rank quantiles by sorting, the definition the histogram must reproduce.
    fn sorted_quantile(sorted: &[u8], q: f64) -> u8 {
        sorted[(q * (sorted.len() - 1) as f64 + 0.5).floor() as usize]
    }

    #[test]
    fn histogram_statistics_equal_sorting_and_ndarray_stats() {
        use ndarray_stats::{interpolate::Nearest, Quantile1dExt};
        use noisy_float::types::n64;
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        // Real faces have few distinct levels and heavy ties: draw from a narrow, skewed range.
        for (n, levels) in [(1, 256), (2, 3), (5, 2), (4_001, 256), (2_304 * 2, 17)] {
            let pixels: Vec<u8> = (0..n)
                .map(|_| {
                    let level: u32 = rng.random_range(0..levels);
                    (level * level / levels.max(1)).min(255) as u8
                })
                .collect();
            let s = PixelSummary::of(&pixels).unwrap();
            let mut sorted = pixels.clone();
            sorted.sort_unstable();
            let quantiles = [0.0, 0.25, 0.5, 0.75, 1.0].map(|q| sorted_quantile(&sorted, q));
            assert_eq!([s.min, s.q25, s.median, s.q75, s.max], quantiles, "n={n}");
            let mut array = ndarray::Array1::from(pixels.clone());
            let qs =
                ndarray::Array1::from(vec![n64(0.0), n64(0.25), n64(0.5), n64(0.75), n64(1.0)]);
            let reference = array.quantiles_mut(&qs, &Nearest).unwrap();
            assert_eq!(quantiles.to_vec(), reference.to_vec(), "n={n}");
            let mean = pixels.iter().map(|&p| p as f64).sum::<f64>() / n as f64;
            let var = pixels
                .iter()
                .map(|&p| (p as f64 - mean).powi(2))
                .sum::<f64>()
                / n as f64;
            assert!((s.mean - mean).abs() < 1e-9 && (s.std - var.sqrt()).abs() < 1e-9);
            assert_eq!(s.count, n);
        }
        assert_eq!(PixelSummary::of(&[]), None);
    }

    #[test]
    fn unlabeled_faces_have_overall_statistics_only() {
        let ds = Dataset::new(vec![7; 2 * FACE_PIXELS], None, None, Emotion::ALL.to_vec()).unwrap();
        let stats = PixelStats::of(&ds).unwrap();
        assert!(stats.per_class.is_empty());
        assert_eq!(
            (stats.overall.count, stats.overall.median),
            (2 * FACE_PIXELS, 7)
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
