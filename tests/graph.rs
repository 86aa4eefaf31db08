//! NSL's graph half against values derived by hand: distances and reductions, graph building
//! on vectors of known similarity, and a tiny network that learns with a graph (the graph
//! training step of a fixed linear model is in `nsl.rs`, beside the adversarial one).

use burn::prelude::*;
use fer::data::synth::{synthesize, SynthConfig};
use fer::graph::{build_graph, BuildConfig, Edge, Embedding, Graph, GraphError};
use fer::nsl::{
    pairwise_distance, DistanceConfig, DistanceType, GraphRegConfig, Reduction, TransformFn,
};
use fer::train::{GraphTraining, ModelChoice, RunOptions, TrainConfig, Training};

// ---- distances and reductions ----

/// Three face-neighbour pairs of 3-class outputs (distributions), weights 1, 0.5 and 0,
/// and one padding slot (4 slots).
const SOURCES: [[f64; 3]; 3] = [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]];
const TARGETS: [[f64; 3]; 3] = [[0.5, 0.4, 0.1], [0.2, 0.2, 0.6], [0.9, 0.05, 0.05]];
const WEIGHTS: [f64; 3] = [1.0, 0.5, 0.0];
const SLOTS: usize = 4;

fn rows(values: &[[f64; 3]; 3], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = values.iter().flatten().map(|&v| v as f32).collect();
    Tensor::<1>::from_floats(flat.as_slice(), device).reshape([3, 3])
}

fn distance(config: DistanceConfig) -> f64 {
    let device = Device::flex();
    let weights: Vec<f32> = WEIGHTS.iter().map(|&w| w as f32).collect();
    let d = pairwise_distance(
        rows(&SOURCES, &device),
        rows(&TARGETS, &device),
        &weights,
        SLOTS,
        &config,
    );
    d.into_scalar::<f32>() as f64
}

fn config(distance_type: DistanceType, reduction: Reduction, axis: Option<i64>) -> DistanceConfig {
    DistanceConfig {
        distance_type,
        reduction,
        sum_over_axis: axis,
        transform_fn: TransformFn::None,
    }
}

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() < 1e-5 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

#[test]
fn l2_and_l1_under_every_reduction_match_hand_values() {
    // Squared differences per row: [0.04, 0.04, 0] sum 0.08; [0.01, 0.16, 0.09] sum 0.26;
    // [0.36, 0.0625, 0.1225] sum 0.545 (weight 0).
    // Weighted sum: 0.08 + 0.5 * 0.26 = 0.21.
    use Reduction::*;
    let l2 = |r, axis| distance(config(DistanceType::L2, r, axis));
    close(l2(Sum, None), 0.21);
    close(l2(Mean, None), 0.21 / (1.5 * 3.0)); // sum of broadcast weights
    close(l2(SumOverBatchSize, None), 0.21 / 12.0); // 4 slots x 3 classes
    close(l2(SumByNonzeroWeights, None), 0.21 / 6.0); // 2 weighted rows x 3 classes
                                                      // Summed over the class axis: the average per value times 3 (NSL's rule), the sum as is.
    close(l2(SumByNonzeroWeights, Some(-1)), 0.21 / 6.0 * 3.0);
    close(l2(Sum, Some(-1)), 0.21);
    // Absolute differences: row sums 0.4 and 0.8 -> 0.4 + 0.5 * 0.8 = 0.8.
    let l1 = |r| distance(config(DistanceType::L1, r, None));
    close(l1(Sum), 0.8);
    close(l1(SumByNonzeroWeights), 0.8 / 6.0);
    close(l1(Mean), 0.8 / 4.5);
    close(l1(SumOverBatchSize), 0.8 / 12.0);
}

