//! Which faces train, which validate and which test: FER2013's Usage column or a
//! stratified split of the whole data.

use serde::{Deserialize, Serialize};

use super::dataset::{Dataset, Split};
use super::error::{DataError, Result};
use crate::ConfigError;

/// How a run divides its data; part of the run's configuration, so evaluation finds the
/// same test faces the run held out.
///
/// In TOML: `split = { kind = "usage", validation_fraction = 0.1 }` or
/// `split = { kind = "stratified", train_fraction = 0.9, seed = 42 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SplitPlan {
    /// FER2013's own split (the study's 80/10/10): Training trains, PublicTest validates,
    /// PrivateTest tests. Data without a Usage column, or without PublicTest rows, keeps a
    /// stratified `validation_fraction` of its training faces for validation.
    Usage { validation_fraction: f64 },
    /// The whole data (every Usage) split per class: `train_fraction` trains, the rest
    /// validates and is also the test set (the study's 9:1 split, seed 42).
    Stratified { train_fraction: f64, seed: u64 },
}

impl Default for SplitPlan {
    fn default() -> Self {
        SplitPlan::Usage {
            validation_fraction: 0.1,
        }
    }
}

/// The parts of a data set under a [`SplitPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct SplitParts {
    pub train: Dataset,
    pub validation: Dataset,
    /// The held-out faces, when the data has any: PrivateTest rows, or the validation part of
    /// a stratified split.
    pub test: Option<Dataset>,
}

impl SplitParts {
    /// The part a final score is reported on: the test part, or the validation part when
    /// the data has no test faces (a FER2013 copy without PrivateTest rows).
    pub fn held_out(&self) -> (Split, &Dataset) {
        match &self.test {
            Some(test) => (Split::Test, test),
            None => (Split::Validation, &self.validation),
        }
    }

    /// The part named by `split`, or why there is none.
    pub fn part(&self, split: Split) -> Result<&Dataset> {
        match split {
            Split::Train => Ok(&self.train),
            Split::Validation => Ok(&self.validation),
            Split::Test => self.test.as_ref().ok_or_else(|| {
                DataError::Invalid(
                    "the data has no test faces (no PrivateTest rows); evaluate the validation part instead".into(),
                )
            }),
        }
    }
}

impl SplitPlan {
    /// Checks the fractions.
    pub fn validate(&self) -> std::result::Result<(), ConfigError> {
        let (name, fraction) = match *self {
            SplitPlan::Usage {
                validation_fraction,
            } => ("validation_fraction", validation_fraction),
            SplitPlan::Stratified { train_fraction, .. } => ("train_fraction", train_fraction),
        };
        if fraction > 0.0 && fraction < 1.0 {
            Ok(())
        } else {
            Err(ConfigError::new(
                name,
                format!("{fraction} must be strictly between 0 and 1"),
            ))
        }
    }

