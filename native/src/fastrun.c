/* `hivelet run` without the .NET runtime: replays a run template
 * (CONTRACT.md "Run templates").
 *
 * The managed `run` decides everything a container is made of; for a command
 * line it has run before, under the same images, configuration, host files,
 * binary and boot, it leaves a template: the container's record, bundle
 * files, snapshot, cgroup steps and removal steps, written for one container
 * id. Here that id (and its 12-character short form), the name and the
 * creation time are replaced and the steps are done again, in the store
 * order the managed side uses (bundle, snapshot, cgroups, files, record
 * last), then the monitor is started and attached to as the managed CLI does.
 * Anything this cannot do exactly as the managed path would (a changed
 * dependency, a store that needs repair, a name in use) declines before
 * anything is created, and main() runs the managed CLI instead. */
#define _GNU_SOURCE
#include "child.h"
#include "hivelet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TPL_MAX (8u << 20)
#define REC_MAX (1u << 20)
#define FRAME_STDOUT 1
#define FRAME_STDERR 2
#define FRAME_STARTED 3
#define FRAME_EXIT 4
#define FRAME_ERROR 5
#define FRAME_REMOVED 8

struct fastrun {
  char root[2048]; /* short enough that every path below fits PATH_MAX */
  const char *tpl; /* mapped read-only */
  size_t tpl_len;
  char why[512]; /* why it declined */

  const char *tpl_id, *tpl_name, *tpl_created, *exe, *bundle, *monitor_log;
  const char *adjectives, *nouns;
  int name_fixed, autoremove;

  char id[65], name[256], created[64];
  char marker[PATH_MAX];
  char trash[4][PATH_MAX]; /* trees moved aside by rm_trash, deleted later */
  int trashed;
  int store_lock, lock;
  int keep_marker; /* something could not be undone: leave it to a repair */
  char tpl_path[PATH_MAX];
  mode_t umask_saved;
  int created_any;     /* something was made: undo before declining */
  int managed_ran;     /* the .NET runtime started in this process */
  sigset_t mask_saved; /* the signal mask before the creation */
  int mask_blocked;
};

static int decline(struct fastrun *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int decline(struct fastrun *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->why, sizeof f->why, fmt, ap);
  va_end(ap);
  return -1;
}

/* --- the template ------------------------------------------------------ */

/* Iterates the template's KEY=VALUE\0 records: *pos is the offset of the next
 * one. Returns 0 at the end. */
static int next_record(const struct fastrun *f, size_t *pos, const char **key,
                       size_t *keylen, const char **value) {
  while (*pos < f->tpl_len) {
    const char *rec = f->tpl + *pos;
    size_t len = strlen(rec);
    *pos += len + 1;
    const char *eq = strchr(rec, '=');
    if (!eq)
      continue;
    *key = rec;
    *keylen = (size_t)(eq - rec);
    *value = eq + 1;
    return 1;
  }
  return 0;
}

static int key_is(const char *key, size_t keylen, const char *name) {
  return strlen(name) == keylen && !memcmp(key, name, keylen);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Decodes lower-case hex into a new buffer (NUL-terminated for text). */
static char *unhex(const char *hex, size_t *len) {
  size_t n = strlen(hex);
  if (n % 2)
    return NULL;
  char *out = malloc(n / 2 + 1);
  if (!out)
    return NULL;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(out);
      return NULL;
    }
    out[i] = (char)(hi << 4 | lo);
  }
  out[n / 2] = '\0';
  *len = n / 2;
  return out;
}

/* FNV-1a, 64 bits: names the template file of a key (CONTRACT.md). */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* The key: every argument after the program name, then the environment
 * variables the managed CLI reads for a run, each followed by a NUL. */
static const char *const key_env[] = {"HIVELET_ROOT", "HIVELET_CONFIG"};

static char *make_key(int argc, char **argv, size_t *len) {
  size_t n = 0;
  for (int i = 1; i < argc; i++)
    n += strlen(argv[i]) + 1;
  for (size_t i = 0; i < sizeof key_env / sizeof key_env[0]; i++) {
    const char *v = getenv(key_env[i]);
    if (v)
      n += strlen(key_env[i]) + 1 + strlen(v) + 1;
  }
  char *key = malloc(n + 1), *p = key;
  if (!key)
    return NULL;
  for (int i = 1; i < argc; i++)
    p = stpcpy(p, argv[i]) + 1;
  for (size_t i = 0; i < sizeof key_env / sizeof key_env[0]; i++) {
    const char *v = getenv(key_env[i]);
    if (v)
      p += sprintf(p, "%s=%s", key_env[i], v) + 1;
  }
  *len = n;
  return key;
}

/* `[--root DIR | --root=DIR] run ARGS...`: anything else before the verb
 * (another global option) is left to the managed CLI. */
static int parse_argv(struct fastrun *f, int argc, char **argv) {
  const char *root = NULL;
  int i = 1;
  while (i < argc && argv[i][0] == '-') {
    if (!strcmp(argv[i], "--root") && i + 1 < argc) {
      root = argv[i + 1];
      i += 2;
    } else if (!strncmp(argv[i], "--root=", 7)) {
      root = argv[i] + 7;
      i++;
    } else {
      return -1;
    }
  }
  if (i >= argc || strcmp(argv[i], "run"))
    return -1;
  for (int j = i + 1; j < argc; j++)
    if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h"))
      return -1;
  if (!root || !*root) {
    root = getenv("HIVELET_ROOT");
    if (!root || !*root)
      root = "/var/lib/hivelet";
  }
  if (root[0] == '/') {
    if (snprintf(f->root, sizeof f->root, "%s", root) >= (int)sizeof f->root)
      return -1;
  } else {
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd) || snprintf(f->root, sizeof f->root, "%s/%s",
                                             cwd, root) >= (int)sizeof f->root)
      return -1;
  }
  size_t n = strlen(f->root);
  while (n > 1 && f->root[n - 1] == '/')
    f->root[--n] = '\0';
  return 0;
}

/* The whole file (at most MAX bytes), NUL-terminated; read to EOF, since
 * /proc files report a size of 0. */
