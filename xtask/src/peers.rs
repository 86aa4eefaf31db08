//! The reference stacks (`../shared/peers/`): TF + NSL, the study's own, and PyTorch eager,
//! run as child processes on the same machine so that fer's figures become ratios.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

use crate::memory;
use crate::rates::{Rate, Rates};

/// Table names of the peers.
pub const TF_NSL: &str = "TF + NSL";
pub const TORCH: &str = "PyTorch eager";

/// A reference script and the interpreter of its virtual environment.
#[derive(Debug, Clone)]
pub struct Peer {
    /// What the table calls it.
    pub name: &'static str,
    pub python: PathBuf,
    pub script: PathBuf,
    pub args: Vec<String>,
    /// Reads the script's output into rates.
    pub parse: fn(&str) -> Rates,
}

impl Peer {
    /// The study's stack: `seed_nsl.py`, in-process worker, TF's default threads, the median
    /// of three timed passes (one pass swung by a third between runs here).
    pub fn tf_nsl(dir: &Path, python: PathBuf, images: usize, predict_images: usize) -> Peer {
        Peer {
            name: TF_NSL,
            python,
            script: dir.join("seed_nsl.py"),
            args: [
                "--worker",
                "--threads",
                "default",
                "--n",
                &images.to_string(),
                "--reps",
                "3",
                "--pred-n",
                &predict_images.to_string(),
                "--which",
                "base,adv,predict",
            ]
            .map(String::from)
            .to_vec(),
            parse: parse_tf_nsl,
        }
    }

    /// PyTorch eager with an NSL-style step: `seed_torch.py` (fixed sizes, no arguments).
    pub fn torch(dir: &Path, python: PathBuf) -> Peer {
        Peer {
            name: TORCH,
            python,
            script: dir.join("seed_torch.py"),
            args: Vec::new(),
            parse: parse_torch,
        }
    }

    /// Why this peer cannot run here, if it cannot.
    pub fn missing(&self) -> Option<String> {
        if !self.script.is_file() {
            return Some(format!("no script {}", self.script.display()));
        }
        if !self.python.is_file() {
            return Some(format!("no venv python {}", self.python.display()));
        }
        None
    }

    /// Runs the script to the end; its rates and the child's peak memory.
    pub fn run(&self) -> anyhow::Result<Rates> {
        // The script runs in its own folder (it imports its neighbours), so paths given
        // relative to ours become absolute; not canonical: a venv's python is a symlink
        // that must keep its name to find the venv.
        let python = std::path::absolute(&self.python)?;
        let script = std::path::absolute(&self.script)?;
        let child = Command::new(&python)
            .arg(&script)
            .args(&self.args)
            .current_dir(script.parent().unwrap_or(Path::new(".")))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {} {}", python.display(), script.display()))?;
        let (output, peak) = memory::wait_with_peak(child)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            anyhow::bail!(
                "{} exited with {}: {}",
                self.script.display(),
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
        }
        let mut rates = (self.parse)(&stdout);
        rates.peak_rss_mib = peak;
        if rates.is_empty() {
            anyhow::bail!(
                "{} printed no figures this version of fer understands",
                self.script.display()
            );
        }
        Ok(rates)
    }
}

/// A figure as printed, unless it is missing, `nan` or `inf`.
fn finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `name value` lines of `seed_nsl.py` (comment lines start with `#`): each
/// `<what>_img_per_s` and its `<what>_img_per_cpu_s`.
pub fn parse_tf_nsl(output: &str) -> Rates {
    let mut rates = Rates::default();
    let mut cpu = Vec::new();
    for line in output.lines().filter(|l| !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let (Some(name), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(value) = finite(value) else {
            continue;
        };
        if let Some(what) = name.strip_suffix("_img_per_cpu_s") {
            cpu.push((what, value));
        } else if let Some(what) = name.strip_suffix("_img_per_s") {
            if let Some(slot) = tf_nsl_slot(&mut rates, what) {
                *slot = Some(Rate {
                    wall: value,
                    cpu: None,
                });
            }
        }
    }
    for (what, value) in cpu {
        if let Some(Some(rate)) = tf_nsl_slot(&mut rates, what) {
            rate.cpu = Some(value);
        }
    }
    rates
}

/// Where `seed_nsl.py`'s measurement `what` goes.
fn tf_nsl_slot<'a>(rates: &'a mut Rates, what: &str) -> Option<&'a mut Option<Rate>> {
    match what {
        "tf_base_train" => Some(&mut rates.train),
        "tf_nsl_adv_train" => Some(&mut rates.adv),
        "tf_predict_b256" => Some(&mut rates.predict),
        _ => None,
    }
}

