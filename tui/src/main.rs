//! `fer-tui`: the live dashboard for fer trainings (issue 4 fills it in).

fn main() {
    eprintln!(
        "fer-tui {}: the dashboard is not built yet",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
