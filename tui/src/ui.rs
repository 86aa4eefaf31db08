//! Drawing the dashboard from the app state. Nothing here changes state.

use fer::run::events::unix_now;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Clear, Dataset, GraphType, LegendPosition, Paragraph, Wrap,
};
use ratatui::Frame;

use crate::app::{App, MiddleChart, Panel};
use crate::input::BINDINGS;
use crate::series::Series;
use crate::state::{EpochCurves, RunView, Status};

/// Below this size only a text summary fits.
const MIN_WIDTH: u16 = 60;
const MIN_HEIGHT: u16 = 18;

/// Colors, or plain text when NO_COLOR is set.
struct Theme {
    color: bool,
}

impl Theme {
    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    fn status(&self, status: Status) -> Style {
        let color = match status {
            Status::Running => Color::Green,
            Status::Finished => Color::Cyan,
            Status::StoppedEarly | Status::OutOfTime => Color::Cyan,
            Status::Failed => Color::Red,
            Status::Stale | Status::Interrupted => Color::Yellow,
            Status::Waiting => Color::Gray,
        };
        self.fg(color).add_modifier(Modifier::BOLD)
    }

    /// Red for weak classes, yellow for middling, green for good.
    fn score(&self, accuracy: f64) -> Style {
        self.fg(if accuracy < 0.4 {
            Color::Red
        } else if accuracy < 0.7 {
            Color::Yellow
        } else {
            Color::Green
        })
    }

    /// A gray level for a confusion cell (darker = fewer).
    fn shade(&self, share: f64) -> Style {
        if !self.color {
            return Style::new();
        }
        let level = 232 + (share.clamp(0.0, 1.0) * 23.0).round() as u8;
        let fg = if level > 244 {
            Color::Black
        } else {
            Color::White
        };
        Style::new().bg(Color::Indexed(level)).fg(fg)
    }
}

/// `hh:mm:ss`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The header: who and where, then how far along.
fn header_lines<'a>(view: &'a RunView, theme: &Theme, now: f64) -> [Line<'a>; 2] {
    let mut who = vec![
        Span::styled(
            view.name.as_str(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "  {}  {}/{}  ",
            view.model, view.backend, view.device
        )),
        Span::styled(
            view.status.label().to_uppercase(),
            theme.status(view.status),
        ),
    ];
    if view.status == Status::Stale {
        if let Some(last) = view.last_event {
            who.push(Span::styled(
                format!(" (last event {} ago)", clock((now - last).max(0.0))),
                theme.status(Status::Stale),
            ));
        }
    }
    if view.adversarial {
        who.push(Span::styled("  NSL adversarial", theme.fg(Color::Magenta)));
    }
    if view.graph {
        who.push(Span::styled("  NSL graph", theme.fg(Color::Green)));
    }
    if view.resumes > 0 {
        who.push(Span::raw(format!("  resumed x{}", view.resumes)));
    }
    let mut progress = format!(
        "epoch {}/{}  step {}/{}  {:.1} img/s",
        view.epoch, view.epochs, view.step, view.steps_per_epoch, view.images_per_second
    );
    if let Some(elapsed) = view.elapsed(now) {
        progress += &format!("  elapsed {}", clock(elapsed));
    }
    if let Some(eta) = view.eta() {
        progress += &format!("  ETA {}", clock(eta));
    }
    if view.lr > 0.0 {
        progress += &format!("  lr {}", number(view.lr));
    }
    if let Some((epoch, accuracy)) = view.best {
        progress += &format!("  best val {accuracy:.3} (epoch {epoch})");
    }
    [Line::from(who), Line::from(progress)]
}

/// A metric for a label: four significant places, or scientific notation for the very
/// large and very small (a diverging loss of 1.3e30 stays short).
pub fn number(x: f64) -> String {
    let size = x.abs();
    if x == 0.0 || (1e-3..1e4).contains(&size) {
        let decimals = if size >= 100.0 { 1 } else { 3 };
        format!("{x:.decimals$}")
    } else {
        format!("{x:.2e}")
    }
}

/// TensorBoard's smoothing: an exponential moving average with weight `weight`, debiased
/// so the first points are not pulled towards zero.
pub fn smoothed(points: &[(f64, f64)], weight: f64) -> Vec<(f64, f64)> {
    if weight <= 0.0 {
        return points.to_vec();
    }
    let mut last = 0.0;
    let mut debias = 1.0;
    points
        .iter()
        .map(|&(x, y)| {
            last = last * weight + (1.0 - weight) * y;
            debias *= weight;
            (x, last / (1.0 - debias))
        })
        .collect()
}

