/* C tests of libopenstack_dest's C ABI (include/openstack_dest.h).
 *
 * Usage: osd_c_tests [TEST...]   (no argument: all tests)
 * Real-server tests read the test bed's environment (OSD_AUTH_V3, OSD_USER, ...), or skip with the
 * reason in OSD_SERVER_SKIP (both set by tests/openstack/server-env.sh). OSD_C_THREAD_ITERS sets
 * the work of each of 8 threads. Containers are named osdc-<run id>-<test>; fixtures delete theirs
 * with os_delete_container(empty_first), and after the tests every container named by
 * container_name() that is left is deleted the same way.
 *
 * The Swift semantics themselves (names, listing, rename, regions, Keystone v2/v3, retries) are
 * tested once, in Rust (tests/real_swift.rs, tests/faults.rs); these tests are about the C ABI:
 * every call and type, out-pointers, ownership, callbacks, statuses and messages, threads. The
 * secret sweep and the many-threads test are drivers of tables every binding shares
 * (tests/secret_sweep.txt, tests/threads.txt; their directory is OSD_TESTS_DIR, set by run.sh). */
#define _XOPEN_SOURCE 700
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "openstack_dest.h"
#include "util.h"

#include "test_offline.inc"
#include "test_server.inc"
#include "test_sweep.inc"
#include "test_meta.inc"

static const struct h_test TESTS[] = {
    {"version", t_version, 0},
    {"status_names", t_status_names, 0},
    {"option_is_secret", t_option_is_secret, 0},
    {"entry_kinds", t_entry_kinds, 0},
    {"last_error_thread_local", t_last_error_thread_local, 0},
    {"frees_null", t_frees_null, 0},
    {"null_dest", t_null_dest, 0},
    {"open_null_args", t_open_null_args, 0},
    {"secret_sweep_parse", t_secret_sweep_parse, 0},
    {"invalid_utf8_url", t_invalid_utf8_url, 0},
    {"put_options_args", t_put_options_args, 0},
    {"log_callback_if", t_log_callback_if, 0},
    {"open_plain", t_open_plain, 1},
    {"container_lifecycle", t_container_lifecycle, 1},
    {"put_get_bytes", t_put_get_bytes, 1},
    {"files", t_files, 1},
    {"rename_delete", t_rename_delete, 1},
    {"delete_many", t_delete_many, 1},
    {"versions", t_versions, 1},
    {"list_each", t_list_each, 1},
    {"list_each_errors", t_list_each_errors, 1},
    {"delete_container", t_delete_container, 1},
    {"bad_names", t_bad_names, 1},
    {"null_args", t_null_args, 1},
    {"forbidden_reader", t_forbidden_reader, 1},
    {"quota", t_quota, 1},
    {"options_map", t_options_map, 1},
    {"log_callback", t_log_callback, 1},
    {"threads", t_threads, 1},
    {"stream_unknown_size", t_stream_unknown_size, 1},
    {"callbacks_stop", t_callbacks_stop, 1},
    {"get_range", t_get_range, 1},
    {"get_range_segmented", t_get_range_segmented, 1},
    {"metadata", t_metadata, 1},
    {"secret_sweep", t_secret_sweep, 1},
};

static const char *env_or_null(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

int main(int argc, char **argv) {
  /* Whether the server is there was decided by tests/openstack/server-env.sh (run.sh sources it):
   * OSD_SERVER_SKIP says why real-server tests are skipped; else the test bed's variables are set. */
  struct { const char *name, **slot; } vars[] = {
      {"OSD_AUTH_V3", &E.v3},     {"OSD_AUTH_V2", &E.v2},     {"OSD_USER", &E.user},
      {"OSD_PASSWORD", &E.pass},  {"OSD_APIKEY", &E.apikey},  {"OSD_PROJECT", &E.project},
      {"OSD_REGION1", &E.r1},     {"OSD_REGION2", &E.r2},     {"OSD_DOMAIN2", &E.domain2},
      {"OSD_USER2", &E.user2},    {"OSD_PASSWORD2", &E.pass2}, {"OSD_PROJECT2", &E.project2},
      {"OSD_READER_USER", &E.ruser}, {"OSD_READER_PASSWORD", &E.rpass}};
  static char reason[256];
  const char *server_reason = env_or_null("OSD_SERVER_SKIP");
  int required = 0, rc;
  size_t i, removed, failed = 0;
  for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    *vars[i].slot = env_or_null(vars[i].name);
    if (!server_reason && !*vars[i].slot) {
      snprintf(reason, sizeof reason, "%s is not set and OSD_SERVER_SKIP neither (run tests/c/run.sh, "
               "or source tests/openstack/server-env.sh first)", vars[i].name);
      server_reason = reason;
      required = 1;
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
