/* The container child path: from the caller (the monitor or `__run`) to the
 * container's execve.
 *
 *   caller: unshare(CLONE_NEWPID), fork B, setns back to its own pid namespace
 *   B: pid 1 of the new pid namespace, the caller's child: stdio onto 0/1/2,
 *      close the rest, join the cgroups, unshare the other namespaces, then
 *      mounts, pivot_root, hostname, sysctls, masked/read-only paths, rlimits,
 *      the process part (child_exec.c) and execve; with init=1 B forks the
 *      user process and stays as a tiny init that forwards signals and reaps
 *      zombies.
 *
 * Namespaces come from unshare() + fork(), never clone flags: the same code
 * runs under qemu-user, where clone(CLONE_NEW*) fails with EINVAL. One fork:
 * an intermediate process that unshared everything and forked again cost a
 * whole process (fork, exit, reap) on every start.
 *
 * A CLOEXEC pipe goes back to the caller, the error pipe (fd 4 in B): EOF =
 * the user process exec'd; otherwise one "CODE MESSAGE" record (125, 126 or
 * 127) written just before _exit(CODE). With a console (tty under the
 * monitor) a second fd, the console socket (fd 5 in B), carries the pty
 * master B makes inside the container back to the caller (setup_console).
 *
 * Nothing here allocates after fork: argv, envp and the seccomp program are
 * prepared in the caller (child_exec.c), every other buffer is on the stack. */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERR_FD 4
/* The console socket (struct hl_console) in A and B until the pty is made. */
#define CONSOLE_FD 5

/* ---- small helpers (async-signal-safe, no allocation) ------------------- */

/* Copies SRC into a stack buffer of SIZE or fails the child. */
static void copy_or_fail(int errfd, char *dst, size_t size, const char *what,
                         const char *src) {
  if (snprintf(dst, size, "%s", src) >= (int)size)
    hl_child_fail(errfd, 125, "%s: value too long: %.80s", what, src);
}

/* DST = ROOT + REL (REL absolute inside the container). */
static void join_root(int errfd, char *dst, size_t size, const char *root,
                      const char *rel) {
  while (*rel == '/')
    rel++;
  if (snprintf(dst, size, "%s/%s", root, rel) >= (int)size)
    hl_child_fail(errfd, 125, "path too long: %s/%s", root, rel);
}

int hl_mkdir_p(const char *path, mode_t mode) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -1;
      *p = c;
      if (c == '\0')
        break;
    }
  }
  struct stat st;
  if (stat(path, &st) < 0)
    return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

/* Creates the mount point DEST: a directory, or an empty file (and its
 * parent directories). */
static void make_mount_point(int errfd, const char *dest, int is_file) {
  if (!is_file) {
    if (hl_mkdir_p(dest, 0755) < 0)
      hl_child_fail(errfd, 125, "create mount point \"%s\": %s", dest,
                    strerror(errno));
    return;
  }
  char parent[PATH_MAX];
  copy_or_fail(errfd, parent, sizeof parent, "mount point", dest);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    if (hl_mkdir_p(parent, 0755) < 0)
      hl_child_fail(errfd, 125, "create mount point \"%s\": %s", parent,
                    strerror(errno));
  }
  int fd =
      open(dest, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0 && errno != EISDIR)
    hl_child_fail(errfd, 125, "create mount point \"%s\": %s", dest,
                  strerror(errno));
  if (fd >= 0)
    close(fd);
}

/* ---- paths inside the container root ------------------------------------
 *
 * The image decides what is a symlink in the rootfs. A mount point, device or
 * symlink the plan names must land where the container will see it, never
 * outside the root (a hostile image could link /dev to the host's /etc).
 * With openat2(RESOLVE_IN_ROOT) (Linux 5.6) paths are resolved as if the
 * root were "/", missing directories are created one component at a time
 * under an already resolved parent, and the result is handed to mount(2) and
 * friends as the magic link /proc/self/fd/N (the host's /proc is still
 * there). Without openat2 (older kernels, qemu-user) plain joined paths are
 * used. */

static int root_fd = -1;

static int open_in_root(const char *rel) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof how);
}

/* Resolves REL (absolute in the container) into OUT, creating what is missing
 * when CREATE (directories, and an empty file last when IS_FILE). Returns an
 * fd the caller closes after use, or -1 on the plain-path fallback. */
