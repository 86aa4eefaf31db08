//! End to end: a real tiny training writes its run directory while the dashboard follows it.

use std::time::{Duration, Instant};

use fer::data::synth::{synthesize, SynthConfig};
use fer::train::{ModelChoice, RunOptions, TrainConfig, Training};
use fer_tui::app::{App, RunEntry};
use fer_tui::runs::{find_runs, pick, table};
use fer_tui::state::Status;
use fer_tui::target::Target;

#[test]
fn the_dashboard_follows_a_training_as_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let trainer = std::thread::spawn({
        let root = root.clone();
        move || {
            let train = synthesize(&SynthConfig {
                n: 600,
                seed: 1,
                ..Default::default()
            })
            .unwrap();
            let val = synthesize(&SynthConfig {
                n: 120,
                seed: 2,
                ..Default::default()
            })
            .unwrap();
            let config = TrainConfig {
                model: ModelChoice::Preset {
                    preset: "tiny".into(),
                },
                epochs: 3,
                batch_size: 20,
                log_every: 1,
                adversarial: Some(Default::default()),
                ..Default::default()
            };
            let options = RunOptions {
                root,
                name: Some("live".into()),
                ..Default::default()
            };
            Training::new(&config)
                .validate_on(&val)
                .save(options)
                .fit(&train)
                .unwrap();
        }
    });

    let run = Target::Local(root.join("live"));
    let mut app = App::new(
        vec![RunEntry {
            name: "live".into(),
            target: run,
            status: Status::Waiting,
        }],
        0,
        false,
    );
    let mut seen_running_mid_epoch = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        app.poll();
        if app.view.status == Status::Running
            && app.view.epoch >= 1
            && app.view.step > 0
            && app.view.step < 30
        {
            seen_running_mid_epoch = true;
        }
        if app.view.status == Status::Finished {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    trainer.join().unwrap();
    app.poll();
    assert!(seen_running_mid_epoch, "saw the run while it was writing");
    assert_eq!(app.view.status, Status::Finished);
    assert_eq!(app.view.epoch, 3);
    assert_eq!(app.view.epoch_accuracy.validation.points().len(), 3);
    assert_eq!(
        app.view
            .confusion
            .as_ref()
            .map(|c| c.iter().flatten().sum::<u64>()),
        Some(120)
    );
    assert_eq!(app.skipped, (0, 0));

    let found = find_runs(&Target::Local(root.clone())).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(pick(&found), 0);
    let listing = table(&found, fer::run::events::unix_now());
    assert!(
        listing.contains("live") && listing.contains("finished") && listing.contains("3/3"),
        "{listing}"
    );
}