/// Points for a log-scale chart: log10 of each value (values at or below zero dropped).
fn logged(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter(|p| p.1 > 0.0)
        .map(|&(x, y)| (x, y.log10()))
        .collect()
}

/// A chart title with the newest values: `name latest` for each, the validation's after.
fn titled(name: &str, latest: &[(&str, Option<f64>)]) -> String {
    let values: Vec<String> = latest
        .iter()
        .filter_map(|(label, value)| {
            value.map(|v| match label {
                &"" => number(v),
                label => format!("{label} {}", number(v)),
            })
        })
        .collect();
    if values.is_empty() {
        name.to_string()
    } else {
        format!("{name}: {}", values.join("  "))
    }
}

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame, app: &App) {
    draw_at(frame, app, unix_now());
}

/// Draws as of time `now` (tests pin it).
pub fn draw_at(frame: &mut Frame, app: &App, now: f64) {
    let theme = Theme { color: app.color };
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_summary(frame, app, &theme, now, area);
        return;
    }
    // The lower panels get a row per class (plus borders and the matrix's header), so no
    // class is cut at common sizes such as 80x24; the charts take the rest.
    let classes = app.view.classes.len().max(4) as u16;
    let [header, charts, lower, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(classes + 3),
        Constraint::Length(2),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(header_lines(&app.view, &theme, now).to_vec()),
        header,
    );

    let [loss, adversarial, accuracy] =
        Layout::horizontal([Constraint::Ratio(1, 3); 3]).areas(charts);
    let (from, to) = app.step_window();
    let view = &app.view;
    let epoch_x = view.steps_per_epoch.max(1) as f64;
    let val_loss = to_steps(&view.epoch_loss.validation, epoch_x);
    let val_adv = to_steps(&view.epoch_adversarial.validation, epoch_x);
    let val_acc = to_steps(&view.epoch_accuracy.validation, epoch_x);
    // Titles show the newest values, or those at the cursor's step.
    let latest = |series: &Series| match app.cursor {
        Some(x) => series.at(x),
        None => series.last().map(|p| p.1),
    };
    // Validation as of the cursor: the last epoch that ended before it.
    let val = view.last_validation;
    let val_at = |curves: &EpochCurves, newest: Option<f64>| match app.cursor {
        Some(x) => curves.validation.at((x / epoch_x).floor()),
        None => newest,
    };
    let loss_title = titled(
        "loss",
        &[
            ("", latest(&view.loss)),
            ("ce", latest(&view.cross_entropy)),
            ("val", val_at(&view.epoch_loss, val.map(|v| v.loss))),
        ],
    );
    // With a graph the middle chart also has the scaled graph loss, as "regularization"
    // to fit narrow terminals (training only: NSL
    // evaluates without neighbours).
    let adversarial_title = if view.graph {
        titled(
            "regularization",
            &[
                ("adv", latest(&view.adversarial_loss)),
                ("graph", latest(&view.graph_loss)),
            ],
        )
    } else {
        titled(
            "scaled adversarial loss",
            &[
                ("", latest(&view.adversarial_loss)),
                (
                    "val",
                    val_at(
                        &view.epoch_adversarial,
                        val.map(|v| v.scaled_adversarial_loss),
                    ),
                ),
            ],
        )
    };
    let accuracy_title = titled(
        "accuracy",
        &[
            ("train", latest(&view.accuracy)),
            (
                "val",
                val_at(&view.epoch_accuracy, val.map(|v| v.categorical_accuracy)),
            ),
        ],
    );
    // Step curves smoothed as asked; the loss charts' values on a log scale when asked.
    let steps = |series: &Series| smoothed(series.window(from, to), app.smoothing);
    let scale = |points: Vec<(f64, f64)>| {
        if app.log_scale {
            logged(&points)
        } else {
            points
        }
    };
    let (loss_line, ce_line, adv_line) = (
        scale(steps(&view.loss)),
        scale(steps(&view.cross_entropy)),
        scale(steps(&view.adversarial_loss)),
    );
    let graph_line = scale(steps(&view.graph_loss));
    let (val_loss, val_adv) = (scale(val_loss), scale(val_adv));
    let accuracy_line = steps(&view.accuracy);
    // Pinned runs (o) are drawn under the selected one, each in its own color, by name,
    // epoch for epoch: a run with other batches is stretched to the selected run's steps.
    let pinned: Vec<PinnedCurves> = app
        .pinned
        .iter()
        .map(|o| &o.view)
        .filter(|pinned| pinned.name != view.name)
        .zip(PINNED_COLORS.iter().cycle())
        .map(|(p, &color)| {
            let stretch = epoch_stretch(view, p);
            let aligned = |points: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
                points
                    .into_iter()
                    .map(|(x, y)| (x * stretch, y))
                    .filter(|&(x, _)| (from..=to).contains(&x))
                    .collect()
            };
            let by_step = |series: &Series| aligned(smoothed(series.points(), app.smoothing));
            let by_epoch = |curves: &EpochCurves| {
                aligned(to_steps(
                    &curves.validation,
                    p.steps_per_epoch.max(1) as f64,
                ))
            };
            let name: String = p.name.chars().take(12).collect();
            PinnedCurves {
                val_name: format!("{name} val"),
                name,
                color,
                loss: scale(by_step(&p.loss)),
                val_loss: scale(by_epoch(&p.epoch_loss)),
                adversarial: scale(by_step(&p.adversarial_loss)),
                accuracy: by_step(&p.accuracy),
                val_accuracy: by_epoch(&p.epoch_accuracy),
            }
        })
        .collect();
    draw_chart(
        frame,
        app,
        &theme,
        Panel::Loss,
        &loss_title,
        loss,
        (from, to),
        &with_pinned(
            vec![
                ("loss", &loss_line, Color::Yellow, false),
                ("ce", &ce_line, Color::Cyan, false),
                ("val loss", &val_loss, Color::Red, val_loss.len() < 2),
            ],
            &pinned,
            |p| vec![(&p.name, &p.loss, false), (&p.val_name, &p.val_loss, true)],
        ),
    );
    // The middle chart (t): the adversarial loss, or the learning rate, or throughput.
    let lr_line = scale(view.learning_rate.window(from, to).to_vec());
    let throughput_line = scale(steps(&view.throughput));
    let mut regularization_lines: Vec<Line4> = vec![
        ("adv", &adv_line, Color::Magenta, false),
        ("val adv", &val_adv, Color::Red, val_adv.len() < 2),
    ];
    if view.graph {
        regularization_lines.push(("graph", &graph_line, Color::Green, false));
    }
    let (middle_title, middle_lines) = match app.middle_chart {
        MiddleChart::AdversarialLoss => (
            adversarial_title,
            with_pinned(regularization_lines, &pinned, |p| {
                vec![(&p.name, &p.adversarial, false)]
            }),
        ),
        MiddleChart::LearningRate => (
            titled("learning rate", &[("", latest(&view.learning_rate))]),
            vec![("lr", lr_line.as_slice(), Color::Blue, false)],
        ),
        MiddleChart::Throughput => (
            titled("images/s", &[("", latest(&view.throughput))]),
            vec![("img/s", throughput_line.as_slice(), Color::Green, false)],
        ),
    };
    draw_chart(
        frame,
        app,
        &theme,
        Panel::Adversarial,
        &middle_title,
        adversarial,
        (from, to),
        &middle_lines,
    );
    draw_chart(
        frame,
        app,
        &theme,
        Panel::Accuracy,
        &accuracy_title,
        accuracy,
        (from, to),
        &with_pinned(
            vec![
                ("train", &accuracy_line, Color::Green, false),
                ("val", &val_acc, Color::Red, val_acc.len() < 2),
            ],
            &pinned,
            |p| {
                vec![
                    (&p.name, &p.accuracy, false),
                    (&p.val_name, &p.val_accuracy, true),
                ]
            },
        ),
    );

    // The bars keep room for a name, a short bar and the percentage.
    let confusion_width = confusion_width(&app.view, app.color).min(lower.width.saturating_sub(24));
    let [per_class, confusion] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(confusion_width)]).areas(lower);
    draw_per_class(frame, app, &theme, per_class);
    draw_confusion(frame, app, &theme, confusion);
    draw_footer(frame, app, &theme, footer);
    if app.settings {
        draw_settings(frame, app, area);
    }
    if app.help {
        draw_help(frame, area);
    }
}

