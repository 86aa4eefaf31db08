//! Synthetic FER-format faces: procedural 48x48 gray faces whose expressions follow FACS
//! prototypes, so training, evaluation and tests run without downloading FER2013.
//!
//! Every face is drawn from its own random stream, derived from the seed and the face's
//! index, so a face does not depend on how many are drawn or on how many threads draw them.
//! Expressions vary in intensity from barely visible to full, and pose, lighting, identity
//! and noise vary on top, so the task is learnable but not trivial.

use std::thread;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::{DataError, Dataset, Emotion, Result, Split, FACE_PIXELS, SIDE};

/// Faces per class in FER2013 (all three usages): the default class weights, so synthetic
/// data is as imbalanced as the real thing (disgust rare, happiness common).
pub const FER2013_COUNTS: [usize; 7] = [4953, 547, 5121, 8989, 6077, 4002, 6198];

/// Settings of the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Number of faces to draw.
    pub n: usize,
    /// Seed; the same config always gives byte-identical output.
    pub seed: u64,
    /// Fractions `[train, validation, test]` (summing to 1) for a Usage column, or `None`
    /// for a data set without one.
    pub usage: Option<[f64; 3]>,
    /// Relative frequency of each class in label order; need not sum to 1.
    pub class_weights: [f64; 7],
}

impl Default for SynthConfig {
    /// 1,000 faces, seed 0, no usage, FER2013's class frequencies.
    fn default() -> Self {
        SynthConfig {
            n: 1000,
            seed: 0,
            usage: None,
            class_weights: FER2013_COUNTS.map(|c| c as f64),
        }
    }
}

/// Draws `config.n` labelled faces, in parallel, deterministically from `config.seed`.
///
/// Classes follow `class_weights`; with `usage` set each face also gets a [`Split`].
///
/// ```
/// use fer::data::synth::{synthesize, SynthConfig};
/// use fer::data::Split;
///
/// let config = SynthConfig { n: 40, seed: 7, usage: Some([0.8, 0.1, 0.1]), ..Default::default() };
/// let ds = synthesize(&config)?;
/// assert_eq!(ds.len(), 40);
/// assert!(ds.usage().unwrap().contains(&Split::Train));
/// assert_eq!(ds, synthesize(&config)?); // same seed, same faces
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn synthesize(config: &SynthConfig) -> Result<Dataset> {
    validate(config)?;
    let n = config.n;
    let mut pixels = vec![0u8; n * FACE_PIXELS];
    let mut labels = vec![0u8; n];
    let mut usage = vec![Split::Train; n];

    // Cumulative class weights, normalised; the last class with weight takes rounding slack.
    let total: f64 = config.class_weights.iter().sum();
    let mut cumulative = [0.0f64; 7];
    let mut acc = 0.0;
    for (c, w) in cumulative.iter_mut().zip(config.class_weights) {
        acc += w / total;
        *c = acc;
    }
    let last_class = config
        .class_weights
        .iter()
        .rposition(|&w| w > 0.0)
        .unwrap_or(0);
    let fractions = config.usage.unwrap_or([1.0, 0.0, 0.0]);

    let draw = |i: usize, face: &mut [u8], label: &mut u8, split: &mut Split| {
        let mut rng = face_rng(config.seed, i);
        // Always draw both numbers so a face's pixels do not depend on the usage setting.
        let u_class: f64 = rng.random();
        let u_split: f64 = rng.random();
        let class = cumulative
            .iter()
            .position(|&c| u_class < c)
            .filter(|&c| config.class_weights[c] > 0.0)
            .unwrap_or(last_class);
        *label = class as u8;
        *split = if u_split < fractions[0] {
            Split::Train
        } else if u_split < fractions[0] + fractions[1] {
            Split::Validation
        } else {
            Split::Test
        };
        let emotion = Emotion::from_index(class).expect("class index below 7");
        face.copy_from_slice(&render_face(emotion, &mut rng));
    };

    // Contiguous chunks, one per thread; the output does not depend on the split.
    let threads = thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads.min(n.div_ceil(32)).max(1));
    thread::scope(|scope| {
        let parts = pixels
            .chunks_mut(chunk * FACE_PIXELS)
            .zip(labels.chunks_mut(chunk))
            .zip(usage.chunks_mut(chunk))
            .enumerate();
        for (part, ((faces, labels), splits)) in parts {
            let draw = &draw;
            scope.spawn(move || {
                let start = part * chunk;
                let rows = faces.chunks_exact_mut(FACE_PIXELS).zip(labels).zip(splits);
                for (k, ((face, label), split)) in rows.enumerate() {
                    draw(start + k, face, label, split);
                }
            });
        }
    });

    let usage = config.usage.map(|_| usage);
    Dataset::new(pixels, Some(labels), usage, Emotion::ALL.to_vec())
}

/// The random stream of face `i`: one ChaCha stream per face, so faces are independent of
/// `n` and of the thread that draws them.
fn face_rng(seed: u64, i: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(i as u64);
    rng
}

