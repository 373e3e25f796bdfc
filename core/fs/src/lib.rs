//! Atomic file writes: the data goes to a temporary file in the same directory, is synced, and
//! is renamed over the destination, so readers see the old file or the new one, never a part.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Who may read the written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// The process's umask decides (documents).
    Default,
    /// Owner only, mode 0600 on Unix (secrets: master keys, device shares).
    Private,
}

/// A file being written next to its destination; [`AtomicFile::commit`] syncs it and renames it
/// into place. Dropped without a commit, it removes itself, so no partial file is ever left.
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<std::fs::File>,
    tmp: PathBuf,
    target: PathBuf,
}

impl AtomicFile {
    /// Start writing `path` (through a temporary file in the same directory).
    pub fn create(path: &Path, visibility: Visibility) -> std::io::Result<Self> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if visibility == Visibility::Private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&tmp)?;
        Ok(AtomicFile {
            file: Some(file),
            tmp,
            target: path.to_owned(),
        })
    }

    /// Append bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    /// Flush to disk and move into place.
    pub fn commit(mut self) -> std::io::Result<()> {
        let file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("file already committed"))?;
        let result = file
            .sync_all()
            .and_then(|()| std::fs::rename(&self.tmp, &self.target));
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write the concatenation of `parts` to `path` atomically.
pub fn write_atomically(
    path: &Path,
    parts: &[&[u8]],
    visibility: Visibility,
) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path, visibility)?;
    for p in parts {
        file.write_all(p)?;
    }
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_private_ones_are_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.bin");
        write_atomically(&path, &[b"ab", b"cd"], Visibility::Private).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"abcd");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A failed write leaves neither the target nor a temporary file.
        let missing = dir.path().join("no-such-dir").join("x");
        assert!(write_atomically(&missing, &[b"x"], Visibility::Default).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
        // An abandoned file vanishes.
        let abandoned = dir.path().join("abandoned.bin");
        let mut f = AtomicFile::create(&abandoned, Visibility::Default).expect("create");
        f.write_all(b"half").expect("write");
        drop(f);
        assert!(!abandoned.exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }
}
