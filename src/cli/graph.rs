//! `fer graph`: build a similarity graph over faces (NSL's `build_graph`) and measure one.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use fer::data::DataSpec;
use fer::graph::{
    build_graph, embeddings, BuildConfig, Embedding, EmbeddingSource, Graph, GraphStats,
};

use super::eval::read_checkpoint;
use super::source;
use super::ComputeArgs;

#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Link faces whose embeddings are similar (NSL's build_graph) into a TSV graph.
    ///
    /// Every face of the data is a node, named by its 0-based data row (CSV line = id + 2);
    /// training uses the edges between training faces.
    Build(BuildArgs),
    /// Print a graph's size, degrees and weights; with --data, its coverage of the data and
    /// its label agreement (the share of edges joining faces of the same class).
    Stats {
        /// A TSV graph (source, target, weight).
        graph: PathBuf,
        /// The data file the graph's ids index.
        #[arg(long)]
        data: Option<DataSpec>,
        #[arg(long)]
        lenient: bool,
    },
}

/// What describes a face when comparing faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbeddingChoice {
    /// The network's last hidden layer (needs --checkpoint).
    Penultimate,
    /// The network's logits (needs --checkpoint).
    Logits,
    /// The network's class probabilities (needs --checkpoint).
    Probabilities,
    /// The gray levels, each face centred on its mean (cosine = pixel correlation).
    Pixels,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// FER2013 CSV, image-folder tree, or synthetic[:N[:SEED]].
    #[arg(long, default_value = "synthetic")]
    data: DataSpec,
    /// A checkpoint, or a run directory (its best checkpoint), whose network embeds faces.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// What to compare [default: penultimate with --checkpoint, else pixels].
    #[arg(long, value_enum)]
    embedding: Option<EmbeddingChoice>,
    /// Least cosine similarity of an edge (NSL: 0.8).
    #[arg(long, default_value_t = 0.8)]
    similarity_threshold: f32,
    /// Keep only each face's k most similar faces (the graph is then directed).
    #[arg(long)]
    top_k: Option<usize>,
    /// Random hyperplanes per LSH round; 0 compares all pairs (exact).
    #[arg(long, default_value_t = 0)]
    lsh_splits: u32,
    /// LSH rounds (NSL's build_graph: 2).
    #[arg(long, default_value_t = 2)]
    lsh_rounds: u32,
    /// Seed of the LSH hyperplanes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop with an error rather than write more edges than this.
    #[arg(long, default_value_t = 50_000_000)]
    max_edges: usize,
    /// Faces per batch when embedding with a network.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// The TSV graph to write.
    #[arg(long)]
    out: PathBuf,
    /// Overwrite an existing graph file.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    compute: ComputeArgs,
    #[arg(long)]
    lenient: bool,
}

pub fn run(command: GraphCommand) -> anyhow::Result<()> {
    match command {
        GraphCommand::Build(args) => build(args),
        GraphCommand::Stats {
            graph,
            data,
            lenient,
        } => {
            let edges = Graph::read_tsv(&graph)?;
            let data = data.map(|spec| source::load(&spec, lenient)).transpose()?;
            println!("{}", graph.display());
            print!("{}", GraphStats::new(&edges, data.as_ref()));
            Ok(())
        }
    }
}

fn build(args: BuildArgs) -> anyhow::Result<()> {
    if args.out.exists() && !args.force {
        bail!(
            "{} exists: pass --force to overwrite it",
            args.out.display()
        );
    }
    let config = BuildConfig {
        similarity_threshold: args.similarity_threshold,
        top_k: args.top_k,
        lsh_splits: args.lsh_splits,
        lsh_rounds: args.lsh_rounds,
        seed: args.seed,
        max_edges: args.max_edges,
    };
    config.validate()?;
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let data = source::load(&args.data, args.lenient)?;
    let started = Instant::now();
    let choice = args.embedding.unwrap_or(match args.checkpoint {
        Some(_) => EmbeddingChoice::Penultimate,
        None => EmbeddingChoice::Pixels,
    });
    let source = match choice {
        EmbeddingChoice::Pixels => None,
        EmbeddingChoice::Penultimate => Some(EmbeddingSource::Penultimate),
        EmbeddingChoice::Logits => Some(EmbeddingSource::Logits),
        EmbeddingChoice::Probabilities => Some(EmbeddingSource::Probabilities),
    };
    let embedding = match (source, &args.checkpoint) {
        (None, _) => Embedding::pixels(&data),
        (Some(source), Some(path)) => {
            let device = args.compute.device()?;
            let model = read_checkpoint(path)?.model(&device)?;
            embeddings(&model, &data, source, args.batch_size, &device)?
        }
        (Some(_), None) => bail!(
            "--embedding {} needs --checkpoint (a trained network); without one use \
             --embedding pixels",
            choice.to_possible_value().expect("named").get_name()
        ),
    };
    let embedded = started.elapsed().as_secs_f64();
    eprintln!(
        "embedded {} faces as {} values each ({embedded:.1} s); comparing {}",
        embedding.len(),
        embedding.dim(),
        if config.lsh_splits == 0 {
            "all pairs".to_string()
        } else {
            format!(
                "within LSH buckets ({} splits, {} rounds)",
                config.lsh_splits, config.lsh_rounds
            )
        }
    );
    let graph = build_graph(&embedding, &config)?;
    let built = started.elapsed().as_secs_f64() - embedded;
    graph
        .write_tsv(&args.out)
        .with_context(|| "writing the graph".to_string())?;
    println!(
        "{}: {} edges over {} faces ({built:.1} s to compare)",
        args.out.display(),
        graph.len(),
        graph.nodes().len()
    );
    print!("{}", GraphStats::new(&graph, Some(&data)));
    Ok(())
}
