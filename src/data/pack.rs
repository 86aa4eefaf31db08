//! `.ferpack`: a data set in one compact binary file, for shipping to a training box and
//! loading fast.
//!
//! Layout (little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `FERPACK\n` |
//! | 4 | format version (2) |
//! | 4 | faces *n* |
//! | 1 | flags: bit 0 labels, bit 1 usage |
//! | 1 | classes *k*, then *k* bytes: each class's FER2013 label (0-6) |
//! | 4 | faces per chunk *c* |
//! | 4 | duplicates *d* (version 2 on) |
//! | 8 per duplicate | the face (u32) and the earlier face it equals (u32), faces increasing (version 2 on) |
//! | 16 per part | for each of the ceil(*n* / *c*) face chunks, then the rest: compressed length (u64), CRC-32 of the compressed bytes and of the uncompressed ones (u32 each) |
//! | 4 | CRC-32 of every header byte before it |
//! | ... | the parts, each a zstd frame |
//!
//! A face chunk covers *c* faces (the last fewer) and stores those that are not duplicates:
//! a face identical to an earlier one is stored once (the real FER2013 repeats 1,532 of its
//! 32,298 Training and PublicTest faces). Each pixel is stored as its difference from the
//! median edge predictor of JPEG-LS (from the pixels left, above and above-left), which
//! makes the faces 14% smaller than raw under zstd. The rest holds the labels (*n* bytes),
//! the usage (*n* bytes: 0 Training, 1 PublicTest, 2 PrivateTest) and each face's source
//! row (*n* x u32), so predictions still name CSV lines. Chunks are packed and unpacked on
//! all cores. Version 1 (no duplicates fields) is still read.

use std::io::Read;
use std::path::Path;

use super::dataset::{Dataset, Split};
use super::duplicates::repeats;
use super::emotion::{Emotion, FACE_PIXELS, SIDE};
use super::error::{DataError, Result};
use crate::atomic::write_atomically;

/// The first bytes of every `.ferpack` file.
pub const PACK_MAGIC: &[u8; 8] = b"FERPACK\n";
/// The format version this build writes (it reads this one and the first).
pub const PACK_VERSION: u32 = 2;
/// zstd's level: packing is done once, loading often.
const LEVEL: i32 = 19;
/// Faces per independently compressed chunk: enough chunks to keep every core busy.
const CHUNK_FACES: usize = 2048;

const LABELS: u8 = 1;
const USAGE: u8 = 2;

