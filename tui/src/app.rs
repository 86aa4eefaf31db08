//! Dashboard state and what each action does to it. Rendering is in `ui`, keys in `input`.

use crate::runs::Found;
use crate::source::{RunSource, Update};
use crate::state::{RunView, Status};
use crate::target::Target;

/// The panels focus moves between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Loss,
    Adversarial,
    Accuracy,
    PerClass,
    Confusion,
}

impl Panel {
    const ORDER: [Panel; 5] = [
        Panel::Loss,
        Panel::Adversarial,
        Panel::Accuracy,
        Panel::PerClass,
        Panel::Confusion,
    ];

    fn shifted(self, by: isize) -> Panel {
        let i = Self::ORDER.iter().position(|&p| p == self).unwrap_or(0) as isize;
        Self::ORDER[(i + by).rem_euclid(Self::ORDER.len() as isize) as usize]
    }
}

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ToggleHelp,
    NextPanel,
    PreviousPanel,
    NextRun,
    PreviousRun,
    ZoomIn,
    ZoomOut,
    ScrollBack,
    ScrollForward,
    ToggleFollow,
    JumpToLatest,
    ToggleSettings,
    CycleSmoothing,
    ToggleLogScale,
    ToggleOverlay,
    ToggleEpochAxis,
    CycleMiddleChart,
    CursorBack,
    CursorForward,
}

/// What the middle chart shows; `t` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MiddleChart {
    #[default]
    AdversarialLoss,
    LearningRate,
    Throughput,
}

/// A run pinned for comparison: its curves stay on the charts while other runs are
/// selected (TensorBoard's overlay of runs), and keep updating if it is live.
pub struct Overlay {
    pub view: RunView,
    source: RunSource,
}

/// Runs that can be pinned at once; pinning one more unpins the oldest.
pub const MAX_PINNED: usize = 4;

/// The smoothing weights `s` cycles through (TensorBoard's slider, in steps).
pub const SMOOTHING: [f64; 4] = [0.0, 0.6, 0.9, 0.99];

/// A run the dashboard can switch to.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    pub name: String,
    pub target: Target,
    pub status: Status,
}

pub struct App {
    pub runs: Vec<RunEntry>,
    pub selected: usize,
    pub view: RunView,
    source: Option<RunSource>,
    pub focus: Panel,
    /// Keep the newest steps in view.
    pub follow: bool,
    /// The run's last step when following stopped: the charts keep that run length, so
    /// new steps do not move a view that is not following.
    frozen_last: Option<f64>,
    /// The step charts show 1/2^zoom of the run.
    pub zoom: u32,
    /// While not following: how far the window's right edge is behind the newest step, as a
    /// fraction of the run.
    pub back: f64,
    /// Per-class panel: running train accuracy instead of the latest validation.
    pub show_train_per_class: bool,
    /// Confusion panel: each row as shares of its true class instead of counts.
    pub confusion_shares: bool,
    /// Exponential smoothing of the step curves, TensorBoard's weight (0: raw).
    pub smoothing: f64,
    /// Loss charts on a log scale.
    pub log_scale: bool,
    /// The runs pinned for comparison, oldest first (at most [`MAX_PINNED`]).
    pub pinned: Vec<Overlay>,
    /// The charts' x axis counted in epochs rather than steps.
    pub epoch_axis: bool,
    pub middle_chart: MiddleChart,
    /// A global step whose values the chart titles show, marked on the charts.
    pub cursor: Option<f64>,
    pub help: bool,
    /// The run's settings are shown over the dashboard.
    pub settings: bool,
    pub problem: Option<String>,
    /// (garbage, unknown) lines skipped in the log.
    pub skipped: (usize, usize),
    pub color: bool,
    pub quit: bool,
}

impl App {
    /// A dashboard over `runs`, showing `selected`; `color` false honours NO_COLOR.
    pub fn new(runs: Vec<RunEntry>, selected: usize, color: bool) -> App {
        let mut app = App::with_runs(runs, selected, color);
        app.open_selected();
        app
    }

