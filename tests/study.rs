//! The study's path through the `fer` binary: recipes, three classes, time budgets,
//! predictions out, and the report, on tiny networks and synthetic faces.

mod common;

use std::path::Path;
use std::process::Output;

use common::{fer, stdout};

fn fails_with(output: Output, needle: &str) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected a failure: {needle}");
    assert!(err.contains(needle), "missing '{needle}' in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn run_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(fer::run::RUN_INFO_FILE)).unwrap())
        .unwrap()
}

/// Parses a predictions CSV into (header, rows of cells).
fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let split = |l: &str| l.split(',').map(String::from).collect::<Vec<_>>();
    let header = split(lines.next().unwrap());
    (header, lines.map(split).collect())
}

#[test]
fn the_three_class_recipe_runs_from_the_cli_and_evaluation_finds_its_test_faces() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = fer(
        &[
            "train",
            "--recipe",
            "report-3class",
            "--preset",
            "tiny",
            "--data",
            "synthetic:500",
            "--epochs",
            "1",
            "--name",
            "three",
        ],
        d,
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    stdout(&out);
    assert!(err.contains("(3 classes, flex backend)"), "{err}");
    let info = run_json(&d.join("runs/three"));
    assert_eq!(
        info["classes"],
        serde_json::json!(["happiness", "sadness", "neutral"])
    );
    assert_eq!(info["config"]["recipe"], "report-3class");
    assert_eq!(info["config"]["adversarial"]["multiplier"], 0.3);
    assert_eq!(info["config"]["augment"]["rotation_degrees"], 10.0);
    assert!(info["data"].as_str().unwrap().starts_with("synthetic:500"));

    // The same flag without a recipe: the panic of issue 13 ("Mismatch between definition
    // and access of `classes`") must stay fixed.
    stdout(&fer(
        &[
            "train",
            "--classes",
            "happiness,sad,6",
            "--preset",
            "tiny",
            "--data",
            "synthetic:300",
            "--epochs",
            "1",
            "--name",
            "flags",
        ],
        d,
    ));
    let classes = &run_json(&d.join("runs/flags"))["classes"];
    assert_eq!(
        classes,
        &serde_json::json!(["happiness", "sadness", "neutral"])
    );
    fails_with(
        fer(&["train", "--classes", "happiness,glee"], d),
        "'glee' is not an emotion",
    );
    fails_with(
        fer(&["train", "--recipe", "report-9"], d),
        "unknown recipe 'report-9'",
    );

    // Evaluation of a 3-class run sees only those classes, on the PrivateTest faces.
    let eval = stdout(&fer(
        &[
            "eval",
            "--checkpoint",
            "runs/three",
            "--data",
            "synthetic:500",
            "--predictions",
            "p.csv",
        ],
        d,
    ));
    assert!(eval.contains("(test): loss"), "{eval}");
    let (header, rows) = table(&d.join("p.csv"));
    assert_eq!(
        header,
        [
            "index",
            "usage",
            "true",
            "predicted",
            "p_happiness",
            "p_sadness",
            "p_neutral"
        ]
    );
    assert!(rows.iter().all(|r| r[1] == "PrivateTest"));
    assert!(rows
        .iter()
        .all(|r| ["3", "4", "6"].contains(&r[2].as_str())));
}

