//! Downloads to a local file: a temporary file beside it, unpredictable and private, that
//! replaces the file only once the download is verified.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::file_writer;
use super::types::Progress;
use super::Destination;
use crate::error::{Error, ErrorKind, Result};

/// Creates the temporary file a download to `path` is written to: beside it, under a name no
/// one can predict, created new (never an existing file, never through a symbolic link), with
/// mode 0600 so no other user reads the data before it is in place.
fn create_partial(path: &Path, file_name: &std::ffi::OsStr) -> Result<(PathBuf, File)> {
    let mut last_error = None;
    for _ in 0..16 {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(file_name);
        tmp_name.push(".partial-");
        tmp_name.push(
            std::iter::repeat_with(fastrand::alphanumeric)
                .take(16)
                .collect::<String>(),
        );
        let tmp = path.with_file_name(tmp_name);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => {
                return Err(Error::local_io(
                    &format!("creating '{}'", tmp.display()),
                    &e,
                ))
            }
        }
    }
    let e = last_error.unwrap_or_else(|| std::io::Error::other("no free name"));
    Err(Error::local_io(
        &format!("creating a temporary file beside '{}'", path.display()),
        &e,
    ))
}

impl Destination {
    /// Downloads an object to a local file. The data goes to a temporary file beside it, which
    /// replaces `path` only once length and MD5 are verified: a failed download leaves nothing.
    /// The file gets the modification time the object was uploaded with
    /// (`X-Object-Meta-Mtime`), when it has one.
    pub fn get_file(&self, name: &str, path: &Path) -> Result<()> {
        self.get_file_with(name, path, None)
    }

    /// [`Destination::get_file`] with a progress callback that may cancel.
    pub fn get_file_with(&self, name: &str, path: &Path, progress: Option<Progress>) -> Result<()> {
        self.get_file_at(name, None, path, progress)
    }

    /// [`Destination::get_file_with`] of the version `version` (a checked version id) of the
    /// object, or of the current one (`None`).
    pub(crate) fn get_file_at(
        &self,
        name: &str,
        version: Option<&str>,
        path: &Path,
        progress: Option<Progress>,
    ) -> Result<()> {
        let full = self.full(name)?;
        let file_name = path.file_name().ok_or_else(|| {
            Error::invalid_argument(format!("'{}' is not a file path", path.display()))
        })?;
        let (tmp, file) = create_partial(path, file_name)?;
        let result = (|| {
            let mut w =
                BufWriter::with_capacity(crate::http::CHUNK, file_writer::FileAt::new(&file, 0));
            let (_, mtime) = self.swift.download_at(
                &full,
                version,
                &mut w,
                ErrorKind::LocalIo,
                progress,
                Some(&file),
            )?;
            w.into_inner()
                .map_err(|e| Error::local_io(&format!("writing '{}'", tmp.display()), e.error()))?;
            // The file's own modification time, as it was uploaded (X-Object-Meta-Mtime).
            if let Some(t) = mtime {
                file.set_modified(t).map_err(|e| {
                    Error::local_io(&format!("setting the time of '{}'", tmp.display()), &e)
                })?;
            }
            file.sync_all()
                .map_err(|e| Error::local_io(&format!("writing '{}'", tmp.display()), &e))?;
            fs::rename(&tmp, path)
                .map_err(|e| Error::local_io(&format!("renaming to '{}'", path.display()), &e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn restore_files_are_new_private_and_unpredictable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("osd-partial-{}", fastrand::u64(..)));
        fs::create_dir(&dir).unwrap();
        let target = dir.join("restored.bin");
        let (a, _) = create_partial(&target, std::ffi::OsStr::new("restored.bin")).unwrap();
        let (b, _) = create_partial(&target, std::ffi::OsStr::new("restored.bin")).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(dir.as_path()));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.contains(&std::process::id().to_string()), "{name}");
        assert_eq!(
            fs::metadata(&a).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
