#define _XOPEN_SOURCE 700
#include "harness.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- the harness ---- */
static pthread_mutex_t h_lock = PTHREAD_MUTEX_INITIALIZER;
static long h_checks, h_failures; /* of the running test */

int h_check(int ok, const char *expr, const char *file, int line) {
  pthread_mutex_lock(&h_lock);
  h_checks++;
  if (!ok) h_failures++, printf("    FAILED %s:%d: %s\n", file, line, expr);
  pthread_mutex_unlock(&h_lock);
  return ok;
}

int h_check_status(os_status got, os_status want, const char *expr, const char *file, int line) {
  char msg[1024], what[2048];
  if (got == want) return h_check(1, expr, file, line);
  /* Copied first: the message is valid only until the next os_ call on this thread. */
  snprintf(msg, sizeof msg, "%s", os_last_error_message() ? os_last_error_message() : "(NULL)");
  snprintf(what, sizeof what, "%s -> %s (%d), expected %s (%d); http %d; message: %s", expr, os_status_name(got),
           (int)got, os_status_name(want), (int)want, os_last_http_status(), msg);
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
  vprintf(fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  pthread_mutex_unlock(&h_lock);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int h_run(const struct h_test *tests, size_t count, int argc, char **argv, const char *server_reason,
          int server_required) {
  size_t i;
  int passed = 0, failed = 0, skipped = 0, a, known;
  for (a = 1; a < argc; a++) { /* an unknown name is an error, not a silent "0 tests" */
    for (i = 0, known = 0; i < count; i++) known |= strcmp(tests[i].name, argv[a]) == 0;
    if (!known) printf("FAIL %s: no such test\n", argv[a]), failed++;
  }
  for (i = 0; i < count; i++) {
    double t0 = now_s();
    for (a = 1; a < argc && strcmp(argv[a], tests[i].name) != 0; a++) {}
    if (argc > 1 && a == argc) continue;
    if (tests[i].needs_server && server_reason) {
      printf("%s %s: %s\n", server_required ? "FAIL" : "skip", tests[i].name, server_reason);
      *(server_required ? &failed : &skipped) += 1;
      continue;
    }
    printf("run  %s\n", tests[i].name);
    h_checks = h_failures = 0;
    tests[i].fn();
    if (h_checks == 0) printf("FAIL %s: the test made no check\n", tests[i].name), failed++;
    else if (h_failures == 0) printf("ok   %s (%ld checks, %.1fs)\n", tests[i].name, h_checks, now_s() - t0), passed++;
    else printf("FAIL %s (%ld of %ld checks failed, %.1fs)\n", tests[i].name, h_failures, h_checks, now_s() - t0), failed++;
  }
  printf("osd-c-tests: passed=%d failed=%d skipped=%d\n", passed, failed, skipped);
  return failed ? 1 : 0;
}

/* ---- URLs, containers, fixtures ---- */
struct osd_env E;
char RUN_ID[48];

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}

char *xfmt(const char *fmt, ...) {
  va_list ap;
  int n;
  char *s;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  s = xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

char *pct_path(const char *s) {
  size_t o = 0;
  char *out = xmalloc(3 * strlen(s) + 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~/", c))
      out[o++] = (char)c;
    else
      o += (size_t)sprintf(out + o, "%%%02X", c);
  }
  out[o] = 0;
  return out;
}

char *url_as(const char *container, const char *prefix, const char *user, const char *pass) {
  char *p = pct_path(prefix ? prefix : ""), *s;
  s = xfmt("openstack://%s/%s?auth-username=%s&auth-password=%s&openstack-tenant-name=%s&openstack-domain-name="
           "Default&openstack-authuri=%s&openstack-version=v3&openstack-region=%s",
           container, p, user ? user : E.user, pass ? pass : E.pass, E.project, E.v3, E.r1);
  free(p);
  return s;
}

#define MAX_NAMED 64
static char *named[MAX_NAMED];
static size_t n_named;
static pthread_mutex_t named_mu = PTHREAD_MUTEX_INITIALIZER;

char *container_name(const char *tag) {
  char *name = xfmt("osdc-%s-%s", RUN_ID, tag);
  size_t i;
  pthread_mutex_lock(&named_mu);
  for (i = 0; i < n_named && strcmp(named[i], name) != 0; i++) {}
  if (i == n_named && n_named < MAX_NAMED) named[n_named++] = xfmt("%s", name);
  pthread_mutex_unlock(&named_mu);
  return name;
}

size_t remove_test_containers(size_t *failed) { /* each with os_delete_container(empty_first) */
  size_t i, removed = 0;
  *failed = 0;
  for (i = 0; i < n_named; i++) {
    char *url = url_as(named[i], "", NULL, NULL);
    os_dest *d = NULL;
    os_status st = os_open_with(url, NULL, NULL, 0, &d);
    if (st == OS_OK) st = os_delete_container(d, true);
    if (st == OS_OK) removed++;
    else if (st != OS_ERR_CONTAINER_NOT_FOUND) /* gone already is fine */
      (*failed)++, printf("cleanup: %s: %s %s\n", named[i], os_status_name(st), os_last_error_message());
    os_free(d);
    free(url);
    free(named[i]);
  }
  n_named = 0;
  return removed;
}

os_dest *open_ok(const char *url, const char *const *keys, const char *const *values, size_t n) {
  os_dest *d = NULL;
  if (!CHECK_ST(os_open_with(url, keys, values, n, &d), OS_OK) || !CHECK(d != NULL)) return NULL;
  return d;
}

int fx_open(struct fx *f, const char *tag, const char *prefix, const char *const *keys,
            const char *const *values, size_t n) {
  f->container = container_name(tag);
  f->url = url_as(f->container, prefix, NULL, NULL);
  f->d = open_ok(f->url, keys, values, n);
  return f->d && CHECK_ST(os_create_container(f->d), OS_OK);
}

void fx_close(struct fx *f) {
  if (f->d) { /* a test may have deleted the container already */
    os_status st = os_delete_container(f->d, true);
    if (st != OS_ERR_CONTAINER_NOT_FOUND) CHECK_ST(st, OS_OK);
  }
  os_free(f->d);
  free(f->container);
  free(f->url);
  memset(f, 0, sizeof *f);
}

/* ---- data and callbacks ---- */
uint8_t pat(uint64_t seed, uint64_t off) {
  uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ULL ^ seed * 0xD1B54A32D192ED03ULL;
  return (uint8_t)((x ^ x >> 29) * 0xBF58476D1CE4E5B9ULL >> 56);
}

uint8_t *rand_buf(size_t n, uint64_t seed) {
  uint8_t *p = xmalloc(n);
  size_t i;
  for (i = 0; i < n; i++) p[i] = pat(seed, i);
  return p;
}

int same_bytes(const uint8_t *p, size_t n, uint64_t seed, uint64_t from) {
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i] != pat(seed, from + i)) return 0;
  return 1;
}

