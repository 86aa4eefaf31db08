//! The `fer` command line: data tools, training, evaluation, prediction, reports, benchmarks.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of stdout goes away
    // (`fer data stats FILE | head -1`) instead of panicking on the broken pipe.
    #[cfg(unix)]
    // SAFETY: restores SIGPIPE's default disposition before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
