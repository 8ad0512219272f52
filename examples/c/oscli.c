/* oscli — a command-line client for an OpenStack Swift destination, over libopenstack_dest.
 *
 *   oscli [OPTIONS] [URL] COMMAND [ARGS]
 *
 * The destination is, in this order: the openstack:// URL argument; with --container, the
 * OpenStack environment (OS_AUTH_URL, OS_USERNAME, ... as for the `swift` CLI, or --os-cloud);
 * the environment variable OPENSTACK_DEST_URL. Run `oscli --help` for the commands and exit
 * codes, `oscli COMMAND --help` for one command.
 *
 * Build: cc -std=c99 -Wall -Wextra -Werror -I include examples/c/oscli.c \
 *           -L target/debug -Wl,-rpath,target/debug -lopenstack_dest -lpthread -o oscli
 * (`make install` installs it as $(PREFIX)/bin/oscli.) */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "openstack_dest.h"

#define EXIT_USAGE 2
#define EXIT_LOCAL 3 /* a local problem outside the library (a directory, stdout, a refused name) */

static const char *prog = "oscli";
static int quiet; /* -q: no progress bar */
static int jobs = 1; /* put -r / get -r -j N: objects transferred at once */
static const char *version_id; /* get --version ID: that version of the object */
#define MAX_JOBS 64

/* ---- help ---- */
struct command {
  const char *name;
  const char *synopsis;
  const char *help;
  const char *flags; /* the single-letter options it takes */
  int min, max;      /* operands; max -1: any number */
};

