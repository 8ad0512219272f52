// The backend contract of a backup engine, mirroring Duplicati 2's current one (Duplicati.Library.Interface:
// IBackend, IStreamingBackend, IRenameEnabledBackend, IQuotaEnabledBackend, IQuotaInfo, IFileEntry and the
// FileMissingException / FolderMissingException the engine reacts to). Duplicati's own assemblies are not
// available here, so the interfaces are defined locally with the same names, members and meaning; an
// adapter written against them ports to Duplicati by changing the namespace and the exception types.
//
// Simplifications forced by C# 7 on Mono (and by leaving Duplicati's option framework out):
//   - ListAsync returns Task<IList<IFileEntry>> instead of IAsyncEnumerable<IFileEntry> (C# 8 / .NET Core 3);
//     the whole listing is gathered before the task completes.
//   - No default interface members (C# 8): every member is implemented by the backend.
//   - Members that serve Duplicati's UI and option parser are left out: SupportedCommands
//     (ICommandLineArgument), Description, GetDNSNamesAsync, IBackendPagination.
//   - The exceptions are the binding's OpenStackDest.FileMissingException / FolderMissingException (same
//     names and roles as Duplicati.Library.Interface's), not Duplicati's classes.
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace OpenStackDest.Examples
{
    /// <summary>One remote file or folder as the engine sees it (Duplicati's IFileEntry).</summary>
    public interface IFileEntry
    {
        string Name { get; }
        /// <summary>Size in bytes, -1 when unknown (folders).</summary>
        long Size { get; }
        DateTime LastAccess { get; }
        DateTime LastModification { get; }
        bool IsFolder { get; }
    }

    /// <summary>
    /// What the engine needs from a destination (Duplicati's IBackend). Constructed from a URL and the
    /// engine's options. Operations throw <see cref="FileMissingException"/> when a named file is not
    /// there and <see cref="FolderMissingException"/> when the folder (container) is not there; on the
    /// latter the engine calls <see cref="CreateFolderAsync"/> and tries again. A cancelled token ends
    /// the operation with <see cref="OperationCanceledException"/>.
    /// </summary>
    public interface IBackend : IDisposable
    {
        /// <summary>Human-readable name of the backend.</summary>
        string DisplayName { get; }
        /// <summary>The URL scheme the backend serves ("openstack").</summary>
        string ProtocolKey { get; }
        Task<IList<IFileEntry>> ListAsync(CancellationToken cancelToken);
        /// <summary>Uploads the local file <paramref name="filename"/> as <paramref name="remotename"/>.</summary>
        Task PutAsync(string remotename, string filename, CancellationToken cancelToken);
        /// <summary>Downloads <paramref name="remotename"/> into the local file <paramref name="filename"/>.</summary>
        Task GetAsync(string remotename, string filename, CancellationToken cancelToken);
        Task DeleteAsync(string remotename, CancellationToken cancelToken);
        /// <summary>Checks that the destination is reachable, the credentials work and the folder exists.</summary>
        Task TestAsync(CancellationToken cancelToken);
        Task CreateFolderAsync(CancellationToken cancelToken);
    }

    /// <summary>A backend that moves streams rather than local files (Duplicati's IStreamingBackend).</summary>
    public interface IStreamingBackend : IBackend
    {
        Task PutAsync(string remotename, Stream stream, CancellationToken cancelToken);
        Task GetAsync(string remotename, Stream stream, CancellationToken cancelToken);
    }

    /// <summary>A backend that renames on the server (Duplicati's IRenameEnabledBackend).</summary>
    public interface IRenameEnabledBackend : IBackend
    {
        Task RenameAsync(string oldname, string newname, CancellationToken cancelToken);
    }

    /// <summary>Space at the destination (Duplicati's IQuotaInfo); -1 means unknown.</summary>
    public interface IQuotaInfo
    {
        long TotalQuotaSpace { get; }
        long FreeQuotaSpace { get; }
    }

    /// <summary>A backend that reports its quota (Duplicati's IQuotaEnabledBackend).</summary>
    public interface IQuotaEnabledBackend : IBackend
    {
        Task<IQuotaInfo> GetQuotaInfoAsync(CancellationToken cancelToken);
    }
}
