//! A chart series with bounded memory: when full, old points merge pairwise.

/// Points `(x, y)` in increasing x, at most `capacity` of them.
///
/// Pushing past capacity averages neighbouring pairs, halving the resolution of history
/// while the newest points keep arriving at full resolution, so a million-step log costs
/// the same memory as a short one.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    points: Vec<(f64, f64)>,
    capacity: usize,
}

impl Series {
    pub fn new(capacity: usize) -> Series {
        Series {
            points: Vec::new(),
            capacity: capacity.max(4),
        }
    }

    pub fn push(&mut self, x: f64, y: f64) {
        if !y.is_finite() {
            return;
        }
        if self.points.len() >= self.capacity {
            self.points = self
                .points
                .chunks(2)
                .map(|pair| {
                    let n = pair.len() as f64;
                    (
                        pair.iter().map(|p| p.0).sum::<f64>() / n,
                        pair.iter().map(|p| p.1).sum::<f64>() / n,
                    )
                })
                .collect();
        }
        self.points.push((x, y));
    }

    /// Drops points after `x` (a resumed run repeats what came after its checkpoint).
    pub fn truncate_after(&mut self, x: f64) {
        self.points.retain(|p| p.0 <= x);
    }

    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    pub fn last(&self) -> Option<(f64, f64)> {
        self.points.last().copied()
    }

    /// Points with x in `[from, to]`.
    pub fn window(&self, from: f64, to: f64) -> &[(f64, f64)] {
        let start = self.points.partition_point(|p| p.0 < from);
        let end = self.points.partition_point(|p| p.0 <= to);
        &self.points[start..end.max(start)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stays_bounded_and_recent_points_stay_exact() {
        let mut s = Series::new(100);
        for i in 0..1_000_000 {
            s.push(i as f64, (i % 10) as f64);
        }
        assert!(s.points().len() <= 100);
        assert_eq!(s.last(), Some((999_999.0, 9.0)));
        assert!(s.points().windows(2).all(|w| w[0].0 < w[1].0));
        s.truncate_after(500_000.0);
        assert!(s.last().unwrap().0 <= 500_000.0);
        assert!(!s.window(0.0, 250_000.0).is_empty());
    }

    #[test]
    fn non_finite_values_are_not_plotted() {
        let mut s = Series::new(10);
        s.push(1.0, f64::NAN);
        s.push(2.0, 1.0);
        assert_eq!(s.points(), &[(2.0, 1.0)]);
    }
}
