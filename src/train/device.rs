//! Choosing the backend and device at run time.

use std::fmt;
use std::str::FromStr;

use burn::prelude::Device;

/// A compute backend compiled into this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend: always available.
    #[default]
    Flex,
    /// LibTorch (CPU or CUDA): with the `tch` cargo feature.
    Tch,
}

/// A backend or device this build cannot run on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComputeError {
    #[error("unknown backend '{0}' (expected flex or tch)")]
    UnknownBackend(String),
    #[error("unknown device '{0}' (expected cpu, cuda or cuda:N)")]
    UnknownDevice(String),
    #[error("the flex backend runs on the CPU only, not '{0}' (the tch backend runs CUDA)")]
    FlexIsCpuOnly(String),
    #[error("device '{device}': LibTorch sees {count} CUDA device(s) (driver missing, or torch built without CUDA)")]
    NoSuchCudaDevice { device: String, count: i32 },
    #[error(
        "this build has no LibTorch backend: rebuild with the `tch` cargo feature (see README)"
    )]
    NoLibTorch,
}

impl FromStr for Backend {
    type Err = ComputeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "flex" => Ok(Backend::Flex),
            "tch" | "libtorch" => Ok(Backend::Tch),
            _ => Err(ComputeError::UnknownBackend(s.to_string())),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Flex => "flex",
            Backend::Tch => "tch",
        })
    }
}

/// A backend and a device on it, as the user names them (`--backend tch --device cuda:0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compute {
    pub backend: Backend,
    /// `cpu`, or `cuda:N` with the tch backend.
    pub device: String,
}

impl Default for Compute {
    fn default() -> Self {
        Compute {
            backend: Backend::Flex,
            device: "cpu".into(),
        }
    }
}

impl Compute {
    /// Parses the pair, checking that this build has the backend and the device exists.
    pub fn new(backend: &str, device: &str) -> Result<Compute, ComputeError> {
        let compute = Compute {
            backend: backend.parse()?,
            device: device.to_ascii_lowercase(),
        };
        compute.device()?;
        Ok(compute)
    }

    /// The pure-Rust backend's CPU device: in every build, the default of every command.
    ///
    /// ```
    /// let cpu = fer::train::Compute::cpu_device();
    /// assert_eq!(fer::train::Compute::default().device()?, cpu);
    /// # Ok::<(), fer::train::ComputeError>(())
    /// ```
    pub fn cpu_device() -> Device {
        Device::flex()
    }

    /// The Burn device for inference (add `.autodiff()` to train).
    pub fn device(&self) -> Result<Device, ComputeError> {
        match (self.backend, self.device.as_str()) {
            (Backend::Flex, "cpu") => Ok(Compute::cpu_device()),
            (Backend::Flex, other) => Err(ComputeError::FlexIsCpuOnly(other.to_string())),
            (Backend::Tch, device) => tch_device(device),
        }
    }
}

#[cfg(feature = "tch")]
// Burn marks burn-tch deprecated in favour of CubeCL backends; it is still the project's
// chosen path to LibTorch on GPU boxes.
#[allow(deprecated)]
fn tch_device(device: &str) -> Result<Device, ComputeError> {
    let index = match device {
        "cpu" => return Ok(Device::libtorch()),
        "cuda" => 0,
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => index,
            _ => return Err(ComputeError::UnknownDevice(other.to_string())),
        },
    };
    // LibTorch aborts the first operation on a missing GPU; ask first.
    // SAFETY: a plain query of LibTorch's CUDA state, with no arguments.
    let count = unsafe { torch_sys::cuda::atc_cuda_device_count() };
    if index >= count.max(0) as usize {
        return Err(ComputeError::NoSuchCudaDevice {
            device: device.to_string(),
            count,
        });
    }
    Ok(Device::libtorch_cuda(index))
}

#[cfg(not(feature = "tch"))]
fn tch_device(_device: &str) -> Result<Device, ComputeError> {
    Err(ComputeError::NoLibTorch)
}
