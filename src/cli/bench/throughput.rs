//! Images per second of fer's training step, adversarial step and prediction.

use std::time::Instant;

use super::Rate;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::prelude::*;
use fer::data::{self, BatchConfig, Dataset};
use fer::model::CnnConfig;
use fer::model::{images_tensor, labels_tensor};
use fer::nsl::{train_step, AdvRegConfig, Classifier};

/// Training steps (Adam, as `fer train` runs them) over the first `images` faces after one
/// warm-up step; adversarial with `adversarial`.
pub fn train_rate(
    network: &CnnConfig,
    faces: &Dataset,
    images: usize,
    batch_size: usize,
    adversarial: Option<&AdvRegConfig>,
    device: &Device,
) -> anyhow::Result<Rate> {
    let device = device.clone().autodiff();
    let mut model = network.init(&device);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-7).init();
    let config = BatchConfig {
        batch_size,
        ..Default::default()
    };
    let batches: Vec<_> = faces
        .subset(&(0..images).collect::<Vec<_>>())
        .batches(&config, 0)?
        .collect();
    let mut step = |model: fer::model::Cnn, batch: data::Batch| {
        let labels = labels_tensor(&batch.labels, &device);
        let (grads, _) = train_step(
            &model,
            images_tensor(batch.images, &device),
            labels,
            adversarial,
            None,
        );
        optimizer.step(1e-3, model, grads)
    };
    let mut batches = batches.into_iter();
    let warm_up = batches
        .next()
        .ok_or_else(|| anyhow::anyhow!("no images to time"))?;
    model = step(model, warm_up);
    // A GPU runs the steps asynchronously: time from an idle device to an idle device.
    sync(&device)?;
    let stopwatch = Stopwatch::start();
    let timed = batches.len() * batch_size;
    if timed == 0 {
        anyhow::bail!("--images {images} leaves nothing to time after the warm-up batch");
    }
    for batch in batches {
        model = step(model, batch);
    }
    sync(&device)?;
    let rate = stopwatch.rate(timed);
    drop(model);
    Ok(rate)
}

fn sync(device: &Device) -> anyhow::Result<()> {
    device
        .sync()
        .map_err(|e| anyhow::anyhow!("the device failed while timing: {e:?}"))
}

/// Inference-mode class predictions of `images` faces in batches of 256, after one
/// untimed pass.
pub fn predict_rate(
    network: &CnnConfig,
    faces: &Dataset,
    images: usize,
    device: &Device,
) -> anyhow::Result<Rate> {
    let model = network.init(device).valid();
    let config = BatchConfig {
        batch_size: 256,
        shuffle: false,
        ..Default::default()
    };
    let faces = faces.subset(&(0..images).collect::<Vec<_>>());
    let run = || -> anyhow::Result<()> {
        for batch in faces.batches(&config, 0)? {
            let _ = model
                .logits(images_tensor(batch.images, device))
                .argmax(1)
                .into_data();
        }
        Ok(())
    };
    run()?;
    let stopwatch = Stopwatch::start();
    run()?;
    Ok(stopwatch.rate(images))
}

/// Wall-clock and CPU time since it started.
struct Stopwatch {
    wall: Instant,
    cpu: Option<f64>,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: process_cpu_seconds(),
        }
    }

    /// `images` per second of each clock since the start.
    fn rate(&self, images: usize) -> Rate {
        let cpu = process_cpu_seconds()
            .zip(self.cpu)
            .map(|(now, start)| now - start)
            .filter(|seconds| *seconds > 0.0);
        Rate {
            wall: images as f64 / self.wall.elapsed().as_secs_f64(),
            cpu: cpu.map(|seconds| images as f64 / seconds),
        }
    }
}

/// CPU time of all of this process's threads so far, as Python's `time.process_time`
/// that the peer scripts use.
fn process_cpu_seconds() -> Option<f64> {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which lives on this stack frame.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut time) };
    (status == 0).then_some(time.tv_sec as f64 + time.tv_nsec as f64 * 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPU time of the calling thread alone.
    fn thread_cpu_seconds() -> f64 {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec, which lives on this stack frame.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) },
            0
        );
        time.tv_sec as f64 + time.tv_nsec as f64 * 1e-9
    }

    #[test]
    fn the_cpu_rate_counts_the_cpu_time_of_every_thread() {
        let stopwatch = Stopwatch::start();
        // Each thread works until it has had 0.3 s of CPU, however busy the machine is.
        let spin = || {
            let start = thread_cpu_seconds();
            let mut x = 0u64;
            while thread_cpu_seconds() - start < 0.3 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        };
        std::thread::scope(|scope| {
            scope.spawn(spin);
            spin();
        });
        let rate = stopwatch.rate(100);
        let cpu_seconds = 100.0 / rate.cpu.expect("a CPU clock on Linux");
        let wall_seconds = 100.0 / rate.wall;
        // A clock of this thread alone would read 0.3 s; the wall clock, about 0.3 s on two
        // idle cores.
        assert!(cpu_seconds >= 0.6, "{cpu_seconds} CPU-seconds");
        assert!(wall_seconds >= 0.3, "{wall_seconds} seconds");
    }
}
