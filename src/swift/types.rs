//! What the operations return and take: entries, quota, progress, upload sources.

use std::io::{Read, Seek, SeekFrom};
use std::time::SystemTime;

use crate::error::ErrorKind;

/// What an [`Entry`] is: an ordinary object, one of Swift's two kinds of large object, or a
/// folder. It tells whether [`Entry::etag`] is the MD5 of the content (only for
/// [`EntryKind::Object`]).
///
/// A stat (HEAD) always knows. A listing reports what it knows: Swift lists a Static Large
/// Object with its `slo_etag`, so that is [`EntryKind::StaticLarge`]; a Dynamic Large Object
/// lists as a zero-byte object, so it is [`EntryKind::DynamicLarge`] only when the listing
/// looked at zero-byte entries with a HEAD (`openstack-list-large-object-sizes`, on by
/// default) and [`EntryKind::Object`] otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// An ordinary object: its ETag is the MD5 of its content.
    #[default]
    Object,
    /// A Static Large Object (a manifest of segments, `X-Static-Large-Object: True`): its ETag
    /// is the MD5 of the concatenated MD5s of its segments, not the MD5 of its content.
    StaticLarge,
    /// A Dynamic Large Object (`X-Object-Manifest`: every object under a prefix, in order): its
    /// ETag, when Swift gives one, is the MD5 of the concatenated ETags of its segments.
    DynamicLarge,
    /// A folder: a common prefix of several objects, with no ETag, size or time.
    Folder,
}

impl EntryKind {
    /// Whether an entry of this kind carries the MD5 of its content as its ETag (only
    /// [`EntryKind::Object`]), so that comparing the ETag with a file's MD5 means something.
    pub fn etag_is_md5(self) -> bool {
        self == EntryKind::Object
    }

    /// The name the Python binding and logs use: `object`, `static_large`, `dynamic_large`,
    /// `folder`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Object => "object",
            EntryKind::StaticLarge => "static_large",
            EntryKind::DynamicLarge => "dynamic_large",
            EntryKind::Folder => "folder",
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file or folder of a listing, or the result of a stat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name relative to the destination's prefix; folders have no trailing `/`.
    pub name: String,
    /// Size in bytes, when known (not for folders).
    pub size: Option<u64>,
    /// Last modification time, when known.
    pub last_modified: Option<SystemTime>,
    /// True for a sub-folder (a common prefix of several objects); the same as
    /// `kind == EntryKind::Folder`.
    pub is_folder: bool,
    /// What the entry is (an ordinary object, a static or dynamic large object, a folder); see
    /// [`EntryKind`] for what a listing can tell.
    pub kind: EntryKind,
    /// The ETag Swift reports, lower-case hex. It is the MD5 of the content only when `kind` is
    /// [`EntryKind::Object`] ([`EntryKind::etag_is_md5`]); a large object's ETag is derived from
    /// its segments' MD5s and never equals its content's MD5. `None` for folders.
    pub etag: Option<String>,
    /// The modification time of the file the object was uploaded from (`X-Object-Meta-Mtime`,
    /// as python-swiftclient and rclone write it too), when a stat found one; listings do not
    /// carry it.
    pub mtime: Option<SystemTime>,
    /// The host's own metadata (`X-Object-Meta-*` but the library's `mtime`), keys in lower
    /// case, when a stat found some; listings do not carry it.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// When Swift deletes the object (`X-Delete-At`), when a stat found an expiry; listings do
    /// not carry it.
    pub delete_at: Option<SystemTime>,
    /// Whether the listing says the object may be a large object (a Static Large Object, or
    /// a zero-byte entry, which is how Dynamic Large Objects list).
    pub(crate) maybe_large: bool,
}

/// What [`crate::Destination::list_with`] lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only names starting with this (relative to the destination's prefix; it need not end in
    /// `/`). Empty: everything under the destination's prefix.
    pub prefix: String,
    /// Every object below, at any depth, and no folder entries; else the objects directly
    /// under the prefix and its sub-folders as folder entries.
    pub recursive: bool,
}

