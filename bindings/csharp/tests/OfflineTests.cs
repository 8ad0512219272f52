// Tests that need the library but no server: marshalling, argument checks, NUL and lone-surrogate
// refusal, disposal, network errors. The URL parser's refusals are the parse cases of the secret sweep.
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class OfflineTests
    {
        // Nothing listens on port 9 (discard) here: any request fails fast.
        private const string DeadAuth = "http://127.0.0.1:9/v3";

        private static string Url(string containerAndPrefix, string extra = "")
        {
            return "openstack://" + containerAndPrefix + "?auth-username=someone&auth-password=Sekr1t-Offline-Pw"
                + "&openstack-tenant-name=proj&openstack-domain-name=Default&openstack-authuri=" + Uri.EscapeDataString(DeadAuth) + extra;
        }

        private static OpenStackException OpenFails(string url, IDictionary<string, string> options = null)
        {
            return Assert.Throws<OpenStackException>(() => { new OpenStackDestination(url, options).Dispose(); });
        }

        private static Type NativeEntryType()
        {
            return typeof(OpenStackDestination).Assembly.GetType("OpenStackDest.NativeEntry", true);
        }

        /// <summary>The P/Invoke struct has the C layout of os_entry on 64-bit platforms (as the C tests check).</summary>
        [Test]
        public void NativeEntryHasTheLayoutOfTheHeader()
        {
            if (IntPtr.Size != 8)
                Assert.Ignore("the layout is checked on 64-bit platforms");
            Type t = NativeEntryType();
            Assert.That(Marshal.SizeOf(t), Is.EqualTo(64));
            Assert.That(Marshal.OffsetOf(t, "ETag").ToInt64(), Is.EqualTo(32));
            Assert.That(Marshal.OffsetOf(t, "DeleteAtMs").ToInt64(), Is.EqualTo(48));
            Assert.That(Marshal.OffsetOf(t, "Kind").ToInt64(), Is.EqualTo(56));
        }

        /// <summary>An os_entry in native memory, as the library hands it out, becomes a RemoteEntry of that kind.</summary>
        [TestCase(0, EntryKind.Object, true)]
        [TestCase(1, EntryKind.StaticLarge, false)]
        [TestCase(2, EntryKind.DynamicLarge, false)]
        [TestCase(3, EntryKind.Folder, false)]
        public void EntryKindIsReadFromTheNativeEntry(int code, EntryKind kind, bool etagIsMd5)
        {
            RemoteEntry e = FromNative(code);
            Assert.That(e.Kind, Is.EqualTo(kind));
            Assert.That(e.ETagIsMd5, Is.EqualTo(etagIsMd5));
            Assert.That(e.Name, Is.EqualTo("n"));
            Assert.That(e.Size, Is.EqualTo(5));
        }

        [Test]
        public void AnUnknownEntryKindIsAnError()
        {
            var ex = Assert.Throws<System.Reflection.TargetInvocationException>(() => FromNative(9));
            Assert.That(ex.InnerException, Is.InstanceOf<OpenStackException>());
            Assert.That(((OpenStackException)ex.InnerException).Status, Is.EqualTo(OpenStackStatus.Panic));
        }

        private static RemoteEntry FromNative(int kind)
        {
            Type t = NativeEntryType();
            IntPtr mem = Marshal.AllocHGlobal(Marshal.SizeOf(t));
            IntPtr name = Marshal.StringToHGlobalAnsi("n");
            IntPtr etag = Marshal.StringToHGlobalAnsi("0123456789abcdef0123456789abcdef");
            try
            {
                for (int i = 0; i < Marshal.SizeOf(t); i++)
                    Marshal.WriteByte(mem, i, 0);
                Marshal.WriteIntPtr(mem, (int)Marshal.OffsetOf(t, "Name"), name);
                Marshal.WriteInt64(mem, (int)Marshal.OffsetOf(t, "Size"), 5);
                Marshal.WriteInt64(mem, (int)Marshal.OffsetOf(t, "LastModifiedMs"), -1);
                Marshal.WriteIntPtr(mem, (int)Marshal.OffsetOf(t, "ETag"), etag);
                Marshal.WriteInt64(mem, (int)Marshal.OffsetOf(t, "MtimeMs"), -1);
                Marshal.WriteInt64(mem, (int)Marshal.OffsetOf(t, "DeleteAtMs"), -1);
                Marshal.WriteInt32(mem, (int)Marshal.OffsetOf(t, "Kind"), kind);
                if (kind == 3)
                    Marshal.WriteByte(mem, (int)Marshal.OffsetOf(t, "IsFolder"), 1);
                object native = Marshal.PtrToStructure(mem, t);
                Type interop = typeof(OpenStackDestination).Assembly.GetType("OpenStackDest.Interop", true);
                var toEntry = interop.GetMethod("ToEntry", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic);
                return (RemoteEntry)toEntry.Invoke(null, new object[] { native, null });
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
            var sameAbi = typeof(OpenStackDestination).GetMethod("SameAbi",
                System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic);
            Assert.That(sameAbi.Invoke(null, new object[] { header, library }), Is.EqualTo(same));
        }

        [Test]
        public void OptionsDictionarySuppliesMissingOptions()
        {
            var options = new Dictionary<string, string>
            {
                { "auth-username", "someone" },
                { "auth-password", "Sekr1t-Offline-Pw" },
                { "openstack-tenant-name", "proj" },
                { "openstack-domain-name", "Default" },
                { "openstack-authuri", DeadAuth },
                { "some-unknown-host-option", "ignored" },
            };
            using (var d = new OpenStackDestination("openstack://container/prefix", options))
                Assert.That(d, Is.Not.Null);
            // and without them it is the invalid-URL error
            Assert.That(OpenFails("openstack://container/prefix").Status, Is.EqualTo(OpenStackStatus.InvalidUrl));
        }

        [Test]
        public void NullArgumentsThrowArgumentNull()
        {
            Assert.Throws<ArgumentNullException>(() => new OpenStackDestination(null));
            using (var d = new OpenStackDestination(Url("container")))
            {
                Assert.Throws<ArgumentNullException>(() => d.Put(null, new byte[1]));
                Assert.Throws<ArgumentNullException>(() => d.Put("x", (byte[])null));
                Assert.Throws<ArgumentNullException>(() => d.Put("x", (Stream)null));
                Assert.Throws<ArgumentNullException>(() => d.Get(null));
                Assert.Throws<ArgumentNullException>(() => d.Get("x", (Stream)null));
                Assert.Throws<ArgumentNullException>(() => d.GetRange(null, 0, 1));
                Assert.Throws<ArgumentNullException>(() => d.GetRange("x", 0, 1, null));
                Assert.Throws<ArgumentNullException>(() => d.GetRangeAsync(null, 0, 1));
                Assert.Throws<ArgumentNullException>(() => d.Rename("x", null));
                Assert.Throws<ArgumentNullException>(() => d.Stat(null));
                Assert.Throws<ArgumentNullException>(() => d.Delete(null));
            }
        }

        [Test]
        public void BadNamesAreInvalidArgumentBeforeAnyRequest()
        {
            using (var d = new OpenStackDestination(Url("container")))
            {
                OpenStackException e = Assert.Throws<OpenStackException>(() => d.Put("", new byte[] { 1 }));
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
                e = Assert.Throws<OpenStackException>(() => d.Put(new string('n', 1025), new byte[] { 1 }));
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            }
        }

        /// <summary>A negative offset or length is refused by the binding (a ulong would wrap it), synchronously
        /// by the Async forms too; so is a range that cannot fit a byte array.</summary>
        [Test]
        public void GetRangeChecksOffsetAndLength()
        {
            using (var d = new OpenStackDestination(Url("container")))
            {
                var target = new MemoryStream();
                ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => d.GetRange("a", -1, 1));
                Assert.That(e.ParamName, Is.EqualTo("offset"));
                e = Assert.Throws<ArgumentOutOfRangeException>(() => d.GetRange("a", 0, -1));
                Assert.That(e.ParamName, Is.EqualTo("length"));
                e = Assert.Throws<ArgumentOutOfRangeException>(() => d.GetRange("a", 0, (long)int.MaxValue + 1));
                Assert.That(e.ParamName, Is.EqualTo("length"));
                Assert.Throws<ArgumentOutOfRangeException>(() => d.GetRange("a", long.MinValue, 1, target));
                Assert.Throws<ArgumentOutOfRangeException>(() => d.GetRange("a", 0, -5, target));
                Assert.Throws<ArgumentOutOfRangeException>(() => d.GetRangeAsync("a", -1, 1));
                Assert.Throws<ArgumentOutOfRangeException>(() => d.GetRangeAsync("a", 0, -1, target));
                Assert.That(target.Length, Is.EqualTo(0));
            }
        }

        private static void AssertInvalidArgument(TestDelegate call, string what)
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
            Assert.That(e.HttpStatus, Is.EqualTo(0), what);
            TextAssert.Contains(e.Message, "NUL");
        }

        // The destination cannot reach anything (port 9): a string cut at its NUL would go to the
        // library and fail with Network; refused by the binding it is InvalidArgument, and no stream
        // is read, no file touched.
        [Test]
        public void NulInANameOrPathIsInvalidArgumentBeforeAnyNativeCall()
        {
            string dir = Path.Combine(Path.GetTempPath(), "osd-cs-nul-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string file = Path.Combine(dir, "a");
                File.WriteAllBytes(file, new byte[] { 1, 2, 3 });
                using (var d = new OpenStackDestination(Url("container")))
                {
                    var source = new TestStream(1000, true);
                    var target = new MemoryStream();
                    AssertInvalidArgument(() => d.Put("a\0b", new byte[] { 1 }), "Put(bytes)");
                    AssertInvalidArgument(() => d.Put("a\0b", source), "Put(stream)");
                    AssertInvalidArgument(() => d.Put("\0", source), "Put(stream) of \"\\0\"");
                    AssertInvalidArgument(() => d.PutFile("a\0b", file), "PutFile(name)");
                    AssertInvalidArgument(() => d.PutFile("a", file + "\0.bak"), "PutFile(path)");
                    AssertInvalidArgument(() => d.Get("a\0b"), "Get(name)");
                    AssertInvalidArgument(() => d.Get("a\0b", target), "Get(stream)");
                    AssertInvalidArgument(() => d.GetRange("a\0b", 0, 1), "GetRange");
                    AssertInvalidArgument(() => d.GetRange("a\0b", 0, 1, target), "GetRange(stream)");
                    AssertInvalidArgument(() => d.GetRangeAsync("a\0b", 0, 1).GetAwaiter().GetResult(), "GetRangeAsync");
                    AssertInvalidArgument(() => d.GetFile("a\0b", file), "GetFile(name)");
                    AssertInvalidArgument(() => d.GetFile("a", file + "\0.bak"), "GetFile(path)");
                    AssertInvalidArgument(() => d.Stat("keep\0x"), "Stat");
                    AssertInvalidArgument(() => d.Delete("keep\0x"), "Delete");
                    AssertInvalidArgument(() => d.Rename("keep\0x", "b"), "Rename(from)");
                    AssertInvalidArgument(() => d.Rename("a", "b\0x"), "Rename(to)");
                    AssertInvalidArgument(() => d.PutAsync("a\0b", source).GetAwaiter().GetResult(), "PutAsync");
                    AssertInvalidArgument(() => d.GetFileAsync("a", file + "\0").GetAwaiter().GetResult(), "GetFileAsync");
                    Assert.That(source.TotalRead, Is.EqualTo(0), "the source stream was read");
                    Assert.That(target.Length, Is.EqualTo(0));
                    Assert.That(File.ReadAllBytes(file), Is.EqualTo(new byte[] { 1, 2, 3 }));
                    Assert.That(Directory.GetFiles(dir).Length, Is.EqualTo(1), "a file was created next to the target");
                    // null stays ArgumentNullException; a valid name still reaches the library
                    Assert.Throws<ArgumentNullException>(() => d.Delete(null));
                    Assert.That(Assert.Throws<OpenStackException>(() => d.Delete("keep")).Status, Is.EqualTo(OpenStackStatus.Network));
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void NulInTheUrlOrAnOptionIsInvalidArgumentWithoutTheValue()
        {
            AssertInvalidArgument(() => new OpenStackDestination(Url("container\0/other")).Dispose(), "URL");
            AssertInvalidArgument(() => new OpenStackDestination(Url("container", "&openstack-region=Region\0Two")).Dispose(), "URL query");
            var options = new Dictionary<string, string> { { "openstack-region\0x", "RegionOne" } };
            AssertInvalidArgument(() => new OpenStackDestination(Url("container"), options).Dispose(), "option name");
            // The value may be a password: the message names the option, never the value.
            options = new Dictionary<string, string> { { "auth-password", "Nul-Secret-Pw\0tail" } };
            OpenStackException e = Assert.Throws<OpenStackException>(() =>
                new OpenStackDestination("openstack://container/p?auth-username=u&openstack-tenant-name=p&openstack-domain-name=Default&openstack-authuri=" + DeadAuth, options).Dispose());
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            TextAssert.Contains(e.Message, "auth-password");
            TextAssert.NotContains(e.Message, "Nul-Secret-Pw");
            TextAssert.NotContains(e.ToString(), "Nul-Secret-Pw");
        }

        [Test]
        public void LoneSurrogateInANameIsInvalidArgument()
        {
            // Encoded leniently it would become U+FFFD, another name.
            using (var d = new OpenStackDestination(Url("container")))
            {
                OpenStackException e = Assert.Throws<OpenStackException>(() => d.Put("a\uD800b", new byte[] { 1 }));
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
                e = Assert.Throws<OpenStackException>(() => d.Delete("\uDC00"));
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidArgument));
            }
        }

        [Test]
        public void UnreachableKeystoneIsNetworkError()
        {
            using (var d = new OpenStackDestination(Url("container")))
            {
                OpenStackException e = Assert.Throws<OpenStackException>(() => d.Test());
                Assert.That(e.Status, Is.EqualTo(OpenStackStatus.Network));
                Assert.That(e.HttpStatus, Is.EqualTo(0));
                Assert.That(e.Message, Is.Not.Empty);
                TextAssert.NotContains(e.Message, "Sekr1t-Offline-Pw");
            }
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
            using (var cts = new System.Threading.CancellationTokenSource())
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
            {
                foreach (string l in lines)
                    TextAssert.NotContains(l, "Sekr1t-Offline-Pw");
            }
        }
    }
}
