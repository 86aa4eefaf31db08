//! Writing files so that a crash never leaves a half-written one behind.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

/// Writes `path` through a temporary file in the same folder, renamed over it when complete.
///
/// Readers see either the old file or the whole new one, never a torn write. Missing
/// parent folders are created.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out/rates.json");
/// fer::atomic::write_atomically(&path, |out| out.write_all(b"{}"))?;
/// assert_eq!(std::fs::read_to_string(&path)?, "{}");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_atomically<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    create_folder(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".fer-tmp-");
    // Temporary files are private by default; the finished file is an ordinary one.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let tmp = builder.tempfile_in(dir)?;
    let mut out = BufWriter::with_capacity(1 << 20, tmp.reopen()?);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `create_dir_all`, with an error that names the file standing where a folder must be
/// (the bare error would say only "File exists").
pub fn create_folder(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| match dir.ancestors().find(|a| a.is_file()) {
        Some(file) => io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} is a file, not a folder", file.display()),
        ),
        None => e,
    })
}
