// P/Invoke declarations for libopenstack_dest (include/openstack_dest.h). Internal only.
using System;
using System.Runtime.InteropServices;

namespace OpenStackDest
{
    /// <summary>os_entry as laid out by the C ABI (is_folder is a C bool: one byte; kind is a C enum: an int).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeEntry
    {
        public IntPtr Name;
        public long Size;
        public long LastModifiedMs;
        public byte IsFolder;
        public IntPtr ETag;
        public long MtimeMs;
        public long DeleteAtMs;
        public int Kind;
    }

    /// <summary>os_object_version as laid out by the C ABI (the two flags are C bools: one byte each).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeObjectVersion
    {
        public IntPtr VersionId;
        public long Size;
        public long LastModifiedMs;
        public byte IsCurrent;
        public byte IsDeleteMarker;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeQuota
    {
        public long BytesUsed;
        public long QuotaBytes;
        public long ObjectCount;
        public long ContainerCount;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate IntPtr NativeReadCallback(IntPtr ctx, IntPtr buf, UIntPtr cap);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeRewindCallback(IntPtr ctx);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeWriteCallback(IntPtr ctx, IntPtr buf, UIntPtr len);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeProgressCallback(IntPtr ctx, ulong done, long total);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeEntryCallback(IntPtr ctx, IntPtr entry);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeDeleteFailureCallback(IntPtr ctx, IntPtr name, OpenStackStatus status, IntPtr message);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeLogCallback(IntPtr ctx, int level, IntPtr message);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeMetaCallback(IntPtr ctx, IntPtr key, IntPtr value);

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

    /// <summary>
    /// Every entry point of the C ABI. String arguments are NUL-terminated UTF-8 byte arrays made by
    /// <see cref="Interop.Utf8Z"/> (never a string marshalled by the runtime, which would cut it at a NUL
    /// or replace what UTF-8 cannot encode). Note for maintainers: on Mono a method that calls one of these is
    /// bound to the library when it is compiled, so NativeLoader.EnsureInitialized() must have run
    /// before any such method is first called (see NativeLoader).
    /// </summary>
    internal static class Native
    {
        internal const string Lib = "openstack_dest";
        private const CallingConvention CC = CallingConvention.Cdecl;

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr os_version();

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr os_status_name(OpenStackStatus status);

        [DllImport(Lib, CallingConvention = CC)]
        [return: MarshalAs(UnmanagedType.I1)]
        internal static extern bool os_option_is_secret(byte[] key);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr os_last_error_message();

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int os_last_http_status();

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void os_set_log_callback(NativeLogCallback cb, IntPtr ctx, int maxLevel);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_open_with(
            byte[] url,
            IntPtr[] keys, IntPtr[] values, UIntPtr count, out DestinationHandle dest);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void os_free(IntPtr dest);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_test(DestinationHandle dest);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_create_container(DestinationHandle dest);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put(DestinationHandle dest,
            byte[] name, byte[] data, UIntPtr len);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_file_ex(DestinationHandle dest,
            byte[] name,
            byte[] path,
            NativeProgressCallback progress, IntPtr progressCtx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_opts(DestinationHandle dest,
            byte[] name, byte[] data, UIntPtr len, IntPtr options);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_file_opts(DestinationHandle dest,
            byte[] name, byte[] path, IntPtr options,
            NativeProgressCallback progress, IntPtr progressCtx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_stream_opts(DestinationHandle dest,
            byte[] name,
            NativeReadCallback read, NativeRewindCallback rewind, IntPtr ctx, long sizeHint,
            NativeProgressCallback progress, IntPtr progressCtx, IntPtr options);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr os_put_options_new();

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void os_put_options_free(IntPtr options);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_options_set_meta(IntPtr options, byte[] key, byte[] value);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_options_set_delete_after(IntPtr options, ulong seconds);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_options_set_delete_at(IntPtr options, long unixSeconds);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_options_set_no_expiry(IntPtr options);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_update_metadata(DestinationHandle dest, byte[] name, IntPtr options);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_stat_meta(DestinationHandle dest,
            byte[] name, out IntPtr entry, NativeMetaCallback cb, IntPtr ctx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_put_stream(DestinationHandle dest,
            byte[] name,
            NativeReadCallback read, NativeRewindCallback rewind, IntPtr ctx, long sizeHint,
            NativeProgressCallback progress, IntPtr progressCtx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_get(DestinationHandle dest,
            byte[] name, out IntPtr data, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_get_range(DestinationHandle dest,
            byte[] name, ulong offset, ulong length, out IntPtr data, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_get_range_stream(DestinationHandle dest,
            byte[] name, ulong offset, ulong length, NativeWriteCallback write, IntPtr ctx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void os_bytes_free(IntPtr data, UIntPtr len);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_get_file_ex(DestinationHandle dest,
            byte[] name,
            byte[] path,
            NativeProgressCallback progress, IntPtr progressCtx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_get_stream(DestinationHandle dest,
            byte[] name,
            NativeWriteCallback write, IntPtr ctx, NativeProgressCallback progress, IntPtr progressCtx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_delete(DestinationHandle dest,
            byte[] name);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_rename(DestinationHandle dest,
            byte[] from,
            byte[] to);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_stat(DestinationHandle dest,
            byte[] name, out IntPtr entry);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void os_entry_free(IntPtr entry);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_list(DestinationHandle dest, out IntPtr entries, out UIntPtr count);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_list_each(DestinationHandle dest, byte[] prefix,
            [MarshalAs(UnmanagedType.U1)] bool recursive, NativeEntryCallback cb, IntPtr ctx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_delete_container(DestinationHandle dest,
            [MarshalAs(UnmanagedType.U1)] bool emptyFirst);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void os_entries_free(IntPtr entries, UIntPtr count);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_quota(DestinationHandle dest, out NativeQuota quota);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_delete_many_ex(DestinationHandle dest, IntPtr[] names,
            UIntPtr count, NativeDeleteFailureCallback onFailure, IntPtr ctx, out UIntPtr deleted,
            out UIntPtr missing);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_list_versions(DestinationHandle dest, byte[] name,
            out IntPtr versions, out UIntPtr count);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void os_versions_free(IntPtr versions, UIntPtr count);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_get_version_stream(DestinationHandle dest,
            byte[] name, byte[] versionId,
            NativeWriteCallback write, IntPtr ctx, NativeProgressCallback progress, IntPtr progressCtx);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_restore_version(DestinationHandle dest,
            byte[] name, byte[] versionId);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern OpenStackStatus os_sweep_segments(DestinationHandle dest, ulong olderThanSeconds,
            out ulong removed, out ulong bytes);
    }
}
