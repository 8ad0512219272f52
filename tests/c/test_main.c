/* C tests of libopenstack_dest's C ABI (include/openstack_dest.h). Usage: osd_c_tests [TEST...]
 *
 * Swift's semantics are tested once, in Rust (the tests/NAME.rs files); these tests are about the C layer: every
 * call and type, out-pointers, ownership and frees, callbacks, statuses and messages, threads, and
 * one real round trip of each kind of call. The secret sweep and the many-threads test drive tables
 * every binding shares (tests/secret_sweep.txt, tests/threads.txt, in OSD_TESTS_DIR set by run.sh).
 * Real-server tests read the test bed's environment or skip with OSD_SERVER_SKIP's reason (both
 * from tests/openstack/server-env.sh); their containers, osdc-<run>-<tag>, are deleted at the end.
 * OSD_C_THREAD_ITERS sets the work of each thread. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "test_calls.inc"
#include "test_server.inc"
#include "test_sweep.inc"

static void t_version(void) {
  const char *v = os_version();
  char buf[64];
  snprintf(buf, sizeof buf, "%d.%d.%d", OPENSTACK_DEST_VERSION_MAJOR, OPENSTACK_DEST_VERSION_MINOR,
           OPENSTACK_DEST_VERSION_PATCH);
  CHECK(v && strcmp(v, OPENSTACK_DEST_VERSION) == 0 && strcmp(buf, v) == 0);
  CHECK(os_version() == v); /* a static string: the same one every time */
}

/* The numbers and names of the statuses, and the kinds of os_entry, are part of the ABI. */
static void t_status_names_and_kinds(void) {
#define S(x) {x, #x}
  static const struct { os_status s; const char *name; } all[] = {
      S(OS_OK), S(OS_ERR_INVALID_ARGUMENT), S(OS_ERR_INVALID_URL), S(OS_ERR_AUTH), S(OS_ERR_FORBIDDEN),
      S(OS_ERR_NOT_FOUND), S(OS_ERR_CONTAINER_NOT_FOUND), S(OS_ERR_ENDPOINT_NOT_FOUND), S(OS_ERR_TOO_LARGE),
      S(OS_ERR_INTEGRITY), S(OS_ERR_NETWORK), S(OS_ERR_TIMEOUT), S(OS_ERR_SERVER), S(OS_ERR_LOCAL_IO),
      S(OS_ERR_CANCELLED), S(OS_ERR_PANIC), S(OS_ERR_CALLBACK), S(OS_ERR_HTTP), S(OS_ERR_CONTAINER_NOT_EMPTY),
      S(OS_ERR_TLS)};
  static const int unknown[] = {20, 21, 99, 1000, 0x7fffffff, -1};
  os_entry e;
  size_t i;
  for (i = 0; i < sizeof all / sizeof all[0]; i++) {
    const char *n = os_status_name(all[i].s);
    if ((size_t)all[i].s != i || !n || strcmp(n, all[i].name) != 0)
      FAIL("%s is %d, named %s", all[i].name, (int)all[i].s, n ? n : "(NULL)");
    else CHECK(1);
  }
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *n = os_status_name(unknown[i]);
    if (!n || strcmp(n, "OS_UNKNOWN") != 0) FAIL("os_status_name(%d) = %s", unknown[i], n ? n : "(NULL)");
    else CHECK(1);
  }
  CHECK(OS_KIND_OBJECT == 0 && OS_KIND_STATIC_LARGE == 1 && OS_KIND_DYNAMIC_LARGE == 2 && OS_KIND_FOLDER == 3);
  memset(&e, 0, sizeof e);
  CHECK(e.kind == OS_KIND_OBJECT && sizeof(os_entry_kind) == sizeof(int)); /* zeroed: an ordinary object */
#if UINTPTR_MAX == 0xffffffffffffffffu
  /* The layout the Python (ctypes) and C# (P/Invoke) declarations assume on 64-bit platforms. */
  CHECK(sizeof(os_entry) == 64 && offsetof(os_entry, etag) == 32 && offsetof(os_entry, kind) == 56);
