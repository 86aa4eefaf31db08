//! The one error of every configuration check: which setting, and why it cannot be used.

/// A setting that cannot be used, named by its path in a TOML training configuration
/// (`adversarial.multiplier`, `model.blocks[2].dropout`), so a front end can name its own
/// spelling of it (the `fer` CLI adds the flag).
///
/// ```
/// use fer::nsl::AdvRegConfig;
/// let error = AdvRegConfig::default().multiplier(-1.0).validate().unwrap_err();
/// assert_eq!(error.field, "multiplier");
/// assert_eq!(error.within("adversarial").to_string(),
///            "adversarial.multiplier: must be a finite number >= 0, not -1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ConfigError {
    /// Dotted path of the setting, as in a TOML configuration.
    pub field: String,
    /// What is wrong with its value.
    pub reason: String,
}

impl ConfigError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error seen from the table that holds the checked one: `multiplier` within
    /// `adversarial` is `adversarial.multiplier`.
    pub fn within(self, parent: &str) -> ConfigError {
        ConfigError {
            field: format!("{parent}.{}", self.field),
            reason: self.reason,
        }
    }
}
