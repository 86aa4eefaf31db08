//! Argument definitions and dispatch of the `fer` command.

mod bench;
mod data;

use clap::{Parser, Subcommand};

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
    /// Measure how fast fer works on this machine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Data(command) => data::run(command),
        Command::Bench(command) => bench::run(command),
    }
}
