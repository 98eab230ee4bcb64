/* The plan: what the managed side decided, parsed once before any fork
 * (CONTRACT.md). */
#ifndef HIVELET_PLAN_H
#define HIVELET_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define HL_MAX_LIST 1024

/* ITEMS is a slice of the plan's pool, sized to the plan: fixed arrays of
 * HL_MAX_LIST pointers (88 KB for all lists) cost every monitor and exec a page
 * fault per 4 KB cleared. */
struct hl_list {
  const char **items;
  size_t count;
};

struct hl_plan {
  char *buffer; /* the whole file; every string below points into it */
  size_t size;
  const char **pool; /* every list's items */

  const char *id, *exe, *root, *bundle, *run_dir, *rootfs, *rootfs_mount;
  const char *hostname, *oom_counter, *seccomp, *cwd, *restart, *log_path;
  int readonly_rootfs, net_lo, tty, open_stdin, init, attach, autoremove;
  int no_new_privs, delete_plan;
  struct hl_list ns, mount, device, symlink, masked, readonly, sysctl;
  struct hl_list cgroup_procs, rlimit, arg, env;
  int has_oom_score_adj, oom_score_adj;
  int has_user;
  uint32_t uid, gid;
  const char *groups;
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable,
      cap_ambient;
  int has_caps;
  int stop_signal;
  long restart_max;
  long long log_max_size;
  long log_max_files;
  int has_health;
  long long health_interval_ns, health_timeout_ns, health_start_period_ns;
  long health_retries;
  long pid;                     /* exec plans */
  unsigned long long pid_start; /* exec plans: field 22 of /proc/PID/stat */
};

/* Reads and parses PATH into *plan. On failure returns -1 and writes a one-line
 * reason (naming the file and the offending key) into err. */
int hl_plan_load(const char *path, struct hl_plan *plan, char *err,
                 size_t errlen);
void hl_plan_free(struct hl_plan *plan);

/* True when the plan lists namespace NAME ("mnt", "pid", ...) under `ns`. */
int hl_plan_has_ns(const struct hl_plan *plan, const char *name);

/* Splits S in place at \x1f into at most MAX fields; returns the number of
 * fields. */
size_t hl_split_fields(char *s, char **fields, size_t max);

#endif