static char *read_small(const char *path, size_t max, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct stat st;
  size_t cap =
      fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  char *buf = cap <= max + 1 ? malloc(cap) : NULL;
  size_t got = 0;
  while (buf) {
    if (got + 1 >= cap) {
      char *more = cap * 2 <= max + 1 ? realloc(buf, cap * 2) : NULL;
      if (!more) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = more;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + got, cap - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(buf);
      buf = NULL;
    }
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  if (!buf)
    return NULL;
  buf[got] = '\0';
  *len = got;
  return buf;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
    s[--n] = '\0';
}

/* "MAJOR:MINOR:INO:SIZE:MTIME_NS" of stat(2), or "-" for a missing file
 * (CONTRACT.md). */
static void file_signature(const char *path, char *out, size_t len) {
  struct stat st;
  if (stat(path, &st) < 0) {
    snprintf(out, len, "-");
    return;
  }
  snprintf(out, len, "%u:%u:%llu:%lld:%lld", major(st.st_dev), minor(st.st_dev),
           (unsigned long long)st.st_ino, (long long)st.st_size,
           (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
}

/* Everything the managed run read still says what it said then. */
static int validate(struct fastrun *f, const char *key, size_t keylen) {
  size_t pos = 0, klen;
  const char *k, *v;
  int version = 0, ended = 0, key_ok = 0;
  char boot[128] = "";
  size_t blen;
  char *b = read_small("/proc/sys/kernel/random/boot_id", 4096, &blen);
  if (b) {
    snprintf(boot, sizeof boot, "%s", b);
    trim(boot);
    free(b);
  }
  while (next_record(f, &pos, &k, &klen, &v)) {
    if (key_is(k, klen, "version")) {
      version = atoi(v);
    } else if (key_is(k, klen, "key")) {
      size_t n;
      char *want = unhex(v, &n);
      key_ok = want && n == keylen && !memcmp(want, key, n);
      free(want);
    } else if (key_is(k, klen, "boot")) {
      if (strcmp(v, boot))
        return decline(f, "the machine rebooted since the template was made");
    } else if (key_is(k, klen, "dep")) {
      char path[PATH_MAX], sig[128];
      const char *sep = strchr(v, '\x1f');
      if (!sep || (size_t)(sep - v) >= sizeof path)
        return decline(f, "malformed template");
      memcpy(path, v, (size_t)(sep - v));
      path[sep - v] = '\0';
      file_signature(path, sig, sizeof sig);
      if (strcmp(sig, sep + 1))
        return decline(f, "%s changed since the template was made", path);
    } else if (key_is(k, klen, "need")) {
      struct stat st;
      if (stat(v, &st) < 0 || !S_ISDIR(st.st_mode))
        return decline(f, "%s is gone", v);
    } else if (key_is(k, klen, "id")) {
      f->tpl_id = v;
    } else if (key_is(k, klen, "name")) {
      f->tpl_name = v;
    } else if (key_is(k, klen, "name_fixed")) {
      f->name_fixed = atoi(v);
    } else if (key_is(k, klen, "created")) {
      f->tpl_created = v;
    } else if (key_is(k, klen, "exe")) {
      f->exe = v;
    } else if (key_is(k, klen, "bundle")) {
      f->bundle = v;
    } else if (key_is(k, klen, "monitor_log")) {
      f->monitor_log = v;
    } else if (key_is(k, klen, "adjectives")) {
      f->adjectives = v;
    } else if (key_is(k, klen, "nouns")) {
      f->nouns = v;
    } else if (key_is(k, klen, "autoremove")) {
      f->autoremove = atoi(v);
    } else if (key_is(k, klen, "end")) {
      ended = 1;
    }
  }
  if (version != 1 || !ended)
    return decline(f, "template of another version or incomplete");
  if (!key_ok)
    return decline(f, "template of another command line");
  if (!f->tpl_id || strlen(f->tpl_id) != 64 || !f->tpl_name ||
      !f->tpl_created || !f->exe || !f->bundle || !f->monitor_log ||
      (!f->name_fixed && (!f->adjectives || !f->nouns)))
    return decline(f, "malformed template");
  return 0;
}

/* --- the repair gate (RepairGate.cs) ---------------------------------- */

/* Declines when a hivelet command died since the last repair or the machine
 * rebooted (the managed CLI repairs first); otherwise leaves this command's
 * marker ROOT/procs/PID-STARTTIME. */
static int enter_gate(struct fastrun *f) {
  char dir[2100], path[2200];
  snprintf(dir, sizeof dir, "%s/procs", f->root);
  snprintf(path, sizeof path, "%s/boot", dir);
  size_t len;
  char *recorded = read_small(path, 4096, &len);
  char *now = read_small("/proc/sys/kernel/random/boot_id", 4096, &len);
  int same = recorded && now;
  if (same) {
    trim(recorded);
    trim(now);
    same = !strcmp(recorded, now);
  }
  free(recorded);
  free(now);
  if (!same)
    return decline(f, "the store has not been checked since boot");
  DIR *d = opendir(dir);
  if (!d)
    return decline(f, "open %s: %s", dir, strerror(errno));
  struct dirent *e;
  int dead = 0;
  while ((e = readdir(d)) && !dead) {
    int pid;
    unsigned long long start;
    char tail;
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "boot") ||
        strstr(e->d_name, ".tmp-"))
      continue;
    if (sscanf(e->d_name, "%d-%llu%c", &pid, &start, &tail) != 2 ||
        hl_proc_starttime(pid) != start)
      dead = 1;
  }
  closedir(d);
  if (dead)
    return decline(f, "a hivelet command died: the store needs a repair");
  snprintf(f->marker, sizeof f->marker, "%s/%d-%llu", dir, (int)getpid(),
           hl_proc_starttime(getpid()));
  int fd = open(f->marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    f->marker[0] = '\0';
    return decline(f, "create %s: %s", path, strerror(errno));
  }
  close(fd);
  return 0;
}

static void leave_gate(struct fastrun *f) {
  if (f->marker[0] && !f->keep_marker)
    unlink(f->marker);
  f->marker[0] = '\0';
}

/* --- id, name, time ---------------------------------------------------- */

static int random_bytes(void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = getrandom((char *)buf + got, len - got, 0);
    if (r < 0 && errno != EINTR)
      return -1;
    if (r > 0)
      got += (size_t)r;
  }
  return 0;
}