/// Writes `dataset` to `path` as a `.ferpack`, atomically; returns how many of its faces
/// repeat an earlier one (each stored as a reference to it).
///
/// ```
/// use fer::data::{pack, synth};
/// let faces = synth::synthesize(&synth::SynthConfig { n: 50, ..Default::default() })?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("faces.ferpack");
/// assert_eq!(pack::write_pack(&faces, &path)?, 0);
/// assert_eq!(pack::read_pack(&path)?, faces);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_pack(dataset: &Dataset, path: &Path) -> Result<usize> {
    let n = dataset.len();
    let mut rest = Vec::with_capacity(n * 6);
    let mut flags = 0;
    if let Some(labels) = dataset.labels() {
        flags |= LABELS;
        rest.extend_from_slice(labels);
    }
    if let Some(usage) = dataset.usage() {
        flags |= USAGE;
        rest.extend(usage.iter().map(|split| match split {
            Split::Train => 0u8,
            Split::Validation => 1,
            Split::Test => 2,
        }));
    }
    rest.extend((0..n).flat_map(|i| (dataset.source_row(i) as u32).to_le_bytes()));
    let duplicates = repeats(dataset.pixels());
    let mut is_duplicate = vec![false; n];
    duplicates
        .iter()
        .for_each(|&(face, _)| is_duplicate[face] = true);
    let mut parts: Vec<Vec<u8>> = dataset
        .pixels()
        .chunks(CHUNK_FACES * FACE_PIXELS)
        .zip(is_duplicate.chunks(CHUNK_FACES))
        .map(|(faces, duplicate)| {
            faces
                .chunks_exact(FACE_PIXELS)
                .zip(duplicate)
                .filter(|(_, &duplicate)| !duplicate)
                .flat_map(|(face, _)| residuals(face))
                .collect()
        })
        .collect();
    parts.push(rest);
    let packed = on_all_cores(parts.iter().collect(), |part| {
        zstd::bulk::compress(part, LEVEL).map(|frame| {
            let crcs = [crc32fast::hash(&frame), crc32fast::hash(part)];
            (frame, crcs)
        })
    })
    .into_iter()
    .collect::<std::io::Result<Vec<_>>>()
    .map_err(|e| DataError::io(path, e))?;

    let mut header = Vec::with_capacity(64 + 16 * packed.len());
    header.extend_from_slice(PACK_MAGIC);
    header.extend_from_slice(&PACK_VERSION.to_le_bytes());
    header.extend_from_slice(&(n as u32).to_le_bytes());
    header.push(flags);
    header.push(dataset.classes().len() as u8);
    header.extend(dataset.classes().iter().map(|c| c.index() as u8));
    header.extend_from_slice(&(CHUNK_FACES as u32).to_le_bytes());
    header.extend_from_slice(&(duplicates.len() as u32).to_le_bytes());
    for &(face, original) in &duplicates {
        header.extend_from_slice(&(face as u32).to_le_bytes());
        header.extend_from_slice(&(original as u32).to_le_bytes());
    }
    for (frame, crcs) in &packed {
        header.extend_from_slice(&(frame.len() as u64).to_le_bytes());
        crcs.iter()
            .for_each(|crc| header.extend_from_slice(&crc.to_le_bytes()));
    }
    header.extend_from_slice(&crc32fast::hash(&header).to_le_bytes());
    write_atomically(path, |out| {
        use std::io::Write;
        out.write_all(&header)?;
        packed
            .iter()
            .try_for_each(|(frame, _)| out.write_all(frame))
    })
    .map_err(|e| DataError::io(path, e))?;
    Ok(duplicates.len())
}

/// Moves a chunk's stored faces, inflated to its front, out to their places, leaving
/// the `holes` (its duplicates' places, in faces from its start, increasing) to be filled
/// once every chunk is done.
fn spread(chunk: &mut [u8], holes: &[usize]) {
    let mut before = holes.len();
    let mut end = chunk.len() / FACE_PIXELS;
    for &hole in holes.iter().rev() {
        // The faces between this duplicate and the next come after `before` duplicates.
        let from = (hole + 1 - before) * FACE_PIXELS..(end - before) * FACE_PIXELS;
        chunk.copy_within(from, (hole + 1) * FACE_PIXELS);
        before -= 1;
        end = hole;
    }
}

/// JPEG-LS's median edge predictor from the pixels left (`a`), above (`b`) and above-left
/// (`c`): the middle of `a`, `b` and `a + b - c`.
fn predict(a: u8, b: u8, c: u8) -> u8 {
    let (a, b, c) = (i16::from(a), i16::from(b), i16::from(c));
    (a + b - c).clamp(a.min(b), a.max(b)) as u8
}

/// Runs `each(pixel, guess)` over a face in reading order, each guess made from `face` as
/// it is at that moment: the pixels before the current one are already final.
fn scan(face: &mut [u8], mut each: impl FnMut(u8, u8) -> u8) {
    let (first, below) = face.split_at_mut(SIDE);
    let mut left = 0;
    for p in first.iter_mut() {
        *p = each(*p, predict(left, 0, 0));
        left = *p;
    }
    let mut above = first;
    for row in below.chunks_exact_mut(SIDE) {
        let (mut left, mut corner) = (0, 0);
        for (p, &up) in row.iter_mut().zip(above.iter()) {
            *p = each(*p, predict(left, up, corner));
            (left, corner) = (*p, up);
        }
        above = row;
    }
}