#endif
}

/* Which options take a secret (bindings hide these values): any case, spaces around; not the
 * others, NULL, unknown keys or invalid UTF-8. */
static void t_option_is_secret(void) {
  static const char *const yes[] = {"auth-password", " Auth-Password ", "openstack-apikey", "openstack-auth-token",
                                    "openstack-application-credential-secret"};
  static const char *const no[] = {"auth-username", "openstack-authuri", "openstack-storage-url", "openstack-versioning",
                                   "no-such-option", "", "auth-\xff", "auth-pass\xff", NULL};
  size_t i;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (!CHECK(os_option_is_secret(yes[i]))) h_note("not secret: '%s'", yes[i]);
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    if (!CHECK(!os_option_is_secret(no[i]))) h_note("secret: '%s'", no[i] ? no[i] : "(NULL)");
}

struct thread_msg { int empty_at_start, http_at_start, failed_status, nonempty_after; };

static void *fresh_thread(void *arg) {
  struct thread_msg *m = arg;
  const char *msg = os_last_error_message();
  m->empty_at_start = msg != NULL && msg[0] == 0;
  m->http_at_start = os_last_http_status();
  m->failed_status = (int)os_test(NULL);
  m->nonempty_after = MSG_SET();
  return NULL;
}

/* The last error is the thread's own: "" (never NULL) on a new thread; another's error leaves it. */
static void t_last_error_thread_local(void) {
  pthread_t th;
  struct thread_msg m = {0, 0, 0, 0};
  char before[512];
  INVALID(os_delete(NULL, "x"));
  if (!CHECK(MSG_SET())) return;
  snprintf(before, sizeof before, "%s", os_last_error_message());
  if (!CHECK(pthread_create(&th, NULL, fresh_thread, &m) == 0)) return;
  pthread_join(th, NULL);
  CHECK(m.empty_at_start && m.http_at_start == 0 && m.failed_status == OS_ERR_INVALID_ARGUMENT && m.nonempty_after);
  CHECK(strcmp(os_last_error_message(), before) == 0 && os_last_http_status() == 0);
}

static void t_frees_null(void) {
  os_free(NULL);
  os_bytes_free(NULL, 0);
  os_bytes_free(NULL, 17);
  os_entry_free(NULL);
  os_entries_free(NULL, 0);
  os_entries_free(NULL, 3);
  os_versions_free(NULL, 0);
  os_put_options_free(NULL);
  os_set_log_callback(NULL, NULL, OS_LOG_DEBUG); /* turning logging off when it is off */
  CHECK(1);                                      /* reaching this line is the assertion */
}

/* os_open and os_open_with refuse NULL and invalid UTF-8 (URL, keys, values) and a map with a NULL
 * array or entry, write no handle, and set a message. (Bad URLs: the sweep table's parse cases.) */
static void t_open_args(void) {
  static const char *const k1[] = {"openstack-region", NULL}, *const v1[] = {"RegionOne", "x"};
  static const char *const k2[] = {"openstack-region", "openstack-version"}, *const v2[] = {"RegionOne", NULL};
  static const char *const kbad[] = {"openstack-\xc3"}, *const vbad[] = {"Region\xff"};
  static const struct { const char *url; const char *const *keys, *const *values; size_t n; } cases[] = {
      {NULL, NULL, NULL, 0},
      {"openstack://co\xffnt/pre?" OFFLINE_Q "&openstack-authuri=" OFFLINE_AUTH, NULL, NULL, 0},
      {"openstack://cont/pre\xed\xa0\x80?" OFFLINE_Q "&openstack-authuri=" OFFLINE_AUTH, NULL, NULL, 0},
      {OFFLINE_URL, NULL, NULL, 1}, {OFFLINE_URL, k1, NULL, 1}, {OFFLINE_URL, k1, v1, 2}, /* keys[1] NULL */
      {OFFLINE_URL, k2, v2, 2}, {OFFLINE_URL, k1, vbad, 1}, {OFFLINE_URL, kbad, v1, 1}};
  os_dest *out = SENT_DEST;
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (!INVALID(os_open_with(cases[i].url, cases[i].keys, cases[i].values, cases[i].n, &out))) h_note("case %zu", i);
    CHECK(out == SENT_DEST && MSG_SET());
    if (cases[i].n == 0) CHECK(os_open(cases[i].url) == NULL && MSG_SET());
  }
  INVALID(os_open_with(OFFLINE_URL, NULL, NULL, 0, NULL));
}

