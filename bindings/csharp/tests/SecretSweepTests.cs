// One secret, every option that can hold one, every error path this binding can reach: it must never
// appear in an exception (Message, ToString(), any property, Data, inner exceptions) nor in a line given
// to the logger at Debug; the parser's messages must still name what is wrong. A second secret goes in
// only as the userinfo password of the URL-valued options (openstack-authuri, openstack-storage-url),
// so that the library cannot hide it merely because it learned it as a secret option.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Reflection;
using NUnit.Framework;

namespace OpenStackDest.Tests
{
    [TestFixture]
    public class SecretSweepTests
    {
        private const string Closed = "http://127.0.0.1:9"; // nothing listens on the discard port
        private const string Fast = "number-of-retries=0&short-timeout=5s&read-write-timeout=5s";

        private sealed class Case
        {
            internal string Id, Url, Word;
            internal IDictionary<string, string> Options;
            internal OpenStackStatus Status;
            internal int Http;
        }

        private static Case Parse(string id, string url, string word, IDictionary<string, string> options = null)
        {
            return new Case { Id = id, Url = url, Word = word, Options = options, Status = OpenStackStatus.InvalidUrl };
        }

        private static Case Fails(string id, string url, OpenStackStatus status, int http, IDictionary<string, string> options = null)
        {
            return new Case { Id = id, Url = url, Options = options, Status = status, Http = http };
        }

        /// <summary><paramref name="url"/> with proxyuser:<paramref name="secret"/>@ in front of its host.</summary>
        private static string UI(string url, string secret)
        {
            int i = url.IndexOf("://", StringComparison.Ordinal) + 3;
            return url.Substring(0, i) + "proxyuser:" + secret + "@" + url.Substring(i);
        }

