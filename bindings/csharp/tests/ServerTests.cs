// The binding against the real Swift + Keystone v3 of the test bed (tests/openstack/testbed.sh):
// every method and its Async form, RemoteEntry/QuotaInfo values, exceptions mapped from statuses,
// streams and callbacks that throw or cancel, threads. Swift's semantics (names, paging, prefixes,
// rename, regions, Keystone v2 and domains) are tested once, in Rust (tests/real_swift.rs).
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
    /// <summary>Collects the bytes done of a progress callback.</summary>
    internal sealed class ProgressLog
    {
        internal readonly List<long> Values = new List<long>();

        /// <summary>The callback to hand to a transfer.</summary>
        internal Action<long, long> Action
        {
            get { return (done, total) => { lock (Values) Values.Add(done); }; }
        }
    }

    [TestFixture]
    public class ServerTests
    {
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

        // ---------------------------------------------------------------- every method

        [Test]
        public void TestAndCreateFolderSucceed()
        {
            dest.Test();
            dest.CreateFolder(); // idempotent
        }

        [Test]
        public void PutAndGetBytes()
        {
            string name = NewName("bytes");
            byte[] data = TestEnv.RandomBytes(100 * 1024 + 3);
            dest.Put(name, data);
            Assert.That(dest.Get(name), Is.EqualTo(data));
            dest.Put(name, new byte[] { 1, 2, 3 }); // overwrite
            Assert.That(dest.Get(name), Is.EqualTo(new byte[] { 1, 2, 3 }));
            dest.Delete(name);
        }

        [Test]
        public void EmptyObjectRoundTrips()
        {
            string name = NewName("empty");
            dest.Put(name, new byte[0]);
            Assert.That(dest.Get(name).Length, Is.EqualTo(0));
            Assert.That(dest.Stat(name).Size, Is.EqualTo(0));
            var ms = new MemoryStream();
            dest.Get(name, ms);
            Assert.That(ms.Length, Is.EqualTo(0));
            dest.Put(name, new MemoryStream());
            Assert.That(dest.Stat(name).Size, Is.EqualTo(0));
            dest.Delete(name);
        }

        [Test]
        public void SeekableStreamIsUploadedFromItsCurrentPosition()
        {
            string name = NewName("seekable");
            byte[] data = TestEnv.RandomBytes(1024 * 1024 + 77);
            var source = new MemoryStream(data);
            source.Position = 1000;
            dest.Put(name, source);
            var target = new MemoryStream();
            dest.Get(name, target);
            Assert.That(target.ToArray(), Is.EqualTo(data.Skip(1000).ToArray()));
            RemoteEntry st = dest.Stat(name);
            Assert.That(st.Size, Is.EqualTo(data.Length - 1000));
            Assert.That(st.ETag, Is.EqualTo(TestEnv.Md5Hex(data.Skip(1000).ToArray())));
            dest.Delete(name);
        }

        [Test]
        public void NonSeekableStreamPut()
        {
            string name = NewName("nonseekable");
            byte[] data = TestEnv.RandomBytes(3 * 1024 * 1024 + 17);
            var source = new NonSeekableStream(new MemoryStream(data));
            Assert.That(source.CanSeek, Is.False);
            dest.Put(name, source);
            var ms = new MemoryStream();
            dest.Get(name, new NonSeekableStream(ms));
            Assert.That(ms.ToArray(), Is.EqualTo(data));
            Assert.That(dest.Stat(name).ETag, Is.EqualTo(TestEnv.Md5Hex(data)));
            dest.Delete(name);
        }

        [Test]
        public void StreamTransfersReportProgress()
        {
            string name = NewName("progress");
            const int size = 5 * 1024 * 1024;
            var up = new ProgressLog();
            dest.PutAsync(name, new PatternStream(size, true), CancellationToken.None, up.Action).GetAwaiter().GetResult();
            Assert.That(up.Values.Count, Is.GreaterThan(0));
            Assert.That(up.Values.Last(), Is.EqualTo(size));
            for (int i = 1; i < up.Values.Count; i++)
                Assert.That(up.Values[i], Is.GreaterThanOrEqualTo(up.Values[i - 1]));

            long lastDone = -1, lastTotal = -2;
            var hs = new HashingStream();
            dest.GetAsync(name, hs, CancellationToken.None, (done, total) => { lastDone = done; lastTotal = total; }).GetAwaiter().GetResult();
            Assert.That(lastDone, Is.EqualTo(size));
            Assert.That(lastTotal, Is.EqualTo(size).Or.EqualTo(-1));
            Assert.That(hs.Finish(), Is.EqualTo(PatternStream.Sha256Of(size)));
            dest.Delete(name);
        }

        [Test]
        public void FileTimeAnotherWriterSetIsValidOrUnknown()
        {
            // Milliseconds written as seconds, past year 9999, and a value whose milliseconds wrap a
            // 64-bit number to 384 ms after the epoch: unknown (DateTime.MinValue), never a wrong time.
            string name = NewName("foreign-time");
            dest.Put(name, new byte[] { 1, 2, 3 });
            foreach (string v in new[] { "18446744073709552", "1000000000000", "253402300800" })
            {
                SwiftAdmin.PostObject(container, name, "X-Object-Meta-Mtime", v);
                RemoteEntry e = dest.Stat(name);
                Assert.That(e.FileTime, Is.EqualTo(DateTime.MinValue), v);
                Assert.That(e.Size, Is.EqualTo(3), v);
                Assert.That(e.LastModified, Is.GreaterThan(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)), v);
            }
            dest.Delete(name);
        }

        [Test]
        public void FileTimesRoundTrip()
        {
            string name = NewName("time");
            string src = Path.GetTempFileName();
            string dst = Path.GetTempFileName();
            try
            {
                File.WriteAllBytes(src, TestEnv.RandomBytes(1000));
                var when = new DateTime(2020, 9, 13, 12, 26, 40, 123, DateTimeKind.Utc);
                File.SetLastWriteTimeUtc(src, when);
                dest.PutFile(name, src);
                Assert.That(dest.Stat(name).FileTime, Is.EqualTo(when));
                Assert.That(dest.List().First(e => e.Name == name).FileTime, Is.EqualTo(DateTime.MinValue));
                dest.GetFile(name, dst);
                Assert.That(File.GetLastWriteTimeUtc(dst), Is.EqualTo(when));
                dest.Delete(name);
            }
            finally
            {
                File.Delete(src);
                File.Delete(dst);
            }
        }

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
            // What Swift stores, as any other client sees it.
            var h = SwiftAdmin.ObjectHeaders(container, name);
            Assert.That(h["X-Object-Meta-Backup-Set"], Is.EqualTo("7"));
            long at = (long)(e.DeleteAt - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;
            Assert.That(h["X-Delete-At"], Is.EqualTo(at.ToString()));
            Assert.That(dest.List().First(x => x.Name == name).Metadata.Count, Is.EqualTo(0));

            // Bytes and a file, and an absolute time.
            var when = DateTime.UtcNow.AddDays(2);
            var o2 = new PutOptions { DeleteAt = when };
            o2.Metadata["a"] = "1";
            dest.Put(name + ".b", new byte[] { 9 }, o2);
            Assert.That(Math.Abs((dest.Stat(name + ".b").DeleteAt - when).TotalSeconds), Is.LessThan(2));
            string src = Path.GetTempFileName();
            try
            {
                File.WriteAllBytes(src, new byte[] { 4, 5 });
                dest.PutFile(name + ".f", src, o2);
                RemoteEntry f = dest.Stat(name + ".f");
                Assert.That(f.FileTime, Is.Not.EqualTo(DateTime.MinValue));
                Assert.That(f.Metadata["a"], Is.EqualTo("1"));

                // An update sets, removes and keeps the rest (the file time, the expiry).
                var u = new PutOptions();
                u.Metadata["a"] = "";
                u.Metadata["b"] = "2";
                dest.UpdateMetadata(name + ".f", u);
                RemoteEntry f2 = dest.Stat(name + ".f");
                Assert.That(f2.Metadata.Keys, Is.EquivalentTo(new[] { "b" }));
                Assert.That(f2.FileTime, Is.EqualTo(f.FileTime));
                Assert.That(f2.DeleteAt, Is.EqualTo(f.DeleteAt));
                dest.UpdateMetadata(name + ".f", new PutOptions { NoExpiry = true });
                Assert.That(dest.Stat(name + ".f").DeleteAt, Is.EqualTo(DateTime.MinValue));
            }
            finally
            {
                File.Delete(src);
            }
            Assert.Throws<FileMissingException>(() => dest.UpdateMetadata(NewName("missing"), new PutOptions()));

            // Bad input: the InvalidArgument OpenStackException, and nothing stored.
            var bad = new PutOptions();
            bad.Metadata["mtime"] = "1";
            var ex = Assert.Throws<OpenStackException>(() => dest.Put(name + ".x", new byte[] { 1 }, bad));
            Assert.That(ex.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            var crlf = new PutOptions();
            crlf.Metadata["k"] = "a\r\nX-Injected: 1";
            ex = Assert.Throws<OpenStackException>(() => dest.Put(name + ".x", new MemoryStream(new byte[] { 1 }), crlf));
            Assert.That(ex.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            ex = Assert.Throws<OpenStackException>(() => dest.Put(name + ".x", new byte[] { 1 },
                new PutOptions { DeleteAfter = TimeSpan.FromDays(1), NoExpiry = true }));
            Assert.That(ex.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.Throws<FileMissingException>(() => dest.Stat(name + ".x"));
            foreach (string n in new[] { name, name + ".b", name + ".f" })
                dest.Delete(n);
        }

        [Test]
        public void PutFileAndGetFile()
        {
            string name = NewName("file");
            string src = Path.GetTempFileName();
            string dst = Path.GetTempFileName();
            try
            {
                byte[] data = TestEnv.RandomBytes(2 * 1024 * 1024 + 5);
                File.WriteAllBytes(src, data);
                long seen = -1;
                dest.PutFile(name, src, CancellationToken.None, (done, total) => seen = done);
                Assert.That(seen, Is.EqualTo(data.Length));
                dest.GetFile(name, dst);
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));

                File.Delete(dst);
                var log = new ProgressLog();
                dest.PutFileAsync(name, src).GetAwaiter().GetResult();
                dest.GetFileAsync(name, dst, CancellationToken.None, log.Action).GetAwaiter().GetResult();
                Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));
                Assert.That(log.Values.Last(), Is.EqualTo(data.Length));
                dest.Delete(name);
            }
            finally
            {
                File.Delete(src);
                File.Delete(dst);
            }
        }

        [Test]
        public void ListShowsFilesAndFoldersRelativeToThePrefix()
        {
            string prefix = "listing-" + Interlocked.Increment(ref counter) + "/";
            using (var d = new OpenStackDestination(TestEnv.V3Url(container, prefix)))
            {
                byte[] a = Encoding.UTF8.GetBytes("abc");
                const string odd = "ünï-名前 #?%+.txt"; // a .NET string out as UTF-8 and back
                d.Put("a.txt", a);
                d.Put(odd, a);
                d.Put("sub/b.txt", new byte[] { 9 });
                foreach (IList<RemoteEntry> list in new[] { d.List(), d.ListAsync().GetAwaiter().GetResult() })
                {
                    Assert.That(list.Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray(),
                        Is.EqualTo(new[] { "a.txt", "sub", odd }));
                    RemoteEntry file = list.Single(e => e.Name == "a.txt");
                    Assert.That(file.IsFolder, Is.False);
                    Assert.That(file.Size, Is.EqualTo(3));
                    Assert.That(file.ETag, Is.EqualTo(TestEnv.Md5Hex(a)));
                    AssertRecent(file.LastModified);
                    RemoteEntry folder = list.Single(e => e.Name == "sub");
                    Assert.That(folder.IsFolder, Is.True);
                    Assert.That(folder.Size, Is.EqualTo(-1));
                }
                Assert.That(d.Get(odd), Is.EqualTo(a));
                d.Delete("a.txt");
                d.Delete(odd);
                d.Delete("sub/b.txt");
                Assert.That(d.List().Count, Is.EqualTo(0));
            }
        }

        [Test]
        public void StatReportsSizeEtagAndUtcTime()
        {
            string name = NewName("stat");
            byte[] data = TestEnv.RandomBytes(4321);
            dest.Put(name, data);
            foreach (RemoteEntry st in new[] { dest.Stat(name) })
            {
                Assert.That(st.Name, Is.EqualTo(name));
                Assert.That(st.Size, Is.EqualTo(4321));
                Assert.That(st.IsFolder, Is.False);
                Assert.That(st.ETag, Is.EqualTo(TestEnv.Md5Hex(data)));
                AssertRecent(st.LastModified);
            }
            dest.Delete(name);
        }

        [Test]
        public void DeleteRemovesTheObject()
        {
            string name = NewName("delete");
            dest.Put(name, new byte[] { 1 });
            dest.Delete(name);
            Assert.Throws<FileMissingException>(() => dest.Stat(name));
            dest.Put(name, new byte[] { 1 });
            dest.Delete(name);
            Assert.Throws<FileMissingException>(() => dest.Get(name));
        }

        [Test]
        public void RenameMovesTheObject()
        {
            string from = NewName("from"), to = NewName("to"), again = NewName("again");
            byte[] data = TestEnv.RandomBytes(2000);
            dest.Put(from, data);
            dest.Rename(from, to);
            Assert.Throws<FileMissingException>(() => dest.Stat(from));
            Assert.That(dest.Get(to), Is.EqualTo(data));
            dest.Rename(to, again);
            Assert.That(dest.Get(again), Is.EqualTo(data));
            Assert.Throws<FileMissingException>(() => dest.Get(to));
            dest.Delete(again);
        }

        [Test]
        public void NulInANameNeverReachesTheObjectBeforeIt()
        {
            // "keep\0x" cut at its NUL would name "keep": delete, overwrite, read or move it.
            string keep = NewName("keep"), other = NewName("other");
            byte[] data = { 7, 7, 7 };
            dest.Put(keep, data);
            dest.Put(other, new byte[] { 9 });
            string cut = keep + "\0x";
            Assert.That(Assert.Throws<OpenStackException>(() => dest.Delete(cut)).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.That(Assert.Throws<OpenStackException>(() => dest.Put(cut, new byte[] { 1 })).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.That(Assert.Throws<OpenStackException>(() => dest.Put(cut, new MemoryStream(new byte[] { 1 }))).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.That(Assert.Throws<OpenStackException>(() => dest.Get(cut)).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.That(Assert.Throws<OpenStackException>(() => dest.Stat(cut)).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.That(Assert.Throws<OpenStackException>(() => dest.Rename(cut, keep + ".moved")).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.That(Assert.Throws<OpenStackException>(() => dest.Rename(other, cut)).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            Assert.That(dest.Get(keep), Is.EqualTo(data), "the object before the NUL was changed");
            Assert.That(dest.Get(other), Is.EqualTo(new byte[] { 9 }), "the rename source was moved");
            Assert.Throws<FileMissingException>(() => dest.Stat(keep + ".moved"));
            dest.Delete(keep);
            dest.Delete(other);
        }

        [Test]
        public void QuotaReportsAccountUsage()
        {
            dest.Put(NewName("quota"), new byte[10]);
            foreach (QuotaInfo q in new[] { dest.Quota() })
            {
                Assert.That(q.BytesUsed, Is.GreaterThanOrEqualTo(0));
                Assert.That(q.ObjectCount, Is.GreaterThanOrEqualTo(0));
                Assert.That(q.ContainerCount, Is.GreaterThanOrEqualTo(0));
                Assert.That(q.QuotaBytes, Is.EqualTo(-1).Or.GreaterThanOrEqualTo(0));
                Assert.That(q.FreeBytes, Is.EqualTo(-1).Or.GreaterThanOrEqualTo(0));
            }
        }

        [Test]
        public void OptionsDictionaryAndQueryPrecedence()
        {
            var options = new Dictionary<string, string>
            {
                { "auth-username", TestEnv.Require("OSD_USER") },
                { "auth-password", TestEnv.Require("OSD_PASSWORD") },
                { "openstack-tenant-name", TestEnv.Require("OSD_PROJECT") },
                { "openstack-domain-name", "Default" },
                { "openstack-authuri", TestEnv.Require("OSD_AUTH_V3") },
                { "openstack-version", "v3" },
                { "unknown-option", "x" },
            };
            using (var d = new OpenStackDestination("openstack://" + container + "/", options))
                d.Test();
            // the URL's query wins over a wrong password in the dictionary
            options["auth-password"] = "wrong-" + Guid.NewGuid().ToString("N");
            using (var d = new OpenStackDestination(TestEnv.V3Url(container), options))
                d.Test();
        }

        [Test]
        public void LoggerReceivesLinesWithoutSecrets()
        {
            var lines = new List<KeyValuePair<LogLevel, string>>();
            OpenStackDestination.SetLogger((level, line) => { lock (lines) lines.Add(new KeyValuePair<LogLevel, string>(level, line)); }, LogLevel.Debug);
            try
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(container)))
                {
                    d.Test();
                    d.Put(NewName("log"), new byte[] { 1 });
                }
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

        // ---------------------------------------------------------------- errors

        [Test]
        public void MissingObjectIsFileMissing()
        {
            string name = NewName("missing");
            Assert.That(Assert.Throws<FileMissingException>(() => dest.Get(name)).HttpStatus, Is.EqualTo(404));
            Assert.Throws<FileMissingException>(() => dest.Get(name, new MemoryStream()));
            Assert.Throws<FileMissingException>(() => dest.Stat(name));
            Assert.Throws<FileMissingException>(() => dest.Delete(name));
            Assert.Throws<FileMissingException>(() => dest.Rename(name, name + ".new"));
            Assert.Throws<FileMissingException>(() => dest.GetAsync(name, new MemoryStream()).GetAwaiter().GetResult());
            FileMissingException e = Assert.Throws<FileMissingException>(() => dest.Stat(name));
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.NotFound));
            Assert.That(e, Is.InstanceOf<OpenStackException>());
            Assert.That(e.Message, Is.Not.Empty);
        }

        [Test]
        public void ListEachAndDeleteFolderRoundTrip()
        {
            string c = TestEnv.UniqueContainer("each");
            string[] names = { "a.txt", "dir/b.txt", "dir/sub/c.txt", "dir2/d.txt", "e.txt" };
            try
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(c, "pre/")))
                {
                    d.CreateFolder();
                    foreach (string n in names)
                        d.Put(n, Encoding.UTF8.GetBytes(n));
                    Func<IEnumerable<RemoteEntry>, string> show =
                        es => string.Join(",", es.Select(e => e.Name + (e.IsFolder ? "/" : "")));
                    Assert.That(show(d.List()), Is.EqualTo("a.txt,dir/,dir2/,e.txt"));
                    Assert.That(show(d.List("", false)), Is.EqualTo("a.txt,dir/,dir2/,e.txt"));
                    Assert.That(show(d.List(null, true)), Is.EqualTo(string.Join(",", names)));
                    Assert.That(show(d.List("dir/")), Is.EqualTo("dir/b.txt,dir/sub/"));
                    Assert.That(show(d.List("dir/sub", true)), Is.EqualTo("dir/sub/c.txt"));
                    RemoteEntry c1 = d.List("dir/sub/", true).Single();
                    Assert.That(c1.Size, Is.EqualTo(Encoding.UTF8.GetByteCount("dir/sub/c.txt")));
                    Assert.That(c1.ETag, Is.EqualTo(TestEnv.Md5Hex(Encoding.UTF8.GetBytes("dir/sub/c.txt"))));
                    AssertRecent(c1.LastModified);

                    // Stop early: false from the callback ends the listing without an error.
                    var seen = new List<string>();
                    d.ForEach("", true, e => { seen.Add(e.Name); return seen.Count < 2; });
                    Assert.That(string.Join(",", seen), Is.EqualTo("a.txt,dir/b.txt"));
                    // An exception from the callback stops it too and comes out unchanged.
                    seen.Clear();
                    var boom = new InvalidOperationException("boom from the callback");
                    Exception thrown = Assert.Throws<InvalidOperationException>(() =>
                        d.ForEach("dir", true, e => { seen.Add(e.Name); throw boom; }));
                    Assert.That(thrown, Is.SameAs(boom));
                    Assert.That(string.Join(",", seen), Is.EqualTo("dir/b.txt"));
                    Assert.Throws<ArgumentNullException>(() => d.ForEach("", false, null));
                    Assert.That(Assert.Throws<OpenStackException>(() => d.List("bad\0prefix", true)).Status,
                        Is.EqualTo(OpenStackStatus.InvalidArgument));

                    // Lazily, through Enumerate: the same entries; leaving early stops the listing.
                    Assert.That(show(d.Enumerate(null, true)), Is.EqualTo(string.Join(",", names)));
                    Assert.That(show(d.Enumerate()), Is.EqualTo("a.txt,dir/,dir2/,e.txt"));
                    Assert.That(show(d.Enumerate("dir", true).Take(2)), Is.EqualTo("dir/b.txt,dir/sub/c.txt"));
                    using (IEnumerator<RemoteEntry> it = d.Enumerate("", true).GetEnumerator())
                    {
                        Assert.That(it.MoveNext() && it.Current.Name == "a.txt", Is.True);
                    }
                    Assert.That(Assert.Throws<OpenStackException>(() => d.Enumerate("bad\0prefix")).Status,
                        Is.EqualTo(OpenStackStatus.InvalidArgument));

                    // A container with objects is refused, then emptied on request.
                    FolderNotEmptyException full = Assert.Throws<FolderNotEmptyException>(() => d.DeleteFolder());
                    Assert.That(full.Status, Is.EqualTo(OpenStackStatus.ContainerNotEmpty));
                    Assert.That(d.List(null, true).Count, Is.EqualTo(names.Length));
                    d.DeleteFolder(true);
                    Assert.That(SwiftAdmin.ContainerExists(c), Is.False);
                    Assert.Throws<FolderMissingException>(() => d.DeleteFolder(true));
                    Assert.Throws<FolderMissingException>(() => d.List("", true));
                    Assert.Throws<FolderMissingException>(() => d.Enumerate("", true).ToList());
                }
            }
            finally
            {
                SwiftAdmin.DeleteContainer(c);
            }
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
                Assert.Throws<FolderMissingException>(() => d.Put("x", new NonSeekableStream(new MemoryStream(new byte[10]))));
                Assert.Throws<FolderMissingException>(() => d.Get("x"));
                Assert.Throws<FolderMissingException>(() => d.ListAsync().GetAwaiter().GetResult());
            }
            Assert.That(SwiftAdmin.ContainerExists(c), Is.False);
        }

        [Test]
        public void WrongPasswordIsAuthError()
        {
            string wrong = "wrong-" + Guid.NewGuid().ToString("N");
            OpenStackException e = Assert.Throws<OpenStackException>(() =>
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(container, "", null, wrong)))
                    d.Test();
            });
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.Auth));
            Assert.That(e.HttpStatus, Is.EqualTo(401));
            TextAssert.NotContains(e.Message, wrong);
            TextAssert.NotContains(e.ToString(), wrong);
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
                e = Assert.Throws<OpenStackException>(() => d.Put(NewName("reader"), new NonSeekableStream(new MemoryStream(new byte[100]))));
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.Forbidden));
            }
        }

        // ---------------------------------------------------------------- callbacks

        [Test]
        public void ExceptionFromSourceStreamIsRethrownAsIs()
        {
            string name = NewName("boom-read");
            var boom = new IOException("the source broke");
            IOException caught = Assert.Throws<IOException>(() => dest.Put(name, new FailingStream(300 * 1024, boom)));
            Assert.That(caught, Is.SameAs(boom));
            TextAssert.Contains(caught.StackTrace, "FailingStream.Read");
            var boom2 = new InvalidOperationException("async source broke");
            Exception caught2 = Assert.Throws<InvalidOperationException>(
                () => dest.PutAsync(name, new FailingStream(10, boom2)).GetAwaiter().GetResult());
            Assert.That(caught2, Is.SameAs(boom2));
            Assert.Throws<FileMissingException>(() => dest.Stat(name), "an aborted upload must not leave an object");
        }

        [Test]
        public void ExceptionFromTargetStreamIsRethrownAsIs()
        {
            string name = NewName("boom-write");
            dest.Put(name, TestEnv.RandomBytes(1024 * 1024));
            var boom = new IOException("the disk is full");
            IOException caught = Assert.Throws<IOException>(() => dest.Get(name, new FailingStream(100 * 1024, boom)));
            Assert.That(caught, Is.SameAs(boom));
            // the destination is still usable afterwards
            Assert.That(dest.Get(name).Length, Is.EqualTo(1024 * 1024));
            dest.Delete(name);
        }

        [Test]
        public void ExceptionFromProgressCallbackIsRethrownAsIs()
        {
            string name = NewName("boom-progress");
            var boom = new ApplicationException("progress handler broke");
            ApplicationException caught = Assert.Throws<ApplicationException>(() =>
                dest.Put(name, new PatternStream(4 * 1024 * 1024, false), CancellationToken.None, (done, total) => { throw boom; }));
            Assert.That(caught, Is.SameAs(boom));
        }

        [Test]
        public void CancellationStopsALargePutAsync()
        {
            string name = NewName("cancel-put");
            const long size = 1024L * 1024 * 1024; // 1 GiB, generated on the fly; must stop long before the end
            var source = new PatternStream(size, false);
            using (var cts = new CancellationTokenSource())
            {
                Task t = dest.PutAsync(name, source, cts.Token, (done, total) =>
                {
                    if (done >= 8 * 1024 * 1024)
                        cts.Cancel();
                });
                Assert.Catch<OperationCanceledException>(() => t.GetAwaiter().GetResult());
                Assert.That(t.IsCanceled, Is.True, "the task ends Canceled");
            }
            Assert.That(source.TotalRead, Is.LessThan(256L * 1024 * 1024), "read " + source.TotalRead + " bytes after cancelling");
            Assert.Throws<FileMissingException>(() => dest.Stat(name), "a cancelled upload must not leave an object");
        }

        [Test]
        public void CancellationRequestedWhileReadingStopsAPut()
        {
            string name = NewName("cancel-timer");
            var source = new PatternStream(1024L * 1024 * 1024, true);
            using (var cts = new CancellationTokenSource())
            {
                source.OnRead = pos => { if (pos >= 2 * 1024 * 1024) cts.Cancel(); };
                OperationCanceledException e = Assert.Catch<OperationCanceledException>(() => dest.Put(name, source, cts.Token));
                Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
            }
            Assert.That(source.TotalRead, Is.LessThan(256L * 1024 * 1024));
        }

        [Test]
        public void CancellationStopsAGetAsync()
        {
            string name = NewName("cancel-get");
            dest.Put(name, new PatternStream(32 * 1024 * 1024, true));
            var target = new HashingStream();
            using (var cts = new CancellationTokenSource())
            {
                Task t = dest.GetAsync(name, target, cts.Token, (done, total) => cts.Cancel());
                Assert.Catch<OperationCanceledException>(() => t.GetAwaiter().GetResult());
            }
            Assert.That(target.Count, Is.LessThan(32 * 1024 * 1024));
            dest.Delete(name);
        }

        // ---------------------------------------------------------------- ranges and large objects

        private static void AssertPastTheEnd(TestDelegate call, string what)
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
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument), what + ": " + e.Message);
            TextAssert.Contains(e.Message, "past the end");
        }

        private static byte[] Slice(byte[] data, long offset, int length)
        {
            var part = new byte[length];
            Array.Copy(data, offset, part, 0, length);
            return part;
        }

        [Test]
        public void GetRangeReturnsExactBytesAndRefusesPastTheEnd()
        {
            string name = NewName("range");
            byte[] data = TestEnv.RandomBytes(100 * 1000);
            dest.Put(name, data);
            Assert.That(dest.GetRange(name, 0, data.Length), Is.EqualTo(data));
            Assert.That(dest.GetRange(name, 12345, 777), Is.EqualTo(Slice(data, 12345, 777)));
            Assert.That(dest.GetRange(name, data.Length - 1, 1), Is.EqualTo(Slice(data, data.Length - 1, 1)));
            Assert.That(dest.GetRange(name, 0, 0), Is.Empty);
            Assert.That(dest.GetRange(name, data.Length, 0), Is.Empty);
            Assert.That(dest.GetRangeAsync(name, 5, 10).GetAwaiter().GetResult(), Is.EqualTo(Slice(data, 5, 10)));
            using (var cts = new CancellationTokenSource())
                Assert.That(dest.GetRangeAsync(name, 50000, 4000, cts.Token).GetAwaiter().GetResult(), Is.EqualTo(Slice(data, 50000, 4000)));
            var ms = new MemoryStream();
            dest.GetRange(name, 99000, 1000, ms);
            Assert.That(ms.ToArray(), Is.EqualTo(Slice(data, 99000, 1000)));

            // Past the end is the invalid-argument error, never a short read; the stream gets nothing.
            AssertPastTheEnd(() => dest.GetRange(name, data.Length - 1, 2), "GetRange(last byte + 1)");
            AssertPastTheEnd(() => dest.GetRange(name, 0, data.Length + 1), "GetRange(size + 1)");
            AssertPastTheEnd(() => dest.GetRange(name, data.Length, 1), "GetRange(at the end)");
            AssertPastTheEnd(() => dest.GetRangeAsync(name, 10L * 1024 * 1024, 1).GetAwaiter().GetResult(), "GetRangeAsync");
            var untouched = new MemoryStream();
            AssertPastTheEnd(() => dest.GetRange(name, data.Length - 10, 11, untouched), "GetRange(stream)");
            Assert.That(untouched.Length, Is.EqualTo(0), "bytes written before the past-the-end error");
            Assert.Throws<FileMissingException>(() => dest.GetRange(NewName("missing"), 0, 1));
            dest.Delete(name);
        }

        [Test]
        public void ExceptionFromRangeTargetIsRethrownAndCancellationStopsIt()
        {
            string name = NewName("range-stream");
            dest.Put(name, new PatternStream(4 * 1024 * 1024, true));
            var boom = new IOException("target broke");
            var failing = new FailingStream(64 * 1024, boom);
            IOException caught = Assert.Throws<IOException>(() => dest.GetRange(name, 0, 4 * 1024 * 1024, failing));
            Assert.That(caught, Is.SameAs(boom));
            using (var cts = new CancellationTokenSource())
            {
                var target = new CancellingStream(cts);
                Task t = dest.GetRangeAsync(name, 1, 4 * 1024 * 1024 - 1, target, cts.Token);
                OperationCanceledException e = Assert.Catch<OperationCanceledException>(() => t.GetAwaiter().GetResult());
                Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
                Assert.That(target.Length, Is.LessThan(4 * 1024 * 1024 - 1));
            }
            dest.Delete(name);
        }

        /// <summary>
        /// A Static Large Object (a file larger than openstack-segment-size), an ordinary object and a folder
        /// carry their kind through Stat, List, List(prefix, recursive) (os_list_each) and Enumerate.
        /// </summary>
        [Test]
        public void EntriesSayWhatKindOfObjectTheyAre()
        {
            string c = TestEnv.UniqueContainer("kind");
            string src = Path.GetTempFileName();
            const int MiB = 1024 * 1024;
            try
            {
                byte[] data = TestEnv.RandomBytes(2 * MiB + 5);
                File.WriteAllBytes(src, data);
                byte[] small = Slice(data, 0, 100);
                var options = new Dictionary<string, string> { { "openstack-segment-size", "1MiB" } };
                using (var d = new OpenStackDestination(TestEnv.V3Url(c), options))
                {
                    d.CreateFolder();
                    d.PutFile("big.bin", src);
                    d.Put("small.bin", small);
                    d.Put("dir/inner.txt", new byte[] { 1 });
                    RemoteEntry big = d.Stat("big.bin"), one = d.Stat("small.bin");
                    Assert.That(big.Kind, Is.EqualTo(EntryKind.StaticLarge));
                    Assert.That(big.ETagIsMd5, Is.False);
                    Assert.That(big.ETag, Is.Not.EqualTo(TestEnv.Md5Hex(data)), "an SLO's ETag is not its MD5");
                    Assert.That(one.Kind, Is.EqualTo(EntryKind.Object));
                    Assert.That(one.ETagIsMd5, Is.True);
                    Assert.That(one.ETag, Is.EqualTo(TestEnv.Md5Hex(small)));
                    Func<IEnumerable<RemoteEntry>, string> kinds = list =>
                        string.Join(",", list.Select(e => e.Name + ":" + e.Kind + (e.IsFolder ? "/" : "")));
                    Assert.That(kinds(d.List()), Is.EqualTo("big.bin:StaticLarge,dir:Folder/,small.bin:Object"));
                    Assert.That(kinds(d.List("", true)), Is.EqualTo("big.bin:StaticLarge,dir/inner.txt:Object,small.bin:Object"));
                    Assert.That(kinds(d.Enumerate()), Is.EqualTo("big.bin:StaticLarge,dir:Folder/,small.bin:Object"));
                    Assert.That(d.List().Single(e => e.Name == "big.bin").ETag, Is.EqualTo(big.ETag));
                    d.Delete("big.bin");
                    d.Delete("small.bin");
                    d.Delete("dir/inner.txt");
                }
            }
            finally
            {
                File.Delete(src);
                SwiftAdmin.DeleteContainer(c);
                SwiftAdmin.DeleteContainer(c + "_segments");
            }
        }

        /// <summary>
        /// A 5 MiB file in 1 MiB segments (openstack-segment-size): progress on the calling thread up to
        /// (size, size), a range across a segment boundary, the file back byte for byte, delete with its
        /// segments, and a cancelled upload that leaves neither object nor segment.
        /// </summary>
        [Test]
        public void SegmentedRoundTripReportsProgressOnTheCallingThread()
        {
            string c = TestEnv.UniqueContainer("slo");
            string segments = c + "_segments";
            string src = Path.GetTempFileName();
            string dst = Path.GetTempFileName();
            const int MiB = 1024 * 1024;
            try
            {
                const int size = 5 * MiB + 4321;
                byte[] data = TestEnv.RandomBytes(size);
                File.WriteAllBytes(src, data);
                var options = new Dictionary<string, string> { { "openstack-segment-size", "1MiB" } };
                using (var d = new OpenStackDestination(TestEnv.V3Url(c), options))
                using (var seg = new OpenStackDestination(TestEnv.V3Url(segments)))
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
                    Assert.That(seen.Count, Is.GreaterThan(0), "no progress reported");
                    Assert.That(threads, Is.EquivalentTo(new[] { caller }), "progress ran on another thread");
                    Assert.That(seen.Last(), Is.EqualTo(new long[] { size, size }));
                    for (int i = 1; i < seen.Count; i++)
                        Assert.That(seen[i][0], Is.GreaterThanOrEqualTo(seen[i - 1][0]));
                    Assert.That(seen.All(p => p[1] == size), Is.True, "a total other than the object's size");
                    Assert.That(d.Stat("big.bin").Size, Is.EqualTo(size));
                    Assert.That(seg.List("", true).Select(e => e.Size).ToArray(),
                        Is.EqualTo(new long[] { MiB, MiB, MiB, MiB, MiB, 4321 }));

                    Assert.That(d.GetRange("big.bin", MiB - 3, 6), Is.EqualTo(Slice(data, MiB - 3, 6)));
                    Assert.That(d.GetRangeAsync("big.bin", 3L * MiB - 1, MiB + 2).GetAwaiter().GetResult(),
                        Is.EqualTo(Slice(data, 3L * MiB - 1, MiB + 2)));
                    AssertPastTheEnd(() => d.GetRange("big.bin", size - 10, 11), "GetRange of the large object");
                    d.GetFile("big.bin", dst);
                    Assert.That(File.ReadAllBytes(dst), Is.EqualTo(data));

                    d.Delete("big.bin");
                    Assert.Throws<FileMissingException>(() => d.Stat("big.bin"));
                    Assert.That(seg.List("", true), Is.Empty, "segments left after Delete");

                    using (var cts = new CancellationTokenSource())
                    {
                        var cancelThreads = new HashSet<int>();
                        OperationCanceledException e = Assert.Catch<OperationCanceledException>(() =>
                            d.PutFile("cancelled.bin", src, cts.Token, (done, total) =>
                            {
                                cancelThreads.Add(Thread.CurrentThread.ManagedThreadId);
                                if (done >= 2 * MiB)
                                    cts.Cancel();
                            }));
                        Assert.That(e.CancellationToken, Is.EqualTo(cts.Token));
                        Assert.That(cancelThreads, Is.EquivalentTo(new[] { caller }));
                    }
                    Assert.Throws<FileMissingException>(() => d.Stat("cancelled.bin"));
                    Assert.That(d.List(), Is.Empty);
                    Assert.That(seg.List("", true), Is.Empty, "segments left after a cancelled upload");
                }
            }
            finally
            {
                File.Delete(src);
                File.Delete(dst);
                SwiftAdmin.DeleteContainer(c);
                SwiftAdmin.DeleteContainer(segments);
            }
        }

        /// <summary>An upload cancelled with openstack-leave-segments leaves its segments, as a killed one does:
        /// SweepSegments spares them within the grace period and removes them without one.</summary>
        [Test]
        public void SweepSegmentsRemovesWhatAnInterruptedUploadLeft()
        {
            string c = TestEnv.UniqueContainer("sweep");
            string segments = c + "_segments";
            string src = Path.GetTempFileName();
            const int MiB = 1024 * 1024;
            try
            {
                File.WriteAllBytes(src, TestEnv.RandomBytes(3 * MiB));
                var options = new Dictionary<string, string>
                {
                    { "openstack-segment-size", "1MiB" }, { "openstack-leave-segments", "true" },
                };
                using (var d = new OpenStackDestination(TestEnv.V3Url(c), options))
                using (var seg = new OpenStackDestination(TestEnv.V3Url(segments)))
                {
                    d.CreateFolder();
                    using (var cts = new CancellationTokenSource())
                    {
                        Assert.Catch<OperationCanceledException>(() =>
                            d.PutFile("vol.bin", src, cts.Token, (done, total) =>
                            {
                                if (done >= MiB)
                                    cts.Cancel();
                            }));
                    }
                    var left = seg.List("", true);
                    Assert.That(left, Is.Not.Empty);
                    Assert.That(d.SweepSegments(TimeSpan.FromDays(1)).Removed, Is.EqualTo(0));
                    SweepReport report = d.SweepSegments(TimeSpan.Zero);
                    Assert.That(report.Removed, Is.EqualTo(left.Count));
                    Assert.That(report.Bytes, Is.EqualTo(left.Sum(e => e.Size)));
                    Assert.That(seg.List("", true), Is.Empty);
                    Assert.Throws<ArgumentOutOfRangeException>(() => d.SweepSegments(TimeSpan.FromSeconds(-1)));
                }
            }
            finally
            {
                File.Delete(src);
                SwiftAdmin.DeleteContainer(c);
                SwiftAdmin.DeleteContainer(segments);
            }
        }

        /// <summary>DeleteMany: present and missing names go, a bad name is reported with its own exception.</summary>
        [Test]
        public void DeleteManyReportsEachFailure()
        {
            string c = TestEnv.UniqueContainer("many");
            try
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(c)))
                {
                    d.CreateFolder();
                    var names = new List<string>();
                    for (int i = 0; i < 10; i++)
                    {
                        names.Add("m/" + i);
                        d.Put("m/" + i, new MemoryStream(new byte[] { 1, 2, 3 }));
                    }
                    names.Add("m/missing");
                    Assert.That(d.DeleteMany(names), Is.EqualTo(10));
                    Assert.That(d.List("m/", true), Is.Empty);
                    d.Put("m/kept", new MemoryStream(new byte[] { 4 }));
                    DeleteManyException e = Assert.Throws<DeleteManyException>(() =>
                        d.DeleteMany(new[] { "m/kept", "a/../b" }));
                    Assert.That(e.Deleted, Is.EqualTo(1));
                    Assert.That(e.Failures.Count, Is.EqualTo(1));
                    Assert.That(e.Failures[0].Key, Is.EqualTo("a/../b"));
                    Assert.That(((OpenStackException)e.Failures[0].Value).Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
                }
            }
            finally
            {
                SwiftAdmin.DeleteContainer(c);
            }
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
                    Assert.That(old.LastModified.Kind, Is.EqualTo(DateTimeKind.Utc));
                    Assert.That(old.LastModified.Year, Is.GreaterThan(2000));
                    Assert.That(d.GetVersion("v", old.VersionId), Is.EqualTo(new byte[] { 1 }));
                    var ms = new MemoryStream();
                    d.GetVersion("v", now.VersionId, ms);
                    Assert.That(ms.ToArray(), Is.EqualTo(new byte[] { 2, 2 }));
                    d.Delete("v");
                    ObjectVersion marker = d.ListVersions("v")[0];
                    Assert.That(marker.IsDeleteMarker && marker.IsCurrent, Is.True);
                    OpenStackException bad = Assert.Throws<OpenStackException>(() => d.RestoreVersion("v", marker.VersionId));
                    Assert.That(bad.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
                    StringAssert.Contains("delete marker", bad.Message);
                    d.RestoreVersion("v", old.VersionId);
                    Assert.That(d.Get("v"), Is.EqualTo(new byte[] { 1 }));
                    foreach (string id in new[] { "", "1&x=2", "a/b", "a\0b" })
                    {
                        OpenStackException e = Assert.Throws<OpenStackException>(() => d.GetVersion("v", id));
                        Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument), id);
                        e = Assert.Throws<OpenStackException>(() => d.RestoreVersion("v", id));
                        Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument), id);
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

        // ---------------------------------------------------------------- concurrency, names, size

        [Test]
        public void EightThreadsShareOneDestination()
        {
            var errors = new List<Exception>();
            var threads = new List<Thread>();
            for (int t = 0; t < 8; t++)
            {
                int id = t;
                var th = new Thread(() =>
                {
                    try
                    {
                        for (int i = 0; i < 5; i++)
                        {
                            string name = "threads/t" + id + "-" + i;
                            byte[] data = TestEnv.RandomBytes(1000 * (id * 5 + i) + id);
                            if (i % 2 == 0)
                                dest.Put(name, data);
                            else
                                dest.Put(name, new NonSeekableStream(new MemoryStream(data)));
                            Assert.That(dest.Get(name), Is.EqualTo(data));
                            Assert.That(dest.Stat(name).Size, Is.EqualTo(data.Length));
                            dest.List();
                            dest.Delete(name);
                            Assert.Throws<FileMissingException>(() => dest.Stat(name));
                        }
                    }
                    catch (Exception e)
                    {
                        lock (errors)
                            errors.Add(e);
                    }
                });
                threads.Add(th);
                th.Start();
            }
            foreach (Thread th in threads)
                th.Join();
            Assert.That(errors, Is.Empty, string.Join("\n", errors.Select(e => e.ToString()).ToArray()));
        }
    }
}