static void t_put_options_args(void) {
  os_put_options *o = os_put_options_new();
  if (!CHECK(o != NULL)) return;
  INVALID(os_put_options_set_meta(NULL, "k", "v"));
  INVALID(os_put_options_set_meta(o, NULL, "v"));
  INVALID(os_put_options_set_meta(o, "k", NULL));
  INVALID(os_put_options_set_meta(o, "mtime", "1"));
  CHECK(strstr(os_last_error_message(), "mtime") != NULL);
  INVALID(os_put_options_set_meta(o, "under_score", "1"));
  INVALID(os_put_options_set_meta(o, "", "1"));
  INVALID(os_put_options_set_meta(o, "k", "a\r\nX-Injected: 1"));
  INVALID(os_put_options_set_meta(o, "k", "\xff")); /* not UTF-8 */
  CHECK_ST(os_put_options_set_meta(o, "Color", "bl\xc3\xbc" "e"), OS_OK);
  CHECK_ST(os_put_options_set_meta(o, "color", "red"), OS_OK); /* replaces: keys ignore case */
  INVALID(os_put_options_set_delete_after(NULL, 5));
  INVALID(os_put_options_set_delete_after(o, 0));
  CHECK_ST(os_put_options_set_delete_after(o, 86400), OS_OK);
  INVALID(os_put_options_set_delete_at(NULL, 5));
  INVALID(os_put_options_set_delete_at(o, -1));
  INVALID(os_put_options_set_no_expiry(NULL));
  CHECK_ST(os_put_options_set_no_expiry(o), OS_OK);
  INVALID(os_stat_meta(NULL, "a", NULL, NULL, NULL));
  os_put_options_free(o);
}

/* Log callbacks of two parts of one process: neither replaces the other's (os_set_log_callback_if). */
static int foreign_lines, own_lines;
static void foreign_cb(void *ctx, os_log_level level, const char *message) { (void)ctx, (void)level, (void)message, foreign_lines++; }
static void own_cb(void *ctx, os_log_level level, const char *message) { (void)ctx, (void)level, (void)message, own_lines++; }

static void t_log_callback_if(void) {
  static int own_ctx;
  os_dest *d;
  os_set_log_callback(NULL, NULL, OS_LOG_ERROR);
  CHECK(!os_log_callback_is_set());
  os_set_log_callback(foreign_cb, NULL, OS_LOG_DEBUG); /* the host program's, first */
  CHECK(os_log_callback_is_set());
  /* A binding asking for "only when none is set" leaves it, and cannot change or remove it by
   * naming itself (nor the right callback with another ctx). */
  CHECK(!os_set_log_callback_if(NULL, NULL, own_cb, &own_ctx, OS_LOG_DEBUG));
  CHECK(!os_set_log_callback_if(own_cb, &own_ctx, NULL, NULL, OS_LOG_ERROR));
  CHECK(!os_set_log_callback_if(foreign_cb, &own_ctx, NULL, NULL, OS_LOG_ERROR));
  foreign_lines = own_lines = 0;
  if (CHECK((d = os_open(OFFLINE_URL)) != NULL)) {
    CHECK(os_test(d) != OS_OK); /* nothing listens on port 9: an error, and log lines */
    os_free(d);
  }
  CHECK(foreign_lines > 0 && own_lines == 0);
  /* Once the host removed its own, the binding installs, changes and removes its callback. */
  os_set_log_callback(NULL, NULL, OS_LOG_ERROR);
  CHECK(os_set_log_callback_if(NULL, NULL, own_cb, &own_ctx, OS_LOG_DEBUG));
  CHECK(!os_set_log_callback_if(NULL, NULL, foreign_cb, NULL, OS_LOG_DEBUG));
  CHECK(os_set_log_callback_if(own_cb, &own_ctx, own_cb, &own_ctx, OS_LOG_WARN));
  CHECK(os_set_log_callback_if(own_cb, &own_ctx, NULL, NULL, OS_LOG_ERROR));
  CHECK(!os_log_callback_is_set());
}