static const struct command commands[] = {
    {"ls", "ls [-r] [PREFIX]",
     "List size, last modified (UTC) and name of the objects whose names start with PREFIX\n"
     "(a plain name prefix: 'ls photos/' lists the folder photos, 'ls vol' every name starting\n"
     "with 'vol'). Without -r, the objects directly under it and its sub-folders (ending in '/');\n"
     "with -r, every object at any depth and no folder entries. Streamed: any size of listing.\n",
     "r", 0, 1},
    {"put", "put [-r [-j N]] NAME [FILE|DIR|-]",
     "Upload FILE as the object NAME, or standard input when '-' or left out.\n"
     "  -r   upload every regular file under the directory DIR as NAME/relative/path\n"
     "       (symbolic links and other special files are skipped; NAME may be '' for the top).\n"
     "  -j N with -r: N files at once (1 to 64, default 1: one after the other, in name order),\n"
     "       N threads sharing one destination; no progress bar when N > 1. After a failure no\n"
     "       new file is started; the exit code is that of the first failure.\n",
     "rj", 1, 2},
    {"get", "get [-r [-j N]] [--version ID] NAME [FILE|DIR|-]",
     "Download the object NAME to FILE, or to standard output when '-' or left out.\n"
     "A file is replaced only once the download is complete and verified.\n"
     "  --version ID  that version of NAME (see 'versions NAME'), in a container with versioning.\n"
     "  -r   download every object under NAME/ into DIR (default: ./ plus the last segment of\n"
     "       NAME, or . when NAME is ''), creating sub-directories. Names that would leave DIR\n"
     "       (a '..' or '.' segment, a leading '/', an empty segment) are refused (exit 3).\n"
     "  -j N with -r: N objects at once (1 to 64, default 1), as for put -r.\n",
     "rj", 1, 2},
    {"rm", "rm NAME...",
     "Delete the objects (several names: at once, by Swift's bulk delete where the cluster offers it);\n"
     "every name is tried, the exit code is that of the first failure (a name that did not exist: 15).\n",
     "", 1, -1},
    {"versions", "versions NAME",
     "List the versions of the object NAME, newest first (a container with Swift's object\n"
     "versioning, e.g. made with openstack-versioning=true): version id, size, time (UTC),\n"
     "and 'current' and/or 'deleted' (a delete marker: the record of a delete).\n",
     "", 1, 1},
    {"restore-version", "restore-version NAME ID",
     "Make the version ID of NAME current again (undoes an overwrite or a delete); the version\n"
     "that was current stays a version. A delete marker cannot be restored.\n",
     "", 2, 2},
    {"mv", "mv FROM TO", "Rename an object (a server-side copy, then the delete of FROM).\n", "", 2, 2},
    {"stat", "stat NAME", "Show size, last modified, ETag, file time, expiry and metadata of one object.\n", "", 1, 1},
    {"quota", "quota", "Show the account's bytes used, quota, object and container counts.\n", "", 0, 0},
    {"sweep", "sweep [--older-than DURATION]",
     "Delete the segments no manifest references (uploads killed and never resumed leave them):\n"
     "only segments this library wrote for the container, older than DURATION (default 1d;\n"
     "a number of seconds, or with s, m, h or d). Prints how many objects and bytes went.\n",
     "", 0, 0},
    {"test", "test", "Check the credentials, the endpoint and that the container exists; prints 'ok'.\n", "",
     0, 0},
    {"mkcontainer", "mkcontainer", "Create the container (no error if it exists).\n", "", 0, 0},
    {"rmcontainer", "rmcontainer [-f]",
     "Delete the container; one that holds objects is refused (exit 28) unless\n"
     "  -f   which first deletes EVERY object in the container, not only those under the prefix.\n",
     "f", 0, 0},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name) {
  size_t i;
  for (i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

static void usage(FILE *to) {
  size_t i;
  fprintf(to,
          "usage: %s [OPTIONS] [URL] COMMAND [ARGS]\n"
          "\n"
          "The destination, in this order:\n"
          "  URL         an openstack:// destination URL, e.g.\n"
          "              'openstack://CONTAINER/PREFIX?auth-username=U&auth-password=P"
          "&openstack-tenant-name=T&openstack-authuri=https://keystone:5000/v3'\n"
          "  --container CONTAINER[/PREFIX]\n"
          "              credentials from the OpenStack environment like the swift CLI: OS_AUTH_URL,\n"
          "              OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_REGION_NAME, ...\n"
          "              (or a clouds.yaml cloud with --os-cloud)\n"
          "  OPENSTACK_DEST_URL   the environment variable, holding a URL\n"
          "\n"
          "commands (NAME is relative to the prefix; '%s COMMAND --help' for one):\n",
          prog, prog);
  for (i = 0; i < NCOMMANDS; i++) fprintf(to, "  %s\n", commands[i].synopsis);
  fprintf(to,
          "\n"
          "options:\n"
          "  --container C[/P]  the container (and prefix) when the credentials come from OS_*\n"
          "  --os-cloud NAME    take what is missing from cloud NAME of clouds.yaml / secure.yaml\n"
          "  -q                 no progress bar (it is shown only when standard error is a terminal)\n"
          "  -v                 log what the library does to standard error (-vv: more detail)\n"
          "  -h, --help         show this help\n"
          "\n"
          "exit status: 0 success; 2 bad usage; 3 local error outside the library;\n"
          "  10 + the library's status otherwise, e.g. 11 invalid argument, 12 invalid URL,\n"
          "  13 authentication failed, 14 forbidden, 15 object not found, 16 container not found,\n"
          "  17 no object-store endpoint, 18 too large, 19 integrity, 20 network, 21 timeout,\n"
          "  22 server error, 23 local file error, 24 cancelled, 25 internal error, 26 callback,\n"
          "  27 other HTTP error, 28 container not empty.\n");
}

static void command_usage(const struct command *c, FILE *to) {
  fprintf(to, "usage: %s [OPTIONS] [URL] %s\n\n%s", prog, c->synopsis, c->help);
}

/* Prints `oscli: <status name>: <message>` and returns the exit code for st. */
static int fail(os_status st) {
  const char *msg = os_last_error_message(); /* read before any other os_ call */
  char copy[2048];
  snprintf(copy, sizeof copy, "%s", msg && *msg ? msg : "(no message)");
  fprintf(stderr, "%s: %s: %s\n", prog, os_status_name(st), copy);
  return 10 + (int)st;
}

static void log_line(void *ctx, os_log_level level, const char *message) {
  static const char *const names[] = {"?", "error", "warn", "info", "debug"};
  (void)ctx;
  fprintf(stderr, "%s: [%s] %s\n", prog, (int)level >= 1 && (int)level <= 4 ? names[level] : "?", message);
}

static char *join(const char *a, const char *b) { /* "a/b", or b when a is empty; NULL if out of memory */
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 2);
  if (!s) return NULL;
  if (la) {
    memcpy(s, a, la);
    s[la++] = '/';
  }
  memcpy(s + la, b, lb + 1);
  return s;
}

static int out_of_memory(void) {
  fprintf(stderr, "%s: out of memory\n", prog);
  return EXIT_LOCAL;
}

/* ---- progress bar on stderr, when stderr is a terminal ---- */
struct progress {
  const char *what;
  double start, last;
  int enabled, shown;
  uint64_t done;
  int64_t total;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_init(struct progress *p, const char *what, int enabled) {
  memset(p, 0, sizeof *p);
  p->what = what;
  p->enabled = enabled && !quiet;
  p->total = -1;
  p->start = now_s();
}

static void format_secs(double s, char *out, size_t cap) {
  long t = s < 0 ? 0 : s > 359999 ? 359999 : (long)(s + 0.5);
  if (t >= 3600) snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

static void progress_show(struct progress *p, int final) {
  double el = now_s() - p->start, rate = el > 0 ? (double)p->done / el : 0;
  const char *what = p->what;
  size_t wl = strlen(what);
  char tail[48] = "ETA --:--", secs[32];
  if (wl > 32) what += wl - 32; /* the end of a long name */
  if (final) {
    format_secs(el, secs, sizeof secs);
    snprintf(tail, sizeof tail, "in %s", secs);
  } else if (p->total > 0 && rate > 0 && (int64_t)p->done <= p->total) {
    format_secs((double)((uint64_t)p->total - p->done) / rate, secs, sizeof secs);
    snprintf(tail, sizeof tail, "ETA %s", secs);
  }
  if (p->total > 0)
    fprintf(stderr, "\r%s  %.1f / %.1f MiB  %3d%%  %.1f MiB/s  %s\033[K", what, (double)p->done / 1048576.0,
            (double)p->total / 1048576.0, (int)((double)p->done * 100.0 / (double)p->total), rate / 1048576.0,
            tail);
  else
    fprintf(stderr, "\r%s  %.1f MiB  %.1f MiB/s  %s\033[K", what, (double)p->done / 1048576.0, rate / 1048576.0,
            final ? tail : "");
  fflush(stderr);
}

static int on_progress(void *ctx, uint64_t done, int64_t total) {
  struct progress *p = ctx;
  double t = now_s();
  p->done = done;
  p->total = total;
  if (!p->enabled || (p->shown && t - p->last < 0.2)) return 0; /* at most 5 redraws a second */
  p->last = t;
  p->shown = 1;
  progress_show(p, 0);
  return 0;
}

static void progress_end(struct progress *p) {
  if (!p->shown) return;
  progress_show(p, 1); /* the final state, which throttling may have skipped */
  fputc('\n', stderr);
}

/* ---- stdin / stdout streams ---- */
static intptr_t read_stdin(void *ctx, uint8_t *buf, size_t cap) {
  (void)ctx;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, cap);
    if (n >= 0) return (intptr_t)n;
    if (errno != EINTR) {
      fprintf(stderr, "%s: reading standard input: %s\n", prog, strerror(errno));
      return -1;
    }
  }
}

/* A regular file on stdin can be rewound so the library may retry; a pipe cannot. */
static int rewind_stdin(void *ctx) {
  (void)ctx;
  return lseek(STDIN_FILENO, 0, SEEK_SET) == 0 ? 0 : -1;
}

static int write_stdout(void *ctx, const uint8_t *buf, size_t len) {
  (void)ctx;
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "%s: writing standard output: %s\n", prog, strerror(errno));
      return 1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ---- output helpers ---- */
static void format_time(int64_t ms, char *out, size_t cap) {
  time_t t;
  struct tm tm;
  if (ms < 0) {
    snprintf(out, cap, "%-20s", "-");
    return;
  }
  t = (time_t)(ms / 1000);
  if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) snprintf(out, cap, "?");
}

