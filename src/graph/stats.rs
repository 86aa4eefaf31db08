//! What a graph looks like: its size, degrees, weights and how often it joins faces of the
//! same class (label agreement, the usual measure of a graph's quality for regularization).

use std::collections::HashMap;
use std::fmt;

use super::adjacency::Graph;
use crate::data::Dataset;

/// The out-degree distribution of a set of faces.
#[derive(Debug, Clone, PartialEq)]
pub struct DegreeStats {
    pub min: usize,
    pub median: f64,
    pub mean: f64,
    pub max: usize,
    /// `(low, high, faces)`: faces whose out-degree is in `low..=high`, for the buckets 0,
    /// 1, 2-3, 4-7, ... up to the largest degree; empty buckets included.
    pub histogram: Vec<(usize, usize, usize)>,
}

impl DegreeStats {
    fn of(mut degrees: Vec<usize>) -> Option<DegreeStats> {
        if degrees.is_empty() {
            return None;
        }
        degrees.sort_unstable();
        let n = degrees.len();
        let median = if n % 2 == 1 {
            degrees[n / 2] as f64
        } else {
            (degrees[n / 2 - 1] + degrees[n / 2]) as f64 / 2.0
        };
        let max = degrees[n - 1];
        let mut histogram = vec![(0, 0, 0)];
        let mut low = 1;
        while low <= max {
            histogram.push((low, 2 * low - 1, 0));
            low *= 2;
        }
        for &d in &degrees {
            let bucket = if d == 0 { 0 } else { d.ilog2() as usize + 1 };
            histogram[bucket].2 += 1;
        }
        Some(DegreeStats {
            min: degrees[0],
            median,
            mean: degrees.iter().sum::<usize>() as f64 / n as f64,
            max,
            histogram,
        })
    }
}

/// The measures `fer graph stats` prints.
///
/// ```
/// use fer::data::{Dataset, Emotion, FACE_PIXELS};
/// use fer::graph::{Edge, Graph, GraphStats};
/// let graph = Graph::from_edges([Edge::new(0, 1, 0.9), Edge::new(1, 0, 0.9), Edge::new(0, 2, 0.8)]);
/// let data = Dataset::new(vec![0; 4 * FACE_PIXELS], Some(vec![3, 3, 4, 4]), None, Emotion::ALL.to_vec())?;
/// let stats = GraphStats::new(&graph, Some(&data));
/// assert_eq!((stats.nodes, stats.edges), (3, 3));
/// assert_eq!(stats.label_agreement, Some(2.0 / 3.0)); // 0-1 twice (both happy), 0-2 differ
/// assert_eq!(stats.isolated_faces, Some(1)); // row 3 has no edge
/// # Ok::<(), fer::data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GraphStats {
    /// Faces with at least one edge, in or out.
    pub nodes: usize,
    pub edges: usize,
    /// Edges from a face to itself.
    pub self_loops: usize,
    /// Share of edges whose reverse edge is also in the graph (1 for NSL's `build_graph`).
    pub reciprocal: f64,
    /// Out-degrees of the graph's nodes, or of every face of the data when one is given.
    pub degrees: Option<DegreeStats>,
    /// Smallest, mean and largest edge weight.
    pub weights: Option<(f32, f64, f32)>,
    /// Faces of the data without any edge (with data).
    pub isolated_faces: Option<usize>,
    /// Edges with an end that is not a face of the data (with data).
    pub edges_outside_data: Option<usize>,
    /// Share of the edges between two labeled faces of the data that join faces of the same
    /// class (with labeled data that the graph's edges reach).
    pub label_agreement: Option<f64>,
}

