//! NSL's TSV graph format: one edge per line, `source<TAB>target[<TAB>weight]`.
//!
//! As NSL's `read_tsv_graph`: the weight defaults to 1.0 and repeated edges keep the largest
//! weight. Stricter than NSL, because a graph here indexes data rows: ids must be
//! non-negative integers and weights finite and non-negative, and a bad line is an error
//! that names the file and line. Blank lines and Windows line ends are accepted.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use super::adjacency::{Edge, Graph};
use super::error::GraphError;
use crate::atomic::write_atomically;

impl Graph {
    /// Reads a TSV graph file.
    ///
    /// ```
    /// use fer::graph::{Edge, Graph};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("faces.tsv");
    /// std::fs::write(&path, "0\t1\t0.9\n1\t2\n")?;
    /// let graph = Graph::read_tsv(&path)?;
    /// assert_eq!(graph.edges(), &[Edge::new(0, 1, 0.9), Edge::new(1, 2, 1.0)]);
    ///
    /// std::fs::write(&path, "0\t1\t0.9\n1\tx\n")?;
    /// let error = Graph::read_tsv(&path).unwrap_err().to_string();
    /// assert!(error.ends_with("faces.tsv:2: target 'x' is not a face id (a 0-based data row)"), "{error}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_tsv(path: &Path) -> Result<Graph, GraphError> {
        let io_error = |error| GraphError::Io {
            path: path.to_path_buf(),
            error,
        };
        let file = File::open(path).map_err(io_error)?;
        Graph::parse_tsv(BufReader::with_capacity(1 << 20, file), path)
    }

    /// Parses TSV edges from `reader`; `path` names the source in errors.
    pub fn parse_tsv(mut reader: impl BufRead, path: &Path) -> Result<Graph, GraphError> {
        let mut edges = Vec::new();
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|error| GraphError::Io {
                    path: path.to_path_buf(),
                    error,
                })?;
            if read == 0 {
                break;
            }
            number += 1;
            let bad = |problem: String| GraphError::Line {
                path: path.to_path_buf(),
                line: number,
                problem,
            };
            let text =
                std::str::from_utf8(&line).map_err(|_| bad("the line is not UTF-8 text".into()))?;
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            if text.trim().is_empty() {
                continue;
            }
            edges.push(parse_edge(text).map_err(bad)?);
        }
        Ok(Graph::from_edges(edges))
    }

    /// Writes the graph as TSV (weights in the shortest form that reads back exactly),
    /// atomically: a crash leaves the old file or the whole new one.
    pub fn write_tsv(&self, path: &Path) -> Result<(), GraphError> {
        write_atomically(path, |out| self.write_tsv_to(out)).map_err(|error| GraphError::Io {
            path: path.to_path_buf(),
            error,
        })
    }

    /// Writes the TSV lines to `out`.
    pub fn write_tsv_to(&self, out: &mut impl Write) -> io::Result<()> {
        for e in self.edges() {
            writeln!(out, "{}\t{}\t{}", e.source, e.target, e.weight)?;
        }
        Ok(())
    }
}

fn parse_edge(text: &str) -> Result<Edge, String> {
    let fields: Vec<&str> = text.split('\t').collect();
    if !(2..=3).contains(&fields.len()) {
        return Err(format!(
            "expected source<TAB>target[<TAB>weight], found {} tab-separated field{}",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        ));
    }
    let id = |role: &str, field: &str| {
        field
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("{role} '{field}' is not a face id (a 0-based data row)"))
    };
    let weight = match fields.get(2) {
        None => 1.0,
        Some(field) => match field.trim().parse::<f32>() {
            Ok(w) if w.is_finite() && w >= 0.0 => w,
            _ => return Err(format!("weight '{field}' is not a finite number >= 0")),
        },
    };
    Ok(Edge::new(
        id("source", fields[0])?,
        id("target", fields[1])?,
        weight,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Graph, String> {
        Graph::parse_tsv(text.as_bytes(), Path::new("g.tsv")).map_err(|e| e.to_string())
    }

    #[test]
    fn round_trip_is_exact() {
        let graph = Graph::from_edges([
            Edge::new(0, 31_000, 0.812_345_7),
            Edge::new(7, 3, 1.0),
            Edge::new(u32::MAX, 0, 1e-30),
        ]);
        let mut text = Vec::new();
        graph.write_tsv_to(&mut text).unwrap();
        assert_eq!(parse(std::str::from_utf8(&text).unwrap()).unwrap(), graph);
    }

    #[test]
    fn nsl_lines_windows_ends_blank_lines_and_repeats() {
        let graph = parse("0\t1\t0.500000\r\n\n1\t0\r\n0\t1\t0.75\n").unwrap();
        assert_eq!(
            graph.edges(),
            &[Edge::new(0, 1, 0.75), Edge::new(1, 0, 1.0)]
        );
    }

    #[test]
    fn bad_lines_name_the_line_and_the_field() {
        let cases = [
            (
                "0\t1\n5\n",
                "g.tsv:2: expected source<TAB>target[<TAB>weight], found 1 tab-separated field",
            ),
            ("0 1 0.5\n", "found 1 tab-separated field"),
            ("0\t1\t0.5\textra\n", "found 4 tab-separated fields"),
            ("-1\t2\n", "g.tsv:1: source '-1' is not a face id"),
            ("a\t2\n", "source 'a' is not a face id"),
            ("1\t4294967296\n", "target '4294967296' is not a face id"),
            ("1\t2\tNaN\n", "weight 'NaN' is not a finite number >= 0"),
            ("1\t2\tinf\n", "weight 'inf'"),
            ("1\t2\t-0.5\n", "weight '-0.5'"),
            ("1\t2\t\n", "weight ''"),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        let error = Graph::parse_tsv(&b"0\t1\n\xff\t2\n"[..], Path::new("g.tsv")).unwrap_err();
        assert_eq!(error.to_string(), "g.tsv:2: the line is not UTF-8 text");
    }

    #[test]
    fn missing_file_names_it() {
        let error = Graph::read_tsv(Path::new("/nonexistent/g.tsv")).unwrap_err();
        assert!(
            error.to_string().starts_with("/nonexistent/g.tsv: "),
            "{error}"
        );
    }
}