static int in_root(const struct hl_plan *plan, const char *rel, int create,
                   int is_file, char *out, size_t outlen) {
  while (*rel == '/')
    rel++;
  if (root_fd < 0) {
    join_root(ERR_FD, out, outlen, plan->rootfs, rel);
    if (create)
      make_mount_point(ERR_FD, out, is_file);
    return -1;
  }
  int fd = open_in_root(rel);
  if (fd < 0 && errno == ENOENT && create) {
    char buf[PATH_MAX];
    copy_or_fail(ERR_FD, buf, sizeof buf, "path", rel);
    int dir = open_in_root("");
    for (char *name = buf; dir >= 0;) {
      char *slash = strchr(name, '/');
      if (slash)
        *slash = '\0';
      int next = *name ? open_in_root(buf) : fcntl(dir, F_DUPFD_CLOEXEC, 0);
      if (next < 0 && errno == ENOENT) {
        int rc;
        if (!slash && is_file) {
          rc = openat(dir, name,
                      O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                      0644);
          if (rc >= 0)
            close(rc);
        } else {
          rc = mkdirat(dir, name, 0755);
        }
        if (rc < 0 && errno != EEXIST)
          hl_child_fail(ERR_FD, 125, "create \"/%s\" in the container: %s", buf,
                        strerror(errno));
        next = open_in_root(buf);
      }
      close(dir);
      dir = next;
      if (!slash)
        break;
      *slash = '/';
      name = slash + 1;
    }
    fd = dir;
  }
  if (fd < 0)
    hl_child_fail(ERR_FD, 125, "resolve \"/%s\" in the container: %s", rel,
                  strerror(errno));
  snprintf(out, outlen, "/proc/self/fd/%d", fd);
  return fd;
}

/* in_root for the parent of REL (created); BASE gets the last component. */
static int parent_in_root(const struct hl_plan *plan, const char *rel,
                          char *out, size_t outlen, const char **base) {
  char parent[PATH_MAX];
  copy_or_fail(ERR_FD, parent, sizeof parent, "path", rel);
  char *slash = strrchr(parent, '/');
  *base = slash ? rel + (slash - parent) + 1 : rel;
  if (slash)
    *slash = '\0';
  else
    parent[0] = '\0';
  return in_root(plan, parent, 1, 0, out, outlen);
}

static void close_fd(int fd) {
  if (fd >= 0)
    close(fd);
}

/* The flags of the mount at PATH that a read-only remount must keep (the
 * kernel refuses to clear locked ones, and keeping them is what we want). */
static unsigned long kept_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

static void remount_ro(int errfd, const char *path, unsigned long extra) {
  unsigned long flags =
      MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(path) | extra;
  if (mount(NULL, path, NULL, flags, NULL) < 0)
    hl_child_fail(errfd, 125, "remount \"%s\" read-only: %s", path,
                  strerror(errno));
}

/* ---- namespaces and cgroups ---------------------------------------------- */

static const struct {
  const char *name;
  int flag;
} ns_flags[] = {
    {"mnt", CLONE_NEWNS},  {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
    {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
};

int hl_ns_flags(const struct hl_plan *plan, char *bad, size_t badlen) {
  int flags = 0;
  for (size_t i = 0; i < plan->ns.count; i++) {
    size_t j = 0;
    while (j < sizeof ns_flags / sizeof ns_flags[0] &&
           strcmp(plan->ns.items[i], ns_flags[j].name))
      j++;
    if (j == sizeof ns_flags / sizeof ns_flags[0]) {
      snprintf(bad, badlen, "%s", plan->ns.items[i]);
      return -1;
    }
    flags |= ns_flags[j].flag;
  }
  return flags;
}

int hl_open_cgroup_join(const char *procs) {
  /* Moving a whole thread group takes the kernel's global
   * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
   * period: 5-17 ms per start on this kernel, most of a container start.
   * A v1 hierarchy's `tasks` file moves the calling thread alone, and
   * writing "0" there (the current thread) skips that lock on kernels that
   * know to (it is taken otherwise, which costs what cgroup.procs does). The
   * callers are single-threaded, so the thread is the process. v2 has no
   * such file for domain groups: cgroup.procs it is. */
  char tasks[PATH_MAX];
  size_t n = strlen(procs);
  const char *suffix = "cgroup.procs";
  size_t sn = strlen(suffix);
  if (n >= sn && n - sn + 6 < sizeof tasks && !strcmp(procs + n - sn, suffix)) {
    memcpy(tasks, procs, n - sn);
    memcpy(tasks + n - sn, "tasks", 6);
    int fd = open(tasks, O_WRONLY | O_CLOEXEC);
    if (fd >= 0)
      return fd;
  }
  return open(procs, O_WRONLY | O_CLOEXEC);
}

void hl_join_cgroups(int errfd, const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->cgroup_procs.count; i++) {
    int fd = hl_open_cgroup_join(plan->cgroup_procs.items[i]);
    int rc = fd < 0 ? -errno : hl_write_all(fd, "0", 1);
    if (fd >= 0)
      close(fd);
    if (rc < 0)
      hl_child_fail(errfd, 125, "join cgroup \"%s\": %s",
                    plan->cgroup_procs.items[i], strerror(-rc));
  }
}

/* Moves FD to a number >= 10 (CLOEXEC) so that later dup2s onto 0..4 cannot
 * clobber it. -1 stays -1. */
static int lift(int fd) { return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10); }

