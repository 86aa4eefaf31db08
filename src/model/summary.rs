//! A Keras-style model summary, computed from the table: layer, output shape, parameters.

use std::fmt;

use super::config::CnnConfig;

/// One row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRow {
    /// Keras-style name (`conv2d_1`, `batch_normalization_2`, ...).
    pub name: String,
    /// Keras class name (`Conv2D`, `BatchNormalization`, ...).
    pub kind: &'static str,
    /// Output shape without the batch axis, channels last as Keras prints it.
    pub shape: Vec<usize>,
    pub params: usize,
    /// Parameters not trained by the optimizer (BatchNorm's running mean and variance).
    pub non_trainable: usize,
}

/// The layers of a network with their shapes and parameter counts.
///
/// BatchNorm counts four values per channel (scale, shift, running mean and variance), as
/// Keras does, so totals match the study's Fig. 4.5.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSummary {
    pub name: String,
    pub layers: Vec<LayerRow>,
}

impl ModelSummary {
    /// All parameters, trainable or not.
    pub fn total_params(&self) -> usize {
        self.layers.iter().map(|l| l.params).sum()
    }

    /// Parameters the optimizer updates.
    pub fn trainable_params(&self) -> usize {
        self.total_params() - self.non_trainable_params()
    }

    /// BatchNorm running statistics.
    pub fn non_trainable_params(&self) -> usize {
        self.layers.iter().map(|l| l.non_trainable).sum()
    }
}

/// Keras numbers repeated layer kinds: `conv2d`, `conv2d_1`, ...
struct Namer(std::collections::HashMap<&'static str, usize>);

impl Namer {
    fn name(&mut self, base: &'static str) -> String {
        let n = self.0.entry(base).or_insert(0);
        let name = if *n == 0 {
            base.to_string()
        } else {
            format!("{base}_{n}")
        };
        *n += 1;
        name
    }
}

impl CnnConfig {
    /// The summary of this network.
    pub fn summary(&self) -> ModelSummary {
        let mut layers = Vec::new();
        let mut namer = Namer(Default::default());
        let mut row = |base: &'static str, kind, shape: Vec<usize>, params, non_trainable| {
            layers.push(LayerRow {
                name: namer.name(base),
                kind,
                shape,
                params,
                non_trainable,
            })
        };
        let [mut h, mut w] = self.input;
        let mut channels = 1;
        for block in &self.blocks {
            for _ in 0..block.convs {
                let params = block.kernel * block.kernel * channels * block.filters + block.filters;
                channels = block.filters;
                row("conv2d", "Conv2D", vec![h, w, channels], params, 0);
                row(
                    "batch_normalization",
                    "BatchNormalization",
                    vec![h, w, channels],
                    4 * channels,
                    2 * channels,
                );
            }
            h /= 2;
            w /= 2;
            row("max_pooling2d", "MaxPooling2D", vec![h, w, channels], 0, 0);
            if block.dropout > 0.0 {
                row("dropout", "Dropout", vec![h, w, channels], 0, 0);
            }
        }
        let mut features = h * w * channels;
        row("flatten", "Flatten", vec![features], 0, 0);
        for dense in &self.dense {
            row(
                "dense",
                "Dense",
                vec![dense.units],
                features * dense.units + dense.units,
                0,
            );
            features = dense.units;
            row(
                "batch_normalization",
                "BatchNormalization",
                vec![features],
                4 * features,
                2 * features,
            );
            if dense.dropout > 0.0 {
                row("dropout", "Dropout", vec![features], 0, 0);
            }
        }
        row(
            "dense",
            "Dense",
            vec![self.classes],
            features * self.classes + self.classes,
            0,
        );
        ModelSummary {
            name: self.name.clone(),
            layers,
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule =
            |f: &mut fmt::Formatter<'_>, c: char| writeln!(f, "{}", c.to_string().repeat(72));
        writeln!(f, "Model: \"{}\"", self.name)?;
        rule(f, '_')?;
        writeln!(
            f,
            " {:<38}{:<22}{:>10}",
            "Layer (type)", "Output Shape", "Param #"
        )?;
        rule(f, '=')?;
        for layer in &self.layers {
            let shape = layer
                .shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let label = format!("{} ({})", layer.name, layer.kind);
            writeln!(
                f,
                " {:<38}{:<22}{:>10}",
                label,
                format!("(None, {shape})"),
                thousands(layer.params)
            )?;
        }
        rule(f, '=')?;
        let total = self.total_params();
        writeln!(
            f,
            "Total params: {} ({:.2} MB)",
            thousands(total),
            total as f64 * 4.0 / (1024.0 * 1024.0)
        )?;
        writeln!(
            f,
            "Trainable params: {}",
            thousands(self.trainable_params())
        )?;
        writeln!(
            f,
            "Non-trainable params: {}",
            thousands(self.non_trainable_params())
        )?;
        rule(f, '_')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_4_2_matches_keras_layer_by_layer() {
        let summary = CnnConfig::preset("report-4.2").unwrap().summary();
        let params: Vec<usize> = summary.layers.iter().map(|l| l.params).collect();
        assert_eq!(
            params,
            [
                1664, 256, 102_464, 256, 0, 0, 73_856, 512, 147_584, 512, 0, 0, 295_168, 1024,
                590_080, 1024, 0, 0, 0, 1_179_776, 512, 0, 903
            ]
        );
        assert_eq!(summary.total_params(), 2_395_591);
        assert_eq!(summary.non_trainable_params(), 2_048);
        assert_eq!(summary.trainable_params(), 2_393_543);
        assert_eq!(summary.layers[19].shape, [128]);
        assert_eq!(summary.layers[17].shape, [6, 6, 256]);
        assert_eq!(summary.layers[3].name, "batch_normalization_1");
        let text = summary.to_string();
        assert!(text.contains("Total params: 2,395,591 (9.14 MB)"), "{text}");
        assert!(text.contains(" conv2d_5 (Conv2D)"), "{text}");
    }

    #[test]
    fn other_presets_and_class_counts() {
        let five_one = CnnConfig::preset("report-5.1").unwrap().summary();
        assert_eq!(five_one.total_params(), 5_907_143);
        let five_two = CnnConfig::preset("report-5.2").unwrap().summary();
        assert_eq!(five_two.total_params(), 685_447);
        let three = CnnConfig::preset("report-4.2")
            .unwrap()
            .with_classes(3)
            .summary();
        assert_eq!(three.total_params(), 2_395_591 - 4 * 129);
        assert!(CnnConfig::preset("nope").is_none());
    }

    #[test]
    fn any_input_size_and_validation() {
        let mut cfg = CnnConfig::preset("tiny").unwrap();
        cfg.input = [37, 20];
        assert_eq!(cfg.feature_size(), [9, 5]);
        assert_eq!(cfg.flat_features(), 9 * 5 * 16);
        assert!(cfg.validate().is_ok());
        cfg.input = [3, 3];
        let small = cfg.validate().unwrap_err();
        assert_eq!(small.field, "blocks");
        assert!(small.reason.contains("too small"), "{small}");
        let mut bad = CnnConfig::preset("tiny").unwrap();
        bad.dense[0].dropout = 1.0;
        assert_eq!(
            bad.validate().unwrap_err(),
            crate::ConfigError::new("dense[0].dropout", "1 is outside [0, 1)")
        );
        let mut zero = CnnConfig::preset("tiny").unwrap();
        zero.blocks[1].kernel = 0;
        assert_eq!(zero.validate().unwrap_err().field, "blocks[1].kernel");
    }
}
