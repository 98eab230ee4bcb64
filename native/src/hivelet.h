/* Entry points and the seams between the parts of native/ (see CONTRACT.md). */
#ifndef HIVELET_H
#define HIVELET_H

#include "plan.h"

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* main.c dispatches here: `hivelet __monitor BUNDLE`, `hivelet __exec PLAN
 * [PID]` and `hivelet __run PLAN` (foreground, no monitor: debugging and the
 * benchmark). */
int hl_monitor_main(int argc, char **argv);
int hl_exec_main(int argc, char **argv);
int hl_run_main(int argc, char **argv);

/* child.c: a started container process. */
struct hl_child {
  pid_t pid;      /* the container's pid 1, as the host sees it: signal it */
  pid_t wait_pid; /* the process to reap: pid, or the relay (see below) */
  int error_fd; /* read end: EOF = exec'd; otherwise one "CODE MESSAGE" line */
};

/* A pty allocated inside the container (plan `tty` under the monitor): once
 * the container's /dev is mounted, its pid 1 opens the container's /dev/ptmx,
 * opens the slave, binds it onto /dev/console (with a mount namespace), sets
 * the window size ROWS x COLS (0 = leave it), makes it stdio and sends the
 * MASTER over SOCK (one end of a unix socketpair: one byte with SCM_RIGHTS,
 * hl_recv_fd). The user process makes the slave its controlling terminal. */
struct hl_console {
  int sock;
  unsigned short rows, cols;
};

/* Starts the container described by PLAN. stdio fds are dup'ed onto 0/1/2 in
 * the container (-1 = /dev/null); with make_ctty the container's pid 1 calls
 * setsid() and makes stdin its controlling terminal (the pty slave). With
 * CONSOLE (may be NULL) the stdio is a pty made inside the container instead
 * (see struct hl_console) and is always the controlling terminal. Forks an
 * intermediate process that joins the cgroups, unshares the namespaces and
 * forks pid 1, then exits: a caller that is a child subreaper
 * (PR_SET_CHILD_SUBREAPER) reaps pid 1 itself. When the caller could not
 * become one (qemu-user 7.2 answers EINVAL), the intermediate stays as a
 * relay instead: it waits for pid 1 and exits with its status (dying of the
 * same signal), and wait_pid names it. Returns 0, or -1 with a one-line
 * reason in err. Uses no malloc between fork and exec. */
int hl_container_start(const struct hl_plan *plan, int stdin_fd, int stdout_fd,
                       int stderr_fd, int make_ctty,
                       const struct hl_console *console, struct hl_child *out,
                       char *err, size_t errlen);

/* Waits until the container process exec'd (returns 0) or failed before exec
 * (returns 125, 126 or 127 and the reason in msg). Closes error_fd. */
int hl_container_wait_exec(struct hl_child *child, char *msg, size_t msglen);

/* spawn.c, called from managed code (LibraryImport "libhivelet"): starts
 * `EXE __monitor BUNDLE` in its own session with fd 3 = start_fd, stdin and
 * stdout on /dev/null and stderr on stderr_fd. Returns the pid or -errno. */
int hl_spawn_monitor(const char *exe, const char *bundle, int start_fd,
                     int stderr_fd);

/* run.c, also used by exec.c: the signals `__run` and `__exec` forward to
 * their child, plus SIGCHLD; the caller blocks them. */
void hl_forward_set(sigset_t *set);
/* Takes the blocked SET with sigwaitinfo, forwards all but SIGCHLD to CHILD,
 * reaps every child and returns CHILD's exit code (128+N after signal N). */
int hl_wait_forwarding(pid_t child, pid_t reap, const sigset_t *set);

/* spawn.c, also used by the child path: marks every fd >= FIRST close-on-exec
 * (close_range, or a loop where the kernel or qemu-user lacks it). */
void hl_cloexec_from(int first);
/* Every handler back to SIG_DFL and an empty signal mask (after fork). */
void hl_reset_signals(void);

/* util.c */
int hl_write_all(int fd, const void *buf, size_t len);
/* Sends FD over the unix socket SOCK (one byte with SCM_RIGHTS; no
 * allocation, usable after fork). Returns 0 or -errno. */
int hl_send_fd(int sock, int fd);
/* Receives one fd sent by hl_send_fd (close-on-exec). Returns it, -ENODATA
 * when the peer closed without sending one, or -errno. */
int hl_recv_fd(int sock);
/* Writes CONTENT to PATH (O_WRONLY, no create, no truncate): cgroup and proc
 * files. Returns 0 or -errno. */
int hl_write_file(const char *path, const char *content);
/* Temp file + fsync + rename + directory fsync. Returns 0 or -errno. */
int hl_write_atomic(const char *path, const char *content, size_t len);
/* Field 22 of /proc/PID/stat, or 0 when the process is gone. */
unsigned long long hl_proc_starttime(pid_t pid);
/* Current UTC time as RFC 3339 with nanoseconds into buf (>= 40 bytes). */
void hl_now_rfc3339(char *buf, size_t len);

#endif
