/* backup_dir — back up a directory to an OpenStack Swift destination, restore it elsewhere, and
 * compare every byte.
 *
 *   backup_dir [URL] SOURCE_DIR RESTORE_DIR     (URL may come from OPENSTACK_DEST_URL)
 *
 * Every regular file under SOURCE_DIR (recursively; symbolic links are not followed) is uploaded
 * under its path relative to SOURCE_DIR, then downloaded into RESTORE_DIR (created as needed) and
 * compared with the original. Exit status: 0 when everything matched, 1 otherwise, 2 bad usage.
 *
 * Build: cc -std=c99 -Wall -Wextra -Werror -I include examples/c/backup_dir.c \
 *           -L target/debug -lopenstack_dest -o backup_dir */
#define _XOPEN_SOURCE 700 /* nftw */

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "openstack_dest.h"

static char **names;          /* relative names of the files backed up */
static size_t count, capacity;
static size_t root_len;       /* length of SOURCE_DIR plus its '/' */

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)ftw;
  if (type == FTW_F && S_ISREG(st->st_mode)) {
    if (count == capacity) {
      char **more = realloc(names, (capacity = capacity ? capacity * 2 : 64) * sizeof *names);
      if (!more) return -1;
      names = more;
    }
    if (!(names[count] = strdup(path + root_len))) return -1;
    count++;
  } else if (type == FTW_DNR || type == FTW_NS) {
    fprintf(stderr, "backup_dir: cannot read %s\n", path);
    return -1;
  }
  return 0;
}

static char *join(const char *dir, const char *name) {
  char *p = malloc(strlen(dir) + strlen(name) + 2);
  if (p) sprintf(p, "%s/%s", dir, name);
  return p;
}

/* mkdir -p for the directories above path. */
static int make_parents(char *path) {
  char *s;
  for (s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = 0;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "backup_dir: mkdir %s: %s\n", path, strerror(errno));
      *s = '/';
      return -1;
    }
    *s = '/';
  }
  return 0;
}

/* 1 when both files have the same bytes. */
static int same_bytes(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  static unsigned char ba[65536], bb[65536];
  int same = fa && fb;
  while (same) {
    size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
    if (na != nb || memcmp(ba, bb, na) != 0) same = 0;
    if (na == 0) break;
  }
  if (same && (ferror(fa) || ferror(fb))) same = 0;
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

static int report(const char *what, const char *name, os_status st) {
  char msg[1024]; /* copy first: the message is valid only until the next os_ call */
  snprintf(msg, sizeof msg, "%s", os_last_error_message());
  fprintf(stderr, "backup_dir: %s %s: %s: %s\n", what, name, os_status_name(st), msg);
  return 1;
}

int main(int argc, char **argv) {
  const char *url = getenv("OPENSTACK_DEST_URL"), *dst;
  char *src;
  os_dest *d = NULL;
  os_status st;
  size_t i, ok = 0;
  long long bytes = 0;
  int failed = 0;

  if (argc == 4) {
    url = argv[1];
  } else if (argc != 3 || !url || !*url) {
    fprintf(stderr, "usage: backup_dir [URL] SOURCE_DIR RESTORE_DIR  (URL may come from OPENSTACK_DEST_URL)\n");
    return 2;
  }
  src = strdup(argv[argc - 2]);
  dst = argv[argc - 1];
  if (!src) return 1;
  root_len = strlen(src);
  while (root_len > 1 && src[root_len - 1] == '/') src[--root_len] = 0; /* "dir/" -> "dir" */
  root_len++;

  st = os_open_with(url, NULL, NULL, 0, &d);
  if (st == OS_OK) st = os_create_container(d);
  if (st != OS_OK) {
    report("open", "destination", st);
    os_free(d);
    free(src);
    return 1;
  }

  /* Back up. */
  if (nftw(src, collect, 32, FTW_PHYS) != 0) {
    fprintf(stderr, "backup_dir: cannot walk %s: %s\n", src, strerror(errno));
    failed = 1;
  }
  for (i = 0; i < count && !failed; i++) {
    char *path = join(src, names[i]);
    struct stat sb;
    st = path ? os_put_file(d, names[i], path) : OS_ERR_LOCAL_IO;
    if (st != OS_OK) failed = report("backup", names[i], st);
    else if (stat(path, &sb) == 0) bytes += (long long)sb.st_size;
    free(path);
  }
  if (!failed) printf("backed up %zu files, %lld bytes\n", count, bytes);

  /* Restore into dst and compare. */
  if (!failed && mkdir(dst, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "backup_dir: mkdir %s: %s\n", dst, strerror(errno));
    failed = 1;
  }
  for (i = 0; i < count && !failed; i++) {
    char *from = join(src, names[i]), *to = join(dst, names[i]);
    if (!from || !to || make_parents(to) != 0) {
      failed = 1;
    } else if ((st = os_get_file(d, names[i], to)) != OS_OK) {
      failed = report("restore", names[i], st);
    } else if (!same_bytes(from, to)) {
      fprintf(stderr, "backup_dir: %s differs after the restore\n", names[i]);
      failed = 1;
    } else {
      ok++;
    }
    free(from);
    free(to);
  }
  if (!failed) printf("restored %zu files into %s, every byte matches\n", ok, dst);

  for (i = 0; i < count; i++) free(names[i]);
  free(names);
  free(src);
  os_free(d);
  return failed ? 1 : 0;
}
