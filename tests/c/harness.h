/* The C tests' harness and helpers. A test is `void t_xxx(void)` in the table of test_main.c; checks
 * are thread-safe; a test passes when it made at least one check and none failed. */
#ifndef OSD_C_HARNESS_H
#define OSD_C_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include "openstack_dest.h"

#if defined(__GNUC__)
#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF(a, b)
#endif

struct h_test {
  const char *name;
  void (*fn)(void);
  int needs_server; /* 1: talks to the real Swift + Keystone of the test bed */
};
int h_check(int ok, const char *expr, const char *file, int line); /* returns ok */
/* On a mismatch prints both status names, the HTTP status and the library's message. */
int h_check_status(os_status got, os_status want, const char *expr, const char *file, int line);
void h_fail(const char *file, int line, const char *fmt, ...) PRINTF(3, 4);
void h_note(const char *fmt, ...) PRINTF(1, 2);
/* Runs the tests (all, or those named in argv); a server test skips with server_reason, or fails
 * when server_required. Prints a line per test and `osd-c-tests: passed=N failed=N skipped=N`. */
int h_run(const struct h_test *tests, size_t count, int argc, char **argv, const char *server_reason,
          int server_required);
#define CHECK(cond) h_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_ST(expr, want) h_check_status((expr), (want), #expr, __FILE__, __LINE__)
#define INVALID(expr) CHECK_ST(expr, OS_ERR_INVALID_ARGUMENT)
#define FAIL(...) h_fail(__FILE__, __LINE__, __VA_ARGS__)
#define MSG_SET() (os_last_error_message()[0] != 0)

/* The test bed's environment (tests/openstack/server-env.sh) and this run's id. */
extern struct osd_env { const char *v3, *v2, *user, *pass, *apikey, *project, *r1, *ruser, *rpass; } E;
extern char RUN_ID[48];

void *xmalloc(size_t n);
char *xfmt(const char *fmt, ...) PRINTF(1, 2);
char *pct_path(const char *s); /* percent-encodes all but unreserved characters and '/' */
/* openstack://container/prefix with the member's v3 credentials (user/pass NULL: the member's). */
char *url_as(const char *container, const char *prefix, const char *user, const char *pass);
char *container_name(const char *tag); /* osdc-<run>-<tag>, deleted at the end (remembered) */
size_t remove_test_containers(size_t *failed);
os_dest *open_ok(const char *url, const char *const *keys, const char *const *values, size_t n);

/* A fixture: a fresh container (created) and a destination on it with a prefix. */
struct fx { char *container, *url; os_dest *d; };
int fx_open(struct fx *f, const char *tag, const char *prefix, const char *const *keys,
            const char *const *values, size_t n); /* 1 on success */
void fx_close(struct fx *f);                      /* deletes the container with everything in it */

/* Deterministic data: byte i of stream `seed` depends on (seed, i) only. */
uint8_t pat(uint64_t seed, uint64_t off);
uint8_t *rand_buf(size_t n, uint64_t seed);
/* Read callback over stream seed (total bytes); abort_after >= 0: returns -1 once that many went. */
struct rd_gen { uint64_t seed, total, left; int64_t abort_after; long calls, rewinds; int bad_args; };
void rd_gen_init(struct rd_gen *r, uint64_t seed, uint64_t total);
intptr_t rd_gen_cb(void *ctx, uint8_t *buf, size_t cap);
int rd_gen_rewind(void *ctx);
/* Write callback checking what arrives against stream seed from byte `got` on. */
struct wr_gen { uint64_t seed, got; int64_t mismatch_at, abort_after; long calls; };
void wr_gen_init(struct wr_gen *w, uint64_t seed, uint64_t from);
int wr_gen_cb(void *ctx, const uint8_t *buf, size_t len);
int same_bytes(const uint8_t *p, size_t n, uint64_t seed, uint64_t from); /* p is stream seed at from */
/* Progress callback: records; cancels (returns 1) once done >= cancel_at when cancel. */
struct pg { uint64_t last_done, cancel_at; int64_t last_total; long calls; int cancel, cancelled, over_total; };
int pg_cb(void *ctx, uint64_t done, int64_t total);
/* os_list_each collector: names joined by ',' (folders with '/'); stops after stop_after entries
 * when > 0; bad counts entries that break the header's promises. */
struct lst { char *names; long calls, stop_after; int bad; };
int lst_cb(void *ctx, const os_entry *e);
void lst_reset(struct lst *l);

const os_entry *find_entry(const os_entry *e, size_t n, const char *name);
int is_hex32(const char *s);
int contains_ci(const char *hay, const char *needle);
int file_exists(const char *path);
int write_file(const char *path, const uint8_t *p, size_t n);
char *make_tmpdir(void);
void rm_tree(const char *path);
int64_t now_ms(void);

#endif
