//! FER2013's image-folder edition: `ROOT/{train,test}/{angry,...,neutral}/*.png`.
//!
//! The split comes from the first folder level (`train`, `val`/`validation`, `test`, or the
//! CSV's usage names), the class from the second (`angry`, `happy`, ..., the study's names
//! such as `happiness`, or the digits 0-6). A tree without the split level
//! (`ROOT/happy/*.png`) loads without usage. Images of any size and color become 48x48 gray
//! by [`to_face`].

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;

use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ExtendedColorType, ImageEncoder};

use super::dataset::{Dataset, Split};
use super::emotion::{Emotion, FACE_PIXELS, SIDE};
use super::error::{DataError, Result, RowError};
use super::{LoadOptions, Loaded};

/// File extensions read as images (any case).
const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Converts any image to a FER2013 face, the way FER2013 itself was made.
///
/// Color becomes gray by Rec. 709 luma (alpha is ignored); the largest centered square is
/// kept, so faces are cropped rather than stretched; then it is resized to 48x48 with a
/// triangle (bilinear, area-aware when shrinking) filter. A 48x48 gray image is unchanged.
///
/// ```
/// use fer::data::folder::to_face;
/// let img = image::DynamicImage::new_rgb8(640, 480);
/// assert_eq!(to_face(&img).len(), 48 * 48);
/// ```
pub fn to_face(image: &DynamicImage) -> Vec<u8> {
    let gray = image.to_luma8();
    let (w, h) = gray.dimensions();
    let side = w.min(h);
    let square = if w == h {
        gray
    } else {
        image::imageops::crop_imm(&gray, (w - side) / 2, (h - side) / 2, side, side).to_image()
    };
    let face = if side as usize == SIDE {
        square
    } else {
        image::imageops::resize(&square, SIDE as u32, SIDE as u32, FilterType::Triangle)
    };
    face.into_raw()
}

/// Reads a face from an image file of any size or color (see [`to_face`]).
pub fn read_face(path: &Path) -> std::result::Result<Vec<u8>, String> {
    let image = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| format!("unreadable image: {e}"))?;
    Ok(to_face(&image))
}

/// One image to load and what its folders say about it.
struct Entry {
    path: PathBuf,
    label: Emotion,
    split: Option<Split>,
}

/// True for a file name with an image extension fer reads (.png, .jpg, .jpeg; any case).
pub fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads an image-folder tree.
///
/// ```no_run
/// use fer::data::{folder, LoadOptions};
/// let loaded = folder::read_folder("fer2013-images", &LoadOptions::default())?;
/// let parts = loaded.dataset.split_by_usage()?;
/// # Ok::<(), fer::data::DataError>(())
/// ```
pub fn read_folder(root: impl AsRef<Path>, options: &LoadOptions) -> Result<Loaded> {
    let root = root.as_ref();
    let entries = list_entries(root)?;
    if entries.is_empty() {
        return Err(DataError::Layout {
            path: root.to_path_buf(),
            problem: "no .png or .jpg images under emotion folders".into(),
        });
    }
    let faces = decode_all(&entries);
    let has_usage = entries[0].split.is_some();
    let mut pixels = Vec::with_capacity(entries.len() * FACE_PIXELS);
    let mut labels = Vec::with_capacity(entries.len());
    let mut usage = Vec::with_capacity(entries.len());
    let mut skipped = Vec::new();
    let mut rows = Vec::with_capacity(entries.len());
    for (row, (entry, face)) in (0u32..).zip(entries.iter().zip(faces)) {
        match face {
            Ok(face) => {
                rows.push(row);
                pixels.extend_from_slice(&face);
                labels.push(entry.label as u8);
                usage.extend(entry.split);
            }
            Err(problem) => {
                let error = RowError {
                    path: entry.path.clone(),
                    line: 0,
                    column: "image".into(),
                    problem,
                };
                if !options.lenient {
                    return Err(DataError::Row(error));
                }
                skipped.push(error);
            }
        }
    }
    if pixels.is_empty() {
        // Entries exist, so a lenient load skipped every one.
        let count = skipped.len();
        if let Some(first) = skipped.into_iter().next() {
            return Err(DataError::NothingKept {
                path: root.to_path_buf(),
                skipped: count,
                first: Box::new(first),
            });
        }
        return Err(DataError::Layout {
            path: root.to_path_buf(),
            problem: "no images".into(),
        });
    }
    let dataset = Dataset::new(
        pixels,
        Some(labels),
        has_usage.then_some(usage),
        Emotion::ALL.to_vec(),
    )?
    .with_source_rows(rows)?;
    Ok(Loaded { dataset, skipped })
}

