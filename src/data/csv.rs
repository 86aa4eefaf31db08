//! FER2013 as CSV, in every form it is shipped in.
//!
//! Columns are found by header name (trimmed, any case, BOM ignored) and extra columns are
//! ignored, so one reader takes Kaggle's `fer2013.csv` (`emotion,pixels,Usage`), `train.csv`
//! (`emotion,pixels`), `test.csv` (`pixels`: unlabeled) and `icml_face_data.csv`
//! (`emotion, Usage, pixels`). Plain or gzip, LF or CRLF, quoted or not.

use std::io::{self, BufRead, Read, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::dataset::{Dataset, Split};
use super::emotion::{Emotion, FACE_PIXELS};
use super::error::{DataError, Result, RowError};
use super::pixels::{format_pixels, parse_pixels};
use super::{source, LoadOptions, Loaded};
use crate::atomic::write_atomically;

/// Where the columns the loader needs sit in the header.
struct Columns {
    emotion: Option<usize>,
    pixels: usize,
    usage: Option<usize>,
    names: Vec<String>,
}

impl Columns {
    fn find(path: &Path, header: &::csv::ByteRecord) -> Result<Columns> {
        let names: Vec<String> = header
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_string()
            })
            .collect();
        let find = |want: &'static str| -> Result<Option<usize>> {
            let at: Vec<usize> = (0..names.len())
                .filter(|&i| names[i].eq_ignore_ascii_case(want))
                .collect();
            match at[..] {
                [] => Ok(None),
                [one] => Ok(Some(one)),
                _ => Err(DataError::DuplicateColumn {
                    path: path.to_path_buf(),
                    column: want,
                    columns: at.iter().map(|i| i + 1).collect(),
                }),
            }
        };
        let pixels = find("pixels")?.ok_or_else(|| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: "pixels",
            found: names.join(", "),
        })?;
        Ok(Columns {
            emotion: find("emotion")?,
            pixels,
            usage: find("usage")?,
            names,
        })
    }
}

/// Reads a FER2013 CSV file (plain or gzip).
///
/// ```no_run
/// use fer::data::{csv, LoadOptions};
/// let loaded = csv::read_csv("fer2013.csv.gz", &LoadOptions::default())?;
/// println!("{} faces", loaded.dataset.len());
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn read_csv(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Loaded> {
    let path = path.as_ref();
    let input = source::open(path).map_err(|e| DataError::io(path, e))?;
    read_csv_from(input, path, options)
}

/// Reads FER2013 CSV from any byte stream; `path` names it in errors.
pub fn read_csv_from<R: Read>(input: R, path: &Path, options: &LoadOptions) -> Result<Loaded> {
    let mut input = io::BufReader::new(input);
    let head = input.fill_buf().map_err(|e| DataError::io(path, e))?;
    let found = if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        Some("UTF-16 text (it starts with a UTF-16 byte-order mark)")
    } else if head.iter().take(256).any(|&b| b == 0) {
        Some("binary, or UTF-16 text without a byte-order mark (it holds NUL bytes)")
    } else {
        None
    };
    if let Some(found) = found {
        return Err(DataError::Encoding {
            path: path.to_path_buf(),
            found,
        });
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        // '\n' alone ends a record, so line numbers stay right with CRLF (the csv crate's
        // CRLF handling counts a line late); a field's trailing '\r' is trimmed below.
        .terminator(::csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 20)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    if header.iter().all(|h| h.is_empty()) {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            what: "the file is empty (expected a header such as 'emotion,pixels,Usage')",
        });
    }
    let columns = Columns::find(path, &header)?;

    let mut pixels: Vec<u8> = Vec::new();
    let mut labels: Vec<u8> = Vec::new();
    let mut usage: Vec<Split> = Vec::new();
    let mut skipped = Vec::new();
    // Data rows kept, by their 0-based index in the file (differs from 0.. once one is skipped).
    let mut rows: Vec<u32> = Vec::new();
    let mut record = ::csv::ByteRecord::new();
    for row_index in 0u32.. {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let start = pixels.len();
        pixels.resize(start + FACE_PIXELS, 0);
        let row = parse_row(&record, &columns, &mut pixels[start..]);
        match row {
            Ok((label, split)) => {
                rows.push(row_index);
                if let Some(label) = label {
                    labels.push(label);
                }
                if let Some(split) = split {
                    usage.push(split);
                }
            }
            Err((column, problem)) => {
                pixels.truncate(start);
                let error = RowError {
                    path: path.to_path_buf(),
                    line,
                    column,
                    problem,
                };
                if !options.lenient {
                    return Err(DataError::Row(error));
                }
                skipped.push(error);
            }
        }
    }
    if pixels.is_empty() {
        let count = skipped.len();
        return Err(match skipped.into_iter().next() {
            Some(first) => DataError::NothingKept {
                path: path.to_path_buf(),
                skipped: count,
                first: Box::new(first),
            },
            None => DataError::Empty {
                path: path.to_path_buf(),
                what: "no rows after the header",
            },
        });
    }
    pixels.shrink_to_fit();
    let dataset = Dataset::new(
        pixels,
        columns.emotion.map(|_| labels),
        columns.usage.map(|_| usage),
        Emotion::ALL.to_vec(),
    )?
    .with_source_rows(rows)?;
    Ok(Loaded { dataset, skipped })
}

