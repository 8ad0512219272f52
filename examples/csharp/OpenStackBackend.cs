// The whole adapter: Duplicati 2's backend contract (Backend.cs) on top of the OpenStackDest binding.
// Every member hands the engine's CancellationToken to the binding, which stops a transfer in progress
// (the task ends Canceled and a cancelled upload leaves no object). FileMissingException and
// FolderMissingException come from the binding unchanged.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace OpenStackDest.Examples
{
    public sealed class OpenStackBackend : IStreamingBackend, IRenameEnabledBackend, IQuotaEnabledBackend
    {
        private sealed class Entry : IFileEntry
        {
            internal Entry(RemoteEntry e)
            {
                Name = e.Name;
                Size = e.Size;
                LastModification = e.LastModified;
                LastAccess = e.LastModified; // Swift keeps no access time
                IsFolder = e.IsFolder;
            }

            public string Name { get; private set; }
            public long Size { get; private set; }
            public DateTime LastAccess { get; private set; }
            public DateTime LastModification { get; private set; }
            public bool IsFolder { get; private set; }
        }

        private sealed class Quota : IQuotaInfo
        {
            internal Quota(QuotaInfo q)
            {
                TotalQuotaSpace = q.QuotaBytes; // -1: the account has no quota
                FreeQuotaSpace = q.FreeBytes;   // -1 likewise
            }

            public long TotalQuotaSpace { get; private set; }
            public long FreeQuotaSpace { get; private set; }
        }

        private readonly OpenStackDestination dest;

        /// <summary>Like Duplicati's backends: the URL (openstack://container/prefix?...) and the engine's options.</summary>
        public OpenStackBackend(string url, IDictionary<string, string> options = null)
        {
            dest = new OpenStackDestination(url, options);
        }

        public string DisplayName { get { return "OpenStack Swift (libopenstack_dest " + OpenStackDestination.Version + ")"; } }
        public string ProtocolKey { get { return "openstack"; } }

        public async Task<IList<IFileEntry>> ListAsync(CancellationToken cancelToken)
        {
            IList<RemoteEntry> entries = await dest.ListAsync(cancelToken).ConfigureAwait(false);
            return entries.Select(e => (IFileEntry)new Entry(e)).ToList();
        }

        public Task PutAsync(string remotename, Stream stream, CancellationToken cancelToken) { return dest.PutAsync(remotename, stream, cancelToken); }
        public Task GetAsync(string remotename, Stream stream, CancellationToken cancelToken) { return dest.GetAsync(remotename, stream, cancelToken); }
        public Task PutAsync(string remotename, string filename, CancellationToken cancelToken) { return dest.PutFileAsync(remotename, filename, cancelToken); }
        public Task GetAsync(string remotename, string filename, CancellationToken cancelToken) { return dest.GetFileAsync(remotename, filename, cancelToken); }
        // The calls that move no data have no Async form in the binding: Task.Run is the whole mirror.
        public Task DeleteAsync(string remotename, CancellationToken cancelToken) { return Task.Run(() => dest.Delete(remotename), cancelToken); }
        public Task RenameAsync(string oldname, string newname, CancellationToken cancelToken) { return Task.Run(() => dest.Rename(oldname, newname), cancelToken); }
        public Task TestAsync(CancellationToken cancelToken) { return Task.Run(() => dest.Test(), cancelToken); }
        public Task CreateFolderAsync(CancellationToken cancelToken) { return Task.Run(() => dest.CreateFolder(), cancelToken); }
        public Task<IQuotaInfo> GetQuotaInfoAsync(CancellationToken cancelToken) { return Task.Run(() => (IQuotaInfo)new Quota(dest.Quota()), cancelToken); }

        public void Dispose() { dest.Dispose(); }
    }
}
