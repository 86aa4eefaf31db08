//! The `fer` binary end to end: real files in, real output and exit codes out.

mod common;

use common::{fer, stdout};

#[test]
fn synth_stats_and_convert_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = stdout(&fer(
        &[
            "data",
            "synth",
            "--n",
            "120",
            "--seed",
            "4",
            "--usage",
            "0.8,0.1,0.1",
            "--out",
            "s.csv",
        ],
        d,
    ));
    assert!(out.contains("wrote 120 synthetic faces"), "{out}");

    let stats = stdout(&fer(&["data", "stats", "s.csv"], d));
    assert!(stats.contains("s.csv: 120 faces"), "{stats}");
    for needle in [
        "happiness",
        "disgust",
        "Training",
        "PrivateTest",
        "median",
        "normalization",
    ] {
        assert!(stats.contains(needle), "missing {needle} in\n{stats}");
    }

    stdout(&fer(&["data", "convert", "s.csv", "tree"], d));
    assert!(d.join("tree/train").is_dir());
    stdout(&fer(&["data", "convert", "tree", "back.csv.gz"], d));
    let back = stdout(&fer(&["data", "stats", "back.csv.gz"], d));
    assert!(back.contains("back.csv.gz: 120 faces"), "{back}");
    // Same class table either way (the folder tree reorders rows, not counts).
    let table = |s: &str| s.lines().skip(1).take(10).collect::<Vec<_>>().join("\n");
    assert_eq!(table(&back), table(&stats));

    // An existing CSV is only replaced when asked.
    let again = fer(&["data", "convert", "tree", "back.csv.gz"], d);
    assert!(!again.status.success());
    std::fs::write(d.join("back.csv.gz"), "stale").unwrap();
    stdout(&fer(
        &["data", "convert", "tree", "back.csv.gz", "--force"],
        d,
    ));
    let replaced = stdout(&fer(&["data", "stats", "back.csv.gz"], d));
    assert_eq!(table(&replaced), table(&stats));
}

#[test]
fn bad_input_prints_the_location_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.csv"), "emotion,pixels\n9,1 2 3\n").unwrap();
    let output = fer(&["data", "stats", "bad.csv"], d);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("bad.csv:2: column 'emotion': label 9 is outside 0-6"),
        "{err}"
    );

    let lenient = fer(&["data", "stats", "--lenient", "bad.csv"], d);
    let err = String::from_utf8_lossy(&lenient.stderr);
    assert!(!lenient.status.success(), "nothing left to describe");
    assert!(
        err.contains("bad.csv: all 1 rows are bad, the first: bad.csv:2: column 'emotion': label 9 is outside 0-6"),
        "{err}"
    );

    let missing = fer(&["data", "stats", "nope.csv"], d);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.csv"));

    let usage = fer(
        &["data", "synth", "--usage", "0.8,0.2", "--out", "x.csv"],
        d,
    );
    assert!(!usage.status.success());
    assert!(String::from_utf8_lossy(&usage.stderr).contains("expected three fractions"));
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["data", "--help"],
        vec!["data", "stats", "--help"],
        vec!["data", "synth", "--help"],
        vec!["data", "convert", "--help"],
        vec!["bench", "load", "--help"],
        vec!["bench", "train", "--help"],
        vec!["export", "--help"],
    ] {
        let out = stdout(&fer(&args, dir.path()));
        assert!(out.contains("Usage: fer"), "{args:?}: {out}");
    }
}

#[test]
fn summary_prints_the_study_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&fer(&["summary", "--preset", "report-4.2"], dir.path()));
    assert!(out.contains("Total params: 2,395,591"), "{out}");
    assert!(out.contains("Non-trainable params: 2,048"), "{out}");
    let bad = fer(&["summary", "--preset", "huge"], dir.path());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown preset 'huge'"));
}