static _Noreturn void container_pid1(const struct hl_plan *plan, int make_ctty,
                                     const struct hl_console *console);

/* The forked child's first steps, before it is the container's pid 1 proper:
 * its stdio and report fds in place, the cgroups joined, then the other
 * namespaces (the pid namespace it was born in). */
static _Noreturn void container_process(const struct hl_plan *plan,
                                        int stdio[3], int err_w, int flags,
                                        int make_ctty,
                                        const struct hl_console *console) {
  hl_reset_signals();
  int fds[5] = {stdio[0], stdio[1], stdio[2], err_w,
                console ? console->sock : -1};
  for (int i = 0; i < 5; i++) {
    int lifted = lift(fds[i]);
    if (fds[i] >= 0 && lifted < 0)
      hl_child_fail(err_w, 125, "start: duplicate fd %d: %s", fds[i],
                    strerror(errno));
    fds[i] = lifted;
  }
  int null = -1;
  if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
      hl_child_fail(fds[3], 125, "open \"/dev/null\": %s", strerror(errno));
  }
  for (int i = 0; i < 3; i++)
    if (dup2(fds[i] >= 0 ? fds[i] : null, i) < 0)
      hl_child_fail(fds[3], 125, "start: dup2 onto fd %d: %s", i,
                    strerror(errno));
  if (dup3(fds[3], ERR_FD, O_CLOEXEC) < 0 ||
      (fds[4] >= 0 && dup3(fds[4], CONSOLE_FD, O_CLOEXEC) < 0))
    hl_child_fail(fds[3], 125, "start: dup3: %s", strerror(errno));
  hl_close_from(fds[4] >= 0 ? CONSOLE_FD + 1 : ERR_FD + 1);
  /* Nothing else of the caller's reaches the container: fd 3 is free here
   * (the monitor's start socket, an fd `__run` was given). */
  close(3);

  hl_join_cgroups(ERR_FD, plan);
  if (flags && unshare(flags) < 0)
    hl_child_fail(ERR_FD, 125, "unshare namespaces (flags 0x%x): %s", flags,
                  strerror(errno));
  container_pid1(plan, make_ctty, console);
}

/* ---- B: the container's pid 1 ------------------------------------------- */