/* 64 hex from the kernel's CSPRNG, never all digits (ContainerStore.NewId). */
static int new_id(struct fastrun *f) {
  for (int tries = 0; tries < 16; tries++) {
    unsigned char b[32];
    if (random_bytes(b, sizeof b) < 0)
      return -1;
    int letter = 0;
    for (int i = 0; i < 32; i++) {
      sprintf(f->id + 2 * i, "%02x", b[i]);
      letter |= f->id[2 * i] > '9' || f->id[2 * i + 1] > '9';
    }
    char bundle[PATH_MAX];
    struct stat st;
    snprintf(bundle, sizeof bundle, "%s/containers/%s", f->root, f->id);
    if (letter && stat(bundle, &st) < 0 && errno == ENOENT)
      return 0;
  }
  return -1;
}

/* Word INDEX of a comma-separated list, and how many there are. */
static size_t pick_word(const char *list, uint32_t r, char *out, size_t len) {
  size_t count = 1;
  for (const char *p = list; *p; p++)
    count += *p == ',';
  size_t want = r % count, i = 0;
  const char *start = list;
  while (i < want) {
    start = strchr(start, ',') + 1;
    i++;
  }
  const char *end = strchr(start, ',');
  size_t n = end ? (size_t)(end - start) : strlen(start);
  if (n >= len)
    n = len - 1;
  memcpy(out, start, n);
  out[n] = '\0';
  return n;
}

/* True when a container record of the store has the name (as ContainerStore
 * lists them: every bundle's container.json). */
static int name_taken(const struct fastrun *f, const char *name) {
  char dir[2100], token[320];
  snprintf(dir, sizeof dir, "%s/containers", f->root);
  snprintf(token, sizeof token, "\"Name\": \"%s\"", name);
  DIR *d = opendir(dir);
  if (!d)
    return 1;
  struct dirent *e;
  int taken = 0;
  while (!taken && (e = readdir(d))) {
    if (strlen(e->d_name) != 64)
      continue;
    char path[PATH_MAX];
    size_t len;
    snprintf(path, sizeof path, "%s/%s/container.json", dir, e->d_name);
    char *rec = read_small(path, REC_MAX, &len);
    taken = rec && memmem(rec, len, token, strlen(token));
    free(rec);
  }
  closedir(d);
  return taken;
}

static int choose_name(struct fastrun *f) {
  if (f->name_fixed) {
    snprintf(f->name, sizeof f->name, "%s", f->tpl_name);
    return name_taken(f, f->name) ? decline(f, "the name %s is in use", f->name)
                                  : 0;
  }
  for (int tries = 0; tries < 16; tries++) {
    uint32_t r[2];
    if (random_bytes(r, sizeof r) < 0)
      return decline(f, "getrandom: %s", strerror(errno));
    size_t n = pick_word(f->adjectives, r[0], f->name, sizeof f->name / 2);
    f->name[n] = '_';
    pick_word(f->nouns, r[1], f->name + n + 1, sizeof f->name / 2);
    if (!name_taken(f, f->name))
      return 0;
  }
  return decline(f, "no free container name");
}

/* DateTimeOffset's round-trip form, as the managed record has it:
 * 2026-12-08T00:14:30.6099324+00:00. */
static void now_created(char *buf, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%07ld+00:00", ts.tv_nsec / 100);
}

/* --- substitution ------------------------------------------------------ */

/* Replaces every FROM with TO (same length) in place. */
static void replace_same(char *buf, size_t len, const char *from,
                         const char *to, size_t n) {
  char *p = buf, *end = buf + len;
  while ((p = memmem(p, (size_t)(end - p), from, n))) {
    memcpy(p, to, n);
    p += n;
  }
}

/* The template id becomes the new one, its short form too (the long one
 * first: the short one is its prefix). */
static void subst_ids(const struct fastrun *f, char *buf, size_t len) {
  replace_same(buf, len, f->tpl_id, f->id, 64);
  replace_same(buf, len, f->tpl_id, f->id, 12);
}

/* A new buffer with the one occurrence of FROM replaced by TO. */
static char *replace_once(char *buf, size_t *len, const char *from,
                          const char *to) {
  char *p = memmem(buf, *len, from, strlen(from));
  if (!p)
    return buf;
  size_t fl = strlen(from), tl = strlen(to), off = (size_t)(p - buf);
  char *out = malloc(*len - fl + tl + 1);
  if (!out)
    return NULL;
  memcpy(out, buf, off);
  memcpy(out + off, to, tl);
  memcpy(out + off + tl, p + fl, *len - off - fl);
  *len = *len - fl + tl;
  out[*len] = '\0';
  free(buf);
  return out;
}

/* A path or text value of the template, ids replaced (into BUF). */
static int subst_path(const struct fastrun *f, const char *in, char *buf,
                      size_t len) {
  size_t n = strlen(in);
  if (n >= len)
    return -1;
  memcpy(buf, in, n + 1);
  subst_ids(f, buf, n);
  return 0;
}

/* --- the steps --------------------------------------------------------- */

static int write_new(const char *path, mode_t mode, const char *data,
                     size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  int rc = hl_write_all(fd, data, len);
  if (close(fd) < 0 && rc == 0)
    rc = -errno;
  return rc;
}

static int load_device_program(const char *dir, const char *hex,
                               const char *license, char *err, size_t errlen) {
  size_t len;
  char *insns = unhex(hex, &len);
  if (!insns || len % 8) {
    free(insns);
    snprintf(err, errlen, "malformed device program for %s", dir);
    return -1;
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = (uint32_t)(len / 8);
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.license = (uint64_t)(uintptr_t)license;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  int saved = errno;
  free(insns);
  if (prog < 0) {
    snprintf(err, errlen, "bpf(BPF_PROG_LOAD) for `%s`: %s", dir,
             strerror(saved));
    return -1;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    snprintf(err, errlen, "open `%s`: %s", dir, strerror(errno));
    close(prog);
    return -1;
  }
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)dfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  int rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr);
  saved = errno;
  close(dfd);
  close(prog);
  if (rc < 0) {
    snprintf(err, errlen, "bpf(BPF_PROG_ATTACH) to `%s`: %s", dir,
             strerror(saved));
    return -1;
  }
  return 0;
}

