// Backs up a directory to an openstack:// URL through the Duplicati-style backend contract (Backend.cs),
// the way Duplicati's engine drives a backend: TestAsync, CreateFolderAsync when the folder is missing,
// PutAsync per file, ListAsync, GetAsync; then restores and checks every file against the SHA-256
// recorded in a manifest uploaded with the backup, and reports the quota.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace OpenStackDest.Examples
{
    public static class Program
    {
        private const string Manifest = "backup-manifest.txt";

        private const string Usage =
@"usage: BackupExample <source-directory> <openstack-url> [restore-directory]

Uploads every file under <source-directory> to the destination (names relative to the directory),
plus a manifest, then downloads everything into [restore-directory] (default: a new temporary
directory) and verifies each file's SHA-256.

  openstack-url  openstack://<container>/<prefix>?auth-username=..&auth-password=..
                 &openstack-tenant-name=..&openstack-authuri=http://host:5000/v3[&openstack-region=..]
                 (quote it in the shell: it contains '&')

The native library is found through OPENSTACK_DEST_LIB (full path), next to the program, or the
system loader (LD_LIBRARY_PATH).";

        public static int Main(string[] args)
        {
            return Run(args, Console.Out, Console.Error);
        }

        /// <summary>The program, callable from tests. 0 = verified, 1 = failed, 2 = usage.</summary>
        public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
        {
            if (args.Length < 2 || args.Length > 3 || args[0] == "-h" || args[0] == "--help")
            {
                stderr.WriteLine(Usage);
                return 2;
            }
            string source = Path.GetFullPath(args[0]);
            if (!Directory.Exists(source))
            {
                stderr.WriteLine("not a directory: " + source);
                stderr.WriteLine(Usage);
                return 2;
            }
            string restore = args.Length == 3
                ? Path.GetFullPath(args[2])
                : Path.Combine(Path.GetTempPath(), "openstack-restore-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            try
            {
                using (IStreamingBackend backend = new OpenStackBackend(args[1]))
                {
                    stdout.WriteLine("destination: " + backend.DisplayName);
                    try
                    {
                        Wait(backend.TestAsync(CancellationToken.None));
                    }
                    catch (FolderMissingException)
                    {
                        stdout.WriteLine("container missing: creating it");
                        Wait(backend.CreateFolderAsync(CancellationToken.None));
                        Wait(backend.TestAsync(CancellationToken.None));
                    }
                    int files = Backup(backend, source, stdout);
                    int restored = Restore(backend, restore, stdout);
                    stdout.WriteLine("backed up " + files + " files, restored and verified " + restored + " into " + restore);
                    var quotaBackend = backend as IQuotaEnabledBackend;
                    if (quotaBackend != null)
                    {
                        IQuotaInfo q = quotaBackend.GetQuotaInfoAsync(CancellationToken.None).GetAwaiter().GetResult();
                        stdout.WriteLine("quota: " + (q.TotalQuotaSpace < 0 ? "none" : q.TotalQuotaSpace + " bytes, " + q.FreeQuotaSpace + " free"));
                    }
                    return 0;
                }
            }
            catch (OpenStackException e)
            {
                stderr.WriteLine("error (" + e.Status + (e.HttpStatus != 0 ? ", HTTP " + e.HttpStatus : "") + "): " + e.Message);
            }
            catch (Exception e)
            {
                stderr.WriteLine("error: " + e.Message);
            }
            return 1;
        }

        private static void Wait(System.Threading.Tasks.Task t)
        {
            t.GetAwaiter().GetResult(); // rethrows the task's own exception (not an AggregateException)
        }

        private static string Sha256(string path)
        {
            using (var sha = SHA256.Create())
            using (var f = File.OpenRead(path))
                return BitConverter.ToString(sha.ComputeHash(f)).Replace("-", "").ToLowerInvariant();
        }

        private static int Backup(IStreamingBackend backend, string source, TextWriter stdout)
        {
            var manifest = new StringBuilder();
            int count = 0;
            foreach (string path in Directory.GetFiles(source, "*", SearchOption.AllDirectories).OrderBy(p => p, StringComparer.Ordinal))
            {
                string name = path.Substring(source.Length).TrimStart(Path.DirectorySeparatorChar).Replace(Path.DirectorySeparatorChar, '/');
                using (var f = File.OpenRead(path))
                    Wait(backend.PutAsync(name, f, CancellationToken.None));
                manifest.Append(Sha256(path)).Append('\t').Append(new FileInfo(path).Length.ToString(CultureInfo.InvariantCulture))
                    .Append('\t').Append(name).Append('\n');
                stdout.WriteLine("  put " + name);
                count++;
            }
            using (var m = new MemoryStream(Encoding.UTF8.GetBytes(manifest.ToString())))
                Wait(backend.PutAsync(Manifest, m, CancellationToken.None));
            return count;
        }

        private static int Restore(IStreamingBackend backend, string target, TextWriter stdout)
        {
            if (!backend.ListAsync(CancellationToken.None).GetAwaiter().GetResult().Any(e => e.Name == Manifest && !e.IsFolder))
                throw new InvalidOperationException("no " + Manifest + " at the destination");
            var m = new MemoryStream();
            Wait(backend.GetAsync(Manifest, m, CancellationToken.None));
            int count = 0;
            foreach (string line in Encoding.UTF8.GetString(m.ToArray()).Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = line.Split(new[] { '\t' }, 3);
                string name = parts[2];
                string path = Path.Combine(target, name.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(path));
                // the file form of GetAsync (IBackend); the streaming form is used for the manifest
                Wait(backend.GetAsync(name, path, CancellationToken.None));
                if (Sha256(path) != parts[0] || new FileInfo(path).Length.ToString(CultureInfo.InvariantCulture) != parts[1])
                    throw new InvalidDataException("restored " + name + " differs from the backup");
                stdout.WriteLine("  got " + name + " (verified)");
                count++;
            }
            return count;
        }
    }
}