fn validate(config: &SynthConfig) -> Result<()> {
    let invalid = |m: String| Err(DataError::Invalid(m));
    if config.n == 0 {
        return invalid("synthetic data: n must be at least 1 (got 0)".into());
    }
    for (i, &w) in config.class_weights.iter().enumerate() {
        if !w.is_finite() || w < 0.0 {
            return invalid(format!(
                "synthetic data: class_weights[{i}] ({}) is {w}; weights must be finite and non-negative",
                Emotion::ALL[i]
            ));
        }
    }
    if config.class_weights.iter().all(|&w| w == 0.0) {
        return invalid(
            "synthetic data: class_weights are all zero; at least one must be positive".into(),
        );
    }
    if let Some(fractions) = config.usage {
        if let Some(&f) = fractions.iter().find(|f| !f.is_finite() || **f < 0.0) {
            return invalid(format!(
                "synthetic data: usage fractions {fractions:?} hold {f}; each must be in 0-1"
            ));
        }
        let sum: f64 = fractions.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return invalid(format!(
                "synthetic data: usage fractions {fractions:?} sum to {sum}, not 1 (train, validation, test)"
            ));
        }
    }
    Ok(())
}

/// Draws one 48x48 face showing `emotion` at a random intensity, with random identity,
/// pose, lighting and noise, all taken from `rng`.
///
/// ```
/// use fer::data::{synth::render_face, Emotion};
/// use rand::SeedableRng;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
/// let face = render_face(Emotion::Happiness, &mut rng);
/// assert_eq!(face.len(), 48 * 48);
/// ```
pub fn render_face(emotion: Emotion, rng: &mut ChaCha8Rng) -> [u8; FACE_PIXELS] {
    let face = Face::sample(emotion, rng);
    face.paint(rng)
}

/// Changes from the neutral face at full intensity (face units, about pixels at scale 1;
/// y points down, so a negative `dy` raises a feature).
#[derive(Debug, Clone, Copy, Default)]
struct Cues {
    brow_in_dy: f32,
    brow_in_dx: f32,
    brow_mid_dy: f32,
    brow_out_dy: f32,
    eye_up: f32,
    eye_low: f32,
    /// Horizontal lines across the nose bridge (disgust).
    wrinkle: f32,
    /// Vertical furrows between the brows (anger).
    glabella: f32,
    /// Horizontal forehead lines (surprise, fear).
    forehead: f32,
    /// Nose-to-mouth folds (happiness, disgust).
    fold: f32,
    /// Raised, lit cheeks (happiness).
    cheek: f32,
    /// Shadow in the eye sockets: positive under lowered brows, negative when raised.
    socket: f32,
    nose_dy: f32,
    mouth_c: f32,
    mouth_w: f32,
    mouth_h: f32,
    mouth_raise: f32,
    mouth_asym: f32,
    /// 0: lens-shaped opening, 1: round "O".
    mouth_o: f32,
    /// Relative change of lip thickness (negative: pressed lips).
    lip: f32,
    teeth: bool,
    jaw_drop: f32,
    head_down: f32,
}

impl Cues {
    /// `a` at strength `ea` plus `b` at strength `eb`: a face can mix a second expression
    /// into its own, as real faces do. Teeth follow `a`.
    fn blend(a: &Cues, ea: f32, b: &Cues, eb: f32) -> Cues {
        Cues {
            brow_in_dy: ea * a.brow_in_dy + eb * b.brow_in_dy,
            brow_in_dx: ea * a.brow_in_dx + eb * b.brow_in_dx,
            brow_mid_dy: ea * a.brow_mid_dy + eb * b.brow_mid_dy,
            brow_out_dy: ea * a.brow_out_dy + eb * b.brow_out_dy,
            eye_up: ea * a.eye_up + eb * b.eye_up,
            eye_low: ea * a.eye_low + eb * b.eye_low,
            wrinkle: ea * a.wrinkle + eb * b.wrinkle,
            glabella: ea * a.glabella + eb * b.glabella,
            forehead: ea * a.forehead + eb * b.forehead,
            fold: ea * a.fold + eb * b.fold,
            cheek: ea * a.cheek + eb * b.cheek,
            socket: ea * a.socket + eb * b.socket,
            nose_dy: ea * a.nose_dy + eb * b.nose_dy,
            mouth_c: ea * a.mouth_c + eb * b.mouth_c,
            mouth_w: ea * a.mouth_w + eb * b.mouth_w,
            mouth_h: ea * a.mouth_h + eb * b.mouth_h,
            mouth_raise: ea * a.mouth_raise + eb * b.mouth_raise,
            mouth_asym: ea * a.mouth_asym + eb * b.mouth_asym,
            mouth_o: ea * a.mouth_o + eb * b.mouth_o,
            lip: ea * a.lip + eb * b.lip,
            teeth: a.teeth,
            jaw_drop: ea * a.jaw_drop + eb * b.jaw_drop,
            head_down: ea * a.head_down + eb * b.head_down,
        }
    }