type RowProblem = (String, String);

/// Parses one record into `face`, returning its label and usage, or (column, problem).
fn parse_row(
    record: &::csv::ByteRecord,
    columns: &Columns,
    face: &mut [u8],
) -> std::result::Result<(Option<u8>, Option<Split>), RowProblem> {
    let needed = [columns.emotion, Some(columns.pixels), columns.usage];
    if let Some(missing) = needed
        .into_iter()
        .flatten()
        .filter(|&c| c >= record.len())
        .min()
    {
        return Err((
            columns.names[missing].clone(),
            format!(
                "missing: the row has {} fields, the header {}",
                record.len(),
                columns.names.len()
            ),
        ));
    }
    let field = |index: usize| &record[index];
    let label = match columns.emotion {
        Some(col) => Some(parse_label(field(col)).map_err(|p| (columns.names[col].clone(), p))?),
        None => None,
    };
    let split = match columns.usage {
        Some(col) => Some(
            String::from_utf8_lossy(field(col))
                .parse::<Split>()
                .map_err(|p| (columns.names[col].clone(), p))?,
        ),
        None => None,
    };
    parse_pixels(field(columns.pixels), face)
        .map_err(|p| (columns.names[columns.pixels].clone(), p))?;
    Ok((label, split))
}

fn parse_label(field: &[u8]) -> std::result::Result<u8, String> {
    let text = String::from_utf8_lossy(field);
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(v) if (0..7).contains(&v) => Ok(v as u8),
        Ok(v) => Err(format!("label {v} is outside 0-6")),
        Err(_) => Err(format!("'{text}' is not a label: expected an integer 0-6")),
    }
}

fn csv_error(path: &Path, error: ::csv::Error) -> DataError {
    let line = error.position().map_or(0, |p| p.line());
    match error.into_kind() {
        ::csv::ErrorKind::Io(e) => DataError::io(path, e),
        other => DataError::Csv {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

/// Writes `dataset` as FER2013 CSV (`emotion,pixels,Usage`, the columns it has), atomically.
///
/// Labels are written as FER2013 labels (0-6) whatever classes were selected, so the file
/// reloads with the right emotions. A name ending in `.gz` gets gzip.
pub fn write_csv(dataset: &Dataset, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let gzip = path.extension().is_some_and(|e| e == "gz");
    write_atomically(path, |file| {
        if gzip {
            let mut encoder = GzEncoder::new(file, Compression::default());
            write_rows(dataset, &mut encoder)?;
            encoder.finish()?.flush()
        } else {
            write_rows(dataset, file)
        }
    })
    .map_err(|e| DataError::io(path, e))
}

fn write_rows(dataset: &Dataset, out: &mut impl Write) -> io::Result<()> {
    let labels = dataset.labels();
    let usage = dataset.usage();
    let mut header = Vec::new();
    if labels.is_some() {
        header.push("emotion");
    }
    header.push("pixels");
    if usage.is_some() {
        header.push("Usage");
    }
    writeln!(out, "{}", header.join(","))?;
    let mut line = Vec::with_capacity(4 * FACE_PIXELS + 32);
    for i in 0..dataset.len() {
        line.clear();
        if let Some(labels) = labels {
            let emotion = dataset.classes()[labels[i] as usize];
            write!(line, "{},", emotion.index())?;
        }
        format_pixels(dataset.face(i), &mut line);
        if let Some(usage) = usage {
            write!(line, ",{}", usage[i].usage_name())?;
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}
