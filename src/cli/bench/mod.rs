//! `fer bench`: throughput and peak memory on this machine, beside the reference stacks.

mod memory;
mod peers;
mod throughput;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::{self, LoadOptions};
use fer::model::CnnConfig;
use fer::nsl::AdvRegConfig;
use fer::train::Compute;

use memory::{peak_rss_mib, reset_peak_rss};
use peers::Peer;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time loading a data file once and report rows/s, MB/s and peak memory, then the
    /// time of its statistics (`fer data stats`: class counts and pixel statistics).
    ///
    /// Run it once per file in a fresh process: peak memory is the process's high-water mark.
    Load {
        /// A FER2013 CSV (plain or .gz) or an image-folder tree.
        path: PathBuf,
    },
    /// Images per second of training, adversarial training (the study's NSL settings) and
    /// prediction, with peak memory; with --peers, beside TF + NSL and PyTorch.
    Train(TrainBench),
}

#[derive(Debug, Args)]
pub struct TrainBench {
    #[arg(long, default_value = "report-4.2")]
    preset: String,
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    /// Images per timed training pass (after one warm-up step).
    #[arg(long, default_value_t = 500)]
    images: usize,
    /// Images to predict, in batches of 256.
    #[arg(long, default_value_t = 1024)]
    predict_images: usize,
    /// Which measurements: train, adv, predict.
    #[arg(long, value_delimiter = ',', default_value = "train,adv,predict")]
    which: Vec<String>,
    /// Backends to measure, in order: flex, and tch in a build with the tch feature.
    #[arg(long, value_delimiter = ',', default_value = "flex")]
    backend: Vec<String>,
    /// cpu, or cuda:N with the tch backend.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Also run the reference scripts (TF + NSL, PyTorch eager) in this run and print fer's
    /// ratios to them. A peer whose venv or script is missing is skipped with a note.
    #[arg(long)]
    peers: bool,
    /// Folder of seed_nsl.py and seed_torch.py.
    #[arg(long, default_value = "../shared/peers")]
    peers_dir: PathBuf,
    /// Python of a venv with tensorflow-cpu, tf-keras and neural-structured-learning.
    #[arg(long, default_value = ".venv-tf/bin/python")]
    tf_python: PathBuf,
    /// Python of a venv with torch (scripts/setup-tch.sh makes this one).
    #[arg(long, default_value = ".venv-torch/bin/python")]
    torch_python: PathBuf,
}

/// Images per second of one measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// By the wall clock: what a user waits for.
    pub wall: f64,
    /// Per CPU-second of the whole process, all its threads. Steadier than wall time on
    /// these shared machines, whose neighbours take cores away for seconds at a time.
    pub cpu: Option<f64>,
}

/// Each measurement's rate, and the peak memory while they ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates {
    pub train: Option<Rate>,
    pub adv: Option<Rate>,
    pub predict: Option<Rate>,
    pub peak_rss_mib: Option<u64>,
}

impl Rates {
    fn is_empty(&self) -> bool {
        self.train.is_none() && self.adv.is_none() && self.predict.is_none()
    }