static int print_quota(os_dest *d) {
  os_quota_info q;
  os_status st = os_quota(d, &q);
  if (st != OS_OK) return fail(st);
  printf("bytes used:  %lld\n", (long long)q.bytes_used);
  if (q.quota_bytes >= 0) printf("quota:       %lld\n", (long long)q.quota_bytes);
  else printf("quota:       none\n");
  printf("objects:     %lld\n", (long long)q.object_count);
  printf("containers:  %lld\n", (long long)q.container_count);
  return 0;
}

/* ---- ls ---- */
static int ls_entry(void *ctx, const os_entry *e) {
  char when[32];
  (void)ctx;
  format_time(e->is_folder ? -1 : e->last_modified_ms, when, sizeof when);
  if (e->is_folder || e->size < 0) printf("%14s  %s  %s%s\n", "-", when, e->name, e->is_folder ? "/" : "");
  else printf("%14lld  %s  %s\n", (long long)e->size, when, e->name);
  return ferror(stdout) ? 1 : 0; /* stop when standard output fails */
}

static int do_ls(os_dest *d, const char *prefix, int recursive) {
  os_status st = os_list_each(d, prefix, recursive, ls_entry, NULL);
  if (st != OS_OK) return fail(st);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "%s: writing standard output: %s\n", prog, strerror(errno));
    return EXIT_LOCAL;
  }
  return 0;
}

/* os_stat_meta's callback: the host's metadata, one "meta KEY: VALUE" line each, kept for later. */
static int stat_meta_line(void *ctx, const char *key, const char *value) {
  fprintf((FILE *)ctx, "meta %s: %s\n", key, value);
  return 0;
}

/* The name of an entry's kind, as the Python binding spells it. */
static const char *kind_name(os_entry_kind k) {
  switch (k) {
  case OS_KIND_OBJECT: return "object";
  case OS_KIND_STATIC_LARGE: return "static_large";
  case OS_KIND_DYNAMIC_LARGE: return "dynamic_large";
  case OS_KIND_FOLDER: return "folder";
  }
  return "unknown";
}

static int do_stat(os_dest *d, const char *name) {
  os_entry *e = NULL;
  char when[32], *meta = NULL;
  size_t meta_len = 0;
  FILE *mf = open_memstream(&meta, &meta_len);
  os_status st = os_stat_meta(d, name, &e, mf ? stat_meta_line : NULL, mf);
  if (mf) fclose(mf);
  if (st != OS_OK) {
    free(meta);
    return fail(st);
  }
  format_time(e->last_modified_ms, when, sizeof when);
  printf("name:          %s\n", e->name ? e->name : name);
  printf("size:          %lld\n", (long long)e->size);
  printf("last modified: %s\n", when);
  printf("kind:          %s\n", kind_name(e->kind));
  /* Only an ordinary object's ETag is the MD5 of its content. */
  printf("etag:          %s%s\n", e->etag ? e->etag : "-",
         e->etag && e->kind != OS_KIND_OBJECT ? " (a large object's: not the content's MD5)" : "");
  if (e->mtime_ms >= 0) {
    format_time(e->mtime_ms, when, sizeof when);
    printf("file time:     %s\n", when);
  }
  if (e->delete_at_ms >= 0) {
    format_time(e->delete_at_ms, when, sizeof when);
    printf("expires:       %s\n", when);
  }
  if (meta) fputs(meta, stdout);
  free(meta);
  os_entry_free(e);
  return 0;
}

/* ---- many transfers at once (-j N) ---- */
struct task {
  char *name, *path;
};

struct tasks {
  struct task *v;
  size_t n, cap;
};

