/* hivelet __exec PLANFILE [PID]: runs a process inside a running container
 * (CONTRACT.md "Exec plans"): `exec`, health probes.
 *
 * Everything that names host paths happens before the first setns: the
 * namespace files of PID and the `cgroup_procs` files are opened first. The
 * forked process then writes "0" (itself) to those cgroup files, so only the
 * exec'd process counts against the container's limits, not this one.
 * setns(pid) affects children only: the fork puts the process into the
 * container's pid namespace. The process part (cwd, PATH, user, caps,
 * seccomp, execve) is child_exec.c's, shared with container start.
 *
 * With `tty` the process gets a pty of the container's own devpts (this
 * process has joined the mount namespace, so "/dev/ptmx" is the container's)
 * as stdio and controlling terminal, and `__exec` stays as the relay between
 * its own stdio and the master: the caller's stdin (only with `stdin`, in raw
 * mode when it is a terminal, restored at the end), output to its stdout,
 * SIGWINCH copying the caller's window size to the pty. */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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

/* Opens a pty of the devpts "/dev/ptmx" leads to: the master into *MASTER, the
 * slave (owned by the process's user, as runc does) into *SLAVE. */
static int open_pty(const struct hl_plan *plan, int *master, int *slave,
                    char *err, size_t errlen) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) {
    snprintf(err, errlen, "open \"/dev/ptmx\" in the container: %s",
             strerror(errno));
    return -1;
  }
  int unlock = 0;
  unsigned int index;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &index) < 0) {
    snprintf(err, errlen,
             "unlock the pty of \"/dev/ptmx\" (TIOCSPTLCK, "
             "TIOCGPTN): %s",
             strerror(errno));
    close(m);
    return -1;
  }
  char path[32];
  snprintf(path, sizeof path, "/dev/pts/%u", index);
  int s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  if (s < 0 ||
      (plan->has_user && fstat(s, &st) == 0 && st.st_uid != plan->uid &&
       fchown(s, plan->uid, plan->gid) < 0)) {
    snprintf(err, errlen, "open pty slave \"%s\": %s", path, strerror(errno));
    if (s >= 0)
      close(s);
    close(m);
    return -1;
  }
  /* The caller's window size, when it has a terminal. */
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
    ioctl(m, TIOCSWINSZ, &ws);
  *master = m;
  *slave = s;
  return 0;
}

static void copy_window_size(int master) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* Reads what the pty has now (MASTER is non-blocking) to stdout. Returns 0 on
 * EOF (EIO: no slave left open), 1 otherwise. */
static int pump_output(int master, char *buf, size_t size, int drain) {
  for (;;) {
    ssize_t n = read(master, buf, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return 1;
    if (n <= 0)
      return 0;
    if (hl_write_all(1, buf, (size_t)n) < 0)
      return 0; /* the caller's stdout is gone: stop relaying */
    if (!drain)
      return 1;
  }
}

/* The relay of a tty exec until CHILD exits; returns its exit code. */
static int relay_pty(pid_t child, int master, const sigset_t *set,
                     int with_stdin) {
  static char out[16384], in[4096];
  size_t in_len = 0, in_off = 0;
  int sfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    fprintf(stderr, "hivelet: exec: signalfd: %s\n", strerror(errno));
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
      ;
    return 125;
  }
  int flags = fcntl(master, F_GETFL);
  fcntl(master, F_SETFL, flags | O_NONBLOCK);
  struct termios saved;
  int raw = with_stdin && isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    if (tcsetattr(0, TCSANOW, &t) < 0)
      raw = 0;
  }
  int stdin_open = with_stdin, master_open = 1, code = -1;
  while (code < 0) {
    struct pollfd p[3];
    nfds_t n = 0;
    p[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    int at_master = -1, at_stdin = -1;
    if (master_open) {
      at_master = (int)n;
      p[n++] = (struct pollfd){.fd = master,
                               .events = POLLIN | (in_len ? POLLOUT : 0)};
    }
    /* Typed input waits while the container does not read its terminal. */
    if (stdin_open && !in_len) {
      at_stdin = (int)n;
      p[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
    }
    if (poll(p, n, -1) < 0) {
      if (errno == EINTR)
        continue;
      fprintf(stderr, "hivelet: exec: poll: %s\n", strerror(errno));
      break;
    }
    if (at_master >= 0 && p[at_master].revents) {
      if (p[at_master].revents & (POLLIN | POLLHUP | POLLERR))
        master_open = pump_output(master, out, sizeof out, 0);
      while (master_open && in_len) {
        ssize_t w = write(master, in + in_off, in_len);
        if (w < 0 && errno == EINTR)
          continue;
        if (w < 0 && errno == EAGAIN)
          break;
        if (w < 0) {
          in_len = 0;
          break;
        }
        in_off += (size_t)w;
        in_len -= (size_t)w;
      }
    }
    if (at_stdin >= 0 && p[at_stdin].revents) {
      ssize_t r = read(0, in, sizeof in);
      if (r > 0) {
        in_off = 0;
        in_len = master_open ? (size_t)r : 0;
      } else if (r == 0 || errno != EINTR) {
        stdin_open = 0;
      }
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGWINCH)
          copy_window_size(master);
        else if (sig != SIGCHLD)
          kill(child, sig);
      }
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == child)
          code = WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                     : WEXITSTATUS(status);
      if (code < 0 && pid < 0 && errno == ECHILD)
        code = 125;
    }
  }
  /* What the process wrote before it exited is still in the pty. */
  if (master_open)
    pump_output(master, out, sizeof out, 1);
  if (raw)
    tcsetattr(0, TCSADRAIN, &saved);
  close(sfd);
  close(master);
  return code < 0 ? 125 : code;
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
    cgfd[i] = hl_open_cgroup_join(plan.cgroup_procs.items[i]);
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

  int master = -1, slave = -1;
  if (plan.tty && open_pty(&plan, &master, &slave, err, sizeof err) < 0)
    return fail("%s%s", err, "");
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
    if (slave >= 0)
      for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
          hl_child_fail(errpipe[1], 125, "dup2 the pty slave onto fd %d: %s",
                        fd, strerror(errno));
    for (size_t i = 0; i < plan.cgroup_procs.count; i++)
      if (hl_write_all(cgfd[i], "0", 1) < 0)
        hl_child_fail(errpipe[1], 125, "join cgroup \"%s\": %s",
                      plan.cgroup_procs.items[i], strerror(errno));
    hl_child_exec(&plan, errpipe[1], slave >= 0);
  }
  close(errpipe[1]);
  if (slave >= 0)
    close(slave);
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
  if (master >= 0)
    return relay_pty(child, master, &set, plan.open_stdin);
  return hl_wait_forwarding(child, child, &set);
}
