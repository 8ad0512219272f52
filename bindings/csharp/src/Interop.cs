// Helpers around the native calls: UTF-8 strings, status -> exception, entry conversion, secret scrubbing.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace OpenStackDest
{
    internal static class Interop
    {
        private static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        internal static readonly DateTime UnknownTime = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);

        /// <summary>A NUL-terminated UTF-8 string owned by the library, or null.</summary>
        internal static string FromUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero)
                return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0)
                len++;
            if (len == 0)
                return string.Empty;
            byte[] bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }

        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        /// <summary>
        /// The one way a string reaches the library: a NUL-terminated UTF-8 copy. C reads a string up to
        /// its first NUL, so "keep\0x" would name "keep"; and a lone surrogate would become another
        /// character. Both are refused here, before any native call, as
        /// <see cref="OpenStackStatus.InvalidArgument"/> (the status the library gives an argument it
        /// cannot use). <paramref name="what"/> names the argument in the message; the value is never
        /// shown (it may be a password). null throws <see cref="ArgumentNullException"/>(<paramref name="param"/>).
        /// </summary>
        internal static byte[] Utf8Z(string s, string param, string what = null)
        {
            if (s == null)
                throw new ArgumentNullException(param);
            what = what ?? "argument '" + param + "'";
            if (s.IndexOf('\0') >= 0)
                throw InvalidArgument(what + " contains a NUL character (\\0), which cannot be passed to the library");
            byte[] bytes;
            try
            {
                bytes = new byte[StrictUtf8.GetByteCount(s) + 1];
                StrictUtf8.GetBytes(s, 0, s.Length, bytes, 0);
            }
            catch (EncoderFallbackException)
            {
                throw InvalidArgument(what + " is not valid Unicode text (a lone surrogate)");
            }
            return bytes; // the last byte stays 0
        }

        private static OpenStackException InvalidArgument(string message)
        {
            return new OpenStackException(OpenStackStatus.InvalidArgument, message, 0);
        }

        /// <summary>Allocates a NUL-terminated UTF-8 copy made by <see cref="Utf8Z"/> (free with Marshal.FreeHGlobal).</summary>
        internal static IntPtr ToUtf8(string s, string param, string what)
        {
            byte[] bytes = Utf8Z(s, param, what);
            IntPtr p = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            return p;
        }

        internal static DateTime FromUnixMs(long ms)
        {
            if (ms == -1)
                return UnknownTime;
            try
            {
                return Epoch.AddMilliseconds(ms);
            }
            catch (ArgumentOutOfRangeException)
            {
                return UnknownTime;
            }
        }

        internal static RemoteEntry ToEntry(NativeEntry e, IDictionary<string, string> metadata = null)
        {
            if (e.Kind < (int)EntryKind.Object || e.Kind > (int)EntryKind.Folder)
                // The library and this binding come from one header; another kind means they do not match.
                throw new OpenStackException(OpenStackStatus.Panic,
                    "the library reported an unknown entry kind " + e.Kind + " (does it match this binding's version?)", 0);
            return new RemoteEntry(FromUtf8(e.Name) ?? string.Empty, e.Size, FromUnixMs(e.LastModifiedMs),
                e.IsFolder != 0, FromUtf8(e.ETag), FromUnixMs(e.MtimeMs), metadata, FromUnixMs(e.DeleteAtMs),
                (EntryKind)e.Kind);
        }

        /// <summary>
        /// The exception for a failed call. Must run on the calling thread right after the call (the
        /// message and HTTP status are thread-local in the library).
        /// </summary>
        internal static Exception Error(OpenStackStatus status, string[] secrets, CancellationToken token)
        {
            string message = Scrub(FromUtf8(Native.os_last_error_message()), secrets);
            int http = Native.os_last_http_status();
            return ErrorOf(status, message, http, token);
        }

        /// <summary>The exception for <paramref name="status"/> with a message already scrubbed.</summary>
        internal static Exception ErrorOf(OpenStackStatus status, string message, int http, CancellationToken token)
        {
            if (string.IsNullOrEmpty(message))
                message = StatusName(status);
            switch (status)
            {
                case OpenStackStatus.NotFound:
                    return new FileMissingException(message, http);
                case OpenStackStatus.ContainerNotFound:
                    return new FolderMissingException(message, http);
                case OpenStackStatus.ContainerNotEmpty:
                    return new FolderNotEmptyException(message, http);
                case OpenStackStatus.Cancelled:
                    return token.IsCancellationRequested
                        ? new OperationCanceledException(message, token)
                        : new OperationCanceledException(message);
                default:
                    return new OpenStackException(status, message, http);
            }
        }

        internal static string StatusName(OpenStackStatus status)
        {
            string name = FromUtf8(Native.os_status_name((int)status));
            return string.IsNullOrEmpty(name) ? "OS_STATUS_" + (int)status : name;
        }

        internal static void Check(OpenStackStatus status, string[] secrets)
        {
            if (status != OpenStackStatus.Ok)
                throw Error(status, secrets, CancellationToken.None);
        }

        // ---- secrets: defence in depth; the library already keeps them out of its messages ----

        internal static string[] CollectSecrets(string url, IDictionary<string, string> options)
        {
            var found = new List<string>();
            if (options != null)
            {
                foreach (KeyValuePair<string, string> kv in options)
                {
                    if (IsSecretKey(kv.Key))
                        AddSecret(found, kv.Value);
                }
            }
            AddUserInfoPassword(found, url);
            int q = url == null ? -1 : url.IndexOf('?');
            if (q >= 0)
            {
                string query = url.Substring(q + 1);
                int hash = query.IndexOf('#');
                if (hash >= 0)
                    query = query.Substring(0, hash);
                foreach (string pair in query.Split('&'))
                {
                    int eq = pair.IndexOf('=');
                    if (eq <= 0)
                        continue;
                    string key = pair.Substring(0, eq);
                    if (!IsSecretKey(key))
                        continue;
                    string raw = pair.Substring(eq + 1);
                    AddSecret(found, raw);
                    try
                    {
                        AddSecret(found, Uri.UnescapeDataString(raw));
                    }
                    catch (Exception)
                    {
                        // keep the raw form only
                    }
                }
            }
            // longest first, so a secret that contains another is replaced whole
            found.Sort((a, b) => b.Length.CompareTo(a.Length));
            return found.ToArray();
        }

        // The password of "openstack://user:password@container/...", also in the malformed forms a message
        // may quote ("openstack:/user:password@...", "user:password@..."): the text between the userinfo's
        // colon and the '@', raw and percent-decoded.
        private static void AddUserInfoPassword(List<string> found, string url)
        {
            if (url == null)
                return;
            int end = url.IndexOfAny(new[] { '?', '#' });
            string head = end >= 0 ? url.Substring(0, end) : url;
            int at = head.LastIndexOf('@');
            if (at <= 0)
                return;
            string userInfo = head.Substring(0, at);
            int slash = userInfo.LastIndexOf('/');
            if (slash >= 0)
                userInfo = userInfo.Substring(slash + 1);
            int first = userInfo.IndexOf(':'), last = userInfo.LastIndexOf(':');
            if (first < 0)
                return;
            foreach (string raw in new[] { userInfo.Substring(first + 1), userInfo.Substring(last + 1) })
            {
                AddSecret(found, raw);
                try
                {
                    AddSecret(found, Uri.UnescapeDataString(raw));
                }
                catch (Exception)
                {
                    // keep the raw form only
                }
            }
        }

        // The library's own list of the options that take a secret (os_option_is_secret), asked with
        // the key as the library reads it (percent-decoded).
        private static bool IsSecretKey(string key)
        {
            if (key == null || key.IndexOf('\0') >= 0)
                return false;
            string decoded = key;
            try
            {
                decoded = Uri.UnescapeDataString(key.Replace('+', ' '));
            }
            catch (Exception)
            {
                // keep the raw form
            }
            try
            {
                return Native.os_option_is_secret(Utf8Z(decoded, "key"));
            }
            catch (OpenStackException)
            {
                return false; // not valid Unicode: not a key the library knows
            }
        }

        private static void AddSecret(List<string> list, string value)
        {
            // very short values would garble messages and say little; the library never prints them anyway
            if (value != null && value.Length >= 4 && !list.Contains(value))
                list.Add(value);
        }

        internal static string Scrub(string message, string[] secrets)
        {
            if (string.IsNullOrEmpty(message) || secrets == null)
                return message;
            foreach (string s in secrets)
            {
                if (message.IndexOf(s, StringComparison.Ordinal) >= 0)
                    message = message.Replace(s, "***");
            }
            return message;
        }
    }

    /// <summary>
    /// The native handle (os_dest*). Released with os_free; the SafeHandle reference count keeps it
    /// alive while calls on other threads are still running.
    /// </summary>
    internal sealed class DestinationHandle : SafeHandle
    {
        public DestinationHandle() : base(IntPtr.Zero, true)
        {
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            Native.os_free(handle);
            return true;
        }
    }
}
