/* A tiny test harness for the C tests of libopenstack_dest.
 *
 * Each test is a function `void t_xxx(void)` listed in a table of `struct h_test`. Checks are
 * thread-safe (tests may check from several threads). A test passes when it made at least one
 * check and none failed; a test that checks nothing is counted as failed. */
#ifndef OSD_C_HARNESS_H
#define OSD_C_HARNESS_H

#include <stddef.h>
#include "openstack_dest.h"

struct h_test {
  const char *name;
  void (*fn)(void);
  int needs_server; /* 1: talks to the real Swift + Keystone of the test bed */
};

/* Records one check; returns ok so callers can bail out early. */
int h_check(int ok, const char *expr, const char *file, int line);
/* Records a status check; on mismatch prints both status names and the library's message. */
int h_check_status(os_status got, os_status want, const char *expr, const char *file, int line);
/* Marks the running test as failed with a formatted reason. */
void h_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Prints a note under the running test (for diagnostics only). */
void h_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Runs the tests (all, or only those named on the command line). server_reason is NULL when the
 * server is usable, otherwise why not; server_required turns "skip" into "fail" for those tests
 * (test_main.c decides neither: tests/openstack/server-env.sh did).
 * Prints one line per test and a final `osd-c-tests: passed=N failed=N skipped=N`.
 * Returns the process exit code (0 when nothing failed). */
int h_run(const struct h_test *tests, size_t count, int argc, char **argv,
          const char *server_reason, int server_required);

#define CHECK(cond) h_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_ST(expr, want) h_check_status((expr), (want), #expr, __FILE__, __LINE__)
#define FAIL(...) h_fail(__FILE__, __LINE__, __VA_ARGS__)

#endif