static const struct h_test TESTS[] = {
    {"version", t_version, 0},
    {"status_names_and_kinds", t_status_names_and_kinds, 0},
    {"option_is_secret", t_option_is_secret, 0},
    {"last_error_thread_local", t_last_error_thread_local, 0},
    {"frees_null", t_frees_null, 0},
    {"open_args", t_open_args, 0},
    {"null_dest_and_bad_names", t_null_dest_and_bad_names, 0},
    {"null_args", t_null_args, 0},
    {"put_options_args", t_put_options_args, 0},
    {"log_callback_if", t_log_callback_if, 0},
    {"secret_sweep_parse", t_secret_sweep_parse, 0},
    {"missing_container_and_object", t_missing_container_and_object, 1},
    {"container_lifecycle", t_container_lifecycle, 1},
    {"put_get_bytes", t_put_get_bytes, 1},
    {"files", t_files, 1},
    {"streams", t_streams, 1},
    {"callbacks_stop", t_callbacks_stop, 1},
    {"get_range", t_get_range, 1},
    {"segmented", t_segmented, 1},
    {"delete_many", t_delete_many, 1},
    {"list_each", t_list_each, 1},
    {"versions", t_versions, 1},
    {"metadata", t_metadata, 1},
    {"forbidden_reader", t_forbidden_reader, 1},
    {"options_map_and_quota", t_options_map_and_quota, 1},
    {"log_callback", t_log_callback, 1},
    {"threads", t_threads, 1},
    {"secret_sweep", t_secret_sweep, 1},
};

int main(int argc, char **argv) {
  struct { const char *name, **slot; } vars[] = {
      {"OSD_AUTH_V3", &E.v3}, {"OSD_AUTH_V2", &E.v2}, {"OSD_USER", &E.user}, {"OSD_PASSWORD", &E.pass},
      {"OSD_APIKEY", &E.apikey}, {"OSD_PROJECT", &E.project}, {"OSD_REGION1", &E.r1},
      {"OSD_READER_USER", &E.ruser}, {"OSD_READER_PASSWORD", &E.rpass}};
  static char reason[256];
  const char *server_reason = getenv("OSD_SERVER_SKIP");
  int required = 0, rc;
  size_t i, removed, failed = 0;
  if (server_reason && !*server_reason) server_reason = NULL;
  for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    *vars[i].slot = getenv(vars[i].name) && *getenv(vars[i].name) ? getenv(vars[i].name) : NULL;
    if (!server_reason && !*vars[i].slot) { /* the server is meant to be there: a failure */
      snprintf(reason, sizeof reason, "%s is not set and OSD_SERVER_SKIP neither (run tests/c/run.sh, "
               "or source tests/openstack/server-env.sh first)", vars[i].name);
      server_reason = reason, required = 1;
    }
  }
  snprintf(RUN_ID, sizeof RUN_ID, "%ld-%06lx", (long)getpid(), (unsigned long)time(NULL) & 0xffffff);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("libopenstack_dest %s, header %s, run %s\n", os_version(), OPENSTACK_DEST_VERSION, RUN_ID);
  rc = h_run(TESTS, sizeof TESTS / sizeof TESTS[0], argc, argv, server_reason, required);
  if (!server_reason) {
    removed = remove_test_containers(&failed);
    printf("cleanup: removed %zu test container(s) with os_delete_container, %zu could not be\n", removed, failed);
  }
  return rc;
}
