/* `hivelet __monitor BUNDLE`: one per container, started by the CLI in its own
 * session (CONTRACT.md). It holds the container's stdio, writes its log,
 * reaps it (pid 1 is its child; a subreaper too, for --pid host), records
 * every transition in BUNDLE/status, restarts it by policy and runs health
 * probes. Single-threaded around one poll(); no thread, no large buffer
 * touched needlessly: each monitor should cost well under 2 MB. */
#define _GNU_SOURCE
#include "monitor.h"
#include "hivelet.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define START_FD 3
#define MS 1000000LL
/* Docker's restart manager: 100 ms doubling up to 1 min, back to 100 ms after
 * a run of at least 10 s (runtime.md C12). */
#define BACKOFF_FIRST (100 * MS)
#define BACKOFF_MAX (60000 * MS)
#define BACKOFF_RESET (10000 * MS)
#define STOP_POLL (100 * MS)
/* How long an attached `run --rm` CLI may take to remove the container before
 * the monitor does it: longer than the CLI's 60 s wait for the lock. */
#define REMOVE_WAIT_MS 120000

static struct hl_plan plan;
static const char *bundle;
static char status_path[PATH_MAX], stop_path[PATH_MAX];
static int sig_fd = -1;

static struct {
  const char *state;
  pid_t monitor_pid, pid;
  unsigned long long monitor_start, pid_start;
  char started_at[48], finished_at[48];
  int exit_code, oom_killed;
  long restart_count;
  char error[512];
} st = {.state = "starting"};

/* The running container. */
static pid_t cpid; /* container pid 1, this process's child */
static int crunning;
static int64_t cstart_ns;
static int oom_known;
static long long oom_before;
/* Monitor ends of its stdio: output[MON_STDOUT/STDERR] (with a tty the master
 * is output[MON_STDOUT] and also its stdin). */
static int output[2] = {-1, -1};
static int pty_master = -1;
/* With a tty: the monitor's end of the console socket (struct hl_console)
 * during a start. */
static int console_sock = -1;
static struct winsize winsize = {.ws_row = 24, .ws_col = 80};

static int restarting;
static int64_t restart_at_ns, backoff_ns;

static char iobuf[MON_IO_BUF];

void mon_logf(const char *fmt, ...) {
  char buf[1024], ts[48];
  hl_now_rfc3339(ts, sizeof ts);
  int n =
      snprintf(buf, sizeof buf, "%s hivelet-monitor[%d]: ", ts, (int)getpid());
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
  va_end(ap);
  n += m < 0 ? 0 : m >= (int)sizeof buf - n - 1 ? (int)sizeof buf - n - 2 : m;
  buf[n++] = '\n';
  hl_write_all(2, buf, (size_t)n);
}

int64_t mon_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mon_on_resize(unsigned rows, unsigned cols) {
  winsize.ws_row = (unsigned short)rows;
  winsize.ws_col = (unsigned short)cols;
  if (pty_master >= 0 && ioctl(pty_master, TIOCSWINSZ, &winsize) < 0)
    mon_logf("ioctl TIOCSWINSZ on the pty: %s", strerror(errno));
}

int hl_monitor_go_fd = -1;

static void set_error(const char *msg) {
  snprintf(st.error, sizeof st.error, "%s", msg);
  for (char *p = st.error; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
}

/* Replaces PATH with temp + rename but no fsync: for states a power loss ends
 * anyway (see write_status). The temp is exchanged with PATH, then unlinked:
 * ext4 (auto_da_alloc) starts writeback of a file renamed over another, 0.3
 * ms on the start path here and a wait for that I/O when the bundle is
 * deleted, which an exchange does not. */
static int write_replace(const char *path, const char *content, size_t len) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return -ENAMETOOLONG;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  int rc = hl_write_all(fd, content, len);
  if (close(fd) < 0 && rc == 0)
    rc = -errno;
  if (rc == 0 &&
      renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
    unlink(tmp); /* the old status; a leftover is overwritten next time */
    return 0;
  }
  if (rc == 0 && rename(tmp, path) < 0) /* no PATH yet, or no exchange */
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
  return rc;
}

