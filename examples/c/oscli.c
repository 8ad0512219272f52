/* oscli — a small command-line client for an OpenStack Swift destination, over libopenstack_dest.
 *
 *   oscli [-v] URL COMMAND [ARGS]     or, with OPENSTACK_DEST_URL set:   oscli [-v] COMMAND [ARGS]
 *
 * Build: cc -std=c99 -Wall -Wextra -Werror -I include examples/c/oscli.c \
 *           -L target/debug -lopenstack_dest -o oscli
 * Run `oscli -h` for the commands and exit codes. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "openstack_dest.h"

#define EXIT_USAGE 2
#define EXIT_LOCAL 3 /* a local problem outside the library (e.g. writing to stdout failed) */

static const char *prog = "oscli";

static void usage(FILE *to) {
  fprintf(to,
          "usage: %s [-v] [URL] COMMAND [ARGS]\n"
          "\n"
          "URL is an openstack:// destination URL, e.g.\n"
          "  'openstack://CONTAINER/PREFIX?auth-username=U&auth-password=P&openstack-tenant-name=T"
          "&openstack-authuri=https://keystone:5000/v3'\n"
          "It may be left out when the environment variable OPENSTACK_DEST_URL holds it.\n"
          "\n"
          "commands (NAME is relative to the URL's prefix):\n"
          "  test                  check credentials and that the container exists\n"
          "  mkcontainer           create the container (no error if it exists)\n"
          "  ls                    list: size, last modified (UTC), name (folders end with '/')\n"
          "  stat NAME             show size, last modified and ETag of one object\n"
          "  put NAME [FILE|-]     upload FILE, or standard input when '-' or left out\n"
          "  get NAME [FILE|-]     download to FILE, or standard output when '-' or left out\n"
          "  rm NAME               delete an object\n"
          "  mv FROM TO            rename an object\n"
          "  quota                 show the account's usage and quota\n"
          "\n"
          "options:\n"
          "  -v    log what the library does to standard error (-vv: more detail)\n"
          "  -h    show this help\n"
          "\n"
          "exit status: 0 success; 2 bad usage; 3 local error outside the library;\n"
          "  10 + the library's status otherwise, e.g. 11 invalid argument, 12 invalid URL,\n"
          "  13 authentication failed, 14 forbidden, 15 object not found, 16 container not found,\n"
          "  17 no object-store endpoint, 18 too large, 19 integrity, 20 network, 21 timeout,\n"
          "  22 server error, 23 local file error, 24 cancelled, 25 internal error, 26 callback,\n"
          "  27 other HTTP error.\n",
          prog);
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

/* ---- progress on stderr, when stderr is a terminal ---- */
struct progress {
  const char *what;
  double last;
  int shown;
  uint64_t done;
  int64_t total;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_show(struct progress *p) {
  if (p->total > 0)
    fprintf(stderr, "\r%s: %.1f / %.1f MiB (%3d%%)", p->what, (double)p->done / 1048576.0,
            (double)p->total / 1048576.0, (int)((double)p->done * 100.0 / (double)p->total));
  else
    fprintf(stderr, "\r%s: %.1f MiB", p->what, (double)p->done / 1048576.0);
  fflush(stderr);
}

static int on_progress(void *ctx, uint64_t done, int64_t total) {
  struct progress *p = ctx;
  double t = now_s();
  p->done = done;
  p->total = total;
  if (p->shown && t - p->last < 0.2) return 0; /* at most 5 updates a second */
  p->last = t;
  p->shown = 1;
  progress_show(p);
  return 0;
}

static void progress_end(struct progress *p) {
  if (!p->shown) return;
  progress_show(p); /* the final state, which throttling may have skipped */
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

static int do_ls(os_dest *d) {
  os_entry *es = NULL;
  size_t n = 0, i;
  os_status st = os_list(d, &es, &n);
  if (st != OS_OK) return fail(st);
  for (i = 0; i < n; i++) {
    char when[32];
    format_time(es[i].is_folder ? -1 : es[i].last_modified_ms, when, sizeof when);
    if (es[i].is_folder || es[i].size < 0) printf("%14s  %s  %s%s\n", "-", when, es[i].name, es[i].is_folder ? "/" : "");
    else printf("%14lld  %s  %s\n", (long long)es[i].size, when, es[i].name);
  }
  os_entries_free(es, n);
  return fflush(stdout) == 0 ? 0 : EXIT_LOCAL;
}

static int do_stat(os_dest *d, const char *name) {
  os_entry *e = NULL;
  char when[32];
  os_status st = os_stat(d, name, &e);
  if (st != OS_OK) return fail(st);
  format_time(e->last_modified_ms, when, sizeof when);
  printf("name:          %s\n", e->name ? e->name : name);
  printf("size:          %lld\n", (long long)e->size);
  printf("last modified: %s\n", when);
  printf("etag:          %s\n", e->etag ? e->etag : "-");
  os_entry_free(e);
  return 0;
}

static int do_put(os_dest *d, const char *name, const char *file, int show_progress) {
  struct progress p = {name, 0, 0, 0, -1};
  os_status st;
  if (strcmp(file, "-") == 0) {
    struct stat sb;
    int64_t hint = -1;
    int seekable = 0;
    if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode)) {
      off_t pos = lseek(STDIN_FILENO, 0, SEEK_CUR);
      hint = (int64_t)(sb.st_size - (pos > 0 ? pos : 0));
      seekable = pos == 0;
    }
    st = os_put_stream(d, name, read_stdin, seekable ? rewind_stdin : NULL, NULL, hint,
                       show_progress ? on_progress : NULL, &p);
  } else if (show_progress) {
    st = os_put_file_ex(d, name, file, on_progress, &p);
  } else {
    st = os_put_file(d, name, file);
  }
  progress_end(&p);
  return st == OS_OK ? 0 : fail(st);
}

static int do_get(os_dest *d, const char *name, const char *file, int show_progress) {
  struct progress p = {name, 0, 0, 0, -1};
  os_status st;
  if (strcmp(file, "-") == 0) {
    st = os_get_stream(d, name, write_stdout, NULL, show_progress ? on_progress : NULL, &p);
  } else if (show_progress) {
    st = os_get_file_ex(d, name, file, on_progress, &p);
  } else {
    st = os_get_file(d, name, file);
  }
  progress_end(&p);
  return st == OS_OK ? 0 : fail(st);
}

static int need(int have, int min, int max) {
  if (have < min || have > max) {
    usage(stderr);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  int verbose = 0, i = 1, nargs, rc;
  const char *url, *cmd, *env_url = getenv("OPENSTACK_DEST_URL");
  char **args;
  os_dest *d = NULL;
  os_status st;

  for (; i < argc && argv[i][0] == '-' && argv[i][1] != 0; i++) {
    const char *o = argv[i] + 1;
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
    for (; *o; o++) {
      if (*o == 'v') verbose++;
      else if (*o == 'h') {
        usage(stdout);
        return 0;
      } else {
        fprintf(stderr, "%s: unknown option -%c\n", prog, *o);
        usage(stderr);
        return EXIT_USAGE;
      }
    }
  }
  /* The URL comes first unless the environment has it and the first word is not a URL. */
  if (i < argc && strncmp(argv[i], "openstack://", 12) == 0) {
    url = argv[i++];
  } else if (env_url && *env_url) {
    url = env_url;
  } else {
    if (i < argc) fprintf(stderr, "%s: no openstack:// URL given and OPENSTACK_DEST_URL is not set\n", prog);
    usage(stderr);
    return EXIT_USAGE;
  }
  if (i >= argc) {
    usage(stderr);
    return EXIT_USAGE;
  }
  cmd = argv[i++];
  args = argv + i;
  nargs = argc - i;

  /* Check the command's arguments before anything touches the network. */
  if (strcmp(cmd, "test") == 0 || strcmp(cmd, "mkcontainer") == 0 || strcmp(cmd, "ls") == 0 ||
      strcmp(cmd, "quota") == 0) {
    if (!need(nargs, 0, 0)) return EXIT_USAGE;
  } else if (strcmp(cmd, "stat") == 0 || strcmp(cmd, "rm") == 0) {
    if (!need(nargs, 1, 1)) return EXIT_USAGE;
  } else if (strcmp(cmd, "put") == 0 || strcmp(cmd, "get") == 0) {
    if (!need(nargs, 1, 2)) return EXIT_USAGE;
  } else if (strcmp(cmd, "mv") == 0) {
    if (!need(nargs, 2, 2)) return EXIT_USAGE;
  } else {
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return EXIT_USAGE;
  }

  if (verbose) os_set_log_callback(log_line, NULL, verbose > 1 ? OS_LOG_DEBUG : OS_LOG_INFO);
  st = os_open_with(url, NULL, NULL, 0, &d);
  if (st != OS_OK) {
    rc = fail(st);
    os_set_log_callback(NULL, NULL, OS_LOG_ERROR);
    return rc;
  }

  if (strcmp(cmd, "test") == 0) {
    st = os_test(d);
    rc = st == OS_OK ? 0 : fail(st);
    if (rc == 0) printf("ok\n");
  } else if (strcmp(cmd, "mkcontainer") == 0) {
    st = os_create_container(d);
    rc = st == OS_OK ? 0 : fail(st);
  } else if (strcmp(cmd, "ls") == 0) {
    rc = do_ls(d);
  } else if (strcmp(cmd, "quota") == 0) {
    rc = print_quota(d);
  } else if (strcmp(cmd, "stat") == 0) {
    rc = do_stat(d, args[0]);
  } else if (strcmp(cmd, "rm") == 0) {
    st = os_delete(d, args[0]);
    rc = st == OS_OK ? 0 : fail(st);
  } else if (strcmp(cmd, "mv") == 0) {
    st = os_rename(d, args[0], args[1]);
    rc = st == OS_OK ? 0 : fail(st);
  } else if (strcmp(cmd, "put") == 0) {
    rc = do_put(d, args[0], nargs > 1 ? args[1] : "-", isatty(STDERR_FILENO));
  } else { /* get */
    const char *to = nargs > 1 ? args[1] : "-";
    /* Progress and data would mix on one terminal: no progress when stdout is stderr's tty. */
    int show = isatty(STDERR_FILENO) && !(strcmp(to, "-") == 0 && isatty(STDOUT_FILENO));
    rc = do_get(d, args[0], to, show);
  }
  os_free(d);
  os_set_log_callback(NULL, NULL, OS_LOG_ERROR);
  if (rc == 0 && fflush(stdout) != 0) {
    fprintf(stderr, "%s: writing standard output: %s\n", prog, strerror(errno));
    rc = EXIT_LOCAL;
  }
  return rc;
}