#[test]
fn cosine_and_divergences_match_hand_values() {
    use Reduction::*;
    let norm = |v: &[f64; 3]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let cosine = |a: &[f64; 3], b: &[f64; 3]| {
        1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (norm(a) * norm(b))
    };
    let kl = |p: &[f64; 3], q: &[f64; 3]| {
        p.iter()
            .zip(q)
            .map(|(p, q)| p * (p + 1e-7).ln() - p * (q + 1e-7).ln())
            .sum::<f64>()
    };
    let js = |p: &[f64; 3], q: &[f64; 3]| {
        let m: [f64; 3] = std::array::from_fn(|i| (p[i] + q[i]) / 2.0);
        0.5 * kl(p, &m) + 0.5 * kl(q, &m)
    };
    // One value per pair: the weights are per value, so the counts are per pair.
    let per_pair = |f: &dyn Fn(&[f64; 3], &[f64; 3]) -> f64| -> [f64; 3] {
        std::array::from_fn(|i| f(&SOURCES[i], &TARGETS[i]))
    };
    for (kind, values) in [
        (DistanceType::Cosine, per_pair(&cosine)),
        (DistanceType::KlDivergence, per_pair(&kl)),
        (DistanceType::JensenShannonDivergence, per_pair(&js)),
    ] {
        let sum = values[0] + 0.5 * values[1];
        let d = |r| distance(config(kind, r, Some(-1)));
        close(d(Sum), sum);
        close(d(Mean), sum / 1.5);
        close(d(SumOverBatchSize), sum / 4.0);
        close(d(SumByNonzeroWeights), sum / 2.0);
    }
    // Hand values of the first pair: cos = 0.44 / (sqrt(0.54) * sqrt(0.42)).
    close(
        per_pair(&cosine)[0],
        1.0 - 0.44 / (0.54f64.sqrt() * 0.42f64.sqrt()),
    );
    close(
        per_pair(&kl)[0],
        0.7 * (0.7f64 / 0.5).ln() + 0.2 * (0.2f64 / 0.4).ln(),
    );
}

#[test]
fn transforms_apply_to_both_sides_and_no_weight_means_no_loss() {
    let device = Device::flex();
    let logits = |v: [f32; 3]| Tensor::<1>::from_floats(v, &device).reshape([1, 3]);
    let softmax_l2 = DistanceConfig {
        transform_fn: TransformFn::Softmax,
        reduction: Reduction::Sum,
        ..Default::default()
    };
    // Logits that differ by a constant have the same softmax: no distance.
    let d = pairwise_distance(
        logits([1.0, 2.0, 3.0]),
        logits([11.0, 12.0, 13.0]),
        &[1.0],
        1,
        &softmax_l2,
    );
    assert!(d.into_scalar::<f32>().abs() < 1e-7);
    let sigmoid = DistanceConfig {
        transform_fn: TransformFn::Sigmoid,
        ..softmax_l2
    };
    let d = pairwise_distance(
        logits([0.0, 0.0, 0.0]),
        logits([0.0, 0.0, 100.0]),
        &[1.0],
        1,
        &sigmoid,
    );
    close(d.into_scalar::<f32>() as f64, 0.25); // (0.5 - 1)^2
                                                // TensorFlow's div_no_nan: all weights 0 is a loss of 0, not NaN.
    let d = pairwise_distance(
        logits([0.0, 1.0, 0.0]),
        logits([1.0, 0.0, 0.0]),
        &[0.0],
        1,
        &DistanceConfig::default(),
    );
    assert_eq!(d.into_scalar::<f32>(), 0.0);
}

// ---- building graphs ----

/// A dozen vectors in a plane at known angles (degrees) and lengths, and one zero vector.
const ANGLES: [f64; 12] = [
    0.0, 10.0, 22.0, 45.0, 90.0, 95.0, 101.0, 180.0, 182.0, 270.0, 300.0, 335.0,
];

fn plane_vectors() -> Embedding {
    let mut values = Vec::new();
    for (i, deg) in ANGLES.iter().enumerate() {
        let r = 1.0 + i as f64; // lengths must not matter
        let t = deg.to_radians();
        values.extend([(r * t.cos()) as f32, (r * t.sin()) as f32, 0.0]);
    }
    values.extend([0.0, 0.0, 0.0]);
    // Ids are data rows: not the positions.
    let rows = (0..13).map(|i| 100 + 2 * i).collect();
    Embedding::new(values, 3, rows).unwrap()
}

/// Every pair whose angle has a cosine of at least `threshold`, both directions.
fn expected_edges(threshold: f64) -> Vec<(u32, u32, f64)> {
    let mut edges = Vec::new();
    for (i, a) in ANGLES.iter().enumerate() {
        for (j, b) in ANGLES.iter().enumerate() {
            let cos = (a - b).to_radians().cos();
            if i != j && cos >= threshold {
                edges.push((100 + 2 * i as u32, 100 + 2 * j as u32, cos));
            }
        }
    }
    edges.sort_by_key(|e| (e.0, e.1));
    edges
}

