// Callbacks that come back into the destination they are called from, against the real server: a
// progress callback or a logger that disposes of the destination, and a logger that uses it. None may
// hang the host; a Dispose from inside a call takes effect when the call returns. Each case runs on a
// task waited for with a timeout, so that a hang fails the test instead of the run.
using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class ReentrantTests
    {
        private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

        private static void Within(string what, Action action)
        {
            Task t = Task.Run(action);
            if (!t.Wait(Hang))
                Assert.Fail(what + " hung (no return in " + Hang.TotalSeconds + " s)");
        }

        [Test]
        public void DisposeFromAProgressCallbackTakesEffectWhenTheCallReturns()
        {
            TestEnv.RequireServer();
            string container = TestEnv.UniqueContainer("reent");
            var data = new byte[3 << 20];
            new Random(7).NextBytes(data);
            try
            {
                var d = new OpenStackDestination(TestEnv.V3Url(container));
                d.CreateFolder();
                int calls = 0;
                Exception inside = null;
                Within("Put with Dispose() in its progress callback", () =>
                    d.Put("disposed-inside.bin", new MemoryStream(data), CancellationToken.None, (done, total) =>
                    {
                        if (Interlocked.Increment(ref calls) != 1)
                            return;
                        d.Dispose();
                        try
                        {
                            d.Test();
                        }
                        catch (Exception e)
                        {
                            inside = e;
                        }
                    }));
                Assert.That(inside, Is.InstanceOf<ObjectDisposedException>(), "a new call from inside, after Dispose");
                Assert.Throws<ObjectDisposedException>(() => d.List());
                using (var other = new OpenStackDestination(TestEnv.V3Url(container)))
                {
                    var back = new MemoryStream();
                    other.Get("disposed-inside.bin", back);
                    Assert.That(back.ToArray(), Is.EqualTo(data), "the Put that was running finished");
                }
            }
            finally
            {
                SwiftAdmin.DeleteContainer(container);
            }
        }

        [Test]
        public void ALoggerMayUseAndDisposeTheDestinationThatIsLogging()
        {
            TestEnv.RequireServer();
            string container = TestEnv.UniqueContainer("reentlog");
            var d = new OpenStackDestination(TestEnv.V3Url(container));
            var closer = new OpenStackDestination(TestEnv.V3Url(container));
            int used = 0, closed = 0, phase = 0;
            Exception inLogger = null;
            // Any line logged during each call: destinations of one identity share one token, so
            // "authenticated" comes once per process, not once per destination.
            OpenStackDestination.SetLogger((level, line) =>
            {
                try
                {
                    // The line comes while the destination is inside a call.
                    if (phase == 1 && Interlocked.Exchange(ref used, 1) == 0)
                        d.Quota();
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
            Assert.That(used, Is.EqualTo(1));
            Assert.That(closed, Is.EqualTo(1));
            Assert.Throws<ObjectDisposedException>(() => closer.Test());
            d.Dispose();
            SwiftAdmin.DeleteContainer(container);
        }
    }
}
