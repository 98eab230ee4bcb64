/* hivelet __exec PLANFILE [PID]: runs a process inside a running container
 * (CONTRACT.md "Exec plans"): `exec`, health probes.
 *
 * Everything that names host paths happens before the first setns: the
 * namespace files of PID and the `cgroup_procs` files are opened first. The
 * forked process then writes "0" (itself) to those cgroup files, so only the
 * exec'd process counts against the container's limits, not this one.
 * setns(pid) affects children only: the fork puts the process into the
 * container's pid namespace. The process part (cwd, PATH, user, caps,
 * seccomp, execve) is child_exec.c's, shared with container start. */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_CGROUPS 32

/* Joined in this order; the mount namespace last so that nothing after it
 * depends on host paths. */
static const struct {
  const char *name;
  int flag;
} ns_order[] = {
    {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
    {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};

static int fail(const char *fmt, const char *a, const char *b) {
  fputs("hivelet: exec: ", stderr);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  return 125;
}

int hl_exec_main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fputs("usage: hivelet __exec PLANFILE [PID]\n", stderr);
    return 125;
  }
  static struct hl_plan plan;
  char err[1024];
  if (hl_plan_load(argv[2], &plan, err, sizeof err) < 0)
    return fail("%s%s", err, "");
  if (plan.delete_plan && unlink(argv[2]) < 0 && errno != ENOENT)
    return fail("remove plan %s: %s", argv[2], strerror(errno));
  long pid = plan.pid;
  if (argc == 4) {
    char *end;
    pid = strtol(argv[3], &end, 10);
    if (*end || end == argv[3])
      pid = 0;
  }
  if (pid <= 0)
    return fail("%s%s", "no container pid (plan key `pid` or the PID argument)",
                "");
  char bad[32];
  if (hl_ns_flags(&plan, bad, sizeof bad) < 0)
    return fail("unknown namespace \"%s\"%s", bad, "");
  if (hl_child_prepare(&plan, err, sizeof err) < 0)
    return fail("%s%s", err, "");

  int nsfd[sizeof ns_order / sizeof ns_order[0]];
  for (size_t i = 0; i < sizeof ns_order / sizeof ns_order[0]; i++) {
    nsfd[i] = -1;
    if (!hl_plan_has_ns(&plan, ns_order[i].name))
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, ns_order[i].name);
    nsfd[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd[i] < 0)
      return fail("open %s: %s (is the container still running?)", path,
                  strerror(errno));
  }
  /* After the namespace files are open: if PID is still the process the
   * status file named, they are its namespaces; if it exited and the pid was
   * reused, its start time differs and nothing is joined. */
  if (plan.pid_start != 0 && hl_proc_starttime((pid_t)pid) != plan.pid_start) {
    fprintf(stderr, "hivelet: exec: container %s is not running\n",
            plan.id ? plan.id : "");
    return 125;
  }
  int cgfd[MAX_CGROUPS];
  if (plan.cgroup_procs.count > MAX_CGROUPS)
    return fail("%s%s", "too many cgroup_procs records", "");
  for (size_t i = 0; i < plan.cgroup_procs.count; i++) {
    cgfd[i] = open(plan.cgroup_procs.items[i], O_WRONLY | O_CLOEXEC);
    if (cgfd[i] < 0)
      return fail("open cgroup %s: %s", plan.cgroup_procs.items[i],
                  strerror(errno));
  }
  for (size_t i = 0; i < sizeof ns_order / sizeof ns_order[0]; i++)
    if (nsfd[i] >= 0) {
      if (setns(nsfd[i], ns_order[i].flag) < 0)
        return fail("join the container's %s namespace: %s", ns_order[i].name,
                    strerror(errno));
      close(nsfd[i]);
    }

  int make_ctty = plan.tty && isatty(0) && tcgetsid(0) != getsid(0);
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) < 0)
    return fail("pipe: %s%s", strerror(errno), "");
  sigset_t set;
  hl_forward_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t child = fork();
  if (child < 0)
    return fail("fork: %s%s", strerror(errno), "");
  if (child == 0) {
    hl_reset_signals();
    close(errpipe[0]);
    for (size_t i = 0; i < plan.cgroup_procs.count; i++)
      if (hl_write_all(cgfd[i], "0", 1) < 0)
        hl_child_fail(errpipe[1], 125, "join cgroup \"%s\": %s",
                      plan.cgroup_procs.items[i], strerror(errno));
    hl_child_exec(&plan, errpipe[1], make_ctty);
  }
  close(errpipe[1]);
  for (size_t i = 0; i < plan.cgroup_procs.count; i++)
    close(cgfd[i]);

  char rec[1024];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(errpipe[0], rec + len, sizeof rec - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
    if (len == sizeof rec - 1)
      break;
  }
  close(errpipe[0]);
  if (len > 0) {
    rec[len] = '\0';
    char *end;
    long code = strtol(rec, &end, 10);
    while (*end == ' ')
      end++;
    fprintf(stderr, "hivelet: %s\n", end);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
      ;
    return code == 126 || code == 127 ? (int)code : 125;
  }
  return hl_wait_forwarding(child, child, &set);
}