fn as_tuples(graph: &Graph) -> Vec<(u32, u32, f64)> {
    graph
        .edges()
        .iter()
        .map(|e| (e.source, e.target, e.weight as f64))
        .collect()
}

fn same_edges(got: &[(u32, u32, f64)], want: &[(u32, u32, f64)]) {
    assert_eq!(got.len(), want.len(), "{got:?}\nvs\n{want:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0, g.1), (w.0, w.1));
        assert!((g.2 - w.2).abs() < 1e-6, "{g:?} vs {w:?}");
    }
}

#[test]
fn exact_graph_of_a_dozen_vectors_has_the_pairs_of_known_cosine() {
    let embedding = plane_vectors();
    for threshold in [0.8, 0.95, 0.3] {
        let config = BuildConfig {
            similarity_threshold: threshold as f32,
            ..Default::default()
        };
        let graph = build_graph(&embedding, &config).unwrap();
        same_edges(&as_tuples(&graph), &expected_edges(threshold));
    }
    // cos 11 deg = 0.982: 0-10, 90-95, 90-101, 95-101, 180-182; 10-22 and 335-0 are farther.
    let graph = build_graph(
        &embedding,
        &BuildConfig {
            similarity_threshold: 0.98,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(graph.len(), 2 * 5);
    // The zero vector, at similarity 0 to every vector, is linked only at threshold 0.
    assert!(graph.out_edges(124).is_empty());

    // Top 1: each vector points at its closest one (no ties among these angles).
    let top = build_graph(
        &embedding,
        &BuildConfig {
            similarity_threshold: 0.01,
            top_k: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let nearest: Vec<(u32, u32)> = top.edges().iter().map(|e| (e.source, e.target)).collect();
    assert_eq!(
        nearest,
        [
            (100, 102),
            (102, 100),
            (104, 102),
            (106, 104),
            (108, 110),
            (110, 108),
            (112, 110),
            (114, 116),
            (116, 114),
            (118, 120),
            (120, 118),
            (122, 100)
        ]
    );
}

#[test]
fn blocked_products_equal_brute_force_across_block_edges() {
    // 600 random vectors: more than two 256-row blocks, so pairs cross block boundaries.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (n, dim) = (600, 5);
    let values: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
    let embedding = Embedding::new(values.clone(), dim, (0..n as u32).collect()).unwrap();
    let unit: Vec<Vec<f64>> = values
        .chunks(dim)
        .map(|v| {
            let norm = v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
            v.iter().map(|&x| x as f64 / norm).collect()
        })
        .collect();
    let mut want = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let cos: f64 = unit[i].iter().zip(&unit[j]).map(|(a, b)| a * b).sum();
            // Leave out pairs within rounding of the threshold.
            if i != j && cos >= 0.9 + 1e-5 {
                want.push((i as u32, j as u32, cos));
            }
        }
    }
    let config = BuildConfig {
        similarity_threshold: 0.9,
        ..Default::default()
    };
    let got: Vec<_> = as_tuples(&build_graph(&embedding, &config).unwrap())
        .into_iter()
        .filter(|e| e.2 >= 0.9 + 1e-5)
        .collect();
    same_edges(&got, &want);
    assert!(want.len() > 1000, "{} edges", want.len());

    // LSH finds a subset of the exact edges; more rounds find more.
    let lsh = |rounds| {
        build_graph(
            &embedding,
            &BuildConfig {
                lsh_splits: 3,
                lsh_rounds: rounds,
                seed: 1,
                ..config
            },
        )
        .unwrap()
    };
    let exact = build_graph(&embedding, &config).unwrap();
    let (one, many) = (lsh(1), lsh(8));
    for e in many.edges() {
        assert!(exact
            .out_edges(e.source)
            .iter()
            .any(|x| x.target == e.target));
    }
    assert!(one.len() < many.len() && many.len() <= exact.len());
    assert!(
        many.len() as f64 > 0.9 * exact.len() as f64,
        "{} of {}",
        many.len(),
        exact.len()
    );
    assert_eq!(lsh(2), lsh(2), "seeded");

    // Asking for more edges than allowed is an error, not an out-of-memory.
    let limited = BuildConfig {
        max_edges: 100,
        ..config
    };
    assert!(matches!(
        build_graph(&embedding, &limited),
        Err(GraphError::TooManyEdges { limit: 100 })
    ));
}

#[test]
fn graph_files_round_trip_through_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep/g.tsv");
    let graph = build_graph(&plane_vectors(), &BuildConfig::default()).unwrap();
    graph.write_tsv(&path).unwrap();
    assert_eq!(Graph::read_tsv(&path).unwrap(), graph);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("100\t102\t0.9848"), "{text}");
    assert_eq!(text.lines().count(), graph.len());
    assert!(Graph::from_edges([Edge::new(1, 2, 0.5)])
        .write_tsv(dir.path())
        .is_err());
}