/* Appends (copies of) name and path; 0, or the exit code of running out of memory. */
static int tasks_add(struct tasks *ts, const char *name, const char *path) {
  if (ts->n == ts->cap) {
    struct task *more = realloc(ts->v, (ts->cap = ts->cap ? ts->cap * 2 : 64) * sizeof *ts->v);
    if (!more) return out_of_memory();
    ts->v = more;
  }
  ts->v[ts->n].name = strdup(name);
  ts->v[ts->n].path = strdup(path);
  if (!ts->v[ts->n].name || !ts->v[ts->n].path) {
    free(ts->v[ts->n].name);
    free(ts->v[ts->n].path);
    return out_of_memory();
  }
  ts->n++;
  return 0;
}

static void tasks_free(struct tasks *ts) {
  size_t i;
  for (i = 0; i < ts->n; i++) {
    free(ts->v[i].name);
    free(ts->v[i].path);
  }
  free(ts->v);
}

typedef int (*transfer_fn)(os_dest *d, const char *name, const char *path, int show);

/* What the workers share: the next task to take, and the first failure. */
struct pool {
  pthread_mutex_t lock;
  os_dest *d;
  const struct tasks *ts;
  transfer_fn run;
  size_t next;
  int rc;
};

static void *pool_worker(void *arg) {
  struct pool *p = arg;
  for (;;) {
    const struct task *t;
    int rc;
    pthread_mutex_lock(&p->lock);
    t = p->rc == 0 && p->next < p->ts->n ? &p->ts->v[p->next++] : NULL;
    pthread_mutex_unlock(&p->lock);
    if (!t) return NULL;
    rc = p->run(p->d, t->name, t->path, 0);
    if (rc != 0) {
      pthread_mutex_lock(&p->lock);
      if (p->rc == 0) p->rc = rc;
      pthread_mutex_unlock(&p->lock);
    }
  }
}

/* Runs every task with `jobs` threads on the one handle; the exit code of the first failure. */
static int run_tasks(os_dest *d, const struct tasks *ts, transfer_fn run) {
  pthread_t threads[MAX_JOBS];
  struct pool p;
  int i, started = 0, n = ts->n < (size_t)jobs ? (int)ts->n : jobs;
  p.d = d;
  p.ts = ts;
  p.run = run;
  p.next = 0;
  p.rc = 0;
  if (pthread_mutex_init(&p.lock, NULL) != 0) {
    fprintf(stderr, "%s: cannot create a mutex\n", prog);
    return EXIT_LOCAL;
  }
  for (i = 0; i < n; i++) {
    if (pthread_create(&threads[i], NULL, pool_worker, &p) != 0) break;
    started++;
  }
  if (started == 0 && n > 0) pool_worker(&p); /* no thread could start: this one does the work */
  for (i = 0; i < started; i++) pthread_join(threads[i], NULL);
  pthread_mutex_destroy(&p.lock);
  return p.rc;
}

/* ---- put ---- */
static int put_one(os_dest *d, const char *name, const char *file, int show) {
  struct progress p;
  os_status st;
  progress_init(&p, name, show);
  if (strcmp(file, "-") == 0) {
    struct stat sb;
    int64_t hint = -1;
    int seekable = 0;
    if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode)) {
      off_t pos = lseek(STDIN_FILENO, 0, SEEK_CUR);
      hint = (int64_t)(sb.st_size - (pos > 0 ? pos : 0));
      seekable = pos == 0;
    }
    st = os_put_stream_opts(d, name, read_stdin, seekable ? rewind_stdin : NULL, NULL, hint,
                            p.enabled ? on_progress : NULL, &p, NULL);
  } else {
    st = os_put_file_opts(d, name, file, NULL, p.enabled ? on_progress : NULL, &p);
  }
  progress_end(&p);
  return st == OS_OK ? 0 : fail(st);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Uploads every regular file under `path` (the directory for object name prefix `name`), sorted
 * by name; stops at the first failure. Memory: one directory's names at a time per level.
 * With a queue (-j N), the files are added to it instead, for run_tasks. */