/* One creation step. Returns 0, or -1 with the reason in err. */
static int do_step(struct fastrun *f, const char *key, size_t keylen,
                   const char *value, char *err, size_t errlen) {
  char path[PATH_MAX];
  char *fields[4];
  char copy[PATH_MAX * 2];
  size_t nf = 0;
  int known = key_is(key, keylen, "mkdir") || key_is(key, keylen, "file") ||
              key_is(key, keylen, "overlay") || key_is(key, keylen, "cgdir") ||
              key_is(key, keylen, "cgwrite") || key_is(key, keylen, "cgbpf") ||
              key_is(key, keylen, "record");
  if (!known)
    return 0;
  /* The hex payloads can be long; only the leading fields are copied. */
  const char *payload = NULL;
  if (key_is(key, keylen, "file") || key_is(key, keylen, "record") ||
      key_is(key, keylen, "cgbpf")) {
    payload = strrchr(value, '\x1f');
    if (!payload)
      goto malformed;
    size_t head = (size_t)(payload - value);
    if (head >= sizeof copy)
      goto malformed;
    memcpy(copy, value, head);
    copy[head] = '\0';
    payload++;
  } else if (snprintf(copy, sizeof copy, "%s", value) >= (int)sizeof copy) {
    goto malformed;
  }
  nf = hl_split_fields(copy, fields, 4);
  if (nf < 1 || subst_path(f, fields[0], path, sizeof path) < 0)
    goto malformed;

  if (key_is(key, keylen, "mkdir")) {
    if (nf != 2)
      goto malformed;
    if (mkdir(path, (mode_t)strtoul(fields[1], NULL, 8)) < 0) {
      snprintf(err, errlen, "mkdir `%s`: %s", path, strerror(errno));
      return -1;
    }
    f->created_any = 1;
  } else if (key_is(key, keylen, "file") || key_is(key, keylen, "record")) {
    size_t len;
    char *data = unhex(payload, &len);
    if (!data)
      goto malformed;
    subst_ids(f, data, len);
    int rc;
    if (key_is(key, keylen, "record")) {
      char from[320], to[320];
      snprintf(from, sizeof from, "\"Name\": \"%s\"", f->tpl_name);
      snprintf(to, sizeof to, "\"Name\": \"%s\"", f->name);
      data = replace_once(data, &len, from, to);
      snprintf(from, sizeof from, "\"Created\": \"%s\"", f->tpl_created);
      snprintf(to, sizeof to, "\"Created\": \"%s\"", f->created);
      if (data)
        data = replace_once(data, &len, from, to);
      if (!data)
        goto malformed;
      /* temp + rename: never a half-written record (AtomicFile's temp
       * name, which repair cleans). Not fsynced: see CONTRACT.md. */
      char tmp[PATH_MAX + 64];
      snprintf(tmp, sizeof tmp, "%s.tmp-%d-fastrun", path, (int)getpid());
      rc = write_new(tmp, 0644, data, len);
      if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
      if (rc < 0)
        unlink(tmp);
    } else {
      if (nf != 2) {
        free(data);
        goto malformed;
      }
      rc = write_new(path, (mode_t)strtoul(fields[1], NULL, 8), data, len);
    }
    free(data);
    if (rc < 0) {
      snprintf(err, errlen, "write `%s`: %s", path, strerror(-rc));
      return -1;
    }
  } else if (key_is(key, keylen, "overlay")) {
    char target[PATH_MAX], data[8192];
    if (nf != 3 || subst_path(f, fields[1], target, sizeof target) < 0 ||
        subst_path(f, fields[2], data, sizeof data) < 0)
      goto malformed;
    /* Relative lowerdirs keep the options under a page, as the managed
     * snapshotter mounts them: from the snapshot root. */
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = -1, saved = 0;
    if (here >= 0 && chdir(path) == 0) {
      rc = mount("overlay", target, "overlay", 0, data);
      saved = errno;
      if (fchdir(here) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
      }
    } else {
      saved = errno;
    }
    if (here >= 0)
      close(here);
    if (rc < 0) {
      snprintf(err, errlen, "mount overlay on `%s`: %s", target,
               strerror(saved));
      return -1;
    }
  } else if (key_is(key, keylen, "cgdir")) {
    /* A group left by a crash is recreated empty (Cgroup.CreateDirectories). */
    if (mkdir(path, 0755) < 0 &&
        (errno != EEXIST || rmdir(path) < 0 || mkdir(path, 0755) < 0)) {
      snprintf(err, errlen, "mkdir `%s`: %s", path, strerror(errno));
      return -1;
    }
  } else if (key_is(key, keylen, "cgwrite")) {
    if (nf != 2)
      goto malformed;
    int rc = hl_write_file(path, fields[1]);
    if (rc < 0) {
      snprintf(err, errlen, "write \"%s\" to `%s`: %s", fields[1], path,
               strerror(-rc));
      return -1;
    }
  } else if (key_is(key, keylen, "cgbpf")) {
    if (nf != 2)
      goto malformed;
    return load_device_program(path, payload, fields[1], err, errlen);
  }
  return 0;
malformed:
  snprintf(err, errlen, "malformed template step %.*s", (int)keylen, key);
  return -1;
}

/* SIGKILLs whatever is left in a group, then removes it (bounded). */
static int remove_cgroup(const char *dir) {
  for (int i = 0; i < 200; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY)
      return -errno;
    char procs[PATH_MAX];
    size_t len;
    snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
    char *pids = read_small(procs, 1 << 20, &len);
    if (pids && len == 0) {
      free(pids);
      pids = read_small(procs, 1 << 20, &len);
    }
    for (char *p = pids; p && *p;) {
      char *end;
      long pid = strtol(p, &end, 10);
      if (end == p)
        break;
      if (pid > 0)
        kill((pid_t)pid, SIGKILL);
      p = end + (*end == '\n');
    }
    free(pids);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return -EBUSY;
}

