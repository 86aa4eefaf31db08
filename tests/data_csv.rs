//! The CSV loader against every shipped form of FER2013 and every kind of bad row.

use std::io::Write;
use std::path::{Path, PathBuf};

use fer::data::{csv, load, DataError, Dataset, Emotion, LoadOptions, Split, FACE_PIXELS};
use flate2::write::GzEncoder;
use flate2::Compression;

/// A face whose pixels encode the row number, so mix-ups show.
fn face(seed: usize) -> Vec<u8> {
    (0..FACE_PIXELS)
        .map(|i| ((i * 31 + seed * 17) % 256) as u8)
        .collect()
}

fn pixels_text(face: &[u8]) -> String {
    face.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn strict(path: &Path) -> Result<Dataset, DataError> {
    csv::read_csv(path, &LoadOptions::default()).map(|l| l.dataset)
}

/// The Kaggle `fer2013.csv` layout with three rows.
fn kaggle_text(newline: &str) -> String {
    let mut text = format!("emotion,pixels,Usage{newline}");
    for (i, (label, usage)) in [(0, "Training"), (3, "PublicTest"), (6, "PrivateTest")]
        .iter()
        .enumerate()
    {
        text += &format!("{label},{},{usage}{newline}", pixels_text(&face(i)));
    }
    text
}

fn assert_kaggle_rows(ds: &Dataset) {
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.labels(), Some(&[0u8, 3, 6][..]));
    assert_eq!(
        ds.usage(),
        Some(&[Split::Train, Split::Validation, Split::Test][..])
    );
    for i in 0..3 {
        assert_eq!(ds.face(i), &face(i)[..], "face {i}");
    }
    assert_eq!(ds.class_of(1), Some(Emotion::Happiness));
}

#[test]
fn kaggle_fer2013_csv_lf_crlf_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let lf = write(dir.path(), "lf.csv", &kaggle_text("\n"));
    let crlf = write(dir.path(), "crlf.csv", &kaggle_text("\r\n"));
    let bom = write(
        dir.path(),
        "bom.csv",
        &format!("\u{feff}{}", kaggle_text("\r\n")),
    );
    for path in [lf, crlf, bom] {
        assert_kaggle_rows(&strict(&path).unwrap());
    }
}

#[test]
fn quoted_fields_and_no_final_newline() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "\"emotion\",\"pixels\",\"Usage\"\n\"0\",\"{}\",\"Training\"\n3,\"{}\",PublicTest\n\"6\",{},\"PrivateTest\"",
        pixels_text(&face(0)),
        pixels_text(&face(1)),
        pixels_text(&face(2))
    );
    assert_kaggle_rows(&strict(&write(dir.path(), "q.csv", &text)).unwrap());
    let crlf = text.replace('\n', "\r\n");
    assert_kaggle_rows(&strict(&write(dir.path(), "q-crlf.csv", &crlf)).unwrap());
    // Pixels quoted as the last column of a CRLF file (Kaggle's test.csv layout).
    let last = format!("emotion,pixels\r\n1,\"{}\"\r\n", pixels_text(&face(7)));
    let ds = strict(&write(dir.path(), "q-last.csv", &last)).unwrap();
    assert_eq!(ds.face(0), &face(7)[..]);
}

#[test]
fn train_csv_has_no_usage_and_test_csv_no_labels() {
    let dir = tempfile::tempdir().unwrap();
    let train = format!("emotion,pixels\n5,{}\n", pixels_text(&face(9)));
    let ds = strict(&write(dir.path(), "train.csv", &train)).unwrap();
    assert_eq!((ds.labels(), ds.usage()), (Some(&[5u8][..]), None));

    let test = format!(
        "pixels\n{}\n{}\n",
        pixels_text(&face(1)),
        pixels_text(&face(2))
    );
    let ds = strict(&write(dir.path(), "test.csv", &test)).unwrap();
    assert_eq!((ds.len(), ds.labels(), ds.usage()), (2, None, None));
    assert_eq!(ds.face(1), &face(2)[..]);
}

#[test]
fn icml_column_order_spaces_and_extra_columns() {
    let dir = tempfile::tempdir().unwrap();
    let icml = format!(
        "emotion, Usage, pixels\n4,Training,{}\n1,PrivateTest,{}\n",
        pixels_text(&face(3)),
        pixels_text(&face(4))
    );
    let ds = strict(&write(dir.path(), "icml_face_data.csv", &icml)).unwrap();
    assert_eq!(ds.labels(), Some(&[4u8, 1][..]));
    assert_eq!(ds.usage(), Some(&[Split::Train, Split::Test][..]));
    assert_eq!(ds.face(0), &face(3)[..]);

    let extra = format!(
        "id,PIXELS,source,Emotion\n17,{},web,2\n",
        pixels_text(&face(5))
    );
    let ds = strict(&write(dir.path(), "extra.csv", &extra)).unwrap();
    assert_eq!(ds.labels(), Some(&[2u8][..]));
    assert_eq!(ds.face(0), &face(5)[..]);
}

#[test]
fn gzip_is_detected_by_magic_bytes_and_equals_plain() {
    let dir = tempfile::tempdir().unwrap();
    let text = kaggle_text("\r\n");
    let plain = write(dir.path(), "fer.csv", &text);
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    let bytes = encoder.finish().unwrap();
    let gz = dir.path().join("fer.csv.gz");
    let disguised = dir.path().join("fer-compressed.csv");
    std::fs::write(&gz, &bytes).unwrap();
    std::fs::write(&disguised, &bytes).unwrap();
    let expected = strict(&plain).unwrap();
    assert_eq!(strict(&gz).unwrap(), expected);
    assert_eq!(strict(&disguised).unwrap(), expected);
    assert_eq!(
        load(&gz, &LoadOptions::default()).unwrap().dataset,
        expected
    );
}

