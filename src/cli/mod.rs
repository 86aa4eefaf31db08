//! Argument definitions and dispatch of the `fer` command.

mod bench;
mod data;
mod eval;
mod export;
mod graph;
mod plot;
mod report;
mod source;
mod train;

use clap::{Args, Parser, Subcommand};
use fer::train::{Compute, ComputeError};

/// Facial-expression recognition on FER2013 with adversarial regularization.
#[derive(Debug, Parser)]
#[command(name = "fer", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect, generate and convert data sets.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Print a network's Keras-style summary: layers, output shapes, parameters.
    Summary {
        /// report-4.2, report-5.1, report-5.2, small or tiny.
        #[arg(long, default_value = "report-4.2")]
        preset: String,
        /// Number of outputs.
        #[arg(long, default_value_t = 7)]
        classes: usize,
    },
    /// Train a network, optionally with adversarial regularization.
    Train(Box<train::TrainArgs>),
    /// Build and measure similarity graphs over faces, for graph regularization.
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// Evaluate a checkpoint: NSL metrics, classification report, confusion matrix, attacks.
    Eval(eval::EvalArgs),
    /// Classify image files with a checkpoint.
    Predict(eval::PredictArgs),
    /// Write a network as ONNX or safetensors, or a run as TensorBoard event files.
    Export(export::ExportArgs),
    /// Draw a run's training curves and latest confusion matrix (PNG and SVG) into its folder.
    Plot {
        /// A run directory (runs/NAME).
        run: std::path::PathBuf,
    },
    /// Write runs up beside the study's results: report.md and report.html with pictures.
    Report(report::ReportArgs),
    /// Measure how fast fer works on this machine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Where models run: `--backend flex|tch --device cpu|cuda:N`.
#[derive(Debug, Args)]
pub struct ComputeArgs {
    /// flex (pure Rust) or tch (LibTorch, with the tch feature).
    #[arg(long, default_value = "flex")]
    backend: String,
    /// cpu, or cuda:N with the tch backend.
    #[arg(long, default_value = "cpu")]
    device: String,
}

impl ComputeArgs {
    pub fn compute(&self) -> anyhow::Result<Compute> {
        Compute::new(&self.backend, &self.device).map_err(|error| match error {
            ComputeError::FlexIsCpuOnly(_) => anyhow::anyhow!("{error}: pass --backend tch"),
            other => other.into(),
        })
    }

    pub fn device(&self) -> anyhow::Result<burn::prelude::Device> {
        Ok(self.compute()?.device()?)
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Data(command) => data::run(command),
        Command::Summary { preset, classes } => {
            let config = fer::model::CnnConfig::preset(&preset).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown preset '{preset}' (expected one of {})",
                    fer::model::PRESETS.join(", ")
                )
            })?;
            print!("{}", config.with_classes(classes).summary());
            Ok(())
        }
        Command::Train(args) => train::run(*args),
        Command::Graph(command) => graph::run(command),
        Command::Eval(args) => eval::run_eval(args),
        Command::Predict(args) => eval::run_predict(args),
        Command::Export(args) => export::run(args),
        Command::Plot { run } => plot::run(&run),
        Command::Report(args) => report::run(args),
        Command::Bench(command) => bench::run(command),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The test code that runs `fer`: the end-to-end tests, and the unit tests of the
    /// command's modules (their code after `#[cfg(test)]`, so flag definitions and help
    /// texts do not count).
    fn test_sources() -> String {
        let end_to_end = [
            include_str!("../../tests/cli.rs"),
            include_str!("../../tests/study.rs"),
            include_str!("../../tests/hostile.rs"),
            include_str!("../../tests/export.rs"),
            include_str!("../../tests/tensorboard.rs"),
        ];
        let units = [include_str!("train.rs"), include_str!("mod.rs")];
        let unit_tests = units
            .iter()
            .filter_map(|source| source.split_once("#[cfg(test)]").map(|(_, tests)| tests));
        end_to_end.into_iter().chain(unit_tests).collect()
    }

    /// Every flag of every subcommand, as `fer sub sub --flag`.
    fn flags(command: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        for arg in command.get_arguments() {
            if let Some(long) = arg.get_long() {
                if !matches!(long, "help" | "version") {
                    out.push((path.to_string(), format!("--{long}")));
                }
            }
        }
        for sub in command.get_subcommands() {
            flags(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_flag_is_exercised_by_a_test() {
        let sources = test_sources();
        let mut all = Vec::new();
        flags(&Cli::command(), "fer", &mut all);
        assert!(all.len() > 60, "{} flags", all.len());
        let missing: Vec<String> = all
            .iter()
            .filter(|(_, flag)| {
                !sources.contains(&format!("\"{flag}\""))
                    && !sources.contains(&format!("\"{flag}="))
            })
            .map(|(path, flag)| format!("{path} {flag}"))
            .collect();
        assert!(
            missing.is_empty(),
            "flags no test runs:\n{}",
            missing.join("\n")
        );
    }
}
