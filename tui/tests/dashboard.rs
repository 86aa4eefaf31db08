//! The dashboard rendered into ratatui's test backend from recorded logs.

mod common;

use common::*;
use fer::run::events::Event;
use fer_tui::app::{Action, App};
use fer_tui::input::BINDINGS;
use fer_tui::source::Update;
use fer_tui::ui::draw_at;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

const T0: f64 = 1_800_000_000.0;

fn app_with(records: Vec<fer::run::events::Record>, color: bool) -> App {
    let mut app = App::detached("nsl-run", color);
    app.apply(Update {
        records,
        ..Default::default()
    });
    app
}

fn render(app: &App, width: u16, height: u16, now: f64) -> (String, ratatui::buffer::Buffer) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw_at(frame, app, now)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let text = (0..height)
        .map(|y| {
            (0..width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    (text, buffer)
}

fn live_log() -> Vec<fer::run::events::Record> {
    let mut log = vec![record(T0, start(None))];
    log.extend(epochs(1, 2, T0));
    log.extend(epochs(3, 3, T0).into_iter().take(4));
    log
}

#[test]
fn a_live_run_shows_progress_curves_classes_and_confusion() {
    let app = app_with(live_log(), true);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    for needle in [
        "nsl-run",
        "report-4.2",
        "flex/cpu",
        "RUNNING",
        "epoch 3/5",
        "step 4/10",
        "25.0 img/s",
        "elapsed 00:00:40",
        "ETA 00:00:26",
        "best val 0.450 (epoch 2)",
        "NSL adversarial",
        "loss: ",
        "scaled adversarial loss",
        "accuracy",
        "per-class accuracy: validation (running train)",
        "disgust",
        "12.0%",
        "91.0% (90%)",
        "confusion (validation; rows: true)",
        " ange",
        "  41",
        "follow [on]",
        "nsl-run (running)",
    ] {
        assert!(screen.contains(needle), "missing {needle:?} in\n{screen}");
    }
}

#[test]
fn weak_classes_stand_out_and_no_color_is_plain() {
    let app = app_with(live_log(), true);
    let (screen, buffer) = render(&app, 140, 42, T0 + 40.0);
    let (x, y) = locate(&screen, "disgust").unwrap();
    assert_eq!(
        buffer[(x as u16 + 10, y as u16)].fg,
        Color::Red,
        "12% is red"
    );
    let (x, y) = locate(&screen, "happiness").unwrap();
    assert_eq!(buffer[(x as u16 + 10, y as u16)].fg, Color::Green);

    let plain = app_with(live_log(), false);
    let (screen, buffer) = render(&plain, 140, 42, T0 + 40.0);
    assert!(buffer
        .content()
        .iter()
        .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
    assert!(
        screen.contains("[40]"),
        "the diagonal is marked without color"
    );
}

fn locate(screen: &str, needle: &str) -> Option<(usize, usize)> {
    screen.lines().enumerate().find_map(|(y, line)| {
        line.find(needle)
            .map(|byte| (line[..byte].chars().count(), y))
    })
}

#[test]
fn finished_and_failed_runs() {
    let mut log = vec![record(T0, start(None))];
    log.extend(epochs(1, 5, T0));
    log.push(record(
        T0 + 60.0,
        Event::RunEnd {
            status: fer::run::RunStatus::Finished,
            epochs_done: 5,
            best_epoch: Some(5),
            best_validation_accuracy: Some(0.6),
        },
    ));
    let (screen, _) = render(&app_with(log, true), 140, 42, T0 + 5000.0);
    assert!(
        screen.contains("FINISHED") && screen.contains("epoch 5/5"),
        "{screen}"
    );
    assert!(
        screen.contains("elapsed 00:01:00"),
        "a finished run's clock stops"
    );
    assert!(!screen.contains("ETA"));

    let mut log = vec![record(T0, start(None))];
    log.extend(epochs(1, 1, T0));
    log.push(record(
        T0 + 12.0,
        Event::Failure {
            epoch: 2,
            step: 3,
            message: "epoch 2, step 3: the loss is NaN (not finite)".into(),
        },
    ));
    let (screen, _) = render(&app_with(log, true), 140, 42, T0 + 20.0);
    assert!(screen.contains("FAILED"), "{screen}");
    assert!(screen.contains("the loss is NaN"), "{screen}");

    // Stopped by --max-minutes: resumable, so said apart from finished.
    let mut log = vec![record(T0, start(None))];
    log.extend(epochs(1, 2, T0));
    log.push(record(
        T0 + 30.0,
        Event::RunEnd {
            status: fer::run::RunStatus::OutOfTime,
            epochs_done: 2,
            best_epoch: Some(2),
            best_validation_accuracy: Some(0.5),
        },
    ));
    let (screen, _) = render(&app_with(log, true), 140, 42, T0 + 100.0);
    assert!(screen.contains("OUT OF TIME"), "{screen}");
    assert!(
        !screen.contains("FINISHED") && !screen.contains("ETA"),
        "{screen}"
    );

    // Stopped by Ctrl-C or SIGTERM mid-epoch: resumable too.
    let mut log = vec![record(T0, start(None))];
    log.extend(epochs(1, 1, T0));
    log.push(record(
        T0 + 20.0,
        Event::RunEnd {
            status: fer::run::RunStatus::Interrupted,
            epochs_done: 1,
            best_epoch: Some(1),
            best_validation_accuracy: Some(0.4),
        },
    ));
    let (screen, _) = render(&app_with(log, true), 140, 42, T0 + 100.0);
    assert!(screen.contains("INTERRUPTED"), "{screen}");
    assert!(
        !screen.contains("FINISHED") && !screen.contains("ETA"),
        "{screen}"
    );
}

#[test]
fn a_resumed_run_drops_the_interrupted_epoch_and_follows_on() {
    let mut log = vec![record(T0, start(None))];
    log.extend(epochs(1, 2, T0));
    // Killed during epoch 3 after 6 steps, then resumed from the epoch-2 checkpoint.
    log.extend(epochs(3, 3, T0).into_iter().take(6));
    log.push(record(T0 + 100.0, start(Some(2))));
    log.extend(epochs(3, 3, T0 + 100.0).into_iter().take(2));
    let app = app_with(log, true);
    assert_eq!(app.view.loss.last().unwrap().0, 22.0);
    assert_eq!(
        app.view.loss.points().iter().filter(|p| p.0 > 20.0).count(),
        2
    );
    let (screen, _) = render(&app, 140, 42, T0 + 110.0);
    assert!(
        screen.contains("resumed x1") && screen.contains("epoch 3/5  step 2/10"),
        "{screen}"
    );
}

#[test]
fn keys_zoom_scroll_and_help() {
    let mut app = app_with(live_log(), true);
    assert_eq!(app.step_window(), (0.0, 24.0));
    app.handle(Action::ZoomIn);
    assert_eq!(app.step_window(), (12.0, 24.0));
    app.handle(Action::ScrollBack);
    assert!(!app.follow);
    assert_eq!(app.step_window(), (9.0, 21.0));
    app.handle(Action::JumpToLatest);
    assert!(app.follow);
    app.handle(Action::NextPanel);
    app.handle(Action::ToggleHelp);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    for (keys, what) in BINDINGS {
        assert!(
            screen.contains(keys) && screen.contains(what),
            "help lacks {keys}\n{screen}"
        );
    }
    app.handle(Action::Quit);
    assert!(app.quit);
}

#[test]
fn tiny_terminals_get_a_summary() {
    let app = app_with(live_log(), true);
    let (screen, _) = render(&app, 40, 8, T0 + 40.0);
    assert!(
        screen.contains("nsl-run") && screen.contains("enlarge"),
        "{screen}"
    );
    // And nothing panics at absurd sizes.
    for (w, h) in [(1, 1), (60, 18), (200, 60)] {
        render(&app, w, h, T0 + 40.0);
    }
}

#[test]
fn every_class_is_visible_at_common_and_small_sizes() {
    let app = app_with(live_log(), false);
    // 80x24 (the most common terminal) and the dashboard's minimum: all seven in the bars
    // and the confusion matrix (abbreviated to four letters there).
    for (width, height) in [(80, 24), (60, 18), (100, 30)] {
        let (screen, _) = render(&app, width, height, T0 + 40.0);
        for class in CLASSES {
            assert!(
                screen.contains(&format!("{class:<9.9} ")),
                "{width}x{height}: no bar for {class}\n{screen}"
            );
            // A row label (4 letters) and a column header (3 or 4 letters).
            let row: String = class.chars().take(4).collect();
            let column: String = class.chars().take(3).collect();
            assert!(
                screen.contains(&format!(" {row} ")) && screen.matches(&column).count() >= 3,
                "{width}x{height}: no row or column for {class}\n{screen}"
            );
        }
        assert!(!screen.contains("more classes"), "{screen}");
    }
    // Below the minimum: the summary still names every class.
    let (screen, _) = render(&app, 40, 12, T0 + 40.0);
    for class in CLASSES {
        let short: String = class.chars().take(4).collect();
        assert!(
            screen.contains(&format!("{short} ")),
            "40x12: no {short}\n{screen}"
        );
    }
}

#[test]
fn a_stale_run_says_when_its_last_event_came() {
    let mut app = app_with(live_log(), true);
    let info: fer::run::RunInfo = serde_json::from_value(serde_json::json!({
        "name": "nsl-run", "config": {}, "classes": CLASSES, "backend": "flex",
        "device": "cpu", "host": "gpu-box", "pid": 7, "start_time": T0,
        "updated_time": T0, "status": "running"
    }))
    .unwrap();
    app.apply(Update {
        info: Some(info),
        process_alive: Some(false),
        ..Default::default()
    });
    let last = app.view.last_event.unwrap();
    let (screen, _) = render(&app, 140, 42, last + 125.0);
    assert!(
        screen.contains("STALE (last event 00:02:05 ago)"),
        "{screen}"
    );
    assert!(!screen.contains("ETA"), "{screen}");
}

#[test]
fn follow_off_freezes_the_charts_while_steps_arrive() {
    let mut app = app_with(live_log(), true);
    app.handle(Action::ToggleFollow);
    assert!(!app.follow);
    let frozen = app.step_window();
    app.apply(Update {
        records: epochs(3, 4, T0).into_iter().skip(4).collect(),
        ..Default::default()
    });
    assert_eq!(
        app.step_window(),
        frozen,
        "new steps do not move a frozen view"
    );
    app.handle(Action::JumpToLatest);
    assert!(app.follow);
    assert!(
        app.step_window().1 > frozen.1,
        "following shows the new steps"
    );
}

#[test]
fn tab_focus_decides_what_the_keys_act_on() {
    let mut app = app_with(live_log(), false);
    let charts = app.step_window();
    // Loss -> Adversarial -> Accuracy -> PerClass.
    for _ in 0..3 {
        app.handle(Action::NextPanel);
    }
    app.handle(Action::ScrollBack);
    assert!(app.follow, "the charts did not scroll");
    assert_eq!(app.step_window(), charts);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(
        screen.contains("per-class accuracy: running train"),
        "{screen}"
    );
    app.handle(Action::NextPanel);
    app.handle(Action::ZoomIn);
    assert_eq!(app.step_window(), charts, "the charts did not zoom");
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(screen.contains("row %"), "{screen}");
    // The diagonal of the recorded matrix as a share of its row: 45 of 52 surprise faces.
    assert!(screen.contains("[87]"), "{screen}");
    // Back on a chart, the same key zooms.
    app.handle(Action::NextPanel);
    app.handle(Action::ZoomIn);
    assert_ne!(app.step_window(), charts);
}

#[test]
fn latest_values_are_numbers_and_c_shows_the_settings() {
    let mut app = app_with(live_log(), true);
    let info: fer::run::RunInfo = serde_json::from_value(serde_json::json!({
        "name": "nsl-run", "classes": CLASSES, "backend": "tch", "device": "cuda:0",
        "host": "gpu-box", "pid": 7, "start_time": T0, "updated_time": T0,
        "status": "running", "data": "/data/fer2013.csv",
        "config": {"epochs": 30, "adversarial": {"multiplier": 0.3, "pgd_epsilon": null},
                   "model": {"preset": "report-5.2"}}
    }))
    .unwrap();
    app.apply(Update {
        info: Some(info),
        ..Default::default()
    });
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    for needle in ["loss: ", " ce ", "accuracy: train ", " val ", " lr "] {
        assert!(screen.contains(needle), "no {needle:?}\n{screen}");
    }
    app.handle(Action::ToggleSettings);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    for (key, value) in [
        ("host", "gpu-box (pid 7)"),
        ("backend", "tch on cuda:0"),
        ("data", "/data/fer2013.csv"),
        ("adversarial.multiplier", "0.3"),
        ("adversarial.pgd_epsilon", "none"),
        ("model.preset", "\"report-5.2\""),
        ("epochs", "30"),
    ] {
        let shown = screen.lines().any(|line| {
            line.split_once(&format!(" {key} "))
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(&format!("= {value} ")))
        });
        assert!(shown, "no {key} = {value}\n{screen}");
    }
    app.handle(Action::ToggleSettings);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(!screen.contains("settings (c to close)"), "{screen}");
}

#[test]
fn runs_started_after_attaching_join_and_a_waiting_dashboard_moves_to_them() {
    use fer_tui::app::RunEntry;
    use fer_tui::runs::find_runs;
    use fer_tui::state::Status;
    use fer_tui::target::Target;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    std::fs::create_dir_all(&root).unwrap();
    let write = |name: &str, status: &str, start: f64| {
        let run = root.join(name);
        std::fs::create_dir_all(&run).unwrap();
        let info = serde_json::json!({
            "name": name, "config": {}, "classes": CLASSES, "backend": "flex",
            "device": "cpu", "host": "elsewhere", "pid": 1, "start_time": start,
            "updated_time": start, "status": status
        });
        std::fs::write(run.join(fer::run::RUN_INFO_FILE), info.to_string()).unwrap();
    };
    // Attached to an empty folder: the dashboard waits on the folder itself.
    let folder = Target::Local(root.clone());
    let mut app = App::new(
        vec![RunEntry {
            name: folder.display(),
            target: folder.clone(),
            status: Status::Waiting,
        }],
        0,
        false,
    );
    app.merge_runs(find_runs(&folder).unwrap());
    assert_eq!(app.runs.len(), 1, "still waiting");

    write("base", "finished", 1.0);
    write("nsl", "running", 2.0);
    app.merge_runs(find_runs(&folder).unwrap());
    let names: Vec<&str> = app.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["base", "nsl"], "the placeholder gave way");
    assert_eq!(app.runs[app.selected].name, "nsl", "the newest live run");

    // Later scans update the others' statuses and add newcomers; the selection stays.
    write("base", "failed", 1.0);
    write("later", "running", 3.0);
    app.merge_runs(find_runs(&folder).unwrap());
    let status = |name: &str| app.runs.iter().find(|r| r.name == name).unwrap().status;
    assert_eq!(status("base"), Status::Failed);
    assert_eq!(app.runs.len(), 3);
    assert_eq!(app.runs[app.selected].name, "nsl");
}

#[test]
fn smoothing_and_log_scale_are_keys_and_say_so() {
    let mut app = app_with(live_log(), true);
    let (plain, _) = render(&app, 140, 42, T0 + 40.0);
    app.handle(Action::CycleSmoothing);
    app.handle(Action::CycleSmoothing);
    assert_eq!(app.smoothing, 0.9);
    app.handle(Action::ToggleLogScale);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(
        screen.contains("smoothing 0.9") && screen.contains("log scale"),
        "{screen}"
    );
    assert_ne!(plain, screen, "the curves changed");
    // The x axis in epochs: the same window, relabeled (24 steps of 10 per epoch).
    assert!(screen.contains("24 step"), "{screen}");
    app.handle(Action::ToggleEpochAxis);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(
        screen.contains("2.4 epoch") && !screen.contains("24 step"),
        "{screen}"
    );
    // t turns the middle chart into the learning rate, then throughput, then back.
    app.handle(Action::CycleMiddleChart);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(screen.contains("learning rate: 0.001"), "{screen}");
    app.handle(Action::CycleMiddleChart);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(screen.contains("images/s: 25.0"), "{screen}");
    app.handle(Action::CycleMiddleChart);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(screen.contains("scaled adversarial loss"), "{screen}");
    // Four presses come back to raw curves.
    app.handle(Action::CycleSmoothing);
    app.handle(Action::CycleSmoothing);
    assert_eq!(app.smoothing, 0.0);
}

/// A run folder `name` under `dir` holding two epochs of a live log, each event first
/// changed by `edit`, as a run the dashboard can switch to.
fn run_entry(
    dir: &std::path::Path,
    name: &str,
    edit: impl Fn(&mut Event),
) -> fer_tui::app::RunEntry {
    let run = dir.join(name);
    std::fs::create_dir_all(&run).unwrap();
    let mut log = vec![record(T0, start(None))];
    log.extend(epochs(1, 2, T0));
    let text: String = log
        .iter()
        .map(|r| {
            let mut r = r.clone();
            edit(&mut r.event);
            serde_json::to_string(&r).unwrap() + "\n"
        })
        .collect();
    std::fs::write(run.join(fer::run::EVENTS_FILE), text).unwrap();
    fer_tui::app::RunEntry {
        name: name.into(),
        target: fer_tui::target::Target::Local(run),
        status: fer_tui::state::Status::Waiting,
    }
}

#[test]
fn a_pinned_run_stays_on_the_charts_beside_the_selected_one() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |name: &str, loss_scale: f64| {
        run_entry(dir.path(), name, |event| {
            if let Event::Step { metrics, .. } = event {
                metrics.loss *= loss_scale;
            }
        })
    };
    let mut app = App::new(vec![entry("base", 3.0), entry("nsl", 1.0)], 0, true);
    app.poll();
    app.handle(Action::ToggleOverlay);
    app.handle(Action::NextRun);
    app.poll();
    assert_eq!(app.view.name, "nsl");
    let (screen, buffer) = render(&app, 140, 42, T0 + 40.0);
    // The footer lists every run; the legends name the pinned one, and its validation on
    // the loss and accuracy charts.
    assert_eq!(screen.matches("base").count(), 6, "{screen}");
    assert_eq!(screen.matches("base val").count(), 2, "{screen}");
    let gray = (0..140u16)
        .flat_map(|x| (2..20u16).map(move |y| (x, y)))
        .any(|(x, y)| buffer[(x, y)].fg == Color::DarkGray && buffer[(x, y)].symbol() != " ");
    assert!(gray, "the pinned curve is drawn");
    // `o` on the pinned run unpins it.
    app.handle(Action::PreviousRun);
    app.handle(Action::ToggleOverlay);
    assert!(app.pinned.is_empty());
    app.handle(Action::NextRun);
    app.poll();
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert_eq!(screen.matches("base").count(), 1, "unpinned\n{screen}");
}

