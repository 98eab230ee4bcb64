/* The start socket (fd 3, CONTRACT.md): frames of 1 byte type, 4 bytes
 * big-endian length, payload. The socket is non-blocking both ways: output for
 * an attached CLI is dropped rather than stalling the container when the CLI
 * does not keep up, and STDIN frames are only read as fast as the container
 * takes them. */
#define _GNU_SOURCE
#include "hivelet.h"
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Output frames stop queueing at MON_IO_BUF; the rest is kept for the few
 * small control frames (STARTED, EXIT, ERROR). */
#define OUT_CAP (MON_IO_BUF + 4096)

static int ctl_fd = -1, ctl_attach;
static char out[OUT_CAP];
static size_t out_off, out_len;

/* Input from the CLI: RBUF[r_off..r_len) is read but not yet consumed. */
static char rbuf[MON_IO_BUF];
static size_t r_off, r_len;
static unsigned char hdr[5];
static size_t hdr_have;
static int frame_type = -1; /* -1 = reading a header */
static uint32_t frame_left;
static unsigned char resize[4];
static size_t resize_have;

static int stdin_fd = -1, stdin_tty, stdin_blocked;
static int removed; /* REMOVED frame received */
/* Its payload: trash paths, each NUL-terminated (see mon_ctl_removed_paths). */
static char removed_paths[4 * PATH_MAX];
static size_t removed_len;
static int removed_overflow;

static void close_stdin(void) {
  if (stdin_fd >= 0 && !stdin_tty)
    close(stdin_fd);
  stdin_fd = -1;
  stdin_blocked = 0;
}

void mon_ctl_set_stdin(int fd, int is_tty) {
  close_stdin();
  stdin_fd = fd;
  stdin_tty = is_tty;
}

/* With a tty there is no stdin to close: the pty master also carries the
 * output. As a terminal whose user typed ^D, the line discipline gets the
 * terminal's VEOF character once, so a reader in canonical mode (a shell,
 * cat) sees end of input and the container keeps its terminal. TCGETS on a
 * pty master reads the slave's settings. */
