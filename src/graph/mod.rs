//! Similarity graphs over faces: NSL's graph half, from building a graph to the neighbours
//! each training face is regularized towards.
//!
//! A [`Graph`] is a set of weighted, directed edges between faces. Face ids are the 0-based
//! data rows of the data file (header not counted; CSV line = id + 2), the ids
//! [`Dataset::source_row`](crate::data::Dataset::source_row) gives, so a graph stays valid
//! across splits, class selections and runs on the same file. Graphs are read and written in
//! NSL's TSV format (`source<TAB>target<TAB>weight`), so they move between NSL's
//! `build_graph`/`pack_nbrs` and `fer`.
//!
//! - [`build_graph`] (feature `burn`) links faces whose embeddings are similar, as NSL's
//!   `build_graph` does, exactly or with LSH; [`embeddings`] computes them from a trained
//!   network or from pixels.
//! - [`NeighborTable`] chooses each training face's neighbours, as NSL's `pack_nbrs` does.
//! - [`GraphStats`] measures a graph: degrees and how often an edge joins two faces of the
//!   same class.
//!
//! ```
//! use fer::graph::{Edge, Graph};
//! let graph = Graph::from_edges([Edge::new(0, 1, 0.9), Edge::new(0, 1, 0.95), Edge::new(2, 0, 0.8)]);
//! assert_eq!(graph.len(), 2); // a repeated edge keeps its largest weight, as in NSL
//! assert_eq!(graph.out_edges(0), &[Edge::new(0, 1, 0.95)]);
//! assert_eq!(graph.undirected().out_edges(0).len(), 2);
//! ```

mod adjacency;
#[cfg(feature = "burn")]
mod build;
#[cfg(feature = "burn")]
mod embed;
mod error;
mod neighbors;
mod stats;
mod tsv;

pub use adjacency::{Edge, Graph};
#[cfg(feature = "burn")]
pub use build::{build_graph, BuildConfig};
#[cfg(feature = "burn")]
pub use embed::{embeddings, Embedding, EmbeddingSource};
pub use error::GraphError;
pub use neighbors::{Neighbor, NeighborBatch, NeighborTable};
pub use stats::{DegreeStats, GraphStats};
