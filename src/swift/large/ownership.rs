//! Who owns a segment: the names of one upload's segments, and the rules that keep any
//! operation from deleting a segment that a manifest still references.
//!
//! Every segmented upload writes its segments under a set of its own,
//! `<container>/<object>/slo/<stamp>/<size>/<segment size>/<upload id>/<index>`, where the upload
//! id is random: no two uploads share a segment, whatever their names, contents or containers.
//! A manifest owns the set it was made with; a rename copies the manifest and deletes the
//! source without its segments, so a set never has two owners for longer than a rename.
//!
//! An upload of a file that may resume later marks its set with a `pending` object first and
//! removes the mark just before the manifest goes up. A set with the mark has no manifest (it
//! can be taken over by the next upload of the same file, which sends only what is missing); a
//! set without it belongs to a manifest, or to nobody once a killed upload's mark is gone, and
//! is never taken over: the sweep ([`super::sweep`]) removes sets no manifest references.
//!
//! A rename marks the sets of the object it copies `renamed` before the copy and removes the
//! mark once the source is gone. While the mark is there (a rename failed or was killed between
//! the copy and the delete of its source), two names may reference one set: removing the
//! segments of either first reads every manifest of the container, and spares a set another
//! still references.

use std::collections::BTreeMap;

use super::super::names::MAX_OBJECT_NAME;

/// The last name of a set's mark while its upload has not put its manifest up.
pub(crate) const PENDING: &str = "pending";
/// The last name of a set's mark while a rename copies its manifest: two manifests may then
/// reference it, so removing its segments first asks every manifest of the container.
pub(crate) const RENAMED: &str = "renamed";
/// The length of an upload id.
const ID_LEN: usize = 12;

/// The folder of every upload of the same data (`stamp`, `size`, `segment_size`) to `full` in
/// `container`: the upload's own set is a folder in it.
pub(crate) fn upload_root(
    container: &str,
    full: &str,
    stamp: &str,
    size: u64,
    segment_size: u64,
) -> String {
    let tail = format!("/slo/{stamp}/{size}/{segment_size}/");
    // Room for the id, the index or the mark, and a margin.
    let room = ID_LEN + 1 + 20;
    let object = if container.len() + 1 + full.len() + tail.len() + room > MAX_OBJECT_NAME {
        super::super::body::hex(&<md5::Md5 as md5::Digest>::digest(full.as_bytes()))
    } else {
        full.to_string()
    };
    format!("{container}/{object}{tail}")
}

/// A new upload id: random, so no other upload has it.
pub(crate) fn new_upload_id() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(ID_LEN)
        .collect()
}

/// The set of upload `id` under `root`.
pub(crate) fn set_prefix(root: &str, id: &str) -> String {
    format!("{root}{id}/")
}

/// The name of segment `index` of the set `set`.
pub(crate) fn segment_name(set: &str, index: u64) -> String {
    format!("{set}{index:08}")
}

/// The mark of a set whose upload has not put its manifest up.
pub(crate) fn pending_mark(set: &str) -> String {
    format!("{set}{PENDING}")
}

/// The mark of a set whose manifest a rename is copying.
pub(crate) fn renamed_mark(set: &str) -> String {
    format!("{set}{RENAMED}")
}

/// What a name of the segment container is, when this library wrote it for `container`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Owned<'a> {
    /// Segment of the set (the prefix, ending in `/`).
    Segment(&'a str),
    /// The pending mark of the set.
    Mark(&'a str),
    /// The renamed mark of the set.
    Renamed(&'a str),
}

/// The set a segment name of this library belongs to (whatever container it was written
/// for), or `None` for names of other writers.
pub(crate) fn set_of(name: &str) -> Option<&str> {
    let (_, rest) = name.split_once('/')?;
    let container = &name[..name.len() - rest.len() - 1];
    match owned(container, name)? {
        Owned::Segment(set) => Some(set),
        _ => None,
    }
}

/// Whether `name` (in the segment container) is a segment or a mark this library wrote for an
/// object of `container`, and of which set. Names of other writers, of other containers and of
/// earlier versions of this library are `None`: nothing decides about them.
pub(crate) fn owned<'a>(container: &str, name: &'a str) -> Option<Owned<'a>> {
    let rest = name.strip_prefix(container)?.strip_prefix('/')?;
    let mut parts = rest.rsplitn(7, '/');
    let leaf = parts.next()?;
    let id = parts.next()?;
    let segment_size = parts.next()?;
    let size = parts.next()?;
    let _stamp = parts.next()?;
    let slo = parts.next()?;
    let object = parts.next()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if slo != "slo"
        || object.is_empty()
        || id.len() != ID_LEN
        || !id.bytes().all(|b| b.is_ascii_alphanumeric())
        || !digits(size)
        || !digits(segment_size)
    {
        return None;
    }
    let set = &name[..name.len() - leaf.len()];
    if leaf == PENDING {
        Some(Owned::Mark(set))
    } else if leaf == RENAMED {
        Some(Owned::Renamed(set))
    } else if leaf.len() == 8 && digits(leaf) {
        Some(Owned::Segment(set))
    } else {
        None
    }
}