static void tty_eof(void) {
  struct termios t;
  cc_t eof = 4; /* ^D */
  if (stdin_fd < 0)
    return;
  if (tcgetattr(stdin_fd, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
    eof = t.c_cc[VEOF];
  if (write(stdin_fd, &eof, 1) < 0 && errno != EAGAIN)
    mon_logf("write VEOF to the container's terminal: %s", strerror(errno));
}

static void disconnect(const char *why) {
  if (ctl_fd < 0)
    return;
  if (why)
    mon_logf("start socket: %s; the CLI is gone, output is only logged", why);
  close(ctl_fd);
  ctl_fd = -1;
  out_off = out_len = 0;
  r_off = r_len = 0;
  /* An attached CLI owns stdin (docker's StdinOnce): when it goes, so does the
   * container's stdin. A detached start keeps it open. */
  if (ctl_attach)
    close_stdin();
}

void mon_ctl_init(int fd, int attach) {
  ctl_attach = attach;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) {
    mon_logf("start socket fd %d: %s; running without a CLI", fd,
             strerror(errno));
    return;
  }
  if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    mon_logf("fcntl O_NONBLOCK on start socket: %s", strerror(errno));
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  ctl_fd = fd;
}

int mon_ctl_connected(void) { return ctl_fd >= 0; }

static void flush_out(void) {
  while (ctl_fd >= 0 && out_off < out_len) {
    ssize_t n = write(ctl_fd, out + out_off, out_len - out_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n < 0) {
      disconnect(strerror(errno));
      return;
    }
    out_off += (size_t)n;
  }
  out_off = out_len = 0;
}

void mon_ctl_send(int type, const void *payload, size_t len) {
  if (ctl_fd < 0)
    return;
  int droppable = type == MON_FRAME_STDOUT || type == MON_FRAME_STDERR;
  unsigned char h[5] = {(unsigned char)type, (unsigned char)(len >> 24),
                        (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                        (unsigned char)len};
  size_t sent = 0;
  if (out_len == 0) {
    struct iovec iov[2] = {{h, 5}, {(void *)payload, len}};
    ssize_t n;
    do
      n = writev(ctl_fd, iov, 2);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN) {
      disconnect(strerror(errno));
      return;
    }
    sent = n < 0 ? 0 : (size_t)n;
    if (sent == len + 5)
      return;
    if (sent == 0 && droppable)
      return;
  } else {
    size_t limit = droppable ? MON_IO_BUF : OUT_CAP;
    if (out_off > 0) {
      memmove(out, out + out_off, out_len - out_off);
      out_len -= out_off;
      out_off = 0;
    }
    if (out_len + 5 + len > limit) {
      if (!droppable)
        mon_logf("start socket: frame %d of %zu bytes does not fit, dropped",
                 type, len);
      return;
    }
  }
  /* Keep the rest of a frame that was partly written: the stream must stay
   * framed. */
  for (size_t i = sent; i < 5; i++)
    out[out_len++] = (char)h[i];
  size_t skip = sent > 5 ? sent - 5 : 0;
  memcpy(out + out_len, (const char *)payload + skip, len - skip);
  out_len += len - skip;
  flush_out();
}

/* Consumes RBUF; returns when it is empty or the container's stdin is full. */
static void parse_input(void) {
  while (r_off < r_len) {
    if (frame_type < 0) {
      while (hdr_have < 5 && r_off < r_len)
        hdr[hdr_have++] = (unsigned char)rbuf[r_off++];
      if (hdr_have < 5)
        return;
      frame_type = hdr[0];
      frame_left = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 |
                   (uint32_t)hdr[3] << 8 | hdr[4];
      hdr_have = 0;
      resize_have = 0;
    }
    size_t avail = r_len - r_off;
    size_t n = avail < frame_left ? avail : frame_left;
    if (frame_type == MON_FRAME_STDIN && stdin_fd >= 0 && n > 0) {
      ssize_t w = write(stdin_fd, rbuf + r_off, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN) {
        stdin_blocked = 1;
        return;
      }
      if (w < 0) {
        mon_logf("write to the container's stdin: %s", strerror(errno));
        close_stdin();
      } else {
        n = (size_t)w;
      }
    } else if (frame_type == MON_FRAME_RESIZE) {
      for (size_t i = 0; i < n && resize_have < 4; i++)
        resize[resize_have++] = (unsigned char)rbuf[r_off + i];
    } else if (frame_type == MON_FRAME_REMOVED) {
      if (removed_len + n <= sizeof removed_paths) {
        memcpy(removed_paths + removed_len, rbuf + r_off, n);
        removed_len += n;
      } else {
        removed_overflow = 1;
      }
    }
    r_off += n;
    frame_left -= (uint32_t)n;
    if (frame_left == 0) {
      if (frame_type == MON_FRAME_STDIN_EOF && !stdin_tty)
        close_stdin();
      else if (frame_type == MON_FRAME_REMOVED)
        removed = 1;
      else if (frame_type == MON_FRAME_STDIN_EOF)
        tty_eof();
      else if (frame_type == MON_FRAME_RESIZE && resize_have == 4)
        mon_on_resize((unsigned)resize[0] << 8 | resize[1],
                      (unsigned)resize[2] << 8 | resize[3]);
      frame_type = -1;
    }
  }
  r_off = r_len = 0;
}

int mon_ctl_pollfds(struct pollfd *fds) {
  int n = 0;
  if (ctl_fd < 0)
    return 0;
  if (!stdin_blocked && r_off < r_len)
    parse_input(); /* left over when the container's stdin went away */
  if (stdin_blocked && stdin_fd >= 0) {
    fds[n++] = (struct pollfd){.fd = stdin_fd, .events = POLLOUT};
    fds[n++] = (struct pollfd){
        .fd = ctl_fd, .events = (short)(out_len > out_off ? POLLOUT : 0)};
  } else {
    fds[n++] = (struct pollfd){
        .fd = ctl_fd,
        .events = (short)(POLLIN | (out_len > out_off ? POLLOUT : 0))};
  }
  return n;
}

void mon_ctl_handle(const struct pollfd *fds, int n) {
  for (int i = 0; i < n && ctl_fd >= 0; i++) {
    if (fds[i].fd == stdin_fd && fds[i].fd != ctl_fd) {
      if (fds[i].revents & (POLLOUT | POLLERR | POLLHUP)) {
        stdin_blocked = 0;
        parse_input();
      }
      continue;
    }
    if (fds[i].revents & POLLOUT)
      flush_out();
    if (ctl_fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
        stdin_blocked || r_off < r_len)
      continue;
    ssize_t r = read(ctl_fd, rbuf, sizeof rbuf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (r <= 0) {
      disconnect(r < 0 ? strerror(errno) : NULL);
      continue;
    }
    r_off = 0;
    r_len = (size_t)r;
    parse_input();
  }
}

void mon_ctl_drain(int timeout_ms) {
  int64_t deadline = mon_now_ns() + (int64_t)timeout_ms * 1000000;
  flush_out();
  while (ctl_fd >= 0 && out_len > out_off) {
    int64_t left = (deadline - mon_now_ns()) / 1000000;
    if (left <= 0) {
      mon_logf("start socket: the CLI did not read the last %zu bytes",
               out_len - out_off);
      return;
    }
    struct pollfd p = {.fd = ctl_fd, .events = POLLOUT};
    if (poll(&p, 1, (int)left) > 0)
      flush_out();
  }
}

int mon_ctl_wait_removed(int timeout_ms) {
  int64_t deadline = mon_now_ns() + (int64_t)timeout_ms * 1000000;
  /* The container is gone: STDIN frames still in flight are dropped. */
  close_stdin();
  while (ctl_fd >= 0 && !removed) {
    int64_t left = (deadline - mon_now_ns()) / 1000000;
    if (left <= 0) {
      mon_logf("start socket: no REMOVED from the CLI after %d ms", timeout_ms);
      return 0;
    }
    struct pollfd p[2];
    int n = mon_ctl_pollfds(p); /* may parse a REMOVED already read */
    if (removed || ctl_fd < 0)
      break;
    int rc = poll(p, (nfds_t)n, (int)left);
    if (rc < 0 && errno != EINTR) {
      mon_logf("poll on the start socket: %s", strerror(errno));
      return 0;
    }
    if (rc > 0)
      mon_ctl_handle(p, n);
  }
  return removed;
}

const char *mon_ctl_removed_paths(size_t *len) {
  if (removed_overflow || (removed_len && removed_paths[removed_len - 1])) {
    mon_logf("start socket: malformed REMOVED payload (%zu bytes): the trash "
             "is left to the next repair",
             removed_len);
    *len = 0;
    return NULL;
  }
  *len = removed_len;
  return removed_paths;
}

void mon_ctl_close(int keep_fd) {
  if (ctl_fd < 0)
    return;
  if (keep_fd) {
    int flags = fcntl(ctl_fd, F_GETFL);
    if (flags >= 0)
      fcntl(ctl_fd, F_SETFL, flags & ~O_NONBLOCK);
    fcntl(ctl_fd, F_SETFD, 0);
  } else {
    close(ctl_fd);
  }
  ctl_fd = -1;
}
