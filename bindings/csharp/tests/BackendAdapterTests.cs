// The example (examples/csharp): its Duplicati-style adapter (OpenStackBackend.cs) driven the way
// Duplicati's engine drives a backend, against the test bed: TestAsync on a missing container
// (FolderMissingException), CreateFolderAsync, TestAsync, PutAsync (stream and file forms), ListAsync,
// GetAsync (both forms), RenameAsync, DeleteAsync, GetAsync of a missing file (FileMissingException),
// GetQuotaInfoAsync, and a CancellationToken cancelled during a PutAsync from a slow stream; then the
// example program end to end.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using OpenStackDest.Examples;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class BackendAdapterTests
    {
        private static void Wait(Task t) => t.GetAwaiter().GetResult();

        private static T Wait<T>(Task<T> t) => t.GetAwaiter().GetResult();

        private static string[] Names(IStreamingBackend b) => Wait(b.ListAsync(CancellationToken.None)).Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();

        [Test]
        public void ContractMembersAndUsage()
        {
            using (var b = new OpenStackBackend("openstack://c/p?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-domain-name=Default&openstack-authuri=http://127.0.0.1:1/v3"))
            {
                Assert.That(b.ProtocolKey, Is.EqualTo("openstack"));
                TestEnv.Contains(b.DisplayName, "OpenStack");
                Assert.That(b, Is.InstanceOf<IStreamingBackend>() & Is.InstanceOf<IRenameEnabledBackend>() & Is.InstanceOf<IQuotaEnabledBackend>());
            }
            var stderr = new StringWriter();
            Assert.That(Program.Run(new string[0], new StringWriter(), stderr), Is.EqualTo(2));
            TestEnv.Contains(stderr.ToString(), "usage: BackupExample");
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
                    Assert.That(Names(backend), Is.Empty);

                    // uploads: stream form and file form
                    byte[] a = TestEnv.RandomBytes(200000), b = TestEnv.RandomBytes(70001);
                    string bPath = Path.Combine(tmp, "b-local.bin");
                    File.WriteAllBytes(bPath, b);
                    using (var s = new MemoryStream(a, false))
                        Wait(backend.PutAsync("duplicati-a.dblock.zip", s, none));
                    Wait(backend.PutAsync("duplicati-b.dindex.zip", bPath, none));
                    Wait(backend.PutAsync("empty.dlist.zip", new MemoryStream(new byte[0]), none));

                    List<IFileEntry> list = Wait(backend.ListAsync(none)).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
                    Assert.That(list.Select(e => e.Name), Is.EqualTo(new[] { "duplicati-a.dblock.zip", "duplicati-b.dindex.zip", "empty.dlist.zip" }));
                    Assert.That(list.Select(e => e.Size), Is.EqualTo(new long[] { a.Length, b.Length, 0 }));
                    foreach (IFileEntry e in list)
                    {
                        Assert.That(e.IsFolder, Is.False, e.Name);
                        Assert.That(e.LastModification, Is.InRange(DateTime.UtcNow.AddHours(-1), DateTime.UtcNow.AddHours(1)), e.Name);
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
                    Wait(((IRenameEnabledBackend)backend).RenameAsync("duplicati-a.dblock.zip", "duplicati-a2.dblock.zip", none));
                    Assert.That(Names(backend), Has.Member("duplicati-a2.dblock.zip") & Has.No.Member("duplicati-a.dblock.zip"));
                    got = new MemoryStream();
                    Wait(backend.GetAsync("duplicati-a2.dblock.zip", got, none));
                    Assert.That(got.ToArray(), Is.EqualTo(a));

                    // delete; then the missing file is FileMissingException in both forms
                    Wait(backend.DeleteAsync("duplicati-a2.dblock.zip", none));
                    Assert.That(Names(backend), Has.No.Member("duplicati-a2.dblock.zip"));
                    Assert.Throws<FileMissingException>(() => Wait(backend.GetAsync("duplicati-a2.dblock.zip", new MemoryStream(), none)));
                    Assert.Throws<FileMissingException>(() => Wait(backend.GetAsync("duplicati-a.dblock.zip", Path.Combine(tmp, "never"), none)));

                    // quota: the test account has none, so both are -1 (unknown); with one, free <= total
                    IQuotaInfo q = Wait(((IQuotaEnabledBackend)backend).GetQuotaInfoAsync(none));
                    Assert.That(q.FreeQuotaSpace, q.TotalQuotaSpace < 0 ? (NUnit.Framework.Constraints.IResolveConstraint)Is.EqualTo(-1) : Is.InRange(0, q.TotalQuotaSpace));

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
                    Assert.That(Names(backend), Has.No.Member("duplicati-big.dblock.zip"), "a cancelled upload leaves no object");
                    Assert.Throws<FileMissingException>(() => Wait(backend.GetAsync("duplicati-big.dblock.zip", new MemoryStream(), none)));

                    // a token cancelled before the call: nothing is done
                    using (var cts = new CancellationTokenSource())
                    {
                        cts.Cancel();
                        Assert.Catch<OperationCanceledException>(() => Wait(backend.PutAsync("never.zip", new MemoryStream(a), cts.Token)));
                        Assert.Catch<OperationCanceledException>(() => Wait(backend.ListAsync(cts.Token)));
                    }
                    Assert.That(Names(backend), Is.EqualTo(new[] { "duplicati-b.dindex.zip", "empty.dlist.zip" }));
                }
            }
            finally
            {
                SwiftAdmin.DeleteContainer(container);
                SwiftAdmin.DeleteContainer(container + "_segments"); // if an upload went the large-object way
                Directory.Delete(tmp, true);
            }
            Assert.That(SwiftAdmin.ContainerExists(container), Is.False, "the container was removed");
        }

        [Test]
        public void TheExampleBacksUpAndRestoresADirectory()
        {
            TestEnv.RequireServer();
            string container = TestEnv.UniqueContainer("example");
            string src = Path.Combine(Path.GetTempPath(), "cs-example-src-" + Guid.NewGuid().ToString("N"));
            string dst = Path.Combine(Path.GetTempPath(), "cs-example-dst-" + Guid.NewGuid().ToString("N"));
            try
            {
                Directory.CreateDirectory(Path.Combine(src, "sub dir", "deeper"));
                File.WriteAllBytes(Path.Combine(src, "a.bin"), TestEnv.RandomBytes(300000));
                File.WriteAllText(Path.Combine(src, "sub dir", "ünï+code #1.txt"), "hello", Encoding.UTF8);
                File.WriteAllBytes(Path.Combine(src, "sub dir", "deeper", "empty"), new byte[0]);
                StringWriter stdout = new StringWriter(), stderr = new StringWriter();
                int rc = Program.Run(new[] { src, TestEnv.V3Url(container, "backup/"), dst }, stdout, stderr);
                Assert.That(rc, Is.EqualTo(0), stdout + "\n" + stderr);
                TestEnv.Contains(stdout.ToString(), "backed up 3 files, restored and verified 3");
                foreach (string f in Directory.GetFiles(src, "*", SearchOption.AllDirectories))
                    Assert.That(File.ReadAllBytes(dst + f.Substring(src.Length)), Is.EqualTo(File.ReadAllBytes(f)));
                using (var d = new OpenStackDestination(TestEnv.V3Url(container, "backup/")))
                    Assert.That(d.List().Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal), Is.EqualTo(new[] { "a.bin", "backup-manifest.txt", "sub dir" }));
            }
            finally
            {
                SwiftAdmin.DeleteContainer(container);
                foreach (string dir in new[] { src, dst })
                    if (Directory.Exists(dir))
                        Directory.Delete(dir, true);
            }
        }
    }
}
