//! Confusion matrix and scikit-learn's classification report.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::data::Emotion;

/// Counts of (true class, predicted class) pairs; rows are true classes.
///
/// ```
/// use fer::data::Emotion;
/// use fer::metrics::ConfusionMatrix;
/// let mut cm = ConfusionMatrix::new(vec![Emotion::Happiness, Emotion::Sadness]);
/// cm.add(0, 0);
/// cm.add(1, 0);
/// assert_eq!(cm.accuracy(), 0.5);
/// assert_eq!(cm.recall(1), Some(0.0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    pub classes: Vec<Emotion>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// An empty matrix over `classes`.
    pub fn new(classes: Vec<Emotion>) -> ConfusionMatrix {
        let k = classes.len();
        ConfusionMatrix {
            classes,
            counts: vec![vec![0; k]; k],
        }
    }

    /// Builds the matrix from paired label and prediction lists.
    pub fn from_predictions(classes: Vec<Emotion>, truth: &[u8], predicted: &[u8]) -> Self {
        let mut cm = ConfusionMatrix::new(classes);
        for (&t, &p) in truth.iter().zip(predicted) {
            cm.add(t as usize, p as usize);
        }
        cm
    }

    /// Records one prediction.
    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth][predicted] += 1;
    }

    /// Adds another matrix over the same classes.
    pub fn merge(&mut self, other: &ConfusionMatrix) {
        for (row, other_row) in self.counts.iter_mut().zip(&other.counts) {
            for (c, o) in row.iter_mut().zip(other_row) {
                *c += o;
            }
        }
    }

    /// Number of predictions recorded.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Faces of each true class.
    pub fn support(&self, class: usize) -> u64 {
        self.counts[class].iter().sum()
    }

    fn predicted(&self, class: usize) -> u64 {
        self.counts.iter().map(|row| row[class]).sum()
    }

    /// Share of correct predictions (0 when empty).
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes.len()).map(|c| self.counts[c][c]).sum();
        ratio(correct, self.total()).unwrap_or(0.0)
    }

    /// Recall of `class` (its per-class accuracy); `None` when it has no faces.
    pub fn recall(&self, class: usize) -> Option<f64> {
        ratio(self.counts[class][class], self.support(class))
    }

    /// Precision of `class`; `None` when it was never predicted.
    pub fn precision(&self, class: usize) -> Option<f64> {
        ratio(self.counts[class][class], self.predicted(class))
    }

    /// Per-class accuracy (recall) of every class.
    pub fn per_class_accuracy(&self) -> Vec<Option<f64>> {
        (0..self.classes.len()).map(|c| self.recall(c)).collect()
    }

    /// Rows scaled to sum to 1 (rows without faces stay 0).
    pub fn row_normalized(&self) -> Vec<Vec<f64>> {
        self.counts
            .iter()
            .map(|row| {
                let sum: u64 = row.iter().sum();
                row.iter().map(|&c| ratio(c, sum).unwrap_or(0.0)).collect()
            })
            .collect()
    }

    /// Precision, recall, f1 and support per class, with averages, as scikit-learn computes them.
    pub fn report(&self) -> ClassificationReport {
        let rows: Vec<ClassScores> = (0..self.classes.len())
            .map(|c| {
                let precision = self.precision(c).unwrap_or(0.0);
                let recall = self.recall(c).unwrap_or(0.0);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScores {
                    class: self.classes[c],
                    precision,
                    recall,
                    f1,
                    support: self.support(c),
                }
            })
            .collect();
        let k = rows.len() as f64;
        let total = self.total();
        let mean = |f: fn(&ClassScores) -> f64| rows.iter().map(f).sum::<f64>() / k;
        let weighted = |f: fn(&ClassScores) -> f64| {
            ratio_f(rows.iter().map(|r| f(r) * r.support as f64).sum(), total)
        };
        ClassificationReport {
            accuracy: self.accuracy(),
            macro_avg: [mean(|r| r.precision), mean(|r| r.recall), mean(|r| r.f1)],
            weighted_avg: [
                weighted(|r| r.precision),
                weighted(|r| r.recall),
                weighted(|r| r.f1),
            ],
            support: total,
            rows,
        }
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn ratio_f(a: f64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a / b as f64
    }
}

/// One class's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub class: Emotion,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// scikit-learn's `classification_report`, with undefined ratios reported as 0
/// (its `zero_division` default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    pub rows: Vec<ClassScores>,
    pub accuracy: f64,
    /// Unweighted mean of precision, recall and f1 over classes.
    pub macro_avg: [f64; 3],
    /// Mean of precision, recall and f1 weighted by support.
    pub weighted_avg: [f64; 3],
    pub support: u64,
}