#[test]
fn legends_keep_clear_of_the_newest_points() {
    // Accuracy rises, so its newest point is high: its legend goes to the bottom; the losses
    // fall, so theirs stay at the top.
    let app = app_with(live_log(), true);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    let row_of = |label: &str| {
        screen
            .lines()
            .position(|line| line.contains(&format!("│{label}")))
            .unwrap_or_else(|| panic!("no legend entry {label}\n{screen}"))
    };
    let (top, bottom) = (2, 28);
    assert!(row_of("train") > (top + bottom) / 2, "{screen}");
    assert!(row_of("loss ") < (top + bottom) / 2, "{screen}");
}

#[test]
fn the_cursor_reads_the_values_of_a_past_step() {
    let mut app = app_with(live_log(), true);
    let (newest, _) = render(&app, 140, 42, T0 + 40.0);
    app.handle(Action::CursorBack);
    let at = app.cursor.expect("a cursor one stride back");
    assert!(at < 24.0, "{at}");
    // Back to step 10: the end of epoch 1, before any validation but the first.
    while app.cursor.is_some_and(|x| x > 10.0) {
        app.handle(Action::CursorBack);
    }
    let step = app.cursor.unwrap();
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    assert!(
        screen.contains(&format!("cursor at step {step:.0}")),
        "{screen}"
    );
    assert_ne!(
        newest.lines().nth(2),
        screen.lines().nth(2),
        "titles changed\n{screen}"
    );
    // The loss at that step, as the title prints it (the recorded running loss 2/g + 0.5).
    let expected = format!("loss: {}", fer_tui::ui::number(2.0 / step + 0.5));
    assert!(screen.contains(&expected), "no {expected:?}\n{screen}");
    // Forward past the newest step, the cursor goes away.
    for _ in 0..100 {
        app.handle(Action::CursorForward);
    }
    assert_eq!(app.cursor, None);
}