// ---- a tiny network that learns with a graph ----

#[test]
fn a_tiny_network_learns_with_graph_regularization() {
    let dir = tempfile::tempdir().unwrap();
    let all = synthesize(&SynthConfig {
        n: 900,
        seed: 1,
        ..Default::default()
    })
    .unwrap();
    let (train, val) = all.split_stratified(0.75, 0).unwrap();
    // Each face's 3 most similar by pixels: every face has neighbours.
    let graph = build_graph(
        &Embedding::pixels(&all),
        &BuildConfig {
            similarity_threshold: 0.0,
            top_k: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    let file = dir.path().join("faces.tsv");
    graph.write_tsv(&file).unwrap();
    let mut graph_config = GraphTraining::new(&file);
    graph_config.regularization = GraphRegConfig::default().multiplier(0.5).max_neighbors(2);
    let config = TrainConfig {
        model: ModelChoice::Preset {
            preset: "tiny".into(),
        },
        epochs: 4,
        batch_size: 32,
        learning_rate: 3e-3,
        seed: 5,
        graph: Some(graph_config),
        ..Default::default()
    };
    let outcome = Training::new(&config)
        .validate_on(&val)
        .save(RunOptions {
            root: dir.path().to_path_buf(),
            name: Some("graph".into()),
            ..Default::default()
        })
        .fit(&train)
        .unwrap();
    let last = outcome.history.last().unwrap();
    let val_acc = last.validation.unwrap().categorical_accuracy;
    assert!(val_acc > 0.4, "validation accuracy {val_acc}"); // majority class: 25%
    for record in &outcome.history {
        let m = record.train;
        assert!(m.scaled_graph_loss > 0.0, "epoch {}: {m:?}", record.epoch);
        close(m.loss, m.categorical_crossentropy + m.scaled_graph_loss);
        assert_eq!(record.validation.unwrap().scaled_graph_loss, 0.0);
    }
    let history = std::fs::read_to_string(outcome.run_dir.unwrap().history()).unwrap();
    let header: Vec<&str> = history.lines().next().unwrap().split(',').collect();
    let column = header
        .iter()
        .position(|c| *c == "scaled_graph_loss")
        .unwrap();
    let first: f64 = history
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(column)
        .unwrap()
        .parse()
        .unwrap();
    close(first, outcome.history[0].train.scaled_graph_loss);

    // Resuming needs the same graph: another one is refused, naming it.
    let fewer = Graph::from_edges(graph.edges().iter().copied().skip(1));
    fewer.write_tsv(&file).unwrap();
    let longer = TrainConfig {
        epochs: 5,
        ..config.clone()
    };
    let resume = || {
        Training::new(&longer)
            .validate_on(&val)
            .save(RunOptions {
                root: dir.path().to_path_buf(),
                name: Some("graph".into()),
                resume: true,
                ..Default::default()
            })
            .fit(&train)
    };
    let error = resume().unwrap_err().to_string();
    assert!(
        error.starts_with("cannot resume: graph differs from the run's (run: edges crc "),
        "{error}"
    );
    graph.write_tsv(&file).unwrap();
    let resumed = resume().unwrap();
    assert_eq!(resumed.history.len(), 5);
    assert_eq!(resumed.history[..4], outcome.history[..]);

    // A graph that joins no two training faces is refused, naming the file.
    let elsewhere = dir.path().join("elsewhere.tsv");
    std::fs::write(&elsewhere, "50000\t50001\t0.9\n").unwrap();
    let config = TrainConfig {
        graph: Some(GraphTraining::new(&elsewhere)),
        epochs: 1,
        ..config
    };
    let error = Training::new(&config).fit(&train).unwrap_err().to_string();
    assert!(
        error.contains("elsewhere.tsv: no training face has a neighbour"),
        "{error}"
    );
}
