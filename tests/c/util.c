#define _XOPEN_SOURCE 700
#include "util.h"
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct osd_env E;
char RUN_ID[48];

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory (%zu bytes)\n", n);
    abort();
  }
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
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s), i, o = 0;
  char *out = xmalloc(3 * n + 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out[o++] = (char)c;
    } else {
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  out[o] = 0;
  return out;
}

struct creds creds_member_v3(void) {
  struct creds c;
  memset(&c, 0, sizeof c);
  c.user = E.user;
  c.pass = E.pass;
  c.project = E.project;
  c.domain = "Default";
  c.authuri = E.v3;
  c.version = "v3";
  c.region = E.r1;
  return c;
}

static void append(char **s, const char *key, const char *value) {
  char *n;
  if (!value) return;
  n = xfmt("%s%s%s=%s", *s, strchr(*s, '?') ? "&" : "?", key, value);
  free(*s);
  *s = n;
}

char *url_for(const char *container, const char *prefix, const struct creds *c) {
  char *p = pct_path(prefix ? prefix : "");
  char *s = xfmt("openstack://%s/%s", container, p);
  free(p);
  append(&s, "auth-username", c->user);
  append(&s, "auth-password", c->pass);
  append(&s, "openstack-apikey", c->apikey);
  append(&s, "openstack-tenant-name", c->project);
  append(&s, "openstack-domain-name", c->domain);
  append(&s, "openstack-authuri", c->authuri);
  append(&s, "openstack-version", c->version);
  append(&s, "openstack-region", c->region);
  return s;
}

/* Every container name handed out, so that remove_test_containers() can delete them at the end. */
#define MAX_NAMED 256
static char *named[MAX_NAMED];
static size_t n_named;
static pthread_mutex_t named_mu = PTHREAD_MUTEX_INITIALIZER;

char *container_name(const char *tag) {
  char *name = xfmt("osdc-%s-%s", RUN_ID, tag);
  size_t i;
  pthread_mutex_lock(&named_mu);
  for (i = 0; i < n_named && strcmp(named[i], name) != 0; i++) {
  }
  if (i == n_named && n_named < MAX_NAMED) named[n_named++] = xfmt("%s", name);
  pthread_mutex_unlock(&named_mu);
  return name;
}

size_t remove_test_containers(size_t *failed) {
  struct creds c = creds_member_v3();
  size_t i, removed = 0;
  *failed = 0;
  pthread_mutex_lock(&named_mu);
  for (i = 0; i < n_named; i++) {
    char *url = url_for(named[i], "", &c);
    os_dest *d = NULL;
    os_status st = os_open_with(url, NULL, NULL, 0, &d);
    if (st == OS_OK) st = os_delete_container(d, true);
    if (st == OS_OK) {
      removed++;
    } else if (st != OS_ERR_CONTAINER_NOT_FOUND) { /* gone already, or another project's */
      (*failed)++;
      printf("cleanup: could not remove container %s: %s %s\n", named[i], os_status_name(st),
             os_last_error_message());
    }
    os_free(d);
    free(url);
    free(named[i]);
    named[i] = NULL;
  }
  n_named = 0;
  pthread_mutex_unlock(&named_mu);
  return removed;
}

os_dest *open_ok(const char *url) {
  os_dest *d = NULL;
  if (!CHECK_ST(os_open_with(url, NULL, NULL, 0, &d), OS_OK)) return NULL;
  if (!CHECK(d != NULL)) return NULL;
  return d;
}

int fx_open(struct fx *f, const char *tag, const char *prefix) {
  struct creds c = creds_member_v3();
  f->container = container_name(tag);
  f->url = url_for(f->container, prefix, &c);
  f->d = open_ok(f->url);
  if (!f->d) return 0;
  return CHECK_ST(os_create_container(f->d), OS_OK);
}

void fx_close(struct fx *f) {
  if (f->d) { /* the container and everything in it (a test may have deleted it already) */
    os_status st = os_delete_container(f->d, true);
    if (st != OS_ERR_CONTAINER_NOT_FOUND) CHECK_ST(st, OS_OK);
  }
  os_free(f->d);
  free(f->container);
  free(f->url);
  memset(f, 0, sizeof *f);
}

/* Byte `off` of stream `seed`: computed from its position, so any piece can be made or checked alone. */
static uint8_t pat(uint64_t seed, uint64_t off) {
  uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ULL ^ seed * 0xD1B54A32D192ED03ULL;
  return (uint8_t)((x ^ x >> 29) * 0xBF58476D1CE4E5B9ULL >> 56);
}

uint8_t *rand_buf(size_t n, uint64_t seed) {
  uint8_t *p = xmalloc(n);
  size_t i;
  for (i = 0; i < n; i++) p[i] = pat(seed, i);
  return p;
}

void rd_gen_init(struct rd_gen *r, uint64_t seed, uint64_t total) {
  memset(r, 0, sizeof *r);
  r->seed = seed;
  r->total = r->left = total;
  r->abort_after = -1;
}

