//! Grids of faces: samples per emotion, the faces a model got wrong, and faces beside their
//! graph neighbours.

use std::collections::HashMap;

use plotters::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::figure::{ensure_font, DrawError, Figure};
use crate::data::{Dataset, SIDE};
use crate::graph::Graph;

/// Pixels per face in the grids (48 x 2).
const CELL: u32 = 96;
const GAP: u32 = 6;

/// A white RGB canvas with faces pasted at cell positions and text drawn on top.
struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    texts: Vec<(String, i32, i32)>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Canvas {
        Canvas {
            width,
            height,
            rgb: vec![255; (width * height * 3) as usize],
            texts: Vec::new(),
        }
    }

    /// Pastes a face, scaled 2x, with its top-left corner at (x, y).
    fn face(&mut self, face: &[u8], x: u32, y: u32) {
        let scale = CELL / SIDE as u32;
        for py in 0..CELL {
            for px in 0..CELL {
                let v = face[(py / scale) as usize * SIDE + (px / scale) as usize];
                let at = (((y + py) * self.width + x + px) * 3) as usize;
                self.rgb[at..at + 3].copy_from_slice(&[v, v, v]);
            }
        }
    }

    fn text(&mut self, text: String, x: u32, y: u32) {
        self.texts.push((text, x as i32, y as i32));
    }

    fn finish(mut self) -> Result<Figure, DrawError> {
        ensure_font();
        {
            let root = BitMapBackend::with_buffer(&mut self.rgb, (self.width, self.height))
                .into_drawing_area();
            for (text, x, y) in &self.texts {
                root.draw(&Text::new(
                    text.as_str(),
                    (*x, *y),
                    ("sans-serif", 15).into_font().color(&BLACK),
                ))
                .map_err(DrawError::of)?;
            }
            root.present().map_err(DrawError::of)?;
        }
        Ok(Figure::from_rgb(self.rgb, self.width, self.height))
    }
}

/// Up to `per_class` faces of each class, one row per class, chosen at random with `seed`
/// (the study's sample faces).
///
/// ```
/// use fer::data::synth;
/// let ds = synth::synthesize(&synth::SynthConfig { n: 60, seed: 1, ..Default::default() })?;
/// let grid = fer::viz::face_grid(&ds, 4, 0).unwrap();
/// assert!(grid.png().starts_with(b"\x89PNG"));
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn face_grid(dataset: &Dataset, per_class: usize, seed: u64) -> Result<Figure, DrawError> {
    let labels = dataset
        .require_labels("a face grid")
        .map_err(DrawError::of)?;
    let classes = dataset.classes();
    let label_width = 120;
    let columns = per_class.max(1) as u32;
    let width = label_width + columns * (CELL + GAP) + GAP;
    let height = classes.len() as u32 * (CELL + GAP) + GAP;
    let mut canvas = Canvas::new(width, height);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for (c, emotion) in classes.iter().enumerate() {
        let y = GAP + c as u32 * (CELL + GAP);
        let mut rows: Vec<usize> = (0..dataset.len())
            .filter(|&i| labels[i] as usize == c)
            .collect();
        rows.shuffle(&mut rng);
        canvas.text(
            format!("{} ({})", emotion.name(), rows.len()),
            6,
            y + CELL / 2 - 8,
        );
        for (k, &row) in rows.iter().take(per_class).enumerate() {
            canvas.face(dataset.face(row), label_width + k as u32 * (CELL + GAP), y);
        }
    }
    canvas.finish()
}

/// Faces the model got wrong, captioned `true -> predicted`, `columns` per row, at most
/// `limit` of them. `wrong` holds (row, true class, predicted class), as
/// `Evaluation::misclassified` returns them.
pub fn misclassified_grid(
    dataset: &Dataset,
    wrong: &[(usize, u8, u8)],
    columns: usize,
    limit: usize,
) -> Result<Figure, DrawError> {
    let classes = dataset.classes();
    let shown = &wrong[..wrong.len().min(limit)];
    let columns = columns.max(1) as u32;
    let rows = (shown.len() as u32).div_ceil(columns).max(1);
    let caption = 36;
    let cell_w = CELL + 2 * GAP + 40;
    let width = columns * cell_w + GAP;
    let height = rows * (CELL + caption + GAP) + GAP;
    let mut canvas = Canvas::new(width, height);
    for (k, &(row, truth, predicted)) in shown.iter().enumerate() {
        let (col, line) = (k as u32 % columns, k as u32 / columns);
        let (x, y) = (GAP + col * cell_w, GAP + line * (CELL + caption + GAP));
        canvas.face(dataset.face(row), x + 20, y);
        let name = |c: u8| classes.get(c as usize).map_or("?", |e| e.name());
        canvas.text(format!("#{row} {}", name(truth)), x, y + CELL + 2);
        canvas.text(format!("-> {}", name(predicted)), x, y + CELL + 18);
    }
    canvas.finish()
}

/// Each face of `faces` (ids: 0-based data rows) beside its `neighbours` heaviest
/// neighbours in `graph`, each captioned with its id and class, the neighbours also with the
/// edge weight: what graph regularization pulls each face towards.
///
/// ```
/// use fer::data::synth;
/// use fer::graph::{Edge, Graph};
/// let ds = synth::synthesize(&synth::SynthConfig { n: 6, seed: 1, ..Default::default() })?;
/// let graph = Graph::from_edges([Edge::new(0, 3, 0.9), Edge::new(0, 5, 0.8)]);
/// let grid = fer::viz::neighbor_grid(&ds, &graph, &[0, 1], 3).unwrap();
/// assert!(grid.png().starts_with(b"\x89PNG"));
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn neighbor_grid(
    dataset: &Dataset,
    graph: &Graph,
    faces: &[u32],
    neighbours: usize,
) -> Result<Figure, DrawError> {
    let position: HashMap<u32, usize> = (0..dataset.len())
        .map(|i| (dataset.source_row(i) as u32, i))
        .collect();
    let caption = 36;
    let cell_w = CELL + 2 * GAP + 40;
    let width = (neighbours as u32 + 1) * cell_w + 2 * GAP;
    let height = (faces.len() as u32).max(1) * (CELL + caption + GAP) + GAP;
    let mut canvas = Canvas::new(width, height);
    let class_of = |i: usize| dataset.class_of(i).map_or("-", |e| e.name());
    for (line, id) in faces.iter().enumerate() {
        let y = GAP + line as u32 * (CELL + caption + GAP);
        let Some(&face) = position.get(id) else {
            canvas.text(format!("#{id}: not a face of the data"), GAP, y + CELL / 2);
            continue;
        };
        canvas.face(dataset.face(face), GAP + 20, y);
        canvas.text(format!("#{id} {}", class_of(face)), GAP, y + CELL + 2);
        canvas.text("face".into(), GAP, y + CELL + 18);
        let mut edges: Vec<_> = graph
            .out_edges(*id)
            .iter()
            .filter_map(|e| position.get(&e.target).map(|&i| (i, e.weight)))
            .collect();
        edges.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (k, (neighbour, weight)) in edges.into_iter().take(neighbours).enumerate() {
            let x = 2 * GAP + (k as u32 + 1) * cell_w;
            canvas.face(dataset.face(neighbour), x + 20, y);
            let row = dataset.source_row(neighbour);
            canvas.text(format!("#{row} {}", class_of(neighbour)), x, y + CELL + 2);
            canvas.text(format!("weight {weight:.3}"), x, y + CELL + 18);
        }
    }
    canvas.finish()
}