#[test]
fn predictions_and_wrong_faces_agree_with_the_confusion_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stdout(&fer(
        &[
            "data",
            "synth",
            "--n",
            "400",
            "--seed",
            "3",
            "--usage",
            "0.7,0.15,0.15",
            "--out",
            "faces.csv",
        ],
        d,
    ));
    stdout(&fer(
        &[
            "train",
            "--data",
            "faces.csv",
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--name",
            "r",
        ],
        d,
    ));
    let eval = stdout(&fer(
        &[
            "eval",
            "--checkpoint",
            "runs/r",
            "--data",
            "faces.csv",
            "--split",
            "validation",
            "--show-wrong",
            "5",
            "--predictions",
            "out/pred.csv",
            "--attack",
            "fgsm",
            "--eps",
            "0.02",
        ],
        d,
    ));
    assert!(eval.contains("accuracy under FGSM attack"), "{eval}");
    let (header, rows) = table(&d.join("out/pred.csv"));
    assert_eq!(header.len(), 4 + 7);
    assert_eq!(header[4], "p_anger");
    assert_eq!(header[10], "p_neutral");
    // File order, every PublicTest face once, probabilities summing to 1.
    let index: Vec<usize> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(index.windows(2).all(|w| w[0] < w[1]));
    assert!(rows.iter().all(|r| r[1] == "PublicTest"));
    let faces = fer::data::csv::read_csv(d.join("faces.csv"), &Default::default())
        .unwrap()
        .dataset;
    let public: Vec<usize> = (0..faces.len())
        .filter(|&i| faces.usage().unwrap()[i] == fer::data::Split::Validation)
        .collect();
    assert_eq!(index, public);
    for (r, &i) in rows.iter().zip(&index) {
        assert_eq!(r[2], faces.class_of(i).unwrap().index().to_string());
        let p: Vec<f64> = r[4..].iter().map(|v| v.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4);
        let best = (0..7).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(r[3], best.to_string());
    }
    // The printed counts and accuracy are those of the file.
    let wrong: Vec<&Vec<String>> = rows.iter().filter(|r| r[2] != r[3]).collect();
    assert!(
        eval.contains(&format!("{} faces misclassified", wrong.len())),
        "{eval}"
    );
    let accuracy = 1.0 - wrong.len() as f64 / rows.len() as f64;
    assert!(
        eval.contains(&format!("categorical_accuracy {accuracy:.4}")),
        "{accuracy} in {eval}"
    );
    // The confusion matrix's diagonal row for each class equals the file's counts.
    // The listed faces: the 5 most confident wrong ones, with their rows of the file.
    let listed: Vec<&str> = eval
        .lines()
        .skip_while(|l| !l.contains("most confident"))
        .skip(2)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("accuracy"))
        .collect();
    assert_eq!(listed.len(), wrong.len().min(5), "{eval}");
    let confidence = |r: &Vec<String>| {
        r[4 + r[3].parse::<usize>().unwrap()]
            .parse::<f64>()
            .unwrap()
    };
    let mut by_confidence = wrong.clone();
    by_confidence.sort_by(|a, b| confidence(b).total_cmp(&confidence(a)));
    for (line, row) in listed.iter().zip(by_confidence) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], row[0], "{line}");
        assert_eq!(cells[1], "PublicTest");
        let names = fer::data::Emotion::ALL.map(|e| e.name());
        assert_eq!(cells[2], names[row[2].parse::<usize>().unwrap()]);
        assert_eq!(cells[3], names[row[3].parse::<usize>().unwrap()]);
        assert_eq!(cells[4], format!("{:.4}", confidence(row)));
    }
    let none = stdout(&fer(
        &[
            "eval",
            "--checkpoint",
            "runs/r",
            "--data",
            "faces.csv",
            "--show-wrong",
            "0",
        ],
        d,
    ));
    assert!(!none.contains("most confident"), "{none}");

    // Predict the same CSV to a file: the whole file, same columns, same probabilities.
    let predicted = stdout(&fer(
        &[
            "predict",
            "--checkpoint",
            "runs/r",
            "faces.csv",
            "--output",
            "all.csv",
        ],
        d,
    ));
    assert!(
        predicted.contains("predictions of 400 faces"),
        "{predicted}"
    );
    let (all_header, all_rows) = table(&d.join("all.csv"));
    assert_eq!(all_header, header);
    assert_eq!(all_rows.len(), 400);
    for (row, &i) in rows.iter().zip(&index) {
        let again = &all_rows[i];
        assert_eq!(&again[..4], &row[..4]);
        for (a, b) in again[4..].iter().zip(&row[4..]) {
            let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!((a - b).abs() < 1e-5, "{a} {b}");
        }
    }

    // An image-folder tree: paths, true classes and usage from the folders.
    stdout(&fer(&["data", "convert", "faces.csv", "tree"], d));
    let from_images = stdout(&fer(
        &[
            "predict",
            "--checkpoint",
            "runs/r",
            "tree/test",
            "-o",
            "images.csv",
        ],
        d,
    ));
    assert!(from_images.contains("labeled faces right"), "{from_images}");
    let (img_header, img_rows) = table(&d.join("images.csv"));
    assert_eq!(img_header[0], "path");
    assert_eq!(
        img_rows.len(),
        faces
            .usage()
            .unwrap()
            .iter()
            .filter(|&&u| u == fer::data::Split::Test)
            .count()
    );
    assert!(img_rows
        .iter()
        .all(|r| r[0].starts_with("tree/test/") && r[1] == "PrivateTest"));
    assert!(img_rows.iter().all(|r| !r[2].is_empty()));
    fails_with(
        fer(
            &["predict", "--checkpoint", "runs/r", "faces.csv", "tree"],
            d,
        ),
        "give one FER2013 CSV",
    );

    // One unreadable image among good ones: the good ones are predicted, the bad one named.
    std::fs::write(d.join("tree/test/happy/broken.png"), b"not a png").unwrap();
    let mixed = fer(&["predict", "--checkpoint", "runs/r", "tree/test/happy"], d);
    assert!(!mixed.status.success());
    let out = String::from_utf8_lossy(&mixed.stdout);
    let err = String::from_utf8_lossy(&mixed.stderr);
    let good = std::fs::read_dir(d.join("tree/test/happy"))
        .unwrap()
        .count()
        - 1;
    assert_eq!(out.lines().count(), good, "{out}");
    assert!(out
        .lines()
        .all(|l| l.starts_with("tree/test/happy/") && l.contains("%)")));
    assert!(
        err.contains("tree/test/happy/broken.png") && err.contains("1 of the images"),
        "{err}"
    );
}