    /// Images per second on `clock`, or peak MiB (by either clock).
    fn get(&self, measure: Measure, clock: Clock) -> Option<f64> {
        let rate = match measure {
            Measure::Train => self.train,
            Measure::Adv => self.adv,
            Measure::Predict => self.predict,
            Measure::Memory => return self.peak_rss_mib.map(|m| m as f64),
        }?;
        match clock {
            Clock::Wall => Some(rate.wall),
            Clock::Cpu => rate.cpu,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    Wall,
    Cpu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Train,
    Adv,
    Predict,
    Memory,
}

const SPEEDS: [Measure; 3] = [Measure::Train, Measure::Adv, Measure::Predict];

/// The wall-clock tables' columns: the speeds, then peak memory.
const WITH_MEMORY: [Measure; 4] = [
    Measure::Train,
    Measure::Adv,
    Measure::Predict,
    Measure::Memory,
];

/// One of the speed issue's goals: `fer <backend>` against `peer` on `measure`. Speed ratios
/// must reach `bound`; the memory ratio must stay within it.
struct Goal {
    backend: &'static str,
    measure: Measure,
    peer: &'static str,
    bound: f64,
}

const GOALS: [Goal; 5] = [
    Goal {
        backend: "tch",
        measure: Measure::Adv,
        peer: peers::TF_NSL,
        bound: 1.0,
    },
    Goal {
        backend: "tch",
        measure: Measure::Train,
        peer: peers::TORCH,
        bound: 1.0,
    },
    Goal {
        backend: "tch",
        measure: Measure::Predict,
        peer: peers::TF_NSL,
        bound: 1.0,
    },
    Goal {
        backend: "flex",
        measure: Measure::Adv,
        peer: peers::TF_NSL,
        bound: 0.5,
    },
    Goal {
        backend: "flex",
        measure: Measure::Memory,
        peer: peers::TORCH,
        bound: 1.5,
    },
];

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Load { path } => {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let start = Instant::now();
            let loaded = data::load(&path, &LoadOptions::default())?;
            let seconds = start.elapsed().as_secs_f64();
            let rows = loaded.dataset.len();
            println!(
                "load {}: {rows} faces in {seconds:.3} s ({:.0} faces/s, {:.0} MB/s of file), peak RSS {}",
                path.display(),
                rows as f64 / seconds,
                bytes as f64 / 1e6 / seconds,
                format_mib(peak_rss_mib())
            );
            let start = Instant::now();
            let counts = fer::data::ClassCounts::of(&loaded.dataset).ok();
            let stats = fer::data::PixelStats::of(&loaded.dataset);
            let seconds = start.elapsed().as_secs_f64();
            println!(
                "stats: class counts{} and pixel statistics of {} pixels in {seconds:.3} s",
                if counts.is_some() {
                    ""
                } else {
                    " (unlabeled: none)"
                },
                stats.map_or(0, |s| s.overall.count)
            );
            Ok(())
        }
        BenchCommand::Train(args) => bench_train(&args),
    }
}

