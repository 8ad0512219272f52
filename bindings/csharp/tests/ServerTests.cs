// The binding against the real Swift + Keystone v3 of the test bed (tests/openstack/testbed.sh), its layer
// only: each kind of call and its Async form in as few round trips as clear, the values it converts, the
// library's errors on each path to an exception, exceptions from streams and callbacks rethrown as they are,
// progress and cancellation, callbacks that come back into the destination, the options dictionary and the
// logger, and the many-threads table (tests/threads.txt). What the library answers: tests/c/ (test_calls.inc:
// every call's status); Swift's semantics: tests/*.rs.
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
            dest = Created(new OpenStackDestination(TestEnv.V3Url(container)));
        }

        [OneTimeTearDown]
        public void EndFixture()
        {
            dest?.Dispose();
            if (container != null)
                SwiftAdmin.DeleteContainer(container);
        }

        private string NewName(string what) => what + "-" + Interlocked.Increment(ref counter) + ".bin";

        private static void AssertRecent(DateTime t) =>
            Assert.That(t.Kind == DateTimeKind.Utc && Math.Abs((DateTime.UtcNow - t).TotalMinutes) < 10, Is.True, "last modified " + t.ToString("o"));

        private static byte[] Slice(byte[] data, long offset, int length) => data.Skip((int)offset).Take(length).ToArray();

        private static OpenStackDestination Created(OpenStackDestination d)
        {
            d.CreateFolder();
            return d;
        }

        private static T Wait<T>(Task<T> t) => t.GetAwaiter().GetResult();

        private static void Wait(Task t) => t.GetAwaiter().GetResult();

        /// <summary>Runs <paramref name="body"/> on a destination of a container of its own, then removes the container.</summary>
        private static void InOwnContainer(string what, IDictionary<string, string> options, Action<OpenStackDestination> body, string prefix = "")
        {
            string c = TestEnv.UniqueContainer(what);
            try
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(c, prefix), options))
                    body(Created(d));
            }
            finally
            {
                SwiftAdmin.DeleteContainer(c, options != null && options.ContainsKey("openstack-versioning"));
                SwiftAdmin.DeleteContainer(c + "_segments");
            }
        }

        // ---------------------------------------------------------------- each kind of call, once

        /// <summary>Bytes both ways, Stat's RemoteEntry, Rename's two names, each form of GetRange, DeleteMany's count and
        /// DeleteManyException, empty data as an array and as streams, Quota's QuotaInfo. What Swift holds afterwards,
        /// ranges past the end: tests/c/test_server.inc t_put_get_bytes, t_get_range, t_delete_many.</summary>
        [Test]
        public void BytesRangesRenameDeleteManyQuota()
        {
            string name = NewName("bytes"), moved = NewName("moved");
            dest.Test();
            byte[] data = TestEnv.RandomBytes(100 * 1000 + 3);
            dest.Put(name, data);
            Assert.That(dest.Get(name), Is.EqualTo(data));
            RemoteEntry st = dest.Stat(name);
            Assert.That(new object[] { st.Name, st.Size, st.IsFolder, st.Kind, st.ETag }, Is.EqualTo(new object[] { name, (long)data.Length, false, EntryKind.Object, TestEnv.Md5Hex(data) }));
            AssertRecent(st.LastModified);
            dest.Rename(name, moved);
            Assert.That(dest.Get(moved), Is.EqualTo(data));

            Assert.That(dest.GetRange(moved, 12345, 777), Is.EqualTo(Slice(data, 12345, 777)));
            Assert.That(dest.GetRange(moved, 0, 0), Is.Empty);
            Assert.That(Wait(dest.GetRangeAsync(moved, 5, 10)), Is.EqualTo(Slice(data, 5, 10)));
            using (var cts = new CancellationTokenSource()) // a cancellable token: streamed
                Assert.That(Wait(dest.GetRangeAsync(moved, 50000, 4000, cts.Token)), Is.EqualTo(Slice(data, 50000, 4000)));
            var ms = new MemoryStream();
            dest.GetRange(moved, 99000, 1000, ms);
            Wait(dest.GetRangeAsync(moved, 0, 3, ms));
            Assert.That(ms.ToArray(), Is.EqualTo(Slice(data, 99000, 1000).Concat(Slice(data, 0, 3)).ToArray()));

            dest.Put(name, new byte[] { 2 });
            Assert.That(dest.DeleteMany(new[] { name, moved, "many/missing" }), Is.EqualTo(2));
            dest.Put("many/kept", new byte[] { 4 });
            DeleteManyException e = Assert.Throws<DeleteManyException>(() => dest.DeleteMany(new[] { "many/kept", "a/../b" }));
            Assert.That(new object[] { e.Deleted, e.Failures.Count, e.Failures[0].Key }, Is.EqualTo(new object[] { 1L, 1, "a/../b" }));
            Assert.That(((OpenStackException)e.Failures[0].Value).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));

            dest.Put(name, new byte[0]);
            Assert.That(dest.Get(name), Is.Empty);
            dest.Put(name, new MemoryStream());
            ms = new MemoryStream();
            dest.Get(name, ms);
            Assert.That(new[] { ms.Length, dest.Stat(name).Size }, Is.EqualTo(new[] { 0L, 0L }));
            dest.Delete(name);

            QuotaInfo q = dest.Quota();
            Assert.That(new[] { q.BytesUsed, q.ObjectCount, q.ContainerCount - 1 }, Is.All.GreaterThanOrEqualTo(0));
            Assert.That(new[] { q.QuotaBytes, q.FreeBytes }, Is.All.GreaterThanOrEqualTo(-1));
        }

        /// <summary>A seekable stream from its position (the rest is the size progress tells), non-seekable ones both
        /// ways, and progress reaching the Async forms' delegates up to the size.</summary>
        [Test]
        public void StreamsAndTheirProgress()
        {
            string name = NewName("stream");
            byte[] data = TestEnv.RandomBytes(MiB + 77);
            var totals = new List<long>();
            dest.Put(name, new MemoryStream(data) { Position = 1000 }, CancellationToken.None, (done, total) => totals.Add(total));
            var target = new MemoryStream();
            dest.Get(name, target);
            Assert.That(target.ToArray(), Is.EqualTo(data.Skip(1000).ToArray()));
            Assert.That(totals, Is.Not.Empty & Is.All.EqualTo(data.Length - 1000));
            data = TestEnv.RandomBytes(3 * MiB + 17);
            dest.Put(name, new TestStream(new MemoryStream(data)));
            target = new MemoryStream();
            dest.Get(name, new TestStream(target));
            Assert.That(target.ToArray(), Is.EqualTo(data));

            const int size = 5 * MiB;
            long up = -1, down = -1, downTotal = -2;
            Wait(dest.PutAsync(name, new TestStream(size, true), CancellationToken.None, (done, total) => up = done));
            target = new MemoryStream();
            Wait(dest.GetAsync(name, target, CancellationToken.None, (done, total) => { down = done; downTotal = total; }));
            Assert.That(new[] { up, down }, Is.EqualTo(new[] { size, size }));
            Assert.That(downTotal, Is.EqualTo(size).Or.EqualTo(-1));
            Assert.That(target.ToArray(), Is.EqualTo(TestStream.Pattern(size)));
            dest.Delete(name);
        }

        /// <summary>Files both ways with progress, Stat's FileTime, the Async forms, an upload cancelled from its progress
        /// (openstack-leave-segments keeps what it sent; no object) and SweepSegments' report. Progress's thread and
        /// order, file times restored: tests/c/test_server.inc t_segmented, t_files.</summary>
        [Test]
        public void FilesCancelAndSweep()
        {
            string src = Path.GetTempFileName(), dst = Path.GetTempFileName();
            var options = new Dictionary<string, string> { { "openstack-segment-size", "1MiB" }, { "openstack-leave-segments", "true" } };
            InOwnContainer("slo", options, d =>
            {
                const int size = 3 * MiB + 4321;
                byte[] data = TestEnv.RandomBytes(size);
                File.WriteAllBytes(src, data);
                var when = new DateTime(2020, 9, 13, 12, 26, 40, 123, DateTimeKind.Utc);
                File.SetLastWriteTimeUtc(src, when);
                long up = -1, down = -1;
                d.PutFile("big.bin", src, CancellationToken.None, (done, total) => up = done);
                Assert.That(d.Stat("big.bin").FileTime, Is.EqualTo(when));
                d.GetFile("big.bin", dst);
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));
                File.Delete(dst);
                Wait(d.PutFileAsync("big.bin", src));
                Wait(d.GetFileAsync("big.bin", dst, CancellationToken.None, (done, total) => down = done));
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));
                Assert.That(new[] { up, down }, Is.EqualTo(new[] { size, size }));
                d.Delete("big.bin");

                Cancels("PutFile", cts => { d.PutFile("cancelled.bin", src, cts.Token, (done, total) => { if (done >= MiB) cts.Cancel(); }); return null; });
                Assert.Throws<FileMissingException>(() => d.Stat("cancelled.bin"));
                SweepReport report = d.SweepSegments(TimeSpan.Zero);
                Assert.That(new[] { report.Removed, report.Bytes }, Is.All.GreaterThan(0));
            });
            File.Delete(src);
            File.Delete(dst);
        }

        /// <summary>PutOptions in (a dictionary, DateTime and TimeSpan expiries, NoExpiry) by each call that takes them,
        /// and RemoteEntry's metadata (a case-insensitive dictionary) and DeleteAt out. The rules: tests/metadata.rs.</summary>
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
            dest.PutFile(name, src, new PutOptions { Metadata = { { "f", "2" } } });
            File.Delete(src);
            Assert.That(dest.Stat(name).Metadata["f"], Is.EqualTo("2"));
            dest.UpdateMetadata(name, new PutOptions { NoExpiry = true, Metadata = { { "b", "3" } } });
            e = dest.Stat(name);
            Assert.That(new object[] { e.Metadata["b"], e.DeleteAt }, Is.EqualTo(new object[] { "3", DateTime.MinValue }));
            dest.Delete(name);
        }

        /// <summary>List, ListAsync, ForEach and Enumerate give the same RemoteEntry values (a .NET string out as UTF-8 and
        /// back) and pass prefix and recursive; a callback that stops or throws; leaving an enumeration early; DeleteFolder
        /// and an enumeration's error. The listing rules: tests/c/test_server.inc t_list_each, tests/real_swift.rs.</summary>
        [Test]
        public void ListingsAndDeleteFolder()
        {
            const string odd = "\u00fcn\u00ef-\u540d\u524d #?%+.txt";
            InOwnContainer("each", null, d =>
            {
                foreach (string n in new[] { "a.txt", "dir/b.txt", "dir/sub/c.txt", odd })
                    d.Put(n, Encoding.UTF8.GetBytes(n));
                Func<IEnumerable<RemoteEntry>, string> show = es => string.Join(",", es.Select(e => e.Name + (e.IsFolder ? "/" : "")));
                var each = new List<RemoteEntry>();
                d.ForEach(null, false, e => { each.Add(e); return true; });
                foreach (var listing in new[] { d.List(), Wait(d.ListAsync()), d.Enumerate().ToList(), each })
                    Assert.That(show(listing), Is.EqualTo("a.txt,dir/," + odd));
                Assert.That(new[] { show(d.List("dir/", true)), show(d.Enumerate("dir/", true)) }, Is.All.EqualTo("dir/b.txt,dir/sub/c.txt"));
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
                Assert.That(show(d.Enumerate("", true).Take(2)), Is.EqualTo("a.txt,dir/b.txt"));

                TestEnv.Throws<FolderNotEmptyException>("DeleteFolder", () => d.DeleteFolder(), OpenStackStatus.ContainerNotEmpty);
                d.DeleteFolder(true);
                TestEnv.Throws<FolderMissingException>("Enumerate", () => d.Enumerate("", true).ToList(), OpenStackStatus.ContainerNotFound);
            }, "pre/");
        }

        /// <summary>Versions: ObjectVersion values, read (bytes and stream), restored; a delete marker; none. Missing and
        /// bad versions: tests/c/test_server.inc t_versions, tests/versions.rs.</summary>
        [Test]
        public void VersionsRoundTrip()
        {
            InOwnContainer("versions", new Dictionary<string, string> { { "openstack-versioning", "true" } }, d =>
            {
                d.Put("v", new MemoryStream(new byte[] { 1 }));
                d.Put("v", new MemoryStream(new byte[] { 2, 2 }));
                IList<ObjectVersion> versions = d.ListVersions("v");
                Assert.That(versions.Select(v => v.Size + (v.IsCurrent ? " current" : "") + (v.IsDeleteMarker ? " marker" : "")), Is.EqualTo(new[] { "2 current", "1" }));
                AssertRecent(versions[1].LastModified);
                Assert.That(d.GetVersion("v", versions[1].VersionId), Is.EqualTo(new byte[] { 1 }));
                var ms = new MemoryStream();
                d.GetVersion("v", versions[0].VersionId, ms);
                Assert.That(ms.ToArray(), Is.EqualTo(new byte[] { 2, 2 }));
                d.Delete("v");
                Assert.That(d.ListVersions("v")[0].IsDeleteMarker && d.ListVersions("v")[0].IsCurrent, Is.True);
                d.RestoreVersion("v", versions[1].VersionId);
                Assert.That(d.Get("v"), Is.EqualTo(new byte[] { 1 }));
                Assert.That(d.ListVersions("nothing"), Is.Empty);
            });
        }

        // ---------------------------------------------------------------- errors, callbacks, cancellation

        /// <summary>A failure's message (with Swift's transaction id), status and HTTP status reach the exception on each
        /// way the binding makes one (a plain call, a stream transfer writing nothing, an Async form); here on an object
        /// just deleted. The listing's way: ListingsAndDeleteFolder; DeleteMany's: BytesRangesRenameDeleteManyQuota;
        /// each status's type: OfflineTests.EachStatusBecomesItsException.</summary>
        [Test]
        public void LibraryErrorsReachTheExceptionOnEachPath()
        {
            string name = NewName("gone");
            dest.Put(name, new byte[] { 1 });
            dest.Delete(name);
            var target = new MemoryStream();
            var calls = new Dictionary<string, TestDelegate>
            {
                { "Get", () => dest.Get(name) }, { "Get(stream)", () => dest.Get(name, target) }, { "GetAsync", () => Wait(dest.GetAsync(name, target)) },
            };
            foreach (var call in calls)
                TestEnv.Throws<FileMissingException>(call.Key, call.Value, OpenStackStatus.NotFound, 404, "(HTTP 404, transaction tx");
            Assert.That(target.Length, Is.EqualTo(0));
        }

        /// <summary>An exception from a source or target stream or a progress callback stops the transfer and comes out
        /// as the same instance; the destination stays usable.</summary>
        [Test]
        public void ExceptionsFromStreamsAndCallbacksAreRethrownAsTheyAre()
        {
            string name = NewName("boom");
            dest.Put(name, new TestStream(4 * MiB, true));
            var rows = new Dictionary<Exception, Action<Exception>>
            {
                { new IOException("source stream broke"), boom => dest.Put(NewName("boom-read"), TestStream.Failing(300 * 1024, boom)) },
                { new InvalidOperationException("PutAsync's source broke"), boom => Wait(dest.PutAsync(NewName("boom-read"), TestStream.Failing(10, boom))) },
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

        /// <summary>A token cancelled during a transfer (from its progress or its stream) stops it: the call ends with
        /// OperationCanceledException of that token (an Async one's task Canceled), long before the end.</summary>
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

        // ---------------------------------------------------------------- callbacks that come back in
        // A progress callback or a logger that disposes of the destination, and a logger that uses it: none may hang
        // the host (each runs on a task waited for with a timeout, so that a hang fails the test, not the run); a
        // Dispose from inside a call takes effect when the call returns.

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

        /// <summary>A destination opened from an options dictionary (an unknown option ignored) works; its logger gets lines
        /// of known levels at Debug, and may use or dispose of the destination logging. Which option wins and what the
        /// lines say: tests/c/test_server.inc t_options_map_and_quota, t_log_callback.</summary>
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
            var levels = new List<int>();
            // Any line logged during each call (destinations of one identity share one token: "authenticated" comes once).
            OpenStackDestination.SetLogger((level, line) =>
            {
                lock (levels)
                    levels.Add((int)level);
                try
                {
                    if (phase == 1 && Interlocked.Exchange(ref used, 1) == 0)
                        d.Quota(); // the line comes while the destination is inside a call
                    else if (phase == 2 && Interlocked.Exchange(ref closed, 1) == 0)
                        closer.Dispose();
                }
                catch (Exception e) { inLogger = e; }
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
            Assert.That(inLogger, Is.Null, inLogger == null ? "" : inLogger.ToString());
            Assert.That(new[] { used, closed }, Is.EqualTo(new[] { 1, 1 }));
            Assert.Throws<ObjectDisposedException>(() => closer.Test());
            d.Dispose();
            lock (levels)
                Assert.That(levels, Is.Not.Empty & Is.All.InRange(1, 4));
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
                    catch (Exception e) { lock (errors) errors.Add(e); }
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