impl GraphStats {
    /// Measures `graph`, and with `data` (the file the graph indexes) how it covers and
    /// agrees with it.
    pub fn new(graph: &Graph, data: Option<&Dataset>) -> GraphStats {
        let edges = graph.edges();
        let nodes = graph.nodes();
        let reverse_exists = edges
            .iter()
            .filter(|e| {
                graph
                    .out_edges(e.target)
                    .binary_search_by_key(&e.source, |r| r.target)
                    .is_ok()
            })
            .count();
        let weights = (!edges.is_empty()).then(|| {
            let (min, max) = edges.iter().fold((f32::INFINITY, 0f32), |(lo, hi), e| {
                (lo.min(e.weight), hi.max(e.weight))
            });
            let mean = edges.iter().map(|e| e.weight as f64).sum::<f64>() / edges.len() as f64;
            (min, mean, max)
        });
        let out_degree = |id: u32| graph.out_edges(id).len();
        let mut stats = GraphStats {
            nodes: nodes.len(),
            edges: edges.len(),
            self_loops: edges.iter().filter(|e| e.source == e.target).count(),
            reciprocal: reverse_exists as f64 / edges.len().max(1) as f64,
            degrees: DegreeStats::of(nodes.iter().map(|&id| out_degree(id)).collect()),
            weights,
            isolated_faces: None,
            edges_outside_data: None,
            label_agreement: None,
        };
        if let Some(data) = data {
            let faces: HashMap<u32, usize> = (0..data.len())
                .map(|i| (data.source_row(i) as u32, i))
                .collect();
            let rows = (0..data.len()).map(|i| data.source_row(i) as u32);
            stats.degrees = DegreeStats::of(rows.clone().map(out_degree).collect());
            stats.isolated_faces =
                Some(rows.filter(|&id| nodes.binary_search(&id).is_err()).count());
            let inside: Vec<(usize, usize)> = edges
                .iter()
                .filter_map(|e| Some((*faces.get(&e.source)?, *faces.get(&e.target)?)))
                .collect();
            stats.edges_outside_data = Some(edges.len() - inside.len());
            if let Some(labels) = data.labels() {
                let same = inside
                    .iter()
                    .filter(|&&(a, b)| labels[a] == labels[b])
                    .count();
                stats.label_agreement =
                    (!inside.is_empty()).then(|| same as f64 / inside.len() as f64);
            }
        }
        stats
    }
}

impl fmt::Display for GraphStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "nodes            {}", self.nodes)?;
        writeln!(f, "edges            {}", self.edges)?;
        writeln!(
            f,
            "reciprocal       {:.1}% of edges",
            100.0 * self.reciprocal
        )?;
        if self.self_loops > 0 {
            writeln!(f, "self-loops       {}", self.self_loops)?;
        }
        if let Some((min, mean, max)) = self.weights {
            writeln!(
                f,
                "weights          min {min:.4}  mean {mean:.4}  max {max:.4}"
            )?;
        }
        if let Some(faces) = self.isolated_faces {
            writeln!(f, "isolated faces   {faces} (no edge in or out)")?;
        }
        if let Some(outside) = self.edges_outside_data {
            writeln!(
                f,
                "edges off data   {outside} (an end is not a face of the data)"
            )?;
        }
        if let Some(share) = self.label_agreement {
            writeln!(
                f,
                "label agreement  {:.1}% of edges join two faces of the same class",
                100.0 * share
            )?;
        }
        if let Some(d) = &self.degrees {
            writeln!(
                f,
                "out-degree       min {}  median {}  mean {:.2}  max {}",
                d.min, d.median, d.mean, d.max
            )?;
            let total: usize = d.histogram.iter().map(|b| b.2).sum();
            for &(low, high, count) in &d.histogram {
                let range = if low == high {
                    format!("{low}")
                } else {
                    format!("{low}-{high}")
                };
                let bar = "#".repeat((40 * count).div_ceil(total.max(1)));
                writeln!(f, "  {range:>11}  {count:>7}  {bar}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Edge;

    #[test]
    fn degree_buckets_and_median() {
        let d = DegreeStats::of(vec![0, 1, 2, 3, 4, 9]).unwrap();
        assert_eq!((d.min, d.median, d.max), (0, 2.5, 9));
        assert_eq!(
            d.histogram,
            [(0, 0, 1), (1, 1, 1), (2, 3, 2), (4, 7, 1), (8, 15, 1)]
        );
        assert_eq!(DegreeStats::of(vec![]), None);
    }

    #[test]
    fn edges_off_the_data_are_counted_not_judged() {
        let graph = Graph::from_edges([
            Edge::new(0, 1, 1.0),
            Edge::new(0, 7, 0.5),
            Edge::new(1, 1, 0.5),
        ]);
        let data = Dataset::new(
            vec![0; 2 * crate::data::FACE_PIXELS],
            Some(vec![2, 5]),
            None,
            crate::data::Emotion::ALL.to_vec(),
        )
        .unwrap();
        let stats = GraphStats::new(&graph, Some(&data));
        assert_eq!(stats.edges_outside_data, Some(1));
        assert_eq!(stats.label_agreement, Some(0.5));
        assert_eq!(stats.self_loops, 1);
        assert_eq!(stats.isolated_faces, Some(0));
        assert!((stats.reciprocal - 1.0 / 3.0).abs() < 1e-12);
        let text = stats.to_string();
        assert!(text.contains("label agreement  50.0% of edges"), "{text}");
        assert!(text.contains("self-loops       1"), "{text}");
    }
}
