//! Charts: class counts, training curves, confusion matrix.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{DrawError, Drawing, Figure};
use crate::data::{ClassCounts, Emotion};
use crate::metrics::ConfusionMatrix;
use crate::run::tensorboard::Image;
use crate::run::EpochRecord;

const BAR: RGBColor = RGBColor(70, 110, 180);
const TRAIN: RGBColor = RGBColor(40, 100, 200);
const VALIDATION: RGBColor = RGBColor(220, 80, 40);

struct CountsChart<'a>(&'a ClassCounts);

impl Drawing for CountsChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let counts = self.0;
        root.fill(&WHITE).map_err(DrawError::of)?;
        let k = counts.classes.len();
        let max = counts.total.iter().copied().max().unwrap_or(1).max(1) as f64;
        let names: Vec<&str> = counts.classes.iter().map(|c| c.name()).collect();
        let label = |x: &f64| {
            names
                .get(x.floor() as usize)
                .map_or(String::new(), |n| n.to_string())
        };
        let mut chart = ChartBuilder::on(root)
            .caption("faces per class", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..k as f64, 0f64..max * 1.12)
            .map_err(DrawError::of)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(k * 2 + 1)
            .x_label_formatter(&|x| {
                if x.fract() == 0.5 {
                    label(x)
                } else {
                    String::new()
                }
            })
            .y_desc("faces")
            .draw()
            .map_err(DrawError::of)?;
        chart
            .draw_series(counts.total.iter().enumerate().map(|(i, &n)| {
                Rectangle::new(
                    [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, n as f64)],
                    BAR.filled(),
                )
            }))
            .map_err(DrawError::of)?;
        chart
            .draw_series(counts.total.iter().enumerate().map(|(i, &n)| {
                Text::new(
                    n.to_string(),
                    (i as f64 + 0.3, n as f64 + max * 0.06),
                    ("sans-serif", 14),
                )
            }))
            .map_err(DrawError::of)?;
        Ok(())
    }
}

/// Bar chart of faces per class.
///
/// ```
/// use fer::data::{synth, ClassCounts};
/// let ds = synth::synthesize(&synth::SynthConfig { n: 100, seed: 1, ..Default::default() })?;
/// let figure = fer::viz::class_counts(&ClassCounts::of(&ds)?).unwrap();
/// assert!(figure.png().starts_with(b"\x89PNG"));
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn class_counts(counts: &ClassCounts) -> Result<Figure, DrawError> {
    Figure::render(&CountsChart(counts), (760, 420))
}

struct Curves<'a>(&'a [EpochRecord]);

impl Drawing for Curves<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        root.fill(&WHITE).map_err(DrawError::of)?;
        let history = self.0;
        type Pick = fn(&crate::run::events::Metrics) -> f64;
        let mut panels: Vec<(&str, Pick)> = vec![
            ("loss", |m| m.loss),
            ("categorical cross-entropy", |m| m.categorical_crossentropy),
            ("scaled adversarial loss", |m| m.scaled_adversarial_loss),
            ("accuracy", |m| m.categorical_accuracy),
        ];
        // A graph-regularized run gets a fifth panel (validation is 0: NSL evaluates without
        // neighbours).
        let grid = if history.iter().any(|r| r.train.scaled_graph_loss != 0.0) {
            panels.insert(3, ("scaled graph loss", |m| m.scaled_graph_loss));
            (2, 3)
        } else {
            (2, 2)
        };
        for (area, (title, pick)) in root.split_evenly(grid).iter().zip(panels) {
            let train: Vec<(f64, f64)> = history
                .iter()
                .map(|r| (r.epoch as f64, pick(&r.train)))
                .collect();
            let val: Vec<(f64, f64)> = history
                .iter()
                .filter_map(|r| r.validation.as_ref().map(|v| (r.epoch as f64, pick(v))))
                .collect();
            let ys = train.iter().chain(&val).map(|p| p.1);
            let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
            let (lo, hi) = if lo > hi {
                (0.0, 1.0)
            } else {
                (lo.min(0.0), hi.max(lo + 1e-6) * 1.05)
            };
            let last = history.last().map_or(1.0, |r| r.epoch as f64).max(2.0);
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(50)
                .build_cartesian_2d(1f64..last, lo..hi)
                .map_err(DrawError::of)?;
            chart
                .configure_mesh()
                .x_labels((last as usize).min(12))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .x_desc("epoch")
                .draw()
                .map_err(DrawError::of)?;
            for (points, color, name) in
                [(&train, TRAIN, "train"), (&val, VALIDATION, "validation")]
            {
                if points.is_empty() {
                    continue;
                }
                chart
                    .draw_series(LineSeries::new(
                        points.iter().copied(),
                        color.stroke_width(2),
                    ))
                    .map_err(DrawError::of)?
                    .label(name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(DrawError::of)?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(DrawError::of)?;
        }
        Ok(())
    }
}

