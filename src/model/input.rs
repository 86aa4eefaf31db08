//! Batches of faces as Burn tensors.

use burn::prelude::*;

use crate::data::{FACE_PIXELS, SIDE};

/// Faces in [0, 1], back to back, as an `[N, 1, 48, 48]` tensor on `device`.
pub fn images_tensor(images: Vec<f32>, device: &Device) -> Tensor<4> {
    let n = images.len() / FACE_PIXELS;
    Tensor::from_data(TensorData::new(images, [n, 1, SIDE, SIDE]), device)
}

/// Class indices as an `[N]` integer tensor on `device`.
pub fn labels_tensor(labels: &[u8], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
    Tensor::from_data(TensorData::new(values, [labels.len()]), device)
}
