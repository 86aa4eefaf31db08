//! Hostile and careless input, end to end: each case writes its files, runs `fer`, and
//! asserts that the command fails with a clear error (no panic) that says what is wrong.
//!
//! The cases are tables, one per command family; `the_suite_covers_every_command` keeps
//! their count honest.

mod common;

use std::sync::OnceLock;

use common::{fer, stdout};

/// One hostile input: files to write, the command to run in their folder, and the pieces
/// its error message must contain.
struct Case {
    name: String,
    files: Vec<(String, Vec<u8>)>,
    args: Vec<String>,
    expect: Vec<String>,
}

fn case(name: &str, files: Vec<(&str, Vec<u8>)>, args: &[&str], expect: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        files: files
            .into_iter()
            .map(|(path, bytes)| (path.to_string(), bytes))
            .collect(),
        args: args.iter().map(|a| a.to_string()).collect(),
        expect: expect.iter().map(|e| e.to_string()).collect(),
    }
}

/// Runs every case and reports all that misbehave at once.
fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        for (path, bytes) in &case.files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = fer(&args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        if out.status.success() {
            problems.push("succeeded".to_string());
        }
        if out.status.code().is_none() {
            problems.push(format!("died of a signal ({:?})", out.status));
        }
        if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            problems.push("panicked".to_string());
        }
        for want in &case.expect {
            if !stderr.contains(want.as_str()) {
                problems.push(format!("no {want:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  fer {}\n  stderr: {}",
                case.name,
                problems.join(", "),
                case.args.join(" "),
                stderr.trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// 2,304 pixel values, all `value`.
fn pixels(value: &str) -> String {
    vec![value; 2304].join(" ")
}

/// A FER2013 CSV: the standard header and `rows`.
fn csv(rows: &[String]) -> Vec<u8> {
    let mut text = String::from("emotion,pixels,Usage\n");
    for row in rows {
        text += row;
        text += "\n";
    }
    text.into_bytes()
}

/// `n` good rows, labels cycling through the seven classes.
fn good_rows(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{},{},Training", i % 7, pixels(&(i * 37 % 256).to_string())))
        .collect()
}

/// Good rows with `bad` as the fourth (CSV line 5).
fn with_bad_row(bad: String) -> Vec<u8> {
    let mut rows = good_rows(6);
    rows.insert(3, bad);
    csv(&rows)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::GrayImage::from_pixel(width, height, image::Luma([90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn data_cases() -> Vec<Case> {
    let stats = |name: &str, bytes: Vec<u8>, expect: &[&str]| {
        case(
            name,
            vec![("faces.csv", bytes)],
            &["data", "stats", "faces.csv"],
            expect,
        )
    };
    let row = |label: &str, pixels: &str, usage: &str| format!("{label},{pixels},{usage}");
    let good = pixels("7");
    let mut utf16 = vec![0xff, 0xfe];
    for unit in "emotion,pixels\n0,1 2\n".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    let mut utf16_be = vec![0xfe, 0xff];
    for unit in "emotion,pixels\n".encode_utf16() {
        utf16_be.extend(unit.to_be_bytes());
    }
    let without_bom: Vec<u8> = "emotion,pixels\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let gz = gzip(&csv(&good_rows(20)));
    let mut cases = vec![
        stats(
            "empty file",
            Vec::new(),
            &["faces.csv", "the file is empty"],
        ),
        stats(
            "header only",
            b"emotion,pixels,Usage\n".to_vec(),
            &["faces.csv", "no rows"],
        ),
        stats(
            "no pixels column",
            b"emotion,image,Usage\n0,1 2,Training\n".to_vec(),
            &["no 'pixels' column", "found: emotion, image, Usage"],
        ),
        stats(
            "two emotion columns",
            format!("emotion,pixels,emotion\n0,{good},3\n").into_bytes(),
            &["2 'emotion' columns (columns 1, 3)"],
        ),
        stats(
            "two pixels columns",
            format!("pixels,emotion,Pixels\n{good},0,{good}\n").into_bytes(),
            &["2 'pixels' columns (columns 1, 3)"],
        ),
        stats(
            "two usage columns",
            format!("emotion,pixels,Usage,usage\n0,{good},Training,PublicTest\n").into_bytes(),
            &["2 'usage' columns (columns 3, 4)"],
        ),
        stats("UTF-16 LE with BOM", utf16, &["UTF-16", "iconv"]),
        stats("UTF-16 BE with BOM", utf16_be, &["UTF-16 byte-order mark"]),
        stats("UTF-16 without BOM", without_bom, &["NUL bytes"]),
        stats(
            "label 7",
            with_bad_row(row("7", &good, "Training")),
            &["faces.csv:5", "label 7 is outside 0-6"],
        ),
        stats(
            "label -1",
            with_bad_row(row("-1", &good, "Training")),
            &["faces.csv:5", "label -1 is outside 0-6"],
        ),
        stats(
            "label a word",
            with_bad_row(row("happy", &good, "Training")),
            &["faces.csv:5", "'happy' is not a label"],
        ),
        stats(
            "label empty",
            with_bad_row(row("", &good, "Training")),
            &["faces.csv:5", "is not a label"],
        ),
        stats(
            "label 3.5",
            with_bad_row(row("3.5", &good, "Training")),
            &["faces.csv:5", "'3.5' is not a label"],
        ),
        stats(
            "2,303 pixels",
            with_bad_row(row("0", &vec!["1"; 2303].join(" "), "Training")),
            &["faces.csv:5", "2303"],
        ),
        stats(
            "2,305 pixels",
            with_bad_row(row("0", &vec!["1"; 2305].join(" "), "Training")),
            &["faces.csv:5", "2304"],
        ),
        stats(
            "pixel 256",
            with_bad_row(row(
                "0",
                &format!("256 {}", vec!["1"; 2303].join(" ")),
                "Training",
            )),
            &["faces.csv:5", "256"],
        ),
        stats(
            "pixel -1",
            with_bad_row(row(
                "0",
                &format!("-1 {}", vec!["1"; 2303].join(" ")),
                "Training",
            )),
            &["faces.csv:5", "pixels"],
        ),
        stats(
            "pixel a word",
            with_bad_row(row(
                "0",
                &format!("{} x", vec!["1"; 2303].join(" ")),
                "Training",
            )),
            &["faces.csv:5", "pixels"],
        ),
        stats(
            "pixel 1e2",
            with_bad_row(row(
                "0",
                &format!("1e2 {}", vec!["1"; 2303].join(" ")),
                "Training",
            )),
            &["faces.csv:5", "pixels"],
        ),
        stats(
            "pixels empty",
            with_bad_row(row("0", "", "Training")),
            &["faces.csv:5", "pixels"],
        ),
        stats(
            "pixels comma-separated",
            with_bad_row(format!("0,\"{}\",Training", vec!["1"; 2304].join(","))),
            &["faces.csv:5", "pixels"],
        ),
        stats(
            "100,000 pixels",
            with_bad_row(row("0", &vec!["1"; 100_000].join(" "), "Training")),
            &["faces.csv:5", "pixels"],
        ),
        stats(
            "unknown usage",
            with_bad_row(row("0", &good, "Holdout")),
            &["faces.csv:5", "Holdout"],
        ),
        stats(
            "missing pixels field",
            with_bad_row("0".to_string()),
            &["faces.csv:5", "pixels"],
        ),
        stats(
            "unterminated quote",
            with_bad_row(format!("0,\"{good},Training")),
            &["faces.csv"],
        ),
        stats(
            "truncated gzip",
            gz[..gz.len() / 2].to_vec(),
            &["faces.csv"],
        ),
        stats(
            "gzip magic then garbage",
            [&[0x1f, 0x8b][..], &[0x42; 300][..]].concat(),
            &["faces.csv"],
        ),
        stats(
            "binary bytes",
            (0..4000u32).map(|i| (i * 7 % 255 + 1) as u8).collect(),
            &["faces.csv"],
        ),
        case(
            "a file that does not exist",
            vec![],
            &["data", "stats", "missing.csv"],
            &["missing.csv", "No such file"],
        ),
        case(
            "an empty folder",
            vec![("faces/.keep", Vec::new())],
            &["data", "stats", "faces"],
            &["faces"],
        ),
        case(
            "an image that is not one",
            vec![
                ("faces/happy/a.png", png(48, 48)),
                ("faces/happy/b.png", b"not a png".to_vec()),
            ],
            &["data", "stats", "faces"],
            &["b.png"],
        ),
        case(
            "a zero-byte image",
            vec![
                ("faces/sad/a.png", png(48, 48)),
                ("faces/sad/b.png", Vec::new()),
            ],
            &["data", "stats", "faces"],
            &["b.png"],
        ),
        case(
            "a truncated image",
            vec![
                ("faces/sad/a.png", png(48, 48)),
                ("faces/sad/b.png", png(48, 48)[..40].to_vec()),
            ],
            &["data", "stats", "faces"],
            &["b.png"],
        ),
        case(
            "an unknown emotion folder",
            vec![("faces/joyful/a.png", png(48, 48))],
            &["data", "stats", "faces"],
            &["joyful"],
        ),
        case(
            "convert onto an existing CSV",
            vec![
                ("faces/happy/a.png", png(48, 48)),
                ("out.csv", b"precious".to_vec()),
            ],
            &["data", "convert", "faces", "out.csv"],
            &["out.csv exists", "--force"],
        ),
        case(
            "convert into a folder that is not empty",
            vec![
                ("in.csv", csv(&good_rows(3))),
                ("out/notes.txt", b"mine".to_vec()),
            ],
            &["data", "convert", "in.csv", "out"],
            &["out", "not empty"],
        ),
        case(
            "synth of zero faces",
            vec![],
            &["data", "synth", "--n", "0", "--out", "s.csv"],
            &["n must be at least 1"],
        ),
        case(
            "synth with two fractions",
            vec![],
            &["data", "synth", "--usage", "0.8,0.2", "--out", "s.csv"],
            &["expected three fractions"],
        ),
        case(
            "synth with a word for a fraction",
            vec![],
            &["data", "synth", "--usage", "a,b,c", "--out", "s.csv"],
            &["'a,b,c' is not three numbers"],
        ),
        case(
            "bench load of a missing file",
            vec![],
            &["bench", "load", "nothing.csv"],
            &["nothing.csv"],
        ),
    ];
    // A lenient load lists every skipped row, then works.
    let mut lenient = stats(
        "lenient stats still refuses an empty result",
        csv(&[row("9", &good, "Training"), row("8", &good, "Training")]),
        &["faces.csv: all 2 rows are bad, the first: faces.csv:2"],
    );
    lenient.args.push("--lenient".into());
    cases.push(lenient);
    cases
}

/// `fer train` with `extra`, on 60 synthetic faces and the tiny network unless `extra`
/// names others.
fn train(extra: &[&str]) -> Vec<String> {
    let mut args = vec!["train".to_string()];
    for (flag, default) in [("--data", "synthetic:60"), ("--preset", "tiny")] {
        if !extra.contains(&flag) {
            args.extend([flag.to_string(), default.to_string()]);
        }
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn train_flag_cases() -> Vec<Case> {
    let flag = |name: &str, extra: &[&str], expect: &[&str]| Case {
        name: name.to_string(),
        files: Vec::new(),
        args: train(extra),
        expect: expect.iter().map(|e| e.to_string()).collect(),
    };
    vec![
        flag(
            "zero epochs",
            &["--epochs", "0"],
            &["epochs (flag --epochs): must be at least 1"],
        ),
        flag(
            "batch size 0",
            &["--batch-size", "0"],
            &["batch_size (flag --batch-size)"],
        ),
        flag(
            "validation batch size 0",
            &["--val-batch-size", "0"],
            &["validation_batch_size (flag --val-batch-size)"],
        ),
        flag(
            "negative learning rate",
            &["--lr=-1"],
            &["learning_rate (flag --lr)", "-1"],
        ),
        flag(
            "NaN learning rate",
            &["--lr", "nan"],
            &["learning_rate (flag --lr)", "NaN"],
        ),
        flag(
            "infinite learning rate",
            &["--lr", "inf"],
            &["learning_rate (flag --lr)", "inf"],
        ),
        flag("learning rate a word", &["--lr", "fast"], &["--lr", "fast"]),
        flag(
            "negative rotation",
            &["--rotation=-10"],
            &["augment.rotation_degrees (flag --rotation): must be in [0, 180], not -10"],
        ),
        flag(
            "NaN rotation",
            &["--rotation", "nan"],
            &["(flag --rotation)", "NaN"],
        ),
        flag(
            "rotation 400",
            &["--rotation", "400"],
            &["(flag --rotation)", "400"],
        ),
        flag(
            "zoom 5",
            &["--zoom", "5"],
            &["augment.zoom (flag --zoom): must be in [0, 1), not 5"],
        ),
        flag(
            "negative zoom",
            &["--zoom=-0.5"],
            &["(flag --zoom)", "-0.5"],
        ),
        flag(
            "shift 2",
            &["--shift", "2"],
            &["augment.shift (flag --shift)", "not 2"],
        ),
        flag(
            "validation fraction 1.5",
            &["--val-fraction", "1.5"],
            &["--val-fraction 1.5: expected a number strictly between 0 and 1"],
        ),
        flag(
            "validation fraction 1.5 of a stratified recipe",
            &["--recipe", "report-4.2", "--val-fraction", "1.5"],
            &["--val-fraction 1.5: expected"],
        ),
        flag(
            "validation fraction 0",
            &["--val-fraction", "0"],
            &["--val-fraction 0: expected"],
        ),
        flag(
            "negative multiplier",
            &["--multiplier=-1"],
            &["adversarial.multiplier (flag --multiplier)", "not -1"],
        ),
        flag(
            "NaN step size",
            &["--adv-step-size", "nan"],
            &["(flag --adv-step-size)"],
        ),
        flag(
            "zero PGD iterations",
            &["--pgd-iterations", "0"],
            &["(flag --pgd-iterations)"],
        ),
        flag(
            "negative PGD epsilon",
            &["--pgd-epsilon=-1"],
            &["(flag --pgd-epsilon)"],
        ),
        flag(
            "clip min above max",
            &["--clip-min", "1", "--clip-max", "0"],
            &["adversarial.clip_value_min (flag --clip-min): 1 is above clip_value_max 0"],
        ),
        flag(
            "unknown norm",
            &["--adv-grad-norm", "l3"],
            &["'l3' is not a norm"],
        ),
        flag(
            "l1 with a PGD ball",
            &["--adv-grad-norm", "l1", "--pgd-epsilon", "0.1"],
            &["(flag --pgd-epsilon)", "l1"],
        ),
        flag(
            "random init without a ball",
            &["--random-init"],
            &["adversarial.random_init (flag --random-init): needs pgd_epsilon"],
        ),
        flag(
            "unknown class",
            &["--classes", "joy"],
            &["--classes", "joy"],
        ),
        flag(
            "one class",
            &["--classes", "happiness"],
            &["1: need at least 2"],
        ),
        flag(
            "unknown preset",
            &["--preset", "huge"],
            &["model.preset (flag --preset)", "huge"],
        ),
        flag(
            "unknown recipe",
            &["--recipe", "report-9"],
            &["unknown recipe 'report-9'"],
        ),
        flag(
            "empty run name",
            &["--name", ""],
            &["run name \"\" is empty", "--name"],
        ),
        flag(
            "run name with ..",
            &["--name", "../escape"],
            &["one folder name", "--name"],
        ),
        flag(
            "run name with a slash",
            &["--name", "a/b"],
            &["one folder name"],
        ),
        flag("run name .", &["--name", "."], &["must not be . or .."]),
        flag("resume without a name", &["--resume"], &["--name"]),
        flag(
            "resume of no run",
            &["--name", "ghost", "--resume"],
            &["no such run"],
        ),
        flag(
            "unknown backend",
            &["--backend", "cuda"],
            &["unknown backend 'cuda'"],
        ),
        flag(
            "CUDA on the flex backend",
            &["--device", "cuda:0"],
            &["the flex backend runs on the CPU only", "--backend tch"],
        ),
        flag(
            "zero minutes",
            &["--max-minutes", "0"],
            &["--max-minutes 0"],
        ),
        flag(
            "negative minutes",
            &["--max-minutes", "-5"],
            &["--max-minutes -5"],
        ),
        flag(
            "zero synthetic faces",
            &["--data", "synthetic:0"],
            &["synthetic"],
        ),
        flag(
            "synthetic count a word",
            &["--data", "synthetic:many"],
            &["'many'"],
        ),
        flag("missing data file", &["--data", "nope.csv"], &["nope.csv"]),
        flag("unknown flag", &["--epochz", "3"], &["--epochz"]),
        flag(
            "config and recipe",
            &["--config", "a.toml", "--recipe", "report-5.2"],
            &["cannot be used with"],
        ),
        flag(
            "missing config file",
            &["--config", "none.toml"],
            &["none.toml"],
        ),
        Case {
            name: "a foreign folder as the run".into(),
            files: vec![("runs/mine/notes.txt".into(), b"keep me".to_vec())],
            args: train(&["--name", "mine", "--epochs", "1"]),
            expect: vec!["runs/mine exists and is not a fer run".into()],
        },
        Case {
            name: "training data without labels".into(),
            files: vec![(
                "test.csv".into(),
                format!("pixels\n{}\n{}\n", pixels("1"), pixels("2")).into_bytes(),
            )],
            args: ["train", "--data", "test.csv", "--preset", "tiny"]
                .map(String::from)
                .to_vec(),
            expect: vec!["needs labeled faces".into()],
        },
    ]
}

/// `fer train --config run.toml` with `toml` as the file.
fn config_case(name: &str, toml: &str, expect: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        files: vec![("run.toml".into(), toml.as_bytes().to_vec())],
        args: ["train", "--data", "synthetic:60", "--config", "run.toml"]
            .map(String::from)
            .to_vec(),
        expect: expect.iter().map(|e| e.to_string()).collect(),
    }
}

/// A whole network table with one line changed.
fn table(change: (&str, &str)) -> String {
    let mut lines = vec![
        ("name", "\"mine\""),
        ("input", "[48, 48]"),
        (
            "blocks",
            "[{ filters = 8, kernel = 3, convs = 1, dropout = 0.0 }]",
        ),
        ("dense", "[{ units = 16, dropout = 0.0 }]"),
        ("classes", "7"),
        ("batch_norm_epsilon", "0.001"),
        ("batch_norm_momentum", "0.99"),
    ];
    for line in &mut lines {
        if line.0 == change.0 {
            line.1 = change.1;
        }
    }
    let mut text = String::from("epochs = 1\n[model]\n");
    for (key, value) in lines {
        text += &format!("{key} = {value}\n");
    }
    if !text.contains(&format!("{} =", change.0)) {
        text += &format!("{} = {}\n", change.0, change.1);
    }
    text
}

fn config_cases() -> Vec<Case> {
    let adv = |line: &str| format!("[model]\npreset = \"tiny\"\n[adversarial]\n{line}\n");
    let top = |line: &str| format!("{line}\n[model]\npreset = \"tiny\"\n");
    vec![
        config_case("a misspelled field", &top("learning_rat = 0.1"), &["run.toml", "learning_rat"]),
        config_case("epochs a word", &top("epochs = \"ten\""), &["run.toml", "epochs"]),
        config_case("negative epochs", &top("epochs = -1"), &["run.toml", "epochs"]),
        config_case("zero epochs", &top("epochs = 0"), &["epochs (flag --epochs)"]),
        config_case("zero batch", &top("batch_size = 0"), &["batch_size (flag --batch-size)"]),
        config_case(
            "zero validation batch",
            &top("validation_batch_size = 0"),
            &["validation_batch_size"],
        ),
        config_case("NaN learning rate", &top("learning_rate = nan"), &["learning_rate", "NaN"]),
        config_case("huge seed", &top("seed = 1e30"), &["run.toml", "seed"]),
        config_case("syntax error", "epochs = = 3\n", &["run.toml"]),
        config_case("a table for a number", &top("epochs = { a = 1 }"), &["run.toml", "epochs"]),
        config_case("unknown preset", "[model]\npreset = \"huge\"\n", &["model.preset", "huge"]),
        config_case(
            "a preset with a stray field",
            "[model]\npreset = \"tiny\"\nfilters = 3\n",
            &["unknown field `filters`"],
        ),
        config_case("a misspelled table field", &table(("blokcs", "[]")), &["unknown field `blokcs`"]),
        config_case(
            "a table missing a field",
            "[model]\nname = \"x\"\ninput = [48, 48]\n",
            &["missing field"],
        ),
        config_case("dense units 0", &table(("dense", "[{ units = 0, dropout = 0.0 }]")), &["model.dense[0].units: must be at least 1"]),
        config_case(
            "kernel 0",
            &table(("blocks", "[{ filters = 8, kernel = 0, convs = 1, dropout = 0.0 }]")),
            &["model.blocks[0].kernel: must be at least 1"],
        ),
        config_case(
            "filters 0",
            &table(("blocks", "[{ filters = 0, kernel = 3, convs = 1, dropout = 0.0 }]")),
            &["model.blocks[0].filters"],
        ),
        config_case(
            "convs 0",
            &table(("blocks", "[{ filters = 8, kernel = 3, convs = 0, dropout = 0.0 }]")),
            &["model.blocks[0].convs"],
        ),
        config_case(
            "dropout 1",
            &table(("blocks", "[{ filters = 8, kernel = 3, convs = 1, dropout = 1.0 }]")),
            &["model.blocks[0].dropout: 1 is outside [0, 1)"],
        ),
        config_case(
            "dense dropout -0.1",
            &table(("dense", "[{ units = 4, dropout = -0.1 }]")),
            &["model.dense[0].dropout"],
        ),
        config_case(
            "negative BatchNorm epsilon",
            &table(("batch_norm_epsilon", "-0.001")),
            &["model.batch_norm_epsilon: must be a positive number, not -0.001"],
        ),
        config_case(
            "BatchNorm momentum 2",
            &table(("batch_norm_momentum", "2.0")),
            &["model.batch_norm_momentum: must be in [0, 1], not 2"],
        ),
        config_case(
            "an input the faces do not fit",
            &table(("input", "[32, 32]")),
            &["model.input: 32x32 does not fit the faces, which are 48x48"],
        ),
        config_case(
            "an input too small for its poolings",
            &table(("input", "[1, 1]")),
            &["model.blocks", "too small"],
        ),
        config_case("a negative input", &table(("input", "[-48, 48]")), &["run.toml"]),
        config_case("multiplier -1", &adv("multiplier = -1.0"), &["adversarial.multiplier", "not -1"]),
        config_case("step size NaN", &adv("adv_step_size = nan"), &["adversarial.adv_step_size"]),
        config_case("PGD iterations 0", &adv("pgd_iterations = 0"), &["adversarial.pgd_iterations"]),
        config_case("PGD epsilon -1", &adv("pgd_epsilon = -1.0"), &["adversarial.pgd_epsilon"]),
        config_case("norm l3", &adv("adv_grad_norm = \"l3\""), &["run.toml", "l3"]),
        config_case(
            "clip min above max",
            &adv("clip_value_min = 1.0\nclip_value_max = 0.0"),
            &["adversarial.clip_value_min"],
        ),
        config_case(
            "a feature mask of 3 values",
            &adv("feature_mask = [1.0, 0.5, 0.0]"),
            &["adversarial.feature_mask", "has 3 values; a face has 2304 (48x48)"],
        ),
        config_case(
            "a feature mask value of 2",
            &adv("feature_mask = [2.0]"),
            &["adversarial.feature_mask", "not 2"],
        ),
        config_case("an adversarial stray field", &adv("mutliplier = 0.3"), &["mutliplier"]),
        config_case(
            "rotation -10",
            &top("augment = { rotation_degrees = -10.0 }"),
            &["augment.rotation_degrees (flag --rotation)"],
        ),
        config_case(
            "zoom 5",
            &top("augment = { zoom = 5.0 }"),
            &["augment.zoom (flag --zoom): must be in [0, 1), not 5"],
        ),
        config_case("shift NaN", &top("augment = { shift = nan }"), &["augment.shift"]),
        config_case("an augment stray field", &top("augment = { flip = true }"), &["flip"]),
        config_case(
            "plateau factor 2",
            &top("lr_schedule = { kind = \"reduce_on_plateau\", factor = 2.0, patience = 1, min_lr = 0.0 }"),
            &["lr_schedule.factor: must be in (0, 1), not 2"],
        ),
        config_case(
            "exponential gamma 0",
            &top("lr_schedule = { kind = \"exponential\", gamma = 0.0 }"),
            &["lr_schedule.gamma"],
        ),
        config_case("an unknown schedule", &top("lr_schedule = { kind = \"cosine\" }"), &["cosine"]),
        config_case("no classes", &top("classes = []"), &["classes (flag --classes): must name at least one class"]),
        config_case("an unknown class", &top("classes = [\"joy\"]"), &["run.toml", "joy"]),
        config_case(
            "validation fraction 1.5",
            &top("split = { kind = \"usage\", validation_fraction = 1.5 }"),
            &["split.validation_fraction (flag --val-fraction)"],
        ),
        config_case(
            "train fraction -1",
            &top("split = { kind = \"stratified\", train_fraction = -1.0, seed = 1 }"),
            &["split.train_fraction"],
        ),
        config_case("an unknown split", &top("split = { kind = \"random\" }"), &["random"]),
        config_case("not UTF-8", "epochs = \u{fffd}\n", &["run.toml"]),
    ]
}

/// A real checkpoint of a tiny run, written once for every checkpoint case.
fn checkpoint() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = fer(
            &[
                "train",
                "--data",
                "synthetic:60",
                "--preset",
                "tiny",
                "--epochs",
                "1",
                "--batch-size",
                "30",
                "--name",
                "base",
            ],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(dir.path().join("runs/base/checkpoints/last.ckpt")).unwrap()
    })
}

/// The checkpoint with its byte at `at` (from the end when negative) changed.
fn flipped(at: isize) -> Vec<u8> {
    let mut bytes = checkpoint().to_vec();
    let at = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at as usize
    };
    bytes[at] ^= 0x5a;
    bytes
}

/// The checkpoint with its first length field set to `len` and its checksum made valid
/// again, so only the length is wrong.
fn crafted_length(len: u64) -> Vec<u8> {
    let mut bytes = checkpoint().to_vec();
    bytes[8..16].copy_from_slice(&len.to_le_bytes());
    let body_end = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[8..body_end]);
    bytes[body_end..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

fn model_cases() -> Vec<Case> {
    let eval = |name: &str, ckpt: Vec<u8>, expect: &[&str]| {
        case(
            name,
            vec![("model.ckpt", ckpt)],
            &[
                "eval",
                "--checkpoint",
                "model.ckpt",
                "--data",
                "synthetic:40",
            ],
            expect,
        )
    };
    let predict = |name: &str, files: Vec<(&str, Vec<u8>)>, args: &[&str], expect: &[&str]| {
        let mut all = vec![("model.ckpt", checkpoint().to_vec())];
        all.extend(files);
        let mut command = vec!["predict", "--checkpoint", "model.ckpt"];
        command.extend(args);
        case(name, all, &command, expect)
    };
    let ckpt = checkpoint();
    vec![
        eval(
            "an empty checkpoint",
            Vec::new(),
            &["model.ckpt", "too short"],
        ),
        eval(
            "wrong magic",
            b"NOTACKPT........".to_vec(),
            &["model.ckpt", "wrong magic bytes"],
        ),
        eval(
            "truncated checkpoint",
            ckpt[..ckpt.len() / 2].to_vec(),
            &["model.ckpt", "damaged"],
        ),
        eval(
            "a flipped byte in the state",
            flipped(40),
            &["model.ckpt", "checksum", "damaged"],
        ),
        eval(
            "a flipped byte in the weights",
            flipped(-2000),
            &["model.ckpt", "damaged"],
        ),
        eval(
            "a flipped checksum",
            flipped(-1),
            &["model.ckpt", "damaged"],
        ),
        eval(
            "a 1 TiB length",
            crafted_length(1 << 40),
            &["model.ckpt", "the state part claims 1099511627776 bytes"],
        ),
        eval(
            "a length of u64::MAX",
            crafted_length(u64::MAX),
            &["model.ckpt", "claims"],
        ),
        eval(
            "a zero state length",
            crafted_length(0),
            &["model.ckpt", "claims"],
        ),
        eval(
            "a text file",
            b"just some notes, not a model".to_vec(),
            &["model.ckpt", "not a valid fer checkpoint"],
        ),
        case(
            "a checkpoint that does not exist",
            vec![],
            &[
                "eval",
                "--checkpoint",
                "none.ckpt",
                "--data",
                "synthetic:40",
            ],
            &["none.ckpt"],
        ),
        case(
            "a run folder without checkpoints",
            vec![("runs/x/run.json", b"{}".to_vec())],
            &["eval", "--checkpoint", "runs/x", "--data", "synthetic:40"],
            &["best.ckpt"],
        ),
        case(
            "test split of data without test faces",
            vec![
                ("model.ckpt", ckpt.to_vec()),
                ("t.csv", csv(&good_rows(20))),
            ],
            &[
                "eval",
                "--checkpoint",
                "model.ckpt",
                "--data",
                "t.csv",
                "--split",
                "test",
            ],
            &["no test faces"],
        ),
        case(
            "eval batch size 0",
            vec![("model.ckpt", ckpt.to_vec())],
            &[
                "eval",
                "--checkpoint",
                "model.ckpt",
                "--data",
                "synthetic:40",
                "--batch-size",
                "0",
            ],
            &["batch size must be at least 1"],
        ),
        case(
            "eval with unlabeled data",
            vec![
                ("model.ckpt", ckpt.to_vec()),
                ("t.csv", format!("pixels\n{}\n", pixels("3")).into_bytes()),
            ],
            &["eval", "--checkpoint", "model.ckpt", "--data", "t.csv"],
            &["needs labeled faces"],
        ),
        case(
            "an attack epsilon a word",
            vec![("model.ckpt", ckpt.to_vec())],
            &[
                "eval",
                "--checkpoint",
                "model.ckpt",
                "--attack",
                "fgsm",
                "--eps",
                "big",
            ],
            &["--eps", "big"],
        ),
        predict("no such image", vec![], &["none.png"], &["none.png"]),
        predict(
            "a bad image among good ones",
            vec![
                ("a.png", png(48, 48)),
                ("b.png", b"garbage".to_vec()),
                ("c.png", png(64, 30)),
            ],
            &["a.png", "b.png", "c.png"],
            &["b.png"],
        ),
        predict(
            "a zero-byte image",
            vec![("z.png", Vec::new())],
            &["z.png"],
            &["z.png"],
        ),
        predict(
            "two CSVs",
            vec![("a.csv", csv(&good_rows(2))), ("b.csv", csv(&good_rows(2)))],
            &["a.csv", "b.csv"],
            &["give one FER2013 CSV", "2 of them CSV"],
        ),
        predict(
            "a CSV with a bad row",
            vec![("a.csv", with_bad_row("0,1 2 3,Training".into()))],
            &["a.csv"],
            &["a.csv:5"],
        ),
        predict(
            "an empty folder",
            vec![("imgs/.keep", Vec::new())],
            &["imgs"],
            &["imgs"],
        ),
        case(
            "plot of a folder that is not a run",
            vec![("notes/a.txt", b"x".to_vec())],
            &["plot", "notes"],
            &["notes"],
        ),
        case(
            "report of a folder that is not a run",
            vec![("notes/a.txt", b"x".to_vec())],
            &["report", "notes", "--out", "rep"],
            &["notes"],
        ),
        case(
            "report with an epsilon a word",
            vec![],
            &["report", "runs/x", "--out", "rep", "--eps", "big"],
            &["--eps", "big"],
        ),
    ]
}

/// Hostile `.ferpack` files: written whole by `fer data pack` from good rows, then cut or
/// altered.
fn pack_cases() -> Vec<Case> {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ferpack");
    let faces = fer::data::synth::synthesize(&fer::data::synth::SynthConfig {
        n: 40,
        ..Default::default()
    })
    .unwrap();
    fer::data::pack::write_pack(&faces, &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let altered = |at: usize| {
        let mut b = bytes.clone();
        b[at] ^= 0x10;
        b
    };
    let stats = |name: &str, bytes: Vec<u8>, expect: &[&str]| {
        case(
            name,
            vec![("d.ferpack", bytes)],
            &["data", "stats", "d.ferpack"],
            expect,
        )
    };
    vec![
        stats(
            "pack: magic only",
            bytes[..8].to_vec(),
            &["d.ferpack", "truncated"],
        ),
        stats(
            "pack: cut in the faces",
            bytes[..bytes.len() / 2].to_vec(),
            &["truncated or padded"],
        ),
        stats(
            "pack: one byte short",
            bytes[..bytes.len() - 1].to_vec(),
            &["truncated or padded"],
        ),
        stats(
            "pack: header bit flipped",
            altered(14),
            &["header is damaged"],
        ),
        stats(
            "pack: faces bit flipped",
            altered(bytes.len() - 20),
            &["faces are damaged"],
        ),
        stats(
            "pack: newer version",
            {
                let mut b = bytes.clone();
                b[8] = 9;
                b
            },
            &["format version 9"],
        ),
        case(
            "pack: damaged pack as training data",
            vec![("d.ferpack", altered(bytes.len() - 5))],
            &["train", "--data", "d.ferpack", "--preset", "tiny"],
            &["d.ferpack", "damaged"],
        ),
        case(
            "pack: output exists",
            vec![("d.ferpack", bytes.clone())],
            &["data", "pack", "d.ferpack", "d.ferpack"],
            &["d.ferpack exists: pass --force"],
        ),
        case(
            "pack: input missing",
            vec![],
            &["data", "pack", "none.csv", "out.ferpack"],
            &["none.csv"],
        ),
    ]
}

#[test]
fn packs_that_are_cut_or_altered_are_refused() {
    check(&pack_cases());
}

/// Hostile graph files and graph settings, for `fer graph` and `fer train --graph`.
fn graph_cases() -> Vec<Case> {
    let file = |bytes: &[u8]| vec![("g.tsv", bytes.to_vec())];
    let stats = |name: &str, bytes: &[u8], expect: &[&str]| {
        case(name, file(bytes), &["graph", "stats", "g.tsv"], expect)
    };
    let trained = |name: &str, bytes: &[u8], expect: &[&str]| {
        let args = train(&["--graph", "g.tsv", "--epochs", "1"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        case(name, file(bytes), &args, expect)
    };
    let build = |name: &str, extra: &[&str], expect: &[&str]| {
        let args = [
            &["graph", "build", "--data", "synthetic:40", "--out", "g.tsv"][..],
            extra,
        ]
        .concat();
        case(name, vec![], &args, expect)
    };
    let flag = |name: &str, extra: &[&str], expect: &[&str]| {
        let args = train(&[&["--graph", "g.tsv"][..], extra].concat());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        case(name, file(b"0\t1\n"), &args, expect)
    };
    vec![
        case(
            "graph: no such file",
            vec![],
            &["graph", "stats", "none.tsv"],
            &["none.tsv", "No such file"],
        ),
        stats(
            "graph: one field",
            b"0\t1\n7\n",
            &["g.tsv:2:", "found 1 tab-separated field"],
        ),
        stats(
            "graph: spaces, not tabs",
            b"0 1 0.5\n",
            &["g.tsv:1:", "found 1"],
        ),
        stats(
            "graph: four fields",
            b"0\t1\t0.5\tx\n",
            &["g.tsv:1:", "found 4"],
        ),
        stats(
            "graph: negative id",
            b"-3\t1\n",
            &["g.tsv:1:", "source '-3' is not a face id"],
        ),
        stats(
            "graph: id a word",
            b"0\tface\n",
            &["target 'face' is not a face id"],
        ),
        stats(
            "graph: id beyond u32",
            b"0\t99999999999\n",
            &["target '99999999999'"],
        ),
        stats(
            "graph: NaN weight",
            b"0\t1\tnan\n",
            &["weight 'nan' is not a finite number >= 0"],
        ),
        stats("graph: negative weight", b"0\t1\t-1\n", &["weight '-1'"]),
        stats(
            "graph: infinite weight",
            b"0\t1\t1e39\n",
            &["weight '1e39'"],
        ),
        stats(
            "graph: binary",
            b"0\t1\n\xff\xfe\t\x00\n",
            &["g.tsv:2:", "not UTF-8"],
        ),
        case(
            "graph stats: data that is not there",
            file(b"0\t1\n"),
            &["graph", "stats", "g.tsv", "--data", "none.csv"],
            &["none.csv"],
        ),
        trained("train graph: bad line", b"0\t1\nbad\n", &["g.tsv:2:"]),
        trained(
            "train graph: empty",
            b"",
            &["g.tsv: no training face has a neighbour", "0 edges"],
        ),
        trained(
            "train graph: ids off the data",
            b"500\t501\t1\n",
            &["no training face has a neighbour"],
        ),
        case(
            "train graph: missing",
            vec![],
            &["train", "--data", "synthetic:60", "--graph", "none.tsv"],
            &["none.tsv"],
        ),
        flag(
            "graph flag: multiplier a word",
            &["--graph-multiplier", "lots"],
            &["--graph-multiplier", "lots"],
        ),
        flag(
            "graph flag: negative multiplier",
            &["--graph-multiplier=-1"],
            &["graph.multiplier (flag --graph-multiplier)"],
        ),
        flag(
            "graph flag: infinite multiplier",
            &["--graph-multiplier", "inf"],
            &["graph.multiplier", "finite"],
        ),
        flag(
            "graph flag: zero neighbours",
            &["--max-neighbors", "0"],
            &["graph.max_neighbors (flag --max-neighbors)"],
        ),
        flag(
            "graph flag: negative neighbours",
            &["--max-neighbors=-2"],
            &["--max-neighbors"],
        ),
        flag(
            "graph flag: unknown distance",
            &["--distance-type", "euclid"],
            &["'euclid' is not one of"],
        ),
        flag(
            "graph flag: unknown reduction",
            &["--graph-reduction", "avg"],
            &["'avg' is not one of"],
        ),
        flag(
            "graph flag: unknown transform",
            &["--transform-fn", "tanh"],
            &["'tanh' is not one of"],
        ),
        flag(
            "graph flag: unknown output",
            &["--graph-output", "features"],
            &["'features' is not one of"],
        ),
        flag(
            "graph flag: batch axis",
            &["--sum-over-axis", "0"],
            &["graph.distance.sum_over_axis", "class axis"],
        ),
        flag(
            "graph flag: cosine without axis",
            &["--distance-type", "cosine"],
            &["set it to -1"],
        ),
        flag(
            "graph flag: divergence of logits",
            &[
                "--distance-type",
                "kl_divergence",
                "--sum-over-axis=-1",
                "--graph-output",
                "logits",
            ],
            &["graph.distance.distance_type", "probability distributions"],
        ),
        case(
            "graph flag: setting without a graph",
            vec![],
            &["train", "--data", "synthetic:60", "--distance-type", "l1"],
            &["also pass --graph FILE"],
        ),
        config_case(
            "graph table without file",
            "[graph]\nmultiplier = 0.1\n",
            &["missing field `file`"],
        ),
        config_case(
            "graph table stray field",
            "[graph]\nfile = \"g.tsv\"\nneighbours = 2\n",
            &["unknown field `neighbours`"],
        ),
        config_case(
            "graph table bad distance",
            "[graph]\nfile = \"g.tsv\"\n[graph.distance]\ndistance_type = \"l3\"\n",
            &["unknown variant `l3`"],
        ),
        config_case(
            "graph table empty file",
            "[graph]\nfile = \"\"\n",
            &["graph.file", "must name a graph file"],
        ),
        build(
            "graph build: threshold above 1",
            &["--similarity-threshold", "1.5"],
            &["similarity threshold 1.5 is not in [0, 1]"],
        ),
        build(
            "graph build: threshold NaN",
            &["--similarity-threshold", "NaN"],
            &["similarity threshold NaN"],
        ),
        build(
            "graph build: top 0",
            &["--top-k", "0"],
            &["top k must be at least 1"],
        ),
        build(
            "graph build: too many splits",
            &["--lsh-splits", "40"],
            &["40 LSH splits"],
        ),
        build(
            "graph build: zero rounds",
            &["--lsh-splits", "2", "--lsh-rounds", "0"],
            &["LSH rounds must be at least 1"],
        ),
        build(
            "graph build: zero batch",
            &["--batch-size", "0"],
            &["--batch-size must be at least 1"],
        ),
        build(
            "graph build: edge cap",
            &["--similarity-threshold", "0", "--max-edges", "5"],
            &["more than 5 edges"],
        ),
        build(
            "graph build: missing checkpoint",
            &["--checkpoint", "none.ckpt"],
            &["none.ckpt"],
        ),
        build(
            "graph build: model embedding without model",
            &["--embedding", "penultimate"],
            &["needs --checkpoint"],
        ),
        case(
            "graph build: checkpoint that is not one",
            vec![("bad.ckpt", b"FERCKPT2 not really".to_vec())],
            &[
                "graph",
                "build",
                "--data",
                "synthetic:40",
                "--out",
                "g.tsv",
                "--checkpoint",
                "bad.ckpt",
            ],
            &["bad.ckpt"],
        ),
        case(
            "graph build: output exists",
            file(b"0\t1\n"),
            &["graph", "build", "--data", "synthetic:40", "--out", "g.tsv"],
            &["g.tsv exists: pass --force"],
        ),
        case(
            "graph build: output in a file",
            vec![("f", b"x".to_vec())],
            &[
                "graph",
                "build",
                "--data",
                "synthetic:40",
                "--out",
                "f/g.tsv",
                "--similarity-threshold",
                "0.5",
            ],
            &["f/g.tsv"],
        ),
    ]
}

#[test]
fn graph_commands_refuse_hostile_graphs_and_settings() {
    check(&graph_cases());
}

#[test]
fn data_tools_refuse_hostile_files_naming_them() {
    check(&data_cases());
}

#[test]
fn train_refuses_hostile_flags_naming_the_flag() {
    check(&train_flag_cases());
}

#[test]
fn train_refuses_hostile_configurations_naming_the_field() {
    check(&config_cases());
}

#[test]
fn eval_predict_and_report_refuse_hostile_models_and_inputs() {
    check(&model_cases());
}

fn export_cases() -> Vec<Case> {
    let export = |name: &str, files: Vec<(&str, Vec<u8>)>, args: &[&str], expect: &[&str]| {
        let mut command = vec!["export"];
        command.extend(args);
        case(name, files, &command, expect)
    };
    let ckpt = || ("model.ckpt", checkpoint().to_vec());
    vec![
        export(
            "a missing checkpoint",
            vec![],
            &["nothing.ckpt", "--onnx", "m.onnx"],
            &["nothing.ckpt"],
        ),
        export(
            "a damaged checkpoint",
            vec![("model.ckpt", flipped(40))],
            &["model.ckpt", "--onnx", "m.onnx"],
            &["model.ckpt", "checksum"],
        ),
        export(
            "a run without checkpoints",
            vec![("run/events.jsonl", Vec::new())],
            &["run", "--safetensors", "m.safetensors"],
            &["best.ckpt"],
        ),
        export(
            "no format asked for",
            vec![ckpt()],
            &["model.ckpt"],
            &["--onnx", "--safetensors", "--tensorboard"],
        ),
        export(
            "an existing ONNX file",
            vec![ckpt(), ("m.onnx", b"keep me".to_vec())],
            &["model.ckpt", "--onnx", "m.onnx"],
            &["m.onnx exists: pass --force"],
        ),
        export(
            "an ONNX path under a file",
            vec![ckpt(), ("file", b"x".to_vec())],
            &["model.ckpt", "--onnx", "file/m.onnx"],
            &["file is a file, not a folder"],
        ),
        export(
            "TensorBoard from a checkpoint file",
            vec![ckpt()],
            &["model.ckpt", "--tensorboard", "tb"],
            &["--tensorboard needs a run directory, not model.ckpt"],
        ),
        export(
            "TensorBoard from a folder that is not a run",
            vec![("folder/notes.txt", b"hello".to_vec())],
            &["folder", "--tensorboard", "tb"],
            &["events.jsonl: no such file: not a fer run directory"],
        ),
        export(
            "TensorBoard into a file",
            vec![("run/events.jsonl", Vec::new()), ("tb", b"x".to_vec())],
            &["run", "--tensorboard", "tb"],
            &[
                "converting run to TensorBoard",
                "tb is a file, not a folder",
            ],
        ),
        export(
            "a checkpoint that is a folder of nothing",
            vec![("empty/.keep", Vec::new())],
            &["empty", "--onnx", "m.onnx"],
            &["best.ckpt"],
        ),
    ]
}

#[test]
fn export_refuses_hostile_sources_and_destinations() {
    check(&export_cases());
}

#[test]
fn the_suite_covers_every_command() {
    let groups = [
        data_cases().len(),
        train_flag_cases().len(),
        config_cases().len(),
        model_cases().len(),
        graph_cases().len(),
        pack_cases().len(),
        export_cases().len(),
    ];
    // fer-tui's hostile cases live in tui/tests/hostile.rs.
    assert!(
        groups.iter().sum::<usize>() >= 200,
        "{groups:?}: the suite shrank"
    );
}

#[test]
fn a_checkpoint_of_the_first_layout_still_reads() {
    // FERCKPT1: the same parts without the trailing checksum.
    let mut v1 = checkpoint().to_vec();
    v1.truncate(v1.len() - 4);
    v1[..8].copy_from_slice(b"FERCKPT1");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.ckpt"), v1).unwrap();
    let out = stdout(&fer(
        &["eval", "--checkpoint", "old.ckpt", "--data", "synthetic:40"],
        dir.path(),
    ));
    assert!(out.contains("accuracy"), "{out}");
}

#[test]
fn a_broken_pipe_ends_quietly() {
    use std::os::fd::FromRawFd;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), csv(&good_rows(30))).unwrap();
    // A pipe whose reader is gone before fer starts: `fer data stats f.csv | true`, with
    // no race over who is first.
    let mut ends = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
    // SAFETY: each descriptor was just created and is owned once.
    let (reader, writer) = unsafe {
        (
            std::fs::File::from_raw_fd(ends[0]),
            std::fs::File::from_raw_fd(ends[1]),
        )
    };
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fer"))
        .args(["data", "stats", "f.csv"])
        .current_dir(dir.path())
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "{stderr}");
    // Ended by SIGPIPE, as `cat` or `grep` would be, not by a panic's exit code.
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}
