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

        /// <summary>The P/Invoke struct has the C layout of os_entry on 64-bit platforms (as the C tests check).</summary>
        [Test]
        public void NativeEntryHasTheLayoutOfTheHeader()
        {
            if (IntPtr.Size != 8)
                Assert.Ignore("the layout is checked on 64-bit platforms");
            Type t = typeof(OpenStackDestination).Assembly.GetType("OpenStackDest.NativeEntry", true);
            Assert.That(Marshal.SizeOf(t), Is.EqualTo(64));
            Assert.That(Marshal.OffsetOf(t, "ETag").ToInt64(), Is.EqualTo(32));
            Assert.That(Marshal.OffsetOf(t, "DeleteAtMs").ToInt64(), Is.EqualTo(48));
            Assert.That(Marshal.OffsetOf(t, "Kind").ToInt64(), Is.EqualTo(56));
        }

        /// <summary>An os_entry in native memory, as the library hands it out, becomes a RemoteEntry of that
        /// kind; an unknown kind is an error (Panic).</summary>
        [TestCase(0, EntryKind.Object, true)]
        [TestCase(1, EntryKind.StaticLarge, false)]
        [TestCase(2, EntryKind.DynamicLarge, false)]
        [TestCase(3, EntryKind.Folder, false)]
        [TestCase(9, null, false)]
        public void EntryKindIsReadFromTheNativeEntry(int code, EntryKind? kind, bool etagIsMd5)
        {
            Type t = typeof(OpenStackDestination).Assembly.GetType("OpenStackDest.NativeEntry", true);
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
        /// Every argument the binding refuses, one row each: null is ArgumentNullException, a bad range
        /// ArgumentOutOfRangeException (a ulong would wrap it, so the Async forms check synchronously); a NUL
        /// (a string cut at it would reach the library and fail with Network: port 9) or a lone surrogate
        /// (encoded leniently it would become U+FFFD, another name) is InvalidArgument with no HTTP status, and
        /// so is what the library refuses before any request. No stream is read, no file touched.
        /// </summary>
        [Test]
        public void ArgumentsAreRefusedBeforeAnyRequest()
        {
            string dir = Path.Combine(Path.GetTempPath(), "osd-cs-args-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            string file = Path.Combine(dir, "a");
            File.WriteAllBytes(file, new byte[] { 1, 2, 3 });
            var source = new TestStream(1000, true);
            var target = new MemoryStream();
            var reserved = new PutOptions();
            reserved.Metadata["mtime"] = "1";
            var nul = typeof(OpenStackException);
            var rows = new List<Tuple<string, Action<OpenStackDestination>, Type, string>>();
            Action<string, Action<OpenStackDestination>, Type, string> row = (what, call, type, detail) =>
                rows.Add(Tuple.Create(what, call, type, detail));
            Type none = typeof(ArgumentNullException), range = typeof(ArgumentOutOfRangeException);
            row("Put(null, bytes)", d => d.Put(null, new byte[1]), none, "name");
            row("Put(bytes null)", d => d.Put("x", (byte[])null), none, "data");
            row("Put(stream null)", d => d.Put("x", (Stream)null), none, "source");
            row("Get(null)", d => d.Get(null), none, "name");
            row("Get(stream null)", d => d.Get("x", (Stream)null), none, "target");
            row("GetRange(null)", d => d.GetRange(null, 0, 1), none, "name");
            row("GetRange(stream null)", d => d.GetRange("x", 0, 1, null), none, "target");
            row("GetRangeAsync(null)", d => d.GetRangeAsync(null, 0, 1), none, "name");
            row("Rename(to null)", d => d.Rename("x", null), none, "to");
            row("Stat(null)", d => d.Stat(null), none, "name");
            row("Delete(null)", d => d.Delete(null), none, "name");
            row("ForEach(callback null)", d => d.ForEach("", false, null), none, "onEntry");
            row("RestoreVersion(id null)", d => d.RestoreVersion("v", null), none, "versionId");
            row("GetRange offset -1", d => d.GetRange("a", -1, 1), range, "offset");
            row("GetRange length -1", d => d.GetRange("a", 0, -1), range, "length");
            row("GetRange length > int", d => d.GetRange("a", 0, (long)int.MaxValue + 1), range, "length");
            row("GetRange(stream) offset min", d => d.GetRange("a", long.MinValue, 1, target), range, null);
            row("GetRange(stream) length -5", d => d.GetRange("a", 0, -5, target), range, null);
            row("GetRangeAsync offset -1", d => d.GetRangeAsync("a", -1, 1), range, null);
            row("GetRangeAsync(stream) length -1", d => d.GetRangeAsync("a", 0, -1, target), range, null);
            row("SweepSegments(-1 s)", d => d.SweepSegments(TimeSpan.FromSeconds(-1)), range, "olderThan");
            row("Put empty name", d => d.Put("", new byte[] { 1 }), nul, null);
            row("Put 1025-byte name", d => d.Put(new string('n', 1025), new byte[] { 1 }), nul, null);
            row("Put lone high surrogate", d => d.Put("a\uD800b", new byte[] { 1 }), nul, null);
            row("Delete lone low surrogate", d => d.Delete("\uDC00"), nul, null);
            row("Put reserved key mtime", d => d.Put("x", new byte[] { 1 }, reserved), nul, null);
            row("Put two expiries", d => d.Put("x", new byte[] { 1 }, new PutOptions { DeleteAfter = TimeSpan.FromDays(1), NoExpiry = true }), nul, null);
            row("GetVersion empty id", d => d.GetVersion("v", ""), nul, null);
            row("RestoreVersion empty id", d => d.RestoreVersion("v", ""), nul, null);
            row("GetVersion id 1&x=2", d => d.GetVersion("v", "1&x=2"), nul, null);
            row("RestoreVersion id 1&x=2", d => d.RestoreVersion("v", "1&x=2"), nul, null);
            row("Put(bytes)", d => d.Put("a\0b", new byte[] { 1 }), nul, "NUL");
            row("Put(stream)", d => d.Put("a\0b", source), nul, "NUL");
            row("Put(stream) of \"\\0\"", d => d.Put("\0", source), nul, "NUL");
            row("PutFile(name)", d => d.PutFile("a\0b", file), nul, "NUL");
            row("PutFile(path)", d => d.PutFile("a", file + "\0.bak"), nul, "NUL");
            row("Get(name)", d => d.Get("a\0b"), nul, "NUL");
            row("Get(stream)", d => d.Get("a\0b", target), nul, "NUL");
            row("GetRange", d => d.GetRange("a\0b", 0, 1), nul, "NUL");
            row("GetRange(stream)", d => d.GetRange("a\0b", 0, 1, target), nul, "NUL");
            row("GetRangeAsync", d => d.GetRangeAsync("a\0b", 0, 1).GetAwaiter().GetResult(), nul, "NUL");
            row("GetFile(name)", d => d.GetFile("a\0b", file), nul, "NUL");
            row("GetFile(path)", d => d.GetFile("a", file + "\0.bak"), nul, "NUL");
            row("Stat", d => d.Stat("keep\0x"), nul, "NUL");
            row("Delete", d => d.Delete("keep\0x"), nul, "NUL");
            row("Rename(from)", d => d.Rename("keep\0x", "b"), nul, "NUL");
            row("Rename(to)", d => d.Rename("a", "b\0x"), nul, "NUL");
            row("PutAsync", d => d.PutAsync("a\0b", source).GetAwaiter().GetResult(), nul, "NUL");
            row("GetFileAsync", d => d.GetFileAsync("a", file + "\0").GetAwaiter().GetResult(), nul, "NUL");
            row("List of a NUL prefix", d => d.List("bad\0prefix", true), nul, "NUL");
            row("Enumerate of a NUL prefix (not at MoveNext)", d => d.Enumerate("bad\0prefix"), nul, "NUL");
            row("GetVersion id a\\0b", d => d.GetVersion("v", "a\0b"), nul, "NUL");
            row("RestoreVersion id a\\0b", d => d.RestoreVersion("v", "a\0b"), nul, "NUL");
            row("metadata key", d => d.Put("x", new byte[1], new PutOptions { Metadata = { { "k\0", "v" } } }), nul, "NUL");
            try
            {
                using (var d = new OpenStackDestination(Url("container")))
                {
                    foreach (var r in rows)
                    {
                        if (r.Item3 == nul)
                            TestEnv.Throws<OpenStackException>(r.Item1, () => r.Item2(d), OpenStackStatus.InvalidArgument, 0, r.Item4);
                        else if (r.Item3 == none)
                            Assert.That(TestEnv.Throws<ArgumentNullException>(r.Item1, () => r.Item2(d)).ParamName, Is.EqualTo(r.Item4), r.Item1);
                        else if (r.Item4 != null)
                            Assert.That(TestEnv.Throws<ArgumentOutOfRangeException>(r.Item1, () => r.Item2(d)).ParamName, Is.EqualTo(r.Item4), r.Item1);
                        else
                            TestEnv.Throws<ArgumentOutOfRangeException>(r.Item1, () => r.Item2(d));
                    }
                    Assert.That(source.TotalRead, Is.EqualTo(0), "the source stream was read");
                    Assert.That(target.Length, Is.EqualTo(0));
                    Assert.That(File.ReadAllBytes(file), Is.EqualTo(new byte[] { 1, 2, 3 }));
                    Assert.That(Directory.GetFiles(dir).Length, Is.EqualTo(1), "a file was created next to the target");
                    // a valid name still reaches the library, which cannot reach Keystone
                    OpenStackException e = TestEnv.Throws<OpenStackException>("Test", () => d.Test(), OpenStackStatus.Network, 0);
                    TestEnv.Contains(e.Message, "Sekr1t-Offline-Pw", false);
                    TestEnv.Throws<OpenStackException>("Delete", () => d.Delete("keep"), OpenStackStatus.Network, 0);
                }
                Assert.That(TestEnv.Throws<ArgumentNullException>("URL null", () => new OpenStackDestination(null)).ParamName, Is.EqualTo("url"));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void NulInTheUrlOrAnOptionIsInvalidArgumentWithoutTheValue()
        {
            TestEnv.Throws<OpenStackException>("URL", () => new OpenStackDestination(Url("container\0/other")).Dispose(), OpenStackStatus.InvalidArgument, 0, "NUL");
            TestEnv.Throws<OpenStackException>("URL query", () => new OpenStackDestination(Url("container", "&openstack-region=Region\0Two")).Dispose(),
                OpenStackStatus.InvalidArgument, 0, "NUL");
            var options = new Dictionary<string, string> { { "openstack-region\0x", "RegionOne" } };
            TestEnv.Throws<OpenStackException>("option name", () => new OpenStackDestination(Url("container"), options).Dispose(), OpenStackStatus.InvalidArgument, 0, "NUL");
            // The value may be a password: the message names the option, never the value.
            options = new Dictionary<string, string> { { "auth-password", "Nul-Secret-Pw\0tail" } };
            OpenStackException e = TestEnv.Throws<OpenStackException>("option value", () => new OpenStackDestination(
                "openstack://container/p?auth-username=u&openstack-tenant-name=p&openstack-domain-name=Default&openstack-authuri=" + DeadAuth, options).Dispose(),
                OpenStackStatus.InvalidArgument, 0, "auth-password");
            TestEnv.Contains(e.ToString(), "Nul-Secret-Pw", false);
        }

        [Test]
        public void DisposedDestinationThrowsObjectDisposed()
        {
            var d = new OpenStackDestination(Url("container"));
            d.Dispose();
            d.Dispose(); // twice is fine
            Assert.Throws<ObjectDisposedException>(() => d.Test());
            Assert.Throws<ObjectDisposedException>(() => d.List());
            Assert.Throws<ObjectDisposedException>(() => d.Put("x", new byte[1]));
        }

        [Test]
        public void CancelledTokenStopsAsyncCallsBeforeTheyStart()
        {
            using (var d = new OpenStackDestination(Url("container")))
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
