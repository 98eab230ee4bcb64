/* The per-container monitor (`hivelet __monitor BUNDLE`, CONTRACT.md): the
 * seams between monitor.c (lifecycle, event loop), monitor_log.c (json-file
 * log), monitor_ctl.c (the start socket on fd 3) and monitor_health.c. One
 * monitor per process, single-threaded: every part keeps its state in file
 * statics. */
#ifndef HIVELET_MONITOR_H
#define HIVELET_MONITOR_H

#include "plan.h"

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Every read and write buffer of the monitor is this size (RSS: only the pages
 * actually used become resident). */
#define MON_IO_BUF (64 * 1024)

/* Start socket frame types (CONTRACT.md, "The start socket"). */
enum {
  MON_FRAME_STDIN = 0,
  MON_FRAME_STDOUT = 1,
  MON_FRAME_STDERR = 2,
  MON_FRAME_STARTED = 3,
  MON_FRAME_EXIT = 4,
  MON_FRAME_ERROR = 5,
  MON_FRAME_STDIN_EOF = 6,
  MON_FRAME_RESIZE = 7,
  MON_FRAME_REMOVED = 8,
};

/* monitor.c */
/* Writes "hivelet-monitor: TIME: message" to stderr (monitor.log). */
void mon_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t mon_now_ns(void);
/* Called by monitor_ctl.c for frames from the CLI. */
void mon_on_resize(unsigned rows, unsigned cols);

/* monitor_log.c: the container's output in Docker's json-file format. */
enum { MON_STDOUT = 0, MON_STDERR = 1 };
/* Opens (appends to) plan->log_path; a plan without log_path logs nothing. */
void mon_log_open(const struct hl_plan *plan);
/* Buffers container output: complete lines become entries, a partial line is
 * kept until its newline, 16 KiB or mon_log_eof. */
void mon_log_output(int stream, const char *buf, size_t len);
/* The stream ended: its partial line becomes an entry without "\n". */
void mon_log_eof(int stream);
/* Writes buffered entries to the file. */
void mon_log_flush(void);
/* JSON string body for SRC (no quotes): escapes '"', '\\', control characters,
 * '<', '>', '&', U+2028/2029 (as Go's encoder, which Docker uses) and turns
 * every byte of invalid UTF-8 into \ufffd. With DST NULL only counts. Returns
 * the length written. */
size_t mon_json_escape(char *dst, const char *src, size_t len);

/* monitor_ctl.c: the start socket (fd 3). */
void mon_ctl_init(int fd, int attach);
/* Queues a frame. Output frames (STDOUT/STDERR) are dropped when the CLI does
 * not keep up; control frames are always queued. */
void mon_ctl_send(int type, const void *payload, size_t len);
/* True while the CLI end is connected. */
int mon_ctl_connected(void);
/* The container's stdin: WRITE end of its pipe or the pty master; -1 = none.
 * STDIN frames are written there (non-blocking; the socket is not read while a
 * write is pending). */
void mon_ctl_set_stdin(int fd, int is_tty);
/* Fills up to 2 pollfds (socket, stdin); returns how many. */
int mon_ctl_pollfds(struct pollfd *fds);
void mon_ctl_handle(const struct pollfd *fds, int n);
/* Flushes queued frames, waiting at most TIMEOUT_MS in total. */
void mon_ctl_drain(int timeout_ms);
/* After EXIT of an --rm container: waits until the attached CLI says REMOVED
 * (it removed the container itself; returns 1) or goes away or TIMEOUT_MS
 * passes (returns 0: the monitor removes it). Other frames are discarded. */
int mon_ctl_wait_removed(int timeout_ms);
/* The REMOVED frame's payload: paths under ROOT/trash the CLI moved the
 * container's trees to, each NUL-terminated, for this process to delete after
 * the CLI has returned. NULL (len 0) when there are none or they were
 * malformed. */
const char *mon_ctl_removed_paths(size_t *len);
/* Closes the socket; with KEEP_FD the fd number stays open (inherited by the
 * autoremove exec, so the CLI sees EOF when the removal finished). */
void mon_ctl_close(int keep_fd);

/* monitor_health.c */
void mon_health_init(const struct hl_plan *plan, const char *bundle);
int mon_health_enabled(void);
/* The container (re)started as PID / stopped: probes run only in between. */
void mon_health_started(pid_t pid);
void mon_health_stopped(void);
/* Nanoseconds until the next health deadline, or -1 for none. */
int64_t mon_health_next_ns(int64_t now);
/* Starts a due probe, kills an overdue one. */
void mon_health_tick(int64_t now);
/* Fills up to 1 pollfd (the running probe's output pipe). */
int mon_health_pollfds(struct pollfd *fds);
void mon_health_handle(const struct pollfd *fds, int n);
/* Returns 1 when PID was the probe (its result is recorded). */
int mon_health_reaped(pid_t pid, int wstatus);

#endif