    fn of(emotion: Emotion, rng: &mut ChaCha8Rng) -> Cues {
        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
        let chance = rng.random::<f32>();
        match emotion {
            Emotion::Anger => {
                // Closed and pressed, or (a third of the time) bared, clenched teeth.
                let bared = chance < 0.35;
                Cues {
                    brow_in_dy: 3.2,
                    brow_in_dx: -1.5,
                    brow_mid_dy: 1.8,
                    eye_up: -0.6,
                    eye_low: -0.7,
                    glabella: 1.0,
                    wrinkle: 0.25,
                    socket: 1.0,
                    mouth_c: if bared { -0.8 } else { -1.2 },
                    mouth_w: if bared { 0.6 } else { -1.2 },
                    mouth_h: if bared {
                        rng.random_range(1.6..2.4)
                    } else {
                        0.0
                    },
                    mouth_raise: if bared { 0.5 } else { 0.0 },
                    lip: -0.6,
                    teeth: bared,
                    ..Cues::default()
                }
            }
            Emotion::Disgust => Cues {
                brow_in_dy: 2.4,
                brow_in_dx: -0.9,
                brow_mid_dy: 1.4,
                brow_out_dy: 1.0,
                eye_up: -0.6,
                eye_low: -0.8,
                wrinkle: 1.0,
                glabella: 0.4,
                socket: 0.5,
                fold: 1.2,
                nose_dy: -1.2,
                mouth_c: -1.0,
                mouth_w: -0.5,
                mouth_h: rng.random_range(0.8..1.8),
                mouth_raise: 2.2,
                mouth_asym: 1.8 * sign,
                teeth: chance < 0.6,
                ..Cues::default()
            },
            Emotion::Fear => Cues {
                brow_in_dy: -3.4,
                brow_in_dx: -1.2,
                brow_mid_dy: -2.2,
                brow_out_dy: -1.3,
                eye_up: 1.7,
                eye_low: 0.4,
                glabella: 0.4,
                forehead: 0.7,
                socket: -0.6,
                fold: 0.3,
                mouth_c: -1.0,
                mouth_w: 3.0,
                mouth_h: rng.random_range(2.2..3.6),
                lip: -0.3,
                teeth: chance < 0.3,
                ..Cues::default()
            },
            Emotion::Happiness => {
                let open = chance < 0.8;
                Cues {
                    brow_in_dy: -0.4,
                    brow_mid_dy: -0.4,
                    brow_out_dy: -0.4,
                    eye_up: -0.4,
                    eye_low: -0.9,
                    fold: 1.2,
                    cheek: 1.6,
                    mouth_c: 4.0,
                    mouth_w: 2.6,
                    mouth_h: if open {
                        rng.random_range(2.4..4.0)
                    } else {
                        0.0
                    },
                    lip: -0.2,
                    teeth: open,
                    ..Cues::default()
                }
            }
            Emotion::Sadness => Cues {
                brow_in_dy: -2.6,
                brow_in_dx: -0.7,
                brow_mid_dy: -0.7,
                brow_out_dy: 1.2,
                eye_up: -0.8,
                glabella: 0.3,
                socket: 0.3,
                mouth_c: -3.0,
                mouth_w: -0.6,
                lip: 0.3,
                head_down: 1.0,
                ..Cues::default()
            },
            Emotion::Surprise => Cues {
                brow_in_dy: -3.6,
                brow_mid_dy: -4.4,
                brow_out_dy: -3.0,
                eye_up: 1.9,
                eye_low: 0.5,
                forehead: 1.0,
                socket: -0.6,
                mouth_w: -2.4,
                mouth_h: rng.random_range(4.5..6.5),
                mouth_o: 1.0,
                jaw_drop: 1.0,
                ..Cues::default()
            },
            Emotion::Neutral => Cues::default(),
        }
    }
}

/// Hair: a shape behind the head and a fringe over the forehead.
#[derive(Debug, Clone, Copy)]
struct Hair {
    shade: f32,
    cy: f32,
    rx: f32,
    ry: f32,
    /// Hairline height at the centre and its curvature (positive: lower at the temples).
    line: f32,
    curve: f32,
    /// How far long hair reaches down beside the face (0: short).
    long: f32,
}

