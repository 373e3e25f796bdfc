//! Atomic file writes: the data goes to a temporary file in the same directory, is synced, and
//! is renamed over the destination, so readers see the old file or the new one, never a part.

use std::io::Write;
use std::path::Path;

/// Who may read the written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// The process's umask decides (documents).
    Default,
    /// Owner only, mode 0600 on Unix (secrets: master keys, device shares).
    Private,
}

/// Write the concatenation of `parts` to `path` atomically.
pub fn write_atomically(
    path: &Path,
    parts: &[&[u8]],
    visibility: Visibility,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if visibility == Visibility::Private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        for p in parts {
            f.write_all(p)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
    }
}