/// Epoch-level points placed at the global step where each epoch ended.
fn to_steps(series: &Series, steps_per_epoch: f64) -> Vec<(f64, f64)> {
    series
        .points()
        .iter()
        .map(|&(e, y)| (e * steps_per_epoch, y))
        .collect()
}

fn panel_block<'a>(app: &App, theme: &Theme, panel: Panel, title: &'a str) -> Block<'a> {
    let focused = app.focus == panel;
    let mut block = Block::default().borders(Borders::ALL).title(title);
    if focused {
        block = block
            .title(Span::styled(
                " *",
                Style::new().add_modifier(Modifier::BOLD),
            ))
            .border_style(theme.fg(Color::Yellow).add_modifier(Modifier::BOLD));
    }
    block
}

type Line4<'a> = (&'a str, &'a [(f64, f64)], Color, bool);

/// The right-hand corner away from the newest point (the right edge is where it is drawn):
/// below it when it is high, above it when it is low, so the legend never covers it.
fn legend_corner(lines: &[Line4<'_>], lo: f64, hi: f64) -> LegendPosition {
    let newest = lines
        .iter()
        .filter_map(|line| line.1.last())
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match newest {
        Some(&(_, y)) if (y - lo) > (hi - lo) / 2.0 => LegendPosition::BottomRight,
        _ => LegendPosition::TopRight,
    }
}

/// What a pinned run's steps are multiplied by to line its epochs up with the selected
/// run's (runs with other batch sizes or data have other steps per epoch).
pub fn epoch_stretch(selected: &RunView, pinned: &RunView) -> f64 {
    match (pinned.steps_per_epoch, selected.steps_per_epoch) {
        (0, _) | (_, 0) => 1.0,
        (theirs, ours) => ours as f64 / theirs as f64,
    }
}

/// Colors of pinned runs, in pinning order.
const PINNED_COLORS: [Color; 4] = [
    Color::DarkGray,
    Color::LightBlue,
    Color::LightMagenta,
    Color::Gray,
];

/// A pinned run's curves, on the selected run's step axis.
struct PinnedCurves {
    name: String,
    val_name: String,
    color: Color,
    loss: Vec<(f64, f64)>,
    val_loss: Vec<(f64, f64)>,
    adversarial: Vec<(f64, f64)>,
    accuracy: Vec<(f64, f64)>,
    val_accuracy: Vec<(f64, f64)>,
}

/// One pinned curve for a chart: legend name, points, and whether it is a validation curve
/// (drawn as points while it has fewer than two epochs).
type PinnedLine<'a> = (&'a String, &'a Vec<(f64, f64)>, bool);

/// `lines` with the pinned runs' curves (`pick`ed for this chart) first, so they are drawn
/// under the selected run's.
fn with_pinned<'a>(
    lines: Vec<Line4<'a>>,
    pinned: &'a [PinnedCurves],
    pick: impl Fn(&'a PinnedCurves) -> Vec<PinnedLine<'a>>,
) -> Vec<Line4<'a>> {
    let mut all: Vec<Line4<'a>> = pinned
        .iter()
        .flat_map(|p| {
            pick(p).into_iter().map(move |(name, points, validation)| {
                let points_only = validation && points.len() < 2;
                (name.as_str(), points.as_slice(), p.color, points_only)
            })
        })
        .filter(|line| !line.1.is_empty())
        .collect();
    all.extend(lines);
    all
}

