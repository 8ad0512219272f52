/* rusage — runs a command and writes its resource use, for examples/bench/bench.py.
 *
 *   rusage OUTFILE COMMAND [ARGS...]
 *
 * Writes "user_s sys_s maxrss_kib" of COMMAND (with its waited-for children, from wait4) to
 * OUTFILE and exits with COMMAND's status. Why not os.wait4 in the driver: Linux carries a
 * process's peak RSS across exec, so a child forked from the Python driver would report at least
 * the driver's RSS; forked from this small program, the floor is this program's ~1 MiB. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static double seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

int main(int argc, char **argv) {
  struct rusage ru;
  int status;
  pid_t pid;
  FILE *out;
  if (argc < 3) {
    fprintf(stderr, "usage: rusage OUTFILE COMMAND [ARGS...]\n");
    return 2;
  }
  pid = fork();
  if (pid < 0) {
    perror("rusage: fork");
    return 126;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    perror("rusage: exec");
    _exit(127);
  }
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("rusage: wait4");
    return 126;
  }
  if (!(out = fopen(argv[1], "w"))) {
    perror("rusage: output file");
    return 126;
  }
  fprintf(out, "%.6f %.6f %ld\n", seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss);
  fclose(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