/// scikit-learn's text layout, character for character: `classification_report(y_true,
/// y_pred, target_names=names)` prints the same lines for the same predictions.
impl fmt::Display for ClassificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.class.name().len())
            .chain(["weighted avg".len()])
            .max()
            .unwrap_or(12);
        writeln!(
            f,
            "{:>width$}  {:>9} {:>9} {:>9} {:>9}\n",
            "", "precision", "recall", "f1-score", "support"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, [p, r, f1]: [f64; 3], n: u64| {
            writeln!(f, "{name:>width$}  {p:>9.2} {r:>9.2} {f1:>9.2} {n:>9}")
        };
        for r in &self.rows {
            row(f, r.class.name(), [r.precision, r.recall, r.f1], r.support)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>width$}  {:>9} {:>9} {:>9.2} {:>9}",
            "accuracy", "", "", self.accuracy, self.support
        )?;
        row(f, "macro avg", self.macro_avg, self.support)?;
        row(f, "weighted avg", self.weighted_avg, self.support)
    }
}

impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>10} |", "true\\pred")?;
        for c in &self.classes {
            write!(f, " {:>9}", &c.name()[..c.name().len().min(9)])?;
        }
        writeln!(f)?;
        for (c, row) in self.counts.iter().enumerate() {
            write!(f, "{:>10} |", self.classes[c].name())?;
            for v in row {
                write!(f, " {v:>9}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from scikit-learn 1.5 on the same lists:
    /// y_true = [0,0,0,1,1,2,2,2,2,3], y_pred = [0,1,0,1,2,2,2,0,2,0], labels=[0,1,2,3]
    #[test]
    fn report_matches_scikit_learn() {
        let classes = vec![
            Emotion::Anger,
            Emotion::Disgust,
            Emotion::Fear,
            Emotion::Happiness,
        ];
        let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3];
        let pred = [0, 1, 0, 1, 2, 2, 2, 0, 2, 0];
        let cm = ConfusionMatrix::from_predictions(classes, &truth, &pred);
        assert_eq!(cm.counts[0], [2, 1, 0, 0]);
        assert_eq!(cm.counts[3], [1, 0, 0, 0]);
        let report = cm.report();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        // precision: 2/4, 1/2, 3/4, 0; recall: 2/3, 1/2, 3/4, 0
        let expected = [(0.5, 2.0 / 3.0), (0.5, 0.5), (0.75, 0.75), (0.0, 0.0)];
        for (row, (p, r)) in report.rows.iter().zip(expected) {
            assert!(close(row.precision, p) && close(row.recall, r), "{row:?}");
        }
        assert!(close(
            report.rows[0].f1,
            2.0 * 0.5 * (2.0 / 3.0) / (0.5 + 2.0 / 3.0)
        ));
        assert!(close(report.accuracy, 0.6));
        assert!(close(report.macro_avg[0], (0.5 + 0.5 + 0.75) / 4.0));
        assert!(close(report.weighted_avg[1], 0.6)); // weighted recall equals accuracy
        assert!(close(
            report.weighted_avg[0],
            (0.5 * 3.0 + 0.5 * 2.0 + 0.75 * 4.0) / 10.0
        ));
        // scikit-learn 1.9.1's text, with target_names and zero_division=0.
        let sklearn = "              precision    recall  f1-score   support\n\n       anger       0.50      0.67      0.57         3\n     disgust       0.50      0.50      0.50         2\n        fear       0.75      0.75      0.75         4\n   happiness       0.00      0.00      0.00         1\n\n    accuracy                           0.60        10\n   macro avg       0.44      0.48      0.46        10\nweighted avg       0.55      0.60      0.57        10\n";
        assert_eq!(report.to_string(), sklearn);
    }

    #[test]
    fn normalization_and_empty_rows() {
        let mut cm = ConfusionMatrix::new(vec![Emotion::Anger, Emotion::Fear]);
        cm.add(0, 1);
        cm.add(0, 0);
        cm.add(0, 1);
        let norm = cm.row_normalized();
        assert!((norm[0][1] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(norm[1], [0.0, 0.0]);
        assert_eq!(cm.per_class_accuracy(), [Some(1.0 / 3.0), None]);
        let mut other = cm.clone();
        other.merge(&cm);
        assert_eq!(other.total(), 6);
    }
}
