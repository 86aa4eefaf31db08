//! Seeded, shuffled mini-batches of normalized faces, ready to become N x 1 x 48 x 48 tensors.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::augment::Augment;
use super::dataset::Dataset;
use super::emotion::{FACE_PIXELS, SIDE};
use super::error::{DataError, Result};

/// How to cut a data set into batches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchConfig {
    pub batch_size: usize,
    /// Visit faces in a new seeded order every epoch (otherwise in row order).
    pub shuffle: bool,
    /// Leave out the last batch when it is smaller than `batch_size`.
    pub drop_last: bool,
    /// Seed of the order and of the augmentation draws.
    pub seed: u64,
    pub augment: Augment,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            batch_size: 64,
            shuffle: true,
            drop_last: false,
            seed: 0,
            augment: Augment::NONE,
        }
    }
}

/// A mini-batch: `images` is N x 1 x 48 x 48 in row-major order, values in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub images: Vec<f32>,
    /// Class index of each face; empty when the data set is unlabeled.
    pub labels: Vec<u8>,
    /// Row of each face in the data set.
    pub indices: Vec<usize>,
}

impl Batch {
    /// Number of faces.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True for a batch without faces.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// `[N, 1, 48, 48]`, the tensor shape of `images`.
    pub fn shape(&self) -> [usize; 4] {
        [self.len(), 1, SIDE, SIDE]
    }
}

/// Mixes seeds so nearby inputs give unrelated streams.
fn mix(a: u64, b: u64) -> u64 {
    splitmix64(
        a ^ b
            .wrapping_add(0x9e37_79b9_7f4a_7c15)
            .wrapping_mul(0xbf58_476d_1ce4_e5b9),
    )
}

/// SplitMix64's finalizer: every input bit affects every output bit.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The batches of one epoch, in order.
///
/// Every face's augmentation is drawn from its own generator, seeded by (seed, epoch,
/// row), so a face looks the same in an epoch whatever the batch size or order.
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    dataset: &'a Dataset,
    config: BatchConfig,
    epoch: u64,
    order: Vec<usize>,
    next: usize,
}

impl Dataset {
    /// The batches of epoch `epoch` (the order changes per epoch when shuffling).
    ///
    /// ```
    /// use fer::data::{synth, BatchConfig};
    /// let ds = synth::synthesize(&synth::SynthConfig { n: 10, seed: 0, ..Default::default() })?;
    /// let config = BatchConfig { batch_size: 4, ..Default::default() };
    /// let sizes: Vec<usize> = ds.batches(&config, 0)?.map(|b| b.len()).collect();
    /// assert_eq!(sizes, [4, 4, 2]);
    /// # Ok::<(), fer::data::DataError>(())
    /// ```
    pub fn batches(&self, config: &BatchConfig, epoch: u64) -> Result<Batches<'_>> {
        if config.batch_size == 0 {
            return Err(DataError::Invalid("batch size must be at least 1".into()));
        }
        config
            .augment
            .validate()
            .map_err(|e| DataError::Invalid(format!("augment.{e}")))?;
        let mut order: Vec<usize> = (0..self.len()).collect();
        if config.shuffle {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(mix(config.seed, epoch)));
        }
        if config.drop_last {
            order.truncate(order.len() - order.len() % config.batch_size);
        }
        Ok(Batches {
            dataset: self,
            config: *config,
            epoch,
            order,
            next: 0,
        })
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.config.batch_size).min(self.order.len());
        let indices = self.order[self.next..end].to_vec();
        self.next = end;
        let mut images = vec![0f32; indices.len() * FACE_PIXELS];
        let epoch_seed = mix(self.config.seed, self.epoch);
        for (out, &row) in images.chunks_exact_mut(FACE_PIXELS).zip(&indices) {
            let mut rng = ChaCha8Rng::seed_from_u64(mix(epoch_seed, row as u64));
            self.config
                .augment
                .apply(self.dataset.face(row), &mut rng, out);
        }
        let labels = match self.dataset.labels() {
            Some(labels) => indices.iter().map(|&i| labels[i]).collect(),
            None => Vec::new(),
        };
        Some(Batch {
            images,
            labels,
            indices,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.config.batch_size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}