#[allow(clippy::too_many_arguments)]
fn draw_chart(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    panel: Panel,
    title: &str,
    area: Rect,
    (from, to): (f64, f64),
    lines: &[Line4<'_>],
) {
    let visible: Vec<&(f64, f64)> = lines
        .iter()
        .flat_map(|l| l.1.iter())
        .filter(|p| p.0 >= from && p.0 <= to)
        .collect();
    let (mut lo, mut hi) = visible.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    if visible.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (
        (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
        hi + pad,
    );
    // The cursor: a vertical line at its step, when that step is in view.
    let cursor: Vec<(f64, f64)> = app
        .cursor
        .filter(|x| (from..=to).contains(x))
        .map_or(Vec::new(), |x| vec![(x, lo), (x, hi)]);
    let mut datasets: Vec<Dataset> = lines
        .iter()
        .map(|(name, points, color, dots)| {
            Dataset::default()
                .name(*name)
                .marker(if *dots { Marker::Dot } else { Marker::Braille })
                .graph_type(if *dots {
                    GraphType::Scatter
                } else {
                    GraphType::Line
                })
                .style(theme.fg(*color))
                .data(points)
        })
        .collect();
    if !cursor.is_empty() {
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.fg(Color::White))
                .data(&cursor),
        );
    }
    let chart = Chart::new(datasets)
        .block(panel_block(app, theme, panel, title))
        .x_axis(
            Axis::default()
                .bounds([from, to])
                .labels(if app.epoch_axis {
                    // The same window, counted in epochs.
                    let per_epoch = app.view.steps_per_epoch.max(1) as f64;
                    [
                        format!("{:.1}", from / per_epoch),
                        format!("{:.1} epoch", to / per_epoch),
                    ]
                } else {
                    [format!("{from:.0}"), format!("{to:.0} step")]
                }),
        )
        .y_axis(Axis::default().bounds([lo, hi]).labels(
            if app.log_scale && panel != Panel::Accuracy {
                [number(10f64.powf(lo)), number(10f64.powf(hi))]
            } else {
                [number(lo), number(hi)]
            },
        ))
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)))
        .legend_position(Some(legend_corner(lines, lo, hi)));
    frame.render_widget(chart, area);
}

