using System;

namespace OpenStackDest
{
    /// <summary>
    /// A failed call of the library. The message comes from os_last_error_message (one line, with the
    /// HTTP status and Swift's transaction id where there was one) and never contains a secret.
    /// </summary>
    public class OpenStackException : Exception
    {
        public OpenStackException(OpenStackStatus status, string message, int httpStatus)
            : base(message)
        {
            Status = status;
            HttpStatus = httpStatus;
        }

        public OpenStackException(OpenStackStatus status, string message, int httpStatus, Exception inner)
            : base(message, inner)
        {
            Status = status;
            HttpStatus = httpStatus;
        }

        /// <summary>The library's status code.</summary>
        public OpenStackStatus Status { get; private set; }

        /// <summary>HTTP status of the failed request, 0 if there was none.</summary>
        public int HttpStatus { get; private set; }
    }

    /// <summary>The object does not exist (OS_ERR_NOT_FOUND).</summary>
    public class FileMissingException : OpenStackException
    {
        public FileMissingException(string message, int httpStatus)
            : base(OpenStackStatus.NotFound, message, httpStatus)
        {
        }
    }

    /// <summary>The container does not exist (OS_ERR_CONTAINER_NOT_FOUND); CreateFolder() creates it.</summary>
    public class FolderMissingException : OpenStackException
    {
        public FolderMissingException(string message, int httpStatus)
            : base(OpenStackStatus.ContainerNotFound, message, httpStatus)
        {
        }
    }

    /// <summary>
    /// The container still holds objects (OS_ERR_CONTAINER_NOT_EMPTY): <c>DeleteFolder(emptyFirst: true)</c>
    /// deletes them first.
    /// </summary>
    public class FolderNotEmptyException : OpenStackException
    {
        public FolderNotEmptyException(string message, int httpStatus)
            : base(OpenStackStatus.ContainerNotEmpty, message, httpStatus)
        {
        }
    }

    /// <summary>
    /// Some names given to DeleteMany could not be deleted: <see cref="Failures"/> holds each with its
    /// exception; the status is that of the first.
    /// </summary>
    public class DeleteManyException : OpenStackException
    {
        public DeleteManyException(System.Collections.Generic.IList<System.Collections.Generic.KeyValuePair<string, Exception>> failures, long deleted)
            : base(StatusOf(failures[0].Value), failures.Count + " of the names could not be deleted; the first, '" +
                failures[0].Key + "': " + failures[0].Value.Message, 0)
        {
            Failures = failures;
            Deleted = deleted;
        }

        private static OpenStackStatus StatusOf(Exception e)
        {
            var os = e as OpenStackException;
            return os != null ? os.Status : OpenStackStatus.InvalidArgument;
        }

        /// <summary>Each name that failed, with why.</summary>
        public System.Collections.Generic.IList<System.Collections.Generic.KeyValuePair<string, Exception>> Failures { get; private set; }

        /// <summary>How many names were deleted.</summary>
        public long Deleted { get; private set; }
    }
}