#[test]
fn train_resume_evaluate_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = [
        "train",
        "--data",
        "synthetic:400",
        "--preset",
        "tiny",
        "--adversarial",
        "--name",
        "cli",
    ];
    let out = fer(&[&train[..], &["--epochs", "2"]].concat(), d);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("epoch 2/2: loss"), "{err}");
    assert!(stdout(&out).contains("best validation accuracy"));
    for file in [
        fer::run::RUN_INFO_FILE,
        fer::run::EVENTS_FILE,
        fer::run::HISTORY_FILE,
        "checkpoints/last.ckpt",
        "checkpoints/best.ckpt",
    ] {
        assert!(d.join("runs/cli").join(file).is_file(), "{file}");
    }

    let resumed = fer(&[&train[..], &["--epochs", "3", "--resume"]].concat(), d);
    let err = String::from_utf8_lossy(&resumed.stderr).into_owned();
    assert!(
        resumed.status.success() && err.contains("resuming after epoch 2"),
        "{err}"
    );
    assert!(
        err.contains("epoch 3/3") && !err.contains("epoch 1/3"),
        "{err}"
    );
    let history = std::fs::read_to_string(d.join("runs/cli/history.csv")).unwrap();
    assert_eq!(history.lines().count(), 4);

    let ckpt = "runs/cli";
    let eval = stdout(&fer(
        &[
            "eval",
            "--checkpoint",
            ckpt,
            "--data",
            "synthetic:400",
            "--attack",
            "fgsm",
            "--eps",
            "0.01",
        ],
        d,
    ));
    for needle in [
        "categorical_accuracy",
        "precision",
        "weighted avg",
        "true\\pred",
        "misclassified",
        "eps 0.01",
    ] {
        assert!(eval.contains(needle), "missing {needle} in\n{eval}");
    }

    let face = fer::data::synth::synthesize(&fer::data::synth::SynthConfig {
        n: 1,
        seed: 1,
        ..Default::default()
    })
    .unwrap();
    image::GrayImage::from_raw(48, 48, face.face(0).to_vec())
        .unwrap()
        .save(d.join("face.png"))
        .unwrap();
    let predicted = stdout(&fer(&["predict", "--checkpoint", ckpt, "face.png"], d));
    assert!(
        predicted.starts_with("face.png: ") && predicted.contains("%)"),
        "{predicted}"
    );

    std::fs::remove_file(d.join("runs/cli/curves.png")).unwrap();
    let plotted = stdout(&fer(&["plot", "runs/cli"], d));
    assert!(
        plotted.contains("curves.png") && d.join("runs/cli/curves.png").is_file(),
        "{plotted}"
    );

    let missing = fer(&["eval", "--checkpoint", "nope.ckpt"], d);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.ckpt"));
}

#[test]
fn config_files_are_checked_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("run.toml"), "epochs = 2\nlearning_rat = 0.1\n").unwrap();
    let out = fer(&["train", "--config", "run.toml"], d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("run.toml") && err.contains("learning_rat"),
        "{err}"
    );

    std::fs::write(d.join("adv.toml"), "[adversarial]\npgd_iterations = 0\n").unwrap();
    let out = fer(&["train", "--config", "adv.toml"], d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("adversarial.pgd_iterations (flag --pgd-iterations): must be at least 1"),
        "{err}"
    );
}