    /// A dashboard without sources, fed by [`App::apply`] (tests, replays).
    pub fn detached(name: &str, color: bool) -> App {
        let entry = RunEntry {
            name: name.to_string(),
            target: Target::Local(name.into()),
            status: Status::Waiting,
        };
        App::with_runs(vec![entry], 0, color)
    }

    fn with_runs(runs: Vec<RunEntry>, selected: usize, color: bool) -> App {
        let name = runs.get(selected).map_or(String::new(), |r| r.name.clone());
        App {
            runs,
            selected,
            view: RunView::new(&name),
            source: None,
            focus: Panel::Loss,
            follow: true,
            frozen_last: None,
            zoom: 0,
            back: 0.0,
            show_train_per_class: false,
            confusion_shares: false,
            smoothing: 0.0,
            log_scale: false,
            pinned: Vec::new(),
            epoch_axis: false,
            middle_chart: MiddleChart::default(),
            cursor: None,
            help: false,
            settings: false,
            problem: None,
            skipped: (0, 0),
            color,
            quit: false,
        }
    }

    fn open_selected(&mut self) {
        self.set_follow(true);
        if let Some(entry) = self.runs.get(self.selected) {
            self.view = RunView::new(&entry.name);
            self.source = Some(RunSource::new(entry.target.clone()));
            self.problem = None;
            self.skipped = (0, 0);
        }
    }

    /// Reads what is new from the current run's files.
    pub fn poll(&mut self) {
        for overlay in &mut self.pinned {
            let update = overlay.source.poll();
            for record in &update.records {
                overlay.view.apply(record);
            }
            if let Some(info) = &update.info {
                overlay.view.apply_info(info, update.process_alive);
            }
        }
        if let Some(source) = &mut self.source {
            let update = source.poll();
            let skipped = source.skipped_lines();
            self.apply(update);
            self.skipped = skipped;
        }
    }

    /// Takes in an update from a source.
    pub fn apply(&mut self, update: Update) {
        for record in &update.records {
            self.view.apply(record);
        }
        if let Some(info) = &update.info {
            self.view.apply_info(info, update.process_alive);
        }
        if update.problem.is_some() || !update.records.is_empty() {
            self.problem = update.problem;
        }
        if let Some(entry) = self.runs.get_mut(self.selected) {
            entry.status = self.view.status;
        }
    }

