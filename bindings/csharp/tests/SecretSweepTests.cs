// The secret sweep's driver: the cases are the table tests/secret_sweep.txt, shared by every binding
// (its head documents the format). A secret must never appear in an exception (Message, ToString(),
// any property, Data, inner exceptions) nor in a line given to the logger at Debug; the parser's
// messages must still name what is wrong.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using NUnit.Framework;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class SecretSweepTests
    {
        private static readonly string Secret = "Sw33p-" + Guid.NewGuid().ToString("N").Substring(0, 16);
        private static readonly string UrlSecret = "Ur1nfo-" + Guid.NewGuid().ToString("N").Substring(0, 16);
        private readonly List<string> problems = new List<string>(), lines = new List<string>();
        private long logged;

        /// <summary>The rows of one kind (id, status, check, url, options), placeholders replaced once, textually, left to right.</summary>
        private static List<string[]> Cases(string kind, string container)
        {
            Func<string, string> env = n => kind == "parse" ? "http://-" : TestEnv.Require(n);
            Func<string, string> ui = n => env(n).Replace("://", "://proxyuser:" + UrlSecret + "@");
            var values = new Dictionary<string, string>
            {
                { "{S}", Secret }, { "{U}", UrlSecret }, { "{CONT}", container }, { "{USER}", TestEnv.Q(env("OSD_USER")) },
                { "{PROJECT}", TestEnv.Q(env("OSD_PROJECT")) }, { "{AUTH_V3}", env("OSD_AUTH_V3") }, { "{AUTH_V2}", env("OSD_AUTH_V2") },
                { "{SWIFT}", env("OSD_SWIFT1") }, { "{AUTH_V3_UI}", ui("OSD_AUTH_V3") }, { "{AUTH_V2_UI}", ui("OSD_AUTH_V2") }, { "{SWIFT_UI}", ui("OSD_SWIFT1") },
            };
            // left to right, each placeholder once (a value is never scanned again)
            Func<string, string> fill = text => System.Text.RegularExpressions.Regex.Replace(text, @"\{[A-Z0-9_]+\}", m => values.ContainsKey(m.Value) ? values[m.Value] : m.Value);
            var cases = new List<string[]>();
            foreach (string[] f in TestEnv.TableRows("tests/secret_sweep.txt"))
            {
                Assert.That(f.Length >= 5 && (f[0] == "parse" || f[0] == "server"), Is.True, string.Join("\t", f));
                if (f[0] == kind)
                    cases.Add(f.Skip(1).Select(fill).ToArray());
            }
            Assert.That(cases.Count, Is.GreaterThanOrEqualTo(10), "tests/secret_sweep.txt: " + kind + " cases");
            return cases;
        }

        private static IDictionary<string, string> Options(string[] k) =>
            k.Length <= 4 ? null : k.Skip(4).ToDictionary(o => o.Substring(0, o.IndexOf('=')), o => o.Substring(o.IndexOf('=') + 1));

        /// <summary>The status named in the table (a status name without OS_ERR_, e.g. INVALID_URL).</summary>
        private static OpenStackStatus StatusOf(string name) => (OpenStackStatus)Enum.Parse(typeof(OpenStackStatus), name.Replace("_", ""), true);

        private static bool Shows(string t) => t.Contains(Secret) || t.Contains(UrlSecret) || t.Contains("proxyuser");

        /// <summary>Everything a caller can read off an exception, inner ones included.</summary>
        private static IEnumerable<string> Texts(Exception e)
        {
            yield return e.ToString();
            for (Exception x = e; x != null; x = x.InnerException)
            {
                yield return x.Message;
                foreach (PropertyInfo p in x.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
                    yield return p.Name + "=" + Try(() => p.GetValue(x, null));
                foreach (DictionaryEntry d in x.Data)
                    yield return d.Key + "=" + d.Value;
            }
        }

        private static object Try(Func<object> get)
        {
            try { return get(); } catch (Exception) { return null; }
        }

        /// <summary>Records a leak in the exception, and in the log lines seen since the last call.</summary>
        private void Check(string id, Exception e)
        {
            string shown = e == null ? null : Texts(e).FirstOrDefault(Shows);
            if (shown != null)
                problems.Add("LEAK " + id + ": the exception shows the secret: " + shown);
            lock (lines)
            {
                logged += lines.Count;
                problems.AddRange(lines.Where(Shows).Select(l => "LEAK " + id + ": a log line shows the secret: " + l));
                lines.Clear();
            }
        }

        private void Sweep(Action body)
        {
            problems.Clear();
            logged = 0;
            OpenStackDestination.SetLogger((level, line) =>
            {
                lock (lines)
                {
                    if (!Enum.IsDefined(typeof(LogLevel), level))
                        problems.Add("a log line of an unknown level " + (int)level + ": " + line);
                    lines.Add(line);
                }
            }, LogLevel.Debug);
            try { body(); } finally { OpenStackDestination.SetLogger(null); }
            Assert.That(problems, Is.Empty, string.Join("\n", problems.ToArray()));
        }

        /// <summary>Runs a call that must fail with <paramref name="status"/> and <paramref name="http"/> (and a message that
        /// names <paramref name="check"/>, unless null), recording what is wrong and any leak.</summary>
        private void Expect(string id, Action call, string status, int http, string check)
        {
            try
            {
                call();
                problems.Add(id + ": succeeded");
                Check(id, null);
            }
            catch (OpenStackException e)
            {
                Check(id, e);
                if (e.Status != StatusOf(status) || e.HttpStatus != http || e.Message.Length == 0)
                    problems.Add(id + ": " + e.Status + " HTTP " + e.HttpStatus + " (" + e.Message + "), expected " + status + " HTTP " + http);
                else if (check != null && e.Message.IndexOf(check, StringComparison.OrdinalIgnoreCase) < 0)
                    problems.Add(id + ": the message does not name '" + check + "': " + e.Message);
            }
        }

        [Test]
        public void ParseCasesNeverOpenNorShowTheSecret()
        {
            Sweep(() =>
            {
                foreach (string[] k in Cases("parse", "c"))
                    Expect(k[0], () => new OpenStackDestination(k[3], Options(k)).Dispose(), k[1], 0, k[2] == "-" ? null : k[2]);
            });
        }

        [Test]
        public void ServerCasesFailWithTheirStatusAndNeverShowTheSecret()
        {
            TestEnv.RequireServer();
            string container = TestEnv.UniqueContainer("sweep");
            var calls = new Dictionary<string, Action<OpenStackDestination>>
            {
                { "Test", d => d.Test() }, { "List", d => d.List() }, { "Put", d => d.Put("sweep.bin", new byte[] { 1 }) },
                { "Get", d => d.Get("sweep.bin") }, { "Quota", d => d.Quota() },
            };
            try
            {
                Sweep(() =>
                {
                    foreach (string[] k in Cases("server", container))
                    {
                        OpenStackDestination d = null;
                        try { d = new OpenStackDestination(k[3], Options(k)); }
                        catch (OpenStackException e) { problems.Add(k[0] + ": open failed: " + e.Message); Check(k[0], e); }
                        using (d)
                            foreach (var call in d == null ? calls.Take(0) : calls)
                                Expect(k[0] + "/" + call.Key, () => call.Value(d), k[1], int.Parse(k[2]), null);
                    }
                });
            }
            finally
            {
                SwiftAdmin.DeleteContainer(container);
            }
            // The retries against the closed ports log warnings: proof that the log path was watched.
            Assert.That(logged, Is.GreaterThan(0), "no log line reached the logger");
        }
    }
}