static int put_tree(os_dest *d, const char *name, const char *path, int show, struct tasks *queue) {
  DIR *dir = opendir(path);
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, cap = 0, i;
  int rc = 0;
  if (!dir) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    return EXIT_LOCAL;
  }
  errno = 0;
  while ((de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (n == cap) {
      char **more = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
      if (!more) {
        rc = out_of_memory();
        break;
      }
      names = more;
    }
    if (!(names[n] = strdup(de->d_name))) {
      rc = out_of_memory();
      break;
    }
    n++;
    errno = 0;
  }
  if (rc == 0 && errno != 0) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    rc = EXIT_LOCAL;
  }
  closedir(dir);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  for (i = 0; i < n && rc == 0; i++) {
    char *child = join(path, names[i]), *child_name = join(name, names[i]);
    struct stat sb;
    if (!child || !child_name) rc = out_of_memory();
    else if (lstat(child, &sb) != 0) {
      fprintf(stderr, "%s: %s: %s\n", prog, child, strerror(errno));
      rc = EXIT_LOCAL;
    } else if (S_ISDIR(sb.st_mode)) {
      rc = put_tree(d, child_name, child, show, queue);
    } else if (S_ISREG(sb.st_mode)) {
      rc = queue ? tasks_add(queue, child_name, child) : put_one(d, child_name, child, show);
    } else {
      fprintf(stderr, "%s: skipping %s: not a regular file\n", prog, child);
    }
    free(child);
    free(child_name);
  }
  for (i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

/* NAME without its trailing slashes (a copy). */
static char *trim_slashes(const char *name) {
  char *s = strdup(name);
  size_t l;
  if (!s) return NULL;
  for (l = strlen(s); l > 0 && s[l - 1] == '/'; l--) s[l - 1] = 0;
  return s;
}

static int do_put(os_dest *d, const char *name, const char *file, int recursive) {
  struct stat sb;
  int show = isatty(STDERR_FILENO), rc;
  char *top;
  if (!recursive) {
    if (strcmp(file, "-") != 0 && stat(file, &sb) == 0 && S_ISDIR(sb.st_mode)) {
      fprintf(stderr, "%s: %s is a directory (put -r uploads a directory)\n", prog, file);
      return EXIT_USAGE;
    }
    return put_one(d, name, file, show);
  }
  if (strcmp(file, "-") == 0 || stat(file, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "%s: put -r: %s is not a directory\n", prog, file);
    return strcmp(file, "-") == 0 ? EXIT_USAGE : EXIT_LOCAL;
  }
  if (!(top = trim_slashes(name))) return out_of_memory();
  if (jobs > 1) {
    struct tasks queue = {NULL, 0, 0};
    rc = put_tree(d, top, file, 0, &queue);
    if (rc == 0) rc = run_tasks(d, &queue, put_one);
    tasks_free(&queue);
  } else {
    rc = put_tree(d, top, file, show, NULL);
  }
  free(top);
  return rc;
}

/* ---- get ---- */
static int get_one(os_dest *d, const char *name, const char *file, int show) {
  struct progress p;
  os_status st;
  progress_init(&p, name, show);
  if (version_id && strcmp(file, "-") == 0) {
    st = os_get_version_stream(d, name, version_id, write_stdout, NULL, p.enabled ? on_progress : NULL, &p);
  } else if (version_id) {
    st = os_get_version_file(d, name, version_id, file, p.enabled ? on_progress : NULL, &p);
  } else if (strcmp(file, "-") == 0) {
    st = os_get_stream(d, name, write_stdout, NULL, p.enabled ? on_progress : NULL, &p);
  } else if (p.enabled) {
    st = os_get_file_ex(d, name, file, on_progress, &p);
  } else {
    st = os_get_file(d, name, file);
  }
  progress_end(&p);
  return st == OS_OK ? 0 : fail(st);
}

struct names {
  char **v;
  size_t n, cap;
  int oom;
};

static int collect_name(void *ctx, const os_entry *e) {
  struct names *ns = ctx;
  if (ns->n == ns->cap) {
    char **more = realloc(ns->v, (ns->cap = ns->cap ? ns->cap * 2 : 64) * sizeof *ns->v);
    if (!more) return ns->oom = 1;
    ns->v = more;
  }
  if (!(ns->v[ns->n] = strdup(e->name))) return ns->oom = 1;
  ns->n++;
  return 0;
}

/* Whether `rel` (a name below NAME/) is safe as a path below the target directory: relative,
 * no empty, '.' or '..' segment. A trailing '/' (a folder marker) is allowed. */
static int safe_relative(const char *rel) {
  const char *s = rel;
  if (*s == 0 || *s == '/') return 0;
  while (*s) {
    const char *e = strchr(s, '/');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l == 0 || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.')) return 0;
    if (!e) break;
    s = e + 1;
  }
  return 1;
}

/* Creates `dir` when missing; an existing one must be a directory (a symbolic link is refused
 * below the target, so that no name leads outside it). */
static int make_dir(const char *dir, int allow_link) {
  struct stat sb;
  if (mkdir(dir, 0777) == 0) return 0;
  if (errno == EEXIST && (allow_link ? stat(dir, &sb) : lstat(dir, &sb)) == 0 && S_ISDIR(sb.st_mode)) return 0;
  if (errno == EEXIST) fprintf(stderr, "%s: %s exists and is not a directory\n", prog, dir);
  else fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
  return EXIT_LOCAL;
}

/* Creates every directory of `rel` below `top` up to its last '/' (all of them when it ends in '/'). */
static int make_parents(const char *top, const char *rel) {
  char *path = join(top, rel), *s;
  int rc = 0;
  if (!path) return out_of_memory();
  for (s = path + strlen(top) + 1; rc == 0 && (s = strchr(s, '/')) != NULL; s++) {
    *s = 0;
    rc = make_dir(path, 0);
    *s = '/';
  }
  free(path);
  return rc;
}

static int do_get_tree(os_dest *d, const char *name, const char *to) {
  struct names ns = {NULL, 0, 0, 0};
  char *top = trim_slashes(name), *prefix = NULL, *deflt = NULL;
  const char *dir = to;
  size_t i, plen;
  int rc = 0, refused = 0, show = isatty(STDERR_FILENO);
  struct tasks queue = {NULL, 0, 0};
  os_status st;
  if (!top || !(prefix = join(top, ""))) {
    free(top);
    return out_of_memory();
  }
  plen = strlen(prefix);
  if (!dir) { /* ./<last segment of NAME>, or . */
    const char *last = strrchr(top, '/');
    last = last ? last + 1 : top;
    if (*last == 0 || strcmp(last, "..") == 0) deflt = strdup(".");
    else deflt = strdup(last);
    if (!deflt) rc = out_of_memory();
    dir = deflt;
  }
  if (rc == 0) {
    st = os_list_each(d, plen ? prefix : NULL, true, collect_name, &ns);
    if (ns.oom) rc = out_of_memory();
    else if (st != OS_OK) rc = fail(st);
    else if (ns.n == 0) {
      fprintf(stderr, "%s: OS_ERR_NOT_FOUND: no object under '%s'\n", prog, plen ? prefix : "");
      rc = 10 + OS_ERR_NOT_FOUND;
    }
  }
  if (rc == 0) rc = make_dir(dir, 1);
  for (i = 0; i < ns.n && rc == 0; i++) {
    const char *rel = ns.v[i] + plen;
    size_t rl = strlen(rel);
    char *path;
    if (strncmp(ns.v[i], prefix, plen) != 0 || !safe_relative(rel)) {
      fprintf(stderr, "%s: refusing '%s': it would leave %s\n", prog, ns.v[i], dir);
      refused = 1;
      continue;
    }
    if ((rc = make_parents(dir, rel)) != 0) break;
    if (rel[rl - 1] == '/') continue; /* a folder marker: the directory is made */
    if (!(path = join(dir, rel))) {
      rc = out_of_memory();
      break;
    }
    rc = jobs > 1 ? tasks_add(&queue, ns.v[i], path) : get_one(d, ns.v[i], path, show);
    free(path);
  }
  if (rc == 0 && jobs > 1) rc = run_tasks(d, &queue, get_one); /* the directories exist by now */
  tasks_free(&queue);
  for (i = 0; i < ns.n; i++) free(ns.v[i]);
  free(ns.v);
  free(top);
  free(prefix);
  free(deflt);
  return rc ? rc : refused ? EXIT_LOCAL : 0;
}

static int do_get(os_dest *d, const char *name, const char *to, int recursive) {
  int show;
  if (recursive) {
    if (to && strcmp(to, "-") == 0) {
      fprintf(stderr, "%s: get -r needs a directory, not '-'\n", prog);
      return EXIT_USAGE;
    }
    return do_get_tree(d, name, to);
  }
  if (!to) to = "-";
  /* Progress and data would mix on one terminal: no progress when stdout is stderr's tty. */
  show = isatty(STDERR_FILENO) && !(strcmp(to, "-") == 0 && isatty(STDOUT_FILENO));
  return get_one(d, name, to, show);
}

/* A duration: seconds, or a number with s, m, h or d; -1 when it is not one. */
static long long parse_duration(const char *v) {
  char *end = NULL;
  long long n, unit = 1;
  if (!v || *v < '0' || *v > '9') return -1;
  errno = 0;
  n = strtoll(v, &end, 10);
  if (errno || end == v) return -1;
  if (*end == 's') unit = 1, end++;
  else if (*end == 'm') unit = 60, end++;
  else if (*end == 'h') unit = 3600, end++;
  else if (*end == 'd') unit = 86400, end++;
  if (*end != 0 || n > LLONG_MAX / unit) return -1;
  return n * unit;
}

static int do_sweep(os_dest *d, long long older_than) {
  uint64_t removed = 0, bytes = 0;
  os_status st = os_sweep_segments(d, (uint64_t)older_than, &removed, &bytes);
  if (st != OS_OK) return fail(st);
  printf("removed %llu objects (%llu bytes) no manifest references\n", (unsigned long long)removed,
         (unsigned long long)bytes);
  return 0;
}

/* ---- versions ---- */
static int print_version(void *ctx, const os_object_version *v) {
  char when[64];
  (void)ctx;
  format_time(v->last_modified_ms, when, sizeof when);
  printf("%s %12lld %s%s%s\n", v->version_id, (long long)v->size, when, v->is_current ? " current" : "",
         v->is_delete_marker ? " deleted" : "");
  return 0;
}

static int do_versions(os_dest *d, const char *name) {
  os_status st = os_list_versions_each(d, name, print_version, NULL);
  return st == OS_OK ? 0 : fail(st);
}

/* Reports one name os_delete_many_ex could not delete; remembers the first status. */
static void rm_failed(void *ctx, const char *name, os_status status, const char *message) {
  os_status *first = ctx;
  fprintf(stderr, "%s: %s: %s\n", prog, os_status_name(status), message);
  (void)name; /* the message names it */
  if (*first == OS_OK) *first = status;
}

static int do_rm(os_dest *d, char **names, int n) {
  size_t deleted = 0, missing = 0;
  os_status first = OS_OK, st;
  if (n == 1) {
    st = os_delete(d, names[0]);
    return st == OS_OK ? 0 : fail(st);
  }
  /* Many names: one bulk delete where the cluster offers it. */
  st = os_delete_many_ex(d, (const char *const *)names, (size_t)n, rm_failed, &first, &deleted, &missing);
  if (st != OS_OK) return fail(st);
  if (missing > 0) {
    fprintf(stderr, "%s: %s: %zu of the %d names did not exist\n", prog, os_status_name(OS_ERR_NOT_FOUND), missing,
            n);
    if (first == OS_OK) first = OS_ERR_NOT_FOUND;
  }
  return first == OS_OK ? 0 : 10 + (int)first;
}

/* ---- the destination ---- */
/* Appends `s` percent-encoded (all but unreserved characters, and '/' when keep_slash). */
static int url_append(char *out, size_t cap, size_t *len, const char *s, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (*len + 4 > cap) return -1;
    if (plain) out[(*len)++] = (char)c;
    else {
      out[(*len)++] = '%';
      out[(*len)++] = hex[c >> 4];
      out[(*len)++] = hex[c & 15];
    }
  }
  out[*len] = 0;
  return 0;
}

