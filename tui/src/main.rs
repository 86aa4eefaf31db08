//! `fer-tui`: attach to fer trainings, here or on a remote GPU box, and watch them live.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use crossterm::event::{self, Event, KeyEventKind, MouseEventKind};

use fer_tui::app::{Action, App, RunEntry};
use fer_tui::target::Target;
use fer_tui::{input, runs, state, ui};

/// Watch fer trainings: live loss, adversarial loss and per-class accuracy.
#[derive(Debug, Parser)]
#[command(name = "fer-tui", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the dashboard on a run directory, a folder of runs, or [user@]host:path.
    ///
    /// A folder opens its newest live run (newest run otherwise); Up/Down switch runs.
    /// Remote targets are streamed with the system ssh (keys, config and agent as usual):
    /// nothing to install on the box, no port opened, reconnects after a drop.
    Attach {
        #[arg(default_value = fer::run::DEFAULT_ROOT)]
        target: String,
    },
    /// List runs with status, epoch, best validation accuracy and age.
    List {
        #[arg(default_value = fer::run::DEFAULT_ROOT)]
        root: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Attach { target } => attach(&Target::parse(&target)),
        Command::List { root } => list(&Target::parse(&root)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn list(root: &Target) -> anyhow::Result<()> {
    let found = runs::find_runs(root)?;
    if found.is_empty() {
        println!("no runs in {}", root.display());
    } else {
        print!("{}", runs::table(&found, fer::run::events::unix_now()));
    }
    Ok(())
}

fn attach(target: &Target) -> anyhow::Result<()> {
    // A run that does not exist yet is waited for, like a folder with no runs in it.
    let found = match (runs::find_runs(target), target) {
        (Ok(found), _) => found,
        (Err(_), Target::Local(path)) if !path.exists() => Vec::new(),
        (Err(e), _) => return Err(e),
    };
    // A folder (not a run itself) is scanned again for runs that start later.
    let single_run = found.len() == 1 && found[0].target == *target;
    let rescan_every = match target {
        Target::Local(_) => Duration::from_secs(3),
        Target::Remote { .. } => Duration::from_secs(30),
    };
    let rescan = (!single_run).then(|| runs::Rescan::start(target.clone(), rescan_every));
    let (entries, selected) = if found.is_empty() {
        // Not started yet (or nothing to list remotely): watch the target itself.
        let name = target.display();
        (
            vec![RunEntry {
                name,
                target: target.clone(),
                status: state::Status::Waiting,
            }],
            0,
        )
    } else {
        let selected = runs::pick(&found);
        let entries = found
            .into_iter()
            .map(|f| RunEntry {
                name: f.view.name.clone(),
                target: f.target,
                status: f.view.status,
            })
            .collect();
        (entries, selected)
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = App::new(entries, selected, color);
    // Checked before anything changes on screen: without a terminal (a pipe, cron, nohup)
    // there is nothing to draw on.
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!("fer-tui attach draws on a terminal, and stdout is not one (use `fer-tui list` in scripts)");
    }
    let mut terminal = ratatui::try_init()
        .map_err(|e| anyhow::anyhow!("cannot open the terminal for the dashboard: {e}"))?;
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let result = run_loop(&mut terminal, &mut app, rescan.as_ref());
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    result
}

/// Polls the files four times a second and redraws on news or input; sleeps otherwise.
fn run_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rescan: Option<&runs::Rescan>,
) -> anyhow::Result<()> {
    const TICK: Duration = Duration::from_millis(250);
    let mut next_poll = Instant::now();
    let mut dirty = true;
    while !app.quit {
        if Instant::now() >= next_poll {
            let before = (app.view.events, app.view.status, app.problem.clone());
            if let Some(found) = rescan.and_then(runs::Rescan::latest) {
                app.merge_runs(found);
                dirty = true;
            }
            app.poll();
            // Live runs redraw every tick so the clock and ETA move.
            dirty |= app.view.status.is_live()
                || before != (app.view.events, app.view.status, app.problem.clone());
            next_poll = Instant::now() + TICK;
        }
        if dirty {
            terminal.draw(|frame| ui::draw(frame, app))?;
            dirty = false;
        }
        let wait = next_poll.saturating_duration_since(Instant::now());
        if event::poll(wait)? {
            let action = match event::read()? {
                Event::Key(key) if key.kind == KeyEventKind::Press => input::action_for(key),
                Event::Mouse(mouse) => match mouse.kind {
                    MouseEventKind::ScrollUp => Some(Action::ScrollBack),
                    MouseEventKind::ScrollDown => Some(Action::ScrollForward),
                    _ => None,
                },
                Event::Resize(..) => {
                    dirty = true;
                    None
                }
                _ => None,
            };
            if let Some(action) = action {
                app.handle(action);
                dirty = true;
            }
        }
    }
    Ok(())
}