static void mount_rootfs(const struct hl_plan *plan) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    hl_child_fail(ERR_FD, 125, "make \"/\" private: %s", strerror(errno));
  if (!plan->rootfs_mount) {
    if (mount(plan->rootfs, plan->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
      hl_child_fail(ERR_FD, 125, "bind \"%s\" onto itself: %s", plan->rootfs,
                    strerror(errno));
    return;
  }
  char rec[8192];
  char *f[3] = {0};
  copy_or_fail(ERR_FD, rec, sizeof rec, "rootfs_mount", plan->rootfs_mount);
  if (hl_split_fields(rec, f, 3) != 3)
    hl_child_fail(ERR_FD, 125, "rootfs_mount: expected TYPE, SOURCE, DATA");
  int rc;
  if (!strcmp(f[0], "bind"))
    rc = mount(f[1], plan->rootfs, NULL, MS_BIND | MS_REC, NULL);
  else
    rc = mount(f[1], plan->rootfs, f[0], 0, f[2][0] ? f[2] : NULL);
  if (rc < 0)
    hl_child_fail(ERR_FD, 125, "mount %s \"%s\" on \"%s\": %s", f[0], f[1],
                  plan->rootfs, strerror(errno));
}

static void apply_mounts(const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->mount.count; i++) {
    char rec[8192], dest[PATH_MAX];
    char *f[6] = {0};
    copy_or_fail(ERR_FD, rec, sizeof rec, "mount", plan->mount.items[i]);
    if (hl_split_fields(rec, f, 6) != 6)
      hl_child_fail(ERR_FD, 125,
                    "mount record %zu: expected TYPE, SOURCE, DEST, FLAGS, "
                    "DATA, KIND",
                    i);
    char *end;
    errno = 0;
    unsigned long flags = strtoul(f[3], &end, 16);
    if (errno || *end)
      hl_child_fail(ERR_FD, 125, "mount \"%s\": bad flags \"%s\"", f[2], f[3]);
    int fd = in_root(plan, f[2], 1, !strcmp(f[5], "file"), dest, sizeof dest);
    const char *data = f[4][0] ? f[4] : NULL;
    if (flags & MS_BIND) {
      if (mount(f[1], dest, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
        hl_child_fail(ERR_FD, 125, "bind \"%s\" on \"%s\": %s", f[1], f[2],
                      strerror(errno));
      unsigned long rest = flags & ~(MS_BIND | MS_REC);
      if (rest) {
        /* The fd still names the directory under the new mount: resolve
         * again, or the remount would hit the mount below. */
        close_fd(fd);
        fd = in_root(plan, f[2], 0, 0, dest, sizeof dest);
        if (mount(NULL, dest, NULL,
                  MS_REMOUNT | MS_BIND | rest | kept_flags(dest), NULL) < 0)
          hl_child_fail(ERR_FD, 125, "remount \"%s\" (flags 0x%lx): %s", f[2],
                        rest, strerror(errno));
      }
    } else if (mount(f[1], dest, f[0], flags, data) < 0) {
      hl_child_fail(ERR_FD, 125, "mount %s \"%s\" on \"%s\": %s", f[0], f[1],
                    f[2], strerror(errno));
    }
    close_fd(fd);
  }
}

static void make_devices(const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->device.count; i++) {
    char rec[PATH_MAX + 128], dest[PATH_MAX];
    char *f[7] = {0};
    copy_or_fail(ERR_FD, rec, sizeof rec, "device", plan->device.items[i]);
    if (hl_split_fields(rec, f, 7) != 7 ||
        (strcmp(f[1], "c") && strcmp(f[1], "b")))
      hl_child_fail(ERR_FD, 125, "device record %zu: bad fields", i);
    char parent[PATH_MAX];
    const char *base;
    int pfd = parent_in_root(plan, f[0], parent, sizeof parent, &base);
    if (snprintf(dest, sizeof dest, "%s/%s", parent, base) >= (int)sizeof dest)
      hl_child_fail(ERR_FD, 125, "device \"%s\": path too long", f[0]);
    unsigned maj = (unsigned)strtoul(f[2], NULL, 10);
    unsigned min = (unsigned)strtoul(f[3], NULL, 10);
    mode_t mode = (mode_t)strtoul(f[4], NULL, 8) & 07777;
    uid_t uid = (uid_t)strtoul(f[5], NULL, 10);
    gid_t gid = (gid_t)strtoul(f[6], NULL, 10);
    unlink(dest);
    mode_t type = f[1][0] == 'c' ? S_IFCHR : S_IFBLK;
    if (mknod(dest, type | mode, makedev(maj, min)) == 0) {
      /* mknod applies the umask: set the mode the plan asked for. */
      if (chmod(dest, mode) < 0 || chown(dest, uid, gid) < 0)
        hl_child_fail(ERR_FD, 125, "chmod/chown device \"%s\": %s", f[0],
                      strerror(errno));
      close_fd(pfd);
      continue;
    }
    /* No mknod (a user namespace, a restricted host): bind the host's node. */
    int saved = errno;
    make_mount_point(ERR_FD, dest, 1);
    if (mount(f[0], dest, NULL, MS_BIND, NULL) < 0)
      hl_child_fail(ERR_FD, 125,
                    "create device \"%s\": mknod: %s; bind from host: %s", f[0],
                    strerror(saved), strerror(errno));
    close_fd(pfd);
  }
}

static void make_symlinks(const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->symlink.count; i++) {
    char rec[2 * PATH_MAX], link[PATH_MAX];
    char *f[2] = {0};
    copy_or_fail(ERR_FD, rec, sizeof rec, "symlink", plan->symlink.items[i]);
    if (hl_split_fields(rec, f, 2) != 2)
      hl_child_fail(ERR_FD, 125, "symlink record %zu: expected TARGET, LINK",
                    i);
    char parent[PATH_MAX];
    const char *base;
    int pfd = parent_in_root(plan, f[1], parent, sizeof parent, &base);
    if (snprintf(link, sizeof link, "%s/%s", parent, base) >= (int)sizeof link)
      hl_child_fail(ERR_FD, 125, "symlink \"%s\": path too long", f[1]);
    if (symlink(f[0], link) < 0 && errno != EEXIST)
      hl_child_fail(ERR_FD, 125, "symlink \"%s\" -> \"%s\": %s", f[1], f[0],
                    strerror(errno));
    close_fd(pfd);
  }
}

