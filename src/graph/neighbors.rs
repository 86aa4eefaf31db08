//! Each training face's neighbours, chosen as NSL's `pack_nbrs` chooses them.

use std::collections::HashMap;

use super::adjacency::Graph;
use crate::data::{Dataset, FACE_PIXELS};

/// One neighbour of a training face: its position in the training set and the edge weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    pub index: usize,
    pub weight: f32,
}

/// The neighbours of one batch of training faces, as NSL's packed batch holds them, less
/// the padding slots of faces with fewer than `max_neighbors` neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighborBatch {
    /// The neighbour faces, gray levels in [0, 1] (unaugmented), back to back.
    pub images: Vec<f32>,
    /// For each neighbour, the position in the batch of the face it belongs to.
    pub owners: Vec<usize>,
    /// The weight of each neighbour's edge.
    pub weights: Vec<f32>,
    /// NSL's neighbour slots: batch size times `max_neighbors`.
    pub slots: usize,
}

/// Up to `max_neighbors` neighbours for every face of a training set.
///
/// NSL's `pack_nbrs`: a face's neighbours are the targets of its out-edges that are faces
/// of the training set itself (edges to validation or test faces, or to rows the data does
/// not have, are skipped), the heaviest first; equal weights are ordered as NSL orders its
/// string ids, the larger id in text order first. For `add_undirected_edges`, pack
/// [`Graph::undirected`].
///
/// ```
/// use fer::data::{Dataset, Emotion, FACE_PIXELS};
/// use fer::graph::{Edge, Graph, Neighbor, NeighborTable};
/// // Rows 0, 1, 2 are training faces; the graph also points at row 9, which is not.
/// let train = Dataset::new(vec![0; 3 * FACE_PIXELS], Some(vec![0, 3, 3]), None, Emotion::ALL.to_vec())?;
/// let graph = Graph::from_edges([Edge::new(0, 1, 0.8), Edge::new(0, 2, 0.9), Edge::new(0, 9, 1.0)]);
/// let table = NeighborTable::pack(&graph, &train, 1);
/// assert_eq!(table.of(0), &[Neighbor { index: 2, weight: 0.9 }]);
/// assert!(table.of(1).is_empty());
/// # Ok::<(), fer::data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NeighborTable {
    max_neighbors: usize,
    lists: Vec<Vec<Neighbor>>,
    skipped_edges: usize,
}

impl NeighborTable {
    /// Chooses up to `max_neighbors` neighbours for each face of `train` from `graph`.
    pub fn pack(graph: &Graph, train: &Dataset, max_neighbors: usize) -> NeighborTable {
        let position: HashMap<u32, usize> = (0..train.len())
            .map(|i| (train.source_row(i) as u32, i))
            .collect();
        let mut skipped_edges = 0;
        let lists = (0..train.len())
            .map(|i| {
                let edges = graph.out_edges(train.source_row(i) as u32);
                let mut found: Vec<(f32, u32, usize)> = edges
                    .iter()
                    .filter_map(|e| position.get(&e.target).map(|&j| (e.weight, e.target, j)))
                    .collect();
                skipped_edges += edges.len() - found.len();
                // NSL sorts (weight, id) pairs in reverse, its ids being strings.
                found.sort_by(|a, b| {
                    b.0.total_cmp(&a.0)
                        .then_with(|| b.1.to_string().cmp(&a.1.to_string()))
                });
                found
                    .into_iter()
                    .take(max_neighbors)
                    .map(|(weight, _, index)| Neighbor { index, weight })
                    .collect()
            })
            .collect();
        NeighborTable {
            max_neighbors,
            lists,
            skipped_edges,
        }
    }

    /// The neighbours of training face `face`, heaviest first.
    ///
    /// # Panics
    /// When `face` is not a face of the training set the table was packed for.
    pub fn of(&self, face: usize) -> &[Neighbor] {
        &self.lists[face]
    }

