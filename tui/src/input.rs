//! Keys and what they mean.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::Action;

/// Every key binding, for the help screen: (keys, what they do).
pub const BINDINGS: [(&str, &str); 18] = [
    ("q, Esc, Ctrl-C", "quit"),
    ("?", "show or hide this help"),
    ("c", "show or hide the run's settings (run.json)"),
    ("s", "smooth the step curves: off, 0.6, 0.9, 0.99"),
    ("l", "loss charts on a log scale on / off"),
    ("o", "pin this run to compare (up to 4) / unpin"),
    ("x", "charts' x axis in steps / epochs"),
    ("t", "middle chart: adversarial loss / lr / img/s"),
    (", / .", "cursor back / forward: titles show its step"),
    ("Tab / Shift-Tab", "next / previous panel: keys act on it"),
    ("Up / Down, n / p", "next / previous run in the folder"),
    ("Left / Right", "charts: scroll back / forward"),
    ("+ / -", "charts: zoom in / out"),
    (
        "<- -> + - (lower)",
        "per-class: val / train; confusion: counts / %",
    ),
    ("f", "follow the newest steps on / off (off freezes)"),
    ("End, G", "jump to the newest steps and follow"),
    ("mouse wheel", "scroll the step charts"),
    ("resize", "layout adapts; small terminals get a summary"),
];

/// The action of a key press, if any.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Action::ToggleHelp,
        KeyCode::Char('c') if !ctrl => Action::ToggleSettings,
        KeyCode::Char('s') => Action::CycleSmoothing,
        KeyCode::Char('l') => Action::ToggleLogScale,
        KeyCode::Char('o') => Action::ToggleOverlay,
        KeyCode::Char('x') => Action::ToggleEpochAxis,
        KeyCode::Char('t') => Action::CycleMiddleChart,
        KeyCode::Char(',') => Action::CursorBack,
        KeyCode::Char('.') => Action::CursorForward,
        KeyCode::Tab => Action::NextPanel,
        KeyCode::BackTab => Action::PreviousPanel,
        KeyCode::Down | KeyCode::Char('n') => Action::NextRun,
        KeyCode::Up | KeyCode::Char('p') => Action::PreviousRun,
        KeyCode::Left => Action::ScrollBack,
        KeyCode::Right => Action::ScrollForward,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::ZoomIn,
        KeyCode::Char('-') => Action::ZoomOut,
        KeyCode::Char('f') => Action::ToggleFollow,
        KeyCode::End | KeyCode::Char('G') => Action::JumpToLatest,
        _ => return None,
    })
}
