/* The process part of the child path, shared by a container's first process
 * (child.c) and `__exec` (exec.c): controlling tty, working directory, the
 * PATH lookup, the user and capability switch, seccomp, execve.
 *
 * The security sequence follows runc's order: drop the bounding set; load
 * seccomp now when no_new_privs is off (loading needs CAP_SYS_ADMIN then);
 * keep capabilities across the uid change; groups, gid, uid; set the
 * effective/permitted/inheritable sets; raise ambient ones; with
 * no_new_privs set it and load seccomp last, so that the filter sees only
 * execve. The executable is resolved before seccomp, so a profile that
 * refuses stat cannot turn "not found" into a confusing error.
 *
 * Docker derives its exit codes 126/127 from the runtime's message
 * (moby daemon/errors.go): the messages keep its substrings "executable file
 * not found", "no such file or directory", "permission denied". */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH                                                           \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_GROUPS 256

/* Prepared before fork (hl_child_prepare). */
static char *g_argv[HL_MAX_LIST + 1];
static char *g_envp[HL_MAX_LIST + 1];
static const char *g_path;
static struct sock_filter g_filter[BPF_MAXINSNS];
static unsigned short g_filter_len;
static int g_last_cap = 63;

_Noreturn void hl_child_fail(int errfd, int code, const char *fmt, ...) {
  char buf[1024];
  int n = snprintf(buf, sizeof buf, "%d ", code);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof buf - 1)
    len = sizeof buf - 1;
  /* One line: the caller shows it as is. */
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\n')
      buf[i] = ' ';
  hl_write_all(errfd, buf, len);
  _exit(code);
}

int hl_child_prepare(const struct hl_plan *plan, char *err, size_t errlen) {
  if (plan->arg.count == 0) {
    snprintf(err, errlen, "plan: no command (`arg`)");
    return -1;
  }
  for (size_t i = 0; i < plan->arg.count; i++)
    g_argv[i] = (char *)plan->arg.items[i];
  g_argv[plan->arg.count] = NULL;
  g_path = DEFAULT_PATH;
  for (size_t i = 0; i < plan->env.count; i++) {
    g_envp[i] = (char *)plan->env.items[i];
    if (!strncmp(g_envp[i], "PATH=", 5))
      g_path = g_envp[i] + 5;
  }
  g_envp[plan->env.count] = NULL;

  /* Capabilities above the kernel's last one cannot be dropped (EINVAL); any
   * other failure to drop one is an error. */
  int capfd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (capfd >= 0) {
    char buf[16];
    ssize_t n = read(capfd, buf, sizeof buf - 1);
    close(capfd);
    if (n > 0) {
      buf[n] = '\0';
      int last = atoi(buf);
      if (last > 0 && last < 64)
        g_last_cap = last;
    }
  }

  g_filter_len = 0;
  if (!plan->seccomp)
    return 0;
  int fd = open(plan->seccomp, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "open seccomp filter \"%s\": %s", plan->seccomp,
             strerror(errno));
    return -1;
  }
  size_t done = 0;
  char *buf = (char *)g_filter;
  for (;;) {
    /* One byte of room past the limit tells "too large" from "exactly full". */
    char extra;
    ssize_t n = done < sizeof g_filter
                    ? read(fd, buf + done, sizeof g_filter - done)
                    : read(fd, &extra, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(err, errlen, "read seccomp filter \"%s\": %s", plan->seccomp,
               strerror(errno));
      close(fd);
      return -1;
    }
    if (n == 0)
      break;
    if (done >= sizeof g_filter) {
      snprintf(err, errlen, "seccomp filter \"%s\": more than %d instructions",
               plan->seccomp, BPF_MAXINSNS);
      close(fd);
      return -1;
    }
    done += (size_t)n;
  }
  close(fd);
  if (done == 0 || done % sizeof(struct sock_filter)) {
    snprintf(err, errlen,
             "seccomp filter \"%s\": %zu bytes is not a whole number of "
             "8-byte instructions",
             plan->seccomp, done);
    return -1;
  }
  g_filter_len = (unsigned short)(done / sizeof(struct sock_filter));
  return 0;
}

