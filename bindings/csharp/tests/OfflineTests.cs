// The binding without a server: os_entry's layout and conversion, the ABI check, each status's exception
// (one table), secrets scrubbed, the binding's own argument checks (one table), disposal, a logger that throws.
// What the library refuses and answers: tests/c/test_calls.inc and test_main.c; the URL parser's
// refusals: the parse cases of the secret sweep.
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

        private static string Url(string containerAndPrefix, string extra = "") =>
            "openstack://" + containerAndPrefix + "?auth-username=someone&auth-password=Sekr1t-Offline-Pw"
            + "&openstack-tenant-name=proj&openstack-domain-name=Default&openstack-authuri=" + Uri.EscapeDataString(DeadAuth) + extra;

        private static MethodInfo Internal(string type, string method) =>
            typeof(OpenStackDestination).Assembly.GetType("OpenStackDest." + type, true).GetMethod(method, Hidden);

        /// <summary>The P/Invoke struct has the C layout of os_entry on 64-bit platforms (as the C tests check); an
        /// os_entry in native memory becomes a RemoteEntry of that kind, -1 times as DateTime.MinValue (unknown);
        /// an unknown kind is an error (Panic).</summary>
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
                MethodInfo toEntry = Internal("Interop", "ToEntry");
                if (kind == null)
                {
                    var ex = Assert.Throws<TargetInvocationException>(() => toEntry.Invoke(null, new object[] { native, null }));
                    Assert.That(((OpenStackException)ex.InnerException).Status, Is.EqualTo(OpenStackStatus.Panic));
                    return;
                }
                var e = (RemoteEntry)toEntry.Invoke(null, new object[] { native, null });
                Assert.That(new object[] { e.Kind, e.IsFolder, e.ETagIsMd5, e.Name, e.Size }, Is.EqualTo(new object[] { kind.Value, code == 3, etagIsMd5, "n", 5L }));
                Assert.That(new[] { e.LastModified, e.FileTime, e.DeleteAt }, Is.All.EqualTo(DateTime.MinValue));
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

        /// <summary>Every status the header defines becomes its exception type with the library's message, status and HTTP
        /// status (Cancelled: OperationCanceledException of the call's token if it was cancelled); no message: the status's
        /// name. Which status each call gives: tests/c/test_calls.inc; that message, HTTP status and transaction get here
        /// from a real failure: ServerTests.LibraryErrorsReachTheExceptionOnEachPath.</summary>
        [Test]
        public void EachStatusBecomesItsException()
        {
            MethodInfo errorOf = Internal("Interop", "ErrorOf");
            var types = new Dictionary<OpenStackStatus, Type>
            {
                { OpenStackStatus.NotFound, typeof(FileMissingException) }, { OpenStackStatus.ContainerNotFound, typeof(FolderMissingException) },
                { OpenStackStatus.ContainerNotEmpty, typeof(FolderNotEmptyException) }, { OpenStackStatus.Cancelled, typeof(OperationCanceledException) },
            };
            const string message = "it failed (HTTP 404, transaction tx1)";
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                foreach (OpenStackStatus s in Enum.GetValues(typeof(OpenStackStatus)))
                {
                    if (s == OpenStackStatus.Ok)
                        continue;
                    var e = (Exception)errorOf.Invoke(null, new object[] { s, message, 404, cts.Token });
                    Assert.That(new object[] { e.GetType(), e.Message }, Is.EqualTo(new object[] { types.ContainsKey(s) ? types[s] : typeof(OpenStackException), message }), s.ToString());
                    if (s == OpenStackStatus.Cancelled)
                        Assert.That(((OperationCanceledException)e).CancellationToken, Is.EqualTo(cts.Token));
                    else
                        Assert.That(new object[] { ((OpenStackException)e).Status, ((OpenStackException)e).HttpStatus }, Is.EqualTo(new object[] { s, 404 }));
                    e = (Exception)errorOf.Invoke(null, new object[] { s, "", 0, CancellationToken.None });
                    Assert.That(e.Message.StartsWith("OS_ERR_"), Is.True, s + ": " + e.Message);
                    if (s == OpenStackStatus.Cancelled)
                        Assert.That(((OperationCanceledException)e).CancellationToken, Is.EqualTo(CancellationToken.None));
                }
            }
        }

        /// <summary>Defence in depth, which the secret sweep cannot show (the library leaves no secret to hide): the secrets
        /// of the URL (query, raw and percent-decoded, and userinfo) and of the options dictionary, as the library names
        /// secret options, are replaced in a message the binding passes on; other values stay.</summary>
        [Test]
        public void TheSecretsTheBindingWasGivenAreScrubbed()
        {
            var secrets = (string[])Internal("Interop", "CollectSecrets").Invoke(null, new object[] { "openstack://user:Us3r-Pw@c/p?auth-password=Qu3ry%2BPw"
                + "&openstack-region=RegionOne", new Dictionary<string, string> { { "openstack-application-credential-secret", "M4p-Secret" }, { "auth-username", "N0t-Secret" } } });
            string scrubbed = (string)Internal("Interop", "Scrub").Invoke(null, new object[] { "Us3r-Pw Qu3ry+Pw Qu3ry%2BPw M4p-Secret N0t-Secret RegionOne", secrets });
            Assert.That(scrubbed, Is.EqualTo("*** *** *** *** N0t-Secret RegionOne"));
        }

        /// <summary>
        /// Every argument the binding refuses itself, by each call that takes it: null is ArgumentNullException, a bad
        /// range ArgumentOutOfRangeException (a ulong would wrap it, so the Async forms check synchronously); a NUL
        /// (a string cut at it would reach the library and fail with Network: port 9), a lone surrogate (encoded
        /// leniently it would become U+FFFD, another name) or two expiries are InvalidArgument with no HTTP status. No
        /// stream is read, no file touched. What the library itself refuses (empty, long or bad names and version
        /// ids, reserved metadata): tests/c/test_calls.inc (BAD_NAMES, t_null_args), test_main.c (t_put_options_args).
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
                    Refuses<OpenStackException>(null, () => d.Put("a\uD800b", new byte[] { 1 }), () => d.Delete("\uDC00"),
                        () => d.Put("x", new byte[] { 1 }, new PutOptions { DeleteAfter = TimeSpan.FromDays(1), NoExpiry = true }));
                    Assert.That(source.TotalRead, Is.EqualTo(0), "the source stream was read");
                    Assert.That(target.Length, Is.EqualTo(0));
                    Assert.That(File.ReadAllBytes(file), Is.EqualTo(new byte[] { 1, 2, 3 }));
                    Assert.That(Directory.GetFiles(dir).Length, Is.EqualTo(1), "a file was created next to the target");
                    // a valid name still reaches the library, which cannot reach Keystone
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

        /// <summary>A logger's exception stays in the binding (the call fails as it would anyway); null turns logging off.
        /// The lines themselves (levels, no secret): tests/c/test_server.inc t_log_callback and the secret sweep.</summary>
        [Test]
        public void ALoggerThatThrowsIsIgnoredAndNullTurnsItOff()
        {
            int calls = 0;
            using (var d = new OpenStackDestination(Url("container", "&number-of-retries=1&retry-delay=0s")))
            {
                OpenStackDestination.SetLogger((level, line) => { Interlocked.Increment(ref calls); throw new InvalidOperationException("from the logger"); }, LogLevel.Debug);
                try
                {
                    TestEnv.Throws<OpenStackException>("with a throwing logger", () => d.Delete("keep"), OpenStackStatus.Network, 0);
                }
                finally
                {
                    OpenStackDestination.SetLogger(null);
                }
                Assert.That(calls, Is.GreaterThan(0), "no line reached the logger");
                int before = calls;
                TestEnv.Throws<OpenStackException>("without a logger", () => d.Delete("keep"), OpenStackStatus.Network, 0);
                Assert.That(calls, Is.EqualTo(before));
            }
        }
    }
}