/// A face as differences from [`predict`]'s guesses.
fn residuals(face: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FACE_PIXELS);
    // Scanned unchanged: each guess is made from the original pixels.
    scan(&mut face.to_vec(), |pixel, guess| {
        out.push(pixel.wrapping_sub(guess));
        pixel
    });
    out
}

/// Undoes [`residuals`] in place, for any number of whole faces.
fn restore(faces: &mut [u8]) {
    let mut groups = faces.chunks_exact_mut(INTERLEAVED * FACE_PIXELS);
    groups.by_ref().for_each(restore_interleaved::<INTERLEAVED>);
    groups
        .into_remainder()
        .chunks_exact_mut(FACE_PIXELS)
        .for_each(restore_interleaved::<1>);
}

/// Faces restored side by side: each pixel waits on the one before it, so one face is a
/// single dependency chain; several in one loop give the CPU independent chains to overlap.
const INTERLEAVED: usize = 8;

/// [`restore`] of `K` consecutive faces at once: the same guesses as [`scan`] makes,
/// written out for speed.
fn restore_interleaved<const K: usize>(faces: &mut [u8]) {
    let faces: &mut [[u8; FACE_PIXELS]] = faces.as_chunks_mut().0;
    let faces: &mut [[u8; FACE_PIXELS]; K] = faces.try_into().expect("K whole faces");
    let mut left = [0u8; K];
    for x in 0..SIDE {
        for (face, left) in faces.iter_mut().zip(&mut left) {
            *left = face[x].wrapping_add(*left);
            face[x] = *left;
        }
    }
    for y in 1..SIDE {
        let (mut left, mut corner) = ([0i32; K], [0i32; K]);
        for x in y * SIDE..(y + 1) * SIDE {
            for k in 0..K {
                let face = &mut faces[k];
                let up = i32::from(face[x - SIDE]);
                let (low, high) = if left[k] < up {
                    (left[k], up)
                } else {
                    (up, left[k])
                };
                let guess = (left[k] + up - corner[k]).clamp(low, high);
                left[k] = i32::from(face[x].wrapping_add(guess as u8));
                face[x] = left[k] as u8;
                corner[k] = up;
            }
        }
    }
}

/// `work` on every item, the items shared among the machine's cores; results in order.
fn on_all_cores<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = items.len().div_ceil(threads).max(1);
    let mut shares = Vec::new();
    let mut items = items.into_iter();
    loop {
        let share: Vec<T> = items.by_ref().take(per_thread).collect();
        if share.is_empty() {
            break;
        }
        shares.push(share);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(|| share.into_iter().map(&work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a pack worker panicked"))
            .collect()
    })
}

/// A zeroed buffer of `len` bytes from the allocator's zeroed memory (fresh pages that
/// cost nothing until written), or `None` when it cannot be had: unlike `vec![0; len]`,
/// which aborts the process.
fn zeroed_buffer(len: usize) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(len).ok()?;
    // SAFETY: the layout has a non-zero size (checked above).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    // SAFETY: `ptr` is non-null, came from the global allocator with the layout `Vec<u8>`
    // uses for capacity `len`, and all `len` bytes are initialized (zeroed).
    (!ptr.is_null()).then(|| unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// True when the file at `path` starts with [`PACK_MAGIC`].
pub fn is_pack(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == PACK_MAGIC)
}

