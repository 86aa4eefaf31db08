//! Images per second of each measured stack, and fer's ratios to the others.

use serde::Deserialize;

/// Images per second of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Rate {
    /// By the wall clock: what a user waits for.
    pub wall: f64,
    /// Per CPU-second of the whole process, all its threads. Steadier than wall time on
    /// these shared machines, whose neighbours take cores away for seconds at a time.
    pub cpu: Option<f64>,
}

/// Each measurement's rate, and the peak memory while they ran.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Rates {
    pub train: Option<Rate>,
    pub adv: Option<Rate>,
    pub predict: Option<Rate>,
    pub peak_rss_mib: Option<u64>,
}

impl Rates {
    pub fn is_empty(&self) -> bool {
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
pub enum Clock {
    Wall,
    Cpu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
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
pub fn rates_table(rows: &[(String, Rates)]) -> String {
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

pub fn ratio(
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
pub fn ratio_table(rows: &[(String, Rates)]) -> String {
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

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::peers;

    /// fer keeps two cores busy, TF + NSL four threads' worth, PyTorch two.
    pub fn rows() -> Vec<(String, Rates)> {
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
