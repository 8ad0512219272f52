// Drives the example's Duplicati-style adapter (examples/csharp/OpenStackBackend.cs) the way Duplicati's
// engine drives a backend, against the test bed: TestAsync on a missing container (FolderMissingException),
// CreateFolderAsync, TestAsync, PutAsync (stream and file forms), ListAsync, GetAsync (both forms),
// RenameAsync, DeleteAsync, GetAsync of a missing file (FileMissingException), GetQuotaInfoAsync, and a
// CancellationToken cancelled during a PutAsync from a slow stream.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using OpenStackDest.Examples;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class BackendAdapterTests
    {
        private static void Wait(Task t)
        {
            t.GetAwaiter().GetResult();
        }

        private static T Wait<T>(Task<T> t)
        {
            return t.GetAwaiter().GetResult();
        }

        [Test]
        public void ContractMembers()
        {
            using (var b = new OpenStackBackend("openstack://c/p?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-domain-name=Default&openstack-authuri=http://127.0.0.1:1/v3"))
            {
                Assert.That(b.ProtocolKey, Is.EqualTo("openstack"));
                TestEnv.Contains(b.DisplayName, "OpenStack");
                Assert.That(b, Is.InstanceOf<IStreamingBackend>());
                Assert.That(b, Is.InstanceOf<IRenameEnabledBackend>());
                Assert.That(b, Is.InstanceOf<IQuotaEnabledBackend>());
            }
        }

        [Test]
        public void DrivenLikeTheEngine()
        {
            TestEnv.RequireServer();
            string container = TestEnv.UniqueContainer("adapter");
            string tmp = Path.Combine(Path.GetTempPath(), "cs-adapter-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tmp);
            CancellationToken none = CancellationToken.None;
            try
            {
                using (IStreamingBackend backend = new OpenStackBackend(TestEnv.V3Url(container, "dup/")))
                {
                    // the engine's first contact: the folder is missing, so it creates it and tests again
                    Assert.That(SwiftAdmin.ContainerExists(container), Is.False);
                    Assert.Throws<FolderMissingException>(() => Wait(backend.TestAsync(none)));
                    Wait(backend.CreateFolderAsync(none));
                    Assert.That(SwiftAdmin.ContainerExists(container), Is.True);
                    Wait(backend.TestAsync(none));
                    Assert.That(Wait(backend.ListAsync(none)), Is.Empty);

                    // uploads: stream form and file form
                    byte[] a = TestEnv.RandomBytes(200000);
                    byte[] b = TestEnv.RandomBytes(70001);
                    string bPath = Path.Combine(tmp, "b-local.bin");
                    File.WriteAllBytes(bPath, b);
                    using (var s = new MemoryStream(a, false))
                        Wait(backend.PutAsync("duplicati-a.dblock.zip", s, none));
                    Wait(backend.PutAsync("duplicati-b.dindex.zip", bPath, none));
                    Wait(backend.PutAsync("empty.dlist.zip", new MemoryStream(new byte[0]), none));

                    IList<IFileEntry> list = Wait(backend.ListAsync(none));
                    Assert.That(list.Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray(),
                        Is.EqualTo(new[] { "duplicati-a.dblock.zip", "duplicati-b.dindex.zip", "empty.dlist.zip" }));
                    var byName = list.ToDictionary(e => e.Name);
                    Assert.That(byName["duplicati-a.dblock.zip"].Size, Is.EqualTo(a.Length));
                    Assert.That(byName["duplicati-b.dindex.zip"].Size, Is.EqualTo(b.Length));
                    Assert.That(byName["empty.dlist.zip"].Size, Is.EqualTo(0));
                    foreach (IFileEntry e in list)
                    {
                        Assert.That(e.IsFolder, Is.False, e.Name);
                        Assert.That(e.LastModification, Is.GreaterThan(DateTime.UtcNow.AddHours(-1)), e.Name);
                        Assert.That(e.LastModification, Is.LessThan(DateTime.UtcNow.AddHours(1)), e.Name);
                        Assert.That(e.LastAccess, Is.EqualTo(e.LastModification), e.Name);
                    }

                    // downloads, byte for byte: stream form and file form
                    var got = new MemoryStream();
                    Wait(backend.GetAsync("duplicati-b.dindex.zip", got, none));
                    Assert.That(got.ToArray(), Is.EqualTo(b));
                    string aPath = Path.Combine(tmp, "a-restored.bin");
                    Wait(backend.GetAsync("duplicati-a.dblock.zip", aPath, none));
                    Assert.That(File.ReadAllBytes(aPath), Is.EqualTo(a));

                    // rename (the engine renames files it needs to re-upload)
                    var renamer = (IRenameEnabledBackend)backend;
                    Wait(renamer.RenameAsync("duplicati-a.dblock.zip", "duplicati-a2.dblock.zip", none));
                    var names = Wait(backend.ListAsync(none)).Select(e => e.Name).ToList();
                    Assert.That(names, Has.Member("duplicati-a2.dblock.zip"));
                    Assert.That(names, Has.No.Member("duplicati-a.dblock.zip"));
                    got = new MemoryStream();
                    Wait(backend.GetAsync("duplicati-a2.dblock.zip", got, none));
                    Assert.That(got.ToArray(), Is.EqualTo(a));

                    // delete; then the missing file is FileMissingException in both forms
                    Wait(backend.DeleteAsync("duplicati-a2.dblock.zip", none));
                    Assert.That(Wait(backend.ListAsync(none)).Select(e => e.Name).ToArray(), Has.No.Member("duplicati-a2.dblock.zip"));
                    Assert.Throws<FileMissingException>(() => Wait(backend.GetAsync("duplicati-a2.dblock.zip", new MemoryStream(), none)));
                    Assert.Throws<FileMissingException>(() => Wait(backend.GetAsync("duplicati-a.dblock.zip", Path.Combine(tmp, "never"), none)));

                    // quota: the test account has none, so both are -1 (unknown); with one, free <= total
                    IQuotaInfo q = Wait(((IQuotaEnabledBackend)backend).GetQuotaInfoAsync(none));
                    if (q.TotalQuotaSpace < 0)
                        Assert.That(q.FreeQuotaSpace, Is.EqualTo(-1));
                    else
                        Assert.That(q.FreeQuotaSpace, Is.InRange(0, q.TotalQuotaSpace));

                    // cancelling the engine's token stops an upload in progress: 8 MiB from a slow source
                    const long size = 8L * 1024 * 1024;
                    var slow = new TestStream(size, false);
                    using (var cts = new CancellationTokenSource())
                    {
                        slow.OnRead = pos =>
                        {
                            Thread.Sleep(20); // a slow source
                            if (pos >= 1024 * 1024)
                                cts.Cancel();
                        };
                        Task t = backend.PutAsync("duplicati-big.dblock.zip", slow, cts.Token);
                        Assert.Catch<OperationCanceledException>(() => Wait(t));
                        Assert.That(t.IsCanceled, Is.True, "the task ends Canceled");
                    }
                    Assert.That(slow.TotalRead, Is.LessThan(size), "the upload stopped before the end of the source");
                    Assert.That(Wait(backend.ListAsync(none)).Select(e => e.Name).ToArray(), Has.No.Member("duplicati-big.dblock.zip"),
                        "a cancelled upload leaves no object");
                    Assert.Throws<FileMissingException>(() => Wait(backend.GetAsync("duplicati-big.dblock.zip", new MemoryStream(), none)));

                    // a token cancelled before the call: nothing is done
                    using (var cts = new CancellationTokenSource())
                    {
                        cts.Cancel();
                        Assert.Catch<OperationCanceledException>(() => Wait(backend.PutAsync("never.zip", new MemoryStream(a), cts.Token)));
                        Assert.Catch<OperationCanceledException>(() => Wait(backend.ListAsync(cts.Token)));
                    }
                    Assert.That(Wait(backend.ListAsync(none)).Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray(),
                        Is.EqualTo(new[] { "duplicati-b.dindex.zip", "empty.dlist.zip" }));
                }
            }
            finally
            {
                SwiftAdmin.DeleteContainer(container);
                if (SwiftAdmin.ContainerExists(container + "_segments")) // only if an upload went the large-object way
                    SwiftAdmin.DeleteContainer(container + "_segments");
                Directory.Delete(tmp, true);
            }
            Assert.That(SwiftAdmin.ContainerExists(container), Is.False, "the container was removed");
        }
    }
}
