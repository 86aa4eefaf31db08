//! `fer plot`: redraw a run's pictures from its event log.

use std::path::Path;

use anyhow::Context;
use fer::data::Emotion;
use fer::metrics::ConfusionMatrix;
use fer::run::{RunInfo, RunLog};

/// Writes `curves.{png,svg}` and `confusion.{png,svg}` into the run directory `dir`.
pub fn draw_run(dir: &Path) -> anyhow::Result<Vec<String>> {
    let info =
        RunInfo::read(dir).with_context(|| format!("{}: not a run directory", dir.display()))?;
    let classes = info
        .classes
        .iter()
        .map(|c| c.parse::<Emotion>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let RunLog {
        history, confusion, ..
    } = RunLog::read(dir).with_context(|| format!("{}: reading the event log", dir.display()))?;
    if history.is_empty() {
        anyhow::bail!("{}: no epoch has finished yet", dir.display());
    }
    let mut written = Vec::new();
    let curves = fer::viz::training_curves(&history)?;
    for (figure, stem) in [
        (Some(curves), "curves"),
        (confusion_figure(classes, confusion)?, "confusion"),
    ] {
        let Some(figure) = figure else { continue };
        figure.save_png(dir.join(format!("{stem}.png")))?;
        figure.save_svg(dir.join(format!("{stem}.svg")))?;
        written.push(format!("{stem}.png"));
        written.push(format!("{stem}.svg"));
    }
    Ok(written)
}

fn confusion_figure(
    classes: Vec<Emotion>,
    counts: Option<Vec<Vec<u64>>>,
) -> anyhow::Result<Option<fer::viz::Figure>> {
    let Some(counts) = counts else {
        return Ok(None);
    };
    let cm = ConfusionMatrix { classes, counts };
    Ok(Some(fer::viz::confusion_heatmap(&cm)?))
}

pub fn run(dir: &Path) -> anyhow::Result<()> {
    let written = draw_run(dir)?;
    println!("wrote {} in {}", written.join(", "), dir.display());
    Ok(())
}