static void bring_lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    hl_child_fail(ERR_FD, 125, "bring \"lo\" up: socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    hl_child_fail(ERR_FD, 125, "bring \"lo\" up: SIOCGIFFLAGS: %s",
                  strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    hl_child_fail(ERR_FD, 125, "bring \"lo\" up: SIOCSIFFLAGS: %s",
                  strerror(errno));
  close(s);
}

static void pivot(const struct hl_plan *plan) {
  /* pivot_root(".", ".") stacks the old root under the new one; detaching
   * it leaves only the container's tree (no put_old directory needed). */
  if (chdir(plan->rootfs) < 0)
    hl_child_fail(ERR_FD, 125, "chdir \"%s\": %s", plan->rootfs,
                  strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    hl_child_fail(ERR_FD, 125, "pivot_root \"%s\": %s", plan->rootfs,
                  strerror(errno));
  if (umount2(".", MNT_DETACH) < 0)
    hl_child_fail(ERR_FD, 125, "detach the old root: %s", strerror(errno));
  if (chdir("/") < 0)
    hl_child_fail(ERR_FD, 125, "chdir \"/\": %s", strerror(errno));
}

static void write_sysctls(const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->sysctl.count; i++) {
    char rec[1024], path[PATH_MAX];
    char *f[2] = {0};
    copy_or_fail(ERR_FD, rec, sizeof rec, "sysctl", plan->sysctl.items[i]);
    if (hl_split_fields(rec, f, 2) != 2)
      hl_child_fail(ERR_FD, 125, "sysctl record %zu: expected NAME, VALUE", i);
    if (snprintf(path, sizeof path, "/proc/sys/%s", f[0]) >= (int)sizeof path)
      hl_child_fail(ERR_FD, 125, "sysctl \"%s\": name too long", f[0]);
    for (char *p = path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
    int rc = hl_write_file(path, f[1]);
    if (rc < 0)
      hl_child_fail(ERR_FD, 125, "sysctl %s=%s: write \"%s\": %s", f[0], f[1],
                    path, strerror(-rc));
  }
}

static void mask_paths(const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->masked.count; i++) {
    const char *p = plan->masked.items[i];
    struct stat st;
    if (stat(p, &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR)
        continue;
      hl_child_fail(ERR_FD, 125, "mask \"%s\": stat: %s", p, strerror(errno));
    }
    int rc = S_ISDIR(st.st_mode)
                 ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0")
                 : mount("/dev/null", p, NULL, MS_BIND, NULL);
    if (rc < 0)
      hl_child_fail(ERR_FD, 125, "mask \"%s\": %s", p, strerror(errno));
  }
}

static void readonly_paths(const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->readonly.count; i++) {
    const char *p = plan->readonly.items[i];
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT || errno == ENOTDIR)
        continue;
      hl_child_fail(ERR_FD, 125, "bind \"%s\" onto itself: %s", p,
                    strerror(errno));
    }
    remount_ro(ERR_FD, p, MS_REC);
  }
}