/// Everything that decides one face's look, drawn before any pixel is painted. Lengths are
/// in face units: pixels at scale 1, origin between the eyes and the nose, y down.
#[derive(Debug, Clone, Copy)]
struct Face {
    // pose: image position of the origin, rotation, scale
    cx: f32,
    cy: f32,
    cos: f32,
    sin: f32,
    scale: f32,
    // scene
    bg: f32,
    bg_gx: f32,
    bg_gy: f32,
    cloth: f32,
    // head
    skin: f32,
    hair: Option<Hair>,
    face_cy: f32,
    face_rx: f32,
    face_ry: f32,
    jaw: f32,
    light_side: f32,
    // eyes
    eye_x: f32,
    eye_y: f32,
    eye_w: f32,
    eye_up: f32,
    eye_low: f32,
    iris_r: f32,
    iris: f32,
    gaze: f32,
    sclera: f32,
    // right brow: inner, middle, outer point (mirrored for the left)
    brow: [(f32, f32); 3],
    brow_t: f32,
    brow_shade: f32,
    // nose and lines
    nose_y: f32,
    wrinkle: f32,
    glabella: f32,
    forehead: f32,
    fold: f32,
    cheek: f32,
    socket: f32,
    // mouth
    mouth_y: f32,
    mouth_w: f32,
    mouth_c: f32,
    mouth_asym: f32,
    mouth_h: f32,
    mouth_raise: f32,
    mouth_p: f32,
    lip_u: f32,
    lip_l: f32,
    teeth: f32,
    // boxes (x from the midline, y range) that hold the brows, the mouth and all features
    brow_box: [f32; 4],
    mouth_box: [f32; 3],
    zone: [f32; 3],
    // lighting
    contrast: f32,
    /// Mean gray level of the finished face.
    level: f32,
    gx: f32,
    gy: f32,
    noise: f32,
}

/// Pixels per face unit at scale 1: faces fill the frame, as FER2013's tight crops do.
const ZOOM: f32 = 1.27;

/// A standard normal deviate approximated by the sum of the four 16-bit uniforms in `bits`
/// (Irwin-Hall, bounded at 3.5 sigma): close enough for pixel noise, and cheaper than an
/// exact sample, which matters once per pixel.
fn gaussian_ish(bits: u64) -> f32 {
    let sum = (bits & 0xffff) + (bits >> 16 & 0xffff) + (bits >> 32 & 0xffff) + (bits >> 48);
    (sum as f32 - 131_070.0) * (3.0f32.sqrt() / 65_536.0)
}

/// Normal with deviation `sigma`, clamped to +-`limit`.
fn bell(rng: &mut ChaCha8Rng, sigma: f32, limit: f32) -> f32 {
    let z: f32 = rng.sample(StandardNormal);
    (z * sigma).clamp(-limit, limit)
}

fn sym(rng: &mut ChaCha8Rng, r: f32) -> f32 {
    rng.random_range(-r..=r)
}

