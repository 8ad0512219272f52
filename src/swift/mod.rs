//! The Swift destination: the operations a backup program needs on one container and prefix.

mod body;
mod change;
mod delete;
mod download;
mod file_writer;
mod info;
pub(crate) mod large;
pub(crate) mod listing;
pub(crate) mod meta;
pub mod names;
mod policy;
mod pool;
mod request;
mod restore;
pub mod types;
mod upload;
mod versions;

use std::io::Write;
use std::path::Path;

use reqwest::Method;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::log;
use body::UploadBody;
use meta::PutOptions;
use names::object_name;
use request::{Swift, Target};
use types::{Entry, EntryKind, ListOptions, Progress, Quota, Session, UploadSource};

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
    ///
    /// With `openstack-storage-policy`, the container and its segment container are created
    /// with that policy, after checking that the cluster has it (`/info`); either one existing
    /// with another policy is an error ([`ErrorKind::InvalidUrl`], naming the option), since
    /// Swift cannot change a container's policy. With `openstack-versioning=true`, Swift's
    /// object versioning is turned on (also on an existing container); a cluster without it is
    /// an error before anything is created.
    pub fn create_container(&self) -> Result<()> {
        let swift = &self.swift;
        let container = &swift.config.container;
        let segments = &swift.config.large.segment_container;
        let what = format!("creating container '{container}'");
        if swift.config.versioning && swift.features()?.object_versioning == Some(false) {
            // Refused before anything is created; the message says why.
            return swift.enable_versioning();
        }
        let policy = swift.wanted_policy()?;
        let mut segments_exist = true;
        if let Some(p) = &policy {
            swift.check_policy(container, p)?;
            segments_exist = swift.check_policy(segments, p)?;
        }
        let headers: Vec<(&'static str, &str)> = policy
            .as_deref()
            .map(|p| ("X-Storage-Policy", p))
            .into_iter()
            .collect();
        let put = |target: Target, what: &str| -> Result<()> {
            let resp = swift.request(
                what,
                Method::PUT,
                target,
                swift.config.timeouts.short,
                &headers,
            )?;
            if resp.status().is_success() {
                return Ok(());
            }
            if let (409, Some(p), Target::In { container, .. }) =
                (resp.status().as_u16(), &policy, target)
            {
                // Created meanwhile with another policy: say which.
                swift.check_policy(container, p)?;
            }
            Err(swift.failure(what, &resp, target))
        };
        let main = Target::In {
            container,
            object: None,
            query: None,
        };
        put(main, &what)?;
        log::info!("{what}: done");
        if !segments_exist {
            let what = format!("creating the segment container '{segments}'");
            let target = Target::In {
                container: segments,
                object: None,
                query: None,
            };
            put(target, &what)?;
            log::info!("{what}: done");
        }
        if swift.config.versioning {
            swift.enable_versioning()?;
        }
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
        if empty_first && self.swift.versioning_on() {
            return Err(Error::new(
                ErrorKind::ContainerNotEmpty,
                format!("deleting container '{container}': it keeps versions (X-Versions-Enabled: true), so deleting its objects would only add delete markers, and Swift deletes it only once versioning is off and every version is deleted: nothing was deleted (python-swiftclient's `swift post -H 'X-Versions-Enabled: false'` then `swift delete --versions` does both)"),
            ));
        }
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
            409 if self.swift.versions_kept() && unreachable == 0 => {
                return Err(Error::new(
                    ErrorKind::ContainerNotEmpty,
                    format!("{what}: it holds objects or versions of objects (a container that kept versions is deleted only once every version is deleted, delete markers included): the container stays"),
                ))
            }
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
    fn debug_shows_container_and_prefix_but_no_secret() {
        let d = Destination::open("openstack://Box/p?auth-username=u&auth-password=Hidden-Pw-1&openstack-tenant-name=t&openstack-authuri=http://127.0.0.1:1/v2.0").unwrap();
        let text = format!("{d:?}");
        assert!(text.contains("Box") && text.contains("p/"), "{text}");
        assert!(!text.contains("Hidden-Pw-1"));
    }
}