/* Only `exited` is made durable (fsync of the file and the directory): it
 * carries the exit code. `starting`, `running` and `restarting` describe a
 * monitor that a power loss kills too; after one, whichever status reached the
 * disk reads as not running once the dead monitor is reconciled, so their
 * fsyncs (on the start path of every container) buy nothing. Neither does the
 * exit of an attached --rm container: the CLI that hears EXIT removes it at
 * once, and the code it needs travels in the frame. */
static void write_status(void) {
  char buf[2048];
  int n = snprintf(buf, sizeof buf,
                   "state=%s\nmonitor_pid=%d\nmonitor_start=%llu\npid=%d\n"
                   "pid_start=%llu\nstarted_at=%s\nfinished_at=%s\n"
                   "exit_code=%d\noom_killed=%d\nrestart_count=%ld\n"
                   "error=%s\n",
                   st.state, (int)st.monitor_pid, st.monitor_start, (int)st.pid,
                   st.pid_start, st.started_at, st.finished_at, st.exit_code,
                   st.oom_killed, st.restart_count, st.error);
  int durable = !strcmp(st.state, "exited") &&
                !(plan.autoremove && plan.attach && mon_ctl_connected());
  int rc = durable ? hl_write_atomic(status_path, buf, (size_t)n)
                   : write_replace(status_path, buf, (size_t)n);
  if (rc < 0)
    mon_logf("write %s: %s", status_path, strerror(-rc));
}