/// Decodes the images on all cores, keeping their order.
fn decode_all(entries: &[Entry]) -> Vec<std::result::Result<Vec<u8>, String>> {
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = entries.len().div_ceil(threads).max(1);
    thread::scope(|scope| {
        let workers: Vec<_> = entries
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|e| read_face(&e.path)).collect::<Vec<_>>())
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("image decoding does not panic"))
            .collect()
    })
}

/// Sorted, visible subfolders of `dir`.
fn subfolders(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_dir() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn list_entries(root: &Path) -> Result<Vec<Entry>> {
    let top = subfolders(root)?;
    let split_level = top.iter().any(|(name, _)| name.parse::<Split>().is_ok());
    let mut entries = Vec::new();
    if split_level {
        for (name, dir) in &top {
            let split = name.parse::<Split>().map_err(|_| DataError::Layout {
                path: dir.clone(),
                problem: format!("'{name}' is not a split folder (expected train, val or test)"),
            })?;
            for (class_name, class_dir) in subfolders(dir)? {
                list_class(&class_dir, &class_name, Some(split), &mut entries)?;
            }
        }
    } else {
        for (class_name, class_dir) in &top {
            list_class(class_dir, class_name, None, &mut entries)?;
        }
    }
    Ok(entries)
}

fn list_class(dir: &Path, name: &str, split: Option<Split>, out: &mut Vec<Entry>) -> Result<()> {
    let label = name
        .parse::<Emotion>()
        .map_err(|problem| DataError::Layout {
            path: dir.to_path_buf(),
            problem,
        })?;
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let path = entry.map_err(|e| DataError::io(dir, e))?.path();
        if is_image(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    out.extend(files.into_iter().map(|path| Entry { path, label, split }));
    Ok(())
}

/// Writes every face as a PNG into an image-folder tree under `root`.
///
/// `root` must be new or empty, so nothing is overwritten. Faces go to
/// `root/{train,val,test}/{angry,...}/NNNNN.png` (without the split level when the data has
/// no usage), numbered by their row.
pub fn write_folder(dataset: &Dataset, root: impl AsRef<Path>) -> Result<()> {
    let root = root.as_ref();
    dataset.require_labels("an image-folder tree")?;
    if root.exists() {
        let mut contents = fs::read_dir(root).map_err(|e| DataError::io(root, e))?;
        if contents.next().is_some() {
            return Err(DataError::Layout {
                path: root.to_path_buf(),
                problem: "the output folder is not empty".into(),
            });
        }
    }
    let digits = dataset.len().to_string().len().max(5);
    for i in 0..dataset.len() {
        let emotion = dataset.class_of(i).expect("labeled");
        let mut dir = root.to_path_buf();
        if let Some(usage) = dataset.usage() {
            dir.push(usage[i].folder_name());
        }
        dir.push(emotion.folder_name());
        if i == 0 || !dir.exists() {
            fs::create_dir_all(&dir).map_err(|e| DataError::io(&dir, e))?;
        }
        let path = dir.join(format!("{i:0digits$}.png"));
        write_png(&path, dataset.face(i))?;
    }
    Ok(())
}

/// Writes one face as a PNG through a temporary name beside it, every write checked, so a
/// failure (a full disk) stops the conversion naming the file and never leaves a truncated
/// image under the final name.
fn write_png(path: &Path, face: &[u8]) -> Result<()> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(face, SIDE as u32, SIDE as u32, ExtendedColorType::L8)
        .map_err(|e| DataError::Layout {
            path: path.to_path_buf(),
            problem: format!("cannot encode PNG: {e}"),
        })?;
    let partial = path.with_extension("png.partial");
    let written = fs::write(&partial, &png).and_then(|()| fs::rename(&partial, path));
    if let Err(error) = written {
        let _ = fs::remove_file(&partial);
        return Err(DataError::io(path, error));
    }
    Ok(())
}