/// `torch_<what> <wall> img/s wall  <cpu> img/cpu-s` lines of `seed_torch.py`, two rounds:
/// the better round counts on each clock, so ratios against it are not flattered by a slow
/// first round.
pub fn parse_torch(output: &str) -> Rates {
    let mut rates = Rates::default();
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [name, wall, "img/s", rest @ ..] = &words[..] else {
            continue;
        };
        let Some(wall) = finite(wall) else {
            continue;
        };
        let cpu = match rest {
            ["wall", cpu, "img/cpu-s", ..] => finite(cpu),
            _ => None,
        };
        let slot = match *name {
            "torch_base_train" => &mut rates.train,
            "torch_adv_train" => &mut rates.adv,
            "torch_predict_b256" => &mut rates.predict,
            _ => continue,
        };
        let better = |old: Option<f64>, new: Option<f64>| match (old, new) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        *slot = Some(match *slot {
            None => Rate { wall, cpu },
            Some(old) => Rate {
                wall: old.wall.max(wall),
                cpu: better(old.cpu, cpu),
            },
        });
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_nsl_output_is_read_by_name_and_comments_are_skipped() {
        let output = "\
# worker threads=default intra=0 inter=0 tf=2.21.0 n=500 reps=1 loadavg=0.1
#   tf_base_train_img_per_s rep0 97.10 img/s (5.15s wall)
tf_base_train_img_per_s 97.10
tf_base_train_img_per_cpu_s 51.00
tf_predict_b256_img_per_s 455.5
tf_predict_b256_img_per_cpu_s 240.0
tf_nsl_adv_train_img_per_s 48.70
tf_nsl_adv_train_img_per_cpu_s 25.0
";
        let rate = |wall, cpu| Some(Rate { wall, cpu });
        let rates = parse_tf_nsl(output);
        assert_eq!(rates.train, rate(97.10, Some(51.0)));
        assert_eq!(rates.adv, rate(48.70, Some(25.0)));
        assert_eq!(rates.predict, rate(455.5, Some(240.0)));
    }

    #[test]
    fn torch_output_keeps_the_better_round() {
        let output = "\
params 2395591
threads 2
torch_base_train 99.0 img/s wall  60.1 img/cpu-s
torch_adv_train 44.6 img/s wall  25.0 img/cpu-s
torch_predict_b256 207.0 img/s wall  110.0 img/cpu-s
torch_base_train 106.0 img/s wall  61.0 img/cpu-s
torch_adv_train 40.0 img/s wall  24.0 img/cpu-s
torch_predict_b256 nan img/s wall
";
        let rate = |wall, cpu| Some(Rate { wall, cpu });
        let rates = parse_torch(output);
        assert_eq!(rates.train, rate(106.0, Some(61.0)));
        assert_eq!(rates.adv, rate(44.6, Some(25.0)));
        assert_eq!(rates.predict, rate(207.0, Some(110.0)));
    }

    #[test]
    fn unrelated_output_gives_no_rates() {
        assert!(parse_torch("Traceback (most recent call last):\n").is_empty());
        assert!(parse_tf_nsl("total_params 2395591 expected 2395591 match=True\n").is_empty());
    }

    #[test]
    fn a_missing_venv_is_named() {
        let dir = std::env::temp_dir();
        let peer = Peer::torch(&dir, dir.join("no-such-venv/bin/python"));
        let why = peer.missing().expect("nothing there");
        assert!(
            why.contains("seed_torch.py") || why.contains("no-such-venv"),
            "{why}"
        );
    }
}
