//! The image-folder edition: layouts, conversion of any image to a face, bad images.

use std::path::Path;

use fer::data::{csv, folder, load, Dataset, Emotion, LoadOptions, Split, FACE_PIXELS};
use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba};

fn gray_face(level: u8) -> GrayImage {
    GrayImage::from_pixel(48, 48, Luma([level]))
}

fn save(root: &Path, rel: &str, image: &impl SaveAs) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image.save_as(&path);
}

trait SaveAs {
    fn save_as(&self, path: &Path);
}

impl<P: image::PixelWithColorType> SaveAs for ImageBuffer<P, Vec<P::Subpixel>>
where
    [P::Subpixel]: image::EncodableLayout,
{
    fn save_as(&self, path: &Path) {
        self.save(path).unwrap();
    }
}

#[test]
fn kaggle_tree_with_names_digits_and_any_size() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    save(root, "train/happy/b.png", &gray_face(200));
    save(root, "train/happy/a.PNG", &gray_face(100));
    save(root, "train/0/x.png", &gray_face(10));
    // A big color JPEG: gray, center-cropped, shrunk.
    save(
        root,
        "test/surprise/big.jpg",
        &RgbImage::from_pixel(120, 80, Rgb([90, 90, 90])),
    );
    save(
        root,
        "test/sadness/alpha.png",
        &ImageBuffer::from_pixel(48, 48, Rgba([50u8, 50, 50, 0])),
    );
    std::fs::write(root.join("train/happy/notes.txt"), "not an image").unwrap();
    std::fs::create_dir_all(root.join(".cache/angry")).unwrap();

    let ds = load(root, &LoadOptions::default()).unwrap().dataset;
    assert_eq!(ds.len(), 5);
    // Sorted by split, class folder, file name: test/sadness, test/surprise, train/0, train/happy.
    let classes: Vec<Emotion> = (0..5).map(|i| ds.class_of(i).unwrap()).collect();
    assert_eq!(
        classes,
        [
            Emotion::Sadness,
            Emotion::Surprise,
            Emotion::Anger,
            Emotion::Happiness,
            Emotion::Happiness
        ]
    );
    assert_eq!(
        ds.usage().unwrap(),
        [
            Split::Test,
            Split::Test,
            Split::Train,
            Split::Train,
            Split::Train
        ]
    );
    assert!(ds.face(0).iter().all(|&p| p == 50));
    assert!(
        ds.face(1).iter().all(|&p| p.abs_diff(90) <= 2),
        "jpeg gray level"
    );
    assert!(ds.face(3).iter().all(|&p| p == 100) && ds.face(4).iter().all(|&p| p == 200));
}

#[test]
fn tree_without_split_level_has_no_usage() {
    let dir = tempfile::tempdir().unwrap();
    save(dir.path(), "neutral/1.png", &gray_face(1));
    save(dir.path(), "disgust/1.png", &gray_face(2));
    let ds = folder::read_folder(dir.path(), &LoadOptions::default())
        .unwrap()
        .dataset;
    assert_eq!(ds.usage(), None);
    assert_eq!(ds.labels(), Some(&[1u8, 6][..]));
}

#[test]
fn to_face_crops_the_center_square_instead_of_stretching() {
    // 96x48: left half black, middle 48 columns white, right part black.
    let mut img = GrayImage::new(144, 48);
    for y in 0..48 {
        for x in 48..96 {
            img.put_pixel(x, y, Luma([255]));
        }
    }
    let face = folder::to_face(&image::DynamicImage::ImageLuma8(img));
    assert_eq!(face.len(), FACE_PIXELS);
    assert!(face.iter().all(|&p| p == 255));
}

#[test]
fn bad_layouts_and_images_are_named() {
    let dir = tempfile::tempdir().unwrap();
    save(dir.path(), "train/happy/ok.png", &gray_face(5));
    std::fs::write(dir.path().join("train/happy/broken.png"), b"not a png").unwrap();
    let error = load(dir.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("broken.png") && error.contains("unreadable image"),
        "{error}"
    );
    let loaded = load(dir.path(), &LoadOptions { lenient: true }).unwrap();
    assert_eq!(loaded.dataset.len(), 1);
    assert_eq!(loaded.skipped.len(), 1);
    assert!(loaded.skipped[0].path.ends_with("train/happy/broken.png"));

    save(dir.path(), "train/smirk/1.png", &gray_face(5));
    let error = load(dir.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("train/smirk") && error.contains("'smirk' is not an emotion"),
        "{error}"
    );

    let empty = tempfile::tempdir().unwrap();
    let error = load(empty.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("no .png or .jpg images"), "{error}");
}

#[test]
fn csv_to_folders_and_back_is_lossless() {
    let n = 9;
    let pixels: Vec<u8> = (0..n * FACE_PIXELS).map(|i| (i * 7 % 253) as u8).collect();
    let labels: Vec<u8> = (0..n as u8).map(|i| i % 7).collect();
    let usage: Vec<Split> = (0..n).map(|i| Split::ALL[i % 3]).collect();
    let original = Dataset::new(pixels, Some(labels), Some(usage), Emotion::ALL.to_vec()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    folder::write_folder(&original, &tree).unwrap();
    assert!(tree.join("val/disgust/00001.png").is_file());
    // Refuses to write into a folder that already has files.
    let again = folder::write_folder(&original, &tree)
        .unwrap_err()
        .to_string();
    assert!(again.contains("not empty"), "{again}");

    let back = folder::read_folder(&tree, &LoadOptions::default())
        .unwrap()
        .dataset;
    let csv_path = dir.path().join("back.csv");
    csv::write_csv(&back, &csv_path).unwrap();
    let reread = csv::read_csv(&csv_path, &LoadOptions::default())
        .unwrap()
        .dataset;
    assert_eq!(reread, back);
    // Same faces with the same labels and usage, in folder order: match by content.
    for i in 0..n {
        let j = (0..n)
            .find(|&j| back.face(j) == original.face(i))
            .expect("face survives");
        assert_eq!(back.class_of(j), original.class_of(i));
        assert_eq!(back.usage().unwrap()[j], original.usage().unwrap()[i]);
    }
}
