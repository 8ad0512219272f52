// The state of one streamed put or get: the C callbacks, the first exception a callback caught, and the
// cancellation token checked by the progress callback.
using System;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace OpenStackDest
{
    internal sealed class Transfer
    {
        private const int MaxBuffer = 1024 * 1024;

        private readonly Stream stream;
        private readonly long startPosition;
        private readonly CancellationToken token;
        private readonly Action<long, long> progress;
        private byte[] buffer;
        private ExceptionDispatchInfo failure;

        // The delegates handed to the library; they must stay reachable until the native call returns.
        internal readonly NativeReadCallback ReadCallback;
        internal readonly NativeRewindCallback RewindCallback;
        internal readonly NativeWriteCallback WriteCallback;
        internal readonly NativeProgressCallback ProgressCallback;

        internal Transfer(Stream stream, bool forReading, CancellationToken token, Action<long, long> progress)
        {
            this.stream = stream;
            this.token = token;
            this.progress = progress;
            if (stream != null && forReading)
            {
                ReadCallback = OnRead;
                if (stream.CanSeek)
                {
                    startPosition = stream.Position;
                    RewindCallback = OnRewind;
                }
            }
            else if (stream != null)
            {
                WriteCallback = OnWrite;
            }
            if (token.CanBeCanceled || progress != null)
                ProgressCallback = OnProgress;
        }

        /// <summary>Remaining bytes of a seekable source (the upload starts at the current position), else -1.</summary>
        internal long SizeHint
        {
            get
            {
                if (stream == null || !stream.CanSeek)
                    return -1;
                try
                {
                    return Math.Max(0, stream.Length - startPosition);
                }
                catch (NotSupportedException)
                {
                    return -1;
                }
            }
        }

        private bool Failed
        {
            get { return Volatile.Read(ref failure) != null; }
        }

        private void Fail(Exception e)
        {
            Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
        }

        private byte[] Buffer(ulong wanted)
        {
            int size = (int)Math.Min(wanted, (ulong)MaxBuffer);
            if (buffer == null || buffer.Length < size)
                buffer = new byte[Math.Max(size, 64 * 1024)];
            return buffer;
        }

        private IntPtr OnRead(IntPtr ctx, IntPtr buf, UIntPtr cap)
        {
            if (Failed)
                return new IntPtr(-1);
            try
            {
                ulong capacity = cap.ToUInt64();
                if (capacity == 0)
                    return IntPtr.Zero;
                byte[] b = Buffer(capacity);
                int want = (int)Math.Min(capacity, (ulong)b.Length);
                int n = stream.Read(b, 0, want);
                if (n < 0 || n > want)
                    throw new IOException("Stream.Read returned " + n + " for a request of " + want + " bytes");
                if (n > 0)
                    Marshal.Copy(b, 0, buf, n);
                return new IntPtr(n);
            }
            catch (Exception e)
            {
                Fail(e);
                return new IntPtr(-1);
            }
        }

        private int OnRewind(IntPtr ctx)
        {
            if (Failed)
                return 1;
            try
            {
                stream.Seek(startPosition, SeekOrigin.Begin);
                return 0;
            }
            catch (Exception e)
            {
                Fail(e);
                return 1;
            }
        }

        private int OnWrite(IntPtr ctx, IntPtr buf, UIntPtr len)
        {
            // The token is checked here too: os_get_range_stream has no progress callback.
            if (Failed || token.IsCancellationRequested)
                return 1;
            try
            {
                ulong remaining = len.ToUInt64();
                long offset = 0;
                while (remaining > 0)
                {
                    byte[] b = Buffer(remaining);
                    int n = (int)Math.Min(remaining, (ulong)b.Length);
                    Marshal.Copy(new IntPtr(buf.ToInt64() + offset), b, 0, n);
                    stream.Write(b, 0, n);
                    offset += n;
                    remaining -= (ulong)n;
                }
                return 0;
            }
            catch (Exception e)
            {
                Fail(e);
                return 1;
            }
        }

        private int OnProgress(IntPtr ctx, ulong done, long total)
        {
            if (Failed || token.IsCancellationRequested)
                return 1;
            if (progress == null)
                return 0;
            try
            {
                progress((long)done, total);
            }
            catch (Exception e)
            {
                Fail(e);
                return 1;
            }
            return token.IsCancellationRequested ? 1 : 0;
        }

        /// <summary>
        /// After the native call: an exception a callback caught is rethrown as it was (stack kept);
        /// otherwise the status becomes the usual exception. Runs on the calling thread.
        /// </summary>
        internal void Complete(OpenStackStatus status, string[] secrets)
        {
            if (status == OpenStackStatus.Ok)
                return;
            Exception error = Interop.Error(status, secrets, token);
            ExceptionDispatchInfo caught = Volatile.Read(ref failure);
            if (caught != null)
                caught.Throw();
            // A write callback that stopped for the token makes the call fail with OS_ERR_CALLBACK.
            if (status == OpenStackStatus.Callback && token.IsCancellationRequested)
                throw new OperationCanceledException(error.Message, token);
            throw error;
        }
    }
}
