//! The graph itself: weighted directed edges between face ids, sorted for fast lookup.

/// An edge from one face to another, with NSL's edge weight (a similarity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub source: u32,
    pub target: u32,
    pub weight: f32,
}

impl Edge {
    pub fn new(source: u32, target: u32, weight: f32) -> Edge {
        Edge {
            source,
            target,
            weight,
        }
    }
}

/// A directed, weighted graph over face ids (0-based data rows of the data file).
///
/// Edges are kept sorted by source, then target, with no repeats: 12 bytes per edge, and a
/// face's out-edges are one binary search away. Repeated edges keep their largest weight,
/// NSL's `add_edge` rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    edges: Vec<Edge>,
}

impl Graph {
    /// The graph of these edges; a repeated edge keeps its largest weight.
    pub fn from_edges(edges: impl IntoIterator<Item = Edge>) -> Graph {
        let mut edges: Vec<Edge> = edges.into_iter().collect();
        edges.sort_unstable_by(|a, b| {
            (a.source, a.target)
                .cmp(&(b.source, b.target))
                .then(b.weight.total_cmp(&a.weight))
        });
        // The heaviest copy sorts first and is the one kept.
        edges.dedup_by(|later, first| (later.source, later.target) == (first.source, first.target));
        Graph { edges }
    }

    /// Every edge, sorted by source then target.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Number of edges.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// True for a graph without edges.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// The edges leaving `source`, sorted by target.
    pub fn out_edges(&self, source: u32) -> &[Edge] {
        let start = self.edges.partition_point(|e| e.source < source);
        let end = self.edges.partition_point(|e| e.source <= source);
        &self.edges[start..end]
    }

    /// Every face id that an edge starts or ends at, ascending.
    pub fn nodes(&self) -> Vec<u32> {
        let mut nodes: Vec<u32> = self
            .edges
            .iter()
            .flat_map(|e| [e.source, e.target])
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        nodes
    }

    /// The graph with every edge also reversed (NSL's `add_undirected_edges`); where both
    /// directions exist, each keeps the larger of the two weights.
    pub fn undirected(&self) -> Graph {
        let reversed = self
            .edges
            .iter()
            .map(|e| Edge::new(e.target, e.source, e.weight));
        Graph::from_edges(self.edges.iter().copied().chain(reversed))
    }

    /// CRC-32 of the edges: equal graphs, however their files were written, agree.
    pub fn fingerprint(&self) -> u32 {
        let mut hasher = crc32fast::Hasher::new();
        for e in &self.edges {
            hasher.update(&e.source.to_le_bytes());
            hasher.update(&e.target.to_le_bytes());
            hasher.update(&e.weight.to_le_bytes());
        }
        hasher.finalize()
    }

    /// Keeps at most `k` out-edges per face: the heaviest, ties to the smaller target id.
    pub fn keep_top(&self, k: usize) -> Graph {
        let mut kept = Vec::with_capacity(self.edges.len().min(k * self.edges.len()));
        for run in self.edges.chunk_by(|a, b| a.source == b.source) {
            let mut run = run.to_vec();
            run.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.target.cmp(&b.target)));
            kept.extend(run.into_iter().take(k));
        }
        Graph::from_edges(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_edges_of_absent_and_present_sources() {
        let g = Graph::from_edges([
            Edge::new(3, 1, 0.5),
            Edge::new(1, 2, 1.0),
            Edge::new(1, 0, 0.2),
        ]);
        assert_eq!(
            g.out_edges(1),
            &[Edge::new(1, 0, 0.2), Edge::new(1, 2, 1.0)]
        );
        assert!(g.out_edges(2).is_empty());
        assert!(g.out_edges(9).is_empty());
        assert_eq!(g.nodes(), [0, 1, 2, 3]);
    }

    #[test]
    fn undirected_keeps_the_heavier_direction() {
        let g = Graph::from_edges([
            Edge::new(0, 1, 0.9),
            Edge::new(1, 0, 0.7),
            Edge::new(1, 2, 0.8),
        ]);
        let u = g.undirected();
        assert_eq!(
            u.edges(),
            &[
                Edge::new(0, 1, 0.9),
                Edge::new(1, 0, 0.9),
                Edge::new(1, 2, 0.8),
                Edge::new(2, 1, 0.8)
            ]
        );
    }

    #[test]
    fn keep_top_takes_the_heaviest_and_breaks_ties_by_id() {
        let g = Graph::from_edges([
            Edge::new(0, 1, 0.5),
            Edge::new(0, 2, 0.9),
            Edge::new(0, 3, 0.9),
            Edge::new(1, 0, 0.1),
        ]);
        assert_eq!(
            g.keep_top(2).edges(),
            &[
                Edge::new(0, 2, 0.9),
                Edge::new(0, 3, 0.9),
                Edge::new(1, 0, 0.1)
            ]
        );
        assert_eq!(g.keep_top(1).out_edges(0), &[Edge::new(0, 2, 0.9)]);
    }
}