fn bench_train(args: &TrainBench) -> anyhow::Result<()> {
    let network = CnnConfig::preset(&args.preset)
        .ok_or_else(|| anyhow::anyhow!("unknown preset '{}'", args.preset))?;
    if args.peers && (args.preset != "report-4.2" || args.batch_size != 50) {
        anyhow::bail!(
            "--peers compares the study's network at the scripts' batch size: \
             use --preset report-4.2 --batch-size 50 (the defaults)"
        );
    }
    let computes = args
        .backend
        .iter()
        .map(|backend| Compute::new(backend, &args.device).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let faces = synthesize(&SynthConfig {
        n: args.images.max(args.predict_images),
        seed: 1,
        ..Default::default()
    })?;
    println!(
        "bench: {} ({} parameters), batch {}, {} images per training pass, {} predicted",
        network.name,
        network.summary().total_params(),
        args.batch_size,
        args.images,
        args.predict_images
    );
    let study = AdvRegConfig::default().multiplier(0.3).adv_step_size(0.12);
    let mut rows: Vec<(String, Rates)> = Vec::new();
    for compute in &computes {
        let device = compute.device().map_err(anyhow::Error::msg)?;
        let name = format!("fer {}", compute.backend);
        println!("{name} on {}:", compute.device);
        // Each backend's peak is its own, not the previous backend's.
        reset_peak_rss();
        let mut rates = Rates::default();
        for which in &args.which {
            let (slot, adversarial) = match which.as_str() {
                "train" => (&mut rates.train, None),
                "adv" => (&mut rates.adv, Some(&study)),
                "predict" => (&mut rates.predict, None),
                other => {
                    anyhow::bail!("unknown measurement '{other}' (expected train, adv or predict)")
                }
            };
            let rate = if which == "predict" {
                throughput::predict_rate(&network, &faces, args.predict_images, &device)?
            } else {
                throughput::train_rate(
                    &network,
                    &faces,
                    args.images,
                    args.batch_size,
                    adversarial,
                    &device,
                )?
            };
            println!(
                "  {which:<8} {:>8.1} images/s, {} per CPU-second",
                rate.wall,
                cell(rate.cpu, 1)
            );
            *slot = Some(rate);
        }
        rates.peak_rss_mib = peak_rss_mib();
        println!("  peak RSS {}", format_mib(rates.peak_rss_mib));
        rows.push((name, rates));
    }
    if args.peers {
        let peers = [
            Peer::tf_nsl(
                &args.peers_dir,
                args.tf_python.clone(),
                args.images,
                args.predict_images,
            ),
            Peer::torch(&args.peers_dir, args.torch_python.clone()),
        ];
        for peer in peers {
            if let Some(why) = peer.missing() {
                println!("{}: skipped ({why})", peer.name);
                continue;
            }
            println!("{}: running {} ...", peer.name, peer.script.display());
            match peer.run() {
                Ok(rates) => rows.push((peer.name.to_string(), rates)),
                Err(error) => println!("{}: failed: {error:#}", peer.name),
            }
        }
    }
    println!();
    print!("{}", rates_table(&rows));
    let ratios = ratio_table(&rows);
    if !ratios.is_empty() {
        println!();
        print!("{ratios}");
        println!();
        print!("{}", goals_report(&rows));
    }
    Ok(())
}

fn format_mib(mib: Option<u64>) -> String {
    mib.map_or("?".into(), |m| format!("{m} MiB"))
}

fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

fn table_row(name: &str, cells: &[String]) -> String {
    let mut row = format!("{name:<28}");
    for cell in cells {
        row += &format!("{cell:>10}");
    }
    row + "\n"
}

fn header(title: &str, measures: &[Measure]) -> String {
    let names: Vec<String> = measures
        .iter()
        .map(|m| {
            match m {
                Measure::Train => "train",
                Measure::Adv => "adv",
                Measure::Predict => "predict",
                Measure::Memory => "peak MiB",
            }
            .to_string()
        })
        .collect();
    table_row(title, &names)
}

/// The speeds (and peak memory) of every measured stack, by the wall clock and per
/// CPU-second.
fn rates_table(rows: &[(String, Rates)]) -> String {
    let mut out = header("images/s (wall clock)", &WITH_MEMORY);
    for (name, rates) in rows {
        let cells = WITH_MEMORY.map(|m| {
            let decimals = if m == Measure::Memory { 0 } else { 1 };
            cell(rates.get(m, Clock::Wall), decimals)
        });
        out += &table_row(name, &cells);
    }
    out += "\n";
    out += &header("images per CPU-second", &SPEEDS);
    for (name, rates) in rows {
        let cells = SPEEDS.map(|m| cell(rates.get(m, Clock::Cpu), 1));
        out += &table_row(name, &cells);
    }
    out
}

fn ratio(
    rows: &[(String, Rates)],
    ours: &str,
    peer: &str,
    measure: Measure,
    clock: Clock,
) -> Option<f64> {
    let find = |name: &str| rows.iter().find(|(n, _)| n == name).map(|(_, r)| r);
    Some(find(ours)?.get(measure, clock)? / find(peer)?.get(measure, clock)?)
}

fn is_ours(name: &str) -> bool {
    name.starts_with("fer ")
}

/// Each fer backend divided by each peer, by the wall clock (with memory) and per
/// CPU-second: above 1 is faster (memory: above 1 is more).
fn ratio_table(rows: &[(String, Rates)]) -> String {
    let names = || rows.iter().map(|(n, _)| n.as_str());
    let pairs: Vec<(&str, &str)> = names()
        .filter(|n| is_ours(n))
        .flat_map(|ours| {
            names()
                .filter(|n| !is_ours(n))
                .map(move |peer| (ours, peer))
        })
        .collect();
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = header("ratio (wall clock)", &WITH_MEMORY);
    for &(ours, peer) in &pairs {
        let cells = WITH_MEMORY.map(|m| cell(ratio(rows, ours, peer, m, Clock::Wall), 2));
        out += &table_row(&format!("{ours} / {peer}"), &cells);
    }
    out += "\n";
    out += &header("ratio per CPU-second", &SPEEDS);
    for &(ours, peer) in &pairs {
        let cells = SPEEDS.map(|m| cell(ratio(rows, ours, peer, m, Clock::Cpu), 2));
        out += &table_row(&format!("{ours} / {peer}"), &cells);
    }
    out
}

/// The goals that this run measured, met or not. The goals are wall-clock ones;
/// the CPU-second ratio beside each speed goal shows how much of a verdict is noise.
fn goals_report(rows: &[(String, Rates)]) -> String {
    let mut out = String::from("goals\n");
    for goal in &GOALS {
        let ours = format!("fer {}", goal.backend);
        let Some(value) = ratio(rows, &ours, goal.peer, goal.measure, Clock::Wall) else {
            continue;
        };
        let (met, relation, what) = match goal.measure {
            Measure::Train => (value >= goal.bound, ">=", "train"),
            Measure::Adv => (value >= goal.bound, ">=", "adversarial train"),
            Measure::Predict => (value >= goal.bound, ">=", "predict"),
            Measure::Memory => (value <= goal.bound, "<=", "peak memory"),
        };
        let per_cpu = match goal.measure {
            Measure::Memory => None,
            _ => ratio(rows, &ours, goal.peer, goal.measure, Clock::Cpu),
        };
        out += &format!(
            "  [{}] {ours} {what} {value:.2}x {} (goal {relation} {:.1}x){}\n",
            if met { "met" } else { "not yet" },
            goal.peer,
            goal.bound,
            per_cpu.map_or(String::new(), |r| format!("; per CPU-second {r:.2}x"))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fer keeps two cores busy, TF + NSL four threads' worth, PyTorch two.
    fn rows() -> Vec<(String, Rates)> {
        let rates = |[train, adv, predict]: [f64; 3], mib, cores: f64| {
            let rate = |wall: f64| {
                Some(Rate {
                    wall,
                    cpu: Some(wall / cores),
                })
            };
            Rates {
                train: rate(train),
                adv: rate(adv),
                predict: rate(predict),
                peak_rss_mib: Some(mib),
            }
        };
        vec![
            ("fer flex".into(), rates([40.0, 25.0, 150.0], 900, 2.0)),
            (peers::TF_NSL.into(), rates([100.0, 50.0, 450.0], 1500, 4.0)),
            (peers::TORCH.into(), rates([100.0, 40.0, 200.0], 800, 2.0)),
        ]
    }

    #[test]
    fn ratios_divide_fer_by_each_peer_on_each_clock() {
        let rows = rows();
        let flex_tf = |m, clock| ratio(&rows, "fer flex", peers::TF_NSL, m, clock);
        assert_eq!(flex_tf(Measure::Adv, Clock::Wall), Some(0.5));
        assert_eq!(flex_tf(Measure::Adv, Clock::Cpu), Some(1.0));
        assert_eq!(
            ratio(
                &rows,
                "fer flex",
                peers::TORCH,
                Measure::Memory,
                Clock::Wall
            ),
            Some(1.125)
        );
        assert_eq!(
            ratio(&rows, "fer tch", peers::TF_NSL, Measure::Adv, Clock::Wall),
            None
        );
        let table = ratio_table(&rows);
        let (wall, cpu) = table
            .split_once("ratio per CPU-second")
            .expect("a CPU-second part");
        assert_eq!(wall.trim().lines().count(), 3, "{table}");
        assert_eq!(cpu.trim().lines().count(), 3, "{table}");
        assert!(wall.contains("fer flex / TF + NSL"), "{table}");
        // train: 40 / 100 on the wall clock, 20 / 25 per CPU-second.
        assert!(wall.contains("0.40") && !wall.contains("0.80"), "{table}");
        assert!(cpu.contains("0.80"), "{table}");
    }

    #[test]
    fn goals_cover_only_what_was_measured() {
        let report = goals_report(&rows());
        assert!(
            report.contains(
                "[met] fer flex adversarial train 0.50x TF + NSL (goal >= 0.5x); \
                 per CPU-second 1.00x"
            ),
            "{report}"
        );
        assert!(
            report.contains("[met] fer flex peak memory 1.12x PyTorch eager (goal <= 1.5x)\n"),
            "{report}"
        );
        assert!(!report.contains("fer tch"), "{report}");
        let mut slow = rows();
        slow[0].1.adv = Some(Rate {
            wall: 20.0,
            cpu: None,
        });
        let report = goals_report(&slow);
        assert!(
            report.contains("[not yet] fer flex adversarial train 0.40x TF + NSL (goal >= 0.5x)\n"),
            "{report}"
        );
    }

    #[test]
    fn without_peers_there_are_no_ratios() {
        let rows = rows()[..1].to_vec();
        assert!(ratio_table(&rows).is_empty());
        let table = rates_table(&rows);
        let (wall, cpu) = table
            .split_once("images per CPU-second")
            .expect("a CPU-second part");
        assert!(wall.contains("fer flex") && wall.contains("900"), "{table}");
        assert!(cpu.contains("20.0") && !cpu.contains("900"), "{table}");
    }
}
