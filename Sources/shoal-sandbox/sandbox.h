#ifndef SHOAL_SANDBOX_H
#define SHOAL_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

// Prints "shoal-sandbox: WHAT DETAIL: strerror(errno)" and returns 125, the
// status that means the sandbox could not be set up.
int fail(const char *what, const char *detail);

// One mount the caller asked for, made in argument order inside the new root.
struct mount_request {
    enum { BIND, BIND_READ_ONLY, OVERLAY } kind;
    const char *source;  // host path (the lower folder of an overlay)
    const char *target;  // path inside the new root
    const char *upper, *work;
};

#define SYSTEM_FOLDERS 7
// usr, bin, sbin, lib…: linked as the host links them, else mounted read-only.
extern const char *const system_folders[SYSTEM_FOLDERS];

// Writes into `folder` (empty) what every job's root holds: links and mount
// points for the system folders, /etc's essentials copied with a passwd and
// group for the job's user, empty mount points.
int build_skeleton(const char *folder, uid_t uid, gid_t gid, const char *user);
// The skeleton for this host's /etc and this user in `cache`, built there first if missing; its path in `path`.
int cached_skeleton(const char *cache, uid_t uid, gid_t gid, const char *user, char *path, size_t size);

// Removes the entries of `cache` named `prefix…` (but `current`) that no job
// used for a week (their time, touched at most daily, says when one last did).
void remove_unused_for_a_week(const char *cache, const char *prefix, const char *current);

// Assembles the job's root in `root` (an empty folder): the skeleton (from
// `cache`, else built in a tmpfs), the host's system folders read-only, a
// minimal /dev, and the requested mounts; enter_root then makes it the root,
// read-only.
int assemble_root(const char *root, const char *cache, const struct mount_request *mounts, int count, uid_t uid, gid_t gid, const char *user);
int enter_root(const char *root);

struct limits {
    long long memory;  // bytes; 0 for none
    long processes;
    long files;
};

// The cgroups (v1 memory and pids controllers) one job runs in, where mounted.
struct cgroups {
    int memory, pids;  // the job's cgroup folders, or -1
    int memory_parent, pids_parent;
    int memory_top_procs, pids_top_procs;  // cgroup.procs of each hierarchy's root, to leave by
    char name[32];
};

int cgroups_enter(const struct limits *limits, struct cgroups *groups);
// Why the job ended, if a limit ended it: one sentence, or "" when none did.
void cgroups_verdict(const struct limits *limits, const struct cgroups *groups, char *reason, size_t size);
void cgroups_leave(struct cgroups *groups);
// The limits no cgroup enforces, as resource limits of the calling process.
int apply_rlimits(const struct limits *limits, const struct cgroups *groups);

#define MAX_VOLUME_FOLDERS 128

// A host folder the job writes in, covered by a folder of its volume: OUTPUT
// is copied back when the job succeeded, STATUS (/opt/ml/output) always,
// SCRATCH (/tmp) never.
struct volume_folder {
    enum { OUTPUT, STATUS, SCRATCH } kind;
    const char *path;
    int under;  // the covered host folder, open, or -1
};

struct volume {
    long long bytes;    // 0 for no volume
    int capped;         // the disk had less free space than asked
    const char *image;  // the sparse file to make (it must not exist)
    const char *mount;  // an empty folder to mount it on
    int root;           // the mounted volume, open, or -1
    struct volume_folder folders[MAX_VOLUME_FOLDERS];
    int count;
};

// Makes, attaches and mounts the volume, covers its folders and moves the
// overlays' upper folders onto it. Call in the helper's own mount namespace.
int volume_attach(struct volume *volume, const char *cache, struct mount_request *mounts, int count, uid_t uid, gid_t gid);
// One sentence when the volume is full, else leaves `reason` as it is.
void volume_verdict(const struct volume *volume, char *reason, size_t size);
// Copies back what the worker takes and lets go of the volume; -1 (with a
// sentence in `reason`) when something could not be copied back.
int volume_detach(struct volume *volume, int succeeded, char *reason, size_t size);

// Refuses (EPERM) the system calls a job never needs: mounts, namespaces,
// kernel modules, kexec, the clock, keyrings, bpf, perf.
int install_seccomp(void);

#endif
