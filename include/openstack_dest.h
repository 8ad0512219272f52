/* DRAFT CONTRACT — hand-written; build.rs will regenerate this file with cbindgen from src/ffi/.
 * The names, numbers and signatures below are fixed: bindings and C code are written against them. */
#ifndef OPENSTACK_DEST_H
#define OPENSTACK_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPENSTACK_DEST_VERSION "0.1.0"
#define OPENSTACK_DEST_VERSION_MAJOR 0
#define OPENSTACK_DEST_VERSION_MINOR 1
#define OPENSTACK_DEST_VERSION_PATCH 0

/* Result of every fallible call. Numbers are stable and never reused. */
typedef enum os_status {
  OS_OK = 0,
  OS_ERR_INVALID_ARGUMENT = 1,   /* NULL pointer, invalid UTF-8, bad name (empty, > 1024 bytes) */
  OS_ERR_INVALID_URL = 2,        /* bad openstack:// URL or missing/contradictory option */
  OS_ERR_AUTH = 3,               /* Keystone refused the credentials (401) */
  OS_ERR_FORBIDDEN = 4,          /* 403: the user lacks the rights */
  OS_ERR_NOT_FOUND = 5,          /* the object (file) does not exist */
  OS_ERR_CONTAINER_NOT_FOUND = 6,/* the container does not exist */
  OS_ERR_ENDPOINT_NOT_FOUND = 7, /* no object-store endpoint in the catalog */
  OS_ERR_TOO_LARGE = 8,          /* 413: object or quota too large */
  OS_ERR_INTEGRITY = 9,          /* MD5/length mismatch */
  OS_ERR_NETWORK = 10,           /* connection refused/reset, DNS, TLS */
  OS_ERR_TIMEOUT = 11,           /* no progress within the timeout */
  OS_ERR_SERVER = 12,            /* 5xx after retries */
  OS_ERR_LOCAL_IO = 13,          /* local file could not be read/written */
  OS_ERR_CANCELLED = 14,         /* a progress callback asked to stop */
  OS_ERR_PANIC = 15,             /* internal bug caught at the boundary */
  OS_ERR_CALLBACK = 16,          /* a read/write callback returned an error */
  OS_ERR_HTTP = 17,              /* any other unexpected HTTP answer (e.g. 409, 422) */
} os_status;

/* Level of a log line passed to the log callback. */
typedef enum os_log_level {
  OS_LOG_ERROR = 1,
  OS_LOG_WARN = 2,
  OS_LOG_INFO = 3,
  OS_LOG_DEBUG = 4,
} os_log_level;

/* Opaque destination handle; thread-safe: one handle may serve several threads at once. */
typedef struct os_dest os_dest;

/* One listing entry (or stat result). Strings are UTF-8, owned by the library. */
typedef struct os_entry {
  const char *name;          /* UTF-8, relative to the prefix; folders end without '/' */
  int64_t size;              /* bytes, -1 if unknown */
  int64_t last_modified_ms;  /* Unix time in ms, UTC, -1 if unknown */
  bool is_folder;
  const char *etag;          /* MD5 hex as Swift reports it, NULL if none */
} os_entry;

/* Account usage. */
typedef struct os_quota_info {
  int64_t bytes_used;        /* account bytes used */
  int64_t quota_bytes;       /* account quota (X-Account-Meta-Quota-Bytes), -1 when none */
  int64_t object_count;      /* account object count */
  int64_t container_count;   /* account container count */
} os_quota_info;

/* Read callback: fill buf with up to cap bytes; return bytes written, 0 at end, < 0 to abort (OS_ERR_CALLBACK). */
typedef intptr_t (*os_read_cb)(void *ctx, uint8_t *buf, size_t cap);
/* Rewind callback: go back to the start of the stream so the upload can be retried; 0 = done, non-zero = cannot. */
typedef int (*os_rewind_cb)(void *ctx);
/* Write callback: consume len bytes; return 0 to go on, non-zero to abort (OS_ERR_CALLBACK). */
typedef int (*os_write_cb)(void *ctx, const uint8_t *buf, size_t len);
/* Progress callback: done bytes so far, total (-1 if unknown); return 0 to go on, non-zero cancels (OS_ERR_CANCELLED). */
typedef int (*os_progress_cb)(void *ctx, uint64_t done, int64_t total);
/* Log callback: one line, UTF-8, valid for the call only; may be called from any thread. */
typedef void (*os_log_cb)(void *ctx, os_log_level level, const char *message);

const char *os_version(void);                       /* static string, e.g. "0.1.0" */
const char *os_status_name(os_status status);       /* static string, e.g. "OS_ERR_NOT_FOUND"; "OS_UNKNOWN" for others */
const char *os_last_error_message(void);            /* thread-local, "" if none; valid until next os_ call on this thread */
int32_t     os_last_http_status(void);              /* thread-local HTTP status of the last failed call, 0 if none */
/* Process-wide log sink; cb NULL turns logging off. Lines above max_level are not delivered. */
void        os_set_log_callback(os_log_cb cb, void *ctx, os_log_level max_level);

os_dest  *os_open(const char *url);                 /* NULL on failure (see os_last_error_message) */
os_status os_open_with(const char *url, const char *const *keys, const char *const *values,
                       size_t count, os_dest **out);  /* keys/values may be NULL when count is 0 */
void      os_free(os_dest *dest);                   /* NULL is a no-op */

os_status os_test(os_dest *dest);
os_status os_create_container(os_dest *dest);

os_status os_put(os_dest *dest, const char *name, const uint8_t *data, size_t len); /* data may be NULL when len is 0 */
os_status os_put_file(os_dest *dest, const char *name, const char *path);
os_status os_put_file_ex(os_dest *dest, const char *name, const char *path,
                         os_progress_cb progress, void *progress_ctx);   /* progress may be NULL */
/* rewind may be NULL (then the upload is not retried); size_hint -1 if unknown; progress may be NULL. */
os_status os_put_stream(os_dest *dest, const char *name, os_read_cb read, os_rewind_cb rewind,
                        void *ctx, int64_t size_hint, os_progress_cb progress, void *progress_ctx);

os_status os_get(os_dest *dest, const char *name, uint8_t **data, size_t *len); /* free with os_bytes_free; *data may be NULL when *len is 0 */
void      os_bytes_free(uint8_t *data, size_t len); /* NULL is a no-op */
os_status os_get_file(os_dest *dest, const char *name, const char *path);
os_status os_get_file_ex(os_dest *dest, const char *name, const char *path,
                         os_progress_cb progress, void *progress_ctx);
os_status os_get_stream(os_dest *dest, const char *name, os_write_cb write, void *ctx,
                        os_progress_cb progress, void *progress_ctx);

os_status os_delete(os_dest *dest, const char *name);
os_status os_rename(os_dest *dest, const char *from, const char *to);
os_status os_stat(os_dest *dest, const char *name, os_entry **out);  /* free with os_entry_free */
void      os_entry_free(os_entry *entry);                             /* NULL is a no-op */
os_status os_list(os_dest *dest, os_entry **entries, size_t *count); /* free with os_entries_free; *entries may be NULL when *count is 0 */
void      os_entries_free(os_entry *entries, size_t count);          /* NULL is a no-op */
os_status os_quota(os_dest *dest, os_quota_info *out);

#endif /* OPENSTACK_DEST_H */
