/* The container's output as Docker's json-file log: one JSON object per line,
 * {"log":"...\n","stream":"stdout","time":"RFC 3339 nanoseconds"}, rotated by
 * size (x.log -> x.log.1 -> ...) keeping log_max_files files. */
#define _GNU_SOURCE
#include "hivelet.h"
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Docker's copier splits lines longer than its 16 KiB buffer into partial
 * entries (no trailing "\n"); so do we. */
#define LINE_CAP (16 * 1024)

static const char *log_path;
static int log_fd = -1;
static long long log_size, log_max_size;
static long log_max_files = 1;
static int log_failed; /* reported once */

static char wbuf[MON_IO_BUF];
static size_t wlen;

static struct {
  char buf[LINE_CAP];
  size_t len;
} lines[2];

static const char *const stream_names[2] = {"stdout", "stderr"};

/* Length of the valid UTF-8 sequence at S (1..4), or 0 when invalid or cut
 * short. Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t len) {
  unsigned c = s[0];
  size_t need;
  unsigned min;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (len < need)
    return 0;
  unsigned cp = c & (0x7f >> need);
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return need;
}

size_t mon_json_escape(char *dst, const char *src, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)src;
  size_t out = 0, i = 0;
#define PUT(str, n)                                                            \
  do {                                                                         \
    if (dst)                                                                   \
      memcpy(dst + out, (str), (n));                                           \
    out += (n);                                                                \
  } while (0)
  while (i < len) {
    unsigned c = s[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' &&
        c != '>' && c != '&') {
      if (dst)
        dst[out] = (char)c;
      out++;
      i++;
      continue;
    }
    if (c < 0x80) {
      const char *named = NULL;
      switch (c) {
      case '"':
        named = "\\\"";
        break;
      case '\\':
        named = "\\\\";
        break;
      case '\n':
        named = "\\n";
        break;
      case '\r':
        named = "\\r";
        break;
      case '\t':
        named = "\\t";
        break;
      case '\b':
        named = "\\b";
        break;
      case '\f':
        named = "\\f";
        break;
      }
      if (named) {
        PUT(named, 2);
      } else {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        PUT(u, 6);
      }
      i++;
      continue;
    }
    size_t n = utf8_seq(s + i, len - i);
    if (n == 0) {
      PUT("\\ufffd", 6);
      i++;
    } else if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
               (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
      PUT(s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
      i += 3;
    } else {
      PUT(s + i, n);
      i += n;
    }
  }
#undef PUT
  return out;
}

static void report_failure(const char *call, const char *path) {
  if (!log_failed)
    mon_logf("%s %s: %s (container output is being dropped)", call, path,
             strerror(errno));
  log_failed = 1;
}

static int open_log(int flags) {
  int fd =
      open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | flags, 0640);
  if (fd < 0) {
    report_failure("open", log_path);
    return -1;
  }
  struct stat st;
  log_size = fstat(fd, &st) == 0 ? st.st_size : 0;
  log_failed = 0;
  return fd;
}

void mon_log_open(const struct hl_plan *plan) {
  log_path = plan->log_path && *plan->log_path ? plan->log_path : NULL;
  log_max_size = plan->log_max_size > 0 ? plan->log_max_size : 0;
  log_max_files = plan->log_max_files > 0 ? plan->log_max_files : 1;
  if (log_path && log_fd < 0)
    log_fd = open_log(0);
}

void mon_log_flush(void) {
  if (wlen == 0)
    return;
  if (log_fd >= 0) {
    int rc = hl_write_all(log_fd, wbuf, wlen);
    if (rc < 0) {
      errno = -rc;
      report_failure("write", log_path);
    } else {
      log_size += (long long)wlen;
    }
  }
  wlen = 0;
}

/* x.log.(N-2) -> x.log.(N-1), ..., x.log -> x.log.1, then a new x.log; with
 * one file the log is truncated. */