impl Face {
    fn sample(emotion: Emotion, rng: &mut ChaCha8Rng) -> Face {
        let cue = Cues::of(emotion, rng);
        // Expression strength, from 0.15 to 1 and leaning high (about one expression in nine
        // is below half strength), plus a second expression of any class mixed in at up
        // to half strength: weak and mixed faces overlap neutral and each other.
        let e = if emotion == Emotion::Neutral {
            0.0
        } else {
            0.15 + 0.85 * rng.random::<f32>().powf(0.4)
        };
        let other = Emotion::ALL[rng.random_range(0..7)];
        let e2 = 0.5 * rng.random::<f32>();
        let other_cue = Cues::of(other, rng);
        let cue = Cues::blend(&cue, e, &other_cue, e2);

        // Pose: clamped normals, as a face detector's crops are mostly centred and upright;
        // up to 12 degrees, 15% scale and 3 pixels at the extremes.
        let angle = bell(rng, 4.0, 12.0).to_radians();
        let scale = ZOOM * (1.0 + bell(rng, 0.05, 0.15));
        let cx = 24.0 + bell(rng, 0.8, 3.0);
        let cy = 24.0 + bell(rng, 0.8, 3.0);

        // Scene and identity.
        let bg = rng.random_range(30.0f32..225.0);
        let (bg_gx, bg_gy) = (sym(rng, 1.0), sym(rng, 1.0));
        let cloth = rng.random_range(20.0f32..230.0);
        let skin = rng.random_range(85.0f32..200.0);
        let face_rx = rng.random_range(16.5f32..19.5);
        let face_ry = rng.random_range(21.5f32..24.5) + 2.5 * cue.jaw_drop;
        let down = 2.2 * cue.head_down;
        let hair = (rng.random::<f32>() < 0.88).then(|| {
            let shade = if rng.random::<f32>() < 0.75 || skin > 160.0 {
                rng.random_range(12.0f32..75.0)
            } else {
                rng.random_range(skin + 40.0..skin + 80.0).min(245.0)
            };
            Hair {
                shade,
                cy: -3.0 + sym(rng, 1.5),
                rx: face_rx + rng.random_range(1.0f32..4.0),
                ry: face_ry + rng.random_range(0.0f32..3.0),
                line: rng.random_range(-17.0f32..-12.0) + down,
                curve: rng.random_range(-0.01f32..0.05),
                long: if rng.random::<f32>() < 0.35 {
                    rng.random_range(8.0f32..24.0)
                } else {
                    0.0
                },
            }
        });

        let eye_y = -5.0 + sym(rng, 0.7) + down;
        let eye_x = 8.5 + sym(rng, 0.8);
        let eye_w = 3.8 + sym(rng, 0.4);
        let eye_up = (1.7 + sym(rng, 0.3) + cue.eye_up).max(0.35);
        let eye_low = (1.2 + sym(rng, 0.25) + cue.eye_low).max(0.25);

        let brow_y = eye_y - 4.8 + sym(rng, 0.8);
        let brow_in = (
            3.3 + sym(rng, 0.4) + cue.brow_in_dx,
            brow_y + sym(rng, 0.6) + cue.brow_in_dy,
        );
        let brow_mid = (
            8.2 + sym(rng, 0.4),
            brow_y - 0.9 + sym(rng, 0.4) + cue.brow_mid_dy,
        );
        let brow_out = (
            12.6 + sym(rng, 0.6),
            brow_y + 0.3 + sym(rng, 0.5) + cue.brow_out_dy,
        );

        let mouth_h_rest = if rng.random::<f32>() < 0.15 {
            rng.random_range(0.0f32..0.7)
        } else {
            0.0
        };
        let mouth_h = mouth_h_rest + cue.mouth_h;
        let teeth = if cue.teeth && mouth_h > 1.0 {
            (mouth_h * 0.4).min(1.6)
        } else {
            0.0
        };
        let lip = (1.0 + cue.lip) * rng.random_range(0.8f32..1.2);

        let contrast = rng.random_range(0.75f32..1.25);
        let level = rng.random_range(65.0f32..190.0);
        let grad_dir = rng.random_range(0.0f32..std::f32::consts::TAU);
        let grad = rng.random_range(0.0f32..1.0);

        let mut face = Face {
            cx,
            cy,
            cos: angle.cos(),
            sin: angle.sin(),
            scale,
            bg,
            bg_gx,
            bg_gy,
            cloth,
            skin,
            hair,
            face_cy: 1.5,
            face_rx,
            face_ry,
            jaw: rng.random_range(0.12f32..0.28),
            light_side: if grad_dir.cos() > 0.0 { -1.0 } else { 1.0 },
            eye_x,
            eye_y,
            eye_w,
            eye_up,
            eye_low,
            iris_r: 1.9 + sym(rng, 0.2),
            iris: skin * rng.random_range(0.12f32..0.4),
            gaze: sym(rng, 0.6),
            sclera: (skin * 1.1 + 25.0).min(245.0),
            brow: [brow_in, brow_mid, brow_out],
            brow_t: rng.random_range(0.85f32..1.45),
            brow_shade: skin * rng.random_range(0.25f32..0.55),
            nose_y: 5.0 + sym(rng, 0.8) + down + cue.nose_dy,
            wrinkle: cue.wrinkle,
            glabella: cue.glabella,
            forehead: cue.forehead,
            fold: 0.2 + sym(rng, 0.1) + cue.fold,
            cheek: cue.cheek,
            socket: cue.socket,
            mouth_y: 12.5 + sym(rng, 0.7) + down + 1.8 * cue.jaw_drop,
            mouth_w: 6.3 + sym(rng, 0.8) + cue.mouth_w,
            mouth_c: sym(rng, 0.6) + cue.mouth_c,
            mouth_asym: sym(rng, 0.3) + cue.mouth_asym,
            mouth_h,
            mouth_raise: cue.mouth_raise,
            mouth_p: (0.9 - 0.4 * cue.mouth_o).max(0.5),
            lip_u: 1.1 * lip,
            lip_l: 1.5 * lip,
            teeth,
            contrast,
            level,
            gx: grad * grad_dir.cos(),
            gy: grad * grad_dir.sin(),
            noise: rng.random_range(2.0f32..6.0),
            brow_box: [0.0; 4],
            mouth_box: [0.0; 3],
            zone: [0.0; 3],
        };
        face.set_boxes();
        face
    }

    /// Boxes around the features with their soft edges, so most pixels skip most tests.
    fn set_boxes(&mut self) {
        let [b_in, b_mid, b_out] = self.brow;
        let brow_top = b_in.1.min(b_mid.1).min(b_out.1) - 3.0;
        let brow_bottom = b_in.1.max(b_mid.1).max(b_out.1) + 3.0;
        self.brow_box = [b_in.0 - 3.0, b_out.0 + 3.0, brow_top, brow_bottom];
        let (c, asym) = (self.mouth_c, self.mouth_asym.abs());
        let top = self.mouth_y - c.max(0.0) - asym - self.mouth_raise;
        let bottom = self.mouth_y - c.min(0.0) + asym;
        self.mouth_box = [
            self.mouth_w + 1.5,
            top - 0.35 * self.mouth_h - self.lip_u - 1.5,
            bottom + 0.65 * self.mouth_h + self.lip_l + 1.5,
        ];
        let forehead = b_in.1.min(b_mid.1) - 8.0;
        let x_max = (self.eye_x + self.eye_w + 3.2)
            .max(self.eye_x + 6.4)
            .max(b_out.0 + 3.0)
            .max(self.mouth_w + 5.0)
            .max(9.5);
        let y_max = self.mouth_box[2].max(self.mouth_y + 4.0);
        self.zone = [x_max, forehead.min(brow_top), y_max];
    }