static void set_limits(const struct hl_plan *plan) {
  for (size_t i = 0; i < plan->rlimit.count; i++) {
    char rec[128];
    char *f[3] = {0};
    copy_or_fail(ERR_FD, rec, sizeof rec, "rlimit", plan->rlimit.items[i]);
    if (hl_split_fields(rec, f, 3) != 3)
      hl_child_fail(ERR_FD, 125,
                    "rlimit record %zu: expected RESOURCE, SOFT, "
                    "HARD",
                    i);
    long long soft = strtoll(f[1], NULL, 10), hard = strtoll(f[2], NULL, 10);
    struct rlimit rl = {
        .rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft,
        .rlim_max = hard < 0 ? RLIM_INFINITY : (rlim_t)hard,
    };
    if (setrlimit((int)strtol(f[0], NULL, 10), &rl) < 0)
      hl_child_fail(ERR_FD, 125, "setrlimit %s (%s, %s): %s", f[0], f[1], f[2],
                    strerror(errno));
  }
  if (plan->has_oom_score_adj) {
    char v[16];
    snprintf(v, sizeof v, "%d", plan->oom_score_adj);
    int rc = hl_write_file("/proc/self/oom_score_adj", v);
    if (rc < 0)
      hl_child_fail(ERR_FD, 125, "write \"/proc/self/oom_score_adj\": %s",
                    strerror(-rc));
  }
}

/* The tiny init (init=1): forwards signals to CHILD, reaps every process
 * re-parented to it, and exits with CHILD's status once CHILD is gone (the
 * kernel then kills what is left in the pid namespace). The signals are
 * blocked and taken with sigwaitinfo: a blocked signal is never ignored, not
 * even by a pid namespace's init. */
static _Noreturn void tiny_init(pid_t child, const sigset_t *set) {
  for (int fd = 0; fd < 3; fd++)
    close(fd);
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
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
      if (pid == child)
        _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                  : WEXITSTATUS(status));
  }
}

/* The container's terminal, made inside it as runc does: a pty of the
 * container's own devpts (newinstance), so that ttyname() names it there
 * (/dev/pts/0 for the first one). Runs after pivot_root: "/dev/ptmx" and
 * "/dev/pts" are the container's (the host's without a mount namespace). The
 * slave becomes stdio (and /dev/console), the master goes to the caller over
 * CONSOLE_FD; B keeps no copy of it. */
static void setup_console(const struct hl_plan *plan,
                          const struct hl_console *console) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0)
    hl_child_fail(ERR_FD, 125, "open \"/dev/ptmx\" in the container: %s",
                  strerror(errno));
  int unlock = 0;
  unsigned int index;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
    hl_child_fail(ERR_FD, 125,
                  "unlock the pty (TIOCSPTLCK) of \"/dev/ptmx\": %s",
                  strerror(errno));
  if (ioctl(m, TIOCGPTN, &index) < 0)
    hl_child_fail(ERR_FD, 125, "pty number (TIOCGPTN) of \"/dev/ptmx\": %s",
                  strerror(errno));
  char slave_path[32];
  snprintf(slave_path, sizeof slave_path, "/dev/pts/%u", index);
  int s = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0)
    hl_child_fail(ERR_FD, 125, "open pty slave \"%s\": %s", slave_path,
                  strerror(errno));
  /* Like runc, a non-root user owns its terminal (writes to /dev/tty by
   * name); root's keeps devpts's group (tty). */
  struct stat st;
  if (plan->has_user && fstat(s, &st) == 0 && st.st_uid != plan->uid &&
      fchown(s, plan->uid, plan->gid) < 0)
    hl_child_fail(ERR_FD, 125, "chown pty slave \"%s\" to %u:%u: %s",
                  slave_path, plan->uid, plan->gid, strerror(errno));
  if (console->rows && console->cols) {
    struct winsize ws = {.ws_row = console->rows, .ws_col = console->cols};
    if (ioctl(s, TIOCSWINSZ, &ws) < 0)
      hl_child_fail(ERR_FD, 125, "set the window size of \"%s\": %s",
                    slave_path, strerror(errno));
  }
  if (hl_plan_has_ns(plan, "mnt")) {
    int fd = open("/dev/console",
                  O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
      hl_child_fail(ERR_FD, 125, "create \"/dev/console\": %s",
                    strerror(errno));
    close(fd);
    if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
      hl_child_fail(ERR_FD, 125, "bind \"%s\" on \"/dev/console\": %s",
                    slave_path, strerror(errno));
  }
  int rc = hl_send_fd(CONSOLE_FD, m);
  if (rc < 0)
    hl_child_fail(ERR_FD, 125,
                  "send the pty master to the monitor: sendmsg: %s",
                  strerror(-rc));
  close(m);
  close(CONSOLE_FD);
  for (int i = 0; i < 3; i++)
    if (dup2(s, i) < 0)
      hl_child_fail(ERR_FD, 125, "dup2 \"%s\" onto fd %d: %s", slave_path, i,
                    strerror(errno));
  close(s);
}