/// One set found under an upload root: its segments (name → size, MD5) and whether it has
/// the pending mark.
#[derive(Debug, Default)]
pub(crate) struct FoundSet {
    /// Segments by name: (size, MD5).
    pub(crate) segments: BTreeMap<String, (u64, String)>,
    /// Whether the set is marked pending (no manifest was put up for it).
    pub(crate) pending: bool,
}

/// Groups the names listed under an upload root into sets.
pub(crate) fn group_sets(
    container: &str,
    listed: impl IntoIterator<Item = (String, Option<u64>, Option<String>)>,
) -> BTreeMap<String, FoundSet> {
    let mut sets: BTreeMap<String, FoundSet> = BTreeMap::new();
    for (name, size, md5) in listed {
        match owned(container, &name) {
            Some(Owned::Mark(set)) => sets.entry(set.to_string()).or_default().pending = true,
            Some(Owned::Renamed(_)) => {}
            Some(Owned::Segment(set)) => {
                if let (Some(size), Some(md5)) = (size, md5) {
                    let set = set.to_string();
                    sets.entry(set)
                        .or_default()
                        .segments
                        .insert(name, (size, md5));
                }
            }
            None => {}
        }
    }
    sets
}

/// The pending set worth taking over: the one with the most segments.
pub(crate) fn best_pending(sets: &BTreeMap<String, FoundSet>) -> Option<(&String, &FoundSet)> {
    sets.iter()
        .filter(|(_, s)| s.pending)
        .max_by_key(|(_, s)| s.segments.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_set_is_named_by_container_object_data_and_upload() {
        let root = upload_root("c", "dir/a.bin", "1700000000.5", 300, 100);
        assert_eq!(root, "c/dir/a.bin/slo/1700000000.5/300/100/");
        let set = set_prefix(&root, "abcdefghijkl");
        assert_eq!(
            segment_name(&set, 2),
            "c/dir/a.bin/slo/1700000000.5/300/100/abcdefghijkl/00000002"
        );
        assert_eq!(
            owned("c", &segment_name(&set, 2)),
            Some(Owned::Segment(set.as_str()))
        );
        assert_eq!(
            owned("c", &pending_mark(&set)),
            Some(Owned::Mark(set.as_str()))
        );
        // Another container's, another writer's, an earlier version's: not ours.
        assert_eq!(owned("d", &segment_name(&set, 2)), None);
        assert_eq!(
            owned("c", "c/a.bin/slo/1700000000.5/300/100/00000002"),
            None
        );
        assert_eq!(
            owned("c", "dir/a.bin/slo/1/3/1/abcdefghijkl/00000000"),
            None
        );
        assert_ne!(new_upload_id(), new_upload_id());
    }

    #[test]
    fn long_names_keep_every_segment_name_within_swifts_limit() {
        let long = "x".repeat(MAX_OBJECT_NAME);
        let root = upload_root(&"c".repeat(256), &long, "1700000000.5", u64::MAX, u64::MAX);
        let set = set_prefix(&root, &new_upload_id());
        assert!(segment_name(&set, u64::MAX).len() <= MAX_OBJECT_NAME);
        assert!(pending_mark(&set).len() <= MAX_OBJECT_NAME);
        assert!(owned(&"c".repeat(256), &segment_name(&set, 7)).is_some());
    }

    proptest! {
        /// Whatever the names, a set is recognised only by the container it was written for,
        /// and every segment of it maps back to the set.
        #[test]
        fn sets_map_back_to_themselves(
            container in "[a-z0-9_-]{1,20}",
            other in "[a-z0-9_-]{1,20}",
            full in "[^\u{0}]{1,80}",
            stamp in "[0-9.]{1,20}",
            size in any::<u64>(),
            seg in any::<u64>(),
            index in any::<u64>(),
        ) {
            let set = set_prefix(&upload_root(&container, &full, &stamp, size, seg), &new_upload_id());
            let name = segment_name(&set, index % 100_000_000);
            prop_assert_eq!(owned(&container, &name), Some(Owned::Segment(set.as_str())));
            if other != container && !other.starts_with(&format!("{container}/")) {
                prop_assert_eq!(owned(&other, &name), None);
            }
        }
    }
}
