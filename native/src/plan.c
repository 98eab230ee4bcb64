/* Parser for the plan file (CONTRACT.md): KEY=VALUE records, each ending with
 * NUL. */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN_MAX_SIZE (4 << 20)

static int parse_ll(const char *s, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

static int parse_hex64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 16);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

/* While the lists have no items yet (the first pass), only counts. */
static int push(struct hl_list *list, const char *value) {
  if (list->count >= HL_MAX_LIST)
    return -1;
  if (list->items)
    list->items[list->count] = value;
  list->count++;
  return 0;
}

static const char *const list_keys[] = {
    "ns",     "mount",        "device", "symlink", "masked", "readonly",
    "sysctl", "cgroup_procs", "rlimit", "arg",     "env"};

/* The list a key fills, in list_keys order; NULL for other keys. */
static struct hl_list *list_of(struct hl_plan *p, const char *key) {
  struct hl_list *lists[] = {&p->ns,      &p->mount,        &p->device,
                             &p->symlink, &p->masked,       &p->readonly,
                             &p->sysctl,  &p->cgroup_procs, &p->rlimit,
                             &p->arg,     &p->env};
  _Static_assert(sizeof lists / sizeof lists[0] ==
                     sizeof list_keys / sizeof list_keys[0],
                 "one key per list");
  for (size_t i = 0; i < sizeof list_keys / sizeof list_keys[0]; i++)
    if (!strcmp(key, list_keys[i]))
      return lists[i];
  return NULL;
}

static int set_record(struct hl_plan *p, const char *key, const char *value) {
  long long n;
  struct {
    const char *key;
    const char **slot;
  } strings[] = {
      {"id", &p->id},
      {"exe", &p->exe},
      {"root", &p->root},
      {"bundle", &p->bundle},
      {"run_dir", &p->run_dir},
      {"rootfs", &p->rootfs},
      {"rootfs_mount", &p->rootfs_mount},
      {"hostname", &p->hostname},
      {"oom_counter", &p->oom_counter},
      {"seccomp", &p->seccomp},
      {"cwd", &p->cwd},
      {"restart", &p->restart},
      {"log_path", &p->log_path},
      {"groups", &p->groups},
  };
  struct {
    const char *key;
    int *slot;
  } flags[] = {
      {"readonly_rootfs", &p->readonly_rootfs},
      {"net_lo", &p->net_lo},
      {"tty", &p->tty},
      {"stdin", &p->open_stdin},
      {"init", &p->init},
      {"attach", &p->attach},
      {"autoremove", &p->autoremove},
      {"no_new_privs", &p->no_new_privs},
      {"delete_plan", &p->delete_plan},
  };
  struct {
    const char *key;
    uint64_t *slot;
  } caps[] = {
      {"cap_bounding", &p->cap_bounding},
      {"cap_effective", &p->cap_effective},
      {"cap_permitted", &p->cap_permitted},
      {"cap_inheritable", &p->cap_inheritable},
      {"cap_ambient", &p->cap_ambient},
  };

  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
    if (!strcmp(key, strings[i].key)) {
      *strings[i].slot = value;
      return 0;
    }
  struct hl_list *list = list_of(p, key);
  if (list)
    return push(list, value);
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (!strcmp(key, flags[i].key)) {
      if (strcmp(value, "0") && strcmp(value, "1"))
        return -1;
      *flags[i].slot = value[0] == '1';
      return 0;
    }
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
    if (!strcmp(key, caps[i].key)) {
      p->has_caps = 1;
      return parse_hex64(value, caps[i].slot);
    }

  if (!strcmp(key, "version"))
    return strcmp(value, "1") ? -1 : 0;
  if (parse_ll(value, &n))
    return -1;
  if (!strcmp(key, "uid")) {
    p->has_user = 1;
    p->uid = (uint32_t)n;
  } else if (!strcmp(key, "gid")) {
    p->has_user = 1;
    p->gid = (uint32_t)n;
  } else if (!strcmp(key, "oom_score_adj")) {
    p->has_oom_score_adj = 1;
    p->oom_score_adj = (int)n;
  } else if (!strcmp(key, "stop_signal")) {
    p->stop_signal = (int)n;
  } else if (!strcmp(key, "restart_max")) {
    p->restart_max = (long)n;
  } else if (!strcmp(key, "log_max_size")) {
    p->log_max_size = n;
  } else if (!strcmp(key, "log_max_files")) {
    p->log_max_files = (long)n;
  } else if (!strcmp(key, "pid")) {
    p->pid = (long)n;
  } else if (!strcmp(key, "pid_start")) {
    p->pid_start = (unsigned long long)n;
  } else if (!strcmp(key, "health_interval_ns")) {
    p->has_health = 1;
    p->health_interval_ns = n;
  } else if (!strcmp(key, "health_timeout_ns")) {
    p->health_timeout_ns = n;
  } else if (!strcmp(key, "health_start_period_ns")) {
    p->health_start_period_ns = n;
  } else if (!strcmp(key, "health_retries")) {
    p->health_retries = (long)n;
  } else {
    return -1;
  }
  return 0;
}