static _Noreturn void container_pid1(const struct hl_plan *plan, int make_ctty,
                                     const struct hl_console *console) {
  if (hl_plan_has_ns(plan, "mnt")) {
    mount_rootfs(plan);
    root_fd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
      hl_child_fail(ERR_FD, 125, "open \"%s\": %s", plan->rootfs,
                    strerror(errno));
    int probe = open_in_root("");
    if (probe < 0 && errno != ENOSYS)
      hl_child_fail(ERR_FD, 125, "openat2 \"%s\": %s", plan->rootfs,
                    strerror(errno));
    if (probe < 0) {
      close(root_fd);
      root_fd = -1;
    }
    close_fd(probe);
    apply_mounts(plan);
    make_devices(plan);
    make_symlinks(plan);
    close_fd(root_fd);
  }
  if (plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)) < 0)
    hl_child_fail(ERR_FD, 125, "sethostname \"%s\": %s", plan->hostname,
                  strerror(errno));
  if (plan->net_lo)
    bring_lo_up();
  if (hl_plan_has_ns(plan, "mnt"))
    pivot(plan);
  if (console) {
    setup_console(plan, console);
    make_ctty = 1;
  }
  write_sysctls(plan);
  mask_paths(plan);
  readonly_paths(plan);
  if (plan->readonly_rootfs)
    remount_ro(ERR_FD, "/", 0);
  set_limits(plan);

  if (!plan->init)
    hl_child_exec(plan, ERR_FD, make_ctty);

  sigset_t set, old;
  sigemptyset(&set);
  int forwarded[] = {SIGTERM, SIGINT,  SIGHUP,   SIGQUIT,
                     SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset(&set, forwarded[i]);
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t pid = fork();
  if (pid < 0)
    hl_child_fail(ERR_FD, 125, "init: fork the container process: %s",
                  strerror(errno));
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    hl_child_exec(plan, ERR_FD, make_ctty);
  }
  /* Pid 1 stays what it is, the container's process: under the same
   * restrictions as the one it runs (docker-init is exec'd under them), and
   * named as such, not with the command line of whoever forked it (the
   * monitor's names host paths). A failure here ends pid 1 and with it the
   * pid namespace. */
  hl_child_set_title("hivelet-init");
  hl_child_restrict(plan, ERR_FD, 0);
  /* Only the user process reports from now on: its exec closes the pipe. */
  close(ERR_FD);
  tiny_init(pid, &set);
}

/* ---- the caller's side -------------------------------------------------- */

/* The caller's own pid namespace: where its children go again once pid 1 of
 * a new one is forked (see hl_container_start). Opened once, kept. */
static int own_pidns = -1;

struct start_args {
  const struct hl_plan *plan;
  int stdio[3];
  int err_w, flags, make_ctty;
  const struct hl_console *console;
};

static int container_entry(void *arg) {
  struct start_args *a = arg;
  container_process(a->plan, a->stdio, a->err_w, a->flags, a->make_ctty,
                    a->console);
}

/* Pid 1 without copying this process: clone(CLONE_VM | CLONE_VFORK), as
 * posix_spawn does, on a stack of its own; this process sleeps until pid 1
 * exec'd or died. A fork costs a page-table copy and a copy-on-write fault
 * for every page either side touches next, most of a start on a hypervisor
 * that traps page-table updates. Pid 1 writes no memory it shares except its
 * stack, errno and child.c's root_fd (the caller uses neither), and does not
 * allocate (glibc's strerror would, only for an errno it does not know). With
 * init=1 pid 1 stays (the tiny init), so it must be a fork. qemu-user emulates
 * CLONE_VFORK as a fork. Returns the pid or -1. */