        private static IEnumerable<Case> ParseCases(string s, string u)
        {
            string dead = Closed + "/v3";
            string q = "auth-username=u&openstack-tenant-name=p&openstack-domain-name=Default";
            string pw = q + "&auth-password=" + s;
            yield return Parse("wrong-scheme", "s3://c/p?" + pw + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("wrong-scheme-userinfo", "s3://u:" + s + "@c/p?" + q + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("one-slash", "openstack:/c?auth-password=" + s + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("one-slash-full", "openstack:/c/p?" + pw + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("one-slash-userinfo", "openstack:/u:" + s + "@c/p?" + q + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("no-slash-userinfo", "openstack:u:" + s + "@c/p?" + q + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("no-scheme", "c/p?" + pw + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("no-scheme-userinfo", "u:" + s + "@c/p?" + q + "&openstack-authuri=" + dead, "openstack://");
            yield return Parse("no-container", "openstack:///p?" + pw + "&openstack-authuri=" + dead, "container");
            yield return Parse("no-container-userinfo", "openstack://u:" + s + "@/p?" + q + "&openstack-authuri=" + dead, "container");
            yield return Parse("bad-short-timeout", "openstack://c/p?" + pw + "&openstack-authuri=" + dead + "&short-timeout=banana", "short-timeout");
            yield return Parse("bad-rw-timeout", "openstack://c/p?" + pw + "&openstack-authuri=" + dead + "&read-write-timeout=-3s", "read-write-timeout");
            yield return Parse("bad-list-timeout", "openstack://c/p?" + pw + "%2B%25&openstack-authuri=" + dead + "&list-timeout=12parsecs", "list-timeout");
            yield return Parse("bad-retries", "openstack://u:" + s + "@c/p?" + q + "&openstack-authuri=" + dead + "&number-of-retries=many", "number-of-retries");
            yield return Parse("bad-retry-delay", "openstack://c/p?" + pw + "&openstack-authuri=" + dead
                + "&openstack-application-credential-secret=" + s + "&retry-delay=soon", "retry-delay");
            yield return Parse("bad-version", "openstack://c/p?" + pw + "&openstack-authuri=" + dead + "&openstack-version=v9", "openstack-version");
            yield return Parse("bad-authuri", "openstack://c/p?" + pw + "&openstack-authuri=not-a-uri", "openstack-authuri");
            yield return Parse("bad-authuri-scheme", "openstack://c/p?" + pw + "&openstack-authuri=ftp://h/v3", "openstack-authuri");
            yield return Parse("apikey-with-v3", "openstack://c/p?" + q + "&openstack-apikey=" + s + "&openstack-authuri=" + dead, "openstack-apikey");
            yield return Parse("token-without-storage-url", "openstack://c/p?openstack-auth-token=" + s, "openstack-storage-url");
            yield return Parse("bad-storage-url", "openstack://c/p?openstack-storage-url=not-a-url&openstack-auth-token=" + s, "openstack-storage-url");
            yield return Parse("app-secret-no-password", "openstack://c/p?" + q + "&openstack-application-credential-secret=" + s
                + "&openstack-authuri=" + dead, "auth-password");
            yield return Parse("options-map-password", "openstack://c/p?short-timeout=banana", "short-timeout", new Dictionary<string, string>
            {
                { "auth-username", "u" }, { "auth-password", s }, { "openstack-application-credential-secret", s },
                { "openstack-tenant-name", "p" }, { "openstack-domain-name", "Default" }, { "openstack-authuri", dead },
            });
            yield return Parse("options-map-apikey", "openstack://c/p?openstack-version=v9", "openstack-version", new Dictionary<string, string>
            {
                { "auth-username", "u" }, { "openstack-apikey", s }, { "openstack-authuri", Closed + "/v2.0" },
            });
            yield return Parse("options-map-token", "openstack://c/p?read-write-timeout=banana", "read-write-timeout", new Dictionary<string, string>
            {
                { "openstack-storage-url", Closed + "/v1/AUTH_x" }, { "openstack-auth-token", s },
            });
            yield return Parse("authuri-userinfo-bad-scheme", "openstack://c/p?" + q + "&auth-password=p&openstack-authuri=ftp://proxyuser:" + u + "@h/v3",
                "openstack-authuri");
            yield return Parse("authuri-userinfo-bad-timeout", "openstack://c/p?" + q + "&auth-password=p&openstack-authuri=" + UI(dead, u)
                + "&short-timeout=banana", "short-timeout");
            yield return Parse("storage-url-userinfo-no-token", "openstack://c/p?openstack-storage-url=" + UI(Closed, u) + "/v1/AUTH_x",
                "openstack-auth-token");
            yield return Parse("options-map-url-userinfo", "openstack://c/p?list-timeout=banana", "list-timeout", new Dictionary<string, string>
            {
                { "auth-username", "u" }, { "auth-password", "p" }, { "openstack-authuri", UI(dead, u) },
                { "openstack-storage-url", UI(Closed, u) + "/v1/AUTH_x" },
            });
        }

        private static IEnumerable<Case> ServerCases(string s, string u, string c)
        {
            string user = TestEnv.Q(TestEnv.Require("OSD_USER")), project = TestEnv.Q(TestEnv.Require("OSD_PROJECT"));
            string v3 = "openstack-tenant-name=" + project + "&openstack-domain-name=Default&openstack-authuri=" + TestEnv.Require("OSD_AUTH_V3") + "&" + Fast;
            string v2 = "openstack-tenant-name=" + project + "&openstack-authuri=" + TestEnv.Require("OSD_AUTH_V2") + "&" + Fast;
            const OpenStackStatus Auth = OpenStackStatus.Auth, Net = OpenStackStatus.Network;
            yield return Fails("v3-wrong-password", "openstack://" + c + "/p?auth-username=" + user + "&auth-password=" + s + "&" + v3, Auth, 401);
            yield return Fails("v3-wrong-userinfo-password", "openstack://" + user + ":" + s + "@" + c + "/p?" + v3, Auth, 401);
            yield return Fails("v3-wrong-password-in-map", "openstack://" + c + "/p?auth-username=" + user + "&" + v3, Auth, 401,
                new Dictionary<string, string> { { "auth-password", s } });
            yield return Fails("v3-app-secret-and-wrong-password", "openstack://" + c + "/p?auth-username=" + user + "&auth-password=" + s
                + "&openstack-application-credential-secret=" + s + "&" + v3, Auth, 401);
            yield return Fails("v2-wrong-password", "openstack://" + c + "/p?auth-username=" + user + "&auth-password=" + s + "&" + v2, Auth, 401);
            yield return Fails("v2-wrong-apikey", "openstack://" + c + "/p?auth-username=" + user + "&openstack-apikey=" + s + "&" + v2, Auth, 401);
            yield return Fails("v2-wrong-userinfo-password", "openstack://" + user + ":" + s + "@" + c + "/p?" + v2, Auth, 401);
            yield return Fails("swift-wrong-token", "openstack://" + c + "/p?openstack-storage-url=" + SwiftAdmin.StorageUrl
                + "&openstack-auth-token=" + s + "&" + Fast, Auth, 401);
            yield return Fails("swift-closed-port", "openstack://" + c + "/p?openstack-storage-url=" + Closed + "/v1/AUTH_x&openstack-auth-token=" + s
                + "&" + Fast, Net, 0);
            yield return Fails("keystone-v3-closed-port", "openstack://u:" + s + "@" + c + "/p?openstack-tenant-name=p&openstack-domain-name=Default"
                + "&openstack-authuri=" + Closed + "/v3&openstack-application-credential-secret=" + s + "&number-of-retries=1&retry-delay=10ms", Net, 0);
            yield return Fails("keystone-v2-closed-port", "openstack://" + c + "/p?auth-username=u&openstack-apikey=" + s
                + "&openstack-authuri=" + Closed + "/v2.0&number-of-retries=1&retry-delay=10ms", Net, 0);
            string auth3 = TestEnv.Require("OSD_AUTH_V3"), auth2 = TestEnv.Require("OSD_AUTH_V2");
            yield return Fails("v3-authuri-userinfo", "openstack://" + c + "/p?auth-username=" + user + "&auth-password=Wrong-pw&"
                + v3.Replace(auth3, UI(auth3, u)), Auth, 401);
            yield return Fails("v2-authuri-userinfo", "openstack://" + c + "/p?auth-username=" + user + "&auth-password=Wrong-pw&"
                + v2.Replace(auth2, UI(auth2, u)), Auth, 401);
            yield return Fails("swift-storage-url-userinfo", "openstack://" + c + "/p?openstack-storage-url=" + UI(SwiftAdmin.StorageUrl, u)
                + "&openstack-auth-token=Wrong-token&" + Fast, Auth, 401);
            yield return Fails("keystone-closed-port-userinfo", "openstack://" + c + "/p?auth-username=u&auth-password=p&openstack-tenant-name=p"
                + "&openstack-domain-name=Default&openstack-authuri=" + UI(Closed, u) + "/v3&number-of-retries=1&retry-delay=10ms", Net, 0);
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

        [Test]
        public void SecretNeverLeavesTheBinding()
        {
            TestEnv.RequireServer();
            string secret = "Sw33p-" + Guid.NewGuid().ToString("N").Substring(0, 16);
            string urlSecret = "Ur1nfo-" + Guid.NewGuid().ToString("N").Substring(0, 16);
            Func<string, bool> shows = t => t.Contains(secret) || t.Contains(urlSecret) || t.Contains("proxyuser");
            string container = TestEnv.UniqueContainer("sweep");
            var problems = new List<string>();
            var lines = new List<string>();
            long seen = 0;
            Action<string, Exception> checkError = (id, e) =>
            {
                foreach (string t in Texts(e))
                {
                    if (shows(t))
                    {
                        problems.Add("LEAK " + id + ": the exception shows the secret: " + t);
                        return;
                    }
                }
            };
            Action<string> checkLogs = id =>
            {
                lock (lines)
                {
                    seen += lines.Count;
                    foreach (string l in lines)
                    {
                        if (shows(l))
                            problems.Add("LEAK " + id + ": a log line shows the secret: " + l);
                    }
                    lines.Clear();
                }
            };
            OpenStackDestination.SetLogger((level, line) => { lock (lines) lines.Add(level + " " + line); }, LogLevel.Debug);
            try
            {
                foreach (Case k in ParseCases(secret, urlSecret))
                {
                    try
                    {
                        new OpenStackDestination(k.Url, k.Options).Dispose();
                        problems.Add(k.Id + ": opened");
                    }
                    catch (OpenStackException e)
                    {
                        checkError(k.Id, e);
                        if (e.Status != k.Status)
                            problems.Add(k.Id + ": " + e.Status + " (" + e.Message + "), expected " + k.Status);
                        else if (e.Message.IndexOf(k.Word, StringComparison.OrdinalIgnoreCase) < 0)
                            problems.Add(k.Id + ": the message does not name '" + k.Word + "': " + e.Message);
                    }
                    checkLogs(k.Id);
                }
                var calls = new KeyValuePair<string, Action<OpenStackDestination>>[]
                {
                    new KeyValuePair<string, Action<OpenStackDestination>>("Test", d => d.Test()),
                    new KeyValuePair<string, Action<OpenStackDestination>>("List", d => d.List()),
                    new KeyValuePair<string, Action<OpenStackDestination>>("Put", d => d.Put("sweep.bin", new byte[] { 1 })),
                    new KeyValuePair<string, Action<OpenStackDestination>>("Get", d => d.Get("sweep.bin")),
                };
                foreach (Case k in ServerCases(secret, urlSecret, container))
                {
                    OpenStackDestination d;
                    try
                    {
                        d = new OpenStackDestination(k.Url, k.Options);
                    }
                    catch (OpenStackException e)
                    {
                        checkError(k.Id, e);
                        problems.Add(k.Id + ": open failed: " + e.Message);
                        checkLogs(k.Id);
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
                                checkError(id, e);
                                if (e.Status != k.Status || e.HttpStatus != k.Http)
                                    problems.Add(id + ": " + e.Status + " HTTP " + e.HttpStatus + " (" + e.Message + "), expected " + k.Status + " HTTP " + k.Http);
                            }
                        }
                    }
                    checkLogs(k.Id);
                }
            }
            finally
            {
                OpenStackDestination.SetLogger(null);
                SwiftAdmin.DeleteContainer(container);
            }
            // The retries against the closed ports log warnings: proof that the log path was watched.
            Assert.That(seen, Is.GreaterThan(0), "no log line reached the logger");
            Assert.That(problems, Is.Empty, string.Join("\n", problems.ToArray()));
        }
    }
}