    /// The neighbours of the training faces at positions `faces` (a batch's indices).
    pub fn gather(&self, train: &Dataset, faces: &[usize]) -> NeighborBatch {
        let mut batch = NeighborBatch {
            images: Vec::new(),
            owners: Vec::new(),
            weights: Vec::new(),
            slots: faces.len() * self.max_neighbors,
        };
        for (owner, &face) in faces.iter().enumerate() {
            for n in self.of(face) {
                batch.owners.push(owner);
                batch.weights.push(n.weight);
                let pixels = train.face(n.index).iter().map(|&p| p as f32 / 255.0);
                batch.images.extend(pixels);
            }
        }
        debug_assert_eq!(batch.images.len(), batch.owners.len() * FACE_PIXELS);
        batch
    }

    /// The most neighbours any face has.
    pub fn max_neighbors(&self) -> usize {
        self.max_neighbors
    }

    /// Number of training faces.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// True for a table of an empty training set.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Out-edges of training faces that were skipped because their target is not a
    /// training face.
    pub fn skipped_edges(&self) -> usize {
        self.skipped_edges
    }

    /// How many faces have 0, 1, ..., `max_neighbors` neighbours (NSL's out-degree log).
    pub fn degree_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.max_neighbors + 1];
        for list in &self.lists {
            counts[list.len()] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Emotion, FACE_PIXELS};
    use crate::graph::Edge;

    /// A training set whose faces come from the given data rows; face `i` is all `i + 1`.
    fn train_rows(rows: &[u32]) -> Dataset {
        let pixels = (0..rows.len())
            .flat_map(|i| [i as u8 + 1; FACE_PIXELS])
            .collect();
        Dataset::new(
            pixels,
            Some(vec![0; rows.len()]),
            None,
            Emotion::ALL.to_vec(),
        )
        .unwrap()
        .with_source_rows(rows.to_vec())
        .unwrap()
    }

    fn ids(table: &NeighborTable, train: &Dataset, face: usize) -> Vec<(usize, f32)> {
        table
            .of(face)
            .iter()
            .map(|n| (train.source_row(n.index), n.weight))
            .collect()
    }

    #[test]
    fn hand_made_graph_as_pack_nbrs_joins_it() {
        // Training faces are rows 10, 2, 9, 30 (in that order); row 5 is a validation face.
        let train = train_rows(&[10, 2, 9, 30]);
        let graph = Graph::from_edges([
            Edge::new(10, 2, 0.5),
            Edge::new(10, 9, 0.9),
            Edge::new(10, 30, 0.9), // ties with 9: NSL's reverse string order puts "9" first
            Edge::new(10, 5, 1.0),  // missing neighbour: not a training face
            Edge::new(2, 10, 0.7),
            Edge::new(9, 77, 0.7), // only a missing neighbour
        ]);
        let table = NeighborTable::pack(&graph, &train, 2);
        assert_eq!(ids(&table, &train, 0), [(9, 0.9), (30, 0.9)]);
        assert_eq!(ids(&table, &train, 1), [(10, 0.7)]); // fewer than max_neighbors
        assert!(table.of(2).is_empty());
        assert!(table.of(3).is_empty()); // no out-edges: directed as written
        assert_eq!(table.skipped_edges(), 2);
        assert_eq!(table.degree_counts(), [2, 1, 1]);

        let batch = table.gather(&train, &[3, 0, 1]);
        assert_eq!(batch.owners, [1, 1, 2]);
        assert_eq!(batch.weights, [0.9, 0.9, 0.7]);
        assert_eq!((batch.images.len(), batch.slots), (3 * FACE_PIXELS, 6));
        let first_pixels: Vec<f32> = batch.images.iter().step_by(FACE_PIXELS).copied().collect();
        assert_eq!(first_pixels, [3.0 / 255.0, 4.0 / 255.0, 1.0 / 255.0]);

        let table = NeighborTable::pack(&graph, &train, 1);
        assert_eq!(ids(&table, &train, 0), [(9, 0.9)]);

        // add_undirected_edges: 30 and 9 gain their reversed edges.
        let table = NeighborTable::pack(&graph.undirected(), &train, 3);
        assert_eq!(ids(&table, &train, 3), [(10, 0.9)]);
        assert_eq!(ids(&table, &train, 2), [(10, 0.9)]);
        assert_eq!(ids(&table, &train, 1), [(10, 0.7)]);
        assert_eq!(ids(&table, &train, 0), [(9, 0.9), (30, 0.9), (2, 0.7)]);
    }
}