static void load_seccomp(int errfd) {
  struct sock_fprog prog = {.len = g_filter_len, .filter = g_filter};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
    return;
  if (errno == ENOSYS &&
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
    return;
  hl_child_fail(errfd, 125, "load seccomp filter (%u instructions): %s",
                g_filter_len, strerror(errno));
}

/* Resolves argv[0] like Go's exec.LookPath in runc: a name with a slash is
 * used as is, otherwise the container's PATH is searched. */
static void resolve(int errfd, const char *name, char *out, size_t outlen) {
  struct stat st;
  if (strchr(name, '/')) {
    if (stat(name, &st) < 0)
      hl_child_fail(errfd, errno == EACCES ? 126 : 127,
                    "exec: \"%s\": stat %s: %s", name, name,
                    errno == ENOENT ? "no such file or directory"
                                    : strerror(errno));
    if (S_ISDIR(st.st_mode))
      hl_child_fail(errfd, 126,
                    "exec: \"%s\": is a directory: permission "
                    "denied",
                    name);
    if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
      hl_child_fail(errfd, 126, "exec: \"%s\": permission denied", name);
    if (snprintf(out, outlen, "%s", name) >= (int)outlen)
      hl_child_fail(errfd, 127, "exec: \"%s\": file name too long", name);
    return;
  }
  if (!*name)
    hl_child_fail(errfd, 127, "exec: \"\": executable file not found in $PATH");
  for (const char *dir = g_path;;) {
    size_t len = strcspn(dir, ":");
    /* An empty PATH entry means the working directory. */
    int n = len ? snprintf(out, outlen, "%.*s/%s", (int)len, dir, name)
                : snprintf(out, outlen, "./%s", name);
    if (n < (int)outlen && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
        (st.st_mode & 0111))
      return;
    if (!dir[len])
      break;
    dir += len + 1;
  }
  hl_child_fail(errfd, 127, "exec: \"%s\": executable file not found in $PATH",
                name);
}

static void set_user(int errfd, const struct hl_plan *plan) {
  gid_t groups[MAX_GROUPS];
  size_t n = 0;
  for (const char *p = plan->groups ? plan->groups : ""; *p;) {
    char *end;
    errno = 0;
    unsigned long g = strtoul(p, &end, 10);
    if (errno || end == p || (*end && *end != ','))
      hl_child_fail(errfd, 125, "bad supplementary group list \"%s\"",
                    plan->groups);
    if (n == MAX_GROUPS)
      hl_child_fail(errfd, 125, "more than %d supplementary groups",
                    MAX_GROUPS);
    groups[n++] = (gid_t)g;
    p = *end ? end + 1 : end;
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    hl_child_fail(errfd, 125, "prctl PR_SET_KEEPCAPS: %s", strerror(errno));
  if (setgroups(n, groups) < 0)
    hl_child_fail(errfd, 125, "setgroups \"%s\": %s",
                  plan->groups ? plan->groups : "", strerror(errno));
  if (setresgid(plan->gid, plan->gid, plan->gid) < 0)
    hl_child_fail(errfd, 125, "setresgid %u: %s", plan->gid, strerror(errno));
  if (setresuid(plan->uid, plan->uid, plan->uid) < 0)
    hl_child_fail(errfd, 125, "setresuid %u: %s", plan->uid, strerror(errno));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    hl_child_fail(errfd, 125, "prctl PR_SET_KEEPCAPS: %s", strerror(errno));
}

static void set_caps(int errfd, const struct hl_plan *plan, int exec_follows) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  uint64_t effective = plan->cap_effective, permitted = plan->cap_permitted;
  /* A process that stays (the tiny init) gets the sets an execve would
   * leave it: for a user other than root, a program without file
   * capabilities keeps only the ambient ones. */
  if (!exec_follows && plan->has_user && plan->uid != 0)
    effective = permitted = plan->cap_ambient;
  data[0].effective = (uint32_t)effective;
  data[1].effective = (uint32_t)(effective >> 32);
  data[0].permitted = (uint32_t)permitted;
  data[1].permitted = (uint32_t)(permitted >> 32);
  data[0].inheritable = (uint32_t)plan->cap_inheritable;
  data[1].inheritable = (uint32_t)(plan->cap_inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0)
    hl_child_fail(errfd, 125, "capset (effective %llx, permitted %llx): %s",
                  (unsigned long long)effective, (unsigned long long)permitted,
                  strerror(errno));
  for (int cap = 0; cap < 64; cap++)
    if ((plan->cap_ambient >> cap) & 1)
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        hl_child_fail(errfd, 125, "raise ambient capability %d: %s", cap,
                      strerror(errno));
}

void hl_child_set_title(const char *name) {
  /* Where the kernel put the command line: arg_start and arg_end. */
  unsigned long start = (unsigned long)hl_proc_stat_field(0, 48);
  unsigned long end = (unsigned long)hl_proc_stat_field(0, 49);
  if (!start || end <= start)
    return;
  char *area = (char *)start;
  size_t len = end - start, at = 0;
  memset(area, 0, len);
  const char *parts[3] = {name, "--", NULL};
  for (size_t i = 0; at + 1 < len; i++) {
    const char *s = i < 2 ? parts[i] : g_argv[i - 2];
    if (!s)
      break;
    size_t k = strlen(s);
    if (k > len - 1 - at)
      k = len - 1 - at;
    memcpy(area + at, s, k);
    at += k + 1; /* the NUL is there already */
  }
  prctl(PR_SET_NAME, name, 0, 0, 0);
}

void hl_child_restrict(const struct hl_plan *plan, int errfd,
                       int exec_follows) {
  if (plan->has_caps)
    /* Up to the kernel's last capability when known: a drop beyond it is
     * EINVAL, one wasted system call per missing capability. */
    for (int cap = 0; cap <= g_last_cap; cap++)
      if (!((plan->cap_bounding >> cap) & 1) &&
          prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        hl_child_fail(errfd, 125,
                      "drop capability %d from the bounding set: "
                      "%s",
                      cap, strerror(errno));
  if (g_filter_len && !plan->no_new_privs)
    load_seccomp(errfd);
  if (plan->has_user)
    set_user(errfd, plan);
  if (plan->has_caps)
    set_caps(errfd, plan, exec_follows);
  if (plan->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    hl_child_fail(errfd, 125, "prctl PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  if (g_filter_len && plan->no_new_privs)
    load_seccomp(errfd);
}

_Noreturn void hl_child_exec(const struct hl_plan *plan, int errfd,
                             int make_ctty) {
  if (make_ctty) {
    if (setsid() < 0)
      hl_child_fail(errfd, 125, "setsid: %s", strerror(errno));
    if (ioctl(0, TIOCSCTTY, 0) < 0)
      hl_child_fail(errfd, 125, "make the terminal controlling (TIOCSCTTY): %s",
                    strerror(errno));
  }
  if (plan->cwd && chdir(plan->cwd) < 0) {
    /* Docker creates a missing working directory (as root, before the user
     * switch). */
    if (errno != ENOENT || hl_mkdir_p(plan->cwd, 0755) < 0 ||
        chdir(plan->cwd) < 0)
      hl_child_fail(errfd, 125, "chdir to cwd \"%s\": %s", plan->cwd,
                    strerror(errno));
  }
  char path[PATH_MAX];
  resolve(errfd, g_argv[0], path, sizeof path);
  hl_child_restrict(plan, errfd, 1);

  execve(path, g_argv, g_envp);
  int e = errno;
  switch (e) {
  case ENOEXEC:
    hl_child_fail(errfd, 126, "exec: \"%s\": exec format error", g_argv[0]);
  case ENOENT:
  case ENOTDIR:
    /* The file exists (resolve checked): a missing interpreter or loader. */
    hl_child_fail(errfd, 127, "exec: \"%s\": %s: no such file or directory",
                  g_argv[0], path);
  case EACCES:
  case EPERM:
  case EISDIR:
    hl_child_fail(errfd, 126, "exec: \"%s\": permission denied", g_argv[0]);
  default:
    hl_child_fail(errfd, 126, "exec: \"%s\": %s", g_argv[0], strerror(e));
  }
}