/// Reads a `.ferpack` written by [`write_pack`]: the identical data set, or an error that
/// says what is wrong with the file (truncated, altered, another version).
pub fn read_pack(path: &Path) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bad = |problem: String| DataError::Layout {
        path: path.to_path_buf(),
        problem,
    };
    let mut at = Cursor {
        bytes: &bytes,
        at: 0,
    };
    let truncated = || bad("truncated: the file ends inside its header".into());
    if at.take(8).ok_or_else(truncated)? != PACK_MAGIC {
        return Err(bad("not a .ferpack file (no FERPACK magic)".into()));
    }
    let version = at.u32().ok_or_else(truncated)?;
    if !(1..=PACK_VERSION).contains(&version) {
        return Err(bad(format!(
            "format version {version}; this fer reads versions up to {PACK_VERSION} (pack it again with this fer)"
        )));
    }
    let n = at.u32().ok_or_else(truncated)? as usize;
    let flags = at.take(1).ok_or_else(truncated)?[0];
    let k = at.take(1).ok_or_else(truncated)?[0] as usize;
    let class_bytes = at.take(k).ok_or_else(truncated)?;
    let chunk_faces = at.u32().ok_or_else(truncated)? as usize;
    if chunk_faces == 0 {
        return Err(bad("the header is damaged (chunks of 0 faces)".into()));
    }
    let duplicate_count = match version {
        1 => 0,
        _ => at.u32().ok_or_else(truncated)? as usize,
    };
    let duplicate_bytes = at
        .take(duplicate_count.saturating_mul(8))
        .ok_or_else(truncated)?;
    let chunks = n.div_ceil(chunk_faces);
    let mut table = Vec::with_capacity(chunks.min(1 << 16) + 1);
    for _ in 0..=chunks {
        let len = at.u64().ok_or_else(truncated)?;
        let frame_crc = at.u32().ok_or_else(truncated)?;
        table.push((len, frame_crc, at.u32().ok_or_else(truncated)?));
    }
    let header_end = at.at;
    if crc32fast::hash(&bytes[..header_end]) != at.u32().ok_or_else(truncated)? {
        return Err(bad("the header is damaged (checksum mismatch)".into()));
    }
    if flags & !(LABELS | USAGE) != 0 {
        return Err(bad(format!("unknown flags {flags:#04x}")));
    }
    let mut list = Cursor {
        bytes: duplicate_bytes,
        at: 0,
    };
    let duplicates: Vec<(usize, usize)> =
        std::iter::from_fn(|| Some((list.u32()? as usize, list.u32()? as usize))).collect();
    if !duplicates_are_consistent(&duplicates, n) {
        return Err(bad(
            "the header is damaged (its list of duplicate faces)".into()
        ));
    }
    let classes = class_bytes
        .iter()
        .map(|&c| Emotion::from_index(c as usize))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("a class is not a FER2013 label 0-6".into()))?;
    let promised = table
        .iter()
        .try_fold(0u64, |total, &(len, ..)| total.checked_add(len));
    let found = (bytes.len() - at.at) as u64;
    if promised != Some(found) {
        let promised = promised.map_or("more than 2^64".into(), |p| p.to_string());
        return Err(bad(format!(
            "truncated or padded: the header promises {promised} bytes of faces, the file has {found}"
        )));
    }
    // The faces inflate straight into their final buffer, each chunk into its own slice.
    // Its pages are only touched as data arrives, so a header that lies about the count
    // costs address space, not memory; a count no address space holds is an error.
    let mut pixels = zeroed_buffer(n * FACE_PIXELS)
        .ok_or_else(|| bad(format!("the header's {n} faces do not fit in memory")))?;
    // Each chunk's slice and where in it its duplicates go.
    let mut targets: Vec<Option<(&mut [u8], Vec<usize>)>> = pixels
        .chunks_mut(chunk_faces * FACE_PIXELS)
        .enumerate()
        .map(|(c, chunk)| {
            let start = c * chunk_faces;
            let from = duplicates.partition_point(|&(face, _)| face < start);
            let holes = duplicates[from..]
                .iter()
                .map(|&(face, _)| face - start)
                .take_while(|&hole| hole < chunk_faces)
                .collect();
            Some((chunk, holes))
        })
        .collect();
    // The labels, usage and source rows: how many bytes they must inflate to.
    let per_face = usize::from(flags & LABELS != 0) + usize::from(flags & USAGE != 0) + 4;
    targets.push(None);
    let mut parts = Vec::with_capacity(table.len());
    let mut start = at.at;
    for (&(len, frame_crc, crc), target) in table.iter().zip(targets) {
        let end = start + len as usize;
        parts.push((&bytes[start..end], frame_crc, crc, target));
        start = end;
    }
    let damaged = || "the faces are damaged (checksum mismatch)".to_string();
    let unpacked = on_all_cores(parts, |(frame, frame_crc, crc, target)| {
        if crc32fast::hash(frame) != frame_crc {
            return Err(damaged());
        }
        let Some((chunk, holes)) = target else {
            // Streamed, so a header that lies about the size cannot make fer allocate it.
            let size = n * per_face;
            let mut part = Vec::new();
            zstd::stream::read::Decoder::new(frame)
                .and_then(|d| d.take(size as u64 + 1).read_to_end(&mut part))
                .map_err(|e| format!("the faces are damaged: {e}"))?;
            return match part.len() == size && crc32fast::hash(&part) == crc {
                true => Ok(part),
                false => Err(damaged()),
            };
        };
        let stored = chunk.len() - holes.len() * FACE_PIXELS;
        let faces = &mut chunk[..stored];
        let written = zstd::bulk::decompress_to_buffer(frame, faces)
            .map_err(|e| format!("the faces are damaged: {e}"))?;
        if written != faces.len() || crc32fast::hash(faces) != crc {
            return Err(damaged());
        }
        restore(faces);
        spread(chunk, &holes);
        Ok(Vec::new())
    })
    .into_iter()
    .collect::<std::result::Result<Vec<_>, String>>()
    .map_err(bad)?;

    for &(face, original) in &duplicates {
        pixels.copy_within(
            original * FACE_PIXELS..(original + 1) * FACE_PIXELS,
            face * FACE_PIXELS,
        );
    }
    let rest = unpacked.last().expect("the rest is always a part");
    let mut rest = rest.as_slice();
    let mut part = |len: usize| {
        let (head, tail) = rest.split_at(len);
        rest = tail;
        head.to_vec()
    };
    let labels = (flags & LABELS != 0).then(|| part(n));
    let usage = (flags & USAGE != 0)
        .then(|| {
            part(n)
                .into_iter()
                .map(|u| match u {
                    0 => Ok(Split::Train),
                    1 => Ok(Split::Validation),
                    2 => Ok(Split::Test),
                    _ => Err(bad(format!("usage code {u} is not 0, 1 or 2"))),
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    let rows = part(4 * n)
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Dataset::new(pixels, labels, usage, classes)
        .and_then(|d| d.with_source_rows(rows))
        .map_err(|e| bad(e.to_string()))
}

/// True when every duplicate is one of the `n` faces, after the previous duplicate, and
/// equal to an earlier face that is stored (not itself a duplicate): what reading relies on.
fn duplicates_are_consistent(duplicates: &[(usize, usize)], n: usize) -> bool {
    let mut previous = None;
    duplicates.iter().all(|&(face, original)| {
        let in_order = face < n && previous.is_none_or(|p| p < face) && original < face;
        previous = Some(face);
        in_order
            && duplicates
                .binary_search_by_key(&original, |&(face, _)| face)
                .is_err()
    })
}

/// Reads fixed-size fields off the front of a byte slice.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synth::{synthesize, SynthConfig};

    fn faces(n: usize) -> Dataset {
        let config = SynthConfig {
            n,
            seed: 3,
            usage: Some([0.8, 0.1, 0.1]),
            ..Default::default()
        };
        synthesize(&config).unwrap()
    }

    fn round_trip(dataset: &Dataset) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.ferpack");
        write_pack(dataset, &path).unwrap();
        assert!(is_pack(&path));
        assert_eq!(&read_pack(&path).unwrap(), dataset);
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn every_kind_of_data_set_round_trips_identically() {
        // More faces than a chunk, so several chunks and a short last one.
        let all = faces(CHUNK_FACES + 37);
        round_trip(&all);
        // Class subsets keep their classes and source rows; unlabeled data has neither
        // labels nor usage; random pixels exercise every residual.
        round_trip(
            &all.select_classes(&[Emotion::Sadness, Emotion::Happiness])
                .unwrap(),
        );
        let unlabeled = Dataset::new(
            all.pixels()[..5 * FACE_PIXELS].to_vec(),
            None,
            None,
            Emotion::ALL.to_vec(),
        )
        .unwrap()
        .with_source_rows(vec![9, 3, 70_000, 0, u32::MAX])
        .unwrap();
        round_trip(&unlabeled);
        let mut noise = vec![0u8; 3 * FACE_PIXELS];
        let mut state = 1u32;
        for p in &mut noise {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *p = (state >> 24) as u8;
        }
        round_trip(&Dataset::new(noise, Some(vec![0, 6, 3]), None, Emotion::ALL.to_vec()).unwrap());
        round_trip(
            &Dataset::new(Vec::new(), Some(Vec::new()), None, Emotion::ALL.to_vec()).unwrap(),
        );
    }

    /// `faces` with each `(face, original)` made a copy of `original`.
    fn with_copies(faces: &Dataset, copies: &[(usize, usize)]) -> Dataset {
        let mut pixels = faces.pixels().to_vec();
        for &(face, original) in copies {
            pixels.copy_within(
                original * FACE_PIXELS..(original + 1) * FACE_PIXELS,
                face * FACE_PIXELS,
            );
        }
        let labels = faces.labels().map(<[u8]>::to_vec);
        let usage = faces.usage().map(<[Split]>::to_vec);
        Dataset::new(pixels, labels, usage, faces.classes().to_vec()).unwrap()
    }

    #[test]
    fn duplicate_faces_are_stored_once_and_restored_in_place() {
        let all = faces(CHUNK_FACES + 37);
        // Copies next to each other and of a copy (both name the first face), a copy that
        // closes the first chunk, and a second chunk made only of copies of the first's.
        let mut copies = vec![(1, 0), (2, 0), (9, 4), (CHUNK_FACES - 1, 3)];
        copies.extend((CHUNK_FACES..all.len()).map(|face| (face, 5 + face % 3)));
        let repeated = with_copies(&all, &copies);
        let mut expected = copies.clone();
        expected.sort();
        assert_eq!(repeats(repeated.pixels()), expected);
        let packed = round_trip(&repeated).len();
        // Only the first chunk's stored faces cost space: a pack of those faces alone.
        let distinct = all.subset(
            &(0..CHUNK_FACES)
                .filter(|i| ![1, 2, 9, CHUNK_FACES - 1].contains(i))
                .collect::<Vec<_>>(),
        );
        let alone = round_trip(&distinct).len();
        assert!(
            packed < alone + 8 * copies.len() + 400,
            "{packed} bytes with copies, {alone} without"
        );
        assert!(repeats(all.pixels()).is_empty());
    }

    #[test]
    fn a_damaged_list_of_duplicates_is_an_error() {
        let dataset = with_copies(&faces(20), &[(3, 1), (7, 1)]);
        let bytes = round_trip(&dataset);
        let k = bytes[17] as usize;
        let list = 18 + k + 8;
        let header_end = list + 2 * 8 + 2 * 16;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.ferpack");
        for (pairs, what) in [
            ([(3, 1), (3, 1)], "a face listed twice"),
            ([(3, 1), (2, 1)], "faces out of order"),
            ([(3, 3), (7, 1)], "a face equal to itself"),
            ([(3, 1), (7, 9)], "equal to a later face"),
            ([(3, 1), (7, 3)], "equal to a duplicate"),
            ([(3, 1), (20, 1)], "past the last face"),
        ] {
            let mut lying = bytes.clone();
            for (i, (face, original)) in pairs.into_iter().enumerate() {
                let at = list + 8 * i;
                lying[at..at + 4].copy_from_slice(&(face as u32).to_le_bytes());
                lying[at + 4..at + 8].copy_from_slice(&(original as u32).to_le_bytes());
            }
            let crc = crc32fast::hash(&lying[..header_end]);
            lying[header_end..header_end + 4].copy_from_slice(&crc.to_le_bytes());
            std::fs::write(&path, &lying).unwrap();
            let error = read_pack(&path).unwrap_err().to_string();
            assert!(error.contains("list of duplicate faces"), "{what}: {error}");
        }
    }

    #[test]
    fn version_1_packs_are_still_read() {
        let dataset = faces(300);
        let bytes = round_trip(&dataset);
        // Version 1 is version 2 without the duplicates' count and list.
        let k = bytes[17] as usize;
        let mut old = bytes[..22 + k].to_vec();
        old[8] = 1;
        old.extend_from_slice(&bytes[26 + k..26 + k + 2 * 16]);
        old.extend_from_slice(&crc32fast::hash(&old).to_le_bytes());
        old.extend_from_slice(&bytes[26 + k + 2 * 16 + 4..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.ferpack");
        std::fs::write(&path, &old).unwrap();
        assert_eq!(read_pack(&path).unwrap(), dataset);
    }

    #[test]
    fn predictor_residuals_undo_exactly() {
        let face: Vec<u8> = (0..FACE_PIXELS).map(|i| (i * 37 % 251) as u8).collect();
        let mut restored = residuals(&face);
        assert_ne!(restored, face);
        restore(&mut restored);
        assert_eq!(restored, face);
        assert_eq!(predict(10, 20, 5), 20, "an edge: the larger neighbour");
        assert_eq!(predict(10, 20, 30), 10, "an edge: the smaller");
        assert_eq!(predict(10, 20, 15), 15, "smooth: a + b - c");
    }

    #[test]
    fn damaged_files_are_errors_that_say_so() {
        let bytes = round_trip(&faces(300));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.ferpack");
        let read = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            read_pack(&path).map_err(|e| e.to_string())
        };
        // Every truncation, header and faces alike.
        for len in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
            let error = read(&bytes[..len]).unwrap_err();
            assert!(error.contains("bad.ferpack: "), "{len}: {error}");
            assert!(
                ["truncated", "no FERPACK magic", "damaged"]
                    .iter()
                    .any(|w| error.contains(w)),
                "{len}: {error}"
            );
        }
        // Every flipped bit in the header, and bits across the compressed faces.
        for bit in (0..8 * 120).chain((8 * 120..8 * bytes.len()).step_by(4099)) {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(read(&flipped).is_err(), "bit {bit} went unnoticed");
        }
        let mut newer = bytes.clone();
        newer[8] = 3;
        let error = read(&newer).unwrap_err();
        assert!(
            error.contains("format version 3; this fer reads versions up to 2"),
            "{error}"
        );
        // A header that lies about the number of faces, its checksum made valid again: the
        // buffer it asks for is an error or stays untouched, never an abort.
        let k = bytes[17] as usize;
        let header_end = 18 + k + 4 + 4 + 2 * 16;
        for (count, per_chunk) in [(301u32, 2048u32), (u32::MAX, u32::MAX), (1 << 31, 1 << 31)] {
            let mut lying = bytes.clone();
            lying[12..16].copy_from_slice(&count.to_le_bytes());
            lying[18 + k..22 + k].copy_from_slice(&per_chunk.to_le_bytes());
            let crc = crc32fast::hash(&lying[..header_end]);
            lying[header_end..header_end + 4].copy_from_slice(&crc.to_le_bytes());
            let error = read(&lying).unwrap_err();
            assert!(
                error.contains("damaged") || error.contains("do not fit in memory"),
                "{count} faces: {error}"
            );
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(read(&padded).unwrap_err().contains("truncated or padded"));
        assert!(read(b"emotion,pixels\n")
            .unwrap_err()
            .contains("no FERPACK magic"));
    }
}