    pub fn handle(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::ToggleHelp => self.help = !self.help,
            Action::ToggleSettings => self.settings = !self.settings,
            Action::CycleSmoothing => {
                let at = SMOOTHING.iter().position(|&w| w == self.smoothing);
                self.smoothing = SMOOTHING[at.map_or(0, |i| (i + 1) % SMOOTHING.len())];
            }
            Action::ToggleLogScale => self.log_scale = !self.log_scale,
            Action::ToggleEpochAxis => self.epoch_axis = !self.epoch_axis,
            Action::CursorBack | Action::CursorForward => {
                let (from, to) = self.step_window();
                let stride = ((to - from) / 40.0).max(1.0);
                let at = self.cursor.unwrap_or(to);
                let moved = if action == Action::CursorBack {
                    (at - stride).max(from)
                } else {
                    at + stride
                };
                // Past the newest step the cursor goes away: the titles show the latest again.
                self.cursor = (moved < self.last_step()).then_some(moved.round());
            }
            Action::CycleMiddleChart => {
                self.middle_chart = match self.middle_chart {
                    MiddleChart::AdversarialLoss => MiddleChart::LearningRate,
                    MiddleChart::LearningRate => MiddleChart::Throughput,
                    MiddleChart::Throughput => MiddleChart::AdversarialLoss,
                }
            }
            Action::ToggleOverlay => {
                if let Some(entry) = self.runs.get(self.selected) {
                    let before = self.pinned.len();
                    self.pinned.retain(|o| o.view.name != entry.name);
                    if self.pinned.len() == before {
                        if self.pinned.len() == MAX_PINNED {
                            self.pinned.remove(0);
                        }
                        self.pinned.push(Overlay {
                            view: RunView::new(&entry.name),
                            source: RunSource::new(entry.target.clone()),
                        });
                    }
                }
            }
            Action::NextPanel => self.focus = self.focus.shifted(1),
            Action::PreviousPanel => self.focus = self.focus.shifted(-1),
            Action::NextRun | Action::PreviousRun if self.runs.len() > 1 => {
                let n = self.runs.len();
                self.selected = match action {
                    Action::NextRun => (self.selected + 1) % n,
                    _ => (self.selected + n - 1) % n,
                };
                self.open_selected();
            }
            Action::NextRun | Action::PreviousRun => {}
            // The lower panels take the arrows and +/- for their own views.
            Action::ScrollBack | Action::ScrollForward | Action::ZoomIn | Action::ZoomOut
                if self.focus == Panel::PerClass =>
            {
                self.show_train_per_class = !self.show_train_per_class;
            }
            Action::ScrollBack | Action::ScrollForward | Action::ZoomIn | Action::ZoomOut
                if self.focus == Panel::Confusion =>
            {
                self.confusion_shares = !self.confusion_shares;
            }
            Action::ZoomIn => self.zoom = (self.zoom + 1).min(12),
            Action::ZoomOut => self.zoom = self.zoom.saturating_sub(1),
            Action::ScrollBack => {
                self.set_follow(false);
                self.back =
                    (self.back + self.span_fraction() / 4.0).min(1.0 - self.span_fraction());
            }
            Action::ScrollForward => {
                self.back = (self.back - self.span_fraction() / 4.0).max(0.0);
                if self.back == 0.0 {
                    self.set_follow(true);
                }
            }
            Action::ToggleFollow => self.set_follow(!self.follow),
            Action::JumpToLatest => self.set_follow(true),
        }
    }

    /// Following shows the newest steps; not following freezes the charts where they are.
    fn set_follow(&mut self, follow: bool) {
        if follow {
            self.back = 0.0;
            self.frozen_last = None;
        } else if self.follow {
            self.frozen_last = Some(self.last_step());
        }
        self.follow = follow;
    }

    /// The newest global step of the run (at least 1).
    fn last_step(&self) -> f64 {
        self.view.loss.last().map_or(1.0, |p| p.0).max(1.0)
    }

    /// Takes in a fresh scan of the attached folder: new runs join the list, the others'
    /// statuses update, and a dashboard still waiting on the empty folder itself moves to
    /// the newest live run once one appears.
    pub fn merge_runs(&mut self, found: Vec<Found>) {
        let waiting_on_folder = self.view.events == 0
            && self
                .runs
                .get(self.selected)
                .is_some_and(|entry| !found.iter().any(|f| f.target == entry.target));
        for run in &found {
            match self
                .runs
                .iter()
                .position(|entry| entry.target == run.target)
            {
                // The selected run's status comes from its own live view.
                Some(i) if i == self.selected => {}
                Some(i) => self.runs[i].status = run.view.status,
                None => self.runs.push(RunEntry {
                    name: run.view.name.clone(),
                    target: run.target.clone(),
                    status: run.view.status,
                }),
            }
        }
        if waiting_on_folder && !found.is_empty() {
            let placeholder = self.selected;
            self.runs.remove(placeholder);
            let newest = crate::runs::pick(&found);
            self.selected = self
                .runs
                .iter()
                .position(|entry| entry.target == found[newest].target)
                .unwrap_or(0);
            self.open_selected();
        }
    }

    /// The share of the run the step charts show.
    pub fn span_fraction(&self) -> f64 {
        1.0 / f64::from(1u32 << self.zoom)
    }

    /// The global-step window `[from, to]` the step charts show.
    pub fn step_window(&self) -> (f64, f64) {
        let last = match self.frozen_last {
            Some(last) if !self.follow => last,
            _ => self.last_step(),
        };
        let span = (last * self.span_fraction()).max(1.0);
        let back = if self.follow { 0.0 } else { self.back * last };
        let to = (last - back).max(span);
        (to - span, to)
    }
}
