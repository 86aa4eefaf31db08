//! Property tests: arbitrary bytes and values never make the parsers panic, and whatever a
//! check accepts can be used.

use std::path::Path;
use std::sync::OnceLock;

use burn::prelude::*;
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::{csv, folder, LoadOptions, FACE_PIXELS};
use fer::model::{CnnConfig, ConvBlock, DenseLayer};
use fer::run::events::EventReader;
use fer::train::checkpoint::Checkpoint;
use fer::train::{ModelChoice, RunOptions, TrainConfig, Training};
use proptest::prelude::*;

/// Text that looks like FER2013 CSV: the header, then rows of label, pixels and usage
/// drawn from near misses of valid values.
fn csv_like() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        (0u8..7).prop_map(|l| l.to_string()),
        "-?[0-9]{1,3}",
        "[a-z ]{0,5}",
        Just(String::new()),
    ];
    let pixel = prop_oneof![
        (0u16..256).prop_map(|p| p.to_string()),
        "-?[0-9]{1,4}",
        "[a-z.]{1,3}",
    ];
    let pixels = prop_oneof![
        Just(vec!["0".to_string(); FACE_PIXELS]),
        prop::collection::vec(pixel, 0..40),
    ]
    .prop_map(|p| p.join(" "));
    let usage = prop_oneof![
        Just("Training".to_string()),
        Just("PublicTest".to_string()),
        "[A-Za-z]{0,8}",
    ];
    let row = (label, pixels, usage, prop::bool::ANY).prop_map(|(l, p, u, quoted)| {
        if quoted {
            format!("{l},\"{p}\",{u}")
        } else {
            format!("{l},{p},{u}")
        }
    });
    let header = prop_oneof![
        Just("emotion,pixels,Usage".to_string()),
        Just("pixels".to_string()),
        Just("emotion,pixels,emotion".to_string()),
        "[a-z,]{0,20}",
    ];
    (header, prop::collection::vec(row, 0..6)).prop_map(|(h, rows)| {
        let mut text = h;
        for row in rows {
            text += "\n";
            text += &row;
        }
        text
    })
}

/// A real checkpoint of a tiny network, trained once.
fn checkpoint() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let faces = synthesize(&SynthConfig {
            n: 40,
            seed: 1,
            ..Default::default()
        })
        .unwrap();
        let config = TrainConfig {
            model: ModelChoice::Preset {
                preset: "tiny".into(),
            },
            epochs: 1,
            batch_size: 20,
            ..Default::default()
        };
        let outcome = Training::new(&config)
            .save(RunOptions {
                root: dir.path().to_path_buf(),
                name: Some("p".into()),
                ..Default::default()
            })
            .fit(&faces)
            .unwrap();
        std::fs::read(outcome.run_dir.unwrap().last_checkpoint()).unwrap()
    })
}

fn read_checkpoint(bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.ckpt");
    std::fs::write(&path, bytes).unwrap();
    let ckpt = Checkpoint::read(&path).map_err(|e| e.to_string())?;
    ckpt.model(&Device::flex()).map_err(|e| e.to_string())?;
    Ok(())
}

fn read_image(bytes: &[u8], dir: &Path) -> Result<Vec<u8>, String> {
    let path = dir.join("face.png");
    std::fs::write(&path, bytes).unwrap();
    folder::read_face(&path)
}

/// A small network table with every size drawn near its edge.
fn network() -> impl Strategy<Value = CnnConfig> {
    let block = (0usize..5, 0usize..4, 0usize..3, -0.5f64..1.5).prop_map(
        |(filters, kernel, convs, dropout)| ConvBlock {
            filters,
            kernel,
            convs,
            dropout,
        },
    );
    let dense =
        (0usize..6, -0.5f64..1.5).prop_map(|(units, dropout)| DenseLayer { units, dropout });
    (
        prop::collection::vec(block, 0..3),
        prop::collection::vec(dense, 0..2),
        0usize..9,
        prop_oneof![
            Just([48usize, 48]),
            (0usize..64, 0usize..64).prop_map(|(h, w)| [h, w])
        ],
        prop_oneof![Just(1e-3), -1.0f64..1.0],
        prop_oneof![Just(0.99), -1.0f64..2.0],
    )
        .prop_map(
            |(blocks, dense, classes, input, epsilon, momentum)| CnnConfig {
                name: "drawn".into(),
                input,
                blocks,
                dense,
                classes,
                batch_norm_epsilon: epsilon,
                batch_norm_momentum: momentum,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn csv_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), lenient: bool) {
        let _ = csv::read_csv_from(bytes.as_slice(), Path::new("x.csv"), &LoadOptions { lenient });
    }

    #[test]
    fn csv_like_text_never_panics_and_keeps_whole_faces(text in csv_like(), lenient: bool) {
        let loaded = csv::read_csv_from(text.as_bytes(), Path::new("x.csv"), &LoadOptions { lenient });
        if let Ok(loaded) = loaded {
            prop_assert!(!loaded.dataset.is_empty());
            for i in 0..loaded.dataset.len() {
                prop_assert_eq!(loaded.dataset.face(i).len(), FACE_PIXELS);
            }
        }
    }

    #[test]
    fn event_log_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut reader = EventReader::new("");
        let records = reader.feed(&bytes);
        prop_assert!(records.len() <= bytes.iter().filter(|&&b| b == b'\n').count());
    }

    #[test]
    fn toml_text_never_panics(text in "[a-z_ =\\[\\]{}0-9.\"\n-]{0,200}") {
        if let Ok(config) = toml::from_str::<TrainConfig>(&text) {
            let _ = config.validate();
        }
    }

    #[test]
    fn a_network_that_resolves_builds_and_runs(network in network()) {
        // What `fer train` checks before building: the table, then that it fits the faces.
        let resolved = ModelChoice::Custom(network.clone()).resolve(network.classes);
        if let Ok(network) = resolved {
            let device = Device::flex();
            let model = network.init(&device);
            let faces = Tensor::<4>::zeros([2, 1, 48, 48], &device);
            prop_assert_eq!(model.forward(faces).dims(), [2, network.classes]);
        }
    }
}

proptest! {
    // File-backed: fewer cases.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn checkpoint_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = read_checkpoint(&bytes);
    }

    #[test]
    fn a_damaged_checkpoint_is_refused_never_used(at in 0usize..100_000, flip in 1u8..=255) {
        let mut bytes = checkpoint().to_vec();
        let at = at % bytes.len();
        bytes[at] ^= flip;
        prop_assert!(read_checkpoint(&bytes).is_err(), "byte {} flipped and accepted", at);
    }

    #[test]
    fn a_cut_checkpoint_is_refused(keep in 0usize..100_000) {
        let bytes = checkpoint();
        let keep = keep % bytes.len();
        prop_assert!(read_checkpoint(&bytes[..keep]).is_err());
    }

    #[test]
    fn image_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        if let Ok(face) = read_image(&bytes, dir.path()) {
            prop_assert_eq!(face.len(), FACE_PIXELS);
        }
    }

    #[test]
    fn a_damaged_png_never_panics(at in 0usize..10_000, flip in 1u8..=255) {
        let image = image::GrayImage::from_pixel(60, 40, image::Luma([77]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        let mut bytes = bytes.into_inner();
        let at = at % bytes.len();
        bytes[at] ^= flip;
        let dir = tempfile::tempdir().unwrap();
        if let Ok(face) = read_image(&bytes, dir.path()) {
            prop_assert_eq!(face.len(), FACE_PIXELS);
        }
    }
}
