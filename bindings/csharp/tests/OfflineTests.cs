// Tests that need the library but no server: marshalling of os_entry, the ABI check, the binding's
// argument checks (one table), NUL and lone-surrogate refusal, disposal, network errors, the logger.
// The URL parser's refusals are the parse cases of the secret sweep.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading;
using NUnit.Framework;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class OfflineTests
    {
        // Nothing listens on port 9 (discard) here: any request fails fast.
        private const string DeadAuth = "http://127.0.0.1:9/v3";
        private const BindingFlags Hidden = BindingFlags.Static | BindingFlags.NonPublic;

        private static string Url(string containerAndPrefix, string extra = "")
        {
            return "openstack://" + containerAndPrefix + "?auth-username=someone&auth-password=Sekr1t-Offline-Pw"
                + "&openstack-tenant-name=proj&openstack-domain-name=Default&openstack-authuri=" + Uri.EscapeDataString(DeadAuth) + extra;
        }

        /// <summary>The P/Invoke struct has the C layout of os_entry on 64-bit platforms (as the C tests check); an
        /// os_entry in native memory, as the library hands it out, becomes a RemoteEntry of that kind; an unknown
        /// kind is an error (Panic).</summary>
        [TestCase(0, EntryKind.Object, true)]
        [TestCase(1, EntryKind.StaticLarge, false)]
        [TestCase(2, EntryKind.DynamicLarge, false)]
        [TestCase(3, EntryKind.Folder, false)]
        [TestCase(9, null, false)]
        public void EntryKindIsReadFromTheNativeEntry(int code, EntryKind? kind, bool etagIsMd5)
        {
            Type t = typeof(OpenStackDestination).Assembly.GetType("OpenStackDest.NativeEntry", true);
            if (IntPtr.Size == 8)
                Assert.That(new[] { Marshal.SizeOf(t), (int)Marshal.OffsetOf(t, "ETag"), (int)Marshal.OffsetOf(t, "DeleteAtMs"), (int)Marshal.OffsetOf(t, "Kind") },
                    Is.EqualTo(new[] { 64, 32, 48, 56 }));
            IntPtr mem = Marshal.AllocHGlobal(Marshal.SizeOf(t));
            IntPtr name = Marshal.StringToHGlobalAnsi("n"), etag = Marshal.StringToHGlobalAnsi("0123456789abcdef0123456789abcdef");
            try
            {
                for (int i = 0; i < Marshal.SizeOf(t); i++)
                    Marshal.WriteByte(mem, i, 0);
                Marshal.WriteIntPtr(mem, (int)Marshal.OffsetOf(t, "Name"), name);
                Marshal.WriteInt64(mem, (int)Marshal.OffsetOf(t, "Size"), 5);
                Marshal.WriteIntPtr(mem, (int)Marshal.OffsetOf(t, "ETag"), etag);
                foreach (string ms in new[] { "LastModifiedMs", "MtimeMs", "DeleteAtMs" })
                    Marshal.WriteInt64(mem, (int)Marshal.OffsetOf(t, ms), -1);
                Marshal.WriteInt32(mem, (int)Marshal.OffsetOf(t, "Kind"), code);
                if (code == 3)
                    Marshal.WriteByte(mem, (int)Marshal.OffsetOf(t, "IsFolder"), 1);
                object native = Marshal.PtrToStructure(mem, t);
                MethodInfo toEntry = typeof(OpenStackDestination).Assembly.GetType("OpenStackDest.Interop", true).GetMethod("ToEntry", Hidden);
                if (kind == null)
                {
                    var ex = Assert.Throws<TargetInvocationException>(() => toEntry.Invoke(null, new object[] { native, null }));
                    Assert.That(ex.InnerException, Is.InstanceOf<OpenStackException>());
                    Assert.That(((OpenStackException)ex.InnerException).Status, Is.EqualTo(OpenStackStatus.Panic));
                    return;
                }
                var e = (RemoteEntry)toEntry.Invoke(null, new object[] { native, null });
                Assert.That(new object[] { e.Kind, e.ETagIsMd5, e.Name, e.Size }, Is.EqualTo(new object[] { kind.Value, etagIsMd5, "n", 5L }));
            }
            finally
            {
                Marshal.FreeHGlobal(mem);
                Marshal.FreeHGlobal(name);
                Marshal.FreeHGlobal(etag);
            }
        }

        [Test]
        public void TheBindingFollowsTheHeadersVersionAndTheLibraryMatchesIt()
        {
            Match m = Regex.Match(File.ReadAllText(TestEnv.RepoFile("include/openstack_dest.h")), "#define OPENSTACK_DEST_VERSION \"([^\"]+)\"");
            Assert.That(m.Success, Is.True);
            Assert.That(OpenStackDestination.BindingVersion, Is.EqualTo(m.Groups[1].Value));
            Assert.That(OpenStackDestination.Version, Is.EqualTo(OpenStackDestination.BindingVersion));
        }

        [TestCase("0.2.0", "0.2.7", true)]
        [TestCase("0.2.0", "0.1.0", false)]
        [TestCase("0.2.0", "0.3.0-rc1", false)]
        [TestCase("1.2.0", "1.4.1+local", true)]
        [TestCase("1.2.0", "2.0.0", false)]
        [TestCase("0.2.0", "", false)]
        [TestCase("0.2.0", null, false)]
        public void ALibraryOfAnotherAbiIsRefused(string header, string library, bool same)
        {
            Assert.That(typeof(OpenStackDestination).GetMethod("SameAbi", Hidden).Invoke(null, new object[] { header, library }), Is.EqualTo(same));
        }

        [Test]
        public void OptionsDictionarySuppliesMissingOptions()
        {
            var options = new Dictionary<string, string>
            {
                { "auth-username", "someone" }, { "auth-password", "Sekr1t-Offline-Pw" }, { "openstack-tenant-name", "proj" },
                { "openstack-domain-name", "Default" }, { "openstack-authuri", DeadAuth }, { "some-unknown-host-option", "ignored" },
            };
            using (var d = new OpenStackDestination("openstack://container/prefix", options))
                Assert.That(d, Is.Not.Null);
            // and without them it is the invalid-URL error
            TestEnv.Throws<OpenStackException>("no options", () => new OpenStackDestination("openstack://container/prefix").Dispose(),
                OpenStackStatus.InvalidUrl, 0);
        }

        /// <summary>
        /// Every argument the binding refuses, by each call that takes it: null is ArgumentNullException, a bad
        /// range ArgumentOutOfRangeException (a ulong would wrap it, so the Async forms check synchronously); a NUL
        /// (a string cut at it would reach the library and fail with Network: port 9) or a lone surrogate (encoded
        /// leniently it would become U+FFFD, another name) is InvalidArgument with no HTTP status, and so is what
        /// the library refuses before any request; a NUL in the URL or an option too. No stream is read, no file touched.
        /// </summary>
        [Test]
        public void ArgumentsAreRefusedBeforeAnyRequest()
        {
            string dir = Path.Combine(Path.GetTempPath(), "osd-cs-args-" + Guid.NewGuid().ToString("N")), file = Path.Combine(dir, "a");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(file, new byte[] { 1, 2, 3 });
            var source = new TestStream(1000, true);
            var target = new MemoryStream();
            try
            {
                using (var d = new OpenStackDestination(Url("container")))
                {
                    Refuses<ArgumentNullException>("url", () => new OpenStackDestination(null));
                    Refuses<OpenStackException>("NUL", () => new OpenStackDestination(Url("container\0/other")).Dispose(),
                        () => new OpenStackDestination(Url("container", "&openstack-region=Region\0Two")).Dispose(),
                        () => new OpenStackDestination(Url("container"), new Dictionary<string, string> { { "openstack-region\0x", "RegionOne" } }).Dispose());
                    // An option's value may be a password: the message names the option, never the value.
                    TestEnv.Contains(TestEnv.Throws<OpenStackException>("option value", () => new OpenStackDestination("openstack://container/p?auth-username=u"
                        + "&openstack-tenant-name=p&openstack-domain-name=Default&openstack-authuri=" + DeadAuth,
                        new Dictionary<string, string> { { "auth-password", "Nul-Secret-Pw\0tail" } }).Dispose(), OpenStackStatus.InvalidArgument, 0, "auth-password")
                        .ToString(), "Nul-Secret-Pw", false);
                    Refuses<ArgumentNullException>("name", () => d.Put(null, new byte[1]), () => d.Get(null), () => d.GetRange(null, 0, 1),
                        () => d.GetRangeAsync(null, 0, 1), () => d.Stat(null), () => d.Delete(null));
                    Refuses<ArgumentNullException>("data", () => d.Put("x", (byte[])null));
                    Refuses<ArgumentNullException>("source", () => d.Put("x", (Stream)null));
                    Refuses<ArgumentNullException>("target", () => d.Get("x", (Stream)null), () => d.GetRange("x", 0, 1, null));
                    Refuses<ArgumentNullException>("to", () => d.Rename("x", null));
                    Refuses<ArgumentNullException>("onEntry", () => d.ForEach("", false, null));
                    Refuses<ArgumentNullException>("versionId", () => d.RestoreVersion("v", null));
                    Refuses<ArgumentOutOfRangeException>("offset", () => d.GetRange("a", -1, 1), () => d.GetRange("a", long.MinValue, 1, target),
                        () => d.GetRangeAsync("a", -1, 1));
                    Refuses<ArgumentOutOfRangeException>("length", () => d.GetRange("a", 0, -1), () => d.GetRange("a", 0, (long)int.MaxValue + 1),
                        () => d.GetRange("a", 0, -5, target), () => d.GetRangeAsync("a", 0, -1, target));
                    Refuses<ArgumentOutOfRangeException>("olderThan", () => d.SweepSegments(TimeSpan.FromSeconds(-1)));
                    Refuses<OpenStackException>("NUL", () => d.Put("a\0b", new byte[] { 1 }), () => d.Put("a\0b", source), () => d.Put("\0", source),
                        () => d.PutFile("a\0b", file), () => d.PutFile("a", file + "\0.bak"), () => d.Get("a\0b"), () => d.Get("a\0b", target),
                        () => d.GetRange("a\0b", 0, 1), () => d.GetRange("a\0b", 0, 1, target), () => d.GetRangeAsync("a\0b", 0, 1).GetAwaiter().GetResult(),
                        () => d.GetFile("a\0b", file), () => d.GetFile("a", file + "\0.bak"), () => d.Stat("keep\0x"), () => d.Delete("keep\0x"),
                        () => d.Rename("keep\0x", "b"), () => d.Rename("a", "b\0x"), () => d.PutAsync("a\0b", source).GetAwaiter().GetResult(),
                        () => d.GetFileAsync("a", file + "\0").GetAwaiter().GetResult(), () => d.List("bad\0prefix", true),
                        () => d.Enumerate("bad\0prefix") /* here, not at MoveNext */, () => d.GetVersion("v", "a\0b"), () => d.RestoreVersion("v", "a\0b"),
                        () => d.Put("x", new byte[1], new PutOptions { Metadata = { { "k\0", "v" } } }));
                    Refuses<OpenStackException>(null, () => d.Put("", new byte[] { 1 }), () => d.Put(new string('n', 1025), new byte[] { 1 }),
                        () => d.Put("a\uD800b", new byte[] { 1 }), () => d.Delete("\uDC00"),
                        () => d.Put("x", new byte[] { 1 }, new PutOptions { Metadata = { { "mtime", "1" } } }),
                        () => d.Put("x", new byte[] { 1 }, new PutOptions { DeleteAfter = TimeSpan.FromDays(1), NoExpiry = true }),
                        () => d.GetVersion("v", ""), () => d.RestoreVersion("v", ""), () => d.GetVersion("v", "1&x=2"), () => d.RestoreVersion("v", "1&x=2"));
                    Assert.That(source.TotalRead, Is.EqualTo(0), "the source stream was read");
                    Assert.That(target.Length, Is.EqualTo(0));
                    Assert.That(File.ReadAllBytes(file), Is.EqualTo(new byte[] { 1, 2, 3 }));
                    Assert.That(Directory.GetFiles(dir).Length, Is.EqualTo(1), "a file was created next to the target");
                    // a valid name still reaches the library, which cannot reach Keystone
                    TestEnv.Contains(TestEnv.Throws<OpenStackException>("Test", () => d.Test(), OpenStackStatus.Network, 0).Message, "Sekr1t-Offline-Pw", false);
                    TestEnv.Throws<OpenStackException>("Delete", () => d.Delete("keep"), OpenStackStatus.Network, 0);
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        /// <summary>Each call throws <typeparamref name="T"/>: an ArgumentException for the parameter <paramref name="detail"/>,
        /// or an InvalidArgument OpenStackException without HTTP status, naming <paramref name="detail"/> unless null.</summary>
        private static void Refuses<T>(string detail, params TestDelegate[] calls) where T : Exception
        {
            bool os = typeof(T) == typeof(OpenStackException);
            for (int i = 0; i < calls.Length; i++)
            {
                string what = typeof(T).Name + " " + detail + ", call " + (i + 1);
                T e = TestEnv.Throws<T>(what, calls[i], os ? OpenStackStatus.InvalidArgument : (OpenStackStatus?)null, os ? 0 : -1, os ? detail : null);
                if (!os)
                    Assert.That(((ArgumentException)(Exception)e).ParamName, Is.EqualTo(detail), what);
            }
        }

        [Test]
        public void DisposedOrCancelledBeforeTheStart()
        {
            var d = new OpenStackDestination(Url("container"));
            d.Dispose();
            d.Dispose(); // twice is fine
            Assert.Throws<ObjectDisposedException>(() => d.Test());
            Assert.Throws<ObjectDisposedException>(() => d.List());
            Assert.Throws<ObjectDisposedException>(() => d.Put("x", new byte[1]));
            using (d = new OpenStackDestination(Url("container")))
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                var stream = new TestStream(1000, true);
                Assert.Catch<OperationCanceledException>(() => d.PutAsync("x", stream, cts.Token).GetAwaiter().GetResult());
                Assert.Catch<OperationCanceledException>(() => d.ListAsync(cts.Token).GetAwaiter().GetResult());
                Assert.That(stream.TotalRead, Is.EqualTo(0));
            }
        }

        [Test]
        public void SetLoggerAcceptsNullAndALogger()
        {
            var lines = new List<string>();
            OpenStackDestination.SetLogger((level, line) => { lock (lines) lines.Add(line); }, LogLevel.Debug);
            try
            {
                using (var d = new OpenStackDestination(Url("container")))
                    Assert.Throws<OpenStackException>(() => d.Put("", new byte[1])); // fails before any request
                OpenStackDestination.SetLogger((level, line) => { throw new InvalidOperationException("ignored"); });
                using (var d = new OpenStackDestination(Url("container")))
                    Assert.Throws<OpenStackException>(() => d.Put("", new byte[1]));
            }
            finally
            {
                OpenStackDestination.SetLogger(null);
            }
            lock (lines)
                foreach (string l in lines)
                    TestEnv.Contains(l, "Sekr1t-Offline-Pw", false);
        }
    }
}
