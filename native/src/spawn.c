/* hl_spawn_monitor: called from managed code to start a container's monitor.
 *
 * fork + execve with only this C between them (the .NET runtime is
 * multithreaded: nothing managed, no malloc, no locks in the child). All
 * signals stay blocked across fork so that no managed signal handler can run
 * in the child before the handlers are reset. An exec failure comes back as
 * an errno over a CLOEXEC pipe: EOF means the monitor runs. */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Moves fd to at least MIN with CLOEXEC cleared later by dup2. */
static int lift_fd(int fd, int min) {
  if (fd < 0 || fd >= min)
    return fd;
  return fcntl(fd, F_DUPFD_CLOEXEC, min);
}

/* The fd limit for the fallback loops: no /proc/self/fd listing, it would
 * allocate. */
static long fd_limit(void) {
  long max = sysconf(_SC_OPEN_MAX);
  return max < 0 || max > 1 << 20 ? 1 << 20 : max;
}

void hl_close_from(int first) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
    return;
#endif
  /* ENOSYS: kernels before 5.9, qemu-user. */
  for (long fd = first, max = fd_limit(); fd < max; fd++)
    close((int)fd);
}

void hl_cloexec_from(int first) {
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
#endif
  /* ENOSYS/EINVAL: kernels before 5.11, qemu-user. */
  for (long fd = first, max = fd_limit(); fd < max; fd++)
    fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

/* See hl_signals_handled. */
static sigset_t handled;
static int handled_known;

void hl_signals_handled(const sigset_t *set) {
  handled = *set;
  handled_known = 1;
}

void hl_reset_signals(void) {
  struct sigaction sa = {0};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  /* A full pass is 64 system calls, a cost on every container start. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP &&
        (!handled_known || sigismember(&handled, sig) == 1))
      sigaction(sig, &sa, NULL); /* EINVAL for glibc's reserved RT signals */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The monitor's side of a spawn, in the forked child: its own session,
 * stdin/stdout on /dev/null, stderr on STDERR_FD, fd 3 = START_FD, nothing
 * else open across the exec (EXEC) or at all (in-process). Returns 0 or an
 * errno; REPORT is where the caller's pipe end now lives. */
static int monitor_child_setup(int pipe_w, int start_fd, int stderr_fd,
                               int go_fd, int exec, int *report) {
  hl_reset_signals();
  /* Move the fds we keep above 3 so that the dup2s below cannot clobber
   * one another. */
  *report = lift_fd(pipe_w, 5);
  int start = lift_fd(start_fd, 5);
  int errfd = lift_fd(stderr_fd, 5);
  int go = lift_fd(go_fd, 5);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (*report < 0 || start < 0 || null < 0 || (stderr_fd >= 0 && errfd < 0) ||
      (go_fd >= 0 && go < 0))
    return errno ? errno : EBADF;
  if (setsid() < 0)
    return errno;
  if (dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
      dup2(errfd >= 0 ? errfd : null, 2) < 0 || dup2(start, 3) < 0 ||
      (go >= 0 && dup3(go, MON_GO_FD, O_CLOEXEC) < 0))
    return errno;
  /* Nothing else the CLI had open is the monitor's business. */
  if (exec) {
    hl_cloexec_from(4);
  } else {
    /* The report pipe goes too: its EOF tells the caller all is well. */
    hl_close_from(go >= 0 ? MON_GO_FD + 1 : 4);
    *report = -1;
    hl_monitor_go_fd = go >= 0 ? MON_GO_FD : -1;
  }
  return 0;
}

/* fork with every signal blocked around it, so that no handler of the
 * caller runs in the child before hl_reset_signals. */
static pid_t fork_blocked(void) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  int saved = errno;
  if (pid != 0)
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return pid;
}

/* Waits for the child's report: EOF = it runs; an errno = it failed (and is
 * reaped). Returns PID or -errno. */
static int await_report(pid_t pid, int pipe_r) {
  int child_err = 0;
  ssize_t n;
  do
    n = read(pipe_r, &child_err, sizeof child_err);
  while (n < 0 && errno == EINTR);
  close(pipe_r);
  if (n == (ssize_t)sizeof child_err) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
    return -(child_err ? child_err : EIO);
  }
  return pid;
}

/* Both ways of starting a monitor: EXEC = a fresh exec of the binary (the
 * managed CLI's, multithreaded caller), else hl_monitor_main in the forked
 * child itself (a plain C caller). */
static int start_monitor(const char *exe, const char *bundle, int start_fd,
                         int stderr_fd, int go_fd, int exec) {
  char *argv[] = {(char *)exe, "__monitor", (char *)bundle, NULL};
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return -errno;
  pid_t pid = fork_blocked();
  if (pid == 0) {
    int report = -1;
    close(pipefd[0]);
    int err = monitor_child_setup(pipefd[1], start_fd, stderr_fd, go_fd, exec,
                                  &report);
    if (!err && exec) {
      execv(exe, argv);
      err = errno;
    }
    if (err && exec) {
      (void)!write(report >= 0 ? report : pipefd[1], &err, sizeof err);
      _exit(127);
    }
    if (err) {
      /* Nobody waits for a report here (see below): the caller reads EOF
       * on the start socket and the monitor log's last line. */
      dprintf(2, "monitor setup: %s\n", strerror(err));
      _exit(127);
    }
    _exit(hl_monitor_main(3, argv));
  }
  int fork_errno = errno;
  close(pipefd[1]);
  if (pid < 0) {
    close(pipefd[0]);
    return -fork_errno;
  }
  if (!exec) {
    /* The forked monitor has nothing to exec that could fail: waiting for
     * its setup would only keep the caller from its own work meanwhile. */
    close(pipefd[0]);
    return pid;
  }
  return await_report(pid, pipefd[0]);
}

int hl_spawn_monitor(const char *exe, const char *bundle, int start_fd,
                     int stderr_fd) {
  return start_monitor(exe, bundle, start_fd, stderr_fd, -1, 1);
}

int hl_fork_monitor(const char *exe, const char *bundle, int start_fd,
                    int stderr_fd, int go_fd) {
  return start_monitor(exe, bundle, start_fd, stderr_fd, go_fd, 0);
}