intptr_t rd_gen_cb(void *ctx, uint8_t *buf, size_t cap) {
  struct rd_gen *r = ctx;
  size_t n, i;
  r->calls++;
  if (!buf || cap == 0) {
    r->bad_args = 1;
    return -1;
  }
  if (r->abort_after >= 0 && r->total - r->left >= (uint64_t)r->abort_after) return -1;
  n = cap < r->left ? cap : (size_t)r->left;
  for (i = 0; i < n; i++) buf[i] = pat(r->seed, r->total - r->left + i);
  r->left -= n;
  return (intptr_t)n;
}

int rd_gen_rewind(void *ctx) {
  struct rd_gen *r = ctx;
  r->left = r->total;
  r->rewinds++;
  return 0;
}

void wr_gen_init(struct wr_gen *w, uint64_t seed) {
  memset(w, 0, sizeof *w);
  w->seed = seed;
  w->mismatch_at = -1;
  w->abort_after = -1;
}

int wr_gen_cb(void *ctx, const uint8_t *buf, size_t len) {
  struct wr_gen *w = ctx;
  size_t i;
  w->calls++;
  if (w->abort_after >= 0 && w->got >= (uint64_t)w->abort_after) return 1;
  if (len && !buf) {
    if (w->mismatch_at < 0) w->mismatch_at = (int64_t)w->got;
    return 1;
  }
  for (i = 0; i < len && w->mismatch_at < 0; i++)
    if (buf[i] != pat(w->seed, w->got + i)) w->mismatch_at = (int64_t)(w->got + i);
  w->got += len;
  return 0;
}

intptr_t rd_mem_cb(void *ctx, uint8_t *buf, size_t cap) {
  struct rd_mem *r = ctx;
  size_t n = r->len - r->pos;
  if (n > cap) n = cap;
  if (n) memcpy(buf, r->p + r->pos, n);
  r->pos += n;
  return (intptr_t)n;
}

int rd_mem_rewind(void *ctx) {
  ((struct rd_mem *)ctx)->pos = 0;
  return 0;
}

int wr_mem_cb(void *ctx, const uint8_t *buf, size_t len) {
  struct wr_mem *w = ctx;
  if (w->len + len > w->cap) {
    size_t cap = w->cap ? w->cap : 4096;
    uint8_t *p;
    while (cap < w->len + len) cap *= 2;
    p = realloc(w->p, cap);
    if (!p) return 1;
    w->p = p;
    w->cap = cap;
  }
  if (len) memcpy(w->p + w->len, buf, len);
  w->len += len;
  return 0;
}

int pg_cb(void *ctx, uint64_t done, int64_t total) {
  struct pg *p = ctx;
  p->calls++;
  p->last_done = done;
  p->last_total = total;
  if (total >= 0 && done > (uint64_t)total) p->over_total = 1;
  if (p->cancel && done >= p->cancel_at) {
    p->cancelled++;
    return 1;
  }
  return 0;
}

const os_entry *find_entry(const os_entry *e, size_t n, const char *name) {
  size_t i;
  for (i = 0; i < n; i++)
    if (e[i].name && strcmp(e[i].name, name) == 0) return &e[i];
  return NULL;
}

int is_hex32(const char *s) {
  int i;
  if (!s || strlen(s) != 32) return 0;
  for (i = 0; i < 32; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle), i, j;
  if (!hay) return 0;
  for (i = 0; hay[i]; i++) {
    for (j = 0; j < n; j++) {
      char a = hay[i + j], b = needle[j];
      if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
      if (a != b) break;
    }
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
  int ok;
  if (!f) return 0;
  ok = fwrite(p, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  uint8_t *p = NULL;
  long len;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    p = xmalloc((size_t)len);
    if (fread(p, 1, (size_t)len, f) == (size_t)len) {
      *n = (size_t)len;
    } else {
      free(p);
      p = NULL;
    }
  }
  fclose(f);
  return p;
}

char *make_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  char *t = xfmt("%s/osd-c-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(t)) {
    FAIL("mkdtemp(%s): %s", t, strerror(errno));
    free(t);
    return NULL;
  }
  return t;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

void rm_tree(const char *path) {
  if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int lst_cb(void *ctx, const os_entry *e) {
  struct lst *l = ctx;
  char *n;
  l->calls++;
  if (!e || !e->name) {
    l->bad_args++;
    return 1;
  }
  n = xfmt("%s%s%s%s", l->names ? l->names : "", l->names ? "," : "", e->name, e->is_folder ? "/" : "");
  free(l->names);
  l->names = n;
  if (e->is_folder && e->size != -1) l->bad_args++;
  /* kind agrees with is_folder and is one of the four the header names. */
  if (e->is_folder != (e->kind == OS_KIND_FOLDER)) l->bad_args++;
  if ((int)e->kind < OS_KIND_OBJECT || (int)e->kind > OS_KIND_FOLDER) l->bad_args++;
  if (!e->is_folder && (e->size < 0 || !e->etag || !is_hex32(e->etag) || e->last_modified_ms <= 0)) l->bad_args++;
  return l->stop_after > 0 && l->calls >= l->stop_after;
}

const char *lst_names(const struct lst *l) { return l->names ? l->names : ""; }

void lst_reset(struct lst *l) {
  free(l->names);
  memset(l, 0, sizeof *l);
}
