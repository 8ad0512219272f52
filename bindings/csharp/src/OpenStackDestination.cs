// OpenStackDestination: an OpenStack Swift destination named by one openstack:// URL, over libopenstack_dest.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace OpenStackDest
{
    /// <summary>
    /// An OpenStack Swift destination: <c>openstack://container/prefix?auth-username=..&amp;auth-password=..&amp;
    /// openstack-tenant-name=..&amp;openstack-authuri=..</c>. Names are relative to the prefix. One instance
    /// may be used from several threads at once. Dispose it to release the native handle.
    /// </summary>
    /// <remarks>
    /// Failures throw <see cref="FileMissingException"/> (no such object), <see cref="FolderMissingException"/>
    /// (no such container) or <see cref="OpenStackException"/>; a cancelled transfer throws
    /// <see cref="OperationCanceledException"/>; an exception thrown by a caller's stream or progress
    /// callback is rethrown unchanged. A name or path containing a NUL character (or a lone surrogate) throws
    /// <see cref="OpenStackException"/> with <see cref="OpenStackStatus.InvalidArgument"/> before any native
    /// call. The ...Async methods run the blocking call on the thread pool;
    /// streamed transfers (Put/Get/PutFile/GetFile) stop as soon as the token is cancelled, the other
    /// operations check the token before they start.
    /// </remarks>
    public sealed class OpenStackDestination : IDisposable
    {
        private readonly DestinationHandle handle;
        private readonly string[] secrets;

        /// <summary>
        /// Opens a destination. Options (e.g. a host's option dictionary) are merged with the URL's query;
        /// the query wins. A bad URL or a missing option throws <see cref="OpenStackException"/> with
        /// <see cref="OpenStackStatus.InvalidUrl"/>; a NUL character in the URL or an option is
        /// <see cref="OpenStackStatus.InvalidArgument"/>. No network request is made here.
        /// </summary>
        public OpenStackDestination(string url, IDictionary<string, string> options = null)
        {
            if (url == null)
                throw new ArgumentNullException("url");
            NativeLoader.EnsureInitialized();
            CheckNativeVersion();
            secrets = Interop.CollectSecrets(url, options);
            handle = Open(url, options, secrets);
        }

        /// <summary>The version of the C header these declarations follow (OPENSTACK_DEST_VERSION).</summary>
        public const string BindingVersion = Native.HeaderVersion;

        private static volatile bool versionChecked;

        /// <summary>
        /// Refuses a native library whose structures differ from these declarations: another major
        /// version, or before 1.0 another minor version (0.2 added os_entry.kind, which changed its size).
        /// </summary>
        private static void CheckNativeVersion()
        {
            if (versionChecked)
                return;
            string found = NativeVersion();
            if (!SameAbi(BindingVersion, found))
                throw new InvalidOperationException("libopenstack_dest is version " + (found ?? "?") + ", but this binding "
                    + "was written for the header of version " + BindingVersion + "; their structures differ (use the "
                    + "library built with this binding, e.g. through OPENSTACK_DEST_LIB)");
            versionChecked = true;
        }

        /// <summary>Whether a library of <paramref name="library"/> has the C structures of <paramref name="header"/>.</summary>
        internal static bool SameAbi(string header, string library)
        {
            string[] h = (header ?? "").Split('+')[0].Split('-')[0].Split('.');
            string[] l = (library ?? "").Split('+')[0].Split('-')[0].Split('.');
            if (h.Length < 2 || l.Length < 2 || h[0].Length == 0 || l[0].Length == 0)
                return false;
            return h[0] == "0" ? h[0] == l[0] && h[1] == l[1] : h[0] == l[0];
        }

        /// <summary>Version of the native library, e.g. "0.2.0".</summary>
        public static string Version
        {
            get
            {
                NativeLoader.EnsureInitialized();
                return NativeVersion();
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string NativeVersion()
        {
            return Interop.FromUtf8(Native.os_version());
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static DestinationHandle Open(string url, IDictionary<string, string> options, string[] secrets)
        {
            int n = options == null ? 0 : options.Count;
            IntPtr[] keys = n == 0 ? null : new IntPtr[n];
            IntPtr[] values = n == 0 ? null : new IntPtr[n];
            try
            {
                if (n > 0)
                {
                    int i = 0;
                    foreach (KeyValuePair<string, string> kv in options)
                    {
                        if (i == n)
                            break;
                        string key = kv.Key ?? string.Empty;
                        string shown = "'" + key.Replace("\0", "\\0") + "'";
                        keys[i] = Interop.ToUtf8(key, "options", "the option name " + shown);
                        // an absent value counts as empty; a message names the option, never the value
                        values[i] = Interop.ToUtf8(kv.Value ?? string.Empty, "options", "the value of option " + shown);
                        i++;
                    }
                    n = i;
                }
                byte[] rawUrl = Interop.Utf8Z(url, "url", "the URL");
                DestinationHandle h;
                OpenStackStatus status = Native.os_open_with(rawUrl, keys, values, new UIntPtr((uint)n), out h);
                if (status != OpenStackStatus.Ok)
                {
                    Exception e = Interop.Error(status, secrets, CancellationToken.None);
                    if (h != null)
                        h.Dispose();
                    throw e;
                }
                if (h == null || h.IsInvalid)
                    throw new OpenStackException(OpenStackStatus.Panic, "os_open_with returned OS_OK without a handle", 0);
                return h;
            }
            finally
            {
                FreeAll(keys);
                FreeAll(values);
            }
        }

        private static void FreeAll(IntPtr[] ptrs)
        {
            if (ptrs == null)
                return;
            foreach (IntPtr p in ptrs)
            {
                if (p != IntPtr.Zero)
                    Marshal.FreeHGlobal(p);
            }
        }

        // ------------------------------------------------------------------ logging

        private static readonly object LogGate = new object();
        private static Action<LogLevel, string> logger;
        // One static native callback for the life of the process; it forwards to the current logger.
        private static NativeLogCallback logThunk;

        /// <summary>
        /// Receives the library's log lines (process-wide; from any thread). Lines above
        /// <paramref name="maxLevel"/> are not delivered. <c>null</c> turns logging off.
        /// Exceptions thrown by the logger are ignored.
        /// </summary>
        public static void SetLogger(Action<LogLevel, string> logger, LogLevel maxLevel = LogLevel.Info)
        {
            NativeLoader.EnsureInitialized();
            SetNativeLogger(logger, maxLevel);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void SetNativeLogger(Action<LogLevel, string> newLogger, LogLevel maxLevel)
        {
            lock (LogGate)
            {
                logger = newLogger;
                if (newLogger == null)
                {
                    Native.os_set_log_callback(null, IntPtr.Zero, (int)maxLevel);
                    return;
                }
                if (logThunk == null)
                    logThunk = OnLog;
                Native.os_set_log_callback(logThunk, IntPtr.Zero, (int)maxLevel);
            }
        }

        private static void OnLog(IntPtr ctx, int level, IntPtr message)
        {
            Action<LogLevel, string> l = Volatile.Read(ref logger);
            if (l == null)
                return;
            try
            {
                l((LogLevel)level, Interop.FromUtf8(message) ?? string.Empty);
            }
            catch (Exception)
            {
                // never let an exception cross into native code
            }
        }

        // ------------------------------------------------------------------ plumbing

        // Set by Dispose. A Dispose from inside a call (a progress callback, a stream the call reads or
        // writes, a logger) cannot release the handle the running call uses: the SafeHandle releases it
        // when the call returns, and this flag refuses new calls meanwhile (some runtimes report the
        // handle as not closed until then).
        private int disposed;

        private DestinationHandle Handle
        {
            get
            {
                if (Volatile.Read(ref disposed) != 0 || handle.IsClosed)
                    throw new ObjectDisposedException("OpenStackDestination");
                return handle;
            }
        }

        private void Check(OpenStackStatus status)
        {
            Interop.Check(status, secrets);
        }


        /// <summary>
        /// Releases the native handle (after calls still running on other threads finish). Called from
        /// inside a call of this destination (a callback, a logger), it takes effect when that call returns;
        /// no new call starts meanwhile (ObjectDisposedException).
        /// </summary>
        public void Dispose()
        {
            Volatile.Write(ref disposed, 1);
            handle.Dispose();
        }

        // ------------------------------------------------------------------ synchronous API

        /// <summary>Checks credentials and container (HEAD); throws what is wrong.</summary>
        public void Test()
        {
            Check(Native.os_test(Handle));
        }

        /// <summary>Creates the container (idempotent).</summary>
        public void CreateFolder()
        {
            Check(Native.os_create_container(Handle));
        }



        /// <summary>
        /// Uploads a stream (seekable or not) without buffering it whole. A seekable stream may be read
        /// again from its start position when the library retries. <paramref name="progress"/> gets
        /// (bytes done, total or -1).
        /// </summary>
        public void Put(string name, Stream source, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            if (source == null)
                throw new ArgumentNullException("source");
            if (!source.CanRead)
                throw new ArgumentException("the stream is not readable", "source");
            cancellationToken.ThrowIfCancellationRequested();
            var t = new Transfer(source, true, cancellationToken, progress);
            OpenStackStatus status = Native.os_put_stream_opts(Handle, rawName, t.ReadCallback, t.RewindCallback, IntPtr.Zero,
                t.SizeHint, t.ProgressCallback, IntPtr.Zero, IntPtr.Zero);
            GC.KeepAlive(t.ReadCallback);
            GC.KeepAlive(t.RewindCallback);
            GC.KeepAlive(t.ProgressCallback);
            GC.KeepAlive(t);
            t.Complete(status, secrets);
        }

        /// <summary>
        /// Uploads a stream with the host's metadata and an expiry (<paramref name="options"/>, may be
        /// null); otherwise as <see cref="Put(string, Stream, CancellationToken, Action{long, long})"/>.
        /// </summary>
        public void Put(string name, Stream source, PutOptions options,
            CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            if (source == null)
                throw new ArgumentNullException("source");
            if (!source.CanRead)
                throw new ArgumentException("the stream is not readable", "source");
            IntPtr native = NativeOptions(options);
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                var t = new Transfer(source, true, cancellationToken, progress);
                OpenStackStatus status = Native.os_put_stream_opts(Handle, rawName, t.ReadCallback, t.RewindCallback,
                    IntPtr.Zero, t.SizeHint, t.ProgressCallback, IntPtr.Zero, native);
                GC.KeepAlive(t.ReadCallback);
                GC.KeepAlive(t.RewindCallback);
                GC.KeepAlive(t.ProgressCallback);
                GC.KeepAlive(t);
                t.Complete(status, secrets);
            }
            finally
            {
                Native.os_put_options_free(native);
            }
        }

        /// <summary>Uploads a byte array with the host's metadata and an expiry (<paramref name="options"/>, may be null).</summary>
        public void Put(string name, byte[] data, PutOptions options = null)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            if (data == null)
                throw new ArgumentNullException("data");
            IntPtr native = NativeOptions(options);
            try
            {
                Check(Native.os_put_opts(Handle, rawName, data, new UIntPtr((ulong)data.LongLength), native));
            }
            finally
            {
                Native.os_put_options_free(native);
            }
        }

        /// <summary>Uploads a local file (with its time) and the host's metadata and an expiry (<paramref name="options"/>, may be null).</summary>
        public void PutFile(string name, string path, PutOptions options,
            CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            byte[] rawPath = Interop.Utf8Z(path, "path");
            IntPtr native = NativeOptions(options);
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                var t = new Transfer(null, true, cancellationToken, progress);
                OpenStackStatus status = Native.os_put_file_opts(Handle, rawName, rawPath, native, t.ProgressCallback, IntPtr.Zero);
                GC.KeepAlive(t.ProgressCallback);
                GC.KeepAlive(t);
                t.Complete(status, secrets);
            }
            finally
            {
                Native.os_put_options_free(native);
            }
        }

        /// <summary>
        /// Changes the metadata and expiry of an existing object without its data. Each key of
        /// <see cref="PutOptions.Metadata"/> is set, a key with the value "" is removed, every other key
        /// stays (the file time and keys of other tools included). The expiry stays unless the options
        /// set one or remove it (<see cref="PutOptions.NoExpiry"/>); openstack-delete-after does not
        /// apply. <see cref="FileMissingException"/> when the object does not exist.
        /// </summary>
        public void UpdateMetadata(string name, PutOptions options)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            if (options == null)
                throw new ArgumentNullException("options");
            IntPtr native = NativeOptions(options);
            try
            {
                Check(Native.os_update_metadata(Handle, rawName, native));
            }
            finally
            {
                Native.os_put_options_free(native);
            }
        }

        /// <summary>The library's options for <paramref name="options"/> (IntPtr.Zero for null; free with os_put_options_free).</summary>
        private IntPtr NativeOptions(PutOptions options)
        {
            if (options == null)
                return IntPtr.Zero;
            int given = (options.DeleteAfter.HasValue ? 1 : 0) + (options.DeleteAt.HasValue ? 1 : 0) + (options.NoExpiry ? 1 : 0);
            if (given > 1)
                throw new OpenStackException(OpenStackStatus.InvalidArgument,
                    "give at most one of DeleteAfter, DeleteAt and NoExpiry", 0);
            IntPtr native = Native.os_put_options_new();
            if (native == IntPtr.Zero)
                throw new OutOfMemoryException("os_put_options_new");
            try
            {
                foreach (KeyValuePair<string, string> kv in options.Metadata)
                {
                    byte[] key = Interop.Utf8Z(kv.Key, "options", "a metadata key");
                    byte[] value = Interop.Utf8Z(kv.Value ?? string.Empty, "options", "a metadata value");
                    Check(Native.os_put_options_set_meta(native, key, value));
                }
                if (options.DeleteAfter.HasValue)
                {
                    double seconds = Math.Ceiling(options.DeleteAfter.Value.TotalSeconds);
                    Check(Native.os_put_options_set_delete_after(native, seconds < 1 ? 0 : (ulong)seconds));
                }
                if (options.DeleteAt.HasValue)
                {
                    DateTime at = options.DeleteAt.Value;
                    if (at.Kind != DateTimeKind.Utc)
                        at = at.ToUniversalTime();
                    double seconds = Math.Ceiling((at - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds);
                    Check(Native.os_put_options_set_delete_at(native, (long)seconds));
                }
                if (options.NoExpiry)
                    Check(Native.os_put_options_set_no_expiry(native));
                return native;
            }
            catch
            {
                Native.os_put_options_free(native);
                throw;
            }
        }




        public void PutFile(string name, string path, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            byte[] rawPath = Interop.Utf8Z(path, "path");
            cancellationToken.ThrowIfCancellationRequested();
            var t = new Transfer(null, true, cancellationToken, progress);
            OpenStackStatus status = Native.os_put_file_opts(Handle, rawName, rawPath, IntPtr.Zero, t.ProgressCallback, IntPtr.Zero);
            GC.KeepAlive(t.ProgressCallback);
            GC.KeepAlive(t);
            t.Complete(status, secrets);
        }



        public void Get(string name, Stream target, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            if (target == null)
                throw new ArgumentNullException("target");
            if (!target.CanWrite)
                throw new ArgumentException("the stream is not writable", "target");
            cancellationToken.ThrowIfCancellationRequested();
            var t = new Transfer(target, false, cancellationToken, progress);
            OpenStackStatus status = Native.os_get_stream(Handle, rawName, t.WriteCallback, IntPtr.Zero,
                t.ProgressCallback, IntPtr.Zero);
            GC.KeepAlive(t.WriteCallback);
            GC.KeepAlive(t.ProgressCallback);
            GC.KeepAlive(t);
            t.Complete(status, secrets);
        }

        /// <summary>Downloads a whole object into memory.</summary>
        public byte[] Get(string name)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            IntPtr data;
            UIntPtr len;
            Check(Native.os_get(Handle, rawName, out data, out len));
            try
            {
                ulong n = len.ToUInt64();
                if (n > int.MaxValue)
                    throw new OpenStackException(OpenStackStatus.TooLarge, "object of " + n + " bytes does not fit a byte array; use Get(name, Stream)", 0);
                var result = new byte[n];
                if (n > 0)
                    Marshal.Copy(data, result, 0, (int)n);
                return result;
            }
            finally
            {
                Native.os_bytes_free(data, len);
            }
        }

        private static void CheckRange(long offset, long length, long maxLength)
        {
            if (offset < 0)
                throw new ArgumentOutOfRangeException("offset", offset, "the offset must not be negative");
            if (length < 0)
                throw new ArgumentOutOfRangeException("length", length, "the length must not be negative");
            if (length > maxLength)
                throw new ArgumentOutOfRangeException("length", length,
                    "a range of more than " + maxLength + " bytes does not fit a byte array; use GetRange(name, offset, length, Stream)");
        }

        /// <summary>
        /// Exactly <paramref name="length"/> bytes of an object from <paramref name="offset"/> (across the segments
        /// of a large object too); an empty array for length 0. A range that goes past the end of the object
        /// throws <see cref="OpenStackException"/> with <see cref="OpenStackStatus.InvalidArgument"/> (never a
        /// short read); a negative offset or length throws <see cref="ArgumentOutOfRangeException"/>.
        /// </summary>
        public byte[] GetRange(string name, long offset, long length)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            CheckRange(offset, length, int.MaxValue);
            IntPtr data;
            UIntPtr len;
            Check(Native.os_get_range(Handle, rawName, (ulong)offset, (ulong)length, out data, out len));
            try
            {
                ulong n = len.ToUInt64();
                if (n != (ulong)length)
                    throw new OpenStackException(OpenStackStatus.Integrity,
                        "os_get_range returned " + n + " bytes for a range of " + length, 0);
                var result = new byte[n];
                if (n > 0)
                    Marshal.Copy(data, result, 0, (int)n);
                return result;
            }
            finally
            {
                Native.os_bytes_free(data, len);
            }
        }

        /// <summary>
        /// Writes exactly <paramref name="length"/> bytes of an object from <paramref name="offset"/> into
        /// <paramref name="target"/>, streamed (no size limit). Past the end: as <see cref="GetRange(string, long, long)"/>,
        /// before any byte is written. Cancelling the token stops the transfer
        /// (<see cref="OperationCanceledException"/>); an exception thrown by the stream is rethrown unchanged.
        /// </summary>
        public void GetRange(string name, long offset, long length, Stream target, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            CheckRange(offset, length, long.MaxValue);
            if (target == null)
                throw new ArgumentNullException("target");
            if (!target.CanWrite)
                throw new ArgumentException("the stream is not writable", "target");
            cancellationToken.ThrowIfCancellationRequested();
            var t = new Transfer(target, false, cancellationToken, null);
            OpenStackStatus status = Native.os_get_range_stream(Handle, rawName, (ulong)offset, (ulong)length,
                t.WriteCallback, IntPtr.Zero);
            GC.KeepAlive(t.WriteCallback);
            GC.KeepAlive(t);
            t.Complete(status, secrets);
        }



        public void GetFile(string name, string path, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            byte[] rawPath = Interop.Utf8Z(path, "path");
            cancellationToken.ThrowIfCancellationRequested();
            var t = new Transfer(null, false, cancellationToken, progress);
            OpenStackStatus status = Native.os_get_file_ex(Handle, rawName, rawPath, t.ProgressCallback, IntPtr.Zero);
            GC.KeepAlive(t.ProgressCallback);
            GC.KeepAlive(t);
            t.Complete(status, secrets);
        }

        /// <summary>
        /// Objects and folders directly under the prefix (all pages). Each entry's <see cref="RemoteEntry.Kind"/>
        /// says what the listing knows (see <see cref="EntryKind"/>).
        /// </summary>
        public IList<RemoteEntry> List()
        {
            IntPtr entries;
            UIntPtr count;
            Check(Native.os_list(Handle, out entries, out count));
            try
            {
                int n = checked((int)count.ToUInt64());
                var result = new List<RemoteEntry>(n);
                int stride = Marshal.SizeOf(typeof(NativeEntry));
                for (int i = 0; i < n; i++)
                {
                    var e = (NativeEntry)Marshal.PtrToStructure(new IntPtr(entries.ToInt64() + (long)i * stride), typeof(NativeEntry));
                    result.Add(Interop.ToEntry(e));
                }
                return result;
            }
            finally
            {
                Native.os_entries_free(entries, count);
            }
        }

        /// <summary>
        /// The entries whose names start with <paramref name="prefix"/> (relative to the URL's prefix; null or ""
        /// for all; it need not end in '/'). With <paramref name="recursive"/> every object at any depth and no
        /// folders; without, the objects directly under the prefix and its sub-folders as folder entries.
        /// </summary>
        public IList<RemoteEntry> List(string prefix, bool recursive = false)
        {
            var result = new List<RemoteEntry>();
            ForEach(prefix, recursive, e => { result.Add(e); return true; });
            return result;
        }

        /// <summary>
        /// Lists entry by entry (os_list_each), for listings of any size: <paramref name="onEntry"/> gets each
        /// entry as <see cref="List(string, bool)"/> would return it, on the calling thread, and returns true to
        /// go on or false to stop (then ForEach returns normally). An exception thrown by
        /// <paramref name="onEntry"/> stops the listing and is rethrown unchanged once the native call returned.
        /// </summary>
        public void ForEach(string prefix, bool recursive, Func<RemoteEntry, bool> onEntry)
        {
            if (onEntry == null)
                throw new ArgumentNullException("onEntry");
            byte[] rawPrefix = Interop.Utf8Z(prefix ?? string.Empty, "prefix");
            ExceptionDispatchInfo failure = null;
            NativeEntryCallback cb = (ctx, entry) =>
            {
                try
                {
                    var e = Interop.ToEntry((NativeEntry)Marshal.PtrToStructure(entry, typeof(NativeEntry)));
                    return onEntry(e) ? 0 : 1;
                }
                catch (Exception ex)
                {
                    failure = ExceptionDispatchInfo.Capture(ex);
                    return 1;
                }
            };
            OpenStackStatus status = Native.os_list_each(Handle, rawPrefix, recursive, cb, IntPtr.Zero);
            GC.KeepAlive(cb);
            if (failure != null)
                failure.Throw();
            Check(status);
        }

        /// <summary>
        /// The entries of <see cref="List(string, bool)"/>, lazily, for listings of any size: a helper thread runs
        /// the native listing and hands the entries over through a small bounded queue while the sequence is
        /// consumed. Leaving a <c>foreach</c> early (or disposing the enumerator) stops the listing; an error is
        /// thrown by the enumerator where the listing failed. Dispose the enumerator (foreach does).
        /// </summary>
        public IEnumerable<RemoteEntry> Enumerate(string prefix = null, bool recursive = false)
        {
            Interop.Utf8Z(prefix ?? string.Empty, "prefix"); // refuse a bad prefix here, not at the first MoveNext
            if (Volatile.Read(ref disposed) != 0 || handle.IsClosed)
                throw new ObjectDisposedException("OpenStackDestination");
            return EnumerateCore(prefix, recursive);
        }

        private IEnumerable<RemoteEntry> EnumerateCore(string prefix, bool recursive)
        {
            var queue = new BlockingCollection<RemoteEntry>(256);
            var stop = new CancellationTokenSource();
            ExceptionDispatchInfo failure = null;
            var producer = new Thread(() =>
            {
                try
                {
                    ForEach(prefix, recursive, e =>
                    {
                        try
                        {
                            queue.Add(e, stop.Token);
                            return true;
                        }
                        catch (OperationCanceledException)
                        {
                            return false; // the consumer left: stop the listing
                        }
                    });
                }
                catch (Exception ex)
                {
                    failure = ExceptionDispatchInfo.Capture(ex);
                }
                finally
                {
                    queue.CompleteAdding();
                }
            });
            producer.IsBackground = true;
            producer.Name = "OpenStackDest.Enumerate";
            producer.Start();
            try
            {
                foreach (RemoteEntry e in queue.GetConsumingEnumerable())
                    yield return e;
            }
            finally
            {
                stop.Cancel();
                producer.Join();
                stop.Dispose();
                queue.Dispose();
            }
            if (failure != null)
                failure.Throw();
        }

        /// <summary>
        /// Deletes the container. One that still holds objects throws <see cref="FolderNotEmptyException"/>
        /// unless <paramref name="emptyFirst"/>, which first deletes every object in it (all of them, not only
        /// those under the URL's prefix). A missing container throws <see cref="FolderMissingException"/>.
        /// </summary>
        public void DeleteFolder(bool emptyFirst = false)
        {
            Check(Native.os_delete_container(Handle, emptyFirst));
        }

        /// <summary>
        /// Size, ETag, kind and last modification of one object (HEAD). The kind is always known here: only
        /// an <see cref="EntryKind.Object"/>'s ETag is the MD5 of its content.
        /// </summary>
        public RemoteEntry Stat(string name)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            IntPtr entry;
            var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            NativeMetaCallback each = (ctx, key, value) =>
            {
                try
                {
                    metadata[Interop.FromUtf8(key) ?? string.Empty] = Interop.FromUtf8(value) ?? string.Empty;
                }
                catch (Exception)
                {
                    // nothing may escape into the library
                }
                return 0;
            };
            Check(Native.os_stat_meta(Handle, rawName, out entry, each, IntPtr.Zero));
            GC.KeepAlive(each);
            try
            {
                return Interop.ToEntry((NativeEntry)Marshal.PtrToStructure(entry, typeof(NativeEntry)), metadata);
            }
            finally
            {
                Native.os_entry_free(entry);
            }
        }

        public void Delete(string name)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            Check(Native.os_delete(Handle, rawName));
        }

        /// <summary>
        /// Deletes many objects at once (Swift's bulk delete where the cluster offers it, else one DELETE
        /// each, several at a time), with the segments of large objects. Names already gone count as
        /// deleted. Returns how many were deleted now; throws <see cref="DeleteManyException"/> when some
        /// could not be deleted.
        /// </summary>
        public long DeleteMany(IEnumerable<string> names)
        {
            if (names == null)
                throw new ArgumentNullException("names");
            var raw = new List<IntPtr>();
            var failures = new List<KeyValuePair<string, Exception>>();
            NativeDeleteFailureCallback onFailure = (ctx, name, status, message) =>
                failures.Add(new KeyValuePair<string, Exception>(Interop.FromUtf8(name),
                    Interop.ErrorOf(status, Interop.Scrub(Interop.FromUtf8(message), secrets), 0, CancellationToken.None)));
            try
            {
                foreach (string n in names)
                    raw.Add(Interop.ToUtf8(n, "names", "an object name"));
                UIntPtr deleted, missing;
                Check(Native.os_delete_many_ex(Handle, raw.ToArray(), (UIntPtr)raw.Count, onFailure, IntPtr.Zero,
                    out deleted, out missing));
                GC.KeepAlive(onFailure);
                if (failures.Count > 0)
                    throw new DeleteManyException(failures, (long)deleted);
                return (long)deleted;
            }
            finally
            {
                foreach (IntPtr p in raw)
                    System.Runtime.InteropServices.Marshal.FreeHGlobal(p);
            }
        }

        /// <summary>Renames (server-side copy, then delete) an object.</summary>
        public void Rename(string from, string to)
        {
            byte[] rawFrom = Interop.Utf8Z(from, "from");
            byte[] rawTo = Interop.Utf8Z(to, "to");
            Check(Native.os_rename(Handle, rawFrom, rawTo));
        }

        /// <summary>Account usage and quota.</summary>
        public QuotaInfo Quota()
        {
            NativeQuota q;
            Check(Native.os_quota(Handle, out q));
            return new QuotaInfo(q.BytesUsed, q.QuotaBytes, q.ObjectCount, q.ContainerCount);
        }

        /// <summary>
        /// Removes the segments no manifest references (uploads killed and never resumed leave them):
        /// only segments this library wrote for this destination's container, and only those older than
        /// <paramref name="olderThan"/> (a day never hits an upload in progress elsewhere).
        /// </summary>
        public SweepReport SweepSegments(TimeSpan olderThan)
        {
            if (olderThan < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException("olderThan", "olderThan must not be negative");
            ulong removed, bytes;
            Check(Native.os_sweep_segments(Handle, (ulong)olderThan.TotalSeconds, out removed, out bytes));
            return new SweepReport((long)removed, (long)bytes);
        }

        /// <summary>
        /// The versions of an object, newest first, in a container with Swift's object versioning (an object of
        /// a container never versioned has one version, "null"; a name with none gives an empty list).
        /// </summary>
        public IList<ObjectVersion> ListVersions(string name)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            IntPtr versions;
            UIntPtr count;
            Check(Native.os_list_versions(Handle, rawName, out versions, out count));
            try
            {
                int n = checked((int)count.ToUInt64());
                var result = new List<ObjectVersion>(n);
                int stride = Marshal.SizeOf(typeof(NativeObjectVersion));
                for (int i = 0; i < n; i++)
                {
                    var v = (NativeObjectVersion)Marshal.PtrToStructure(new IntPtr(versions.ToInt64() + (long)i * stride), typeof(NativeObjectVersion));
                    result.Add(new ObjectVersion(Interop.FromUtf8(v.VersionId) ?? string.Empty, v.Size,
                        Interop.FromUnixMs(v.LastModifiedMs), v.IsCurrent != 0, v.IsDeleteMarker != 0));
                }
                return result;
            }
            finally
            {
                Native.os_versions_free(versions, count);
            }
        }

        /// <summary>
        /// Downloads the version <paramref name="versionId"/> of an object into <paramref name="target"/>, streamed
        /// and verified like Get. A version id that is not one is an <see cref="OpenStackException"/> with
        /// <see cref="OpenStackStatus.InvalidArgument"/> before any request; a missing version, one of another
        /// object or a delete marker is a <see cref="FileMissingException"/>.
        /// </summary>
        public void GetVersion(string name, string versionId, Stream target, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            byte[] rawVersion = Interop.Utf8Z(versionId, "versionId");
            if (target == null)
                throw new ArgumentNullException("target");
            if (!target.CanWrite)
                throw new ArgumentException("the stream is not writable", "target");
            cancellationToken.ThrowIfCancellationRequested();
            var t = new Transfer(target, false, cancellationToken, null);
            OpenStackStatus status = Native.os_get_version_stream(Handle, rawName, rawVersion, t.WriteCallback,
                IntPtr.Zero, t.ProgressCallback, IntPtr.Zero);
            GC.KeepAlive(t.WriteCallback);
            GC.KeepAlive(t.ProgressCallback);
            GC.KeepAlive(t);
            t.Complete(status, secrets);
        }

        /// <summary>Downloads the version <paramref name="versionId"/> of an object into memory (as GetVersion to a stream).</summary>
        public byte[] GetVersion(string name, string versionId)
        {
            var ms = new MemoryStream();
            GetVersion(name, versionId, ms);
            return ms.ToArray();
        }

        /// <summary>
        /// Makes the version <paramref name="versionId"/> of an object current again (Swift points the object at
        /// it; no data is copied and the version that was current stays a version): restoring a deleted object's
        /// last version undoes the delete. A delete marker is <see cref="OpenStackStatus.InvalidArgument"/>, a
        /// missing version a <see cref="FileMissingException"/>; nothing changes.
        /// </summary>
        public void RestoreVersion(string name, string versionId)
        {
            byte[] rawName = Interop.Utf8Z(name, "name");
            byte[] rawVersion = Interop.Utf8Z(versionId, "versionId");
            Check(Native.os_restore_version(Handle, rawName, rawVersion));
        }

        // ------------------------------------------------------------------ asynchronous API




        public Task PutAsync(string name, Stream source, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            return Task.Run(() => Put(name, source, cancellationToken, progress), cancellationToken);
        }






        public Task PutFileAsync(string name, string path, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            return Task.Run(() => PutFile(name, path, cancellationToken, progress), cancellationToken);
        }


        public Task GetAsync(string name, Stream target, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            return Task.Run(() => Get(name, target, cancellationToken, progress), cancellationToken);
        }


        /// <summary>
        /// <see cref="GetRange(string, long, long)"/> on the thread pool. The arguments are checked before the task
        /// starts (ArgumentNullException, ArgumentOutOfRangeException, a NUL in the name); with a cancellable token
        /// the range is streamed so that cancelling stops it midway.
        /// </summary>
        public Task<byte[]> GetRangeAsync(string name, long offset, long length, CancellationToken cancellationToken = default(CancellationToken))
        {
            Interop.Utf8Z(name, "name");
            CheckRange(offset, length, int.MaxValue);
            return Task.Run(() =>
            {
                if (!cancellationToken.CanBeCanceled)
                    return GetRange(name, offset, length);
                var ms = new MemoryStream((int)length);
                GetRange(name, offset, length, ms, cancellationToken);
                return ms.ToArray();
            }, cancellationToken);
        }

        /// <summary><see cref="GetRange(string, long, long, Stream, CancellationToken)"/> on the thread pool.</summary>
        public Task GetRangeAsync(string name, long offset, long length, Stream target, CancellationToken cancellationToken = default(CancellationToken))
        {
            Interop.Utf8Z(name, "name");
            CheckRange(offset, length, long.MaxValue);
            if (target == null)
                throw new ArgumentNullException("target");
            return Task.Run(() => GetRange(name, offset, length, target, cancellationToken), cancellationToken);
        }


        public Task GetFileAsync(string name, string path, CancellationToken cancellationToken = default(CancellationToken), Action<long, long> progress = null)
        {
            return Task.Run(() => GetFile(name, path, cancellationToken, progress), cancellationToken);
        }

        public Task<IList<RemoteEntry>> ListAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Task.Run(() => List(), cancellationToken);
        }






    }
}
