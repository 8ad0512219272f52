// The binding against the real Swift + Keystone v3 of the test bed (tests/openstack/testbed.sh): its
// layer only. One round trip of each call and its Async form, RemoteEntry/QuotaInfo/ObjectVersion
// values, statuses mapped to exceptions, streams, progress and cancellation, and the many-threads
// table (tests/threads.txt). Swift's semantics (names, listings and paging, large objects and their
// segments, rename, metadata rules, ranges, versions, regions, Keystone v2) are tested once, in Rust.
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
            if (dest != null)
                dest.Dispose();
            if (container != null)
                SwiftAdmin.DeleteContainer(container);
        }

        private string NewName(string what)
        {
            return what + "-" + Interlocked.Increment(ref counter) + ".bin";
        }

        private static void AssertRecent(DateTime t)
        {
            Assert.That(t.Kind, Is.EqualTo(DateTimeKind.Utc));
            Assert.That(Math.Abs((DateTime.UtcNow - t).TotalMinutes), Is.LessThan(10), "last modified " + t.ToString("o"));
        }

        private static void AssertStatus(OpenStackStatus status, TestDelegate call, string what, string inMessage = null)
        {
            OpenStackException e = null;
            try
            {
                call();
            }
            catch (OpenStackException caught)
            {
                e = caught;
            }
            Assert.That(e, Is.Not.Null, what + ": no OpenStackException");
            Assert.That(e.Status, Is.EqualTo(status), what + ": " + e.Message);
            if (inMessage != null)
                TextAssert.Contains(e.Message, inMessage);
        }

        private static byte[] Slice(byte[] data, long offset, int length)
        {
            var part = new byte[length];
            Array.Copy(data, offset, part, 0, length);
            return part;
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
            Assert.That(st.Name, Is.EqualTo(name));
            Assert.That(st.Size, Is.EqualTo(data.Length));
            Assert.That(st.IsFolder, Is.False);
            Assert.That(st.ETag, Is.EqualTo(TestEnv.Md5Hex(data)));
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
            Assert.That(q.BytesUsed, Is.GreaterThanOrEqualTo(0));
            Assert.That(q.ObjectCount, Is.GreaterThanOrEqualTo(0));
            Assert.That(q.ContainerCount, Is.GreaterThanOrEqualTo(1));
            Assert.That(q.QuotaBytes, Is.EqualTo(-1).Or.GreaterThanOrEqualTo(0));
            Assert.That(q.FreeBytes, Is.EqualTo(-1).Or.GreaterThanOrEqualTo(0));
        }

        [Test]
        public void SeekableStreamsFromTheirPositionAndNonSeekableOnes()
        {
            string name = NewName("seekable");
            byte[] data = TestEnv.RandomBytes(MiB + 77);
            var source = new MemoryStream(data);
            source.Position = 1000;
            dest.Put(name, source);
            var target = new MemoryStream();
            dest.Get(name, target);
            Assert.That(target.ToArray(), Is.EqualTo(data.Skip(1000).ToArray()));
            Assert.That(dest.Stat(name).ETag, Is.EqualTo(TestEnv.Md5Hex(data.Skip(1000).ToArray())));

            data = TestEnv.RandomBytes(3 * MiB + 17);
            dest.Put(name, new TestStream(new MemoryStream(data)));
            target = new MemoryStream();
            dest.Get(name, new TestStream(target));
            Assert.That(target.ToArray(), Is.EqualTo(data));
            dest.Delete(name);
        }

        [Test]
        public void StreamTransfersReportProgress()
        {
            string name = NewName("progress");
            const int size = 5 * MiB;
            var up = new List<long>();
            dest.PutAsync(name, new TestStream(size, true), CancellationToken.None, (done, total) => { lock (up) up.Add(done); })
                .GetAwaiter().GetResult();
            Assert.That(up.Count, Is.GreaterThan(0));
            Assert.That(up.Last(), Is.EqualTo(size));
            for (int i = 1; i < up.Count; i++)
                Assert.That(up[i], Is.GreaterThanOrEqualTo(up[i - 1]));
            long lastDone = -1, lastTotal = -2;
            var got = new MemoryStream();
            dest.GetAsync(name, got, CancellationToken.None, (done, total) => { lastDone = done; lastTotal = total; }).GetAwaiter().GetResult();
            Assert.That(lastDone, Is.EqualTo(size));
            Assert.That(lastTotal, Is.EqualTo(size).Or.EqualTo(-1));
            var expected = new MemoryStream();
            new TestStream(size, false).CopyTo(expected);
            Assert.That(got.ToArray(), Is.EqualTo(expected.ToArray()));
            dest.Delete(name);
        }

        [Test]
        public void FilesBothWaysWithProgressAndTheirTime()
        {
            string name = NewName("file");
            string src = Path.GetTempFileName(), dst = Path.GetTempFileName();
            try
            {
                byte[] data = TestEnv.RandomBytes(2 * MiB + 5);
                File.WriteAllBytes(src, data);
                var when = new DateTime(2020, 9, 13, 12, 26, 40, 123, DateTimeKind.Utc);
                File.SetLastWriteTimeUtc(src, when);
                long seen = -1;
                dest.PutFile(name, src, CancellationToken.None, (done, total) => seen = done);
                Assert.That(seen, Is.EqualTo(data.Length));
                Assert.That(dest.Stat(name).FileTime, Is.EqualTo(when));
                Assert.That(dest.List().First(e => e.Name == name).FileTime, Is.EqualTo(DateTime.MinValue), "unknown");
                dest.GetFile(name, dst);
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));
                Assert.That(File.GetLastWriteTimeUtc(dst), Is.EqualTo(when));

                File.Delete(dst);
                var log = new List<long>();
                dest.PutFileAsync(name, src).GetAwaiter().GetResult();
                dest.GetFileAsync(name, dst, CancellationToken.None, (done, total) => log.Add(done)).GetAwaiter().GetResult();
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));
                Assert.That(log.Last(), Is.EqualTo(data.Length));
                dest.Delete(name);
            }
            finally
            {
                File.Delete(src);
                File.Delete(dst);
            }
        }

        /// <summary>PutOptions in (a dictionary, DateTime and TimeSpan expiries) and RemoteEntry out.</summary>
        [Test]
        public void MetadataAndExpiry()
        {
            string name = NewName("meta");
            var options = new PutOptions { DeleteAfter = TimeSpan.FromDays(1) };
            options.Metadata["Backup-Set"] = "7";
            options.Metadata["color"] = "bl\u00fce 50%";
            dest.Put(name, new MemoryStream(new byte[] { 1, 2, 3 }), options);
            RemoteEntry e = dest.Stat(name);
            Assert.That(e.Metadata.Count, Is.EqualTo(2));
            Assert.That(e.Metadata["backup-set"], Is.EqualTo("7"));
            Assert.That(e.Metadata["Color"], Is.EqualTo("bl\u00fce 50%"));
            Assert.That(e.DeleteAt.Kind, Is.EqualTo(DateTimeKind.Utc));
            Assert.That(Math.Abs((e.DeleteAt - DateTime.UtcNow.AddDays(1)).TotalMinutes), Is.LessThan(3));

            var when = DateTime.UtcNow.AddDays(2);
            var o2 = new PutOptions { DeleteAt = when };
            o2.Metadata["a"] = "1";
            dest.Put(name, new byte[] { 9 }, o2);
            Assert.That(Math.Abs((dest.Stat(name).DeleteAt - when).TotalSeconds), Is.LessThan(2));
            string src = Path.GetTempFileName();
            try
            {
                File.WriteAllBytes(src, new byte[] { 4, 5 });
                dest.PutFile(name, src, o2);
                RemoteEntry f = dest.Stat(name);
                Assert.That(f.FileTime, Is.Not.EqualTo(DateTime.MinValue));
                Assert.That(f.Metadata["a"], Is.EqualTo("1"));
            }
            finally
            {
                File.Delete(src);
            }
            var u = new PutOptions();
            u.Metadata["b"] = "2";
            dest.UpdateMetadata(name, u);
            Assert.That(dest.Stat(name).Metadata["b"], Is.EqualTo("2"));
            dest.UpdateMetadata(name, new PutOptions { NoExpiry = true });
            Assert.That(dest.Stat(name).DeleteAt, Is.EqualTo(DateTime.MinValue));
            Assert.Throws<FileMissingException>(() => dest.UpdateMetadata(NewName("missing"), new PutOptions()));

            var bad = new PutOptions();
            bad.Metadata["mtime"] = "1";
            AssertStatus(OpenStackStatus.InvalidArgument, () => dest.Put(name + ".x", new byte[] { 1 }, bad), "reserved key");
            AssertStatus(OpenStackStatus.InvalidArgument, () => dest.Put(name + ".x", new byte[] { 1 },
                new PutOptions { DeleteAfter = TimeSpan.FromDays(1), NoExpiry = true }), "two expiries");
            Assert.Throws<FileMissingException>(() => dest.Stat(name + ".x"));
            dest.Delete(name);
        }

        /// <summary>List, ListAsync, ForEach, Enumerate and DeleteFolder on a container of their own; a
        /// .NET string out as UTF-8 and back.</summary>
        [Test]
        public void ListingsAndDeleteFolder()
        {
            string c = TestEnv.UniqueContainer("each");
            const string odd = "ünï-名前 #?%+.txt";
            string[] names = { "a.txt", "dir/b.txt", "dir/sub/c.txt", odd };
            try
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(c, "pre/")))
                {
                    d.CreateFolder();
                    foreach (string n in names)
                        d.Put(n, Encoding.UTF8.GetBytes(n));
                    Func<IEnumerable<RemoteEntry>, string> show =
                        es => string.Join(",", es.Select(e => e.Name + (e.IsFolder ? "/" : "")));
                    string top = "a.txt,dir/," + odd;
                    Assert.That(show(d.List()), Is.EqualTo(top));
                    Assert.That(show(d.ListAsync().GetAwaiter().GetResult()), Is.EqualTo(top));
                    Assert.That(show(d.List(null, true)), Is.EqualTo(string.Join(",", names)));
                    Assert.That(show(d.List("dir/")), Is.EqualTo("dir/b.txt,dir/sub/"));
                    RemoteEntry file = d.List().Single(e => e.Name == "a.txt"), folder = d.List().Single(e => e.IsFolder);
                    Assert.That(file.Size, Is.EqualTo(5));
                    Assert.That(file.ETag, Is.EqualTo(TestEnv.Md5Hex(Encoding.UTF8.GetBytes("a.txt"))));
                    AssertRecent(file.LastModified);
                    Assert.That(folder.Size, Is.EqualTo(-1));
                    Assert.That(d.Get(odd), Is.EqualTo(Encoding.UTF8.GetBytes(odd)));

                    // false from the callback ends the listing; an exception from it comes out unchanged.
                    var seen = new List<string>();
                    d.ForEach("", true, e => { seen.Add(e.Name); return seen.Count < 2; });
                    Assert.That(string.Join(",", seen), Is.EqualTo("a.txt,dir/b.txt"));
                    seen.Clear();
                    var boom = new InvalidOperationException("boom from the callback");
                    Exception thrown = Assert.Throws<InvalidOperationException>(() =>
                        d.ForEach("dir", true, e => { seen.Add(e.Name); throw boom; }));
                    Assert.That(thrown, Is.SameAs(boom));
                    Assert.That(string.Join(",", seen), Is.EqualTo("dir/b.txt"));
                    Assert.Throws<ArgumentNullException>(() => d.ForEach("", false, null));
                    AssertStatus(OpenStackStatus.InvalidArgument, () => d.List("bad\0prefix", true), "List of a NUL prefix");

                    // Lazily: the same entries; leaving early stops the listing.
                    Assert.That(show(d.Enumerate(null, true)), Is.EqualTo(string.Join(",", names)));
                    Assert.That(show(d.Enumerate()), Is.EqualTo(top));
                    Assert.That(show(d.Enumerate("dir", true).Take(2)), Is.EqualTo("dir/b.txt,dir/sub/c.txt"));
                    using (IEnumerator<RemoteEntry> it = d.Enumerate("", true).GetEnumerator())
                        Assert.That(it.MoveNext() && it.Current.Name == "a.txt", Is.True);
                    AssertStatus(OpenStackStatus.InvalidArgument, () => d.Enumerate("bad\0prefix"), "Enumerate of a NUL prefix");

                    FolderNotEmptyException full = Assert.Throws<FolderNotEmptyException>(() => d.DeleteFolder());
                    Assert.That(full.Status, Is.EqualTo(OpenStackStatus.ContainerNotEmpty));
                    d.DeleteFolder(true);
                    Assert.That(SwiftAdmin.ContainerExists(c), Is.False);
                    Assert.Throws<FolderMissingException>(() => d.DeleteFolder(true));
                    Assert.Throws<FolderMissingException>(() => d.Enumerate("", true).ToList());
                }
            }
            finally
            {
                SwiftAdmin.DeleteContainer(c);
            }
        }

        [Test]
        public void OptionsDictionaryOpensAndLoggerGetsNoPassword()
        {
            var options = new Dictionary<string, string>
            {
                { "auth-username", TestEnv.Require("OSD_USER") },
                { "auth-password", TestEnv.Require("OSD_PASSWORD") },
                { "openstack-tenant-name", TestEnv.Require("OSD_PROJECT") },
                { "openstack-domain-name", "Default" },
                { "openstack-authuri", TestEnv.Require("OSD_AUTH_V3") },
                { "unknown-option", "x" },
            };
            var lines = new List<KeyValuePair<LogLevel, string>>();
            OpenStackDestination.SetLogger((level, line) => { lock (lines) lines.Add(new KeyValuePair<LogLevel, string>(level, line)); }, LogLevel.Debug);
            try
            {
                using (var d = new OpenStackDestination("openstack://" + container + "/", options))
                {
                    d.Test();
                    d.Put(NewName("log"), new byte[] { 1 });
                }
                options["auth-password"] = "wrong-" + Guid.NewGuid().ToString("N"); // the URL's query wins
                using (var d = new OpenStackDestination(TestEnv.V3Url(container), options))
                    d.Test();
            }
            finally
            {
                OpenStackDestination.SetLogger(null);
            }
            lock (lines)
            {
                Assert.That(lines.Count, Is.GreaterThan(0), "no log line at Debug level for an authentication and a put");
                foreach (var l in lines)
                {
                    Assert.That((int)l.Key, Is.InRange(1, 4));
                    TextAssert.NotContains(l.Value, TestEnv.Require("OSD_PASSWORD"));
                }
            }
        }

        // ---------------------------------------------------------------- statuses as exceptions

        [Test]
        public void MissingObjectIsFileMissing()
        {
            string name = NewName("missing");
            FileMissingException e = Assert.Throws<FileMissingException>(() => dest.Get(name));
            Assert.That(e.HttpStatus, Is.EqualTo(404));
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.NotFound));
            Assert.That(e.Message, Is.Not.Empty);
            Assert.Throws<FileMissingException>(() => dest.Get(name, new MemoryStream()));
            Assert.Throws<FileMissingException>(() => dest.Stat(name));
            Assert.Throws<FileMissingException>(() => dest.Delete(name));
            Assert.Throws<FileMissingException>(() => dest.Rename(name, name + ".new"));
            Assert.Throws<FileMissingException>(() => dest.GetAsync(name, new MemoryStream()).GetAwaiter().GetResult());
        }

        [Test]
        public void MissingContainerIsFolderMissing()
        {
            string c = TestEnv.UniqueContainer("none");
            using (var d = new OpenStackDestination(TestEnv.V3Url(c)))
            {
                FolderMissingException e = Assert.Throws<FolderMissingException>(() => d.List());
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.ContainerNotFound));
                Assert.Throws<FolderMissingException>(() => d.Test());
                Assert.Throws<FolderMissingException>(() => d.Put("x", new byte[] { 1 }));
                Assert.Throws<FolderMissingException>(() => d.Put("x", new TestStream(new MemoryStream(new byte[10]))));
                Assert.Throws<FolderMissingException>(() => d.Get("x"));
                Assert.Throws<FolderMissingException>(() => d.ListAsync().GetAwaiter().GetResult());
            }
        }

        [Test]
        public void ReaderWritingIsForbidden()
        {
            string url = TestEnv.V3Url(container, "", TestEnv.Require("OSD_READER_USER"), TestEnv.Require("OSD_READER_PASSWORD"));
            using (var d = new OpenStackDestination(url))
            {
                OpenStackException e = Assert.Throws<OpenStackException>(() => d.Put(NewName("reader"), new byte[] { 1 }));
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.Forbidden));
                Assert.That(e.HttpStatus, Is.EqualTo(403));
                AssertStatus(OpenStackStatus.Forbidden, () => d.Put(NewName("reader"), new TestStream(new MemoryStream(new byte[100]))), "stream");
            }
        }

        // ---------------------------------------------------------------- callbacks and cancellation

        [Test]
        public void ExceptionFromSourceStreamIsRethrownAsIs()
        {
            string name = NewName("boom-read");
            var boom = new IOException("the source broke");
            IOException caught = Assert.Throws<IOException>(() => dest.Put(name, TestStream.Failing(300 * 1024, boom)));
            Assert.That(caught, Is.SameAs(boom));
            TextAssert.Contains(caught.StackTrace, "TestStream.Read");
            var boom2 = new InvalidOperationException("async source broke");
            Exception caught2 = Assert.Throws<InvalidOperationException>(
                () => dest.PutAsync(name, TestStream.Failing(10, boom2)).GetAwaiter().GetResult());
            Assert.That(caught2, Is.SameAs(boom2));
            Assert.Throws<FileMissingException>(() => dest.Stat(name), "an aborted upload must not leave an object");
        }

        [Test]
        public void ExceptionFromTargetStreamIsRethrownAsIs()
        {
            string name = NewName("boom-write");
            dest.Put(name, TestEnv.RandomBytes(MiB));
            var boom = new IOException("the disk is full");
            IOException caught = Assert.Throws<IOException>(() => dest.Get(name, TestStream.Failing(100 * 1024, boom)));
            Assert.That(caught, Is.SameAs(boom));
            Assert.That(dest.Get(name).Length, Is.EqualTo(MiB), "the destination is still usable");
            dest.Delete(name);
        }

        [Test]
        public void ExceptionFromProgressCallbackIsRethrownAsIs()
        {
            var boom = new ApplicationException("progress handler broke");
            ApplicationException caught = Assert.Throws<ApplicationException>(() =>
                dest.Put(NewName("boom-progress"), new TestStream(4 * MiB, false), CancellationToken.None, (done, total) => { throw boom; }));
            Assert.That(caught, Is.SameAs(boom));
        }

        [Test]
        public void CancellationStopsALargePutAsync()
        {
            string name = NewName("cancel-put");
            var source = new TestStream(1024L * MiB, false); // 1 GiB on the fly; must stop long before the end
            using (var cts = new CancellationTokenSource())
            {
                Task t = dest.PutAsync(name, source, cts.Token, (done, total) =>
                {
                    if (done >= 8 * MiB)
                        cts.Cancel();
                });
                Assert.Catch<OperationCanceledException>(() => t.GetAwaiter().GetResult());
                Assert.That(t.IsCanceled, Is.True, "the task ends Canceled");
            }
            Assert.That(source.TotalRead, Is.LessThan(256L * MiB), "read " + source.TotalRead + " bytes after cancelling");
            Assert.Throws<FileMissingException>(() => dest.Stat(name), "a cancelled upload must not leave an object");
        }

        [Test]
        public void CancellationRequestedWhileReadingStopsAPut()
        {
            var source = new TestStream(1024L * MiB, true);
            using (var cts = new CancellationTokenSource())
            {
                source.OnRead = pos => { if (pos >= 2 * MiB) cts.Cancel(); };
                OperationCanceledException e = Assert.Catch<OperationCanceledException>(() => dest.Put(NewName("cancel-read"), source, cts.Token));
                Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
            }
            Assert.That(source.TotalRead, Is.LessThan(256L * MiB));
        }

        [Test]
        public void CancellationStopsAGetAsync()
        {
            string name = NewName("cancel-get");
            dest.Put(name, new TestStream(32 * MiB, true));
            var target = new MemoryStream();
            using (var cts = new CancellationTokenSource())
            {
                Task t = dest.GetAsync(name, target, cts.Token, (done, total) => cts.Cancel());
                Assert.Catch<OperationCanceledException>(() => t.GetAwaiter().GetResult());
            }
            Assert.That(target.Length, Is.LessThan(32 * MiB));
            dest.Delete(name);
        }

        /// <summary>A file in 1 MiB segments: progress on the calling thread up to (size, size), then an upload
        /// cancelled from its progress (openstack-leave-segments keeps what it sent) and SweepSegments.</summary>
        [Test]
        public void SegmentedProgressOnTheCallingThreadCancelAndSweep()
        {
            string c = TestEnv.UniqueContainer("slo");
            string src = Path.GetTempFileName();
            try
            {
                const int size = 3 * MiB + 4321;
                File.WriteAllBytes(src, TestEnv.RandomBytes(size));
                var options = new Dictionary<string, string> { { "openstack-segment-size", "1MiB" }, { "openstack-leave-segments", "true" } };
                using (var d = new OpenStackDestination(TestEnv.V3Url(c), options))
                {
                    d.CreateFolder();
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
                    for (int i = 1; i < seen.Count; i++)
                        Assert.That(seen[i][0], Is.GreaterThanOrEqualTo(seen[i - 1][0]));
                    Assert.That(seen.All(p => p[1] == size), Is.True, "a total other than the object's size");
                    Assert.That(d.Stat("big.bin").Size, Is.EqualTo(size));
                    d.Delete("big.bin");

                    using (var cts = new CancellationTokenSource())
                    {
                        threads.Clear();
                        OperationCanceledException e = Assert.Catch<OperationCanceledException>(() =>
                            d.PutFile("cancelled.bin", src, cts.Token, (done, total) =>
                            {
                                threads.Add(Thread.CurrentThread.ManagedThreadId);
                                if (done >= MiB)
                                    cts.Cancel();
                            }));
                        Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
                        Assert.That(threads, Is.EquivalentTo(new[] { caller }));
                    }
                    Assert.Throws<FileMissingException>(() => d.Stat("cancelled.bin"));
                    Assert.That(d.SweepSegments(TimeSpan.FromDays(1)).Removed, Is.EqualTo(0), "within the grace period");
                    SweepReport report = d.SweepSegments(TimeSpan.Zero);
                    Assert.That(report.Removed, Is.GreaterThan(0));
                    Assert.That(report.Bytes, Is.GreaterThan(0));
                    Assert.That(d.SweepSegments(TimeSpan.Zero).Removed, Is.EqualTo(0));
                    Assert.Throws<ArgumentOutOfRangeException>(() => d.SweepSegments(TimeSpan.FromSeconds(-1)));
                }
            }
            finally
            {
                File.Delete(src);
                SwiftAdmin.DeleteContainer(c);
                SwiftAdmin.DeleteContainer(c + "_segments");
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
            Assert.That(dest.GetRange(name, data.Length, 0), Is.Empty);
            Assert.That(dest.GetRangeAsync(name, 5, 10).GetAwaiter().GetResult(), Is.EqualTo(Slice(data, 5, 10)));
            using (var cts = new CancellationTokenSource())
                Assert.That(dest.GetRangeAsync(name, 50000, 4000, cts.Token).GetAwaiter().GetResult(), Is.EqualTo(Slice(data, 50000, 4000)));
            var ms = new MemoryStream();
            dest.GetRange(name, 99000, 1000, ms);
            Assert.That(ms.ToArray(), Is.EqualTo(Slice(data, 99000, 1000)));
            // Past the end is the invalid-argument error, never a short read; the stream gets nothing.
            AssertStatus(OpenStackStatus.InvalidArgument, () => dest.GetRange(name, 0, data.Length + 1), "GetRange", "past the end");
            AssertStatus(OpenStackStatus.InvalidArgument, () => dest.GetRangeAsync(name, 10L * MiB, 1).GetAwaiter().GetResult(),
                "GetRangeAsync", "past the end");
            var untouched = new MemoryStream();
            AssertStatus(OpenStackStatus.InvalidArgument, () => dest.GetRange(name, data.Length - 10, 11, untouched), "GetRange(stream)", "past the end");
            Assert.That(untouched.Length, Is.EqualTo(0), "bytes written before the past-the-end error");
            Assert.Throws<FileMissingException>(() => dest.GetRange(NewName("missing"), 0, 1));
            dest.Delete(name);
        }

        [Test]
        public void ExceptionFromRangeTargetIsRethrownAndCancellationStopsIt()
        {
            string name = NewName("range-stream");
            dest.Put(name, new TestStream(4 * MiB, true));
            var boom = new IOException("target broke");
            IOException caught = Assert.Throws<IOException>(() => dest.GetRange(name, 0, 4 * MiB, TestStream.Failing(64 * 1024, boom)));
            Assert.That(caught, Is.SameAs(boom));
            using (var cts = new CancellationTokenSource())
            {
                var target = new TestStream(new MemoryStream()) { OnWrite = n => cts.Cancel() };
                Task t = dest.GetRangeAsync(name, 1, 4 * MiB - 1, target, cts.Token);
                OperationCanceledException e = Assert.Catch<OperationCanceledException>(() => t.GetAwaiter().GetResult());
                Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
                Assert.That(target.Written, Is.LessThan(4 * MiB - 1));
            }
            dest.Delete(name);
        }

        /// <summary>DeleteMany: present and missing names go, a bad name is reported with its own exception.</summary>
        [Test]
        public void DeleteManyReportsEachFailure()
        {
            string[] names = { "many/0", "many/1", "many/2", "many/missing" };
            for (int i = 0; i < 3; i++)
                dest.Put(names[i], new MemoryStream(new byte[] { 1, 2, 3 }));
            Assert.That(dest.DeleteMany(names), Is.EqualTo(3));
            Assert.That(dest.List("many/", true), Is.Empty);
            dest.Put("many/kept", new byte[] { 4 });
            DeleteManyException e = Assert.Throws<DeleteManyException>(() => dest.DeleteMany(new[] { "many/kept", "a/../b" }));
            Assert.That(e.Deleted, Is.EqualTo(1));
            Assert.That(e.Failures.Count, Is.EqualTo(1));
            Assert.That(e.Failures[0].Key, Is.EqualTo("a/../b"));
            Assert.That(((OpenStackException)e.Failures[0].Value).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
        }

        /// <summary>Versions: listed, read, restored; statuses become the documented exceptions.</summary>
        [Test]
        public void VersionsRoundTrip()
        {
            string c = TestEnv.UniqueContainer("versions");
            try
            {
                var options = new Dictionary<string, string> { { "openstack-versioning", "true" } };
                using (var d = new OpenStackDestination(TestEnv.V3Url(c), options))
                {
                    d.CreateFolder();
                    d.Put("v", new MemoryStream(new byte[] { 1 }));
                    d.Put("v", new MemoryStream(new byte[] { 2, 2 }));
                    IList<ObjectVersion> versions = d.ListVersions("v");
                    Assert.That(versions.Count, Is.EqualTo(2));
                    ObjectVersion now = versions[0], old = versions[1];
                    Assert.That(now.IsCurrent && !old.IsCurrent && !old.IsDeleteMarker, Is.True);
                    Assert.That(now.Size, Is.EqualTo(2));
                    Assert.That(old.Size, Is.EqualTo(1));
                    AssertRecent(old.LastModified);
                    Assert.That(d.GetVersion("v", old.VersionId), Is.EqualTo(new byte[] { 1 }));
                    var ms = new MemoryStream();
                    d.GetVersion("v", now.VersionId, ms);
                    Assert.That(ms.ToArray(), Is.EqualTo(new byte[] { 2, 2 }));
                    d.Delete("v");
                    ObjectVersion marker = d.ListVersions("v")[0];
                    Assert.That(marker.IsDeleteMarker && marker.IsCurrent, Is.True);
                    AssertStatus(OpenStackStatus.InvalidArgument, () => d.RestoreVersion("v", marker.VersionId), "marker", "delete marker");
                    d.RestoreVersion("v", old.VersionId);
                    Assert.That(d.Get("v"), Is.EqualTo(new byte[] { 1 }));
                    foreach (string id in new[] { "", "1&x=2", "a\0b" })
                    {
                        AssertStatus(OpenStackStatus.InvalidArgument, () => d.GetVersion("v", id), "GetVersion " + id);
                        AssertStatus(OpenStackStatus.InvalidArgument, () => d.RestoreVersion("v", id), "RestoreVersion " + id);
                    }
                    Assert.Throws<ArgumentNullException>(() => d.RestoreVersion("v", null));
                    Assert.Throws<FileMissingException>(() => d.GetVersion("v", "1796585440.42492"));
                    Assert.Throws<FileMissingException>(() => d.RestoreVersion("v", "1796585440.42492"));
                    Assert.That(d.ListVersions("nothing"), Is.Empty);
                }
            }
            finally
            {
                SwiftAdmin.DeleteVersionedContainer(c);
            }
        }

        // ---------------------------------------------------------------- many threads: tests/threads.txt

        [Test]
        public void ThreadsShareOneDestination()
        {
            int threads = 0, iterations = 0;
            var steps = new List<string>();
            foreach (string[] f in TestEnv.TableRows("tests/threads.txt"))
            {
                if (f[0] == "threads")
                    threads = int.Parse(f[1]);
                else if (f[0] == "iterations")
                    iterations = int.Parse(f[1]);
                else if (f[0] == "step")
                    steps.Add(f[1]);
                else
                    Assert.Fail("tests/threads.txt: unknown line " + string.Join("\t", f));
            }
            Assert.That(threads > 0 && iterations > 0 && steps.Count > 0, Is.True, "tests/threads.txt");
            var errors = new List<Exception>();
            int done = 0;
            using (var start = new Barrier(threads))
            {
                var all = Enumerable.Range(0, threads).Select(t => new Thread(() =>
                {
                    try
                    {
                        start.SignalAndWait(TimeSpan.FromSeconds(30));
                        for (int i = 0; i < iterations; i++)
                        {
                            string name = "t" + t + "/obj-" + i;
                            byte[] data = TestEnv.RandomBytes((t * 7919 + i * 104729) % 70000);
                            foreach (string step in steps)
                                ThreadStep(step, t, i, name, data);
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

        private void ThreadStep(string step, int t, int i, string name, byte[] data)
        {
            var sink = new MemoryStream();
            switch (step)
            {
                case "put":
                    if (i % 2 == 0)
                        dest.Put(name, data);
                    else
                        dest.Put(name, new TestStream(new MemoryStream(data)));
                    break;
                case "get":
                    if (i % 2 == 1)
                    {
                        Assert.That(dest.Get(name), Is.EqualTo(data), name);
                        break;
                    }
                    dest.Get(name, sink);
                    Assert.That(sink.ToArray(), Is.EqualTo(data), name);
                    break;
                case "stat":
                    RemoteEntry e = dest.Stat(name);
                    Assert.That(e.Size, Is.EqualTo(data.Length), name);
                    Assert.That(e.ETag, Is.EqualTo(TestEnv.Md5Hex(data)), name);
                    break;
                case "list":
                    Assert.That(dest.List().Any(x => x.Name == "t" + t && x.IsFolder), Is.True, "t" + t + " is not listed");
                    break;
                case "delete":
                    dest.Delete(name);
                    break;
                case "missing":
                    FileMissingException missing = Assert.Throws<FileMissingException>(() => dest.Get(name, sink));
                    Assert.That(missing.HttpStatus, Is.EqualTo(404));
                    Assert.That(missing.Message, Is.Not.Empty);
                    Assert.That(sink.Length, Is.EqualTo(0), "the output of a missing object was written");
                    break;
                default:
                    Assert.Fail("tests/threads.txt: unknown step " + step);
                    break;
            }
        }
    }
}