    fn paint(&self, rng: &mut ChaCha8Rng) -> [u8; FACE_PIXELS] {
        let half = SIDE as f32 / 2.0;
        let inv_scale = 1.0 / self.scale;
        let mut gray = [0f32; FACE_PIXELS];
        for (i, v) in gray.iter_mut().enumerate() {
            let ix = (i % SIDE) as f32 + 0.5;
            let iy = (i / SIDE) as f32 + 0.5;
            let (dx, dy) = (ix - self.cx, iy - self.cy);
            let x = (self.cos * dx + self.sin * dy) * inv_scale;
            let y = (-self.sin * dx + self.cos * dy) * inv_scale;
            let bg = self.bg + self.bg_gx * (ix - half) + self.bg_gy * (iy - half);
            *v = self.shade(x, y, bg);
        }
        // Exposure: the face's mean goes to `level`, and flat scenes (skin, hair and
        // background alike) get enough contrast that no face is a blank.
        let n = FACE_PIXELS as f32;
        let mean = gray.iter().sum::<f32>() / n;
        let sd = (gray.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
        let gain = self.contrast.max(18.0 / sd.max(1.0));
        let mut out = [0u8; FACE_PIXELS];
        for (i, (px, v)) in out.iter_mut().zip(gray).enumerate() {
            let ix = (i % SIDE) as f32 + 0.5 - half;
            let iy = (i / SIDE) as f32 + 0.5 - half;
            let noise = gaussian_ish(rng.next_u64());
            let lit =
                self.level + gain * (v - mean) + self.gx * ix + self.gy * iy + self.noise * noise;
            // Adding 0.5 and truncating rounds (values are clamped first); `round` is slow.
            *px = (lit.clamp(0.0, 255.0) + 0.5) as u8;
        }
        out
    }

    /// Gray level at face point (x, y) before lighting, given the background there.
    fn shade(&self, x: f32, y: f32, bg: f32) -> f32 {
        let s = self.scale;
        // Coverage of a shape at signed distance d: a one-pixel ramp.
        let cov = |d: f32| (0.5 - d * s).clamp(0.0, 1.0);
        let skin = self.skin;

        // Face: an egg, narrower at the jaw, darker towards its rim.
        let fy = y - self.face_cy;
        let t = (fy / self.face_ry).clamp(0.0, 1.0);
        let rx = self.face_rx * (1.0 - self.jaw * t * t);
        let face_cov = cov(ellipse(x, fy, rx, self.face_ry));
        let face = |under: f32| {
            if face_cov <= 0.0 {
                return under;
            }
            let k2 = ((x / rx).powi(2) + (fy / self.face_ry).powi(2)).min(1.0);
            mix(
                under,
                self.features(x, y, skin * (1.06 - 0.16 * k2)),
                face_cov,
            )
        };
        let fringe = self.hair.filter(|h| y < h.line + h.curve * x * x + 2.0);
        if face_cov >= 1.0 && fringe.is_none() {
            return face(0.0); // nothing behind shows
        }

        // Behind the face: background, shoulders, neck, hair.
        let mut v = bg;
        let shoulders = self.face_cy + self.face_ry + 11.0;
        if y > shoulders - 14.0 {
            v = mix(v, self.cloth, cov(ellipse(x, y - shoulders, 27.0, 13.0)));
        }
        let neck = (x.abs() - 8.5).max(self.face_cy + 8.0 - y);
        v = mix(v, skin * 0.75, cov(neck));
        let Some(h) = self.hair else {
            return face(v);
        };
        let mut d = ellipse(x, y - h.cy, h.rx, h.ry);
        if h.long > 0.0 {
            let sides = (x.abs() - h.rx).max(y - (h.cy + h.long));
            d = d.min(sides.max(h.cy - y));
        }
        v = mix(v, h.shade, cov(d));
        if fringe.is_none() {
            return face(v);
        }
        // Fringe: hair over the forehead above the hairline, in front of the face.
        let line = graph_dist(y, h.line + h.curve * x * x, 2.0 * h.curve * x);
        let hair = cov(d.max(line));
        if hair >= 1.0 {
            h.shade
        } else {
            mix(face(v), h.shade, hair)
        }
    }

    /// The inner features painted over skin shade `sk` at face point (x, y).
    fn features(&self, x: f32, y: f32, mut sk: f32) -> f32 {
        let s = self.scale;
        let cov = |d: f32| (0.5 - d * s).clamp(0.0, 1.0);
        let soft = |d: f32, w: f32| (0.5 - d * s / w).clamp(0.0, 1.0);
        let skin = self.skin;
        let side = if x < 0.0 { -1.0 } else { 1.0 };
        let ax = x.abs();
        if ax > self.zone[0] || y < self.zone[1] || y > self.zone[2] {
            return sk;
        }
        let [b_in, b_mid, b_out] = self.brow;

        // Forehead lines.
        let brow_top = b_in.1.min(b_mid.1);
        if self.forehead > 0.02 && ax < 9.5 && y < brow_top - 1.0 && y > brow_top - 8.0 {
            for k in 0..2 {
                let ly = brow_top - 2.8 - 2.2 * k as f32 + 0.02 * x * x;
                let d = seg(x, y, (-7.5, ly), (7.5, ly)) - 0.3;
                sk = mix(sk, skin * 0.78, self.forehead * 0.8 * soft(d, 1.3));
            }
        }

        // Eyes: socket shadow, cheek highlight below, opening with iris, upper lid line.
        let lx = x - side * self.eye_x;
        let ly = y - self.eye_y;
        let (w, up, low) = (self.eye_w, self.eye_up, self.eye_low);
        // Boxes hold each shape and its soft edge (at most 1.5 face units at the least zoom).
        if lx.abs() < w + 3.2 && (ly + 0.6).abs() < up + 3.8 {
            let socket = ellipse(lx, ly + 0.6, w + 1.6, up + 2.2);
            let depth = (0.6 + 0.4 * self.socket).clamp(0.1, 1.0);
            let shade = skin * (0.8 - 0.12 * self.socket.max(0.0));
            sk = mix(sk, shade, depth * soft(socket, 2.5));
        }
        if self.cheek > 0.02 && lx.abs() < 6.4 && (ly - 5.8).abs() < 4.6 {
            let d = ellipse(lx, ly - 5.8, 4.4, 2.6);
            let lit = (skin * 1.15 + 10.0).min(250.0);
            sk = mix(sk, lit, self.cheek * 0.7 * soft(d, 3.0));
        }
        if lx.abs() < w + 1.0 && ly > -up - 1.5 && ly < low + 1.5 {
            // Almond: arched upper lid, flatter lower lid.
            let t = lx / w;
            let (gu, du) = lid(t, 0.7);
            let (gl, dl) = lid(t, 0.9);
            let upper = -up * gu;
            let d = (lx.abs() - w)
                .max(-graph_dist(ly, upper, -up * du / w))
                .max(graph_dist(ly, low * gl, low * dl / w));
            let open = cov(d);
            if open > 0.0 {
                let r = len(lx - self.gaze, ly + 0.2);
                let mut eye = mix(self.sclera, self.iris, cov(r - self.iris_r));
                eye = mix(eye, self.iris * 0.4, cov(r - self.iris_r * 0.45));
                sk = mix(sk, eye, open);
            }
            let line = (lx.abs() - w - 0.4).max((ly - upper + 0.35).abs() - 0.5);
            sk = mix(sk, skin * 0.3, 0.9 * cov(line));
        }

        // Brows.
        let [x0, x1, y0, y1] = self.brow_box;
        if ax > x0 && ax < x1 && y > y0 && y < y1 {
            let d = seg(ax, y, b_in, b_mid).min(seg(ax, y, b_mid, b_out)) - self.brow_t;
            sk = mix(sk, self.brow_shade, 0.95 * cov(d));
        }

        // Furrows between the brows.
        if self.glabella > 0.02 && ax < 2.5 && y > b_in.1 - 2.0 && y < b_in.1 + 4.0 {
            let d = seg(ax, y, (0.9, b_in.1 - 0.6), (0.7, b_in.1 + 2.4)) - 0.3;
            sk = mix(sk, skin * 0.6, self.glabella * 0.9 * soft(d, 1.0));
        }

        // Nose: bridge shadow, tip highlight, shadow below, nostrils, wrinkles.
        let ny = self.nose_y;
        if ax < 4.8 && y > self.eye_y && y < ny + 3.0 {
            let ls = self.light_side;
            let bridge = seg(x, y, (ls * 2.0, self.eye_y + 1.5), (ls * 2.4, ny - 1.2)) - 0.5;
            sk = mix(sk, skin * 0.82, 0.6 * soft(bridge, 2.0));
            let tip = ellipse(x, y - (ny - 1.6), 1.6, 1.8);
            sk = mix(sk, (skin * 1.1).min(250.0), 0.5 * soft(tip, 2.0));
            let under = ellipse(x, y - (ny + 0.6), 3.3, 1.0);
            sk = mix(sk, skin * 0.78, 0.6 * soft(under, 1.5));
            let nostril = ellipse(ax - 1.8, y - ny, 1.0, 0.6);
            sk = mix(sk, skin * 0.4, cov(nostril));
            if self.wrinkle > 0.02 {
                for k in 0..3 {
                    let wy = self.eye_y + 2.0 + 1.1 * k as f32 + 0.08 * x * x;
                    let d = seg(x, y, (-1.5, wy), (1.5, wy)) - 0.22;
                    sk = mix(sk, skin * 0.65, self.wrinkle * soft(d, 1.0));
                }
                let d = seg(ax, y, (1.9, self.eye_y + 2.6), (3.3, self.eye_y + 4.8)) - 0.25;
                sk = mix(sk, skin * 0.65, self.wrinkle * soft(d, 1.0));
            }
        }

        // Mouth geometry, shared by the folds and the mouth.
        let mw = self.mouth_w;
        let my = self.mouth_y;
        let corner = self.mouth_c + self.mouth_asym * side;

        // Folds from the nose wings to beyond the mouth corners.
        if self.fold > 0.02 && ax > 2.0 && ax < mw + 5.0 && y > ny - 2.0 && y < my + 4.0 {
            let p0 = (3.4, ny - 0.3);
            let p1 = (mw * 0.6 + 3.4, (ny + my) * 0.5 + 0.4);
            let p2 = (mw + 1.5, my + 1.6 - corner);
            let d = seg(ax, y, p0, p1).min(seg(ax, y, p1, p2)) - 0.4;
            sk = mix(sk, skin * 0.72, self.fold.min(1.2) * 0.8 * soft(d, 1.5));
        }

        let [mx, my0, my1] = self.mouth_box;
        if ax < mx && y > my0 && y < my1 {
            let (h, raise, p, asym) = (
                self.mouth_h,
                self.mouth_raise,
                self.mouth_p,
                self.mouth_asym,
            );
            let c0 = self.mouth_c;
            // Lip line through the corners, and the opening's edges above and below it,
            // with their slopes (for distances across them).
            let t = (x / mw).clamp(-1.0, 1.0);
            let tt = t * t;
            let mid = my - (c0 + asym * t) * tt;
            let dmid = -(2.0 * c0 * t + 3.0 * asym * tt);
            let (g, dg) = lid(t, p);
            let top = mid - raise * (1.0 - tt) - 0.35 * h * g;
            let dtop = (dmid + 2.0 * raise * t - 0.35 * h * dg) / mw;
            let bot = mid + 0.65 * h * g;
            let dbot = (dmid + 0.65 * h * dg) / mw;
            let taper = (1.0 - tt).max(0.0).sqrt();
            // Lips.
            let lips = (ax - mw - 0.3)
                .max(top - self.lip_u * taper - y)
                .max(y - bot - self.lip_l * taper);
            sk = mix(sk, skin * 0.8, soft(lips, 1.2));
            // Opening: dark inside, teeth at the top.
            let open = (ax - mw)
                .max(-graph_dist(y, top, dtop))
                .max(graph_dist(y, bot, dbot));
            let c = cov(open);
            if c > 0.0 {
                let mut inside = skin * 0.18;
                if self.teeth > 0.0 {
                    let teeth = cov(y - (top + self.teeth));
                    inside = mix(inside, (skin * 1.1 + 20.0).min(240.0), teeth);
                }
                sk = mix(sk, inside, c);
            }
            // Where the lips meet.
            let line = (ax - mw).max((y - 0.5 * (top + bot)).abs() - 0.45);
            sk = mix(sk, skin * 0.35, 0.85 * cov(line));
        }
        sk
    }
}

fn mix(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// Lid or lip profile `(1 - t^2)^p` and its slope in t: 1 at the centre, 0 at the corners
/// (|t| = 1); a small `p` is rounder.
fn lid(t: f32, p: f32) -> (f32, f32) {
    let q = 1.0 - t * t;
    if q <= 0.0 {
        (0.0, 0.0)
    } else {
        let g = q.powf(p);
        (g, -2.0 * p * t * g / q)
    }
}

/// Approximate signed distance to an axis-aligned ellipse centred at the origin.
fn ellipse(x: f32, y: f32, a: f32, b: f32) -> f32 {
    let (ia, ib) = (1.0 / a, 1.0 / b);
    let (qx, qy) = (x * ia, y * ib);
    let k = len(qx, qy);
    let g = len(qx * ia, qy * ib);
    if g < 1e-6 {
        -a.min(b)
    } else {
        (k - 1.0) * k / g
    }
}

/// Signed distance from a point at height `y` to a graph passing at height `f` with slope
/// `slope` there, positive below it (y down). Steep slopes are capped: the graphs here
/// meet a vertical edge where they steepen.
fn graph_dist(y: f32, f: f32, slope: f32) -> f32 {
    let slope = slope.clamp(-4.0, 4.0);
    (y - f) / (1.0 + slope * slope).sqrt()
}

/// Distance from (x, y) to the segment a-b.
fn seg(x: f32, y: f32, a: (f32, f32), b: (f32, f32)) -> f32 {
    let (pax, pay) = (x - a.0, y - a.1);
    let (bax, bay) = (b.0 - a.0, b.1 - a.1);
    let h = ((pax * bax + pay * bay) / (bax * bax + bay * bay)).clamp(0.0, 1.0);
    len(pax - bax * h, pay - bay * h)
}

/// Length of (x, y); plain `sqrt`, as `hypot`'s overflow care costs time in the pixel loop.
fn len(x: f32, y: f32) -> f32 {
    (x * x + y * y).sqrt()
}