#[test]
fn write_then_read_round_trips_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let original = strict(&write(dir.path(), "in.csv", &kaggle_text("\n"))).unwrap();
    for name in ["out.csv", "out.csv.gz"] {
        let path = dir.path().join(name);
        csv::write_csv(&original, &path).unwrap();
        assert_eq!(strict(&path).unwrap(), original, "{name}");
    }
    // A class selection is written with FER2013 labels, so it reloads as the same emotions.
    let two = original
        .select_classes(&[Emotion::Neutral, Emotion::Anger])
        .unwrap();
    let path = dir.path().join("two.csv");
    csv::write_csv(&two, &path).unwrap();
    let back = strict(&path).unwrap();
    assert_eq!(back.class_of(0), Some(Emotion::Anger));
    assert_eq!(back.class_of(1), Some(Emotion::Neutral));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("emotion,pixels,Usage\n0,"),
        "{}",
        &text[..30]
    );
}

/// Loads `text` strictly and returns the error message, with the temp path shortened.
fn error_of(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.csv", text);
    let message = strict(&path).unwrap_err().to_string();
    message.replace(&path.display().to_string(), "bad.csv")
}

fn good_row(label: u8) -> String {
    format!("{label},{},Training\n", pixels_text(&face(0)))
}

#[test]
fn bad_rows_are_located_by_line_and_column() {
    let header = "emotion,pixels,Usage\n";
    let short: Vec<u8> = face(0)[1..].to_vec();
    let mut big = face(0);
    big[99] = 0;
    let mut big_text = pixels_text(&big);
    big_text = big_text.replacen(" 0 ", " 300 ", 1);
    let cases = [
        (
            format!("{header}{}3,{},Training\n", good_row(1), pixels_text(&short)),
            "bad.csv:3: column 'pixels': expected 2304 pixels (48x48), found 2303",
        ),
        (
            format!("{header}{}{}2,{big_text},Training\n", good_row(1), good_row(2)),
            "bad.csv:4: column 'pixels': pixel 100 is 300: outside 0-255",
        ),
        (
            format!("{header}2,{} x1,Training\n", pixels_text(&face(0))),
            "bad.csv:2: column 'pixels': pixel 2305 is 'x1': not an integer 0-255",
        ),
        (
            format!("{header}{}7,{},Training\n", good_row(0), pixels_text(&face(0))),
            "bad.csv:3: column 'emotion': label 7 is outside 0-6",
        ),
        (
            format!("{header}happy,{},Training\n", pixels_text(&face(0))),
            "bad.csv:2: column 'emotion': 'happy' is not a label: expected an integer 0-6",
        ),
        (
            format!("{header}1,{},Trainig\n", pixels_text(&face(0))),
            "bad.csv:2: column 'Usage': 'Trainig' is not a usage (expected Training, PublicTest or PrivateTest)",
        ),
        (
            format!("{header}{}4\n", good_row(0)),
            "bad.csv:3: column 'pixels': missing: the row has 1 fields, the header 3",
        ),
        (
            format!("emotion,pixels,Usage\r\n{}", good_row(0).replace('\n', "\r\n") + "9,1 2,Training\r\n"),
            "bad.csv:3: column 'emotion': label 9 is outside 0-6",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error_of(&text), expected);
    }
}

#[test]
fn missing_column_empty_file_and_header_only() {
    assert_eq!(
        error_of("emotion,Usage\n1,Training\n"),
        "bad.csv: the header has no 'pixels' column (found: emotion, Usage)"
    );
    assert_eq!(
        error_of(""),
        "bad.csv: the file is empty (expected a header such as 'emotion,pixels,Usage')"
    );
    assert_eq!(
        error_of("emotion,pixels,Usage\n"),
        "bad.csv: no rows after the header"
    );
}

#[test]
fn unreadable_files_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let message = strict(&missing).unwrap_err().to_string();
    assert!(
        message.starts_with(&missing.display().to_string()),
        "{message}"
    );

    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(kaggle_text("\n").as_bytes()).unwrap();
    let bytes = encoder.finish().unwrap();
    let cut = dir.path().join("cut.csv.gz");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    let message = strict(&cut).unwrap_err().to_string();
    assert!(message.starts_with(&cut.display().to_string()), "{message}");
}

#[test]
fn lenient_mode_skips_and_reports_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "emotion,pixels,Usage\n{}8,{},Training\n{}3,1 2 3,PublicTest\n{}",
        good_row(0),
        pixels_text(&face(0)),
        good_row(1),
        good_row(2)
    );
    let path = write(dir.path(), "mixed.csv", &text);
    assert!(strict(&path).is_err());
    let loaded = csv::read_csv(&path, &LoadOptions { lenient: true }).unwrap();
    assert_eq!(loaded.dataset.labels(), Some(&[0u8, 1, 2][..]));
    assert_eq!(loaded.dataset.usage().unwrap().len(), 3);
    let where_: Vec<(u64, &str)> = loaded
        .skipped
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(where_, [(3, "emotion"), (5, "pixels")]);
}
