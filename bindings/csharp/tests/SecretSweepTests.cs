// The secret sweep's driver: the cases are the table tests/secret_sweep.txt, shared by every binding
// (its head documents the format). A secret must never appear in an exception (Message, ToString(),
// any property, Data, inner exceptions) nor in a line given to the logger at Debug; the parser's
// messages must still name what is wrong.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Reflection;
using System.Text;
using NUnit.Framework;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class SecretSweepTests
    {
        private static readonly string Secret = "Sw33p-" + Guid.NewGuid().ToString("N").Substring(0, 16);
        private static readonly string UrlSecret = "Ur1nfo-" + Guid.NewGuid().ToString("N").Substring(0, 16);

        private sealed class Case
        {
            internal string Id, Status, Check, Url;
            internal IDictionary<string, string> Options;
        }

        private static string UI(string url)
        {
            return url.Replace("://", "://proxyuser:" + UrlSecret + "@");
        }

        /// <summary>The cases of one kind, placeholders replaced once, textually, left to right.</summary>
        private static List<Case> Cases(string kind, string container)
        {
            Func<string, string> env = n => kind == "parse" ? "http://-" : TestEnv.Require(n);
            var values = new Dictionary<string, string>
            {
                { "{S}", Secret }, { "{U}", UrlSecret }, { "{CONT}", container },
                { "{USER}", TestEnv.Q(env("OSD_USER")) }, { "{PROJECT}", TestEnv.Q(env("OSD_PROJECT")) },
                { "{AUTH_V3}", env("OSD_AUTH_V3") }, { "{AUTH_V2}", env("OSD_AUTH_V2") }, { "{SWIFT}", env("OSD_SWIFT1") },
                { "{AUTH_V3_UI}", UI(env("OSD_AUTH_V3")) }, { "{AUTH_V2_UI}", UI(env("OSD_AUTH_V2")) },
                { "{SWIFT_UI}", UI(env("OSD_SWIFT1")) },
            };
            Func<string, string> fill = text =>
            {
                var sb = new StringBuilder();
                for (int i = 0; i < text.Length;)
                {
                    string key = null;
                    foreach (string k in values.Keys)
                        if (string.CompareOrdinal(text, i, k, 0, k.Length) == 0)
                            key = k;
                    sb.Append(key == null ? text[i].ToString() : values[key]);
                    i += key == null ? 1 : key.Length;
                }
                return sb.ToString();
            };
            var cases = new List<Case>();
            foreach (string[] f in TestEnv.TableRows("tests/secret_sweep.txt"))
            {
                Assert.That(f.Length >= 5 && (f[0] == "parse" || f[0] == "server"), Is.True, string.Join("\t", f));
                if (f[0] != kind)
                    continue;
                var k = new Case { Id = f[1], Status = f[2], Check = f[3], Url = fill(f[4]) };
                for (int i = 5; i < f.Length; i++)
                {
                    k.Options = k.Options ?? new Dictionary<string, string>();
                    string o = fill(f[i]);
                    int eq = o.IndexOf('=');
                    k.Options[o.Substring(0, eq)] = o.Substring(eq + 1);
                }
                cases.Add(k);
            }
            Assert.That(cases.Count, Is.GreaterThanOrEqualTo(10), "tests/secret_sweep.txt: " + kind + " cases");
            return cases;
        }

        /// <summary>The status named in the table (a status name without OS_ERR_, e.g. INVALID_URL).</summary>
        private static OpenStackStatus StatusOf(string name)
        {
            return (OpenStackStatus)Enum.Parse(typeof(OpenStackStatus), name.Replace("_", ""), true);
        }

        /// <summary>Everything a caller can read off an exception, inner ones included.</summary>
        private static IEnumerable<string> Texts(Exception e)
        {
            yield return e.ToString();
            for (Exception x = e; x != null; x = x.InnerException)
            {
                yield return x.Message;
                foreach (PropertyInfo p in x.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (p.GetIndexParameters().Length > 0)
                        continue;
                    object v;
                    try
                    {
                        v = p.GetValue(x, null);
                    }
                    catch (Exception)
                    {
                        continue;
                    }
                    if (v != null)
                        yield return p.Name + "=" + v;
                }
                foreach (DictionaryEntry d in x.Data)
                    yield return d.Key + "=" + d.Value;
            }
        }

        private static bool Shows(string t)
        {
            return t.Contains(Secret) || t.Contains(UrlSecret) || t.Contains("proxyuser");
        }

        private sealed class Problems : List<string>
        {
            private readonly List<string> lines = new List<string>();
            internal long Seen;

            internal void Error(string id, Exception e)
            {
                foreach (string t in Texts(e))
                {
                    if (Shows(t))
                    {
                        Add("LEAK " + id + ": the exception shows the secret: " + t);
                        return;
                    }
                }
            }

            internal void Log(LogLevel level, string line)
            {
                lock (lines)
                {
                    if (!Enum.IsDefined(typeof(LogLevel), level))
                        Add("a log line of an unknown level " + (int)level + ": " + line);
                    lines.Add(line);
                }
            }

            internal void Logs(string id)
            {
                lock (lines)
                {
                    Seen += lines.Count;
                    foreach (string l in lines)
                        if (Shows(l))
                            Add("LEAK " + id + ": a log line shows the secret: " + l);
                    lines.Clear();
                }
            }
        }

        private static void Sweep(Action<Problems> body)
        {
            var problems = new Problems();
            OpenStackDestination.SetLogger(problems.Log, LogLevel.Debug);
            try
            {
                body(problems);
            }
            finally
            {
                OpenStackDestination.SetLogger(null);
            }
            Assert.That(problems, Is.Empty, string.Join("\n", problems.ToArray()));
        }

        [Test]
        public void ParseCasesNeverOpenNorShowTheSecret()
        {
            Sweep(problems =>
            {
                foreach (Case k in Cases("parse", "c"))
                {
                    try
                    {
                        new OpenStackDestination(k.Url, k.Options).Dispose();
                        problems.Add(k.Id + ": opened");
                    }
                    catch (OpenStackException e)
                    {
                        problems.Error(k.Id, e);
                        if (e.Status != StatusOf(k.Status) || e.HttpStatus != 0 || e.Message.Length == 0)
                            problems.Add(k.Id + ": " + e.Status + " HTTP " + e.HttpStatus + " (" + e.Message + "), expected " + k.Status);
                        else if (k.Check != "-" && e.Message.IndexOf(k.Check, StringComparison.OrdinalIgnoreCase) < 0)
                            problems.Add(k.Id + ": the message does not name '" + k.Check + "': " + e.Message);
                    }
                    problems.Logs(k.Id);
                }
            });
        }

        [Test]
        public void ServerCasesFailWithTheirStatusAndNeverShowTheSecret()
        {
            TestEnv.RequireServer();
            string container = TestEnv.UniqueContainer("sweep");
            var calls = new KeyValuePair<string, Action<OpenStackDestination>>[]
            {
                new KeyValuePair<string, Action<OpenStackDestination>>("Test", d => d.Test()),
                new KeyValuePair<string, Action<OpenStackDestination>>("List", d => d.List()),
                new KeyValuePair<string, Action<OpenStackDestination>>("Put", d => d.Put("sweep.bin", new byte[] { 1 })),
                new KeyValuePair<string, Action<OpenStackDestination>>("Get", d => d.Get("sweep.bin")),
            };
            long seen = 0;
            try
            {
                Sweep(problems =>
                {
                    foreach (Case k in Cases("server", container))
                    {
                        OpenStackDestination d;
                        try
                        {
                            d = new OpenStackDestination(k.Url, k.Options);
                        }
                        catch (OpenStackException e)
                        {
                            problems.Error(k.Id, e);
                            problems.Add(k.Id + ": open failed: " + e.Message);
                            problems.Logs(k.Id);
                            continue;
                        }
                        using (d)
                        {
                            foreach (var call in calls)
                            {
                                string id = k.Id + "/" + call.Key;
                                try
                                {
                                    call.Value(d);
                                    problems.Add(id + ": succeeded");
                                }
                                catch (OpenStackException e)
                                {
                                    problems.Error(id, e);
                                    if (e.Status != StatusOf(k.Status) || e.HttpStatus != int.Parse(k.Check))
                                        problems.Add(id + ": " + e.Status + " HTTP " + e.HttpStatus + " (" + e.Message + "), expected "
                                            + k.Status + " HTTP " + k.Check);
                                }
                            }
                        }
                        problems.Logs(k.Id);
                    }
                    seen = problems.Seen;
                });
            }
            finally
            {
                SwiftAdmin.DeleteContainer(container);
            }
            // The retries against the closed ports log warnings: proof that the log path was watched.
            Assert.That(seen, Is.GreaterThan(0), "no log line reached the logger");
        }
    }
}