/* The `oom_counter` value (FILE\x1fKEY: the "KEY N" line of FILE). */
static int read_oom_counter(long long *value) {
  char spec[PATH_MAX], buf[4096], *f[2];
  if (!plan.oom_counter || !*plan.oom_counter)
    return -1;
  snprintf(spec, sizeof spec, "%s", plan.oom_counter);
  if (hl_split_fields(spec, f, 2) != 2)
    return -1;
  int fd = open(f[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  size_t klen = strlen(f[1]);
  for (char *line = buf; line && *line; line = strchr(line, '\n')) {
    if (*line == '\n')
      line++;
    if (!strncmp(line, f[1], klen) && line[klen] == ' ') {
      *value = strtoll(line + klen + 1, NULL, 10);
      return 0;
    }
  }
  return -1;
}

static void close_stdio(void) {
  mon_ctl_set_stdin(-1, plan.tty);
  for (int i = 0; i < 2; i++)
    if (output[i] >= 0) {
      close(output[i]);
      output[i] = -1;
    }
  pty_master = -1;
}

static int set_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Makes the container's stdio: FDS[0..2] for the container, the monitor's
 * ends in output[] and STDIN_W. With a tty the pty is made inside the
 * container (its own devpts): here only the console socket its master comes
 * back on (CON.sock = the container's end; console_sock = ours). */
static int make_stdio(int fds[3], int *stdin_w, struct hl_console *con,
                      char *err, size_t errlen) {
  fds[0] = fds[1] = fds[2] = -1;
  *stdin_w = -1;
  if (plan.tty) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
      snprintf(err, errlen, "socketpair for the container's pty: %s",
               strerror(errno));
      return -1;
    }
    console_sock = sv[0];
    con->sock = sv[1];
    con->rows = winsize.ws_row;
    con->cols = winsize.ws_col;
    return 0;
  }
  int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  for (int i = 0; i < 3; i++) {
    if (i == 0 && !plan.open_stdin)
      continue;
    if (pipe2(p[i], O_CLOEXEC) < 0) {
      snprintf(err, errlen, "pipe2 for the container's stdio: %s",
               strerror(errno));
      for (int j = 0; j < i; j++)
        if (p[j][0] >= 0) {
          close(p[j][0]);
          close(p[j][1]);
        }
      return -1;
    }
  }
  fds[0] = p[0][0];
  *stdin_w = p[0][1];
  fds[1] = p[1][1];
  fds[2] = p[2][1];
  output[MON_STDOUT] = p[1][0];
  output[MON_STDERR] = p[2][0];
  set_nonblock(p[1][0]);
  set_nonblock(p[2][0]);
  if (*stdin_w >= 0)
    set_nonblock(*stdin_w);
  return 0;
}

/* Starts the container; returns 0, or 125/126/127 with the reason in MSG. */
/* The pty master the container sent (or -1 with the reason in MSG). Called
 * once the container's end of the socket is closed here: EOF means the
 * container failed before sending it (its own report says why). */
static int receive_master(char *msg, size_t msglen) {
  int m = hl_recv_fd(console_sock);
  close(console_sock);
  console_sock = -1;
  if (m < 0) {
    snprintf(msg, msglen, "receive the container's pty master: %s",
             m == -ENODATA ? "the container sent none" : strerror(-m));
    return -1;
  }
  set_nonblock(m);
  /* A RESIZE may have come while the container was starting. */
  if (ioctl(m, TIOCSWINSZ, &winsize) < 0)
    mon_logf("ioctl TIOCSWINSZ on the pty: %s", strerror(errno));
  output[MON_STDOUT] = pty_master = m;
  return m;
}

static int start_container(char *msg, size_t msglen) {
  int fds[3], stdin_w;
  struct hl_child child;
  struct hl_console con = {.sock = -1};
  char recv_msg[256] = "";
  oom_known = read_oom_counter(&oom_before) == 0;
  if (make_stdio(fds, &stdin_w, &con, msg, msglen) < 0)
    return 125;
  int rc = hl_container_start(&plan, fds[0], fds[1], fds[2], plan.tty,
                              plan.tty ? &con : NULL, &child, msg, msglen);
  /* The container holds its ends now (or never will). */
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0 && (i == 0 || fds[i] != fds[i - 1]))
      close(fds[i]);
  if (con.sock >= 0)
    close(con.sock);
  if (rc == 0 && plan.tty)
    stdin_w = receive_master(recv_msg, sizeof recv_msg);
  else if (console_sock >= 0) {
    close(console_sock);
    console_sock = -1;
  }
  if (rc < 0) {
    if (stdin_w >= 0 && stdin_w != pty_master)
      close(stdin_w);
    close_stdio();
    return 125;
  }
  rc = hl_container_wait_exec(&child, msg, msglen);
  if (rc == 0 && plan.tty && stdin_w < 0) {
    snprintf(msg, msglen, "%s", recv_msg);
    rc = 125;
  }
  if (rc != 0) {
    if (stdin_w >= 0 && stdin_w != pty_master)
      close(stdin_w);
    close_stdio();
    return rc;
  }
  cpid = child.pid;
  crunning = 1;
  cstart_ns = mon_now_ns();
  mon_ctl_set_stdin(stdin_w, plan.tty);
  st.state = "running";
  st.pid = cpid;
  st.pid_start = hl_proc_starttime(cpid);
  hl_now_rfc3339(st.started_at, sizeof st.started_at);
  st.error[0] = '\0';
  write_status();
  mon_health_started(cpid);
  return 0;
}

/* Reads what the container wrote: once per poll round, or (DRAIN) until
 * nothing is left. EOF (EIO on a pty whose slave is closed) ends the stream.
 */
