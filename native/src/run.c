/* hivelet __run PLANFILE: runs a container in the foreground without a
 * monitor, with the caller's stdio, and exits with the container's code
 * (125/126/127 with the reason on stderr when the start failed). For
 * debugging, the native end-to-end tests and the benchmark against runc.
 *
 * With tty=1 and a terminal on stdin the container's first process makes it
 * its controlling terminal, unless the terminal already is ours (the usual
 * interactive case): the kernel refuses to move a controlling terminal
 * between sessions, so the container then simply shares ours. */
#define _GNU_SOURCE
#include "hivelet.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const int forwarded[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
                                SIGUSR1, SIGUSR2, SIGWINCH};

int hl_wait_forwarding(pid_t child, pid_t reap, const sigset_t *set) {
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(set, &si);
    if (sig < 0)
      continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t pid;
    /* As a subreaper we also inherit the container's orphans: reap all. */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
      if (pid == reap)
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                   : WEXITSTATUS(status);
    if (pid < 0 && errno == ECHILD)
      return 125;
  }
}

void hl_forward_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset(set, forwarded[i]);
  sigaddset(set, SIGCHLD);
}

int hl_run_main(int argc, char **argv) {
  if (argc != 3) {
    fputs("usage: hivelet __run PLANFILE\n", stderr);
    return 125;
  }
  static struct hl_plan plan_storage;
  struct hl_plan *plan = &plan_storage;
  char err[1024];
  if (hl_plan_load(argv[2], plan, err, sizeof err) < 0) {
    fprintf(stderr, "hivelet: %s\n", err);
    return 125;
  }
  /* Orphans of a container without a pid namespace come back here (pid 1 is
   * our child anyway). qemu-user (7.2) does not emulate it (EINVAL). */
  (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  sigset_t set;
  hl_forward_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);

  int make_ctty = plan->tty && isatty(0) && tcgetsid(0) != getsid(0);
  struct hl_child child;
  if (hl_container_start(plan, 0, 1, 2, make_ctty, NULL, &child, err,
                         sizeof err) < 0) {
    fprintf(stderr, "hivelet: %s\n", err);
    return 125;
  }
  int code = hl_container_wait_exec(&child, err, sizeof err);
  if (code) {
    fprintf(stderr, "hivelet: %s\n", err);
    while (waitpid(child.pid, NULL, 0) < 0 && errno == EINTR)
      ;
    return code;
  }
  return hl_wait_forwarding(child.pid, child.pid, &set);
}
