#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t h_lock = PTHREAD_MUTEX_INITIALIZER;
static long h_checks;   /* checks made by the running test */
static long h_failures; /* failed checks of the running test */

static void h_report_failure_locked(const char *file, int line, const char *what) {
  h_failures++;
  fprintf(stdout, "    FAILED %s:%d: %s\n", file, line, what);
  fflush(stdout);
}

int h_check(int ok, const char *expr, const char *file, int line) {
  pthread_mutex_lock(&h_lock);
  h_checks++;
  if (!ok) h_report_failure_locked(file, line, expr);
  pthread_mutex_unlock(&h_lock);
  return ok;
}

int h_check_status(os_status got, os_status want, const char *expr, const char *file, int line) {
  char msg[1024];
  char what[2048];
  int http;
  if (got == want) return h_check(1, expr, file, line);
  /* Copy the message first: it is valid only until the next os_ call on this thread. */
  snprintf(msg, sizeof msg, "%s", os_last_error_message() ? os_last_error_message() : "(NULL)");
  http = os_last_http_status();
  snprintf(what, sizeof what, "%s -> %s (%d), expected %s (%d); http %d; message: %s", expr,
           os_status_name(got), (int)got, os_status_name(want), (int)want, http, msg);
  return h_check(0, what, file, line);
}

void h_fail(const char *file, int line, const char *fmt, ...) {
  char what[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  h_check(0, what, file, line);
}

void h_note(const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&h_lock);
  fputs("    note: ", stdout);
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
  pthread_mutex_unlock(&h_lock);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int selected(const char *name, int argc, char **argv) {
  int i;
  if (argc <= 1) return 1;
  for (i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

int h_run(const struct h_test *tests, size_t count, int argc, char **argv,
          const char *server_reason, int server_required) {
  size_t i;
  int passed = 0, failed = 0, skipped = 0, i_arg;
  /* Unknown names on the command line are an error, not a silent "0 tests". */
  for (i_arg = 1; i_arg < argc; i_arg++) {
    int known = 0;
    for (i = 0; i < count; i++)
      if (strcmp(tests[i].name, argv[i_arg]) == 0) known = 1;
    if (!known) {
      fprintf(stdout, "FAIL %s: no such test\n", argv[i_arg]);
      failed++;
    }
  }
  for (i = 0; i < count; i++) {
    double t0;
    long checks, failures;
    if (!selected(tests[i].name, argc, argv)) continue;
    if (tests[i].needs_server && server_reason) {
      if (server_required) {
        fprintf(stdout, "FAIL %s: %s\n", tests[i].name, server_reason);
        failed++;
      } else {
        fprintf(stdout, "skip %s: %s\n", tests[i].name, server_reason);
        skipped++;
      }
      fflush(stdout);
      continue;
    }
    fprintf(stdout, "run  %s\n", tests[i].name);
    fflush(stdout);
    pthread_mutex_lock(&h_lock);
    h_checks = 0;
    h_failures = 0;
    pthread_mutex_unlock(&h_lock);
    t0 = now_s();
    tests[i].fn();
    pthread_mutex_lock(&h_lock);
    checks = h_checks;
    failures = h_failures;
    pthread_mutex_unlock(&h_lock);
    if (failures == 0 && checks == 0) {
      fprintf(stdout, "FAIL %s: the test made no check\n", tests[i].name);
      failed++;
    } else if (failures == 0) {
      fprintf(stdout, "ok   %s (%ld checks, %.1fs)\n", tests[i].name, checks, now_s() - t0);
      passed++;
    } else {
      fprintf(stdout, "FAIL %s (%ld of %ld checks failed, %.1fs)\n", tests[i].name, failures,
              checks, now_s() - t0);
      failed++;
    }
    fflush(stdout);
  }
  fprintf(stdout, "osd-c-tests: passed=%d failed=%d skipped=%d\n", passed, failed, skipped);
  fflush(stdout);
  return failed ? 1 : 0;
}