/* openstack://CONTAINER/PREFIX from --container CONTAINER[/PREFIX]. */
static int container_url(const char *spec, char *out, size_t cap) {
  const char *slash = strchr(spec, '/');
  size_t len = 0, clen = slash ? (size_t)(slash - spec) : strlen(spec);
  char container[OS_MAX_CONTAINER_NAME + 1];
  if (clen == 0 || clen > OS_MAX_CONTAINER_NAME) return -1;
  memcpy(container, spec, clen);
  container[clen] = 0;
  snprintf(out, cap, "openstack://");
  len = strlen(out);
  if (url_append(out, cap, &len, container, 0) != 0) return -1;
  if (len + 2 > cap) return -1;
  out[len++] = '/';
  out[len] = 0;
  return slash ? url_append(out, cap, &len, slash + 1, 1) : 0;
}

/* The value of a long option given as "--opt VALUE" or "--opt=VALUE"; NULL when argv[*i] is
 * another option. Sets *missing when the value is missing. */
static const char *long_value(int argc, char **argv, int *i, const char *opt, int *missing) {
  size_t l = strlen(opt);
  if (strncmp(argv[*i], opt, l) != 0) return NULL;
  if (argv[*i][l] == '=') return argv[*i] + l + 1;
  if (argv[*i][l] != 0) return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

int main(int argc, char **argv) {
  int verbose = 0, i = 1, nargs, rc, recursive = 0, force = 0, missing = 0;
  long long older_than = 86400;
  const char *url = NULL, *container = NULL, *cloud = NULL, *env_url = getenv("OPENSTACK_DEST_URL");
  const struct command *c;
  char **args, built_url[4 * OS_MAX_OBJECT_NAME + 64];
  const char *keys[2], *values[2];
  size_t nopts = 0;
  os_dest *d = NULL;
  os_status st;

  /* Global options, and the URL, before the command. */
  for (; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if ((v = long_value(argc, argv, &i, "--container", &missing)) != NULL) {
      container = v;
    } else if ((v = long_value(argc, argv, &i, "--os-cloud", &missing)) != NULL) {
      cloud = v;
    } else if (missing) {
      fprintf(stderr, "%s: option %s needs a value\n", prog, a);
      return EXIT_USAGE;
    } else if (!url && strncmp(a, "openstack://", 12) == 0) {
      url = a;
    } else if (a[0] == '-' && a[1] != 0 && a[1] != '-') {
      const char *o;
      for (o = a + 1; *o; o++) {
        if (*o == 'v') verbose++;
        else if (*o == 'q') quiet = 1;
        else if (*o == 'h') {
          usage(stdout);
          return 0;
        } else {
          fprintf(stderr, "%s: unknown option -%c (%s --help for help)\n", prog, *o, prog);
          return EXIT_USAGE;
        }
      }
    } else if (a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "%s: unknown option %s (%s --help for help)\n", prog, a, prog);
      return EXIT_USAGE;
    } else {
      break;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[i], "help") == 0) { /* oscli help [COMMAND] */
    if (i + 1 < argc && (c = find_command(argv[i + 1])) != NULL) command_usage(c, stdout);
    else if (i + 1 < argc) {
      fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[i + 1]);
      return EXIT_USAGE;
    } else usage(stdout);
    return 0;
  }
  if (!(c = find_command(argv[i]))) {
    fprintf(stderr, "%s: unknown command '%s' (%s --help for the commands)\n", prog, argv[i], prog);
    return EXIT_USAGE;
  }
  i++;

  /* The command's options, then its operands; all checked before anything touches the network. */
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++) {
    const char *o;
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (strcmp(argv[i], "--help") == 0) {
      command_usage(c, stdout);
      return 0;
    }
    if (strcmp(c->name, "sweep") == 0) {
      const char *v = long_value(argc, argv, &i, "--older-than", &missing);
      if (v || missing) {
        if ((older_than = parse_duration(v)) < 0) {
          fprintf(stderr, "%s: sweep: --older-than needs a duration such as 86400, 12h or 7d\n", prog);
          return EXIT_USAGE;
        }
        continue;
      }
    }
    if (strcmp(c->name, "get") == 0) {
      const char *v = long_value(argc, argv, &i, "--version", &missing);
      if (v || missing) {
        if (!v || !*v) {
          fprintf(stderr, "%s: get: --version needs a version id (see '%s versions NAME')\n", prog, prog);
          return EXIT_USAGE;
        }
        version_id = v;
        continue;
      }
    }
    if (argv[i][1] == '-') {
      fprintf(stderr, "%s: %s: unknown option %s\n", prog, c->name, argv[i]);
      command_usage(c, stderr);
      return EXIT_USAGE;
    }
    for (o = argv[i] + 1; *o; o++) {
      if (*o == 'h') {
        command_usage(c, stdout);
        return 0;
      } else if (*o == 'j' && strchr(c->flags, 'j')) { /* -j N, -jN */
        const char *v = o[1] ? o + 1 : i + 1 < argc ? argv[++i] : NULL;
        char *end = NULL;
        long n = v ? strtol(v, &end, 10) : 0;
        if (!v || end == v || *end != 0 || n < 1 || n > MAX_JOBS) {
          fprintf(stderr, "%s: %s: -j needs a number from 1 to %d\n", prog, c->name, MAX_JOBS);
          return EXIT_USAGE;
        }
        jobs = (int)n;
        break; /* the rest of this argument was the number */
      } else if (*o != '-' && strchr(c->flags, *o)) {
        if (*o == 'r') recursive = 1;
        else force = 1;
      } else {
        fprintf(stderr, "%s: %s: unknown option -%c\n", prog, c->name, *o);
        command_usage(c, stderr);
        return EXIT_USAGE;
      }
    }
  }
  args = argv + i;
  nargs = argc - i;
  if (nargs < c->min || (c->max >= 0 && nargs > c->max)) {
    fprintf(stderr, "%s: %s: wrong number of arguments\n", prog, c->name);
    command_usage(c, stderr);
    return EXIT_USAGE;
  }
  if (version_id && recursive) {
    fprintf(stderr, "%s: get: --version names one object; it does not go with -r\n", prog);
    return EXIT_USAGE;
  }
  if (jobs > 1 && !recursive) {
    fprintf(stderr, "%s: %s: -j goes with -r\n", prog, c->name);
    return EXIT_USAGE;
  }
  if (strcmp(c->name, "put") == 0 && recursive && nargs < 2) {
    fprintf(stderr, "%s: put -r: give the directory to upload\n", prog);
    command_usage(c, stderr);
    return EXIT_USAGE;
  }

  /* The destination: URL argument, --container with the OpenStack environment, OPENSTACK_DEST_URL. */
  if (url && container) {
    fprintf(stderr, "%s: give either a URL or --container, not both\n", prog);
    return EXIT_USAGE;
  }
  if (!url && container) {
    if (container_url(container, built_url, sizeof built_url) != 0) {
      fprintf(stderr, "%s: --container: give CONTAINER or CONTAINER/PREFIX (at most %d bytes of container)\n",
              prog, OS_MAX_CONTAINER_NAME);
      return EXIT_USAGE;
    }
    url = built_url;
    keys[nopts] = "openstack-auth-from-env";
    values[nopts++] = "true";
  } else if (!url && env_url && *env_url) {
    url = env_url;
  } else if (!url) {
    fprintf(stderr,
            "%s: no destination: give an openstack:// URL, set OPENSTACK_DEST_URL, or use --container\n"
            "  with the OpenStack environment (OS_AUTH_URL, OS_USERNAME, ...) or --os-cloud\n",
            prog);
    return EXIT_USAGE;
  }
  if (cloud) {
    keys[nopts] = "openstack-cloud";
    values[nopts++] = cloud;
  }

  if (verbose) os_set_log_callback(log_line, NULL, verbose > 1 ? OS_LOG_DEBUG : OS_LOG_INFO);
  st = os_open_with(url, nopts ? keys : NULL, nopts ? values : NULL, nopts, &d);
  if (st != OS_OK) {
    rc = fail(st);
    os_set_log_callback(NULL, NULL, OS_LOG_ERROR);
    return rc;
  }

  if (strcmp(c->name, "test") == 0) {
    st = os_test(d);
    rc = st == OS_OK ? 0 : fail(st);
    if (rc == 0) printf("ok\n");
  } else if (strcmp(c->name, "mkcontainer") == 0) {
    st = os_create_container(d);
    rc = st == OS_OK ? 0 : fail(st);
  } else if (strcmp(c->name, "rmcontainer") == 0) {
    st = os_delete_container(d, force);
    rc = st == OS_OK ? 0 : fail(st);
  } else if (strcmp(c->name, "ls") == 0) {
    rc = do_ls(d, nargs ? args[0] : NULL, recursive);
  } else if (strcmp(c->name, "quota") == 0) {
    rc = print_quota(d);
  } else if (strcmp(c->name, "sweep") == 0) {
    rc = do_sweep(d, older_than);
  } else if (strcmp(c->name, "stat") == 0) {
    rc = do_stat(d, args[0]);
  } else if (strcmp(c->name, "rm") == 0) {
    rc = do_rm(d, args, nargs);
  } else if (strcmp(c->name, "versions") == 0) {
    rc = do_versions(d, args[0]);
  } else if (strcmp(c->name, "restore-version") == 0) {
    st = os_restore_version(d, args[0], args[1]);
    rc = st == OS_OK ? 0 : fail(st);
  } else if (strcmp(c->name, "mv") == 0) {
    st = os_rename(d, args[0], args[1]);
    rc = st == OS_OK ? 0 : fail(st);
  } else if (strcmp(c->name, "put") == 0) {
    rc = do_put(d, args[0], nargs > 1 ? args[1] : "-", recursive);
  } else { /* get */
    rc = do_get(d, args[0], nargs > 1 ? args[1] : NULL, recursive);
  }
  os_free(d);
  os_set_log_callback(NULL, NULL, OS_LOG_ERROR);
  if (rc == 0 && fflush(stdout) != 0) {
    fprintf(stderr, "%s: writing standard output: %s\n", prog, strerror(errno));
    rc = EXIT_LOCAL;
  }
  return rc;
}
