//! Per-face predictions as a CSV table, for spreadsheets, pandas and scikit-learn.

use std::io;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomically;
use crate::data::{Emotion, Split};

/// Which face a prediction is for.
#[derive(Debug, Clone, PartialEq)]
pub enum FaceId {
    /// The 0-based data row of the data file ([`Dataset::source_row`](crate::data::Dataset::source_row)).
    Row(usize),
    /// An image file.
    Path(PathBuf),
}

/// One face's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub face: FaceId,
    pub usage: Option<Split>,
    /// The true class index, when labeled.
    pub truth: Option<u8>,
    /// The predicted class index.
    pub predicted: u8,
    /// One probability per class.
    pub probabilities: Vec<f32>,
}

impl Prediction {
    /// The probability of the predicted class.
    pub fn confidence(&self) -> f32 {
        self.probabilities[self.predicted as usize]
    }
}

/// The index of the largest value (the first of equal ones).
pub fn argmax(values: &[f32]) -> u8 {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as u8
}

/// Writes `predictions` as CSV, atomically, one row per face in the given order.
///
/// Columns: `index` (or `path` for image files), `usage` (FER2013's name, empty when
/// unknown), `true` and `predicted` as FER2013 labels (0 anger ... 6 neutral, the data
/// file's `emotion` convention; `true` empty when unlabeled), then `p_<class>` per class.
/// FER2013 labels keep fer's class order, so scikit-learn's `classification_report(df.true,
/// df.predicted, digits=4)` prints fer's report.
///
/// ```
/// use fer::data::{Emotion, Split};
/// use fer::metrics::{write_predictions, FaceId, Prediction};
/// let classes = [Emotion::Happiness, Emotion::Neutral];
/// let rows = [Prediction { face: FaceId::Row(7), usage: Some(Split::Test), truth: Some(1),
///     predicted: 0, probabilities: vec![0.75, 0.25] }];
/// let dir = tempfile::tempdir()?;
/// write_predictions(&dir.path().join("p.csv"), &classes, &rows)?;
/// let text = std::fs::read_to_string(dir.path().join("p.csv"))?;
/// assert_eq!(text, "index,usage,true,predicted,p_happiness,p_neutral\n7,PrivateTest,6,3,0.75,0.25\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_predictions(
    path: &Path,
    classes: &[Emotion],
    predictions: &[Prediction],
) -> io::Result<()> {
    let by_path = predictions
        .first()
        .is_some_and(|p| matches!(p.face, FaceId::Path(_)));
    write_atomically(path, |out| {
        let mut writer = ::csv::Writer::from_writer(out);
        let mut header = vec![if by_path { "path" } else { "index" }.to_string()];
        header.extend(["usage", "true", "predicted"].map(String::from));
        header.extend(classes.iter().map(|c| format!("p_{}", c.name())));
        writer.write_record(&header)?;
        let label = |class: u8| classes[class as usize].index().to_string();
        for p in predictions {
            let mut record = vec![
                match &p.face {
                    FaceId::Row(row) => row.to_string(),
                    FaceId::Path(path) => path.display().to_string(),
                },
                p.usage
                    .map_or(String::new(), |u| u.usage_name().to_string()),
                p.truth.map_or(String::new(), label),
                label(p.predicted),
            ];
            record.extend(p.probabilities.iter().map(f32::to_string));
            writer.write_record(&record)?;
        }
        writer.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[1.0]), 0);
    }

    #[test]
    fn image_rows_have_a_path_column_and_empty_unknowns() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.csv");
        let rows = [Prediction {
            face: FaceId::Path("a b/face,1.png".into()),
            usage: None,
            truth: None,
            predicted: 2,
            probabilities: vec![0.0, 0.125, 0.875],
        }];
        let classes = [Emotion::Anger, Emotion::Fear, Emotion::Surprise];
        write_predictions(&file, &classes, &rows).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text,
            "path,usage,true,predicted,p_anger,p_fear,p_surprise\n\"a b/face,1.png\",,,5,0,0.125,0.875\n"
        );
    }
}