static void relay_output(int stream, int drain) {
  while (output[stream] >= 0) {
    ssize_t n = read(output[stream], iobuf, sizeof iobuf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      break;
    if (n <= 0) {
      if (n < 0 && errno != EIO)
        mon_logf("read the container's %s: %s",
                 stream == MON_STDOUT ? "stdout" : "stderr", strerror(errno));
      mon_log_eof(stream);
      if (output[stream] == pty_master) {
        mon_ctl_set_stdin(-1, 1);
        pty_master = -1;
      }
      close(output[stream]);
      output[stream] = -1;
      break;
    }
    mon_log_output(stream, iobuf, (size_t)n);
    if (plan.attach)
      mon_ctl_send(stream == MON_STDOUT ? MON_FRAME_STDOUT : MON_FRAME_STDERR,
                   iobuf, (size_t)n);
    if (!drain)
      break;
  }
  mon_log_flush();
}

static int stop_requested(void) { return access(stop_path, F_OK) == 0; }

static int should_restart(void) {
  const char *r = plan.restart ? plan.restart : "no";
  if (stop_requested())
    return 0;
  if (!strcmp(r, "always") || !strcmp(r, "unless-stopped"))
    return 1;
  if (!strcmp(r, "on-failure"))
    return st.exit_code != 0 &&
           (plan.restart_max <= 0 || st.restart_count < plan.restart_max);
  return 0;
}

static int record_exists(void) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/container.json", bundle);
  return access(path, F_OK) == 0;
}

/* Deletes what the CLI's removal moved to ROOT/trash (REMOVED's payload): the
 * run has returned by then, and this process exists anyway, where a deleter
 * of the CLI's would cost a fork. Only direct children of ROOT/trash. */
static void empty_trash(void) {
  size_t len;
  const char *p = mon_ctl_removed_paths(&len);
  char paths[8][PATH_MAX];
  const char *list[8];
  size_t n = 0;
  int rejected = !p;
  if (!plan.root || (p && len == 0))
    return; /* nothing named: a managed CLI's REMOVED */
  for (const char *end = p ? p + len : p; p && p < end; p += strlen(p) + 1) {
    if (!*p || strchr(p, '/') || !strcmp(p, ".") || !strcmp(p, "..") ||
        n == sizeof list / sizeof list[0] ||
        snprintf(paths[n], PATH_MAX, "%s/trash/%s", plan.root, p) >= PATH_MAX) {
      mon_logf("REMOVED names \"%s\", not an entry of %s/trash: left to the "
               "next repair",
               p, plan.root);
      rejected = 1;
      continue;
    }
    list[n] = paths[n];
    n++;
  }
  /* The CLI made this process's repair marker before it sent REMOVED;
   * hl_empty_trash drops it only when everything went. */
  if (hl_empty_trash(plan.root, list, n, rejected) < 0)
    mon_logf("emptying %s/trash failed: left to the next repair", plan.root);
}

/* The container will not run again: record it, tell the CLI, remove it for
 * --rm. Does not return. */
static void __attribute__((noreturn)) finish(void) {
  char frame[64];
  st.state = "exited";
  st.pid = 0;
  st.pid_start = 0;
  write_status();
  /* Written before EXIT is sent: whoever hears EXIT reads an exited status. */
  int n = snprintf(frame, sizeof frame, "%d %d", st.exit_code, st.oom_killed);
  mon_ctl_send(MON_FRAME_EXIT, frame, (size_t)n);
  mon_ctl_drain(5000);
  if (plan.autoremove && mon_ctl_connected() && plan.attach &&
      (mon_ctl_wait_removed(REMOVE_WAIT_MS) || !record_exists())) {
    /* The attached CLI removed the container in its own process (it has the
     * store open already: no second hivelet start). Without REMOVED (the CLI
     * was killed, even halfway through its removal) the rm -f below does it:
     * both take the container's lock, and rm -f redoes every step. A record
     * already gone means the CLI was killed after deleting it: what is left
     * is a bundle without a record, which the next command's repair removes.
     */
    mon_ctl_close(0);
    empty_trash();
    _exit(0);
  }
  if (plan.autoremove && plan.exe && plan.root && plan.id) {
    char *const argv[] = {
        (char *)plan.exe, "--root", (char *)plan.root, "rm", "-f",
        (char *)plan.id,  NULL};
    sigset_t none;
    /* The start socket stays open across the exec: the CLI sees its EOF once
     * the container is removed. */
    mon_ctl_close(1);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    execv(plan.exe, argv);
    mon_logf("execv %s --root %s rm -f %s: %s", plan.exe, plan.root, plan.id,
             strerror(errno));
    _exit(1);
  }
  mon_ctl_close(0);
  _exit(0);
}

