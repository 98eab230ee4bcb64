/*
 * fixture: a tiny static program that container tests run inside images.
 *
 * With no arguments it prints a greeting. Otherwise each argument is one
 * command, run in order, so a test can ask for several facts in one start:
 *
 *   pid | ppid | uid | gid | groups | hostname | cwd   print that fact
 *   env                  print the whole environment, one VAR=value a line
 *   getenv NAME          print the value of NAME (exit 1 when unset)
 *   cat PATH             copy a file to stdout
 *   ls PATH              list a directory, one name a line, unsorted
 *   write PATH TEXT      create or truncate PATH and write TEXT and a newline
 *   echo TEXT            print TEXT
 *   stderr TEXT          print TEXT on stderr
 *   sleep SECONDS        sleep (restarted after signals)
 *   pause                wait for a signal (exits 0 on SIGTERM/SIGINT)
 *   exit CODE            exit with CODE at once
 *
 * Output is line-oriented ("key: value" for facts) so tests can parse it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what, const char *subject) {
  fprintf(stderr, "fixture: %s %s: %s\n", what, subject, strerror(errno));
  return 1;
}

static int cat_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail("open", path);
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
      close(fd);
      return fail("write", "stdout");
    }
  }
  int rc = n < 0 ? fail("read", path) : 0;
  close(fd);
  return rc;
}

static int list_dir(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL)
    return fail("opendir", path);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      puts(e->d_name);
  }
  closedir(d);
  return 0;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "we");
  if (f == NULL)
    return fail("create", path);
  int rc = fprintf(f, "%s\n", text) < 0 ? fail("write", path) : 0;
  if (fclose(f) != 0 && rc == 0)
    rc = fail("close", path);
  return rc;
}

static void sleep_seconds(const char *arg) {
  struct timespec left = {.tv_sec = strtol(arg, NULL, 10), .tv_nsec = 0};
  while (nanosleep(&left, &left) != 0 && errno == EINTR)
    ;
}

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static int print_groups(void) {
  gid_t groups[256];
  int n = getgroups(256, groups);
  if (n < 0)
    return fail("getgroups", "");
  printf("groups:");
  for (int i = 0; i < n; i++)
    printf(" %u", (unsigned)groups[i]);
  putchar('\n');
  return 0;
}

/* Runs argv[*i] (consuming its operands); returns -1 to go on, else an exit
 * code. */
static int run_one(int argc, char **argv, int *i) {
  const char *cmd = argv[*i];
  const char *arg = *i + 1 < argc ? argv[*i + 1] : NULL;
  char buf[4096];

#define NEED_ARG()                                                             \
  do {                                                                         \
    if (arg == NULL) {                                                         \
      fprintf(stderr, "fixture: %s needs an argument\n", cmd);                 \
      return 2;                                                                \
    }                                                                          \
    (*i)++;                                                                    \
  } while (0)

  if (strcmp(cmd, "pid") == 0) {
    printf("pid: %d\n", (int)getpid());
  } else if (strcmp(cmd, "ppid") == 0) {
    printf("ppid: %d\n", (int)getppid());
  } else if (strcmp(cmd, "uid") == 0) {
    printf("uid: %u\neuid: %u\n", (unsigned)getuid(), (unsigned)geteuid());
  } else if (strcmp(cmd, "gid") == 0) {
    printf("gid: %u\negid: %u\n", (unsigned)getgid(), (unsigned)getegid());
  } else if (strcmp(cmd, "groups") == 0) {
    if (print_groups() != 0)
      return 1;
  } else if (strcmp(cmd, "hostname") == 0) {
    if (gethostname(buf, sizeof buf) != 0)
      return fail("gethostname", "");
    printf("hostname: %s\n", buf);
  } else if (strcmp(cmd, "cwd") == 0) {
    if (getcwd(buf, sizeof buf) == NULL)
      return fail("getcwd", "");
    printf("cwd: %s\n", buf);
  } else if (strcmp(cmd, "env") == 0) {
    for (char **e = environ; *e != NULL; e++)
      puts(*e);
  } else if (strcmp(cmd, "getenv") == 0) {
    NEED_ARG();
    const char *v = getenv(arg);
    if (v == NULL)
      return 1;
    puts(v);
  } else if (strcmp(cmd, "cat") == 0) {
    NEED_ARG();
    if (cat_file(arg) != 0)
      return 1;
  } else if (strcmp(cmd, "ls") == 0) {
    NEED_ARG();
    if (list_dir(arg) != 0)
      return 1;
  } else if (strcmp(cmd, "write") == 0) {
    NEED_ARG();
    if (*i + 1 >= argc) {
      fprintf(stderr, "fixture: write needs PATH and TEXT\n");
      return 2;
    }
    (*i)++;
    if (write_file(arg, argv[*i]) != 0)
      return 1;
  } else if (strcmp(cmd, "echo") == 0) {
    NEED_ARG();
    puts(arg);
  } else if (strcmp(cmd, "stderr") == 0) {
    NEED_ARG();
    fprintf(stderr, "%s\n", arg);
  } else if (strcmp(cmd, "sleep") == 0) {
    NEED_ARG();
    fflush(stdout);
    sleep_seconds(arg);
  } else if (strcmp(cmd, "pause") == 0) {
    /* As pid 1 the default SIGTERM action is ignored: install handlers. */
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    fflush(stdout);
    for (;;)
      pause();
  } else if (strcmp(cmd, "exit") == 0) {
    NEED_ARG();
    fflush(stdout);
    return (int)strtol(arg, NULL, 10);
  } else {
    fprintf(stderr, "fixture: unknown command \"%s\"\n", cmd);
    return 2;
  }
#undef NEED_ARG
  return -1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    puts("Hello from the hivelet fixture!");
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    int rc = run_one(argc, argv, &i);
    if (rc >= 0)
      return rc;
  }
  return 0;
}
