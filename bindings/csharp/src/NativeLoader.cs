// Where libopenstack_dest comes from: $OPENSTACK_DEST_LIB (a full path) first, then the runtime's own
// probing (the assembly's directory, then the system loader: LD_LIBRARY_PATH, ld.so.cache).
using System;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OpenStackDest
{
    internal static class NativeLoader
    {
        internal const string EnvVar = "OPENSTACK_DEST_LIB";

        private static readonly object Gate = new object();
        private static bool initialized;
        private static MethodInfo nativeLibraryLoad;

        /// <summary>
        /// Must run before the first method that calls into <see cref="Native"/> is compiled (Mono binds
        /// P/Invokes at JIT time). Every public entry point calls it first and then a separate,
        /// non-inlined method that does the native work.
        /// </summary>
        internal static void EnsureInitialized()
        {
            lock (Gate)
            {
                if (initialized)
                    return;
                initialized = true;
                string path = Environment.GetEnvironmentVariable(EnvVar);
                if (string.IsNullOrEmpty(path))
                    return;
                try
                {
                    if (TryRegisterResolver())
                        return;
                    if (Type.GetType("Mono.Runtime") != null)
                        MonoMap(Path.GetFullPath(path));
                }
                catch (Exception)
                {
                    // Fall back to the runtime's default probing; a missing library then surfaces as
                    // DllNotFoundException on the first call.
                }
            }
        }

        // .NET Core 3.0+ / .NET 5+: NativeLibrary.SetDllImportResolver, looked up by reflection because
        // netstandard2.0 does not declare it.
        private static bool TryRegisterResolver()
        {
            Type nativeLibrary = Type.GetType("System.Runtime.InteropServices.NativeLibrary");
            Type resolverType = Type.GetType("System.Runtime.InteropServices.DllImportResolver");
            if (nativeLibrary == null || resolverType == null)
                return false;
            MethodInfo set = nativeLibrary.GetMethod("SetDllImportResolver", new[] { typeof(Assembly), resolverType });
            nativeLibraryLoad = nativeLibrary.GetMethod("Load", new[] { typeof(string) });
            if (set == null || nativeLibraryLoad == null)
                return false;
            MethodInfo resolve = typeof(NativeLoader).GetMethod("Resolve", BindingFlags.NonPublic | BindingFlags.Static);
            Delegate resolver = Delegate.CreateDelegate(resolverType, resolve);
            try
            {
                set.Invoke(null, new object[] { typeof(NativeLoader).Assembly, resolver });
            }
            catch (TargetInvocationException)
            {
                // A resolver is already registered for this assembly (by the host): leave it alone.
            }
            return true;
        }

        private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (libraryName != Native.Lib)
                return IntPtr.Zero;
            string path = Environment.GetEnvironmentVariable(EnvVar);
            if (string.IsNullOrEmpty(path))
                return IntPtr.Zero;
            try
            {
                return (IntPtr)nativeLibraryLoad.Invoke(null, new object[] { path });
            }
            catch (TargetInvocationException e)
            {
                throw new DllNotFoundException(EnvVar + "=" + path + " could not be loaded: " + e.InnerException.Message, e.InnerException);
            }
        }

        // Mono: a global dllmap entry, the run-time equivalent of <dllmap> in a .config file.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void MonoMap(string path)
        {
            mono_dllmap_insert(IntPtr.Zero, Native.Lib, null, path, null);
        }

        [DllImport("__Internal", CallingConvention = CallingConvention.Cdecl)]
        private static extern void mono_dllmap_insert(IntPtr assembly,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string dll, [MarshalAs(UnmanagedType.LPUTF8Str)] string func,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string tdll, [MarshalAs(UnmanagedType.LPUTF8Str)] string tfunc);
    }
}