#[test]
fn a_graph_regularized_run_charts_its_scaled_graph_loss() {
    let mut log = live_log();
    for record in &mut log {
        match &mut record.event {
            Event::RunStart { graph, .. } => *graph = true,
            Event::Step { metrics, .. } => metrics.scaled_graph_loss = 0.0123,
            _ => {}
        }
    }
    let app = app_with(log, true);
    let (screen, _) = render(&app, 140, 42, T0 + 40.0);
    for needle in ["NSL graph", "regularization: adv 0.117  graph 0.012"] {
        assert!(screen.contains(needle), "missing {needle:?} in\n{screen}");
    }
    assert_eq!(app.view.graph_loss.last(), Some((24.0, 0.0123)));

    // Runs without a graph keep the adversarial chart as it was.
    let (plain, _) = render(&app_with(live_log(), true), 140, 42, T0 + 40.0);
    assert!(
        !plain.contains("NSL graph") && !plain.contains("graph 0"),
        "{plain}"
    );
}

#[test]
fn several_pinned_runs_line_up_by_epoch_in_their_own_colors() {
    use fer_tui::app::MAX_PINNED;
    use fer_tui::ui::epoch_stretch;

    let dir = tempfile::tempdir().unwrap();
    // `steps` per epoch: a run with half the batch size has twice the steps.
    let entry = |name: &str, steps: usize| {
        run_entry(dir.path(), name, |event| match event {
            Event::RunStart {
                steps_per_epoch, ..
            } => *steps_per_epoch = steps,
            Event::Step {
                global_step, step, ..
            } => {
                *global_step *= steps / 10;
                *step *= steps / 10;
            }
            _ => {}
        })
    };
    let names = ["base", "halfbatch", "nsl", "graph", "both", "sixth"];
    let runs = names
        .iter()
        .map(|n| entry(n, if *n == "halfbatch" { 20 } else { 10 }))
        .collect();
    let mut app = App::new(runs, 0, true);
    app.poll();
    app.handle(Action::ToggleOverlay); // base
    app.handle(Action::NextRun);
    app.poll();
    app.handle(Action::ToggleOverlay); // halfbatch
    app.handle(Action::NextRun);
    app.poll();
    assert_eq!(app.view.name, "nsl");
    let halfbatch = &app.pinned[1].view;
    assert_eq!(halfbatch.steps_per_epoch, 20);
    assert_eq!(
        epoch_stretch(&app.view, halfbatch),
        0.5,
        "20 steps an epoch drawn as 10"
    );
    let (screen, buffer) = render(&app, 140, 42, T0 + 40.0);
    for needle in ["base val", "halfbatch val", "nsl (running)"] {
        assert!(screen.contains(needle), "missing {needle:?} in\n{screen}");
    }
    let drawn = |color: Color| {
        (0..140u16)
            .flat_map(|x| (2..30u16).map(move |y| (x, y)))
            .any(|(x, y)| buffer[(x, y)].fg == color && buffer[(x, y)].symbol() != " ")
    };
    assert!(
        drawn(Color::DarkGray) && drawn(Color::LightBlue),
        "both pinned curves"
    );
    // The window ends at the selected run's step 20, where halfbatch's 40 steps end, stretched.
    assert_eq!(app.step_window().1, 20.0);

    // Pinning a fifth run unpins the oldest; `o` on a pinned run unpins it.
    for _ in 0..MAX_PINNED {
        app.handle(Action::ToggleOverlay);
        app.handle(Action::NextRun);
    }
    let pinned: Vec<&str> = app.pinned.iter().map(|o| o.view.name.as_str()).collect();
    assert_eq!(pinned, ["nsl", "graph", "both", "sixth"]);
    app.handle(Action::PreviousRun);
    assert_eq!(app.view.name, "sixth");
    app.handle(Action::ToggleOverlay);
    assert_eq!(app.pinned.len(), MAX_PINNED - 1);
}
