//! Seeded, reproducible augmentation: rotation, zoom, shift and horizontal flip.
//!
//! Like Keras' `ImageDataGenerator` (which the study used with rotation and zoom): one
//! random affine transform per face about its center, bilinear sampling, and `nearest`
//! fill (edge pixels extend outward), so values stay within the input's range.

use rand::Rng;

use super::emotion::{FACE_PIXELS, SIDE};
use crate::ConfigError;

/// Which transforms to draw, each off at its zero value.
///
/// ```
/// use fer::data::Augment;
/// use rand::SeedableRng;
/// let study = Augment { rotation_degrees: 10.0, zoom: 0.1, ..Augment::NONE };
/// let face = vec![128u8; 48 * 48];
/// let mut out = vec![0f32; 48 * 48];
/// study.apply(&face, &mut rand_chacha::ChaCha8Rng::seed_from_u64(7), &mut out);
/// assert!(out.iter().all(|&v| (v - 128.0 / 255.0).abs() < 1e-6));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Augment {
    /// Rotation drawn uniformly from +-`rotation_degrees`.
    pub rotation_degrees: f32,
    /// Magnification drawn uniformly from [1 - zoom, 1 + zoom] (same on both axes).
    pub zoom: f32,
    /// Shift on each axis drawn uniformly from +-`shift` times the side (48 px).
    pub shift: f32,
    /// Mirror left-right with probability 1/2.
    pub horizontal_flip: bool,
}

impl Default for Augment {
    fn default() -> Self {
        Augment::NONE
    }
}

impl Augment {
    /// No augmentation: [`apply`](Augment::apply) only scales to [0, 1].
    pub const NONE: Augment = Augment {
        rotation_degrees: 0.0,
        zoom: 0.0,
        shift: 0.0,
        horizontal_flip: false,
    };

    /// Checks each range is one a face can be drawn from: rotation in [0, 180] degrees, zoom
    /// and shift in [0, 1).
    ///
    /// ```
    /// use fer::data::Augment;
    /// let bad = Augment { zoom: 5.0, ..Augment::NONE }.validate().unwrap_err();
    /// assert_eq!(bad.to_string(), "zoom: must be in [0, 1), not 5");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (rotation, zoom, shift) = (self.rotation_degrees, self.zoom, self.shift);
        let ranges = [
            (
                "rotation_degrees",
                rotation,
                (0.0..=180.0).contains(&rotation),
                "[0, 180]",
            ),
            ("zoom", zoom, (0.0..1.0).contains(&zoom), "[0, 1)"),
            ("shift", shift, (0.0..1.0).contains(&shift), "[0, 1)"),
        ];
        for (field, value, inside, range) in ranges {
            if !inside {
                return Err(ConfigError::new(
                    field,
                    format!("must be in {range}, not {value}"),
                ));
            }
        }
        Ok(())
    }

    /// True when every transform is off.
    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }

    /// Draws one transform from `rng` and writes the transformed face, scaled to [0, 1].
    ///
    /// # Panics
    /// When `face` or `out` is not 2,304 long.
    pub fn apply(&self, face: &[u8], rng: &mut impl Rng, out: &mut [f32]) {
        assert_eq!(face.len(), FACE_PIXELS, "a face is 48x48");
        assert_eq!(out.len(), FACE_PIXELS, "the output is 48x48");
        if self.is_none() {
            for (o, &p) in out.iter_mut().zip(face) {
                *o = p as f32 / 255.0;
            }
            return;
        }
        let angle = symmetric(rng, self.rotation_degrees).to_radians();
        let scale = 1.0 + symmetric(rng, self.zoom);
        let dx = symmetric(rng, self.shift) * SIDE as f32;
        let dy = symmetric(rng, self.shift) * SIDE as f32;
        let flip = self.horizontal_flip && rng.random::<bool>();
        warp(face, out, angle, scale, dx, dy, flip);
    }
}

