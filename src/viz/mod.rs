//! Pictures of the study's steps as PNG and SVG: class counts, sample faces, training
//! curves, confusion matrix, misclassified faces; and the tables as HTML. Every figure and
//! table shows itself inline in an evcxr notebook.

mod faces;
mod figure;
mod plots;
mod tables;

pub use faces::{face_grid, misclassified_grid, neighbor_grid};
pub use figure::{DrawError, Figure};
pub use plots::{class_counts, confusion_heatmap, confusion_image, training_curves};

impl crate::metrics::ConfusionMatrix {
    /// Shows the heatmap inline in evcxr.
    pub fn evcxr_display(&self) {
        match confusion_heatmap(self) {
            Ok(figure) => figure.evcxr_display(),
            Err(problem) => println!("{self}\n(heatmap unavailable: {problem})"),
        }
    }
}
