//! The Swift destination: the operations a backup program needs on one container and prefix.

mod body;
mod delete;
mod download;
mod file_writer;
mod info;
pub(crate) mod large;
pub(crate) mod listing;
pub(crate) mod meta;
pub mod names;
mod pool;
mod request;
pub mod types;
mod upload;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use reqwest::Method;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::log;
use body::UploadBody;
use meta::{Expiry, PutOptions};
use names::{encode_path, encode_segment, object_name};
use request::{Swift, Target};
use types::{
    DeleteReport, Entry, EntryKind, ListOptions, Progress, Quota, Session, SweepReport,
    UploadSource,
};

/// An OpenStack Swift backup destination: one container and a prefix inside it.
///
/// Safe to share between threads (`Send + Sync`): every call is independent, the HTTP
/// connections are pooled and the token is cached for all of them.
pub struct Destination {
    swift: Swift,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("container", &self.swift.config.container)
            .field("prefix", &self.swift.config.prefix)
            .finish_non_exhaustive()
    }
}

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
    /// Opens a destination from an `openstack://` URL. Nothing is sent until the first call.
    pub fn open(url: &str) -> Result<Destination> {
        Destination::from_config(Config::from_url(url)?)
    }

    /// Opens a destination from a URL and an option map (the URL query wins).
    pub fn open_with<K: AsRef<str>, V: AsRef<str>>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Destination> {
        Destination::from_config(Config::from_url_and_options(url, options)?)
    }

    /// Opens a destination from a validated configuration.
    pub fn from_config(config: Config) -> Result<Destination> {
        Ok(Destination {
            swift: Swift::new(config)?,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.swift.config
    }

    fn full(&self, name: &str) -> Result<String> {
        object_name(&self.swift.config.prefix, name)
    }

    /// Checks credentials, endpoint and container: tells an auth failure, a forbidden
    /// container and a missing one apart.
    pub fn test(&self) -> Result<()> {
        self.swift.token()?;
        let what = format!("testing container '{}'", self.swift.config.container);
        self.swift
            .expect_success(&what, Method::HEAD, Target::Container(None))
            .map(|_| ())
    }

    /// Creates the container (nothing happens when it exists).
    pub fn create_container(&self) -> Result<()> {
        let what = format!("creating container '{}'", self.swift.config.container);
        self.swift
            .expect_success(&what, Method::PUT, Target::Container(None))?;
        log::info!("{what}: done");
        Ok(())
    }

    /// Uploads bytes from memory (their MD5 is sent as `ETag`).
    pub fn put_bytes(&self, name: &str, data: &[u8]) -> Result<()> {
        self.put_bytes_opts(name, data, &PutOptions::default())
    }

    /// [`Destination::put_bytes`] with the host's metadata and an expiry (see [`PutOptions`]).
    /// Options that are not valid are refused ([`ErrorKind::InvalidArgument`]) before any
    /// object request.
    pub fn put_bytes_opts(&self, name: &str, data: &[u8], options: &PutOptions) -> Result<()> {
        let full = self.full(name)?;
        let options = self.prepare(options)?;
        self.swift
            .upload(
                &full,
                UploadBody::Bytes(bytes::Bytes::copy_from_slice(data)),
                None,
                &options,
            )
            .map(|_| ())
    }

    /// Uploads a local file (its MD5 is computed first and sent as `ETag`), with its
    /// modification time as `X-Object-Meta-Mtime`.
    pub fn put_file(&self, name: &str, path: &Path) -> Result<()> {
        self.put_file_with(name, path, None)
    }

    /// [`Destination::put_file`] with a progress callback that may cancel.
    pub fn put_file_with(&self, name: &str, path: &Path, progress: Option<Progress>) -> Result<()> {
        self.put_file_opts(name, path, progress, &PutOptions::default())
    }

    /// [`Destination::put_file_with`] with the host's metadata and an expiry (see
    /// [`PutOptions`]); the file time is stored as well.
    pub fn put_file_opts(
        &self,
        name: &str,
        path: &Path,
        progress: Option<Progress>,
        options: &PutOptions,
    ) -> Result<()> {
        let full = self.full(name)?;
        let options = self.prepare(options)?;
        self.swift
            .upload(&full, UploadBody::File(path), progress, &options)
            .map(|_| ())
    }

    /// Checks a put's options and resolves its expiry against `openstack-delete-after`.
    fn prepare(&self, options: &PutOptions) -> Result<meta::Prepared> {
        meta::prepare(options, self.swift.config.delete_after, true)
    }

    /// Uploads from a stream. `size`, when known, is a promise: it is sent as `Content-Length`,
    /// and a source that yields fewer or more bytes fails (nothing is stored). Swift checks the
    /// data's MD5 before the object is replaced: a stream that can rewind is read twice (its MD5
    /// first), a small one (up to 4 MiB) is read into memory first, any other goes up as checked
    /// segments first. A stream that can rewind is retried on failure.
    pub fn put_stream(
        &self,
        name: &str,
        source: Box<dyn UploadSource>,
        size: Option<u64>,
        progress: Option<Progress>,
    ) -> Result<u64> {
        self.put_stream_opts(name, source, size, progress, &PutOptions::default())
    }

    /// [`Destination::put_stream`] with the host's metadata and an expiry (see [`PutOptions`]).
    pub fn put_stream_opts(
        &self,
        name: &str,
        source: Box<dyn UploadSource>,
        size: Option<u64>,
        progress: Option<Progress>,
        options: &PutOptions,
    ) -> Result<u64> {
        let full = self.full(name)?;
        let options = self.prepare(options)?;
        self.swift
            .upload(&full, UploadBody::Stream(source, size), progress, &options)
    }

    /// Uploads everything `reader` yields (read once: not retried).
    pub fn put_reader<R: std::io::Read + Send + 'static>(
        &self,
        name: &str,
        reader: R,
    ) -> Result<u64> {
        self.put_stream(name, Box::new(types::ReadOnce(reader)), None, None)
    }

    /// Downloads an object into memory.
    pub fn get_bytes(&self, name: &str) -> Result<Vec<u8>> {
        let full = self.full(name)?;
        let mut out = Vec::new();
        self.swift
            .download(&full, &mut out, ErrorKind::LocalIo, None, None)?;
        Ok(out)
    }

    /// Reads `length` bytes of an object from `offset` (across the segments of a large object
    /// too). A range that goes past the end of the object is an error
    /// ([`ErrorKind::InvalidArgument`]), never a short read; a length of 0 still checks that the
    /// object exists and that `offset` is at most its size.
    pub fn get_range(&self, name: &str, offset: u64, length: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.get_range_to_sink(name, offset, length, &mut out, ErrorKind::LocalIo)?;
        Ok(out)
    }

    /// [`Destination::get_range`] into `writer`, streamed; a failing writer is reported as
    /// `sink_kind`. Returns the byte count (always `length`).
    pub(crate) fn get_range_to_sink(
        &self,
        name: &str,
        offset: u64,
        length: u64,
        writer: &mut dyn Write,
        sink_kind: ErrorKind,
    ) -> Result<u64> {
        let full = self.full(name)?;
        self.swift
            .download_range(&full, offset, length, writer, sink_kind)
    }

    /// Downloads an object into `writer`, streamed; returns the byte count.
    pub fn get_to_writer(
        &self,
        name: &str,
        writer: &mut dyn Write,
        progress: Option<Progress>,
    ) -> Result<u64> {
        self.get_to_sink(name, writer, ErrorKind::LocalIo, progress)
    }

    /// Downloads into `writer`, reporting a failing writer as `sink_kind`.
    pub(crate) fn get_to_sink(
        &self,
        name: &str,
        writer: &mut dyn Write,
        sink_kind: ErrorKind,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let full = self.full(name)?;
        self.swift
            .download(&full, writer, sink_kind, progress, None)
            .map(|(n, _)| n)
    }

    /// Downloads an object to a local file. The data goes to a temporary file beside it, which
    /// replaces `path` only once length and MD5 are verified: a failed download leaves nothing.
    /// The file gets the modification time the object was uploaded with
    /// (`X-Object-Meta-Mtime`), when it has one.
    pub fn get_file(&self, name: &str, path: &Path) -> Result<()> {
        self.get_file_with(name, path, None)
    }

    /// [`Destination::get_file`] with a progress callback that may cancel.
    pub fn get_file_with(&self, name: &str, path: &Path, progress: Option<Progress>) -> Result<()> {
        let full = self.full(name)?;
        let file_name = path.file_name().ok_or_else(|| {
            Error::invalid_argument(format!("'{}' is not a file path", path.display()))
        })?;
        let (tmp, file) = create_partial(path, file_name)?;
        let result = (|| {
            let mut w = BufWriter::with_capacity(256 * 1024, file_writer::FileAt::new(&file, 0));
            let (_, mtime) =
                self.swift
                    .download(&full, &mut w, ErrorKind::LocalIo, progress, Some(&file))?;
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

    /// Deletes an object, and the segments of a large object (unless
    /// `openstack-leave-segments`). A retried delete that finds the object gone has done its
    /// job (the first try deleted it and its answer was lost), so that is a success too.
    pub fn delete(&self, name: &str) -> Result<()> {
        let full = self.full(name)?;
        self.swift.delete_with_parts(&full)
    }

    /// Deletes many objects at once, with what their large objects are made of: Swift's bulk
    /// delete where the cluster offers it (`/info`), up to its limit of names a request, else
    /// one DELETE each, several at a time. Names already gone count as deleted (`missing`);
    /// each name that fails (an invalid one included) is reported with its own error, never
    /// hidden behind one status. An error of the whole call (authentication, a missing
    /// container) is the `Err`.
    pub fn delete_many<S: AsRef<str>>(&self, names: &[S]) -> Result<DeleteReport> {
        let mut failures = Vec::new();
        let mut fulls = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for name in names {
            let name = name.as_ref();
            match self.full(name) {
                Ok(full) if seen.insert(full.clone()) => fulls.push((name.to_string(), full)),
                Ok(_) => {}
                Err(e) => failures.push((name.to_string(), e)),
            }
        }
        let mut report = self.swift.delete_many(fulls)?;
        failures.append(&mut report.failures);
        report.failures = failures;
        Ok(report)
    }

    /// Size, ETag, kind and modification time of an object. The kind comes from Swift's
    /// headers (`X-Static-Large-Object: True`, `X-Object-Manifest`), so a stat always tells a
    /// large object from an ordinary one; only an [`EntryKind::Object`]'s ETag is its MD5.
    pub fn stat(&self, name: &str) -> Result<Entry> {
        let full = self.full(name)?;
        let what = format!("reading the metadata of '{full}'");
        let resp = self
            .swift
            .expect_success(&what, Method::HEAD, Target::Object(&full))?;
        let h = resp.headers();
        Ok(Entry {
            name: name.to_string(),
            size: headers::u64_value(h, "content-length"),
            last_modified: headers::last_modified(h),
            is_folder: false,
            kind: if headers::is_true(h, "x-static-large-object") {
                EntryKind::StaticLarge
            } else if h.contains_key("x-object-manifest") {
                EntryKind::DynamicLarge
            } else {
                EntryKind::Object
            },
            etag: headers::etag(h),
            mtime: headers::meta_mtime(h),
            metadata: meta::user_meta(h),
            delete_at: meta::delete_at(h),
            maybe_large: false,
        })
    }

    /// Changes the metadata and the expiry of an existing object, without its data (a POST).
    ///
    /// Swift's POST replaces all of an object's metadata, so this reads it first and sends it
    /// back changed: every key of `options.metadata` is set, a key with an empty value is
    /// removed, and every other key stays — the file time the library stored
    /// (`X-Object-Meta-Mtime`) and keys other tools set included. The expiry stays as it is
    /// unless `options` sets one (`delete_after`, `delete_at`) or removes it (`no_expiry`);
    /// the destination's `openstack-delete-after` does not apply here. For a large object the
    /// segments get the same expiry, in the order that never lets a segment expire before the
    /// manifest (a later expiry or none: segments first; an earlier one: manifest first), so
    /// after any failure the object reads back whole until the expiry it reports. A Dynamic
    /// Large Object's segments are the objects in its prefix's folder (as for a delete). The read and the write are two requests: a change another
    /// client makes between them is lost.
    pub fn update_metadata(&self, name: &str, options: &PutOptions) -> Result<()> {
        let full = self.full(name)?;
        let update = meta::prepare(options, None, false)?;
        let what = format!("updating the metadata of '{full}'");
        let resp = self
            .swift
            .expect_success(&what, Method::HEAD, Target::Object(&full))?;
        let h = resp.headers();
        let mut send = meta::merged(meta::all_meta(h), &update);
        if !update.metadata.is_empty() {
            let keys_values = send.iter().map(|(n, v)| {
                (
                    n.as_str().trim_start_matches("x-object-meta-"),
                    v.as_bytes(),
                )
            });
            meta::check_limits(keys_values, &self.swift.limits()?.meta)?;
        }
        // What a POST would otherwise drop: a dynamic large object's manifest (it would become
        // an empty object) and the headers Swift keeps beside the metadata.
        for keep in [
            "x-object-manifest",
            "content-disposition",
            "content-encoding",
            "cache-control",
            "content-language",
            "expires",
            "x-robots-tag",
        ] {
            if let Some(v) = h.get(keep) {
                send.push((reqwest::header::HeaderName::from_static(keep), v.clone()));
            }
        }
        let current = meta::delete_at(h)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| Expiry::At(d.as_secs()));
        let expiry = if update.no_expiry {
            None
        } else {
            update.expiry.or(current)
        };
        let expiry = expiry.map(Expiry::absolute);
        send.extend(expiry.map(Expiry::header));
        let large =
            headers::is_true(h, "x-static-large-object") || h.contains_key("x-object-manifest");
        let post = || -> Result<()> {
            let resp = self.swift.request_with(
                &what,
                Method::POST,
                Target::Object(&full),
                self.swift.config.timeouts.short,
                &[],
                &send,
            )?;
            if !resp.status().is_success() {
                return Err(self.swift.object_failure(&what, &resp, &full));
            }
            Ok(())
        };
        // The segments are set even when the manifest already has the expiry: a change that
        // failed part-way may have left them otherwise.
        if !(large && update.expiry_given) {
            post()?;
            log::info!("{what}: done");
            return Ok(());
        }
        // The segments must never expire before the manifest: a later expiry (or none) goes to
        // the segments first, an earlier one to the manifest first. A failure part-way leaves
        // segments that outlive the manifest (space, which the sweep reclaims), never a
        // manifest whose segments are gone.
        let parts = match self.swift.parts_of(&full, true)? {
            Some(parts) => parts,
            None => {
                post()?;
                return Ok(());
            }
        };
        let later = match (current, expiry) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(Expiry::At(c)), Some(Expiry::At(n))) => n >= c,
            _ => false,
        };
        if later {
            self.swift.set_segments_expiry(&full, parts, expiry)?;
            post()?;
        } else {
            post()?;
            self.swift.set_segments_expiry(&full, parts, expiry)?;
        }
        log::info!("{what}: done");
        Ok(())
    }

    /// Renames an object: a server-side copy, checked (the copy's size and ETag must equal the
    /// source's), then the delete of the source, so no failure can lose both. A large object's
    /// manifest is copied, not its data; its segments stay where they are, marked while both
    /// names may reference them, so that deleting either after a rename that failed half-way
    /// leaves the other whole. Renaming onto itself does nothing.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        let src = self.full(from)?;
        let dst = self.full(to)?;
        if src == dst {
            return Ok(());
        }
        let source = self.stat(from)?;
        // A large object the copy replaces leaves its segments behind unless they are removed
        // afterwards (all but those the source is made of, which the copy now uses).
        let replaced = self.swift.parts_of(&dst, true).unwrap_or_else(|e| {
            log::info!("could not tell whether '{dst}' is a large object ({e}); its segments, if any, stay");
            None
        });
        // While two names reference the same segments, removing either's must ask first.
        let marks = self.swift.mark_renamed(&src)?;
        let what = format!("copying '{src}' to '{dst}'");
        let copy_from = format!(
            "/{}/{}",
            encode_segment(&self.swift.config.container),
            encode_path(&src)
        );
        let resp = self.swift.request(
            &what,
            Method::PUT,
            Target::In {
                container: &self.swift.config.container,
                object: Some(&dst),
                query: Some("multipart-manifest=get"),
            },
            self.swift.config.timeouts.list,
            &[("X-Copy-From", copy_from.as_str()), ("Content-Length", "0")],
        )?;
        if !resp.status().is_success() {
            // A 404 here means the source is missing (or the container).
            let about = if resp.status().as_u16() == 404 {
                &src
            } else {
                &dst
            };
            return Err(self.swift.object_failure(&what, &resp, about));
        }
        let copy = self.stat(to)?;
        if copy.size != source.size || copy.etag != source.etag {
            return Err(Error::new(
                ErrorKind::Integrity,
                format!(
                    "{what}: the copy ({:?} bytes, ETag {:?}) differs from the source ({:?} bytes, ETag {:?}); the source was kept",
                    copy.size, copy.etag, source.size, source.etag
                ),
            ));
        }
        let now = match &replaced {
            None => None,
            Some(_) => match self.swift.parts_of(&dst, true) {
                Ok(now) => Some(now),
                Err(e) => {
                    log::info!("could not read what '{dst}' is made of now ({e}); the segments of the object it replaced stay");
                    None
                }
            },
        };
        self.swift.delete_object(&src)?;
        self.swift.unmark(marks);
        if let (Some(old), Some(now)) = (replaced, now) {
            if let Some(mut keep) = large::still_used(&old, now.as_ref()) {
                // A dynamic manifest's prefix may cover the new name itself.
                keep.insert((self.swift.config.container.clone(), dst.clone()));
                self.swift.remove_parts(old, &keep);
            }
        }
        Ok(())
    }

    /// Removes the segments that no manifest references: what uploads killed and never
    /// resumed left in the segment container. Only segments this library wrote for this
    /// destination's container are looked at, and only those older than `older_than` go (a day
    /// is a safe grace: an upload in progress elsewhere is never hit); segments of other
    /// writers, of other containers sharing the segment container, and of versions before 0.2
    /// stay. Reports how many objects went and their bytes.
    pub fn sweep_segments(&self, older_than: std::time::Duration) -> Result<SweepReport> {
        self.swift.sweep_segments(older_than)
    }

    /// The Swift account URL and the token this destination uses, authenticating first when
    /// needed: for a host that hands them to another tool. The token is a [`crate::secret::Secret`].
    pub fn session(&self) -> Result<Session> {
        let token = self.swift.token()?;
        Ok(Session {
            storage_url: token.storage_url.clone(),
            token: token.value.clone(),
        })
    }

    /// Lists the files and folders under the prefix, names relative to it. Each entry's
    /// [`Entry::kind`] says what the listing knows: folders, Static Large Objects (Swift's
    /// listing marks them), and Dynamic Large Objects when zero-byte entries are looked at
    /// (`openstack-list-large-object-sizes`, the default); see [`EntryKind`].
    pub fn list(&self) -> Result<Vec<Entry>> {
        let mut all = Vec::new();
        self.list_with(&ListOptions::default(), |e| {
            all.push(e);
            true
        })?;
        Ok(all)
    }

    /// A zero-byte listing entry may be a Dynamic Large Object, which Swift lists as 0 bytes:
    /// its real size and its kind come from a HEAD (unless
    /// `openstack-list-large-object-sizes=false`; the entry then stays an
    /// [`EntryKind::Object`] of 0 bytes).
    fn with_real_size(&self, mut entry: Entry) -> Entry {
        if entry.is_folder || entry.size != Some(0) || !self.swift.config.large.list_sizes {
            return entry;
        }
        if let Ok(s) = self.stat(&entry.name) {
            entry.size = s.size;
            entry.kind = s.kind;
            entry.etag = s.etag.or(entry.etag);
        }
        entry
    }

    /// Lists what `options` asks for, one entry at a time, names relative to the destination's
    /// prefix; `each` returns whether to go on. Memory is bounded by one listing page, whatever
    /// the number of objects.
    pub fn list_with(
        &self,
        options: &ListOptions,
        mut each: impl FnMut(Entry) -> bool,
    ) -> Result<()> {
        let base = &self.swift.config.prefix;
        let prefix = format!("{base}{}", options.prefix);
        self.swift
            .list_pages(&prefix, base, options.recursive, |page| {
                Ok(page
                    .into_iter()
                    .all(|entry| each(self.with_real_size(entry))))
            })
    }

    /// Deletes the container. One that still holds objects is refused
    /// ([`ErrorKind::ContainerNotEmpty`]) unless `empty_first`, which first deletes every object
    /// in it — all of them, not only those under the prefix — with the segments of its large
    /// objects (unless `openstack-leave-segments`), and then the segment container too if that
    /// is left empty.
    pub fn delete_container(&self, empty_first: bool) -> Result<()> {
        let container = &self.swift.config.container;
        let mut unreachable = 0u64;
        if empty_first {
            let mut deleted = 0u64;
            self.swift.list_pages("", "", true, |page| {
                for entry in page {
                    let done = if entry.maybe_large {
                        self.swift.delete_with_parts(&entry.name)
                    } else {
                        self.swift.delete_object(&entry.name)
                    };
                    match done {
                        // Written by another tool with a '.' or '..' segment: no URL reaches it.
                        Err(e) if e.kind() == ErrorKind::InvalidArgument => {
                            log::warning!("{e}");
                            unreachable += 1;
                        }
                        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
                        _ => deleted += 1,
                    }
                }
                Ok(true)
            })?;
            log::info!("emptied container '{container}' ({deleted} objects)");
            self.swift.remove_segment_container_if_empty();
        }
        let what = format!("deleting container '{container}'");
        let mut exchange = request::Plain::new(&[], |resp, attempt| Ok((resp, attempt)));
        let (resp, attempt) = self.swift.send(
            &what,
            Method::DELETE,
            Target::Container(None),
            Some(self.swift.config.timeouts.short),
            &mut exchange,
        )?;
        match resp.status().as_u16() {
            200..=299 => {}
            // A retry that finds it gone: an earlier try deleted it.
            404 if attempt > 1 => {}
            409 if unreachable > 0 => {
                return Err(Error::new(
                    ErrorKind::ContainerNotEmpty,
                    format!("{what}: {unreachable} objects are left whose names have a '.' or '..' path segment (written by another tool), which no URL can reach: the container stays"),
                ))
            }
            status => {
                return Err(crate::http::answer::swift_error(
                    &what,
                    status,
                    resp.headers(),
                    crate::http::answer::About::Container(container),
                ))
            }
        }
        log::info!("{what}: done");
        Ok(())
    }

    /// The account's usage and quota.
    pub fn quota(&self) -> Result<Quota> {
        let what = "reading the account's usage".to_string();
        let resp = self
            .swift
            .expect_success(&what, Method::HEAD, Target::Account)?;
        let h = resp.headers();
        Ok(Quota {
            bytes_used: headers::u64_value(h, "x-account-bytes-used").unwrap_or(0),
            quota_bytes: headers::u64_value(h, "x-account-meta-quota-bytes"),
            object_count: headers::u64_value(h, "x-account-object-count").unwrap_or(0),
            container_count: headers::u64_value(h, "x-account-container-count").unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Destination>();
    }

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

    #[test]
    fn debug_shows_container_and_prefix_but_no_secret() {
        let d = Destination::open("openstack://Box/p?auth-username=u&auth-password=Hidden-Pw-1&openstack-tenant-name=t&openstack-authuri=http://127.0.0.1:1/v2.0").unwrap();
        let text = format!("{d:?}");
        assert!(text.contains("Box") && text.contains("p/"), "{text}");
        assert!(!text.contains("Hidden-Pw-1"));
    }
}