/* Moves a tree into ROOT/trash (one rename, atomic: a bundle leaves the
 * container list with its record in one step), to be deleted after the run
 * has returned. Another file system: deleted now. */
static int trash_tree(struct fastrun *f, const char *path) {
  char dir[2100];
  snprintf(dir, sizeof dir, "%s/trash", f->root);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return hl_remove_tree(path);
  if (f->trashed >= (int)(sizeof f->trash / sizeof f->trash[0]))
    return hl_remove_tree(path);
  const char *base = strrchr(path, '/');
  char *target = f->trash[f->trashed];
  snprintf(target, PATH_MAX, "%s/%d-%d-%.100s", dir, (int)getpid(), f->trashed,
           base ? base + 1 : path);
  if (rename(path, target) == 0) {
    f->trashed++;
    return 0;
  }
  if (errno == ENOENT)
    return 0;
  return errno == EXDEV ? hl_remove_tree(path) : -errno;
}

/* Deletes the trashed trees in a detached child, so that the run returns
 * once the container is gone from the store, its mounts and its cgroups (as
 * containerd's snapshotter removes asynchronously). The child holds a repair
 * marker of its own: killed halfway, the next command's repair empties the
 * trash. */
static void empty_trash_later(struct fastrun *f) {
  if (f->trashed == 0)
    return;
  pid_t pid = fork();
  if (pid != 0)
    return; /* a failed fork leaves the trash to the next repair */
  setsid();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0)
    for (int fd = 0; fd < 3; fd++)
      dup2(null, fd);
  hl_close_from(3);
  const char *paths[sizeof f->trash / sizeof f->trash[0]];
  for (int i = 0; i < f->trashed; i++)
    paths[i] = f->trash[i];
  _exit(hl_empty_trash(f->root, paths, (size_t)f->trashed, 0) == 0 ? 0 : 1);
}

/* REMOVED, naming the trash entries for the monitor to delete. Returns 0, or -1
 * when the monitor did not get it (it is gone). */
static int send_removed(struct fastrun *f, int sock, pid_t monitor) {
  char frame[5 + sizeof f->trash];
  size_t len = 0;
  for (int i = 0; i < f->trashed; i++) {
    const char *name = strrchr(f->trash[i], '/') + 1;
    size_t n = strlen(name) + 1;
    memcpy(frame + 5 + len, name, n);
    len += n;
  }
  frame[0] = FRAME_REMOVED;
  frame[1] = (char)(len >> 24);
  frame[2] = (char)(len >> 16);
  frame[3] = (char)(len >> 8);
  frame[4] = (char)len;
  /* This process's repair marker becomes the monitor's (one rename, so one
   * of them always stands): from now on until the monitor is done, a death
   * on either side leaves a dead marker, and the next command's repair
   * empties the trash. */
  char marker[2200];
  snprintf(marker, sizeof marker, "%s/procs/%d-%llu", f->root, (int)monitor,
           hl_proc_starttime(monitor));
  int made = 0;
  if (f->trashed && f->marker[0] && rename(f->marker, marker) == 0) {
    f->marker[0] = '\0';
    made = 1;
  } else if (f->trashed) {
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    made = fd >= 0;
    if (fd >= 0)
      close(fd);
  }
  if (hl_write_all(sock, frame, 5 + len) == 0)
    return 0;
  if (made)
    unlink(marker); /* not sent: the caller's deleter takes over */
  return -1;
}

/* The template's rm_* steps in order. Stops at the first failure, before the
 * record is deleted, so that the managed `rm -f` can finish the job. */
static int remove_container(struct fastrun *f, char *err, size_t errlen) {
  size_t pos = 0, klen;
  const char *k, *v;
  while (next_record(f, &pos, &k, &klen, &v)) {
    char path[PATH_MAX];
    int rc = 0;
    if (klen < 3 || memcmp(k, "rm_", 3))
      continue;
    if (subst_path(f, v, path, sizeof path) < 0) {
      snprintf(err, errlen, "malformed template step %.*s", (int)klen, k);
      return -1;
    }
    if (key_is(k, klen, "rm_cgroup")) {
      rc = remove_cgroup(path);
    } else if (key_is(k, klen, "rm_mount")) {
      if (umount2(path, 0) < 0) {
        rc = errno == EINVAL || errno == ENOENT ? 0 : -errno;
        if (rc == -EBUSY)
          rc = umount2(path, MNT_DETACH) < 0 ? -errno : 0;
      }
    } else if (key_is(k, klen, "rm_file")) {
      rc = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
    } else if (key_is(k, klen, "rm_tree")) {
      rc = hl_remove_tree(path);
    } else if (key_is(k, klen, "rm_trash")) {
      rc = trash_tree(f, path);
    }
    if (rc < 0) {
      snprintf(err, errlen, "remove container %s: %.*s `%s`: %s", f->id,
               (int)klen - 3, k + 3, path, strerror(-rc));
      return -1;
    }
  }
  return 0;
}

/* --- the monitor ------------------------------------------------------- */

static int read_full(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, (char *)buf + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return got == 0 && r == 0 ? 0 : -1;
    got += (size_t)r;
  }
  return 1;
}

/* Reads one frame header; the payload (LEN bytes) is left to the caller.
 * Returns 1, 0 at EOF, -1 on a broken stream. */
