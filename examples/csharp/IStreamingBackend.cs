// A backup engine's view of a remote store, in the style of Duplicati's streaming backends: the engine
// hands over streams and names; the backend moves bytes. Defined here so the example stands alone.
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace OpenStackDest.Examples
{
    /// <summary>One remote file or folder as the engine sees it.</summary>
    public interface IFileEntry
    {
        string Name { get; }
        long Size { get; }
        DateTime LastModification { get; }
        bool IsFolder { get; }
    }

    /// <summary>
    /// What a backup engine needs from a destination. Implementations throw FileMissingException /
    /// FolderMissingException when a file / the folder is not there (the engine creates folders on demand).
    /// </summary>
    public interface IStreamingBackend : IDisposable
    {
        string DisplayName { get; }
        IEnumerable<IFileEntry> List();
        Task PutAsync(string remotename, Stream stream, CancellationToken cancelToken);
        Task GetAsync(string remotename, Stream stream, CancellationToken cancelToken);
        void Delete(string remotename);
        void CreateFolder();
        void Test();
    }
}
