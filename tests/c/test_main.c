/* C tests of libopenstack_dest's C ABI (include/openstack_dest.h).
 *
 * Usage: osd_c_tests [TEST...]   (no argument: all tests)
 * Real-server tests read the test bed's environment (OSD_AUTH_V3, OSD_USER, ...; see
 * tests/openstack/testbed.sh). Without it they are skipped with a reason, or fail when CI or
 * OSD_REQUIRE_SERVER is set. OSD_C_BIG_MB sets the size of the big streaming test (default 256,
 * the object being a little larger than that), OSD_C_THREAD_ITERS the work of each of 8 threads,
 * OSD_C_RUN_ID the run id in container names (osdc-<run id>-<test>). Fixtures delete their
 * container with os_delete_container(empty_first) when done, and after the tests every container
 * named by container_name() that is left is deleted the same way (run.sh's cleanup.py only
 * removes what a crashed run left). */
#define _XOPEN_SOURCE 700
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "openstack_dest.h"
#include "util.h"

#include "test_offline.inc"
#include "test_server.inc"
#include "test_sweep.inc"

static const struct h_test TESTS[] = {
    {"version", t_version, 0},
    {"status_names", t_status_names, 0},
    {"last_error_thread_local", t_last_error_thread_local, 0},
    {"frees_null", t_frees_null, 0},
    {"null_dest", t_null_dest, 0},
    {"open_null_args", t_open_null_args, 0},
    {"bad_urls", t_bad_urls, 0},
    {"invalid_utf8_url", t_invalid_utf8_url, 0},
    {"open_plain", t_open_plain, 1},
    {"container_lifecycle", t_container_lifecycle, 1},
    {"put_get_bytes", t_put_get_bytes, 1},
    {"files", t_files, 1},
    {"rename_delete", t_rename_delete, 1},
    {"list_folders_prefix", t_list_folders_prefix, 1},
    {"list_each", t_list_each, 1},
    {"list_each_errors", t_list_each_errors, 1},
    {"delete_container", t_delete_container, 1},
    {"special_names", t_special_names, 1},
    {"bad_names", t_bad_names, 1},
    {"null_args", t_null_args, 1},
    {"not_found", t_not_found_everywhere, 1},
    {"auth_errors", t_auth_errors, 1},
    {"forbidden_reader", t_forbidden_reader, 1},
    {"quota", t_quota, 1},
    {"options_map", t_options_map, 1},
    {"v2_password", t_v2_password, 1},
    {"v2_apikey", t_v2_apikey, 1},
    {"v3_second_domain", t_v3_second_domain, 1},
    {"log_callback", t_log_callback, 1},
    {"region2", t_region2, 1},
    {"threads", t_threads, 1},
    {"stream_unknown_size", t_stream_unknown_size, 1},
    {"read_callback_abort", t_read_callback_abort, 1},
    {"write_callback_abort", t_write_callback_abort, 1},
    {"progress_cancel", t_progress_cancel, 1},
    {"big_stream", t_big_stream, 1},
    {"secret_sweep", t_secret_sweep, 1},
};

static const char *env_or_null(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

int main(int argc, char **argv) {
  static char reason[256];
  const char *server_reason = NULL;
  int required = env_or_null("CI") != NULL || env_or_null("OSD_REQUIRE_SERVER") != NULL;
  static const char *const names[] = {"OSD_AUTH_V3", "OSD_AUTH_V2", "OSD_USER", "OSD_PASSWORD", "OSD_APIKEY",
                                      "OSD_PROJECT", "OSD_REGION1", "OSD_REGION2", "OSD_DOMAIN2", "OSD_USER2",
                                      "OSD_PASSWORD2", "OSD_PROJECT2", "OSD_READER_USER", "OSD_READER_PASSWORD"};
  const char **slots[14];
  size_t i;
  unsigned long r = 0;
  FILE *u;
  slots[0] = &E.v3;
  slots[1] = &E.v2;
  slots[2] = &E.user;
  slots[3] = &E.pass;
  slots[4] = &E.apikey;
  slots[5] = &E.project;
  slots[6] = &E.r1;
  slots[7] = &E.r2;
  slots[8] = &E.domain2;
  slots[9] = &E.user2;
  slots[10] = &E.pass2;
  slots[11] = &E.project2;
  slots[12] = &E.ruser;
  slots[13] = &E.rpass;
  for (i = 0; i < 14; i++) *slots[i] = env_or_null(names[i]);
  if (!E.v3) {
    server_reason = "OSD_AUTH_V3 is not set (start the test bed: bash tests/openstack/testbed.sh start, "
                    "then source its env.sh)";
  } else {
    for (i = 0; i < 14; i++)
      if (!*slots[i]) {
        /* A half-configured test bed is a broken one: fail rather than skip. */
        snprintf(reason, sizeof reason, "OSD_AUTH_V3 is set but %s is missing", names[i]);
        server_reason = reason;
        required = 1;
        break;
      }
  }
  u = fopen("/dev/urandom", "rb");
  if (u) {
    if (fread(&r, sizeof r, 1, u) != 1) r = 0;
    fclose(u);
  }
  r ^= (unsigned long)time(NULL);
  /* Containers are named osdc-<run id>-<test>; run.sh passes its run id to clean up after us. */
  if (env_or_null("OSD_C_RUN_ID") && strlen(getenv("OSD_C_RUN_ID")) < sizeof RUN_ID)
    snprintf(RUN_ID, sizeof RUN_ID, "%s", getenv("OSD_C_RUN_ID"));
  else
    snprintf(RUN_ID, sizeof RUN_ID, "%ld-%06lx", (long)getpid(), r & 0xffffff);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("libopenstack_dest %s, header %s, run %s\n", os_version(), OPENSTACK_DEST_VERSION, RUN_ID);
  {
    int rc = h_run(TESTS, sizeof TESTS / sizeof TESTS[0], argc, argv, server_reason, required);
    size_t removed, failed = 0;
    if (!server_reason) {
      removed = remove_test_containers(&failed);
      printf("cleanup: removed %zu test container(s) with os_delete_container, %zu could not be\n", removed, failed);
    }
    return rc;
  }
}
