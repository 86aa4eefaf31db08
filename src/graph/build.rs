//! Similarity graphs from embeddings, as NSL's `build_graph` makes them: an edge between two
//! faces whose embeddings have a cosine similarity of at least a threshold, with the
//! similarity as its weight.
//!
//! All pairs are compared with blocked matrix products on all cores; NSL's random-hyperplane
//! LSH (`lsh_splits`, `lsh_rounds`) compares only faces that share a bucket in some round.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::adjacency::{Edge, Graph};
use super::embed::Embedding;
use super::error::GraphError;

/// Rows per matrix-product block: 256 x 32k similarities (32 MB) at a time per core.
const BLOCK: usize = 256;
/// The smallest norm an embedding is divided by, as NSL's `_normalize` (no division by 0).
const MIN_NORM: f32 = 1e-6;

/// NSL's `GraphBuilderConfig`, plus a bound on neighbours per face and on the graph's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildConfig {
    /// Least cosine similarity of an edge (NSL: 0.8), in [0, 1].
    pub similarity_threshold: f32,
    /// Keep only each face's `k` most similar faces (not in NSL): the graph is then
    /// directed, each face pointing at its own top k.
    pub top_k: Option<usize>,
    /// Random hyperplanes per LSH round; 0 compares all pairs (NSL: 0).
    pub lsh_splits: u32,
    /// LSH rounds, each with fresh hyperplanes; edges are the union (NSL's tool: 2).
    pub lsh_rounds: u32,
    /// Seed of the LSH hyperplanes.
    pub seed: u64,
    /// Stop with an error rather than make more edges than this (a too-low threshold can
    /// ask for a billion).
    pub max_edges: usize,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            similarity_threshold: 0.8,
            top_k: None,
            lsh_splits: 0,
            lsh_rounds: 2,
            seed: 0,
            max_edges: 50_000_000,
        }
    }
}

impl BuildConfig {
    /// Checks the settings, naming the one that is wrong.
    pub fn validate(&self) -> Result<(), GraphError> {
        let t = self.similarity_threshold;
        if !(0.0..=1.0).contains(&t) {
            return Err(GraphError::Invalid(format!(
                "similarity threshold {t} is not in [0, 1] (edge weights are similarities)"
            )));
        }
        if self.top_k == Some(0) {
            return Err(GraphError::Invalid("top k must be at least 1".into()));
        }
        if self.lsh_splits > 24 {
            return Err(GraphError::Invalid(format!(
                "{} LSH splits make {} buckets; use at most 24",
                self.lsh_splits,
                1u64 << self.lsh_splits
            )));
        }
        if self.lsh_splits > 0 && self.lsh_rounds == 0 {
            return Err(GraphError::Invalid(
                "LSH rounds must be at least 1 with LSH splits".into(),
            ));
        }
        Ok(())
    }
}

/// Links similar faces of `embedding` (see [`BuildConfig`]).
///
/// Without `top_k` every edge is written in both directions, as NSL writes them.
///
/// ```
/// use fer::graph::{build_graph, BuildConfig, Edge, Embedding};
/// // Faces 10 and 11 point the same way, face 12 at right angles to them.
/// let embedding = Embedding::new(vec![1.0, 0.0, 2.0, 0.0, 0.0, 1.0], 2, vec![10, 11, 12])?;
/// let graph = build_graph(&embedding, &BuildConfig::default())?;
/// assert_eq!(graph.edges(), &[Edge::new(10, 11, 1.0), Edge::new(11, 10, 1.0)]);
/// # Ok::<(), fer::graph::GraphError>(())
/// ```
pub fn build_graph(embedding: &Embedding, config: &BuildConfig) -> Result<Graph, GraphError> {
    config.validate()?;
    let unit = normalized(embedding);
    let dim = embedding.dim();
    let n = embedding.len();
    let rounds = if config.lsh_splits == 0 {
        1
    } else {
        config.lsh_rounds
    };
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let made = AtomicUsize::new(0);
    let mut edges = Vec::new();
    for _ in 0..rounds {
        let groups = if config.lsh_splits == 0 {
            vec![(0..n as u32).collect()]
        } else {
            lsh_buckets(&unit, dim, config.lsh_splits, &mut rng)
        };
        for members in groups.iter().filter(|m| m.len() > 1) {
            edges.extend(similar_pairs(&unit, dim, members, config, &made)?);
        }
    }
    let rows = embedding.rows();
    let graph = Graph::from_edges(
        edges
            .into_iter()
            .map(|e| Edge::new(rows[e.source as usize], rows[e.target as usize], e.weight)),
    );
    Ok(match config.top_k {
        // LSH rounds can each contribute k: keep the best k of their union.
        Some(k) if rounds > 1 => graph.keep_top(k),
        _ => graph,
    })
}

