/* --health-cmd probes: `exe __exec BUNDLE/exec.plan PID` every interval while
 * the container runs, as Docker does (daemon/health.go): output capped at 4096
 * bytes, a probe past its timeout is killed and fails, failures within the
 * start period do not count, `retries` consecutive failures = unhealthy, the
 * last 5 results are kept. The state goes to run_dir/health.json (a tmpfs):
 * the `status` file is never rewritten for a probe, so an SD card does not
 * wear out. */
#define _GNU_SOURCE
#include "hivelet.h"
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_CAP 4096 /* Docker's maxOutputLen */
#define KEEP_RESULTS 5  /* Docker's maxLogEntries */

struct result {
  char start[48], end[48];
  int exit_code;
  size_t out_len;
  char output[OUTPUT_CAP];
};

static int enabled;
static int64_t interval_ns, timeout_ns, start_period_ns;
static long retries;
static const char *exe;
static char exec_plan[PATH_MAX], health_path[PATH_MAX];

static pid_t container_pid;
static int running;
static int64_t started_ns, next_probe_ns;
static const char *status = "starting";
static long failing_streak;

static struct {
  pid_t pid; /* 0 = none */
  int fd;    /* output pipe, -1 when closed */
  int timed_out, discard;
  int64_t deadline_ns;
  struct result r;
} probe = {.fd = -1};

static struct result results[KEEP_RESULTS];
static size_t result_count, result_next;

void mon_health_init(const struct hl_plan *plan, const char *bundle) {
  enabled = plan->has_health;
  if (!enabled)
    return;
  interval_ns = plan->health_interval_ns > 0 ? plan->health_interval_ns
                                             : 30000000000LL; /* 30 s */
  timeout_ns =
      plan->health_timeout_ns > 0 ? plan->health_timeout_ns : 30000000000LL;
  start_period_ns =
      plan->health_start_period_ns > 0 ? plan->health_start_period_ns : 0;
  retries = plan->health_retries > 0 ? plan->health_retries : 3;
  exe = plan->exe;
  snprintf(exec_plan, sizeof exec_plan, "%s/exec.plan", bundle);
  const char *dir = plan->run_dir && *plan->run_dir ? plan->run_dir : bundle;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    mon_logf("mkdir %s: %s", dir, strerror(errno));
  snprintf(health_path, sizeof health_path, "%s/health.json", dir);
}

int mon_health_enabled(void) { return enabled; }

/* Go's time.Duration.String(), as in Docker's timeout message ("30s",
 * "1.5s", "500ms", "1m30s"). */
static void go_duration(int64_t ns, char *buf, size_t len) {
  static const struct {
    int64_t unit;
    int digits;
    const char *suffix;
  } small[] = {{1000, 3, "\xc2\xb5s"}, {1000000, 6, "ms"}};
  char frac[16] = "";
  if (ns < 1000) {
    snprintf(buf, len, "%lldns", (long long)ns);
    return;
  }
  for (int i = 0; i < 2; i++)
    if (ns < small[i].unit * 1000) {
      int64_t rem = ns % small[i].unit;
      if (rem) {
        snprintf(frac, sizeof frac, ".%0*lld", small[i].digits, (long long)rem);
        for (size_t e = strlen(frac); frac[e - 1] == '0'; e--)
          frac[e - 1] = '\0';
      }
      snprintf(buf, len, "%lld%s%s", (long long)(ns / small[i].unit), frac,
               small[i].suffix);
      return;
    }
  long long h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
  int64_t sec_ns = ns % 60000000000LL;
  if (sec_ns % 1000000000) {
    snprintf(frac, sizeof frac, ".%09lld", (long long)(sec_ns % 1000000000));
    for (size_t e = strlen(frac); frac[e - 1] == '0'; e--)
      frac[e - 1] = '\0';
  }
  char hm[48] = "";
  if (h)
    snprintf(hm, sizeof hm, "%lldh%lldm", h, m);
  else if (m)
    snprintf(hm, sizeof hm, "%lldm", m);
  snprintf(buf, len, "%s%lld%ss", hm, (long long)(sec_ns / 1000000000), frac);
}

static void write_health(void) {
  size_t size = 96;
  for (size_t i = 0; i < result_count; i++)
    size += 128 + mon_json_escape(NULL, results[i].output, results[i].out_len);
  char *buf = malloc(size), *p;
  if (!buf) {
    mon_logf("write %s: out of memory", health_path);
    return;
  }
  p = buf + sprintf(buf, "{\"Status\":\"%s\",\"FailingStreak\":%ld,\"Log\":[",
                    status, failing_streak);
  /* Oldest first, as Docker lists them. */
  size_t first = (result_next + KEEP_RESULTS - result_count) % KEEP_RESULTS;
  for (size_t i = 0; i < result_count; i++) {
    const struct result *r = &results[(first + i) % KEEP_RESULTS];
    p += sprintf(p,
                 "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,"
                 "\"Output\":\"",
                 i ? "," : "", r->start, r->end, r->exit_code);
    p += mon_json_escape(p, r->output, r->out_len);
    p += sprintf(p, "\"}");
  }
  p += sprintf(p, "]}\n");
  int rc = hl_write_atomic(health_path, buf, (size_t)(p - buf));
  if (rc < 0)
    mon_logf("write %s: %s", health_path, strerror(-rc));
  free(buf);
}

