//! Faces that occur more than once. FER2013 repeats some of its faces: across usage splits
//! (a PublicTest face the model also trained on) and under different labels.

use std::collections::HashMap;
use std::fmt;

use super::dataset::{Dataset, Split};
use super::emotion::FACE_PIXELS;

/// Each face identical to an earlier one, paired with the first face it equals; faces
/// increasing.
///
/// ```
/// use fer::data::{duplicates::repeats, FACE_PIXELS};
/// let mut pixels = vec![0u8; 4 * FACE_PIXELS];
/// pixels[FACE_PIXELS] = 1; // face 1 differs; faces 2 and 3 equal face 0
/// assert_eq!(repeats(&pixels), [(2, 0), (3, 0)]);
/// ```
pub fn repeats(pixels: &[u8]) -> Vec<(usize, usize)> {
    let mut first_seen = HashMap::new();
    pixels
        .chunks_exact(FACE_PIXELS)
        .enumerate()
        .filter_map(|(i, face)| {
            let first = *first_seen.entry(face).or_insert(i);
            (first != i).then_some((i, first))
        })
        .collect()
}

/// How a data set repeats its faces, for `fer data stats`.
///
/// ```
/// use fer::data::{synth, Duplicates};
/// let ds = synth::synthesize(&synth::SynthConfig { n: 50, ..Default::default() })?;
/// let twice = ds.subset(&[0, 1, 2, 0, 0, 1]);
/// let found = Duplicates::of(&twice);
/// assert_eq!((found.copies, found.repeated, found.most), (3, 2, 3));
/// # Ok::<(), fer::data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicates {
    /// Faces equal to an earlier face.
    pub copies: usize,
    /// Distinct faces that occur more than once.
    pub repeated: usize,
    /// The most times one face occurs (1 when none repeats; 0 for no faces).
    pub most: usize,
    /// For PublicTest and PrivateTest (data with usage): the split's faces, and how many of
    /// them equal a Training face.
    pub seen_in_training: Vec<(Split, usize, usize)>,
    /// Repeated faces whose occurrences carry more than one label (labeled data).
    pub conflicting_labels: Option<usize>,
}

impl Duplicates {
    /// Finds the repeated faces of `dataset`.
    pub fn of(dataset: &Dataset) -> Duplicates {
        // Every face's group: the first face it equals (itself when it is the first).
        let mut group: Vec<usize> = (0..dataset.len()).collect();
        let copies = repeats(dataset.pixels());
        let mut occurrences = vec![1usize; dataset.len()];
        for &(face, first) in &copies {
            group[face] = first;
            occurrences[first] += 1;
        }
        let mut in_training = vec![false; dataset.len()];
        let seen_in_training = match dataset.usage() {
            Some(usage) => {
                for (face, _) in usage.iter().enumerate().filter(|(_, &s)| s == Split::Train) {
                    in_training[group[face]] = true;
                }
                [Split::Validation, Split::Test]
                    .into_iter()
                    .map(|split| {
                        let faces = (0..dataset.len()).filter(|&i| usage[i] == split);
                        let (all, seen) = faces.fold((0, 0), |(all, seen), i| {
                            (all + 1, seen + usize::from(in_training[group[i]]))
                        });
                        (split, all, seen)
                    })
                    .filter(|&(_, all, _)| all > 0)
                    .collect()
            }
            None => Vec::new(),
        };
        let conflicting_labels = dataset.labels().map(|labels| {
            let mut conflicting = vec![false; dataset.len()];
            for &(face, first) in &copies {
                conflicting[first] |= labels[face] != labels[first];
            }
            conflicting.iter().filter(|&&c| c).count()
        });
        Duplicates {
            copies: copies.len(),
            repeated: occurrences.iter().filter(|&&n| n > 1).count(),
            most: occurrences.iter().copied().max().unwrap_or(0),
            seen_in_training,
            conflicting_labels,
        }
    }
}

impl fmt::Display for Duplicates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.copies == 0 {
            return writeln!(f, "duplicates: none (every face is distinct)");
        }
        writeln!(
            f,
            "duplicates: {} faces repeat an earlier one ({} distinct faces occur 2 to {} times)",
            self.copies, self.repeated, self.most
        )?;
        for (split, all, seen) in &self.seen_in_training {
            writeln!(
                f,
                "  {seen} of {all} {} faces ({:.1}%) equal a Training face",
                split.usage_name(),
                100.0 * *seen as f64 / *all as f64
            )?;
        }
        if let Some(conflicting) = self.conflicting_labels {
            writeln!(
                f,
                "  {conflicting} repeated faces carry more than one label"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Emotion;

    /// Faces numbered by their first pixel, so `faces(&[0, 1, 0])` repeats face 0.
    fn dataset(faces: &[u8], labels: &[u8], usage: Option<Vec<Split>>) -> Dataset {
        let pixels = faces
            .iter()
            .flat_map(|&f| std::iter::once(f).chain([7; FACE_PIXELS - 1]))
            .collect();
        Dataset::new(pixels, Some(labels.to_vec()), usage, Emotion::ALL.to_vec()).unwrap()
    }

    #[test]
    fn copies_across_splits_and_labels_are_counted() {
        use Split::{Test, Train, Validation};
        let ds = dataset(
            &[0, 1, 2, 0, 1, 3, 3, 0, 2],
            &[3, 4, 0, 3, 5, 6, 6, 3, 0],
            Some(vec![
                Train, Train, Validation, Validation, Validation, Validation, Test, Test, Test,
            ]),
        );
        let found = Duplicates::of(&ds);
        assert_eq!(
            found,
            Duplicates {
                copies: 5,
                repeated: 4,
                most: 3,
                // Validation: faces 3 (= 0) and 4 (= 1); 2 and 5 are repeated but not in
                // Training. Test: face 7 (= 0); 6 (= 5) and 8 (= 2) are not.
                seen_in_training: vec![(Validation, 4, 2), (Test, 3, 1)],
                // Face 1 is labeled 4 and 5.
                conflicting_labels: Some(1),
            }
        );
        let text = found.to_string();
        assert!(
            text.contains("5 faces repeat an earlier one (4 distinct faces occur 2 to 3 times)"),
            "{text}"
        );
        assert!(
            text.contains("2 of 4 PublicTest faces (50.0%) equal a Training face"),
            "{text}"
        );
        assert!(text.contains("1 of 3 PrivateTest faces (33.3%)"), "{text}");
        assert!(
            text.contains("1 repeated faces carry more than one label"),
            "{text}"
        );
    }

    #[test]
    fn distinct_faces_and_data_without_usage() {
        let distinct = Duplicates::of(&dataset(&[0, 1, 2], &[0, 0, 0], None));
        assert_eq!(
            (distinct.copies, distinct.repeated, distinct.most),
            (0, 0, 1)
        );
        assert!(distinct.seen_in_training.is_empty());
        assert_eq!(
            distinct.to_string(),
            "duplicates: none (every face is distinct)\n"
        );
        let empty = Duplicates::of(&dataset(&[], &[], None));
        assert_eq!((empty.copies, empty.most), (0, 0));
        assert_eq!(repeats(&[]), []);
    }
}
