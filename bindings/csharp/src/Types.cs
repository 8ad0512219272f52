using System;

namespace OpenStackDest
{
    /// <summary>Mirrors os_status of the C ABI (numbers are stable).</summary>
    public enum OpenStackStatus
    {
        Ok = 0,
        InvalidArgument = 1,
        InvalidUrl = 2,
        Auth = 3,
        Forbidden = 4,
        NotFound = 5,
        ContainerNotFound = 6,
        EndpointNotFound = 7,
        TooLarge = 8,
        Integrity = 9,
        Network = 10,
        Timeout = 11,
        Server = 12,
        LocalIO = 13,
        Cancelled = 14,
        Panic = 15,
        Callback = 16,
        Http = 17,
        ContainerNotEmpty = 18,
        /// <summary>A server's TLS certificate failed verification (not retried).</summary>
        Tls = 19,
    }

    /// <summary>Level of a library log line (os_log_level).</summary>
    public enum LogLevel
    {
        Error = 1,
        Warn = 2,
        Info = 3,
        Debug = 4,
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
        {
            Name = name;
            Size = size;
            LastModified = lastModified;
            IsFolder = isFolder;
            ETag = etag;
            FileTime = fileTime;
        }

        /// <summary>Name relative to the URL's prefix; folders carry no trailing '/'.</summary>
        public string Name { get; private set; }

        /// <summary>Size in bytes, -1 if unknown (folders).</summary>
        public long Size { get; private set; }

        /// <summary>Last modification, UTC (<see cref="DateTimeKind.Utc"/>); <see cref="DateTime.MinValue"/> if unknown.</summary>
        public DateTime LastModified { get; private set; }

        public bool IsFolder { get; private set; }

        /// <summary>MD5 hex as Swift reports it, null if none.</summary>
        public string ETag { get; private set; }

        /// <summary>
        /// The modification time of the file the object was uploaded from (X-Object-Meta-Mtime), UTC,
        /// from Stat; <see cref="DateTime.MinValue"/> if unknown (always in listings).
        /// </summary>
        public DateTime FileTime { get; private set; }

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
}
