//! Adversarial-regularization settings, with NSL's names and defaults.

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The norm that bounds a perturbation (NSL's `NormType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AdvNorm {
    /// Per example, the gradient divided by its L2 norm.
    #[default]
    L2,
    /// The sign of the gradient (FGSM).
    Infinity,
    /// Sign on the coordinates of largest |gradient|, shared evenly among them.
    L1,
}

impl std::str::FromStr for AdvNorm {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "l2" => Ok(AdvNorm::L2),
            "infinity" | "inf" | "linf" => Ok(AdvNorm::Infinity),
            "l1" => Ok(AdvNorm::L1),
            _ => Err(ConfigError::new(
                "adv_grad_norm",
                format!("'{s}' is not a norm (expected l2, infinity or l1)"),
            )),
        }
    }
}

/// NSL's `AdvRegConfig`: how adversarial neighbors are made and weighted.
///
/// Built like `nsl.configs.make_adv_reg_config`:
/// ```
/// use fer::nsl::{AdvNorm, AdvRegConfig};
/// // The study's setting.
/// let config = AdvRegConfig::default().multiplier(0.3).adv_step_size(0.12);
/// assert_eq!(config.adv_grad_norm, AdvNorm::L2);
/// assert_eq!(config.pgd_iterations, 1);
/// ```
///
/// Unlike NSL's Keras wrapper, which ignores `clip_value_min`/`clip_value_max` given as
/// plain numbers, these bounds are applied to the adversarial faces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdvRegConfig {
    /// Weight of the adversarial loss in the total loss (NSL: 0.2).
    pub multiplier: f64,
    /// Size of each perturbation step (NSL: 0.001).
    pub adv_step_size: f64,
    pub adv_grad_norm: AdvNorm,
    /// Lower bound of adversarial pixel values.
    pub clip_value_min: Option<f64>,
    /// Upper bound of adversarial pixel values.
    pub clip_value_max: Option<f64>,
    /// Gradient steps per adversarial example (1: FGM/FGSM; more: PGD).
    pub pgd_iterations: usize,
    /// Radius of the ball around the clean face the perturbation is projected onto.
    pub pgd_epsilon: Option<f64>,
    /// Start from a random point in the epsilon ball (needs `pgd_epsilon`).
    pub random_init: bool,
    /// Per-pixel weights in [0, 1] applied to the gradient (48 x 48, or one per input value).
    pub feature_mask: Option<Vec<f32>>,
}

impl Default for AdvRegConfig {
    fn default() -> Self {
        AdvRegConfig {
            multiplier: 0.2,
            adv_step_size: 0.001,
            adv_grad_norm: AdvNorm::L2,
            clip_value_min: None,
            clip_value_max: None,
            pgd_iterations: 1,
            pgd_epsilon: None,
            random_init: false,
            feature_mask: None,
        }
    }
}

impl AdvRegConfig {
    pub fn multiplier(mut self, value: f64) -> Self {
        self.multiplier = value;
        self
    }

    pub fn adv_step_size(mut self, value: f64) -> Self {
        self.adv_step_size = value;
        self
    }

    pub fn adv_grad_norm(mut self, value: AdvNorm) -> Self {
        self.adv_grad_norm = value;
        self
    }

    pub fn clip_values(mut self, min: Option<f64>, max: Option<f64>) -> Self {
        self.clip_value_min = min;
        self.clip_value_max = max;
        self
    }

    pub fn pgd(mut self, iterations: usize, epsilon: Option<f64>) -> Self {
        self.pgd_iterations = iterations;
        self.pgd_epsilon = epsilon;
        self
    }

    pub fn random_init(mut self, value: bool) -> Self {
        self.random_init = value;
        self
    }

    pub fn feature_mask(mut self, mask: Option<Vec<f32>>) -> Self {
        self.feature_mask = mask;
        self
    }

    /// Checks the settings make sense together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field: &str, reason: String| Err(ConfigError::new(field, reason));
        if !(self.multiplier >= 0.0 && self.multiplier.is_finite()) {
            return bad(
                "multiplier",
                format!("must be a finite number >= 0, not {}", self.multiplier),
            );
        }
        if !(self.adv_step_size >= 0.0 && self.adv_step_size.is_finite()) {
            return bad(
                "adv_step_size",
                format!("must be a finite number >= 0, not {}", self.adv_step_size),
            );
        }
        if self.pgd_iterations == 0 {
            return bad("pgd_iterations", "must be at least 1".into());
        }
        if let Some(eps) = self.pgd_epsilon {
            if eps.is_nan() || eps < 0.0 {
                return bad("pgd_epsilon", format!("must be >= 0, not {eps}"));
            }
        }
        if self.pgd_epsilon.is_some() && self.adv_grad_norm == AdvNorm::L1 {
            return bad(
                "pgd_epsilon",
                "cannot go with the l1 norm: NSL projects onto l2 and infinity balls only".into(),
            );
        }
        if self.random_init && self.pgd_epsilon.is_none() {
            return bad(
                "random_init",
                "needs pgd_epsilon (the ball to start in)".into(),
            );
        }
        if let (Some(lo), Some(hi)) = (self.clip_value_min, self.clip_value_max) {
            if lo > hi {
                return bad(
                    "clip_value_min",
                    format!("{lo} is above clip_value_max {hi}"),
                );
            }
        }
        if let Some(mask) = &self.feature_mask {
            if let Some(m) = mask.iter().find(|m| !(0.0..=1.0).contains(*m)) {
                return bad("feature_mask", format!("values must be in [0, 1], not {m}"));
            }
        }
        Ok(())
    }
}
