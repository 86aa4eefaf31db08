//! The `fer` command line: data tools now; training, evaluation and prediction as they land.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    fer::train::reuse_freed_memory();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