static int read_header(int fd, int *type, uint32_t *len) {
  unsigned char h[5];
  int rc = read_full(fd, h, sizeof h);
  if (rc <= 0)
    return rc;
  *type = h[0];
  *len =
      (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
  return *len > (1u << 20) ? -1 : 1;
}

/* Copies LEN payload bytes to OUT (-1: drop them). */
static int pass_payload(int fd, uint32_t len, int out) {
  char buf[65536];
  while (len > 0) {
    size_t n = len < sizeof buf ? len : sizeof buf;
    if (read_full(fd, buf, n) != 1)
      return -1;
    if (out >= 0)
      hl_write_all(out, buf, n);
    len -= (uint32_t)n;
  }
  return 0;
}

static int read_text(int fd, uint32_t len, char *buf, size_t size) {
  if (len >= size)
    return pass_payload(fd, len, -1) < 0 ? -1 : (buf[0] = '\0', 0);
  if (len && read_full(fd, buf, len) != 1)
    return -1;
  buf[len] = '\0';
  return 0;
}

static void last_line(const char *path, char *out, size_t len) {
  size_t n;
  char *text = read_small(path, 1 << 20, &n);
  snprintf(out, len, "no diagnostics (see %s)", path);
  if (!text)
    return;
  while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
    text[--n] = '\0';
  if (n) {
    char *nl = strrchr(text, '\n');
    snprintf(out, len, "%s", nl ? nl + 1 : text);
  }
  free(text);
}

/* --- the run ----------------------------------------------------------- */

/* The managed `rm -f` for what this process could not finish: it handles a
 * monitor that died, a busy mount and every partial state. Its output is
 * dropped: the run's output is the container's. */
static void managed_remove(struct fastrun *f) {
  char *argv[] = {(char *)f->exe, "--root", f->root, "rm", "-f", f->id, NULL};
  int out = dup(1);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 1);
    close(null);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  f->managed_ran = 1;
  __managed__Main(6, argv);
  if (out >= 0) {
    dup2(out, 1);
    close(out);
  }
}

/* Undoes the steps made before the monitor started, so that declining
 * hands a clean store to the managed CLI. Returns 0, or -1 with what stays in
 * err: then this run must not decline (the managed CLI would start in this
 * process after a removal it cannot see) but fail, and its repair marker
 * stays so that the next command repairs. */
static int undo(struct fastrun *f, char *err, size_t errlen) {
  if (f->lock >= 0)
    close(f->lock);
  f->lock = -1;
  int rc = f->created_any ? remove_container(f, err, errlen) : 0;
  for (int i = 0; i < f->trashed; i++)
    if (rc == 0 && hl_remove_tree(f->trash[i]) < 0) {
      snprintf(err, errlen, "remove %s: %s", f->trash[i], strerror(errno));
      rc = -1;
    }
  f->trashed = 0;
  if (rc < 0)
    f->keep_marker = 1;
  return rc;
}

/* A failed step, after undo: decline when everything was undone (the managed
 * CLI then runs, and reports what is still wrong); fail otherwise. A
 * template whose steps fail is dropped: the managed run writes a new one. */
static int undo_and_decline(struct fastrun *f, const char *why) {
  char err[1024];
  unlink(f->tpl_path);
  if (undo(f, err, sizeof err) < 0) {
    fprintf(stderr,
            "hivelet: run: %s; removing what was made failed: %s (the next "
            "hivelet command repairs it)\n",
            why, err);
    return 125;
  }
  return decline(f, "%s", why);
}

/* The container's lock (ContainerStore.Lock), for its removal; waits up to
 * 60 s for another command working on it. Returns the fd or -1. */
static int lock_container(const char *bundle) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/lock", bundle);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  for (int i = 0; fd >= 0 && i < 3000; i++) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
      return fd;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (fd >= 0)
    close(fd);
  return -1;
}

/* Until the container has exited: output frames to stdout/stderr, SIGINT and
 * SIGTERM forwarded to its pid 1 (Docker's sig-proxy, AttachSession.cs).
 * Returns the exit code, or -1 when the monitor vanished without EXIT. */
static int attach(int sock, pid_t pid, unsigned long long pid_start,
                  int sigfd) {
  for (;;) {
    struct pollfd p[2] = {{sock, POLLIN, 0}, {sigfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) == sizeof si &&
          hl_proc_starttime(pid) == pid_start)
        kill(pid, (int)si.ssi_signo);
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    int type;
    uint32_t len;
    int rc = read_header(sock, &type, &len);
    if (rc <= 0)
      return -1;
    if (type == FRAME_STDOUT || type == FRAME_STDERR) {
      if (pass_payload(sock, len, type == FRAME_STDOUT ? 1 : 2) < 0)
        return -1;
    } else if (type == FRAME_EXIT) {
      char text[64];
      if (read_text(sock, len, text, sizeof text) < 0)
        return -1;
      return atoi(text);
    } else if (pass_payload(sock, len, -1) < 0) {
      return -1;
    }
  }
}

static int exited_code_from_status(const struct fastrun *f) {
  char path[PATH_MAX];
  size_t len;
  snprintf(path, sizeof path, "%s/status", f->bundle);
  char real[PATH_MAX];
  subst_path(f, path, real, sizeof real);
  char *status = read_small(real, 1 << 16, &len);
  int code = 125;
  char *p = status ? strstr(status, "\nexit_code=") : NULL;
  if (p && strstr(status, "state=exited"))
    code = atoi(p + 11);
  free(status);
  return code;
}

/* The creation steps of one part (EARLY: the bundle's own mkdir and file
 * steps; else the rest, in file order). The container's own lock is taken
 * just before its record, as ContainerRuntime.StartAsync holds it from before
 * the record exists until the container started. Returns 0 or -1 (err). */
static int steps(struct fastrun *f, const char *bundle, int early, char *err,
                 size_t errlen) {
  size_t pos = 0, klen, blen = strlen(bundle);
  const char *k, *v;
  while (next_record(f, &pos, &k, &klen, &v)) {
    /* The step's path: its first field, ids replaced. */
    char path[PATH_MAX];
    size_t n = strcspn(v, "\x1f");
    int in_bundle = (key_is(k, klen, "mkdir") || key_is(k, klen, "file")) &&
                    n < sizeof path;
    if (in_bundle) {
      memcpy(path, v, n);
      path[n] = '\0';
      subst_ids(f, path, n);
      in_bundle = !strncmp(path, bundle, blen) &&
                  (path[blen] == '\0' || path[blen] == '/');
    }
    if (in_bundle != early)
      continue;
    if (key_is(k, klen, "record")) {
      char lock[PATH_MAX];
      snprintf(lock, sizeof lock, "%s/lock", bundle);
      f->lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (f->lock < 0 || flock(f->lock, LOCK_EX) < 0) {
        snprintf(err, errlen, "lock `%.900s`: %s", lock, strerror(errno));
        return -1;
      }
    }
    if (do_step(f, k, klen, v, err, errlen) < 0)
      return -1;
  }
  return 0;
}