/// Account usage and quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Bytes used by the account.
    pub bytes_used: u64,
    /// The account quota (`X-Account-Meta-Quota-Bytes`), when one is set.
    pub quota_bytes: Option<u64>,
    /// Objects in the account.
    pub object_count: u64,
    /// Containers in the account.
    pub container_count: u64,
}

/// The Swift account URL and token a destination uses (see `Destination::session`). `Debug`
/// (in `auth`) shows neither the token nor the URL's userinfo.
#[derive(Clone)]
pub struct Session {
    /// The account URL, e.g. `https://swift.example/v1/AUTH_abc`, without a trailing `/`.
    pub storage_url: String,
    /// The token for `X-Auth-Token`.
    pub token: crate::secret::Secret,
}

/// What [`crate::Destination::delete_many`] did.
#[derive(Debug, Default)]
pub struct DeleteReport {
    /// Names deleted.
    pub deleted: u64,
    /// Names that were already gone (they count as deleted).
    pub missing: u64,
    /// Names that could not be deleted, each with its own error.
    pub failures: Vec<(String, crate::Error)>,
}

/// What [`crate::Destination::sweep_segments`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects removed from the segment container: segments, and the marks of uploads that
    /// never finished.
    pub removed: u64,
    /// The bytes of the segments removed.
    pub bytes: u64,
}

/// One version of an object in a container with Swift's object versioning
/// ([`crate::Destination::list_versions`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// Swift's version id (`X-Object-Version-Id`): give it to
    /// [`crate::Destination::get_version_to_writer`] or [`crate::Destination::restore_version`].
    /// `null` is the version written before versioning was turned on.
    pub version_id: String,
    /// Its size in bytes (0 for a delete marker), when the listing says.
    pub size: Option<u64>,
    /// When it was written (a delete marker: when the object was deleted).
    pub last_modified: Option<SystemTime>,
    /// Whether it is the current version: what a plain get reads (a current delete marker
    /// means the object reads as missing).
    pub is_current: bool,
    /// Whether it is a delete marker: the record of a delete, with no data to get or restore.
    pub is_delete_marker: bool,
}

/// A progress callback: bytes done and the total when known; returning `false` cancels.
pub type Progress = Box<dyn FnMut(u64, Option<u64>) -> bool + Send>;

/// The data of an upload, read once per try; [`UploadSource::rewind`] makes retries possible.
pub trait UploadSource: Send {
    /// Reads up to `buf.len()` bytes; 0 means the end.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Goes back to the start for another try; `Ok(false)` when the source cannot.
    fn rewind(&mut self) -> std::io::Result<bool>;
    /// Whether [`UploadSource::rewind`] can work at all (if not, a failed upload is not retried).
    fn can_rewind(&self) -> bool;
    /// The error kind a failing `read` reports ([`ErrorKind::LocalIo`] for files and readers).
    fn failure_kind(&self) -> ErrorKind {
        ErrorKind::LocalIo
    }
}

/// A reader that can be read once (no retry of the upload).
pub struct ReadOnce<R>(pub R);

impl<R: Read + Send> UploadSource for ReadOnce<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        Ok(false)
    }
    fn can_rewind(&self) -> bool {
        false
    }
}

/// A seekable reader, rewound to where it stood at the start for each retry.
pub struct Rewindable<R> {
    inner: R,
    start: u64,
}

impl<R: Read + Seek + Send> Rewindable<R> {
    /// Wraps `inner`, remembering its current position as the start.
    pub fn new(mut inner: R) -> std::io::Result<Self> {
        let start = inner.stream_position()?;
        Ok(Rewindable { inner, start })
    }
}

impl<R: Read + Seek + Send> UploadSource for Rewindable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        self.inner.seek(SeekFrom::Start(self.start))?;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        true
    }
}