fn bar(value: f64, width: usize) -> String {
    let filled = (value.clamp(0.0, 1.0) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn draw_per_class(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let view = &app.view;
    // Validation with the running train share beside it, unless the panel's keys asked for
    // the train accuracy alone.
    let has_validation = !view.validation_per_class.is_empty() && !app.show_train_per_class;
    let title = if has_validation {
        "per-class accuracy: validation (running train)"
    } else {
        "per-class accuracy: running train"
    };
    let name_width = view
        .classes
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(5)
        .min(10);
    let bar_width = (area.width as usize)
        .saturating_sub(name_width + 24)
        .clamp(4, 40);
    let lines: Vec<Line> = view
        .classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let train = view.train_per_class.get(c).copied().flatten();
            let shown = if has_validation {
                view.validation_per_class.get(c).copied().flatten()
            } else {
                train
            };
            let mut spans = vec![Span::raw(format!("{:<name_width$.name_width$} ", name))];
            match shown {
                Some(a) => {
                    spans.push(Span::styled(bar(a, bar_width), theme.score(a)));
                    spans.push(Span::raw(format!(" {:>5.1}%", 100.0 * a)));
                }
                None => spans.push(Span::raw(format!("{:<bar_width$}   n/a", ""))),
            }
            if has_validation {
                if let Some(t) = train {
                    spans.push(Span::raw(format!(" ({:.0}%)", 100.0 * t)));
                }
            }
            Line::from(spans)
        })
        .collect();
    let body = if lines.is_empty() {
        vec![Line::from("no steps yet")]
    } else {
        fit_lines(lines, area.height.saturating_sub(2), "classes")
    };
    frame.render_widget(
        Paragraph::new(body).block(panel_block(app, theme, Panel::PerClass, title)),
        area,
    );
}

/// Columns the confusion matrix wants: a label column, a cell per class, the borders.
fn confusion_width(view: &RunView, color: bool) -> u16 {
    let classes = view.classes.len().max(1);
    let (_, widest) = confusion_cell_range(view, color);
    (5 + classes * widest + 2).clamp(30, 120) as u16
}

/// The narrowest and the widest cell of the matrix: the longest count plus a space, with
/// room for the diagonal's mark without color (`40*` narrow, `[40]` wide); the widest fits
/// 4-letter class names.
fn confusion_cell_range(view: &RunView, color: bool) -> (usize, usize) {
    let digits = view
        .confusion
        .iter()
        .flatten()
        .flatten()
        .max()
        .map_or(1, |m| m.to_string().len());
    let marked = digits + if color { 0 } else { 1 };
    let bracketed = digits + if color { 0 } else { 2 };
    (marked + 1, bracketed.max(4) + 1)
}

/// `lines` cut to `height`, the last kept line saying how many are hidden: never a silent
/// loss on a small terminal.
fn fit_lines<'a>(mut lines: Vec<Line<'a>>, height: u16, what: &str) -> Vec<Line<'a>> {
    let height = height as usize;
    if lines.len() > height && height > 0 {
        let hidden = lines.len() - height + 1;
        lines.truncate(height - 1);
        lines.push(Line::from(format!(
            "... {hidden} more {what} (enlarge the terminal)"
        )));
    }
    lines
}

