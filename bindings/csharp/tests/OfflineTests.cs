// Tests that need the library but no server: URL validation, argument checks, disposal, network errors.
using System;
using System.Collections.Generic;
using System.IO;
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

        [Test]
        public void VersionIsReported()
        {
            TextAssert.Matches(OpenStackDestination.Version, @"^\d+\.\d+\.\d+");
        }

        [Test]
        public void ValidUrlOpensWithoutNetwork()
        {
            using (var d = new OpenStackDestination(Url("container/some/prefix")))
                Assert.That(d, Is.Not.Null);
        }

        [Test]
        public void WrongSchemeIsInvalidUrl()
        {
            OpenStackException e = OpenFails("http://container/prefix?auth-username=a&auth-password=b&openstack-authuri=" + DeadAuth);
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidUrl));
            Assert.That(e.HttpStatus, Is.EqualTo(0));
        }

        [Test]
        public void GarbageIsInvalidUrl()
        {
            Assert.That(OpenFails("not a url at all").Status, Is.EqualTo(OpenStackStatus.InvalidUrl));
        }

        [Test]
        public void EmptyContainerIsInvalidUrl()
        {
            Assert.That(OpenFails(Url("/prefix")).Status, Is.EqualTo(OpenStackStatus.InvalidUrl));
        }

        [Test]
        public void MissingUsernameIsInvalidUrlNamingTheOption()
        {
            OpenStackException e = OpenFails("openstack://c/p?auth-password=Sekr1t-Offline-Pw&openstack-tenant-name=x&openstack-authuri=" + DeadAuth);
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidUrl));
            TextAssert.Contains(e.Message, "auth-username");
            TextAssert.NotContains(e.Message, "Sekr1t-Offline-Pw");
        }

        [Test]
        public void MissingAuthUriIsInvalidUrlNamingTheOption()
        {
            OpenStackException e = OpenFails("openstack://c/p?auth-username=u&auth-password=Sekr1t-Offline-Pw&openstack-tenant-name=x");
            Assert.That(e.Status, Is.EqualTo(OpenStackStatus.InvalidUrl));
            TextAssert.Contains(e.Message, "openstack-authuri");
            TextAssert.NotContains(e.Message, "Sekr1t-Offline-Pw");
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
                var stream = new PatternStream(1000, true);
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
