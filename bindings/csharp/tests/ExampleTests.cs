// Runs the Duplicati-style example (examples/csharp) end to end against the test bed.
using System;
using System.IO;
using System.Linq;
using System.Text;
using NUnit.Framework;
using OpenStackDest.Examples;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class ExampleTests
    {
        [Test]
        public void UsageMessageWithoutArguments()
        {
            var stderr = new StringWriter();
            Assert.That(Program.Run(new string[0], new StringWriter(), stderr), Is.EqualTo(2));
            TestEnv.Contains(stderr.ToString(), "usage: BackupExample");
        }

        [Test]
        public void BacksUpAndRestoresADirectory()
        {
            TestEnv.RequireServer();
            string container = TestEnv.UniqueContainer("example");
            string src = Path.Combine(Path.GetTempPath(), "cs-example-src-" + Guid.NewGuid().ToString("N"));
            string dst = Path.Combine(Path.GetTempPath(), "cs-example-dst-" + Guid.NewGuid().ToString("N"));
            try
            {
                Directory.CreateDirectory(Path.Combine(src, "sub dir", "deeper"));
                File.WriteAllBytes(Path.Combine(src, "a.bin"), TestEnv.RandomBytes(300000));
                File.WriteAllText(Path.Combine(src, "sub dir", "ünï+code #1.txt"), "hello", Encoding.UTF8);
                File.WriteAllBytes(Path.Combine(src, "sub dir", "deeper", "empty"), new byte[0]);
                var stdout = new StringWriter();
                var stderr = new StringWriter();
                int rc = Program.Run(new[] { src, TestEnv.V3Url(container, "backup/"), dst }, stdout, stderr);
                Assert.That(rc, Is.EqualTo(0), stdout + "\n" + stderr);
                TestEnv.Contains(stdout.ToString(), "backed up 3 files, restored and verified 3");
                foreach (string f in Directory.GetFiles(src, "*", SearchOption.AllDirectories))
                {
                    string twin = dst + f.Substring(src.Length);
                    Assert.That(File.ReadAllBytes(twin), Is.EqualTo(File.ReadAllBytes(f)));
                }
                using (var d = new OpenStackDestination(TestEnv.V3Url(container, "backup/")))
                    Assert.That(d.List().Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray(),
                        Is.EqualTo(new[] { "a.bin", "backup-manifest.txt", "sub dir" }));
            }
            finally
            {
                SwiftAdmin.DeleteContainer(container);
                if (Directory.Exists(src))
                    Directory.Delete(src, true);
                if (Directory.Exists(dst))
                    Directory.Delete(dst, true);
            }
        }
    }
}
