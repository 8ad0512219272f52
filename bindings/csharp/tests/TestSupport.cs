// Shared helpers: the test bed's environment, one assertion for "this call fails with this exception",
// a stream with special behaviour, and the swift CLI to see and remove containers.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;

namespace OpenStackDest.Tests
{
    internal static class TestEnv
    {
        private static readonly Random Rng = new Random();

        internal static string Get(string name) => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)) ? null : Environment.GetEnvironmentVariable(name);

        internal static string Require(string name)
        {
            if (Get(name) == null)
                Assert.Fail("the test bed's env.sh does not define " + name);
            return Get(name);
        }

        /// <summary>Ignores the test with the reason tests/openstack/server-env.sh gave (OSD_SERVER_SKIP); fails when nobody decided.</summary>
        internal static void RequireServer()
        {
            if (Get("OSD_SERVER_SKIP") != null)
                Assert.Ignore(Get("OSD_SERVER_SKIP"));
            if (Get("OSD_AUTH_V3") == null)
                Assert.Fail("neither OSD_AUTH_V3 nor OSD_SERVER_SKIP is set: run bindings/csharp/run-tests.sh, or source tests/openstack/server-env.sh first");
        }

        /// <summary>A file of the repository: under OSD_REPO_ROOT (run-tests.sh sets it), else found above the tests.</summary>
        internal static string RepoFile(string relative)
        {
            foreach (string start in new[] { Get("OSD_REPO_ROOT"), AppDomain.CurrentDomain.BaseDirectory })
                for (var dir = start == null ? null : new DirectoryInfo(start); dir != null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, relative)))
                        return Path.Combine(dir.FullName, relative);
            Assert.Fail(relative + " not found (set OSD_REPO_ROOT)");
            return null;
        }

        /// <summary>The rows of a shared table under tests/ (TAB-separated; empty lines and # comments skipped).</summary>
        internal static IEnumerable<string[]> TableRows(string relative)
        {
            foreach (string line in File.ReadAllLines(RepoFile(relative), Encoding.UTF8))
                if (line.Trim().Length > 0 && !line.StartsWith("#"))
                    yield return line.Split('\t');
        }

        internal static string UniqueContainer(string what)
        {
            lock (Rng)
                return "cs-" + what + "-" + DateTime.UtcNow.ToString("HHmmss") + "-" + Rng.Next(100000, 999999);
        }

        internal static string Q(string s) => Uri.EscapeDataString(s);

        internal static string V3Url(string container, string prefix = "") =>
            "openstack://" + container + "/" + prefix + "?auth-username=" + Q(Require("OSD_USER")) + "&auth-password=" + Q(Require("OSD_PASSWORD"))
            + "&openstack-tenant-name=" + Q(Require("OSD_PROJECT")) + "&openstack-domain-name=Default&openstack-authuri=" + Q(Require("OSD_AUTH_V3"))
            + "&openstack-version=v3&openstack-region=" + Q(Get("OSD_REGION1") ?? "RegionOne");

        internal static byte[] RandomBytes(int n)
        {
            var b = new byte[n];
            lock (Rng)
                Rng.NextBytes(b);
            return b;
        }

        internal static string Md5Hex(byte[] data)
        {
            using (var md5 = MD5.Create())
                return BitConverter.ToString(md5.ComputeHash(data)).Replace("-", "").ToLowerInvariant();
        }

        /// <summary><paramref name="call"/> throws exactly <typeparamref name="T"/>; an OpenStackException has a message,
        /// <paramref name="status"/> and <paramref name="http"/> (unless null / -1) and <paramref name="inMessage"/> in its message.</summary>
        internal static T Throws<T>(string what, TestDelegate call, OpenStackStatus? status = null, int http = -1, string inMessage = null) where T : Exception
        {
            Exception caught = null;
            try { call(); } catch (Exception e) { caught = e; }
            Assert.That(caught != null && caught.GetType() == typeof(T), Is.True, what + ": expected " + typeof(T).Name + ", got " + caught);
            var os = caught as OpenStackException;
            Assert.That(os == null || os.Message.Length > 0, Is.True, what + ": no message");
            if (status != null)
                Assert.That(os.Status, Is.EqualTo(status.Value), what + ": " + os.Message);
            if (http != -1)
                Assert.That(os.HttpStatus, Is.EqualTo(http), what + ": " + os.Message);
            if (inMessage != null)
                Contains(caught.Message, inMessage);
            return (T)caught;
        }

        /// <summary>Whether <paramref name="text"/> is in <paramref name="actual"/> as <paramref name="yes"/> says (a secret found is not printed).</summary>
        internal static void Contains(string actual, string text, bool yes = true) =>
            Assert.That(actual != null && actual.Contains(text), Is.EqualTo(yes), yes ? "expected \"" + text + "\" in: " + actual
                : "a secret or unexpected text appeared in: " + (actual ?? "").Replace(text, "<...>"));
    }

    /// <summary>
    /// The tests' stream: reads <c>length</c> deterministic pattern bytes made on the fly, or an inner stream's;
    /// writes into the inner stream (or only counts). Unless seekable it hides CanSeek, Length and Position like
    /// a pipe. OnRead (with the position) and OnWrite (with the bytes written) run after each read and write.
    /// </summary>
    internal sealed class TestStream : Stream
    {
        private readonly Stream inner;
        private readonly long length;
        private readonly bool seekable;
        private long position;
        internal long TotalRead, Written;
        internal Action<long> OnRead, OnWrite;

        internal TestStream(long length, bool seekable) { this.length = length; this.seekable = seekable; }

        internal TestStream(Stream inner) { this.inner = inner; }

        /// <summary>Reads and writes fine up to <paramref name="after"/> bytes, then throws <paramref name="error"/>.</summary>
        internal static TestStream Failing(long after, Exception error)
        {
            var s = new TestStream(1L << 40, false);
            s.OnRead = s.OnWrite = n => { if (n > after) throw error; };
            return s;
        }

        /// <summary>The first <paramref name="n"/> pattern bytes.</summary>
        internal static byte[] Pattern(int n)
        {
            var b = new byte[n];
            new TestStream(n, false).Read(b, 0, n);
            return b;
        }

        private static byte At(long i) => (byte)((ulong)i * 0x9E3779B97F4A7C15UL >> 56); // a cheap hash of the position

        public override bool CanRead => true;
        public override bool CanSeek => seekable;
        public override bool CanWrite => true;
        public override long Length => seekable ? length : Seek(0, SeekOrigin.End);
        public override long Position { get => Seek(0, SeekOrigin.Current); set => Seek(value, SeekOrigin.Begin); }
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner != null ? inner.Read(buffer, offset, count) : (int)Math.Max(0, Math.Min(count, length - position));
            for (int k = 0; inner == null && k < n; k++)
                buffer[offset + k] = At(position + k);
            position += n;
            TotalRead += n;
            if (n > 0)
                OnRead?.Invoke(position);
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner?.Write(buffer, offset, count);
            Written += count;
            OnWrite?.Invoke(Written);
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            if (!seekable)
                throw new NotSupportedException();
            long p = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? position + offset : length + offset;
            return position = p < 0 || p > length ? throw new IOException("seek out of range") : p;
        }
    }

    /// <summary>Sees and removes containers independently of the library: python-swiftclient's swift CLI
    /// (as the Rust tests use it), as the main test user, the secrets in its environment.</summary>
    internal static class SwiftAdmin
    {
        private static bool Swift(params string[] args)
        {
            var psi = new ProcessStartInfo("swift", string.Join(" ", args)) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string[] kv in new[] { new[] { "OS_AUTH_URL", "OSD_AUTH_V3" }, new[] { "OS_USERNAME", "OSD_USER" }, new[] { "OS_PASSWORD", "OSD_PASSWORD" },
                new[] { "OS_PROJECT_NAME", "OSD_PROJECT" }, new[] { "OS_REGION_NAME", "OSD_REGION1" } })
                psi.EnvironmentVariables[kv[0]] = TestEnv.Require(kv[1]);
            psi.EnvironmentVariables["OS_IDENTITY_API_VERSION"] = "3";
            psi.EnvironmentVariables["OS_USER_DOMAIN_NAME"] = psi.EnvironmentVariables["OS_PROJECT_DOMAIN_NAME"] = "Default";
            using (Process p = Process.Start(psi))
            {
                p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                return p.ExitCode == 0;
            }
        }

        internal static bool ContainerExists(string container) => Swift("stat", container);

        /// <summary>Deletes every object (every version first if <paramref name="versioned"/>: the library cannot empty a
        /// container that keeps versions), then the container; best effort.</summary>
        internal static void DeleteContainer(string container, bool versioned = false)
        {
            if (versioned)
                Swift("delete", "--versions", container);
            try
            {
                using (var d = new OpenStackDestination(TestEnv.V3Url(container)))
                    d.DeleteFolder(true);
            }
            catch (FolderMissingException) { }
            catch (Exception e) { Console.Error.WriteLine("cleanup of container " + container + " failed: " + e.Message); }
        }
    }
}