int hl_plan_load(const char *path, struct hl_plan *plan, char *err,
                 size_t errlen) {
  memset(plan, 0, sizeof *plan);
  plan->stop_signal = 15;
  plan->log_max_files = 1;

  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "open plan %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > PLAN_MAX_SIZE) {
    snprintf(err, errlen,
             "read plan %s: empty, unreadable or larger than %d bytes", path,
             PLAN_MAX_SIZE);
    close(fd);
    return -1;
  }
  plan->size = (size_t)st.st_size;
  plan->buffer = malloc(plan->size + 1);
  if (!plan->buffer) {
    snprintf(err, errlen, "read plan %s: out of memory", path);
    close(fd);
    return -1;
  }
  size_t done = 0;
  while (done < plan->size) {
    ssize_t n = read(fd, plan->buffer + done, plan->size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      snprintf(err, errlen, "read plan %s: %s", path,
               n < 0 ? strerror(errno) : "short read");
      close(fd);
      hl_plan_free(plan);
      return -1;
    }
    done += (size_t)n;
  }
  close(fd);
  plan->buffer[plan->size] = '\0';
  if (plan->buffer[plan->size - 1] != '\0') {
    snprintf(err, errlen, "read plan %s: last record is not NUL-terminated",
             path);
    hl_plan_free(plan);
    return -1;
  }

  /* First pass: keys split from values, scalars set, list items counted. */
  for (char *rec = plan->buffer, *next; rec < plan->buffer + plan->size;
       rec = next) {
    /* Measured before the '=' below becomes the key's terminator. */
    next = rec + strlen(rec) + 1;
    char *eq = strchr(rec, '=');
    if (!eq) {
      snprintf(err, errlen, "read plan %s: record without '=': %.60s", path,
               rec);
      hl_plan_free(plan);
      return -1;
    }
    *eq = '\0';
    if (set_record(plan, rec, eq + 1) < 0) {
      snprintf(err, errlen, "read plan %s: bad or unknown record %s=%.60s",
               path, rec, eq + 1);
      hl_plan_free(plan);
      return -1;
    }
  }
  /* Second pass: each list gets its slice of one pool, then its items (the
   * records are KEY\0VALUE\0 now). */
  size_t total = 0;
  for (size_t i = 0; i < sizeof list_keys / sizeof list_keys[0]; i++)
    total += list_of(plan, list_keys[i])->count;
  plan->pool = malloc((total ? total : 1) * sizeof *plan->pool);
  if (!plan->pool) {
    snprintf(err, errlen, "read plan %s: out of memory", path);
    hl_plan_free(plan);
    return -1;
  }
  for (size_t i = 0, at = 0; i < sizeof list_keys / sizeof list_keys[0]; i++) {
    struct hl_list *list = list_of(plan, list_keys[i]);
    list->items = plan->pool + at;
    at += list->count;
    list->count = 0;
  }
  for (char *rec = plan->buffer; rec < plan->buffer + plan->size;) {
    char *value = rec + strlen(rec) + 1;
    struct hl_list *list = list_of(plan, rec);
    if (list)
      push(list, value);
    rec = value + strlen(value) + 1;
  }
  return 0;
}

void hl_plan_free(struct hl_plan *plan) {
  free(plan->buffer);
  plan->buffer = NULL;
  free(plan->pool);
  plan->pool = NULL;
}

int hl_plan_has_ns(const struct hl_plan *plan, const char *name) {
  for (size_t i = 0; i < plan->ns.count; i++)
    if (!strcmp(plan->ns.items[i], name))
      return 1;
  return 0;
}

size_t hl_split_fields(char *s, char **fields, size_t max) {
  size_t n = 0;
  while (n < max) {
    fields[n++] = s;
    char *sep = strchr(s, '\x1f');
    if (!sep)
      break;
    *sep = '\0';
    s = sep + 1;
  }
  return n;
}
