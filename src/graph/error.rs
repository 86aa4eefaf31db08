//! What can go wrong with a graph file or a graph's settings.

use std::path::PathBuf;

/// Errors of reading, writing and building graphs; each names the file and line or setting.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The file could not be read or written.
    #[error("{path}: {error}", path = path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A line of a TSV graph is not `source<TAB>target[<TAB>weight]`.
    #[error("{path}:{line}: {problem}", path = path.display())]
    Line {
        path: PathBuf,
        line: u64,
        problem: String,
    },
    /// Building would make more edges than allowed.
    #[error(
        "the graph would have more than {limit} edges: raise the similarity threshold, bound \
         the neighbours per face (top k), or raise the limit"
    )]
    TooManyEdges { limit: usize },
    /// Settings or inputs that cannot work together.
    #[error("{0}")]
    Invalid(String),
}