void rd_gen_init(struct rd_gen *r, uint64_t seed, uint64_t total) {
  memset(r, 0, sizeof *r);
  r->seed = seed, r->total = r->left = total, r->abort_after = -1;
}

intptr_t rd_gen_cb(void *ctx, uint8_t *buf, size_t cap) {
  struct rd_gen *r = ctx;
  size_t n, i;
  r->calls++;
  if (!buf || cap == 0) return r->bad_args = 1, -1;
  if (r->abort_after >= 0 && r->total - r->left >= (uint64_t)r->abort_after) return -1;
  n = cap < r->left ? cap : (size_t)r->left;
  for (i = 0; i < n; i++) buf[i] = pat(r->seed, r->total - r->left + i);
  r->left -= n;
  return (intptr_t)n;
}

int rd_gen_rewind(void *ctx) {
  struct rd_gen *r = ctx;
  r->left = r->total, r->rewinds++;
  return 0;
}

void wr_gen_init(struct wr_gen *w, uint64_t seed, uint64_t from) {
  memset(w, 0, sizeof *w);
  w->seed = seed, w->got = from, w->mismatch_at = w->abort_after = -1;
}

int wr_gen_cb(void *ctx, const uint8_t *buf, size_t len) {
  struct wr_gen *w = ctx;
  size_t i;
  w->calls++;
  if (w->abort_after >= 0 && w->got >= (uint64_t)w->abort_after) return 1;
  if (len && !buf) return w->mismatch_at = (int64_t)w->got, 1;
  for (i = 0; i < len && w->mismatch_at < 0; i++)
    if (buf[i] != pat(w->seed, w->got + i)) w->mismatch_at = (int64_t)(w->got + i);
  w->got += len;
  return 0;
}

int pg_cb(void *ctx, uint64_t done, int64_t total) {
  struct pg *p = ctx;
  p->calls++, p->last_done = done, p->last_total = total;
  if (total >= 0 && done > (uint64_t)total) p->over_total = 1;
  return p->cancel && done >= p->cancel_at ? (p->cancelled++, 1) : 0;
}

int lst_cb(void *ctx, const os_entry *e) {
  struct lst *l = ctx;
  char *n;
  l->calls++;
  if (!e || !e->name) return l->bad++, 1;
  n = xfmt("%s%s%s%s", l->names ? l->names : "", l->names ? "," : "", e->name, e->is_folder ? "/" : "");
  free(l->names);
  l->names = n;
  /* kind agrees with is_folder and is one the header names; a folder has no size, an object has
   * a size, an MD5-like etag and a time. */
  l->bad += e->is_folder != (e->kind == OS_KIND_FOLDER) || (int)e->kind < OS_KIND_OBJECT || (int)e->kind > OS_KIND_FOLDER;
  l->bad += e->is_folder ? e->size != -1 : (e->size < 0 || !is_hex32(e->etag) || e->last_modified_ms <= 0);
  return l->stop_after > 0 && l->calls >= l->stop_after;
}

void lst_reset(struct lst *l) {
  free(l->names);
  memset(l, 0, sizeof *l);
}

/* ---- small things ---- */
const os_entry *find_entry(const os_entry *e, size_t n, const char *name) {
  size_t i;
  for (i = 0; i < n; i++)
    if (e[i].name && strcmp(e[i].name, name) == 0) return &e[i];
  return NULL;
}

int is_hex32(const char *s) {
  return s && strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle), i, j;
  for (i = 0; hay && hay[i]; i++) {
    for (j = 0; j < n && hay[i + j] && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]); j++) {}
    if (j == n) return 1;
  }
  return n == 0;
}

int file_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

int write_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(p, 1, n, f) == n;
  return f && fclose(f) == 0 && ok;
}

char *make_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  char *t = xfmt("%s/osd-c-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(t)) FAIL("mkdtemp(%s): %s", t, strerror(errno)), free(t), t = NULL;
  return t;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path), 0;
}

void rm_tree(const char *path) {
  if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int64_t now_ms(void) { return (int64_t)time(NULL) * 1000; }
