/* Helpers shared by the C tests: environment of the test bed, URLs, fixtures, deterministic data. */
#ifndef OSD_C_UTIL_H
#define OSD_C_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "openstack_dest.h"

/* The test bed's environment (see tests/openstack/testbed.sh and its env.sh). */
struct osd_env {
  const char *v3, *v2, *user, *pass, *apikey, *project, *r1, *r2;
  const char *domain2, *user2, *pass2, *project2, *ruser, *rpass;
};
extern struct osd_env E;
extern char RUN_ID[48];

/* Credentials that make up a destination URL; NULL fields are left out of the URL. */
struct creds {
  const char *user, *pass, *apikey, *project, *domain, *authuri, *version, *region;
};
struct creds creds_member_v3(void); /* OSD_USER in the Default domain, v3, region 1 */

void *xmalloc(size_t n);
char *xfmt(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
char *pct_path(const char *s); /* percent-encodes all but unreserved characters and '/' */
char *url_for(const char *container, const char *prefix, const struct creds *c);
char *container_name(const char *tag); /* unique per run: osdc-<run>-<tag>; remembered */
/* Deletes (os_delete_container with empty_first) every container container_name() named, with the
 * member's v3 credentials; one that does not exist (or is another project's) is skipped. Returns
 * how many were removed, *failed how many could not be. */
size_t remove_test_containers(size_t *failed);

/* Opens url with os_open_with and checks OS_OK; NULL on failure (already reported). */
os_dest *open_ok(const char *url);

/* A fixture: a fresh container (created), a destination on it with the given prefix. */
struct fx {
  char *container;
  char *url;
  os_dest *d;
};
int fx_open(struct fx *f, const char *tag, const char *prefix); /* 1 on success */
void fx_close(struct fx *f); /* deletes the container and its objects (os_delete_container), frees */

/* os_list_each collector: names joined with ',' (folders with a trailing '/'); stops after
 * stop_after entries when > 0; bad_args counts entries that break the header's promises. */
struct lst {
  char *names;
  long calls, stop_after;
  int bad_args;
};
int lst_cb(void *ctx, const os_entry *e);
const char *lst_names(const struct lst *l);
void lst_reset(struct lst *l); /* frees the names, zeroes everything (stop_after too) */

/* Deterministic pseudo-random bytes: byte i of stream `seed` depends on (seed, i) only. */
uint8_t *rand_buf(size_t n, uint64_t seed); /* malloc'd (n may be 0) */

/* Read callback over stream `seed`: total bytes; abort_after >= 0 makes it return -1 once that many
 * bytes were handed out; the rewind callback starts it again. */
struct rd_gen {
  uint64_t seed, total, left;
  int64_t abort_after;
  long calls, rewinds;
  int bad_args;
};
void rd_gen_init(struct rd_gen *r, uint64_t seed, uint64_t total);
intptr_t rd_gen_cb(void *ctx, uint8_t *buf, size_t cap);
int rd_gen_rewind(void *ctx);

/* Write callback that checks what arrives against stream `seed` (mismatch_at: the first wrong byte). */
struct wr_gen {
  uint64_t seed, got;
  int64_t mismatch_at; /* -1 while everything matched */
  int64_t abort_after; /* >= 0: return non-zero once that many bytes arrived */
  long calls;
};
void wr_gen_init(struct wr_gen *w, uint64_t seed);
int wr_gen_cb(void *ctx, const uint8_t *buf, size_t len);

/* Read callback over a memory buffer (rewindable), write callback into a growing buffer. */
struct rd_mem {
  const uint8_t *p;
  size_t len, pos;
};
intptr_t rd_mem_cb(void *ctx, uint8_t *buf, size_t cap);
int rd_mem_rewind(void *ctx);
struct wr_mem {
  uint8_t *p;
  size_t len, cap;
};
int wr_mem_cb(void *ctx, const uint8_t *buf, size_t len);

/* Progress callback: records calls; cancels (returns 1) once done >= cancel_at when cancel. */
struct pg {
  uint64_t last_done, cancel_at;
  int64_t last_total;
  long calls;
  int cancel, cancelled, over_total;
};
int pg_cb(void *ctx, uint64_t done, int64_t total);

const os_entry *find_entry(const os_entry *e, size_t n, const char *name);
int is_hex32(const char *s);
int contains_ci(const char *hay, const char *needle);
int file_exists(const char *path);
int write_file(const char *path, const uint8_t *p, size_t n);
uint8_t *read_file(const char *path, size_t *n); /* NULL on failure */
char *make_tmpdir(void);
void rm_tree(const char *path);

#endif
