//! `fer report`: runs beside the study's numbers, as report.md and report.html.

use std::path::PathBuf;

use clap::Args;
use fer::data::{DataSpec, Split};
use fer::report::{write_report, ReportOptions};

use super::ComputeArgs;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run directories (runs/NAME); give a plain and an NSL run to compare their robustness.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Folder for report.md, report.html and the pictures.
    #[arg(long)]
    out: PathBuf,
    /// Data to evaluate on [default: the data each run recorded].
    #[arg(long)]
    data: Option<DataSpec>,
    /// Parts of each run's data to evaluate the final model on (train, validation, test).
    #[arg(long, value_delimiter = ',', default_value = "train,validation,test")]
    splits: Vec<Split>,
    /// FGSM and PGD attack sizes (infinity norm, images in [0, 1]); "none" for no attacks.
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.02,0.05", value_parser = parse_epsilon)]
    eps: Vec<Option<f64>>,
    /// Attack the first this many faces of the test part.
    #[arg(long, default_value_t = 500)]
    attack_faces: usize,
    /// PGD steps.
    #[arg(long, default_value_t = 10)]
    pgd_iterations: usize,
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Skip bad rows of the data instead of stopping.
    #[arg(long)]
    lenient: bool,
    #[command(flatten)]
    compute: ComputeArgs,
}

fn parse_epsilon(text: &str) -> Result<Option<f64>, String> {
    if text == "none" {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(eps) if eps > 0.0 && eps.is_finite() => Ok(Some(eps)),
        _ => Err(format!("'{text}' is not a positive attack size (or none)")),
    }
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let device = args.compute.device()?;
    let options = ReportOptions {
        data: args.data,
        lenient: args.lenient,
        splits: args.splits,
        epsilons: args.eps.into_iter().flatten().collect(),
        attack_faces: args.attack_faces,
        pgd_iterations: args.pgd_iterations,
        batch_size: args.batch_size,
    };
    let markdown = write_report(&args.runs, &args.out, &options, &device).map_err(|e| match e {
        fer::report::ReportError::NoData { run } => {
            anyhow::anyhow!("run '{run}' does not record the data it trained on: pass --data")
        }
        other => other.into(),
    })?;
    println!(
        "wrote {} and {}",
        markdown.display(),
        markdown.with_extension("html").display()
    );
    Ok(())
}
