//! Vectors that describe faces, for [`build_graph`](super::build_graph) to compare.

use burn::module::Module;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::error::GraphError;
use crate::data::{BatchConfig, Dataset, FACE_PIXELS};
use crate::model::{images_tensor, Cnn};

/// One vector of `dim` values per face, with the face's id (its 0-based data row).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    values: Vec<f32>,
    dim: usize,
    rows: Vec<u32>,
}

impl Embedding {
    /// Vectors back to back (`rows.len() x dim` values) and the face id of each.
    pub fn new(values: Vec<f32>, dim: usize, rows: Vec<u32>) -> Result<Embedding, GraphError> {
        if dim == 0 || values.len() != dim * rows.len() {
            return Err(GraphError::Invalid(format!(
                "{} values are not {} vectors of {dim}",
                values.len(),
                rows.len()
            )));
        }
        if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
            return Err(GraphError::Invalid(format!(
                "the embedding of face {} holds {}",
                rows[bad / dim],
                values[bad]
            )));
        }
        Ok(Embedding { values, dim, rows })
    }

    /// Each face's pixels minus the face's mean gray level.
    ///
    /// Raw gray levels are all positive, so any two faces have a cosine similarity near 1;
    /// centred, the cosine similarity is the correlation of the two faces' pixels, which
    /// ignores brightness and contrast and links faces of similar shape.
    pub fn pixels(data: &Dataset) -> Embedding {
        let mut values = Vec::with_capacity(data.pixels().len());
        for face in data.pixels().chunks_exact(FACE_PIXELS) {
            let mean = face.iter().map(|&p| p as f32).sum::<f32>() / FACE_PIXELS as f32;
            values.extend(face.iter().map(|&p| (p as f32 - mean) / 255.0));
        }
        Embedding {
            values,
            dim: FACE_PIXELS,
            rows: face_ids(data),
        }
    }

    /// All vectors, back to back.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Values per face.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The face id of each vector.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// Number of faces.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True without faces.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Which output of a trained network describes a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbeddingSource {
    /// The input of the output layer (NSL's examples embed with a pretrained network's
    /// last hidden layer).
    #[default]
    Penultimate,
    /// The class logits.
    Logits,
    /// The class probabilities.
    Probabilities,
}

/// The embedding of every face of `data` by `model` in inference mode, in batches of
/// `batch_size`.
///
/// ```
/// use burn::prelude::*;
/// use fer::data::synth;
/// use fer::graph::{embeddings, EmbeddingSource};
/// use fer::model::CnnConfig;
/// let device = Device::flex();
/// let model = CnnConfig::preset("tiny").unwrap().init(&device);
/// let faces = synth::synthesize(&synth::SynthConfig { n: 3, ..Default::default() })?;
/// let embedding = embeddings(&model, &faces, EmbeddingSource::Logits, 2, &device)?;
/// assert_eq!((embedding.len(), embedding.dim()), (3, 7));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn embeddings(
    model: &Cnn,
    data: &Dataset,
    source: EmbeddingSource,
    batch_size: usize,
    device: &Device,
) -> Result<Embedding, GraphError> {
    let model = model.valid();
    let config = BatchConfig {
        batch_size,
        shuffle: false,
        ..Default::default()
    };
    let batches = data
        .batches(&config, 0)
        .map_err(|e| GraphError::Invalid(e.to_string()))?;
    let mut values = Vec::new();
    let mut dim = 0;
    for batch in batches {
        let images = images_tensor(batch.images, device);
        let features = match source {
            EmbeddingSource::Penultimate => model.embed(images),
            EmbeddingSource::Logits => model.forward(images),
            EmbeddingSource::Probabilities => softmax(model.forward(images), 1),
        };
        dim = features.dims()[1];
        let batch_values: Vec<f32> = features
            .into_data()
            .try_to_vec()
            .expect("embeddings are f32");
        values.extend(batch_values);
    }
    Embedding::new(values, dim.max(1), face_ids(data))
}

fn face_ids(data: &Dataset) -> Vec<u32> {
    (0..data.len()).map(|i| data.source_row(i) as u32).collect()
}
