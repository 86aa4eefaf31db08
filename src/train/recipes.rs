//! The study's experiments as ready-made configurations (`recipes/*.toml`, built in), and
//! the results the study reported for each, for the report to compare against.

use super::TrainConfig;

/// What the study reported for a recipe (on its test split).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StudyResult {
    pub train_accuracy: Option<f64>,
    pub test_accuracy: Option<f64>,
    pub test_loss: Option<f64>,
    pub test_cross_entropy: Option<f64>,
    pub test_scaled_adversarial_loss: Option<f64>,
    /// What the study said in words.
    pub note: &'static str,
}

/// A built-in recipe: its name, TOML text and the study's result.
#[derive(Debug, Clone, Copy)]
pub struct Recipe {
    pub name: &'static str,
    pub toml: &'static str,
    pub study: StudyResult,
}

const NO_RESULT: StudyResult = StudyResult {
    train_accuracy: None,
    test_accuracy: None,
    test_loss: None,
    test_cross_entropy: None,
    test_scaled_adversarial_loss: None,
    note: "",
};

/// The study's experiments (sections 4 and 5).
pub const RECIPES: [Recipe; 5] = [
    Recipe {
        name: "report-4.2",
        toml: include_str!("../../recipes/report-4.2.toml"),
        study: StudyResult {
            train_accuracy: Some(0.766),
            test_accuracy: Some(0.6882),
            note: "table 4.2 network, 30 epochs",
            ..NO_RESULT
        },
    },
    Recipe {
        name: "report-4.2-100",
        toml: include_str!("../../recipes/report-4.2-100.toml"),
        study: StudyResult {
            train_accuracy: Some(0.8035),
            test_accuracy: Some(0.6980),
            note: "table 4.2 network, 100 epochs",
            ..NO_RESULT
        },
    },
    Recipe {
        name: "report-5.1",
        toml: include_str!("../../recipes/report-5.1.toml"),
        study: StudyResult {
            note: "about the same accuracy as report-4.2, with lower losses (no figures given)",
            ..NO_RESULT
        },
    },
    Recipe {
        name: "report-5.2",
        toml: include_str!("../../recipes/report-5.2.toml"),
        study: StudyResult {
            test_accuracy: Some(0.7049),
            test_loss: Some(1.2704),
            test_cross_entropy: Some(0.9444),
            test_scaled_adversarial_loss: Some(0.3260),
            note: "Usage 80/10/10 split; 70.19% test accuracy in the study's text, 0.7049 in its evaluation output",
            ..NO_RESULT
        },
    },
    Recipe {
        name: "report-3class",
        toml: include_str!("../../recipes/report-3class.toml"),
        study: StudyResult {
            train_accuracy: Some(0.8551),
            test_accuracy: Some(0.8295),
            note: "happiness, sadness and neutral only",
            ..NO_RESULT
        },
    },
];

impl Recipe {
    /// The recipe called `name`.
    ///
    /// ```
    /// let recipe = fer::train::Recipe::named("report-3class").unwrap();
    /// let config = recipe.config();
    /// assert_eq!(config.epochs, 30);
    /// assert_eq!(config.classes.unwrap().len(), 3);
    /// ```
    pub fn named(name: &str) -> Option<Recipe> {
        RECIPES.into_iter().find(|r| r.name == name)
    }

    /// Its training configuration.
    pub fn config(&self) -> TrainConfig {
        toml::from_str(self.toml).expect("built-in recipes parse (tested)")
    }

    /// The names, for messages.
    pub fn names() -> String {
        RECIPES.map(|r| r.name).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Emotion, SplitPlan};

    #[test]
    fn recipes_hold_the_study_settings() {
        for recipe in RECIPES {
            let config = recipe.config();
            config.validate().unwrap();
            assert_eq!(config.recipe.as_deref(), Some(recipe.name));
            assert_eq!((config.batch_size, config.learning_rate), (50, 0.001));
            let adv = config.adversarial.expect("every recipe is NSL");
            assert_eq!((adv.multiplier, adv.adv_step_size), (0.3, 0.12));
            assert_eq!(adv.adv_grad_norm, crate::nsl::AdvNorm::L2);
            let epochs = if recipe.name == "report-4.2-100" {
                100
            } else {
                30
            };
            assert_eq!(config.epochs, epochs, "{}", recipe.name);
            let classes = config.classes.as_ref().map_or(7, Vec::len);
            let params = config
                .model
                .resolve(classes)
                .unwrap()
                .summary()
                .total_params();
            let study_split = SplitPlan::Stratified {
                train_fraction: 0.9,
                seed: 42,
            };
            // Keras' counts of the study's tables (BatchNorm statistics included).
            let (expected_params, expected_split) = match recipe.name {
                "report-4.2" | "report-4.2-100" => (2_395_591, study_split),
                "report-5.1" => (5_907_143, study_split),
                "report-5.2" => (685_447, SplitPlan::default()),
                "report-3class" => (685_447 - 4 * 129, SplitPlan::default()),
                other => panic!("a recipe without expectations: {other}"),
            };
            assert_eq!(params, expected_params, "{}", recipe.name);
            assert_eq!(config.split, expected_split, "{}", recipe.name);
        }
        let three = Recipe::named("report-3class").unwrap().config();
        assert_eq!(
            three.classes.unwrap(),
            [Emotion::Happiness, Emotion::Sadness, Emotion::Neutral]
        );
        assert!(Recipe::named("report-9").is_none());
    }
}