void mon_health_started(pid_t pid) {
  if (!enabled)
    return;
  container_pid = pid;
  running = 1;
  started_ns = mon_now_ns();
  next_probe_ns = started_ns + interval_ns;
  status = "starting";
  failing_streak = 0;
  write_health();
}

void mon_health_stopped(void) {
  if (!enabled)
    return;
  running = 0;
  if (probe.pid > 0) {
    kill(-probe.pid, SIGKILL);
    probe.discard = 1;
  }
}

static void start_probe(int64_t now) {
  char pid_arg[24];
  int fds[2];
  snprintf(pid_arg, sizeof pid_arg, "%d", (int)container_pid);
  char *const argv[] = {(char *)exe, "__exec", exec_plan, pid_arg, NULL};
  next_probe_ns = now + interval_ns; /* retried then if the fork fails */
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || pipe2(fds, O_CLOEXEC) < 0) {
    mon_logf("health probe: open /dev/null or pipe2: %s", strerror(errno));
    if (null_fd >= 0)
      close(null_fd);
    return;
  }
  probe.r.end[0] = '\0';
  probe.r.exit_code = 0;
  probe.r.out_len = 0;
  hl_now_rfc3339(probe.r.start, sizeof probe.r.start);
  pid_t pid = fork();
  if (pid == 0) {
    /* Own process group: a timeout kills __exec and what it started in the
     * container together. The monitor blocks SIGCHLD for its signalfd. */
    hl_reset_signals();
    setpgid(0, 0);
    if (dup2(null_fd, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
      _exit(125);
    execv(exe, argv);
    dprintf(2, "health probe: execv %s: %s\n", exe, strerror(errno));
    _exit(127);
  }
  int err = errno;
  close(null_fd);
  close(fds[1]);
  if (pid < 0) {
    mon_logf("health probe: fork: %s", strerror(err));
    close(fds[0]);
    return;
  }
  setpgid(pid, pid);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  probe.pid = pid;
  probe.fd = fds[0];
  probe.timed_out = 0;
  probe.discard = 0;
  probe.deadline_ns = now + timeout_ns;
}

int64_t mon_health_next_ns(int64_t now) {
  if (!enabled || (!running && probe.pid == 0))
    return -1;
  int64_t at;
  if (probe.pid > 0)
    at = probe.timed_out || probe.discard ? now + 100000000 : probe.deadline_ns;
  else
    at = next_probe_ns;
  return at > now ? at - now : 0;
}

void mon_health_tick(int64_t now) {
  if (!enabled)
    return;
  if (probe.pid > 0) {
    if (!probe.timed_out && now >= probe.deadline_ns) {
      kill(-probe.pid, SIGKILL);
      probe.timed_out = 1;
    }
    return;
  }
  if (running && now >= next_probe_ns)
    start_probe(now);
}

int mon_health_pollfds(struct pollfd *fds) {
  if (probe.fd < 0)
    return 0;
  fds[0] = (struct pollfd){.fd = probe.fd, .events = POLLIN};
  return 1;
}

static void read_output(void) {
  char chunk[512];
  while (probe.fd >= 0) {
    ssize_t n = read(probe.fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      close(probe.fd);
      probe.fd = -1;
      return;
    }
    size_t room = OUTPUT_CAP - probe.r.out_len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(probe.r.output + probe.r.out_len, chunk, take);
    probe.r.out_len += take;
  }
}

void mon_health_handle(const struct pollfd *fds, int n) {
  if (n > 0 && fds[0].fd == probe.fd && fds[0].revents)
    read_output();
}

int mon_health_reaped(pid_t pid, int wstatus) {
  if (!enabled || pid != probe.pid || pid <= 0)
    return 0;
  read_output();
  if (probe.fd >= 0) {
    /* Something in the container still holds the pipe: stop listening. */
    close(probe.fd);
    probe.fd = -1;
  }
  probe.pid = 0;
  if (probe.discard || !running)
    return 1;

  int64_t now = mon_now_ns();
  struct result *r = &probe.r;
  hl_now_rfc3339(r->end, sizeof r->end);
  if (probe.timed_out) {
    char d[32];
    go_duration(timeout_ns, d, sizeof d);
    r->exit_code = -1;
    r->out_len = (size_t)snprintf(r->output, sizeof r->output,
                                  "Health check exceeded timeout (%s)", d);
  } else if (WIFEXITED(wstatus)) {
    r->exit_code = WEXITSTATUS(wstatus);
  } else {
    r->exit_code = 128 + WTERMSIG(wstatus);
  }

  if (r->exit_code == 0) {
    failing_streak = 0;
    status = "healthy";
  } else if (now - started_ns >= start_period_ns) {
    /* A failure within the start period is logged but does not count. */
    if (++failing_streak >= retries)
      status = "unhealthy";
  }
  results[result_next] = *r;
  result_next = (result_next + 1) % KEEP_RESULTS;
  if (result_count < KEEP_RESULTS)
    result_count++;
  next_probe_ns = now + interval_ns;
  write_health();
  return 1;
}
