//! The seven FER2013 emotion classes and the names they go by.

use std::fmt;
use std::str::FromStr;

/// Side of a FER2013 face in pixels.
pub const SIDE: usize = 48;
/// Pixels in one face (48 x 48, row-major, one gray byte each).
pub const FACE_PIXELS: usize = SIDE * SIDE;

/// One of FER2013's seven emotion labels, numbered as in the data set.
///
/// ```
/// use fer::data::Emotion;
/// assert_eq!(Emotion::from_index(3), Some(Emotion::Happiness));
/// assert_eq!("sad".parse::<Emotion>().unwrap(), Emotion::Sadness);
/// assert_eq!(Emotion::Disgust.folder_name(), "disgust");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Emotion {
    Anger = 0,
    Disgust = 1,
    Fear = 2,
    Happiness = 3,
    Sadness = 4,
    Surprise = 5,
    Neutral = 6,
}

impl Emotion {
    /// All classes in label order.
    pub const ALL: [Emotion; 7] = [
        Emotion::Anger,
        Emotion::Disgust,
        Emotion::Fear,
        Emotion::Happiness,
        Emotion::Sadness,
        Emotion::Surprise,
        Emotion::Neutral,
    ];

    /// The class with FER2013 label `index` (0-6).
    pub fn from_index(index: usize) -> Option<Emotion> {
        Self::ALL.get(index).copied()
    }

    /// The FER2013 label of this class.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The study's name of the class ("anger", "happiness", ...).
    pub fn name(self) -> &'static str {
        match self {
            Emotion::Anger => "anger",
            Emotion::Disgust => "disgust",
            Emotion::Fear => "fear",
            Emotion::Happiness => "happiness",
            Emotion::Sadness => "sadness",
            Emotion::Surprise => "surprise",
            Emotion::Neutral => "neutral",
        }
    }

    /// The folder name used by the image-folder edition of FER2013 ("angry", "happy", ...).
    pub fn folder_name(self) -> &'static str {
        match self {
            Emotion::Anger => "angry",
            Emotion::Disgust => "disgust",
            Emotion::Fear => "fear",
            Emotion::Happiness => "happy",
            Emotion::Sadness => "sad",
            Emotion::Surprise => "surprise",
            Emotion::Neutral => "neutral",
        }
    }

    /// The seven study names in label order, as owned strings (a dataset's default classes).
    pub fn names() -> Vec<String> {
        Self::ALL.iter().map(|e| e.name().to_string()).collect()
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Accepts the label digit, the study's name or the image-folder name, in any case.
impl FromStr for Emotion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase();
        if let Ok(i) = key.parse::<usize>() {
            return Emotion::from_index(i).ok_or_else(|| format!("label {i} is outside 0-6"));
        }
        Emotion::ALL
            .into_iter()
            .find(|e| e.name() == key || e.folder_name() == key)
            .ok_or_else(|| {
                format!("'{s}' is not an emotion (expected 0-6, or one of anger/angry, disgust, fear, happiness/happy, sadness/sad, surprise, neutral)")
            })
    }
}
