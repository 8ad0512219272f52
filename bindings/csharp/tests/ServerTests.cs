// The binding against the real Swift + Keystone v3 of the test bed (tests/openstack/testbed.sh): its
// layer only. One round trip of each call and its Async form, RemoteEntry/QuotaInfo/ObjectVersion/
// SweepReport values, statuses mapped to exceptions (one table), exceptions from streams and callbacks
// rethrown as they are (one table), progress and cancellation, callbacks that come back into the
// destination (formerly ReentrantTests.cs), the options dictionary and the logger, and the many-threads table
// (tests/threads.txt). Swift's semantics (names, listings and paging, large objects and their segments,
// rename, metadata rules, ranges, versions, sweeps, regions, Keystone v2) are tested once, in Rust.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
#if NUNIT2
using OneTimeSetUpAttribute = NUnit.Framework.TestFixtureSetUpAttribute;
using OneTimeTearDownAttribute = NUnit.Framework.TestFixtureTearDownAttribute;
#endif

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class ServerTests
    {
        private const int MiB = 1024 * 1024;
        private string container;
        private OpenStackDestination dest;
        private int counter;

        [OneTimeSetUp]
        public void StartFixture()
        {
            TestEnv.RequireServer();
            container = TestEnv.UniqueContainer("v3");
            dest = new OpenStackDestination(TestEnv.V3Url(container));
            dest.CreateFolder();
        }

        [OneTimeTearDown]
        public void EndFixture()
        {
            dest?.Dispose();
            if (container != null)
                SwiftAdmin.DeleteContainer(container);
        }

        private string NewName(string what) => what + "-" + Interlocked.Increment(ref counter) + ".bin";

        private static void AssertRecent(DateTime t)
        {
            Assert.That(t.Kind, Is.EqualTo(DateTimeKind.Utc));
            Assert.That(Math.Abs((DateTime.UtcNow - t).TotalMinutes), Is.LessThan(10), "last modified " + t.ToString("o"));
        }

        private static byte[] Slice(byte[] data, long offset, int length) => data.Skip((int)offset).Take(length).ToArray();

        /// <summary>Runs <paramref name="body"/> on a destination of a container of its own, then removes the container.</summary>
        private static void InOwnContainer(string what, IDictionary<string, string> options, Action<OpenStackDestination, string> body, string prefix = "")
        {
            string c = TestEnv.UniqueContainer(what);
            try
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(c, prefix), options))
                {
                    d.CreateFolder();
                    body(d, c);
                }
            }
            finally
            {
                if (options != null && options.ContainsKey("openstack-versioning"))
                    SwiftAdmin.DeleteVersionedContainer(c);
                SwiftAdmin.DeleteContainer(c);
                SwiftAdmin.DeleteContainer(c + "_segments");
            }
        }

        // ---------------------------------------------------------------- one round trip of each call

        [Test]
        public void BytesStatRenameDeleteAndQuota()
        {
            string name = NewName("bytes"), moved = NewName("moved");
            dest.Test();
            dest.CreateFolder(); // idempotent
            byte[] data = TestEnv.RandomBytes(100 * 1024 + 3);
            dest.Put(name, data);
            Assert.That(dest.Get(name), Is.EqualTo(data));
            RemoteEntry st = dest.Stat(name);
            Assert.That(new object[] { st.Name, st.Size, st.IsFolder, st.ETag }, Is.EqualTo(new object[] { name, (long)data.Length, false, TestEnv.Md5Hex(data) }));
            AssertRecent(st.LastModified);
            dest.Rename(name, moved);
            Assert.Throws<FileMissingException>(() => dest.Stat(name));
            Assert.That(dest.Get(moved), Is.EqualTo(data));
            dest.Delete(moved);
            Assert.Throws<FileMissingException>(() => dest.Get(moved));

            // Empty: a zero-length array and stream both ways.
            dest.Put(name, new byte[0]);
            Assert.That(dest.Get(name).Length, Is.EqualTo(0));
            var ms = new MemoryStream();
            dest.Get(name, ms);
            Assert.That(ms.Length, Is.EqualTo(0));
            dest.Put(name, new MemoryStream());
            Assert.That(dest.Stat(name).Size, Is.EqualTo(0));
            dest.Delete(name);

            QuotaInfo q = dest.Quota();
            Assert.That(new[] { q.BytesUsed, q.ObjectCount, q.ContainerCount - 1 }, Is.All.GreaterThanOrEqualTo(0));
            Assert.That(new[] { q.QuotaBytes, q.FreeBytes }, Is.All.GreaterThanOrEqualTo(-1));
        }

        /// <summary>A seekable stream from its position, non-seekable ones both ways, and progress of an
        /// Async upload (monotonic, ending at the size) and download.</summary>
        [Test]
        public void StreamsAndTheirProgress()
        {
            string name = NewName("stream");
            byte[] data = TestEnv.RandomBytes(MiB + 77);
            dest.Put(name, new MemoryStream(data) { Position = 1000 });
            var target = new MemoryStream();
            dest.Get(name, target);
            Assert.That(target.ToArray(), Is.EqualTo(data.Skip(1000).ToArray()));
            Assert.That(dest.Stat(name).ETag, Is.EqualTo(TestEnv.Md5Hex(data.Skip(1000).ToArray())));
            data = TestEnv.RandomBytes(3 * MiB + 17);
            dest.Put(name, new TestStream(new MemoryStream(data)));
            target = new MemoryStream();
            dest.Get(name, new TestStream(target));
            Assert.That(target.ToArray(), Is.EqualTo(data));

            const int size = 5 * MiB;
            var up = new List<long>();
            dest.PutAsync(name, new TestStream(size, true), CancellationToken.None, (done, total) => { lock (up) up.Add(done); }).GetAwaiter().GetResult();
            Assert.That(up.Count, Is.GreaterThan(0));
            Assert.That(up.Last(), Is.EqualTo(size));
            Assert.That(up, Is.Ordered);
            long lastDone = -1, lastTotal = -2;
            var got = new MemoryStream();
            dest.GetAsync(name, got, CancellationToken.None, (done, total) => { lastDone = done; lastTotal = total; }).GetAwaiter().GetResult();
            Assert.That(lastDone, Is.EqualTo(size));
            Assert.That(lastTotal, Is.EqualTo(size).Or.EqualTo(-1));
            Assert.That(got.ToArray(), Is.EqualTo(TestStream.Pattern(size)));
            dest.Delete(name);
        }

        /// <summary>A file in 1 MiB segments both ways, its time, progress on the calling thread up to (size, size),
        /// the Async forms, an upload cancelled from its progress (openstack-leave-segments keeps what it sent)
        /// and SweepSegments' report.</summary>
        [Test]
        public void FilesInSegmentsProgressOnTheCallingThreadCancelAndSweep()
        {
            string src = Path.GetTempFileName(), dst = Path.GetTempFileName();
            var options = new Dictionary<string, string> { { "openstack-segment-size", "1MiB" }, { "openstack-leave-segments", "true" } };
            InOwnContainer("slo", options, (d, c) =>
            {
                const int size = 3 * MiB + 4321;
                byte[] data = TestEnv.RandomBytes(size);
                File.WriteAllBytes(src, data);
                var when = new DateTime(2020, 9, 13, 12, 26, 40, 123, DateTimeKind.Utc);
                File.SetLastWriteTimeUtc(src, when);
                int caller = Thread.CurrentThread.ManagedThreadId;
                var threads = new HashSet<int>();
                var seen = new List<long[]>();
                d.PutFile("big.bin", src, CancellationToken.None, (done, total) =>
                {
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                    seen.Add(new[] { done, total });
                });
                Assert.That(threads, Is.EquivalentTo(new[] { caller }), "progress ran on another thread");
                Assert.That(seen.Last(), Is.EqualTo(new long[] { size, size }));
                Assert.That(seen.Select(p => p[0]), Is.Ordered);
                Assert.That(seen.All(p => p[1] == size), Is.True, "a total other than the object's size");
                Assert.That(d.Stat("big.bin").Size, Is.EqualTo(size));
                Assert.That(d.Stat("big.bin").FileTime, Is.EqualTo(when));
                Assert.That(d.List().Single().FileTime, Is.EqualTo(DateTime.MinValue), "unknown");
                d.GetFile("big.bin", dst);
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));
                Assert.That(File.GetLastWriteTimeUtc(dst), Is.EqualTo(when));
                File.Delete(dst);
                var log = new List<long>();
                d.PutFileAsync("big.bin", src).GetAwaiter().GetResult();
                d.GetFileAsync("big.bin", dst, CancellationToken.None, (done, total) => log.Add(done)).GetAwaiter().GetResult();
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));
                Assert.That(log.Last(), Is.EqualTo(size));
                d.Delete("big.bin");

                threads.Clear();
                Cancels("PutFile", cts => { d.PutFile("cancelled.bin", src, cts.Token, (done, total) =>
                {
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                    if (done >= MiB)
                        cts.Cancel();
                }); return null; });
                Assert.That(threads, Is.EquivalentTo(new[] { caller }));
                Assert.Throws<FileMissingException>(() => d.Stat("cancelled.bin"));
                SweepReport report = d.SweepSegments(TimeSpan.Zero);
                Assert.That(report.Removed, Is.GreaterThan(0));
                Assert.That(report.Bytes, Is.GreaterThan(0));
            });
            File.Delete(src);
            File.Delete(dst);
        }

        /// <summary>PutOptions in (a dictionary, DateTime and TimeSpan expiries, NoExpiry) by each call that takes
        /// them, and RemoteEntry's metadata (a case-insensitive dictionary) and DeleteAt out.</summary>
        [Test]
        public void MetadataAndExpiry()
        {
            string name = NewName("meta"), src = Path.GetTempFileName();
            var options = new PutOptions { DeleteAfter = TimeSpan.FromDays(1), Metadata = { { "Backup-Set", "7" }, { "color", "bl\u00fce 50%" } } };
            dest.Put(name, new MemoryStream(new byte[] { 1, 2, 3 }), options);
            RemoteEntry e = dest.Stat(name);
            Assert.That(e.Metadata.Count, Is.EqualTo(2));
            Assert.That(new[] { e.Metadata["backup-set"], e.Metadata["Color"] }, Is.EqualTo(new[] { "7", "bl\u00fce 50%" }));
            Assert.That(e.DeleteAt.Kind, Is.EqualTo(DateTimeKind.Utc));
            Assert.That(Math.Abs((e.DeleteAt - DateTime.UtcNow.AddDays(1)).TotalMinutes), Is.LessThan(3));

            var o2 = new PutOptions { DeleteAt = DateTime.UtcNow.AddDays(2), Metadata = { { "a", "1" } } };
            dest.Put(name, new byte[] { 9 }, o2);
            Assert.That(Math.Abs((dest.Stat(name).DeleteAt - o2.DeleteAt.Value).TotalSeconds), Is.LessThan(2));
            File.WriteAllBytes(src, new byte[] { 4, 5 });
            dest.PutFile(name, src, o2);
            File.Delete(src);
            e = dest.Stat(name);
            Assert.That(e.FileTime, Is.Not.EqualTo(DateTime.MinValue));
            Assert.That(e.Metadata["a"], Is.EqualTo("1"));
            dest.UpdateMetadata(name, new PutOptions { Metadata = { { "b", "2" } } });
            Assert.That(dest.Stat(name).Metadata["b"], Is.EqualTo("2"));
            dest.UpdateMetadata(name, new PutOptions { NoExpiry = true });
            Assert.That(dest.Stat(name).DeleteAt, Is.EqualTo(DateTime.MinValue));
            dest.Delete(name);
        }

        /// <summary>List, ListAsync, ForEach and Enumerate give the same RemoteEntry values (a .NET string out as
        /// UTF-8 and back); a callback that stops or throws; leaving an enumeration early; DeleteFolder.</summary>
        [Test]
        public void ListingsAndDeleteFolder()
        {
            const string odd = "ünï-名前 #?%+.txt";
            string[] names = { "a.txt", "dir/b.txt", "dir/sub/c.txt", odd };
            InOwnContainer("each", null, (d, c) =>
            {
                foreach (string n in names)
                    d.Put(n, Encoding.UTF8.GetBytes(n));
                Func<IEnumerable<RemoteEntry>, string> show = es => string.Join(",", es.Select(e => e.Name + (e.IsFolder ? "/" : "")));
                string top = "a.txt,dir/," + odd, all = string.Join(",", names);
                var each = new List<RemoteEntry>();
                d.ForEach(null, false, e => { each.Add(e); return true; });
                foreach (var listing in new[] { d.List(), d.ListAsync().GetAwaiter().GetResult(), d.Enumerate().ToList(), each })
                    Assert.That(show(listing), Is.EqualTo(top));
                Assert.That(show(d.List(null, true)), Is.EqualTo(all));
                Assert.That(show(d.Enumerate(null, true)), Is.EqualTo(all));
                Assert.That(show(d.List("dir/")), Is.EqualTo("dir/b.txt,dir/sub/"));
                RemoteEntry file = d.List().Single(e => e.Name == "a.txt"), folder = d.List().Single(e => e.IsFolder);
                Assert.That(new object[] { file.Size, file.ETag, folder.Size }, Is.EqualTo(new object[] { 5L, TestEnv.Md5Hex(Encoding.UTF8.GetBytes("a.txt")), -1L }));
                AssertRecent(file.LastModified);
                Assert.That(d.Get(odd), Is.EqualTo(Encoding.UTF8.GetBytes(odd)));

                // false from the callback ends the listing; an exception from it comes out unchanged.
                var seen = new List<string>();
                d.ForEach("", true, e => { seen.Add(e.Name); return seen.Count < 2; });
                Assert.That(string.Join(",", seen), Is.EqualTo("a.txt,dir/b.txt"));
                seen.Clear();
                var boom = new InvalidOperationException("boom from the callback");
                Assert.That(Assert.Throws<InvalidOperationException>(() => d.ForEach("dir", true, e => { seen.Add(e.Name); throw boom; })), Is.SameAs(boom));
                Assert.That(string.Join(",", seen), Is.EqualTo("dir/b.txt"));
                Assert.That(show(d.Enumerate("dir", true).Take(2)), Is.EqualTo("dir/b.txt,dir/sub/c.txt"));
                using (IEnumerator<RemoteEntry> it = d.Enumerate("", true).GetEnumerator())
                    Assert.That(it.MoveNext() && it.Current.Name == "a.txt", Is.True);

                TestEnv.Throws<FolderNotEmptyException>("DeleteFolder", () => d.DeleteFolder(), OpenStackStatus.ContainerNotEmpty);
                d.DeleteFolder(true);
                Assert.That(SwiftAdmin.ContainerExists(c), Is.False);
                Assert.Throws<FolderMissingException>(() => d.DeleteFolder(true));
                Assert.Throws<FolderMissingException>(() => d.Enumerate("", true).ToList());
            }, "pre/");
        }

        // ---------------------------------------------------------------- statuses, callbacks, cancellation

        /// <summary>Each status the server gives, by each kind of call: its exception type, Status and HTTP status.</summary>
        [Test]
        public void StatusesBecomeTheirExceptions()
        {
            string name = NewName("missing");
            using (var missing = new OpenStackDestination(TestEnv.V3Url(TestEnv.UniqueContainer("none"))))
            using (var reader = new OpenStackDestination(TestEnv.V3Url(container, "", TestEnv.Require("OSD_READER_USER"), TestEnv.Require("OSD_READER_PASSWORD"))))
            {
                var rows = new Dictionary<string, TestDelegate>
                {
                    { "Get", () => dest.Get(name) }, { "Get(stream)", () => dest.Get(name, new MemoryStream()) },
                    { "Stat", () => dest.Stat(name) }, { "Delete", () => dest.Delete(name) }, { "Rename", () => dest.Rename(name, name + ".new") },
                    { "GetAsync", () => dest.GetAsync(name, new MemoryStream()).GetAwaiter().GetResult() },
                    { "GetRange", () => dest.GetRange(name, 0, 1) }, { "UpdateMetadata", () => dest.UpdateMetadata(name, new PutOptions()) },
                };
                foreach (var r in rows)
                    TestEnv.Throws<FileMissingException>(r.Key, r.Value, OpenStackStatus.NotFound, 404);
                rows = new Dictionary<string, TestDelegate>
                {
                    { "List", () => missing.List() }, { "Test", () => missing.Test() }, { "Put", () => missing.Put("x", new byte[] { 1 }) },
                    { "Put(stream)", () => missing.Put("x", new TestStream(new MemoryStream(new byte[10]))) }, { "Get", () => missing.Get("x") },
                    { "ListAsync", () => missing.ListAsync().GetAwaiter().GetResult() },
                };
                foreach (var r in rows)
                    TestEnv.Throws<FolderMissingException>("missing container: " + r.Key, r.Value, OpenStackStatus.ContainerNotFound);
                TestEnv.Throws<OpenStackException>("reader Put", () => reader.Put(NewName("reader"), new byte[] { 1 }), OpenStackStatus.Forbidden, 403);
                TestEnv.Throws<OpenStackException>("reader Put(stream)", () => reader.Put(NewName("reader"), new TestStream(new MemoryStream(new byte[100]))),
                    OpenStackStatus.Forbidden, 403);
            }
        }

        /// <summary>An exception from a source or target stream or a progress callback stops the transfer and
        /// comes out as the same instance; the destination stays usable.</summary>
        [Test]
        public void ExceptionsFromStreamsAndCallbacksAreRethrownAsTheyAre()
        {
            string name = NewName("boom");
            dest.Put(name, new TestStream(4 * MiB, true));
            var rows = new Dictionary<Exception, Action<Exception>>
            {
                { new IOException("source stream broke"), boom => dest.Put(NewName("boom-read"), TestStream.Failing(300 * 1024, boom)) },
                { new InvalidOperationException("PutAsync's source broke"), boom => dest.PutAsync(NewName("boom-read"), TestStream.Failing(10, boom)).GetAwaiter().GetResult() },
                { new IOException("the disk is full"), boom => dest.Get(name, TestStream.Failing(100 * 1024, boom)) },
                { new IOException("range target broke"), boom => dest.GetRange(name, 0, 4 * MiB, TestStream.Failing(64 * 1024, boom)) },
                { new ApplicationException("progress handler broke"), boom => dest.Put(NewName("boom-progress"), new TestStream(4 * MiB, false), CancellationToken.None, (d, t) => { throw boom; }) },
            };
            foreach (var r in rows)
                Assert.That(Assert.Catch(() => r.Value(r.Key)), Is.SameAs(r.Key), r.Key.Message);
            TestEnv.Contains(rows.Keys.First().StackTrace, "TestStream.Read");
            Assert.That(dest.Get(name), Is.EqualTo(TestStream.Pattern(4 * MiB)), "the destination is still usable");
            dest.Delete(name);
        }

        /// <summary>A token cancelled during a transfer (from its progress or its stream) stops it: the call ends
        /// with OperationCanceledException of that token (an Async one's task Canceled), long before the end.</summary>
        [Test]
        public void CancellationStopsTransfers()
        {
            string name = NewName("cancel");
            dest.Put(name, new TestStream(32 * MiB, true));
            var source = new TestStream(1024L * MiB, false); // 1 GiB on the fly; must stop long before the end
            Cancels("PutAsync", cts => dest.PutAsync(NewName("cancel-put"), source, cts.Token, (done, total) => { if (done >= 8 * MiB) cts.Cancel(); }));
            Assert.That(source.TotalRead, Is.LessThan(256L * MiB), "read " + source.TotalRead + " bytes after cancelling");
            var seekable = new TestStream(1024L * MiB, true);
            Cancels("Put", cts =>
            {
                seekable.OnRead = pos => { if (pos >= 2 * MiB) cts.Cancel(); };
                dest.Put(NewName("cancel-read"), seekable, cts.Token);
                return null;
            });
            Assert.That(seekable.TotalRead, Is.LessThan(256L * MiB));
            var target = new MemoryStream();
            Cancels("GetAsync", cts => dest.GetAsync(name, target, cts.Token, (done, total) => cts.Cancel()));
            Assert.That(target.Length, Is.LessThan(32 * MiB));
            var ranged = new TestStream(new MemoryStream());
            Cancels("GetRangeAsync", cts => { ranged.OnWrite = n => cts.Cancel(); return dest.GetRangeAsync(name, 1, 4 * MiB - 1, ranged, cts.Token); });
            Assert.That(ranged.Written, Is.LessThan(4 * MiB - 1));
            dest.Delete(name);
        }

        /// <summary><paramref name="start"/> (a call, or a task it returns) ends with OperationCanceledException of the token it cancels.</summary>
        private static void Cancels(string what, Func<CancellationTokenSource, Task> start)
        {
            using (var cts = new CancellationTokenSource())
            {
                Task t = null;
                var e = Assert.Catch<OperationCanceledException>(() => { t = start(cts); t?.GetAwaiter().GetResult(); }, what);
                Assert.That(t == null || t.IsCanceled, Is.True, what + ": the task ends Canceled");
                Assert.That(e.CancellationToken, Is.EqualTo(cts.Token), what);
            }
        }

        // ---------------------------------------------------------------- ranges, DeleteMany, versions

        [Test]
        public void GetRangeInAllItsForms()
        {
            string name = NewName("range");
            byte[] data = TestEnv.RandomBytes(100 * 1000);
            dest.Put(name, data);
            Assert.That(dest.GetRange(name, 12345, 777), Is.EqualTo(Slice(data, 12345, 777)));
            Assert.That(dest.GetRange(name, 0, 0), Is.Empty);
            Assert.That(dest.GetRangeAsync(name, 5, 10).GetAwaiter().GetResult(), Is.EqualTo(Slice(data, 5, 10)));
            using (var cts = new CancellationTokenSource())
                Assert.That(dest.GetRangeAsync(name, 50000, 4000, cts.Token).GetAwaiter().GetResult(), Is.EqualTo(Slice(data, 50000, 4000)));
            var ms = new MemoryStream();
            dest.GetRange(name, 99000, 1000, ms);
            Assert.That(ms.ToArray(), Is.EqualTo(Slice(data, 99000, 1000)));
            // The library's refusal comes out of each form; the stream gets nothing.
            TestEnv.Throws<OpenStackException>("GetRange", () => dest.GetRange(name, 0, data.Length + 1), OpenStackStatus.InvalidArgument, 0, "past the end");
            TestEnv.Throws<OpenStackException>("GetRangeAsync", () => dest.GetRangeAsync(name, 10L * MiB, 1).GetAwaiter().GetResult(), OpenStackStatus.InvalidArgument, 0, "past the end");
            ms.SetLength(0);
            TestEnv.Throws<OpenStackException>("GetRange(stream)", () => dest.GetRange(name, data.Length - 10, 11, ms), OpenStackStatus.InvalidArgument, 0, "past the end");
            Assert.That(ms.Length, Is.EqualTo(0), "bytes written before the past-the-end error");
            dest.Delete(name);
        }

        /// <summary>DeleteMany: how many went, and a refused name in DeleteManyException with its own exception.</summary>
        [Test]
        public void DeleteManyReportsEachFailure()
        {
            string[] names = { "many/0", "many/1", "many/2", "many/missing" };
            for (int i = 0; i < 3; i++)
                dest.Put(names[i], new MemoryStream(new byte[] { 1, 2, 3 }));
            Assert.That(dest.DeleteMany(names), Is.EqualTo(3));
            dest.Put("many/kept", new byte[] { 4 });
            DeleteManyException e = Assert.Throws<DeleteManyException>(() => dest.DeleteMany(new[] { "many/kept", "a/../b" }));
            Assert.That(new object[] { e.Deleted, e.Failures.Count, e.Failures[0].Key }, Is.EqualTo(new object[] { 1L, 1, "a/../b" }));
            Assert.That(((OpenStackException)e.Failures[0].Value).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
        }

        /// <summary>Versions: ObjectVersion values, read (bytes and stream), restored; a delete marker; none.</summary>
        [Test]
        public void VersionsRoundTrip()
        {
            InOwnContainer("versions", new Dictionary<string, string> { { "openstack-versioning", "true" } }, (d, c) =>
            {
                d.Put("v", new MemoryStream(new byte[] { 1 }));
                d.Put("v", new MemoryStream(new byte[] { 2, 2 }));
                IList<ObjectVersion> versions = d.ListVersions("v");
                Assert.That(versions.Count, Is.EqualTo(2));
                ObjectVersion now = versions[0], old = versions[1];
                Assert.That(now.IsCurrent && !old.IsCurrent && !old.IsDeleteMarker, Is.True);
                Assert.That(new[] { now.Size, old.Size }, Is.EqualTo(new[] { 2L, 1L }));
                AssertRecent(old.LastModified);
                Assert.That(d.GetVersion("v", old.VersionId), Is.EqualTo(new byte[] { 1 }));
                var ms = new MemoryStream();
                d.GetVersion("v", now.VersionId, ms);
                Assert.That(ms.ToArray(), Is.EqualTo(new byte[] { 2, 2 }));
                d.Delete("v");
                ObjectVersion marker = d.ListVersions("v")[0];
                Assert.That(marker.IsDeleteMarker && marker.IsCurrent, Is.True);
                d.RestoreVersion("v", old.VersionId);
                Assert.That(d.Get("v"), Is.EqualTo(new byte[] { 1 }));
                Assert.Throws<FileMissingException>(() => d.GetVersion("v", "1796585440.42492"));
                Assert.Throws<FileMissingException>(() => d.RestoreVersion("v", "1796585440.42492"));
                Assert.That(d.ListVersions("nothing"), Is.Empty);
            });
        }

        // ---------------------------------------------------------------- callbacks that come back in
        // A progress callback or a logger that disposes of the destination, and a logger that uses it: none may
        // hang the host (each runs on a task waited for with a timeout, so that a hang fails the test, not the
        // run); a Dispose from inside a call takes effect when the call returns.

        private static void Within(string what, Action action)
        {
            if (!Task.Run(action).Wait(TimeSpan.FromSeconds(60)))
                Assert.Fail(what + " hung (no return in 60 s)");
        }

        [Test]
        public void DisposeFromAProgressCallbackTakesEffectWhenTheCallReturns()
        {
            string name = NewName("disposed-inside");
            var d = new OpenStackDestination(TestEnv.V3Url(container));
            int calls = 0;
            Exception inside = null;
            Within("Put with Dispose() in its progress callback", () => d.Put(name, new TestStream(3 * MiB, true), CancellationToken.None, (done, total) =>
            {
                if (Interlocked.Increment(ref calls) != 1)
                    return;
                d.Dispose();
                try { d.Test(); } catch (Exception e) { inside = e; }
            }));
            Assert.That(inside, Is.InstanceOf<ObjectDisposedException>(), "a new call from inside, after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.List());
            Assert.That(dest.Get(name), Is.EqualTo(TestStream.Pattern(3 * MiB)), "the Put that was running finished");
            dest.Delete(name);
        }

        /// <summary>A destination opened from an options dictionary (an unknown option ignored) works; its logger gets
        /// lines of known levels at Debug and never the password, and may use or dispose of the destination logging.</summary>
        [Test]
        public void OptionsDictionaryAndALoggerThatUsesAndDisposesTheDestination()
        {
            var options = new Dictionary<string, string>
            {
                { "auth-username", TestEnv.Require("OSD_USER") }, { "auth-password", TestEnv.Require("OSD_PASSWORD") },
                { "openstack-tenant-name", TestEnv.Require("OSD_PROJECT") }, { "openstack-domain-name", "Default" },
                { "openstack-authuri", TestEnv.Require("OSD_AUTH_V3") }, { "unknown-option", "x" },
            };
            var d = new OpenStackDestination("openstack://" + container + "/", options);
            var closer = new OpenStackDestination(TestEnv.V3Url(container));
            int used = 0, closed = 0, phase = 0;
            Exception inLogger = null;
            var lines = new List<KeyValuePair<LogLevel, string>>();
            // Any line logged during each call: destinations of one identity share one token, so
            // "authenticated" comes once per process, not once per destination.
            OpenStackDestination.SetLogger((level, line) =>
            {
                lock (lines)
                    lines.Add(new KeyValuePair<LogLevel, string>(level, line));
                try
                {
                    if (phase == 1 && Interlocked.Exchange(ref used, 1) == 0)
                        d.Quota(); // the line comes while the destination is inside a call
                    else if (phase == 2 && Interlocked.Exchange(ref closed, 1) == 0)
                        closer.Dispose();
                }
                catch (Exception e)
                {
                    inLogger = e;
                }
            }, LogLevel.Debug);
            try
            {
                d.Test();
                d.Put(NewName("log"), new byte[] { 1 });
                phase = 1;
                Within("CreateFolder with a logger that uses the destination", () => d.CreateFolder());
                phase = 2;
                Within("CreateFolder with a logger that disposes of the destination", () => closer.CreateFolder());
            }
            finally
            {
                phase = 0;
                OpenStackDestination.SetLogger(null);
            }
            options["auth-password"] = "wrong-" + Guid.NewGuid().ToString("N"); // the URL's query wins
            using (var w = new OpenStackDestination(TestEnv.V3Url(container), options))
                w.Test();
            Assert.That(inLogger, Is.Null, inLogger == null ? "" : inLogger.ToString());
            Assert.That(new[] { used, closed }, Is.EqualTo(new[] { 1, 1 }));
            Assert.Throws<ObjectDisposedException>(() => closer.Test());
            d.Dispose();
            Assert.That(lines.Select(l => (int)l.Key), Is.All.InRange(1, 4));
            foreach (var l in lines)
                TestEnv.Contains(l.Value, TestEnv.Require("OSD_PASSWORD"), false);
        }

        // ---------------------------------------------------------------- many threads: tests/threads.txt

        [Test]
        public void ThreadsShareOneDestination()
        {
            List<string[]> table = TestEnv.TableRows("tests/threads.txt").ToList();
            Assert.That(table.Where(f => f[0] != "threads" && f[0] != "iterations" && f[0] != "step").Select(f => string.Join("\t", f)), Is.Empty, "tests/threads.txt: unknown lines");
            int threads = int.Parse(table.Single(f => f[0] == "threads")[1]), iterations = int.Parse(table.Single(f => f[0] == "iterations")[1]), done = 0;
            List<string> steps = table.Where(f => f[0] == "step").Select(f => f[1]).ToList();
            Assert.That(threads > 0 && iterations > 0 && steps.Count > 0, Is.True, "tests/threads.txt");
            var errors = new List<Exception>();
            using (var start = new Barrier(threads))
            {
                var all = Enumerable.Range(0, threads).Select(t => new Thread(() =>
                {
                    try
                    {
                        start.SignalAndWait(TimeSpan.FromSeconds(30));
                        for (int i = 0; i < iterations; i++)
                        {
                            byte[] data = TestEnv.RandomBytes((t * 7919 + i * 104729) % 70000);
                            foreach (string step in steps)
                                ThreadStep(step, t, i, "t" + t + "/obj-" + i, data);
                        }
                        Interlocked.Add(ref done, iterations);
                    }
                    catch (Exception e)
                    {
                        lock (errors)
                            errors.Add(e);
                    }
                })).ToList();
                all.ForEach(th => th.Start());
                all.ForEach(th => th.Join());
            }
            Assert.That(errors, Is.Empty, string.Join("\n", errors.Select(e => e.ToString()).ToArray()));
            Assert.That(done, Is.EqualTo(threads * iterations));
        }

        /// <summary>One step of tests/threads.txt (its head says what each does).</summary>
        private void ThreadStep(string step, int t, int i, string name, byte[] data)
        {
            var sink = new MemoryStream();
            Func<byte[]> viaStream = () => { dest.Get(name, sink); return sink.ToArray(); };
            if (step == "put" && i % 2 == 0)
                dest.Put(name, data);
            else if (step == "put")
                dest.Put(name, new TestStream(new MemoryStream(data)));
            else if (step == "get")
                Assert.That(i % 2 == 1 ? dest.Get(name) : viaStream(), Is.EqualTo(data), name);
            else if (step == "stat")
            {
                RemoteEntry e = dest.Stat(name);
                Assert.That(new object[] { e.Size, e.ETag }, Is.EqualTo(new object[] { (long)data.Length, TestEnv.Md5Hex(data) }), name);
            }
            else if (step == "list")
                Assert.That(dest.List().Any(x => x.Name == "t" + t && x.IsFolder), Is.True, "t" + t + " is not listed");
            else if (step == "delete")
                dest.Delete(name);
            else if (step == "missing")
            {
                TestEnv.Throws<FileMissingException>(name, () => dest.Get(name, sink), OpenStackStatus.NotFound, 404);
                Assert.That(sink.Length, Is.EqualTo(0), "the output of a missing object was written");
            }
            else
                Assert.Fail("tests/threads.txt: unknown step " + step);
        }
    }
}