/// Loss, cross-entropy, scaled adversarial loss and accuracy by epoch, train and validation
/// (the study's Fig. 5.4 curves), and the scaled graph loss when the run has one.
pub fn training_curves(history: &[EpochRecord]) -> Result<Figure, DrawError> {
    Figure::render(&Curves(history), (1000, 720))
}

struct Heatmap<'a>(&'a ConfusionMatrix);

impl Drawing for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let cm = self.0;
        root.fill(&WHITE).map_err(DrawError::of)?;
        let k = cm.classes.len();
        let names: Vec<&str> = cm.classes.iter().map(|c| c.name()).collect();
        let name = |v: &f64| {
            names
                .get(v.floor() as usize)
                .map_or(String::new(), |n| n.to_string())
        };
        let mut chart = ChartBuilder::on(root)
            .caption("confusion matrix (rows: true class)", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..k as f64, k as f64..0f64)
            .map_err(DrawError::of)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(k * 2 + 1)
            .y_labels(k * 2 + 1)
            .x_label_formatter(&|x| {
                if x.fract() == 0.5 {
                    name(x)
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| {
                if y.fract() == 0.5 {
                    name(y)
                } else {
                    String::new()
                }
            })
            .x_desc("predicted")
            .draw()
            .map_err(DrawError::of)?;
        let shares = cm.row_normalized();
        for (t, row) in cm.counts.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let share = shares[t][p];
                let shade = (255.0 * (1.0 - share * 0.85)) as u8;
                let fill = RGBColor(shade, shade, 255);
                let (x, y) = (p as f64, t as f64);
                chart
                    .draw_series([Rectangle::new([(x, y), (x + 1.0, y + 1.0)], fill.filled())])
                    .map_err(DrawError::of)?;
                let color = if share > 0.55 { WHITE } else { BLACK };
                let style = ("sans-serif", 14).into_font().color(&color);
                chart
                    .draw_series([
                        Text::new(count.to_string(), (x + 0.1, y + 0.3), style.clone()),
                        Text::new(format!("{:.0}%", 100.0 * share), (x + 0.1, y + 0.62), style),
                    ])
                    .map_err(DrawError::of)?;
            }
        }
        Ok(())
    }
}

/// [`confusion_heatmap`] as TensorBoard's image summaries take it, from an `epoch_end`
/// event's counts and the run's class names; `None` when they do not make a matrix.
pub fn confusion_image(counts: &[Vec<u64>], classes: &[String]) -> Option<Image> {
    let classes: Vec<Emotion> = classes
        .iter()
        .map(|c| c.parse().ok())
        .collect::<Option<_>>()?;
    if counts.len() != classes.len() || counts.iter().any(|row| row.len() != classes.len()) {
        return None;
    }
    let figure = confusion_heatmap(&ConfusionMatrix {
        classes,
        counts: counts.to_vec(),
    })
    .ok()?;
    Some(Image {
        png: figure.png().to_vec(),
        width: figure.width,
        height: figure.height,
    })
}

/// The confusion matrix as a heatmap: counts and row-normalized shares in every cell.
pub fn confusion_heatmap(cm: &ConfusionMatrix) -> Result<Figure, DrawError> {
    let side = 140 + 90 * cm.classes.len() as u32;
    Figure::render(&Heatmap(cm), (side + 60, side))
}
