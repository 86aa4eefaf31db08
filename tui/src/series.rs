//! A chart series with bounded memory: when full, old points merge pairwise.

/// Points `(x, y)` in increasing x, at most about `capacity` of them.
///
/// Raw points are averaged into buckets of equal size; when the buckets fill the capacity,
/// neighbouring pairs merge and the bucket size doubles. Resolution is uniform over the
/// run, memory is bounded however long it is, and the newest raw point is always shown
/// as the last point, exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Bucket means, then the newest raw point when there is one.
    points: Vec<(f64, f64)>,
    has_newest: bool,
    bucket: usize,
    pending: (f64, f64, usize),
    capacity: usize,
}

impl Series {
    pub fn new(capacity: usize) -> Series {
        Series {
            points: Vec::new(),
            has_newest: false,
            bucket: 1,
            pending: (0.0, 0.0, 0),
            capacity: capacity.max(4),
        }
    }

    pub fn push(&mut self, x: f64, y: f64) {
        if !y.is_finite() {
            return;
        }
        if self.has_newest {
            self.points.pop();
        }
        let (sx, sy, n) = self.pending;
        self.pending = (sx + x, sy + y, n + 1);
        if n + 1 == self.bucket {
            let (sx, sy, n) = self.pending;
            self.points.push((sx / n as f64, sy / n as f64));
            self.pending = (0.0, 0.0, 0);
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
                self.bucket *= 2;
            }
        }
        // The newest raw point, unless it is the bucket just closed.
        self.has_newest = self.points.last() != Some(&(x, y));
        if self.has_newest {
            self.points.push((x, y));
        }
    }

    /// Drops points after `x` (a resumed run repeats what came after its checkpoint).
    pub fn truncate_after(&mut self, x: f64) {
        self.points.retain(|p| p.0 <= x);
        self.pending = (0.0, 0.0, 0);
        self.has_newest = false;
    }

    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    pub fn last(&self) -> Option<(f64, f64)> {
        self.points.last().copied()
    }

    /// The value at `x`: that of the last point at or before it.
    pub fn at(&self, x: f64) -> Option<f64> {
        let end = self.points.partition_point(|p| p.0 <= x);
        end.checked_sub(1).map(|i| self.points[i].1)
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
        assert!(s.points().len() <= 101);
        assert_eq!(s.last(), Some((999_999.0, 9.0)));
        assert!(s.points().windows(2).all(|w| w[0].0 < w[1].0));
        // Uniform over the run: the first point still stands for the first steps.
        assert!(s.points()[0].0 < 20_000.0, "{:?}", s.points()[0]);
        assert!(
            (s.points()[10].1 - 4.5).abs() < 0.01,
            "bucket means of 0..9 average 4.5"
        );
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