static int run(struct fastrun *f) {
  char err[1024], bundle[PATH_MAX], monlog[PATH_MAX];
  if (subst_path(f, f->bundle, bundle, sizeof bundle) < 0 ||
      subst_path(f, f->monitor_log, monlog, sizeof monlog) < 0)
    return decline(f, "malformed template");

  /* The steps, under the store lock as ContainerStore.Create, in two
   * parts: the bundle's own directory and files first, then the monitor is
   * forked and sets itself up (its plan, status, log, the container's
   * program) on the other CPU while this process does the rest (the
   * snapshot and its mount, the cgroups, the record), and it starts the
   * container only when told to go. A crash in between leaves a bundle
   * without a record, which the repair removes, as after any half-made
   * container. */
  int failed = 0;
  /* ^C while the container is being made waits until it runs, and is then
   * forwarded to it (below), as for the rest of the run; a decline gives the
   * managed CLI the mask back (hl_fastrun_main), and with it the signal. */
  sigset_t creating;
  sigemptyset(&creating);
  sigaddset(&creating, SIGINT);
  sigaddset(&creating, SIGTERM);
  sigprocmask(SIG_BLOCK, &creating, &f->mask_saved);
  f->mask_blocked = 1;
  if (steps(f, bundle, 1, err, sizeof err) < 0) {
    close(f->store_lock);
    f->store_lock = -1;
    return undo_and_decline(f, err);
  }
  int sv[2], go[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    snprintf(err, sizeof err, "socketpair: %s", strerror(errno));
    close(f->store_lock);
    f->store_lock = -1;
    return undo_and_decline(f, err);
  }
  if (pipe2(go, O_CLOEXEC) < 0) {
    snprintf(err, sizeof err, "pipe: %s", strerror(errno));
    close(sv[0]);
    close(sv[1]);
    close(f->store_lock);
    f->store_lock = -1;
    return undo_and_decline(f, err);
  }
  int logfd = open(monlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  umask(f->umask_saved);
  int mpid =
      logfd < 0 ? -errno : hl_fork_monitor(f->exe, bundle, sv[1], logfd, go[0]);
  umask(0);
  close(sv[1]);
  close(go[0]);
  if (logfd >= 0)
    close(logfd);
  if (mpid < 0) {
    close(sv[0]);
    close(go[1]);
    close(f->store_lock);
    f->store_lock = -1;
    snprintf(err, sizeof err, "start the monitor: %s", strerror(-mpid));
    return undo_and_decline(f, err);
  }
  if (steps(f, bundle, 0, err, sizeof err) < 0)
    failed = 1;
  close(f->store_lock);
  f->store_lock = -1;
  umask(f->umask_saved);
  if (failed) {
    /* No go: the monitor exits without starting anything; once it has,
     * nothing of it writes into the bundle any more. */
    close(go[1]);
    close(sv[0]);
    while (waitpid(mpid, NULL, 0) < 0 && errno == EINTR)
      ;
    return undo_and_decline(f, err);
  }
  /* A monitor gone before the go (its log says why) must not take this
   * process with it: the socket's EOF below reports it. Nor, later, a reader
   * that went away (`run ... | head -1`) before the removal: its output is
   * dropped instead, as the managed CLI does. */
  signal(SIGPIPE, SIG_IGN);
  if (hl_write_all(go[1], "g", 1) < 0) {
    /* EOF on the socket follows. */
  }
  close(go[1]);

  /* From here on the container exists: no more declining. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sigfd < 0) /* without a way to hear them, they act as they would */
    sigprocmask(SIG_UNBLOCK, &set, NULL);

  int type;
  uint32_t len;
  char text[4096];
  int rc = read_header(sv[0], &type, &len);
  if (rc == 1 && read_text(sv[0], len, text, sizeof text) < 0)
    rc = -1;
  pid_t pid = rc == 1 && type == FRAME_STARTED ? (pid_t)atoi(text) : 0;
  if (rc == 1 && type == FRAME_STARTED && pid <= 0)
    rc = -1; /* a STARTED without a pid: not a monitor we understand */
  if (rc != 1 || type != FRAME_STARTED) {
    int code = 125;
    const char *msg = text;
    if (rc == 1 && type == FRAME_ERROR) {
      char *sp = strchr(text, ' ');
      code = atoi(text);
      msg = sp ? sp + 1 : "";
      if (code != 126 && code != 127)
        code = 125;
    } else {
      char line[1024];
      last_line(monlog, line, sizeof line);
      snprintf(text, sizeof text,
               "the monitor exited before the container started: %s", line);
      msg = text;
    }
    close(sv[0]);
    /* The monitor does not autoremove after a failed start; --rm still
     * means nothing remains (StartCommand.StartAndAttachAsync). The lock
     * taken before the record is still held. */
    int removed = !f->autoremove || remove_container(f, err, sizeof err) == 0;
    close(f->lock);
    f->lock = -1;
    if (!removed)
      managed_remove(f);
    empty_trash_later(f);
    fprintf(stderr, "hivelet: %s\n", msg);
    return code;
  }
  close(f->lock); /* started: as ContainerRuntime.StartAsync lets go */
  f->lock = -1;
  unsigned long long pid_start = hl_proc_starttime(pid);
  int code = attach(sv[0], pid, pid_start, sigfd);
  if (sigfd >= 0)
    close(sigfd);
  if (code < 0) {
    /* The monitor vanished without EXIT: its status (reconciled by the
     * managed rm) says what happened. */
    close(sv[0]);
    code = exited_code_from_status(f);
    if (f->autoremove)
      managed_remove(f);
    return code;
  }
  if (f->autoremove) {
    /* Under the container's lock, as RemoveAfterExitAsync: a `start` or
     * `rm` of it by another command is done first or waits. Gone meanwhile
     * (another command's rm -f): nothing left to do. */
    char record[PATH_MAX];
    snprintf(record, sizeof record, "%s/container.json", bundle);
    int lock = lock_container(bundle);
    struct stat st;
    int rc_rm = 0;
    if (stat(record, &st) < 0) {
      rc_rm = 0; /* removed by another command meanwhile */
    } else if (lock < 0) {
      snprintf(err, sizeof err,
               "container %s is busy: another hivelet command is working on it",
               f->id);
      rc_rm = -1;
    } else {
      rc_rm = remove_container(f, err, sizeof err);
    }
    if (lock >= 0)
      close(lock);
    if (rc_rm == 0) {
      /* The monitor, which exits after REMOVED anyway, deletes the trash
       * (CONTRACT.md): no process of its own for it. */
      if (send_removed(f, sv[0], mpid) < 0)
        empty_trash_later(f); /* the monitor is gone */
    } else {
      /* No REMOVED: the monitor's `rm -f` finishes (it sees EOF). */
      empty_trash_later(f);
      fprintf(stderr, "hivelet: %s (left to `rm -f`)\n", err);
    }
  }
  close(sv[0]);
  return code;
}

int hl_fastrun_main(int argc, char **argv) {
  static struct fastrun fr;
  struct fastrun *f = &fr;
  const char *mode = getenv("HIVELET_FASTRUN");
  int require = mode && !strcmp(mode, "require");
  if (mode && !strcmp(mode, "0"))
    return -1;
  f->store_lock = f->lock = -1;
  /* Not a `run` at all: the managed CLI's, whatever the mode. */
  if (parse_argv(f, argc, argv) < 0)
    return -1;

  int rc = -1;
  size_t keylen = 0;
  char *key = make_key(argc, argv, &keylen);
  char path[PATH_MAX];
  if (!key) {
    decline(f, "out of memory");
    goto out;
  }
  snprintf(path, sizeof path, "%s/run-templates/%016llx", f->root,
           (unsigned long long)fnv1a(0xcbf29ce484222325ULL, key, keylen));
  snprintf(f->tpl_path, sizeof f->tpl_path, "%s", path);
  struct stat st;
  if (stat(path, &st) < 0) {
    decline(f, "no template for this command line yet (the next run has one)");
    goto out;
  }
  if (st.st_uid != geteuid() || (st.st_mode & 022)) {
    decline(f, "%s is not this user's private file", path);
    goto out;
  }
  /* Mapped, not read: a few page faults for the whole file instead of one
   * per 4 KB of a copy. Every record ends with a NUL, the last one too. */
  if (st.st_size <= 0 || st.st_size > TPL_MAX) {
    unlink(path);
    decline(f, "%s: empty or too large", path);
    goto out;
  }
  f->tpl_len = (size_t)st.st_size;
  int tfd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat fst;
  /* The file checked above, not one renamed over it since (a shorter one
   * would fault past its end). */
  if (tfd >= 0 && (fstat(tfd, &fst) < 0 || fst.st_ino != st.st_ino ||
                   fst.st_size != st.st_size)) {
    close(tfd);
    tfd = -1;
    errno = ESTALE;
  }
  void *map = tfd < 0 ? MAP_FAILED
                      : mmap(NULL, f->tpl_len, PROT_READ, MAP_PRIVATE, tfd, 0);
  int saved = errno;
  if (tfd >= 0)
    close(tfd);
  if (map == MAP_FAILED) {
    decline(f, "read %s: %s", path, strerror(saved));
    goto out;
  }
  f->tpl = map;
  if (f->tpl[f->tpl_len - 1] != '\0') {
    unlink(path);
    decline(f, "%s: malformed template", path);
    goto out;
  }
  if (validate(f, key, keylen) < 0) {
    /* Stale: the managed run writes a new one. */
    unlink(path);
    goto out;
  }
  /* The monitor runs in this process, not by exec of the template's exe:
   * both must be the same build (a copy elsewhere would match a dep too). */
  char self[128], exe[128];
  file_signature("/proc/self/exe", self, sizeof self);
  file_signature(f->exe, exe, sizeof exe);
  if (strcmp(self, exe)) {
    decline(f, "this binary is not the %s the template was made by", f->exe);
    goto out;
  }
  if (enter_gate(f) < 0)
    goto out;

  char lock[PATH_MAX];
  snprintf(lock, sizeof lock, "%s/containers/.lock", f->root);
  f->store_lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  int locked = 0;
  for (int i = 0; f->store_lock >= 0 && i < 1500 && !locked; i++) {
    locked = flock(f->store_lock, LOCK_EX | LOCK_NB) == 0;
    if (!locked) {
      struct timespec ts = {0, 20 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  if (!locked) {
    decline(f, "containers in %s/containers are busy", f->root);
    goto out;
  }
  if (new_id(f) < 0) {
    decline(f, "no container id");
    goto out;
  }
  if (choose_name(f) < 0)
    goto out;
  now_created(f->created, sizeof f->created);
  f->umask_saved = umask(0);
  rc = run(f);
  if (rc < 0)
    umask(f->umask_saved);
  if (rc < 0 && f->mask_blocked)
    sigprocmask(SIG_SETMASK, &f->mask_saved, NULL);

out:
  if (f->store_lock >= 0)
    close(f->store_lock);
  f->store_lock = -1;
  leave_gate(f);
  free(key);
  /* Declined: the managed CLI runs in this process, without the mapping.
   * Otherwise the exit unmaps it: munmap here costs a TLB shootdown. */
  if (f->tpl && rc < 0)
    munmap((void *)f->tpl, f->tpl_len);
  f->tpl = NULL;
  if (rc < 0 && require) {
    fprintf(stderr, "hivelet: fast run unavailable: %s\n", f->why);
    return 125;
  }
  if (rc >= 0 && !f->managed_ran) {
    /* Done: no destructors to run (the runtime's and the libraries' would
     * only fault their code in to do nothing). */
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
  }
  return rc;
}