    /// Divides `dataset`; `seed` draws the validation faces of data without a Usage split.
    ///
    /// ```
    /// use fer::data::{synth, SplitPlan};
    /// let ds = synth::synthesize(&synth::SynthConfig { n: 300, seed: 1, usage: Some([0.8, 0.1, 0.1]), ..Default::default() })?;
    /// let study = SplitPlan::Stratified { train_fraction: 0.9, seed: 42 }.apply(&ds, 0)?;
    /// assert_eq!(study.train.len() + study.validation.len(), 300);
    /// assert_eq!(study.test.as_ref(), Some(&study.validation));
    /// let usage = SplitPlan::default().apply(&ds, 0)?;
    /// assert!(usage.test.is_some_and(|t| t.usage().unwrap().iter().all(|&u| u == fer::data::Split::Test)));
    /// # Ok::<(), fer::data::DataError>(())
    /// ```
    pub fn apply(&self, dataset: &Dataset, seed: u64) -> Result<SplitParts> {
        self.validate()
            .map_err(|e| DataError::Invalid(format!("split {e}")))?;
        match *self {
            SplitPlan::Stratified {
                train_fraction,
                seed,
            } => {
                let (train, validation) = dataset.split_stratified(train_fraction, seed)?;
                Ok(SplitParts {
                    test: Some(validation.clone()),
                    train,
                    validation,
                })
            }
            SplitPlan::Usage {
                validation_fraction,
            } => {
                if dataset.usage().is_none() {
                    let (train, validation) =
                        dataset.split_stratified(1.0 - validation_fraction, seed)?;
                    return Ok(SplitParts {
                        train,
                        validation,
                        test: None,
                    });
                }
                let parts = dataset.split_by_usage()?;
                if parts.train.is_empty() {
                    return Err(DataError::Invalid(
                        "the data has a Usage column but no Training rows".into(),
                    ));
                }
                let test = (!parts.test.is_empty()).then_some(parts.test);
                let (train, validation) = if parts.validation.is_empty() {
                    parts
                        .train
                        .split_stratified(1.0 - validation_fraction, seed)?
                } else {
                    (parts.train, parts.validation)
                };
                Ok(SplitParts {
                    train,
                    validation,
                    test,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Emotion, FACE_PIXELS};

    fn faces(usage: Option<Vec<Split>>) -> Dataset {
        let n = 20;
        let labels = (0..n).map(|i| (i % 2) as u8 * 3).collect();
        Dataset::new(
            vec![0; n * FACE_PIXELS],
            Some(labels),
            usage,
            Emotion::ALL.to_vec(),
        )
        .unwrap()
    }

    fn rows(ds: &Dataset) -> Vec<usize> {
        (0..ds.len()).map(|i| ds.source_row(i)).collect()
    }

    #[test]
    fn usage_plan_follows_the_column_and_falls_back_to_a_stratified_split() {
        let usage = (0..20)
            .map(|i| match i % 10 {
                0 => Split::Validation,
                1 => Split::Test,
                _ => Split::Train,
            })
            .collect();
        let parts = SplitPlan::default().apply(&faces(Some(usage)), 3).unwrap();
        assert_eq!(rows(&parts.validation), [0, 10]);
        assert_eq!(rows(parts.part(Split::Test).unwrap()), [1, 11]);
        assert_eq!(parts.train.len(), 16);
        let (split, held_out) = parts.held_out();
        assert_eq!((split, rows(held_out)), (Split::Test, vec![1, 11]));

        let only_training = faces(Some(vec![Split::Train; 20]));
        let parts = SplitPlan::Usage {
            validation_fraction: 0.2,
        }
        .apply(&only_training, 3)
        .unwrap();
        assert_eq!((parts.train.len(), parts.validation.len()), (16, 4));
        let error = parts.part(Split::Test).unwrap_err().to_string();
        assert!(error.contains("no test faces"), "{error}");
        let (split, held_out) = parts.held_out();
        assert_eq!((split, held_out), (Split::Validation, &parts.validation));

        let no_column = SplitPlan::default().apply(&faces(None), 3).unwrap();
        assert_eq!((no_column.train.len(), no_column.validation.len()), (18, 2));
        assert!(no_column.test.is_none());
    }

    #[test]
    fn stratified_plan_ignores_usage_and_is_seeded() {
        let plan = SplitPlan::Stratified {
            train_fraction: 0.9,
            seed: 42,
        };
        let usage = Some(vec![Split::Test; 20]);
        let a = plan.apply(&faces(usage), 0).unwrap();
        let b = plan.apply(&faces(None), 99).unwrap();
        assert_eq!(rows(&a.validation), rows(&b.validation));
        assert_eq!(a.validation.len(), 2);
        assert_eq!(a.test.as_ref(), Some(&a.validation));
        let other = SplitPlan::Stratified {
            train_fraction: 0.9,
            seed: 43,
        };
        let c = other.apply(&faces(None), 0).unwrap();
        assert_ne!(rows(&c.validation), rows(&b.validation));
    }

    #[test]
    fn fractions_are_checked() {
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            let plan = SplitPlan::Usage {
                validation_fraction: bad,
            };
            assert_eq!(plan.validate().unwrap_err().field, "validation_fraction");
            assert!(plan.apply(&faces(None), 0).is_err());
        }
        let toml_plan: SplitPlan =
            serde_json::from_str(r#"{"kind":"stratified","train_fraction":0.9,"seed":42}"#)
                .unwrap();
        assert_eq!(
            toml_plan,
            SplitPlan::Stratified {
                train_fraction: 0.9,
                seed: 42
            }
        );
    }
}