fn draw_confusion(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let view = &app.view;
    let block = panel_block(
        app,
        theme,
        Panel::Confusion,
        if app.confusion_shares {
            "confusion (validation; row %)"
        } else {
            "confusion (validation; rows: true)"
        },
    );
    let Some(counts) = &view.confusion else {
        frame.render_widget(Paragraph::new("no validation yet").block(block), area);
        return;
    };
    // Cells shrink to the panel (down to the longest count) before columns are dropped,
    // and dropped columns are counted in the header.
    let n = counts.len().max(1);
    let avail = area.width.saturating_sub(2 + 5) as usize;
    let (narrowest, widest) = confusion_cell_range(view, app.color);
    let cell = (avail / n).clamp(narrowest, widest);
    // Without color the diagonal is marked: [40] where there is room, 40* where not.
    let brackets = cell >= widest;
    let mut visible = (avail / cell).clamp(1, n);
    if visible < n {
        visible = visible.saturating_sub(1).max(1);
    }
    let short: Vec<String> = view
        .classes
        .iter()
        .map(|c| c.chars().take((cell - 1).min(4)).collect())
        .collect();
    let mut header: Vec<Span> = std::iter::once(Span::raw(format!("{:>5}", "")))
        .chain(
            short
                .iter()
                .take(visible)
                .map(|s| Span::raw(format!("{s:>cell$}"))),
        )
        .collect();
    if visible < n {
        let more = format!("+{}", n - visible);
        header.push(Span::raw(format!("{more:>cell$}")));
    }
    let mut lines = vec![Line::from(header)];
    for (t, row) in counts.iter().enumerate() {
        let total: u64 = row.iter().sum();
        let mut spans = vec![Span::raw(format!(
            "{:>5}",
            view.classes
                .get(t)
                .map_or("?".to_string(), |c| c.chars().take(4).collect())
        ))];
        for (p, &count) in row.iter().enumerate().take(visible) {
            let share = if total > 0 {
                count as f64 / total as f64
            } else {
                0.0
            };
            let value = if app.confusion_shares {
                format!("{:.0}", 100.0 * share)
            } else {
                count.to_string()
            };
            let text = if t == p && !app.color && brackets {
                format!("[{value}]")
            } else if t == p && !app.color {
                format!("{value}*")
            } else {
                value
            };
            spans.push(Span::styled(format!("{text:>cell$}"), theme.shade(share)));
        }
        lines.push(Line::from(spans));
    }
    let lines = fit_lines(lines, area.height.saturating_sub(2), "rows");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_footer(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut runs = vec![Span::raw("runs: ")];
    for (i, run) in app.runs.iter().enumerate() {
        let label = format!(" {} ({}) ", run.name, run.status.label());
        if i == app.selected {
            runs.push(Span::styled(
                label,
                Style::new().add_modifier(Modifier::REVERSED),
            ));
        } else {
            runs.push(Span::raw(label));
        }
    }
    let mut status = vec![Span::raw(format!(
        "q quit  ? help  tab panel  ←→ scroll  +/- zoom  f follow [{}]",
        if app.follow { "on" } else { "off" }
    ))];
    if app.smoothing > 0.0 {
        status.push(Span::raw(format!("  smoothing {}", app.smoothing)));
    }
    if app.log_scale {
        status.push(Span::raw("  log scale"));
    }
    if let Some(step) = app.cursor {
        status.push(Span::raw(format!("  cursor at step {step:.0}")));
    }
    let (garbage, unknown) = app.skipped;
    if garbage + unknown > 0 {
        status.push(Span::styled(
            format!("  skipped {garbage} bad and {unknown} unknown lines"),
            theme.fg(Color::Yellow),
        ));
    }
    if let Some(message) = &app.view.failure {
        status.push(Span::styled(format!("  {message}"), theme.fg(Color::Red)));
    }
    if let Some(problem) = &app.problem {
        status.push(Span::styled(
            format!("  {problem}"),
            theme.fg(Color::Yellow),
        ));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(status), Line::from(runs)]),
        area,
    );
}