static void container_exited(int wstatus) {
  long long oom_after;
  int64_t now = mon_now_ns();
  crunning = 0;
  mon_health_stopped();
  /* With a pid namespace everything in it is gone by now, so this reads to
   * EOF; without one a leftover writer must not keep the monitor here. */
  for (int i = 0; i < 2; i++)
    if (output[i] >= 0) {
      relay_output(i, 1);
      if (output[i] >= 0)
        mon_log_eof(i);
    }
  close_stdio();

  int sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
  st.exit_code = sig ? 128 + sig : WEXITSTATUS(wstatus);
  st.oom_killed = sig == SIGKILL && oom_known &&
                  read_oom_counter(&oom_after) == 0 && oom_after > oom_before;
  st.pid = 0;
  st.pid_start = 0;
  hl_now_rfc3339(st.finished_at, sizeof st.finished_at);
  mon_logf("container pid %d exited with %d%s", (int)cpid, st.exit_code,
           st.oom_killed ? " (OOM killed)" : "");

  if (!should_restart())
    finish();
  if (now - cstart_ns >= BACKOFF_RESET)
    backoff_ns = 0;
  backoff_ns = backoff_ns == 0 ? BACKOFF_FIRST : backoff_ns * 2;
  if (backoff_ns > BACKOFF_MAX)
    backoff_ns = BACKOFF_MAX;
  st.restart_count++;
  st.state = "restarting";
  write_status();
  restarting = 1;
  restart_at_ns = now + backoff_ns;
}

static void reap(void) {
  struct signalfd_siginfo si;
  while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
    ;
  for (;;) {
    int ws;
    pid_t p = waitpid(-1, &ws, WNOHANG);
    if (p <= 0)
      break;
    if (p == cpid && crunning)
      container_exited(ws);
    else
      mon_health_reaped(p, ws);
  }
}

static void restart_if_due(void) {
  char msg[512];
  if (stop_requested()) {
    mon_logf("stop requested during the restart backoff");
    finish();
  }
  if (mon_now_ns() < restart_at_ns)
    return;
  restarting = 0;
  int rc = start_container(msg, sizeof msg);
  if (rc != 0) {
    mon_logf("restart failed: %s", msg);
    st.exit_code = rc;
    st.oom_killed = 0;
    hl_now_rfc3339(st.finished_at, sizeof st.finished_at);
    set_error(msg);
    finish();
  }
}

/* SIGPIPE, SIGINT and SIGHUP must not end the monitor. A handler that does
 * nothing rather than SIG_IGN: exec resets handled signals to their default,
 * so the container and the probes do not inherit ignored signals. */
static void ignore_signal(int sig) { (void)sig; }

