//! Helpers for the unit tests that hold fer's operations to Burn's.

use burn::prelude::*;
use burn::tensor::TensorData;

pub fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Every value within `tolerance` times the largest magnitude of `burns` (at least 1).
pub fn assert_close(ours: &[f32], burns: &[f32], tolerance: f32, what: &str) {
    assert_eq!(ours.len(), burns.len(), "{what}: lengths");
    let scale = burns.iter().fold(1f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in ours.iter().zip(burns).enumerate() {
        assert!(
            (a - b).abs() <= tolerance * scale,
            "{what}[{i}]: {a} vs {b}"
        );
    }
}

/// A fixed weighting of `dims` values (not random: tests share the device's RNG).
pub fn weighting<const D: usize>(dims: [usize; D], device: &Device) -> Tensor<D> {
    let values: Vec<f32> = (0..dims.iter().product::<usize>())
        .map(|i| (i as f32 * 0.7).sin())
        .collect();
    Tensor::from_data(TensorData::new(values, dims), device)
}
