/* Internals shared by child.c (container start), child_exec.c (the process
 * part: cwd, PATH, user, capabilities, seccomp, execve) and exec.c. */
#ifndef HIVELET_CHILD_H
#define HIVELET_CHILD_H

#include "hivelet.h"

#include <sys/types.h>

/* Before fork, in the caller: builds argv/envp and reads the seccomp program
 * into static storage so that the child path never allocates. Returns 0, or
 * -1 with a one-line reason in err. */
int hl_child_prepare(const struct hl_plan *plan, char *err, size_t errlen);

/* In the child: optional setsid + controlling tty on fd 0, cwd, PATH lookup,
 * the security sequence, execve. Never returns: failures are reported on
 * errfd as "CODE MESSAGE" followed by _exit(CODE). */
_Noreturn void hl_child_exec(const struct hl_plan *plan, int errfd,
                             int make_ctty);

/* The security sequence of the plan on the calling process: bounding set,
 * seccomp, user and groups, capabilities, no_new_privs (in the order that
 * lets each step still be allowed). Failures as hl_child_exec's. Without
 * EXEC_FOLLOWS (a process that stays as it is) the capability sets are the
 * ones an execve would leave. */
void hl_child_restrict(const struct hl_plan *plan, int errfd, int exec_follows);

/* The process's command line as ps shows it, overwritten in place (what the
 * kernel set up at exec: no longer, never a new allocation) with the NAME and
 * the plan's argv after "--", as docker-init's reads "/sbin/docker-init --
 * CMD". Best effort: without /proc it stays. */
void hl_child_set_title(const char *name);

/* Writes "CODE MESSAGE" (one write) on errfd and _exit(CODE). */
_Noreturn void hl_child_fail(int errfd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* CLONE_NEW* flags for the plan's `ns` list, or -1 (the bad name in bad). */
int hl_ns_flags(const struct hl_plan *plan, char *bad, size_t badlen);
/* Writes the calling process's pid to every `cgroup_procs` file. */
void hl_join_cgroups(int errfd, const struct hl_plan *plan);
/* Opens the file through which a single-threaded caller joins the group of
 * PROCS (a cgroup.procs path) by writing "0": the v1 `tasks` file beside it
 * where there is one, else PROCS itself. Returns the fd or -1 (errno). */
int hl_open_cgroup_join(const char *procs);
int hl_mkdir_p(const char *path, mode_t mode);
/* Closes every fd >= FIRST (close_range, or a loop without it). */
void hl_close_from(int first);

#endif