static int setup_process(void) {
  struct sigaction sa = {.sa_handler = ignore_signal, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  /* Everything else is at its default: whoever started this process reset
   * every disposition first (spawn.c), so a container start or a probe
   * resets only these. */
  sigset_t mine;
  sigemptyset(&mine);
  sigaddset(&mine, SIGPIPE);
  sigaddset(&mine, SIGINT);
  sigaddset(&mine, SIGHUP);
  hl_signals_handled(&mine);
  /* Without a pid namespace the container's orphans come back here rather
   * than to the host's init. qemu-user 7.2 answers EINVAL: they go to init
   * there, pid 1 itself is this process's child either way. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    mon_logf("prctl PR_SET_CHILD_SUBREAPER: %s; orphans of a container "
             "without a pid namespace go to init",
             strerror(errno));
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sig_fd < 0) {
    mon_logf("signalfd SIGCHLD: %s", strerror(errno));
    return -1;
  }
  return 0;
}

static void loop(void) {
  for (;;) {
    struct pollfd fds[8];
    int n = 0, out_at[2] = {-1, -1};
    fds[n++] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
    for (int i = 0; i < 2; i++)
      if (output[i] >= 0) {
        out_at[i] = n;
        fds[n++] = (struct pollfd){.fd = output[i], .events = POLLIN};
      }
    int ctl_at = n;
    n += mon_ctl_pollfds(fds + n);
    int health_at = n;
    n += mon_health_pollfds(fds + n);

    int64_t now = mon_now_ns(), wait = mon_health_next_ns(now);
    if (restarting) {
      int64_t r = restart_at_ns - now;
      if (r > STOP_POLL)
        r = STOP_POLL;
      if (r < 0)
        r = 0;
      if (wait < 0 || r < wait)
        wait = r;
    }
    int timeout = wait < 0 ? -1 : (int)((wait + MS - 1) / MS);
    if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
      mon_logf("poll: %s", strerror(errno));
      sleep(1);
      continue;
    }
    for (int i = 0; i < 2; i++)
      if (out_at[i] >= 0 && fds[out_at[i]].revents)
        relay_output(i, 0);
    mon_ctl_handle(fds + ctl_at, health_at - ctl_at);
    mon_health_handle(fds + health_at, n - health_at);
    if (fds[0].revents)
      reap();
    mon_health_tick(mon_now_ns());
    if (restarting)
      restart_if_due();
  }
}

int hl_monitor_main(int argc, char **argv) {
  char err[512], frame[600];
  if (argc < 3) {
    fputs("usage: hivelet __monitor BUNDLE\n", stderr);
    return 125;
  }
  bundle = argv[2];
  st.monitor_pid = getpid();
  st.monitor_start = hl_proc_starttime(st.monitor_pid);
  snprintf(status_path, sizeof status_path, "%s/status", bundle);
  snprintf(stop_path, sizeof stop_path, "%s/stop", bundle);
  char plan_path[PATH_MAX];
  snprintf(plan_path, sizeof plan_path, "%s/plan", bundle);

  int rc = setup_process();
  if (rc == 0 && hl_plan_load(plan_path, &plan, err, sizeof err) < 0)
    rc = -1;
  else if (rc < 0)
    snprintf(err, sizeof err, "monitor setup failed (see monitor.log)");
  mon_ctl_init(START_FD, rc == 0 && plan.attach);
  if (rc < 0) {
    mon_logf("%s", err);
    st.state = "exited";
    st.exit_code = 125;
    hl_now_rfc3339(st.finished_at, sizeof st.finished_at);
    set_error(err);
    write_status();
    int n = snprintf(frame, sizeof frame, "125 %s", st.error);
    mon_ctl_send(MON_FRAME_ERROR, frame, (size_t)n);
    mon_ctl_drain(5000);
    return 125;
  }
  write_status(); /* starting */
  mon_log_open(&plan);
  if (hl_monitor_go_fd >= 0) {
    char go;
    ssize_t n;
    while ((n = read(hl_monitor_go_fd, &go, 1)) < 0 && errno == EINTR)
      ;
    close(hl_monitor_go_fd);
    hl_monitor_go_fd = -1;
    if (n != 1) {
      /* The CLI removes the container once this process is gone. */
      mon_logf("no go from the CLI: the container is not started");
      mon_ctl_close(0);
      return 0;
    }
  }
  /* After the go: it makes the run dir, which the CLI's steps make too. */
  mon_health_init(&plan, bundle);

  rc = start_container(err, sizeof err);
  if (rc != 0) {
    mon_logf("start failed: %s", err);
    st.state = "exited";
    st.exit_code = rc;
    hl_now_rfc3339(st.finished_at, sizeof st.finished_at);
    set_error(err);
    write_status();
    int n = snprintf(frame, sizeof frame, "%d %s", rc, st.error);
    mon_ctl_send(MON_FRAME_ERROR, frame, (size_t)n);
    mon_ctl_drain(5000);
    return 0;
  }
  int n = snprintf(frame, sizeof frame, "%d", (int)cpid);
  mon_ctl_send(MON_FRAME_STARTED, frame, (size_t)n);
  loop();
  return 0;
}
