//! Opening a data file as a byte stream: plain, or gzip detected by its magic bytes.
//!
//! Gzip is inflated on a second thread so that decompression overlaps parsing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const CHUNK: usize = 1 << 20;

/// Opens `path` for reading, inflating it when it starts with the gzip magic bytes.
pub(crate) fn open(path: &Path) -> io::Result<Box<dyn Read>> {
    let mut file = BufReader::with_capacity(CHUNK, File::open(path)?);
    if file.fill_buf()?.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(inflate_in_background(MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(file))
    }
}

/// Runs `source` on its own thread, handing over 1 MiB chunks through a short queue.
fn inflate_in_background<R: Read + Send + 'static>(mut source: R) -> ChunkReader {
    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(4);
    thread::spawn(move || loop {
        let mut chunk = vec![0u8; CHUNK];
        let mut filled = 0;
        let result = loop {
            match source.read(&mut chunk[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == CHUNK {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        chunk.truncate(filled);
        let done = filled < CHUNK || result.is_err();
        let message = result.map(|()| chunk);
        if tx.send(message).is_err() || done {
            return;
        }
    });
    ChunkReader {
        chunks: rx,
        current: Vec::new(),
        offset: 0,
    }
}

/// The reading end of [`inflate_in_background`].
struct ChunkReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    offset: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.offset == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => return Ok(0),
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.offset = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.offset);
        buf[..n].copy_from_slice(&self.current[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    #[test]
    fn gzip_and_plain_read_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let plain = dir.path().join("plain.bin");
        std::fs::write(&plain, &data).unwrap();
        let gz = dir.path().join("data.anything");
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(&data).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for path in [plain, gz] {
            let mut out = Vec::new();
            open(&path).unwrap().read_to_end(&mut out).unwrap();
            assert!(out == data, "{}", path.display());
        }
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(&vec![7u8; 100_000]).unwrap();
        let bytes = enc.finish().unwrap();
        let gz = dir.path().join("cut.gz");
        std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
        let mut out = Vec::new();
        assert!(open(&gz).unwrap().read_to_end(&mut out).is_err());
    }
}
