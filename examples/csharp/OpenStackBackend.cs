// The whole adapter: IStreamingBackend on top of the OpenStackDest binding.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace OpenStackDest.Examples
{
    public sealed class OpenStackBackend : IStreamingBackend
    {
        private sealed class Entry : IFileEntry
        {
            internal Entry(RemoteEntry e)
            {
                Name = e.Name;
                Size = e.Size;
                LastModification = e.LastModified;
                IsFolder = e.IsFolder;
            }

            public string Name { get; private set; }
            public long Size { get; private set; }
            public DateTime LastModification { get; private set; }
            public bool IsFolder { get; private set; }
        }

        private readonly OpenStackDestination dest;

        public OpenStackBackend(string url, IDictionary<string, string> options = null)
        {
            dest = new OpenStackDestination(url, options);
        }

        public string DisplayName { get { return "OpenStack Swift (libopenstack_dest " + OpenStackDestination.Version + ")"; } }
        public IEnumerable<IFileEntry> List() { return dest.List().Select(e => (IFileEntry)new Entry(e)); }
        public Task PutAsync(string remotename, Stream stream, CancellationToken cancelToken) { return dest.PutAsync(remotename, stream, cancelToken); }
        public Task GetAsync(string remotename, Stream stream, CancellationToken cancelToken) { return dest.GetAsync(remotename, stream, cancelToken); }
        public void Delete(string remotename) { dest.Delete(remotename); }
        public void CreateFolder() { dest.CreateFolder(); }
        public void Test() { dest.Test(); }
        public void Dispose() { dest.Dispose(); }
    }
}