#[test]
fn a_time_budget_stops_at_an_epoch_end_and_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = [
        "train",
        "--data",
        "synthetic:300",
        "--preset",
        "tiny",
        "--name",
        "budget",
    ];
    let out = stdout(&fer(
        &[&train[..], &["--epochs", "20", "--max-minutes", "0.0001"]].concat(),
        d,
    ));
    assert!(out.contains("stopped after epoch 1 of 20"), "{out}");
    let run = d.join("runs/budget");
    assert_eq!(run_json(&run)["status"], "out_of_time");
    let history = std::fs::read_to_string(run.join(fer::run::HISTORY_FILE)).unwrap();
    assert_eq!(history.lines().count(), 2, "{history}");
    let events = std::fs::read_to_string(run.join(fer::run::EVENTS_FILE)).unwrap();
    assert!(events.contains(r#""status":"out_of_time""#), "{events}");

    let out = stdout(&fer(
        &[&train[..], &["--epochs", "2", "--resume"]].concat(),
        d,
    ));
    assert!(!out.contains("stopped after"), "{out}");
    assert_eq!(run_json(&run)["status"], "finished");
    fails_with(
        fer(&[&train[..], &["--max-minutes", "-1"]].concat(), d),
        "--max-minutes -1: expected a positive number",
    );
}

#[test]
fn the_report_covers_finished_stopped_and_failed_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = ["--data", "synthetic:300", "--preset", "tiny"];
    stdout(&fer(
        &[
            &[
                "train",
                "--recipe",
                "report-5.2",
                "--epochs",
                "2",
                "--name",
                "nsl",
            ],
            &data[..],
        ]
        .concat(),
        d,
    ));
    stdout(&fer(
        &[&["train", "--epochs", "2", "--name", "plain"], &data[..]].concat(),
        d,
    ));
    stdout(&fer(
        &[
            &[
                "train",
                "--recipe",
                "report-4.2",
                "--epochs",
                "9",
                "--max-minutes",
                "0.0001",
                "--name",
                "short",
            ],
            &data[..],
        ]
        .concat(),
        d,
    ));
    // A run that diverges in its first epoch: no checkpoint, a failure message.
    let failed = fer(
        &[
            &["train", "--lr", "1e38", "--epochs", "2", "--name", "nan"],
            &data[..],
        ]
        .concat(),
        d,
    );
    assert!(!failed.status.success());

    let out = stdout(&fer(
        &[
            "report",
            "runs/nsl",
            "runs/plain",
            "runs/short",
            "runs/nan",
            "--out",
            "report",
            "--eps",
            "0.02",
            "--attack-faces",
            "40",
            "--pgd-iterations",
            "2",
        ],
        d,
    ));
    assert!(out.contains("report.md"), "{out}");
    let md = std::fs::read_to_string(d.join("report/report.md")).unwrap();
    for needle in [
        "## Runs",
        "Robustness side by side",
        "nsl (NSL)",
        "plain (plain)",
        "## Run nsl",
        "recipe: report-5.2",
        "FER2013 Usage",
        "### Classification report (test part)",
        "weighted avg",
        "| FGSM | 0.02 |",
        "| PGD | 0.02 |",
        "### Beside the study (report-5.2)",
        "| test accuracy |",
        "| 0.7049 |",
        "trained 2 of the recipe's 30 epochs",
        "stratified 0.9/0.10 split of all faces (seed 42)",
        "time budget was spent (1 of 9 epochs",
        "FAILED after 0 of 2 epochs",
        "not finite",
        "No checkpoint",
    ] {
        assert!(md.contains(needle), "missing '{needle}' in\n{md}");
    }
    for picture in [
        "nsl-curves.png",
        "nsl-confusion.png",
        "short-curves.png",
        "plain-confusion.png",
    ] {
        assert!(md.contains(picture), "{picture}");
        let bytes = std::fs::read(d.join("report").join(picture)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{picture}");
    }
    let html = std::fs::read_to_string(d.join("report/report.html")).unwrap();
    assert!(html.contains("<img src=\"nsl-curves.png\"") && html.contains("<table>"));
    assert!(html.contains("Beside the study (report-5.2)"));

    // The test part of report-5.2 is PrivateTest: the report's accuracy is eval's.
    let eval = stdout(&fer(
        &[
            "eval",
            "--checkpoint",
            "runs/nsl/checkpoints/last.ckpt",
            "--data",
            "synthetic:300",
        ],
        d,
    ));
    let accuracy = eval
        .split("categorical_accuracy ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap();
    assert!(
        md.contains(&format!("| test accuracy | {accuracy} | 0.7049 |")),
        "{accuracy}\n{md}"
    );

    fails_with(
        fer(&["report", "nowhere", "--out", "r2"], d),
        "nowhere: not a run directory",
    );

    // Report flags: other parts, no attacks, other data.
    stdout(&fer(
        &[
            "report",
            "runs/plain",
            "--out",
            "r3",
            "--splits",
            "train,test",
            "--eps",
            "none",
            "--data",
            "synthetic:200:9",
            "--batch-size",
            "17",
        ],
        d,
    ));
    let md = std::fs::read_to_string(d.join("r3/report.md")).unwrap();
    assert!(
        md.contains("| train | 158 |") && md.contains("| test | 21 |"),
        "{md}"
    );
    assert!(md.contains("evaluated on synthetic:200:9"), "{md}");
    assert!(
        !md.contains("| validation |") && !md.contains("### Robustness"),
        "{md}"
    );
    assert!(!md.contains("## Runs"), "one run: no summary\n{md}");

    // Eval's attack flags: the model attacked through itself or through a reference.
    let attack = |extra: &[&str]| {
        let base = [
            "eval",
            "--checkpoint",
            "runs/nsl",
            "--data",
            "synthetic:300",
            "--split",
            "all",
            "--attack",
            "pgd",
            "--eps",
            "0.03",
            "--pgd-iterations",
            "2",
            "--batch-size",
            "64",
        ];
        let out = stdout(&fer(&[&base[..], extra].concat(), d));
        assert!(out.starts_with("300 faces (all)"), "{out}");
        assert!(out.contains("accuracy under PGD attack"), "{out}");
        out.lines()
            .find(|l| l.contains("eps 0.03"))
            .unwrap()
            .to_string()
    };
    assert_eq!(attack(&[]), attack(&["--reference", "runs/nsl"]));
    fails_with(
        fer(
            &[
                "eval",
                "--checkpoint",
                "runs/nsl",
                "--data",
                "synthetic:300",
                "--attack",
                "fgsm",
                "--reference",
                "nope",
            ],
            d,
        ),
        "nope",
    );
}