static void rotate(void) {
  char from[PATH_MAX], to[PATH_MAX];
  mon_log_flush();
  if (log_max_files <= 1) {
    if (log_fd >= 0 && ftruncate(log_fd, 0) < 0)
      report_failure("ftruncate", log_path);
    log_size = 0;
    return;
  }
  for (long i = log_max_files - 1; i >= 1; i--) {
    if (i == 1)
      snprintf(from, sizeof from, "%s", log_path);
    else
      snprintf(from, sizeof from, "%s.%ld", log_path, i - 1);
    snprintf(to, sizeof to, "%s.%ld", log_path, i);
    if (rename(from, to) < 0 && errno != ENOENT)
      mon_logf("rename %s to %s: %s", from, to, strerror(errno));
  }
  if (log_fd >= 0)
    close(log_fd);
  log_fd = open_log(O_TRUNC);
}

static void entry(int stream, const char *data, size_t len) {
  static const char head[] = "{\"log\":\"";
  char mid[40], ts[48];
  if (!log_path)
    return;
  hl_now_rfc3339(ts, sizeof ts);
  int midlen = snprintf(mid, sizeof mid, "\",\"stream\":\"%s\",\"time\":\"",
                        stream_names[stream]);
  size_t tslen = strlen(ts);
  size_t esc = mon_json_escape(NULL, data, len);
  size_t total = sizeof head - 1 + esc + (size_t)midlen + tslen + 3;

  long long pending = log_size + (long long)wlen;
  if (log_max_size > 0 && pending > 0 &&
      pending + (long long)total > log_max_size)
    rotate();
  if (wlen + total > sizeof wbuf)
    mon_log_flush();

  char *out = wbuf + wlen, *big = NULL;
  if (total > sizeof wbuf) {
    /* Only a 16 KiB line of control bytes or invalid UTF-8 escapes to more
     * than the buffer: rare, so a temporary allocation. */
    big = malloc(total);
    if (!big) {
      mon_logf("log entry of %zu bytes: out of memory, dropped", total);
      return;
    }
    out = big;
  }
  char *p = out;
  memcpy(p, head, sizeof head - 1);
  p += sizeof head - 1;
  p += mon_json_escape(p, data, len);
  memcpy(p, mid, (size_t)midlen);
  p += midlen;
  memcpy(p, ts, tslen);
  p += tslen;
  memcpy(p, "\"}\n", 3);
  if (big) {
    if (log_fd >= 0) {
      int rc = hl_write_all(log_fd, big, total);
      if (rc < 0) {
        errno = -rc;
        report_failure("write", log_path);
      } else {
        log_size += (long long)total;
      }
    }
    free(big);
  } else {
    wlen += total;
  }
}

/* Where to cut a full line buffer without splitting a UTF-8 sequence: before
 * a lead byte whose sequence is incomplete at the end. */
static size_t utf8_cut(const char *buf, size_t len) {
  for (size_t back = 1; back <= 3 && back <= len; back++) {
    unsigned char c = (unsigned char)buf[len - back];
    if ((c & 0xc0) == 0x80)
      continue;
    if (c >= 0xc0) {
      size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (need > back)
        return len - back;
    }
    break;
  }
  return len;
}

void mon_log_output(int stream, const char *buf, size_t len) {
  char *line = lines[stream].buf;
  size_t *have = &lines[stream].len;
  while (len > 0) {
    size_t room = LINE_CAP - *have;
    size_t n = len < room ? len : room;
    const char *nl = memchr(buf, '\n', n);
    if (nl) {
      n = (size_t)(nl - buf) + 1;
      if (*have == 0) {
        entry(stream, buf, n);
      } else {
        memcpy(line + *have, buf, n);
        entry(stream, line, *have + n);
        *have = 0;
      }
    } else {
      memcpy(line + *have, buf, n);
      *have += n;
      if (*have == LINE_CAP) {
        size_t cut = utf8_cut(line, *have);
        entry(stream, line, cut);
        memmove(line, line + cut, *have - cut);
        *have -= cut;
      }
    }
    buf += n;
    len -= n;
  }
}

void mon_log_eof(int stream) {
  if (lines[stream].len > 0) {
    entry(stream, lines[stream].buf, lines[stream].len);
    lines[stream].len = 0;
  }
  mon_log_flush();
}
