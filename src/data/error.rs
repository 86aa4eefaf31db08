//! Errors of the data layer: every one names the file and, for a bad row, its line and column.

use std::fmt;
use std::path::PathBuf;

/// A problem with one row of a data file: where it is and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file the row is in.
    pub path: PathBuf,
    /// 1-based line where the row starts (for an image folder: 0, the file is the row).
    pub line: u64,
    /// The column (header name as written in the file) or the image file's role.
    pub column: String,
    /// What is wrong, and what was expected.
    pub problem: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.problem)
        } else {
            write!(
                f,
                "{}:{}: column '{}': {}",
                self.path.display(),
                self.line,
                self.column,
                self.problem
            )
        }
    }
}

/// Everything that can go wrong when loading, converting or operating on a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file or folder could not be read or written.
    #[error("{path}: {error}", path = path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A row holds a value that is not what the format expects.
    #[error("{0}")]
    Row(RowError),
    /// The CSV itself is malformed (for example an unterminated quote).
    #[error("{path}:{line}: malformed CSV: {message}", path = path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A column the format needs is not in the header.
    #[error("{path}: the header has no '{column}' column (found: {found})", path = path.display())]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        found: String,
    },
    /// A column the format needs appears more than once, so which one holds the data is
    /// a guess.
    #[error("{path}: the header has {} '{column}' columns (columns {}); keep one", columns.len(), columns.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "), path = path.display())]
    DuplicateColumn {
        path: PathBuf,
        column: &'static str,
        /// 1-based positions in the header.
        columns: Vec<usize>,
    },
    /// A lenient load skipped every row.
    #[error("{path}: all {skipped} rows are bad, the first: {first}", path = path.display())]
    NothingKept {
        path: PathBuf,
        skipped: usize,
        first: Box<RowError>,
    },
    /// The file is not ASCII or UTF-8 text.
    #[error("{path}: the file is {found}; FER2013 CSVs are ASCII or UTF-8 text (convert it, e.g. `iconv -f UTF-16 -t UTF-8`)", path = path.display())]
    Encoding { path: PathBuf, found: &'static str },
    /// The file has no header, or a header and no rows.
    #[error("{path}: {what}", path = path.display())]
    Empty { path: PathBuf, what: &'static str },
    /// An image-folder tree that does not have the expected layout.
    #[error("{path}: {problem}", path = path.display())]
    Layout { path: PathBuf, problem: String },
    /// An operation was asked for something the data set cannot give.
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> DataError {
        DataError::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// Result alias of the data layer.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