#[test]
fn bench_train_times_what_it_is_asked_in_order_and_writes_the_rates_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&fer(
        &[
            "bench",
            "train",
            "--preset",
            "tiny",
            "--batch-size",
            "10",
            "--images",
            "30",
            "--predict-images",
            "20",
            "--which",
            "predict,train",
            "--backend",
            "flex",
            "--device",
            "cpu",
            "--json",
            "out/rates.json",
        ],
        dir.path(),
    ));
    assert!(
        out.contains("batch 10, 30 images per training pass, 20 predicted"),
        "{out}"
    );
    let predict = out.find("  predict ").expect("a predict line");
    let train = out.find("  train ").expect("a train line");
    assert!(predict < train, "measured in the order asked:\n{out}");
    assert!(!out.contains("  adv "), "{out}");

    let json = std::fs::read_to_string(dir.path().join("out/rates.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["preset"], "tiny");
    assert_eq!(json["batch_size"], 10);
    assert_eq!(json["images"], 30);
    assert_eq!(json["predict_images"], 20);
    let backends = json["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 1, "{json}");
    let flex = &backends[0];
    assert_eq!(flex["name"], "fer flex");
    assert_eq!(flex["device"], "cpu");
    assert!(flex["adv"].is_null(), "{json}");
    for measured in ["train", "predict"] {
        let wall = flex[measured]["wall"].as_f64().unwrap();
        assert!(wall.is_finite() && wall > 0.0, "{measured}: {json}");
    }
    assert!(flex["peak_rss_mib"].as_u64().unwrap() > 0, "{json}");
}

#[test]
fn bench_train_rejects_an_unknown_measurement_and_a_pass_with_nothing_to_time() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = fer(
        &["bench", "train", "--which", "train,adversarial"],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success());
    assert!(
        stderr.contains("'adversarial'") && stderr.contains("predict"),
        "{stderr}"
    );

    let empty = fer(
        &[
            "bench",
            "train",
            "--preset",
            "tiny",
            "--batch-size",
            "10",
            "--images",
            "10",
            "--which",
            "train",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&empty.stderr);
    assert!(!empty.status.success());
    assert!(
        stderr.contains("--images 10 leaves nothing to time"),
        "{stderr}"
    );
}

/// Waits until the run's event log holds a line containing `needle`.
fn wait_for_event(log: &std::path::Path, needle: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(log).is_ok_and(|text| text.contains(needle)) {
        assert!(
            std::time::Instant::now() < deadline,
            "no {needle} in {log:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_signal_ends_the_run_interrupted_and_resume_picks_it_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = [
        "train",
        "--data",
        "synthetic:3000",
        "--preset",
        "tiny",
        "--batch-size",
        "20",
        "--epochs",
        "2",
        "--name",
        "sig",
    ];
    let run = d.join("runs/sig");
    let log = run.join(fer::run::EVENTS_FILE);
    let interrupt = |args: &[&str], after: &str, signal: i32| {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_fer"))
            .args(args)
            .current_dir(d)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_event(&log, after);
        // SAFETY: signals the child this test started, which has not been waited for.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        child.wait_with_output().unwrap()
    };
    let status = || fer::run::RunInfo::read(&run).unwrap().status;

    // Ctrl-C during the first epoch: no checkpoint yet.
    let out = interrupt(&train, "\"step\"", libc::SIGINT);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(status(), fer::run::RunStatus::Interrupted);
    let last = std::fs::read_to_string(&log).unwrap();
    let last = last.lines().last().unwrap();
    assert!(
        last.contains("\"run_end\"") && last.contains("\"interrupted\""),
        "{last}"
    );
    assert!(!run.join("checkpoints/last.ckpt").exists());

    // Resuming starts it over; SIGTERM after the first epoch keeps its checkpoint.
    let resume = [&train[..], &["--resume"]].concat();
    let out = interrupt(&resume, "\"checkpoint\"", libc::SIGTERM);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("starting it over"), "{err}");
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert_eq!(status(), fer::run::RunStatus::Interrupted);
    assert!(run.join("checkpoints/last.ckpt").exists());

    let out = fer(&resume, d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("resuming after epoch 1"), "{err}");
    assert_eq!(status(), fer::run::RunStatus::Finished);
}

/// The edges of a TSV graph file.
fn graph_edges(path: &std::path::Path) -> Vec<(u32, u32, f32)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn graph_build_stats_and_training_with_the_graph() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let build = |extra: &[&str]| {
        let args = [&["graph", "build", "--data", "synthetic:300:3"][..], extra].concat();
        fer(&args, d)
    };
    let loose = build(&["--out", "pix.tsv", "--similarity-threshold", "0.7"]);
    let err = String::from_utf8_lossy(&loose.stderr).into_owned();
    assert!(err.contains("300 faces as 2304 values each"), "{err}");
    assert!(stdout(&loose).contains("label agreement"));
    let pixels = graph_edges(&d.join("pix.tsv"));
    // Weights can differ in the last bit between ways of computing them: compare pairs.
    let in_pixels = |e: &(u32, u32, f32)| pixels.iter().any(|p| (p.0, p.1) == (e.0, e.1));
    assert!(pixels.len() > 100 && pixels.iter().all(|e| e.2 >= 0.7));

    stdout(&build(&[
        "--out",
        "strict.tsv",
        "--similarity-threshold",
        "0.8",
    ]));
    let strict = graph_edges(&d.join("strict.tsv"));
    assert!(strict.len() < pixels.len() && strict.iter().all(in_pixels));

    // An existing graph is replaced only when asked; --top-k bounds the out-degree.
    let again = build(&["--out", "pix.tsv"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("pix.tsv exists: pass --force"));
    let top = [
        "--out",
        "top.tsv",
        "--similarity-threshold",
        "0.7",
        "--top-k",
        "2",
    ];
    stdout(&build(&top));
    std::fs::write(d.join("top.tsv"), "stale").unwrap();
    stdout(&build(&[&top[..], &["--force"]].concat()));
    let top = graph_edges(&d.join("top.tsv"));
    for source in 0..300 {
        let degree = top.iter().filter(|e| e.0 == source).count();
        let available = pixels.iter().filter(|e| e.0 == source).count();
        assert_eq!(degree, available.min(2), "face {source}");
    }

    // LSH compares fewer pairs: a seeded subset of the exact edges.
    let lsh = |seed: &str, out: &str| {
        let args = [
            "--out",
            out,
            "--similarity-threshold",
            "0.7",
            "--lsh-splits",
            "3",
            "--lsh-rounds",
            "1",
            "--seed",
            seed,
        ];
        let err = String::from_utf8_lossy(&build(&args).stderr).into_owned();
        assert!(
            err.contains("within LSH buckets (3 splits, 1 rounds)"),
            "{err}"
        );
        graph_edges(&d.join(out))
    };
    let (a, b) = (lsh("4", "a.tsv"), lsh("5", "b.tsv"));
    assert!(a.len() < pixels.len() && a.iter().all(in_pixels));
    assert_ne!(a, b, "another seed, other hyperplanes");
    assert_eq!(a, lsh("4", "c.tsv"));

    let capped = build(&[
        "--out",
        "x.tsv",
        "--similarity-threshold",
        "0.7",
        "--max-edges",
        "10",
    ]);
    assert!(String::from_utf8_lossy(&capped.stderr).contains("more than 10 edges"));
    assert!(!d.join("x.tsv").exists());
    let no_model = build(&["--out", "x.tsv", "--embedding", "logits"]);
    assert!(
        String::from_utf8_lossy(&no_model.stderr).contains("--embedding logits needs --checkpoint")
    );

    // Embeddings from a trained network: penultimate by default, or its logits.
    let base = [
        "train",
        "--data",
        "synthetic:300:3",
        "--preset",
        "tiny",
        "--epochs",
        "1",
    ];
    stdout(&fer(&[&base[..], &["--name", "base"]].concat(), d));
    let from_model = |extra: &[&str]| {
        let out = build(
            &[
                &[
                    "--checkpoint",
                    "runs/base",
                    "--similarity-threshold",
                    "0.99",
                ][..],
                extra,
            ]
            .concat(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let logits = from_model(&[
        "--embedding",
        "logits",
        "--batch-size",
        "7",
        "--out",
        "l7.tsv",
    ]);
    assert!(logits.contains("300 faces as 7 values each"), "{logits}");
    from_model(&["--embedding", "logits", "--out", "l256.tsv"]);
    // Batching is inference only: the same graph, up to float rounding.
    let (l7, l256) = (
        graph_edges(&d.join("l7.tsv")),
        graph_edges(&d.join("l256.tsv")),
    );
    assert_eq!(l7.len(), l256.len());
    assert!(l7
        .iter()
        .zip(&l256)
        .all(|(a, b)| (a.0, a.1) == (b.0, b.1) && (a.2 - b.2).abs() < 1e-5));
    let penultimate = from_model(&["--out", "pen.tsv"]);
    assert!(
        !penultimate.contains("as 7 values") && !penultimate.contains("as 2304 values"),
        "{penultimate}"
    );
    let probabilities = from_model(&["--embedding", "probabilities", "--out", "p.tsv"]);
    assert!(probabilities.contains("as 7 values each"));
    assert_ne!(
        graph_edges(&d.join("p.tsv")),
        graph_edges(&d.join("l7.tsv"))
    );
    let gpu = build(&[
        "--checkpoint",
        "runs/base",
        "--out",
        "g.tsv",
        "--backend",
        "flex",
        "--device",
        "cuda:0",
    ]);
    assert!(String::from_utf8_lossy(&gpu.stderr).contains("--backend tch"));

    // Stats: the graph alone, or against the data it indexes.
    let alone = stdout(&fer(&["graph", "stats", "pix.tsv"], d));
    assert!(
        alone.contains(&format!("edges            {}", pixels.len())),
        "{alone}"
    );
    assert!(!alone.contains("label agreement"));
    let with_data = stdout(&fer(
        &[
            "graph",
            "stats",
            "pix.tsv",
            "--data",
            "synthetic:300:3",
            "--lenient",
        ],
        d,
    ));
    assert!(
        with_data.contains("label agreement") && with_data.contains("isolated faces"),
        "{with_data}"
    );

    // Training with the graph: every graph flag lands in the run's configuration.
    let graph_run = [
        "--name",
        "graph",
        "--graph",
        "pix.tsv",
        "--graph-multiplier",
        "0.5",
        "--max-neighbors",
        "2",
        "--add-undirected-edges",
        "--graph-output",
        "logits",
        "--distance-type",
        "cosine",
        "--sum-over-axis",
        "-1",
        "--graph-reduction",
        "mean",
        "--transform-fn",
        "softmax",
    ];
    let out = fer(&[&base[..], &graph_run[..]].concat(), d);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains(" graph 0."), "{err}");
    let info = fer::run::RunInfo::read(&d.join("runs/graph")).unwrap();
    let graph = &info.config["graph"];
    assert_eq!(graph["file"], "pix.tsv");
    assert_eq!(graph["multiplier"], 0.5);
    assert_eq!(graph["max_neighbors"], 2);
    assert_eq!(graph["add_undirected_edges"], true);
    assert_eq!(graph["output"], "logits");
    let distance = &graph["distance"];
    assert_eq!(distance["distance_type"], "cosine");
    assert_eq!(distance["sum_over_axis"], -1);
    assert_eq!(distance["reduction"], "mean");
    assert_eq!(distance["transform_fn"], "softmax");
    let history = std::fs::read_to_string(d.join("runs/graph/history.csv")).unwrap();
    assert!(history.starts_with("epoch,loss,categorical_crossentropy,categorical_accuracy,scaled_adversarial_loss,scaled_graph_loss,"));

    // A graph setting without a graph, and a graph that is not there.
    let stray = fer(&[&base[..], &["--max-neighbors", "3"]].concat(), d);
    assert!(String::from_utf8_lossy(&stray.stderr)
        .contains("--max-neighbors sets graph regularization: also pass --graph FILE"));
    let missing = fer(&[&base[..], &["--graph", "nope.tsv"]].concat(), d);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.tsv: No such file"));
}

#[test]
fn packed_data_trains_and_evaluates_like_its_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let faces = fer::data::synth::synthesize(&fer::data::synth::SynthConfig {
        n: 200,
        seed: 2,
        usage: Some([0.8, 0.1, 0.1]),
        ..Default::default()
    })
    .unwrap();
    fer::data::csv::write_csv(&faces, d.join("s.csv")).unwrap();
    let packed = stdout(&fer(&["data", "pack", "s.csv", "s.ferpack"], d));
    assert!(
        packed.starts_with("packed 200 faces from s.csv into s.ferpack ("),
        "{packed}"
    );
    // The same faces, counts and pixel statistics either way.
    let csv = stdout(&fer(&["data", "stats", "s.csv"], d));
    let pack = stdout(&fer(&["data", "stats", "s.ferpack"], d));
    assert_eq!(csv.replace("s.csv", "X"), pack.replace("s.ferpack", "X"));

    // An existing pack is replaced only when asked.
    let again = fer(&["data", "pack", "s.csv", "s.ferpack"], d);
    assert!(String::from_utf8_lossy(&again.stderr).contains("s.ferpack exists: pass --force"));
    std::fs::write(d.join("s.ferpack"), "stale").unwrap();
    stdout(&fer(&["data", "pack", "s.csv", "s.ferpack", "--force"], d));
    assert_eq!(stdout(&fer(&["data", "stats", "s.ferpack"], d)), pack);
    // A lenient pack skips a bad row and keeps the others' CSV rows.
    let mut text = std::fs::read_to_string(d.join("s.csv")).unwrap();
    text = text.replacen("\n3,", "\n9,", 1);
    std::fs::write(d.join("bad.csv"), text).unwrap();
    assert!(!fer(&["data", "pack", "bad.csv", "bad.ferpack"], d)
        .status
        .success());
    let lenient = fer(&["data", "pack", "bad.csv", "bad.ferpack", "--lenient"], d);
    assert!(String::from_utf8_lossy(&lenient.stderr).contains("skipped 1 bad rows"));
    assert!(stdout(&fer(&["data", "stats", "bad.ferpack"], d)).contains("199 faces"));

    let train = |data: &str, name: &str| {
        let args = [
            "train", "--data", data, "--preset", "tiny", "--epochs", "1", "--name", name,
        ];
        let out = fer(&args, d);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(d.join("runs").join(name).join("history.csv")).unwrap()
    };
    let history = |text: String| {
        text.lines()
            .nth(1)
            .unwrap()
            .rsplit_once(',')
            .unwrap()
            .0
            .to_string()
    };
    assert_eq!(
        history(train("s.ferpack", "p")),
        history(train("s.csv", "c")),
        "the same run"
    );
}

#[test]
fn repeated_faces_are_reported_and_packed_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let faces = fer::data::synth::synthesize(&fer::data::synth::SynthConfig {
        n: 200,
        seed: 8,
        usage: Some([1.0, 0.0, 0.0]),
        ..Default::default()
    })
    .unwrap();
    fer::data::csv::write_csv(&faces, d.join("s.csv")).unwrap();
    let text = std::fs::read_to_string(d.join("s.csv")).unwrap();
    let distinct = stdout(&fer(&["data", "stats", "s.csv"], d));
    assert!(
        distinct.contains("duplicates: none (every face is distinct)"),
        "{distinct}"
    );
    // 50 Training rows again as PublicTest, 10 of them under another label; then 20 of
    // those once more (a face three times).
    let rows: Vec<&str> = text.lines().skip(1).take(50).collect();
    let mut repeated = text.clone();
    for (i, row) in rows.iter().enumerate() {
        let (label, rest) = row.split_once(',').unwrap();
        let label = match i < 10 {
            true => (label.parse::<u8>().unwrap() + 1) % 7,
            false => label.parse().unwrap(),
        };
        repeated += &format!("{label},{}\n", rest.replace("Training", "PublicTest"));
    }
    for row in &rows[..20] {
        repeated += &format!("{row}\n");
    }
    std::fs::write(d.join("r.csv"), repeated).unwrap();
    let stats = stdout(&fer(&["data", "stats", "r.csv"], d));
    for line in [
        "duplicates: 70 faces repeat an earlier one (50 distinct faces occur 2 to 3 times)",
        "50 of 50 PublicTest faces (100.0%) equal a Training face",
        "10 repeated faces carry more than one label",
    ] {
        assert!(stats.contains(line), "missing {line} in\n{stats}");
    }
    // Packed, the copies cost a few bytes each and come back in their rows.
    let plain = stdout(&fer(&["data", "pack", "s.csv", "s.ferpack"], d));
    assert!(plain.ends_with(" s)\n"), "{plain}");
    let packed = stdout(&fer(&["data", "pack", "r.csv", "r.ferpack"], d));
    assert!(
        packed.contains(" s; 70 repeated faces stored once)"),
        "{packed}"
    );
    let size = |name: &str| std::fs::metadata(d.join(name)).unwrap().len();
    assert!(
        size("r.ferpack") < size("s.ferpack") + 70 * 16 + 200,
        "{} bytes with 70 copies, {} without",
        size("r.ferpack"),
        size("s.ferpack")
    );
    let pack = stdout(&fer(&["data", "stats", "r.ferpack"], d));
    assert_eq!(stats.replace("r.csv", "X"), pack.replace("r.ferpack", "X"));
    let back = fer::data::open(d.join("r.ferpack").to_str().unwrap()).unwrap();
    let csv = fer::data::open(d.join("r.csv").to_str().unwrap()).unwrap();
    assert_eq!(back, csv);
}
