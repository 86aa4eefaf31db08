//! The speed issue's goals: fer's ratios to the reference stacks that must be met.

use crate::peers;
use crate::rates::{ratio, Clock, Measure, Rates};

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

/// The goals that this run measured, met or not. The goals are wall-clock ones;
/// the CPU-second ratio beside each speed goal shows how much of a verdict is noise.
pub fn goals_report(rows: &[(String, Rates)]) -> String {
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
    use crate::rates::tests::rows;
    use crate::rates::Rate;

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
}