/// The run's settings over the dashboard, as many as fit.
fn draw_settings(frame: &mut Frame, app: &App, area: Rect) {
    let height = (app.view.settings.len() as u16 + 2).clamp(3, area.height);
    let key_width = app
        .view
        .settings
        .iter()
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0)
        .min(34);
    let lines: Vec<Line> = if app.view.settings.is_empty() {
        vec![Line::from(" no run.json read yet")]
    } else {
        app.view
            .settings
            .iter()
            .map(|(key, value)| Line::from(format!(" {key:<key_width$} = {value}")))
            .collect()
    };
    let lines = fit_lines(lines, height.saturating_sub(2), "settings");
    draw_popup(frame, area, (90, height), "settings (c to close)", lines);
}

fn draw_help(frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = BINDINGS
        .iter()
        .map(|(keys, what)| Line::from(format!(" {keys:<18} {what}")))
        .collect();
    let height = BINDINGS.len() as u16 + 4;
    draw_popup(frame, area, (72, height), "keys (? to close)", lines);
}

/// `lines` in a bordered box of (at most) `width` x `height`, centered over the dashboard.
fn draw_popup(
    frame: &mut Frame,
    area: Rect,
    (width, height): (u16, u16),
    title: &str,
    lines: Vec<Line>,
) {
    let (width, height) = (width.min(area.width), height.min(area.height));
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        popup,
    );
}

/// A few lines for terminals too small for the dashboard.
fn draw_summary(frame: &mut Frame, app: &App, theme: &Theme, now: f64, area: Rect) {
    let view = &app.view;
    let mut lines = vec![Line::from(
        "(enlarge the terminal for the dashboard; q quits)",
    )];
    lines.extend(header_lines(view, theme, now));
    if let Some((_, loss)) = view.loss.last() {
        lines.push(Line::from(format!("loss {loss:.4}")));
    }
    if let Some((_, acc)) = view.accuracy.last() {
        lines.push(Line::from(format!("train acc {acc:.3}")));
    }
    if let Some(v) = &view.last_validation {
        lines.push(Line::from(format!("val acc {:.3}", v.categorical_accuracy)));
    }
    // Every class, abbreviated, with its latest accuracy (validation when there is one).
    let shown = if view.validation_per_class.is_empty() {
        &view.train_per_class
    } else {
        &view.validation_per_class
    };
    let classes: Vec<String> = view
        .classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let short: String = name.chars().take(4).collect();
            match shown.get(c).copied().flatten() {
                Some(a) => format!("{short} {:.0}%", 100.0 * a),
                None => format!("{short} -"),
            }
        })
        .collect();
    if !classes.is_empty() {
        lines.push(Line::from(classes.join("  ")));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn smoothing_is_tensorboards_debiased_average() {
        let flat = [(0.0, 2.0), (1.0, 2.0), (2.0, 2.0)];
        assert_eq!(
            smoothed(&flat, 0.9),
            flat.to_vec(),
            "a constant stays itself"
        );
        let step = smoothed(&[(0.0, 1.0), (1.0, 0.0)], 0.5);
        assert_eq!(step[0], (0.0, 1.0), "the first point is not pulled to zero");
        assert!((step[1].1 - 1.0 / 3.0).abs() < 1e-12, "{step:?}");
        assert_eq!(smoothed(&flat, 0.0), flat.to_vec());
        assert_eq!(logged(&[(0.0, 100.0), (1.0, 0.0)]), [(0.0, 2.0)]);
    }

    #[test]
    fn numbers_stay_short_at_any_size() {
        assert_eq!(number(0.41234), "0.412");
        assert_eq!(number(123.456), "123.5");
        assert_eq!(number(0.0), "0.000");
        assert_eq!(number(1.3e30), "1.30e30");
        assert_eq!(number(-2.5e-5), "-2.50e-5");
        assert_eq!(number(0.001), "0.001");
    }

    #[test]
    fn lines_that_do_not_fit_are_counted_not_dropped() {
        let lines = || (1..=7).map(|i| Line::from(format!("class {i}"))).collect();
        assert_eq!(fit_lines(lines(), 7, "classes").len(), 7);
        assert_eq!(
            texts(&fit_lines(lines(), 4, "classes")),
            [
                "class 1",
                "class 2",
                "class 3",
                "... 4 more classes (enlarge the terminal)"
            ]
        );
        assert!(
            fit_lines(lines(), 0, "classes").len() == 7,
            "nothing to cut into"
        );
    }
}