/// Each embedding scaled to unit length.
fn normalized(embedding: &Embedding) -> Vec<f32> {
    let mut unit = embedding.values().to_vec();
    unit.par_chunks_mut(embedding.dim()).for_each(|row| {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(MIN_NORM);
        row.iter_mut().for_each(|v| *v /= norm);
    });
    unit
}

/// NSL's random-hyperplane buckets: bit `i` of a face's bucket says whether it lies on the
/// positive side of hyperplane `i` (uniform in [-1, 1]^dim).
fn lsh_buckets(unit: &[f32], dim: usize, splits: u32, rng: &mut ChaCha8Rng) -> Vec<Vec<u32>> {
    let planes: Vec<f32> = (0..splits as usize * dim)
        .map(|_| rng.random_range(-1.0f32..=1.0))
        .collect();
    let buckets: Vec<usize> = unit
        .par_chunks(dim)
        .map(|face| {
            planes
                .chunks(dim)
                .enumerate()
                .filter(|(_, plane)| dot(plane, face) > 0.0)
                .fold(0, |bucket, (bit, _)| bucket | 1 << bit)
        })
        .collect();
    let mut groups = vec![Vec::new(); 1 << splits];
    for (face, &bucket) in buckets.iter().enumerate() {
        groups[bucket].push(face as u32);
    }
    groups
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The edges among `members` (positions in `unit`), block by block in parallel.
fn similar_pairs(
    unit: &[f32],
    dim: usize,
    members: &[u32],
    config: &BuildConfig,
    made: &AtomicUsize,
) -> Result<Vec<Edge>, GraphError> {
    let matrix: Cow<[f32]> = if members.len() * dim == unit.len() {
        Cow::Borrowed(unit)
    } else {
        Cow::Owned(
            members
                .iter()
                .flat_map(|&m| &unit[m as usize * dim..][..dim])
                .copied()
                .collect(),
        )
    };
    let blocks: Vec<Vec<Edge>> = (0..members.len().div_ceil(BLOCK))
        .into_par_iter()
        .map(|block| {
            let first = block * BLOCK;
            let rows = BLOCK.min(members.len() - first);
            // With top k every row needs all columns; otherwise the upper triangle will do.
            let first_column = if config.top_k.is_some() { 0 } else { first };
            let columns = members.len() - first_column;
            let similarities = products(
                &matrix[first * dim..][..rows * dim],
                &matrix[first_column * dim..],
                rows,
                columns,
                dim,
            );
            let mut edges = Vec::new();
            for (r, row) in similarities.chunks_exact(columns).enumerate() {
                let p = first + r;
                let mut found: Vec<(usize, f32)> = row
                    .iter()
                    .enumerate()
                    .map(|(c, &s)| (first_column + c, s))
                    .filter(|&(q, s)| q != p && s >= config.similarity_threshold)
                    .filter(|&(q, _)| config.top_k.is_some() || q > p)
                    .collect();
                let (source, k) = (members[p], config.top_k.unwrap_or(usize::MAX));
                if found.len() > k {
                    found.select_nth_unstable_by(k - 1, |a, b| {
                        b.1.total_cmp(&a.1).then(members[a.0].cmp(&members[b.0]))
                    });
                    found.truncate(k);
                }
                for (q, s) in found {
                    edges.push(Edge::new(source, members[q], s));
                    if config.top_k.is_none() {
                        edges.push(Edge::new(members[q], source, s));
                    }
                }
            }
            if made.fetch_add(edges.len(), Ordering::Relaxed) + edges.len() > config.max_edges {
                return Err(GraphError::TooManyEdges {
                    limit: config.max_edges,
                });
            }
            Ok(edges)
        })
        .collect::<Result<_, _>>()?;
    Ok(blocks.into_iter().flatten().collect())
}

/// `rows x columns` dot products of the rows of `lhs` with the rows of `rhs`.
fn products(lhs: &[f32], rhs: &[f32], rows: usize, columns: usize, dim: usize) -> Vec<f32> {
    let mut out = vec![0f32; rows * columns];
    // out[rows x columns] = lhs[rows x dim] · rhs[columns x dim]ᵀ, all row-major.
    // SAFETY: every pointer, extent and stride describes a live slice of the stated shape;
    // `out` does not overlap the inputs.
    unsafe {
        gemm::gemm(
            rows,
            columns,
            dim,
            out.as_mut_ptr(),
            1,
            columns as isize,
            false,
            lhs.as_ptr(),
            1,
            dim as isize,
            rhs.as_ptr(),
            dim as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    out
}