static pid_t spawn_pid1(struct start_args *a) {
  static void *stack;
  const size_t size = 256 * 1024;
  if (a->plan->init) {
    pid_t pid = fork();
    if (pid == 0)
      container_entry(a);
    return pid;
  }
  if (!stack) {
    /* With a guard page below it: an overflow faults instead of writing
     * into whatever is mapped there (pid 1 uses about 40 KB). */
    char *map = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
      return -1;
    if (mprotect(map, 4096, PROT_NONE) < 0) {
      munmap(map, size + 4096);
      return -1;
    }
    stack = map + 4096;
  }
  /* Signals stay blocked while pid 1 shares this memory: a handler of this
   * process must not run on its stack. container_process resets them. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(container_entry, (char *)stack + size,
                    CLONE_VM | CLONE_VFORK | SIGCHLD, a);
  int saved = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return pid;
}

int hl_container_start(const struct hl_plan *plan, int stdin_fd, int stdout_fd,
                       int stderr_fd, int make_ctty,
                       const struct hl_console *console, struct hl_child *out,
                       char *err, size_t errlen) {
  out->pid = -1;
  out->error_fd = -1;
  if (hl_child_prepare(plan, err, errlen) < 0)
    return -1;
  if (hl_plan_has_ns(plan, "mnt") && !plan->rootfs) {
    snprintf(err, errlen, "plan: a mount namespace needs `rootfs`");
    return -1;
  }
  char bad[32];
  int flags = hl_ns_flags(plan, bad, sizeof bad);
  if (flags < 0) {
    snprintf(err, errlen, "plan: unknown namespace \"%s\"", bad);
    return -1;
  }
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) < 0) {
    snprintf(err, errlen, "start: pipe: %s", strerror(errno));
    return -1;
  }
  /* A new pid namespace takes effect for the children of whoever unshares
   * it, so this process unshares it, forks pid 1 and goes back: one fork,
   * and pid 1 is this process's own child (no subreaper or relay needed).
   * Until the setns back, this process must not fork anything else. */
  int new_pid = flags & CLONE_NEWPID;
  if (new_pid && own_pidns < 0)
    own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (new_pid && (own_pidns < 0 || unshare(CLONE_NEWPID) < 0)) {
    snprintf(err, errlen, "%s: %s",
             own_pidns < 0 ? "open \"/proc/self/ns/pid\""
                           : "unshare the pid namespace",
             strerror(errno));
    close(err_pipe[0]);
    close(err_pipe[1]);
    return -1;
  }
  struct start_args args = {plan,        {stdin_fd, stdout_fd, stderr_fd},
                            err_pipe[1], flags & ~CLONE_NEWPID,
                            make_ctty,   console};
  pid_t pid = spawn_pid1(&args);
  int fork_errno = errno;
  close(err_pipe[1]);
  if (new_pid && setns(own_pidns, CLONE_NEWPID) < 0) {
    /* Every later fork (a restart, a health probe) would land in the
     * container's namespace or fail: refuse this start instead. */
    snprintf(err, errlen, "setns back to this process's pid namespace: %s",
             strerror(errno));
    if (pid > 0) {
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
    close(err_pipe[0]);
    return -1;
  }
  if (pid < 0) {
    snprintf(err, errlen, "start: fork: %s", strerror(fork_errno));
    close(err_pipe[0]);
    return -1;
  }
  out->pid = pid;
  out->error_fd = err_pipe[0];
  return 0;
}

int hl_container_wait_exec(struct hl_child *child, char *msg, size_t msglen) {
  char rec[1024];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(child->error_fd, rec + len, sizeof rec - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
    if (len == sizeof rec - 1)
      break;
  }
  close(child->error_fd);
  child->error_fd = -1;
  rec[len] = '\0';
  if (len == 0) {
    if (msglen)
      msg[0] = '\0';
    return 0;
  }
  char *end;
  long code = strtol(rec, &end, 10);
  if (end == rec || (code != 125 && code != 126 && code != 127)) {
    snprintf(msg, msglen, "start: malformed report from the container: %.200s",
             rec);
    return 125;
  }
  while (*end == ' ')
    end++;
  size_t mlen = strcspn(end, "\n");
  end[mlen] = '\0';
  snprintf(msg, msglen, "%s", end);
  return (int)code;
}
