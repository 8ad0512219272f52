// The values the binding returns. OpenStackStatus, LogLevel and EntryKind are generated into Native.cs.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace OpenStackDest
{
    /// <summary>
    /// What a put (or <see cref="OpenStackDestination.UpdateMetadata"/>) stores besides the data: the
    /// host's own metadata and an expiry. Keys are letters, digits and !#$%&amp;'*+-.^`|~ ("mtime" is
    /// the library's file time); values UTF-8 without control characters. Set at most one of
    /// <see cref="DeleteAfter"/>, <see cref="DeleteAt"/> and <see cref="NoExpiry"/>. Bad values are an
    /// <see cref="OpenStackException"/> with status InvalidArgument, before anything is stored.
    /// </summary>
    public sealed class PutOptions
    {
        public PutOptions()
        {
            Metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }

        /// <summary>Stored as X-Object-Meta-&lt;key&gt;. In an update, the value "" removes the key.</summary>
        public IDictionary<string, string> Metadata { get; private set; }

        /// <summary>The object expires this long after the put (X-Delete-After, whole seconds).</summary>
        public TimeSpan? DeleteAfter { get; set; }

        /// <summary>The object expires at this time (X-Delete-At; a Local or Unspecified time is taken as local).</summary>
        public DateTime? DeleteAt { get; set; }

        /// <summary>Never expires, whatever openstack-delete-after says; in an update, removes the expiry.</summary>
        public bool NoExpiry { get; set; }
    }

    /// <summary>One listing entry or a <see cref="OpenStackDestination.Stat"/> result.</summary>
    public sealed class RemoteEntry
    {
        public RemoteEntry(string name, long size, DateTime lastModified, bool isFolder, string etag)
            : this(name, size, lastModified, isFolder, etag, DateTime.MinValue)
        {
        }

        public RemoteEntry(string name, long size, DateTime lastModified, bool isFolder, string etag,
            DateTime fileTime)
            : this(name, size, lastModified, isFolder, etag, fileTime, null, DateTime.MinValue)
        {
        }

        public RemoteEntry(string name, long size, DateTime lastModified, bool isFolder, string etag,
            DateTime fileTime, IDictionary<string, string> metadata, DateTime deleteAt)
            : this(name, size, lastModified, isFolder, etag, fileTime, metadata, deleteAt,
                isFolder ? EntryKind.Folder : EntryKind.Object)
        {
        }

        public RemoteEntry(string name, long size, DateTime lastModified, bool isFolder, string etag,
            DateTime fileTime, IDictionary<string, string> metadata, DateTime deleteAt, EntryKind kind)
        {
            Kind = kind;
            Name = name;
            Size = size;
            LastModified = lastModified;
            IsFolder = isFolder;
            ETag = etag;
            FileTime = fileTime;
            Metadata = new ReadOnlyDictionary<string, string>(
                metadata ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));
            DeleteAt = deleteAt;
        }

        /// <summary>Name relative to the URL's prefix; folders carry no trailing '/'.</summary>
        public string Name { get; private set; }

        /// <summary>Size in bytes, -1 if unknown (folders).</summary>
        public long Size { get; private set; }

        /// <summary>Last modification, UTC (<see cref="DateTimeKind.Utc"/>); <see cref="DateTime.MinValue"/> if unknown.</summary>
        public DateTime LastModified { get; private set; }

        /// <summary>True for a folder; the same as <c>Kind == EntryKind.Folder</c>.</summary>
        public bool IsFolder { get; private set; }

        /// <summary>What the entry is: see <see cref="EntryKind"/> for what a listing can tell.</summary>
        public EntryKind Kind { get; private set; }

        /// <summary>
        /// The ETag as Swift reports it (lower-case hex), null if none (folders). It is the MD5 of the
        /// content only when <see cref="Kind"/> is <see cref="EntryKind.Object"/> (see
        /// <see cref="ETagIsMd5"/>): a large object's ETag comes from its segments.
        /// </summary>
        public string ETag { get; private set; }

        /// <summary>Whether <see cref="ETag"/> is the MD5 of the content (an ordinary object with an ETag).</summary>
        public bool ETagIsMd5
        {
            get { return Kind == EntryKind.Object && ETag != null; }
        }

        /// <summary>
        /// The modification time of the file the object was uploaded from (X-Object-Meta-Mtime), UTC,
        /// from Stat; <see cref="DateTime.MinValue"/> if unknown (always in listings).
        /// </summary>
        public DateTime FileTime { get; private set; }

        /// <summary>
        /// The host's own metadata (X-Object-Meta-* but the library's "mtime"), keys in lower case
        /// (looked up without regard to case), from Stat; empty in listings, which do not carry it.
        /// </summary>
        public IDictionary<string, string> Metadata { get; private set; }

        /// <summary>
        /// When Swift deletes the object (X-Delete-At), UTC, from Stat; <see cref="DateTime.MinValue"/>
        /// when it does not expire (always in listings).
        /// </summary>
        public DateTime DeleteAt { get; private set; }

        public override string ToString()
        {
            return IsFolder ? Name + "/" : Name + " (" + Size + " bytes)";
        }
    }

    /// <summary>Account usage (os_quota_info).</summary>
    public sealed class QuotaInfo
    {
        public QuotaInfo(long bytesUsed, long quotaBytes, long objectCount, long containerCount)
        {
            BytesUsed = bytesUsed;
            QuotaBytes = quotaBytes;
            ObjectCount = objectCount;
            ContainerCount = containerCount;
        }

        public long BytesUsed { get; private set; }

        /// <summary>Account quota in bytes (X-Account-Meta-Quota-Bytes), -1 when there is none.</summary>
        public long QuotaBytes { get; private set; }

        public long ObjectCount { get; private set; }

        public long ContainerCount { get; private set; }

        /// <summary>Bytes left under the quota, or -1 when there is no quota.</summary>
        public long FreeBytes
        {
            get { return QuotaBytes < 0 ? -1 : Math.Max(0, QuotaBytes - BytesUsed); }
        }
    }

    /// <summary>
    /// One version of an object in a container with Swift's object versioning (ListVersions, newest first).
    /// </summary>
    public sealed class ObjectVersion
    {
        public ObjectVersion(string versionId, long size, DateTime lastModified, bool isCurrent, bool isDeleteMarker)
        {
            VersionId = versionId;
            Size = size;
            LastModified = lastModified;
            IsCurrent = isCurrent;
            IsDeleteMarker = isDeleteMarker;
        }

        /// <summary>Swift's version id: give it to GetVersion or RestoreVersion ("null": written before versioning was on).</summary>
        public string VersionId { get; private set; }

        /// <summary>Size in bytes (0 for a delete marker), -1 if unknown.</summary>
        public long Size { get; private set; }

        /// <summary>When it was written (UTC; a delete marker: when the object was deleted); DateTime.MinValue if unknown.</summary>
        public DateTime LastModified { get; private set; }

        /// <summary>Whether it is the current version, the one Get reads.</summary>
        public bool IsCurrent { get; private set; }

        /// <summary>Whether it is a delete marker: the record of a delete, with no data to get or restore.</summary>
        public bool IsDeleteMarker { get; private set; }
    }

    /// <summary>What SweepSegments removed (os_sweep_segments).</summary>
    public sealed class SweepReport
    {
        public SweepReport(long removed, long bytes)
        {
            Removed = removed;
            Bytes = bytes;
        }

        /// <summary>Objects removed from the segment container (segments and the marks of unfinished uploads).</summary>
        public long Removed { get; private set; }

        /// <summary>The bytes of the segments removed.</summary>
        public long Bytes { get; private set; }
    }
}
