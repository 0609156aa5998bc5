// A job's memory and process count, held by cgroup v1 controllers where they
// are mounted (the whole job, every descendant counted together), else by
// resource limits of the job's process.
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_text(int folder, const char *file, const char *text) {
    int descriptor = openat(folder, file, O_WRONLY | O_CLOEXEC);
    if (descriptor < 0) return -1;
    ssize_t length = (ssize_t)strlen(text);
    ssize_t wrote = write(descriptor, text, (size_t)length);
    close(descriptor);
    return wrote == length ? 0 : -1;
}

// The value after `key` in a "key value" per line file, or -1.
static long long read_counter(int folder, const char *file, const char *key) {
    char text[1024];
    int descriptor = openat(folder, file, O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) return -1;
    ssize_t length = read(descriptor, text, sizeof text - 1);
    close(descriptor);
    if (length <= 0) return -1;
    text[length] = '\0';
    size_t key_length = strlen(key);
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, key_length) == 0 && line[key_length] == ' ') return atoll(line + key_length + 1);
    }
    return -1;
}

// Removes the cgroups of helpers that are gone: one killed outright (with its
// worker, or by a stop's SIGKILL) cannot remove its own. Only a dead helper's:
// a live one's may be empty for a moment before it joins.
static void sweep(int shoal) {
    int copy = dup(shoal);
    DIR *folder = copy >= 0 ? fdopendir(copy) : NULL;
    if (!folder) {
        if (copy >= 0) close(copy);
        return;
    }
    struct dirent *entry;
    while ((entry = readdir(folder)) != NULL) {
        int pid = 0;
        if (sscanf(entry->d_name, "job-%d", &pid) == 1 && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) unlinkat(shoal, entry->d_name, AT_REMOVEDIR);
    }
    closedir(folder);
}

// Makes (or reuses) hierarchy/shoal/NAME with `file` set to `value`, and moves this process into it.
static int join(const char *hierarchy, const char *name, const char *file, const char *value, int *group, int *parent, int *top_procs) {
    int top = open(hierarchy, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (top < 0) return 0;  // not mounted: resource limits stand in
    if (mkdirat(top, "shoal", 0755) != 0 && errno != EEXIST) return close(top), fail("cannot make a cgroup under", hierarchy);
    int shoal = openat(top, "shoal", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (shoal < 0) return close(top), fail("cannot open the cgroup folder under", hierarchy);
    sweep(shoal);
    // A folder of the same name is left by a helper killed with this process id: empty, so removable.
    unlinkat(shoal, name, AT_REMOVEDIR);
    if (mkdirat(shoal, name, 0755) != 0) return close(top), close(shoal), fail("cannot make a cgroup under", hierarchy);
    int folder = openat(shoal, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (folder < 0 || write_text(folder, file, value) != 0 || write_text(folder, "cgroup.procs", pid) != 0) {
        int saved = errno;
        if (folder >= 0) close(folder);
        unlinkat(shoal, name, AT_REMOVEDIR);
        close(top), close(shoal);
        errno = saved;
        return fail("cannot set the job's limit", file);
    }
    *group = folder;
    *parent = shoal;
    *top_procs = openat(top, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    close(top);
    return 0;
}

int cgroups_enter(const struct limits *limits, struct cgroups *groups) {
    groups->memory = groups->pids = groups->memory_parent = groups->pids_parent = -1;
    groups->memory_top_procs = groups->pids_top_procs = -1;
    snprintf(groups->name, sizeof groups->name, "job-%d", (int)getpid());
    char value[32];
    if (limits->memory > 0) {
        snprintf(value, sizeof value, "%lld", limits->memory);
        if (join("/sys/fs/cgroup/memory", groups->name, "memory.limit_in_bytes", value, &groups->memory, &groups->memory_parent, &groups->memory_top_procs) != 0) return 125;
        // Swap counts too where the kernel accounts it; absent otherwise.
        if (groups->memory >= 0) write_text(groups->memory, "memory.memsw.limit_in_bytes", value);
    }
    if (limits->processes > 0) {
        snprintf(value, sizeof value, "%ld", limits->processes);
        if (join("/sys/fs/cgroup/pids", groups->name, "pids.max", value, &groups->pids, &groups->pids_parent, &groups->pids_top_procs) != 0) return 125;
    }
    return 0;
}

void cgroups_verdict(const struct limits *limits, const struct cgroups *groups, char *reason, size_t size) {
    reason[0] = '\0';
    if (groups->memory >= 0 && read_counter(groups->memory, "memory.oom_control", "oom_kill") > 0) {
        snprintf(reason, size, "the job went past its memory limit of %lld MiB and was killed", limits->memory >> 20);
    } else if (groups->pids >= 0) {
        long long refused = read_counter(groups->pids, "pids.events", "max");
        if (refused > 0) snprintf(reason, size, "the job reached its limit of %ld processes (%lld forks were refused)", limits->processes, refused);
    }
}

static void leave(int *group, int *parent, int *top_procs, const char *name) {
    if (*group < 0) return;
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (*top_procs >= 0) {
        ssize_t ignored = write(*top_procs, pid, strlen(pid));
        (void)ignored;
    }
    // A process still leaving the cgroup makes the folder busy for a moment;
    // waiting for it here held every job's end by milliseconds, so a busy
    // folder is left to the next helper's sweep (its owner, this helper, will be gone).
    unlinkat(*parent, name, AT_REMOVEDIR);
    close(*group);
    close(*parent);
    if (*top_procs >= 0) close(*top_procs);
    *group = *parent = *top_procs = -1;
}

void cgroups_leave(struct cgroups *groups) {
    leave(&groups->memory, &groups->memory_parent, &groups->memory_top_procs, groups->name);
    leave(&groups->pids, &groups->pids_parent, &groups->pids_top_procs, groups->name);
}

// Raising a hard limit needs CAP_SYS_RESOURCE, which a worker's root may lack:
// then the job gets the worker's own hard limit, the most it can give.
static int set_limit(int resource, rlim_t value, const char *name) {
    struct rlimit limit = {value, value};
    if (setrlimit(resource, &limit) == 0) return 0;
    struct rlimit current;
    if (errno != EPERM || getrlimit(resource, &current) != 0 || current.rlim_max >= value) return fail("cannot set", name);
    limit.rlim_cur = limit.rlim_max = current.rlim_max;
    return setrlimit(resource, &limit) == 0 ? 0 : fail("cannot set", name);
}

int apply_rlimits(const struct limits *limits, const struct cgroups *groups) {
    if (limits->memory > 0 && groups->memory < 0 && set_limit(RLIMIT_AS, (rlim_t)limits->memory, "RLIMIT_AS") != 0) return 125;
    // Counted per user, across every job of the job user: a weaker bound than the pids controller.
    if (limits->processes > 0 && groups->pids < 0 && set_limit(RLIMIT_NPROC, (rlim_t)limits->processes, "RLIMIT_NPROC") != 0) return 125;
    if (limits->files > 0 && set_limit(RLIMIT_NOFILE, (rlim_t)limits->files, "RLIMIT_NOFILE") != 0) return 125;
    return 0;
}