/// Uniform in [-range, range] (exactly 0 when the range is 0, drawing nothing).
fn symmetric(rng: &mut impl Rng, range: f32) -> f32 {
    if range == 0.0 {
        0.0
    } else {
        rng.random_range(-range..=range)
    }
}

/// Output pixel p samples the input at `R(-angle) (p - c - d) / scale + c`, mirrored when
/// `flip`; coordinates outside the face are clamped to the edge (`nearest` fill).
fn warp(face: &[u8], out: &mut [f32], angle: f32, scale: f32, dx: f32, dy: f32, flip: bool) {
    let c = (SIDE as f32 - 1.0) / 2.0;
    let max = SIDE as f32 - 1.0;
    let (sin, cos) = angle.sin_cos();
    let (a, b) = (cos / scale, sin / scale);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let px = x as f32 - c - dx;
            let py = y as f32 - c - dy;
            let mut sx = a * px + b * py + c;
            let sy = -b * px + a * py + c;
            if flip {
                sx = max - sx;
            }
            out[y * SIDE + x] = bilinear(face, sx.clamp(0.0, max), sy.clamp(0.0, max));
        }
    }
}

fn bilinear(face: &[u8], x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(SIDE - 1), (y0 + 1).min(SIDE - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: usize, yy: usize| face[yy * SIDE + xx] as f32;
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    (top * (1.0 - fy) + bottom * fy) / 255.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ramp() -> Vec<u8> {
        (0..FACE_PIXELS)
            .map(|i| ((i % SIDE) * 5 + i / SIDE) as u8)
            .collect()
    }

    fn warped(angle: f32, scale: f32, dx: f32, dy: f32, flip: bool) -> Vec<f32> {
        let mut out = vec![0.0; FACE_PIXELS];
        warp(&ramp(), &mut out, angle, scale, dx, dy, flip);
        out
    }

    #[test]
    fn identity_transform_only_scales() {
        let expected: Vec<f32> = ramp().iter().map(|&p| p as f32 / 255.0).collect();
        let out = warped(0.0, 1.0, 0.0, 0.0, false);
        for (o, e) in out.iter().zip(&expected) {
            assert!((o - e).abs() < 1e-6);
        }
    }

    #[test]
    fn flip_mirrors_columns_and_shift_moves_pixels() {
        let face = ramp();
        let flipped = warped(0.0, 1.0, 0.0, 0.0, true);
        assert!((flipped[0] - face[SIDE - 1] as f32 / 255.0).abs() < 1e-6);
        let shifted = warped(0.0, 1.0, 2.0, 0.0, false);
        // Content moves right by 2: output (x=10) shows input (x=8); left edge repeats.
        assert!((shifted[10] - face[8] as f32 / 255.0).abs() < 1e-6);
        assert!((shifted[0] - face[0] as f32 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn quarter_turn_rotates_the_grid() {
        let face = ramp();
        let out = warped(std::f32::consts::FRAC_PI_2, 1.0, 0.0, 0.0, false);
        // Output (x, y) samples input (y, 47 - x) for a quarter turn.
        for (x, y) in [(0, 0), (5, 30), (47, 12)] {
            let src = face[(SIDE - 1 - x) * SIDE + y] as f32 / 255.0;
            assert!((out[y * SIDE + x] - src).abs() < 1e-4, "({x},{y})");
        }
    }

    #[test]
    fn draws_are_reproducible_and_bounded() {
        let aug = Augment {
            rotation_degrees: 25.0,
            zoom: 0.2,
            shift: 0.1,
            horizontal_flip: true,
        };
        let face = ramp();
        let (lo, hi) = (*face.iter().min().unwrap(), *face.iter().max().unwrap());
        let run = |seed| {
            let mut out = vec![0.0; FACE_PIXELS];
            aug.apply(&face, &mut ChaCha8Rng::seed_from_u64(seed), &mut out);
            out
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
        for seed in 0..50 {
            let out = run(seed);
            assert!(out
                .iter()
                .all(|&v| v >= lo as f32 / 255.0 - 1e-6 && v <= hi as f32 / 255.0 + 1e-6));
        }
    }
}
