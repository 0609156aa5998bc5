// The job's volume (VolumeSizeInGB): an ext4 filesystem of that size in a
// sparse file beside the job's folder, attached to a loop device and mounted
// in the helper's own mount namespace only. Every folder the job may write —
// its output folders, /opt/ml/output, /tmp and the upper folders of its input
// overlays — is a folder of the volume bound over the host folder, so a job
// that writes past the size gets ENOSPC itself, and the host's disk never
// fills. Project quotas would cost nothing per job, but the kernels Shoal runs
// on refuse them on an ext4 mounted without them, as the work folder's is.
//
// When the namespace ends (the job ended, or the helper was killed with its
// worker), the kernel unmounts the volume and the loop device lets go of it
// (autoclear): a crash leaves nothing behind.
// What the worker takes from the job is copied back to the host folders
// beneath the volume's, through descriptors opened before they were covered:
// the helper itself lives in the job's root by then.
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Runs mke2fs on `image`: no journal (the volume lives as long as its job),
// no reserved blocks, inode tables initialised lazily so a large volume is
// made in milliseconds.

// How often a helper asks for a free loop device before it gives up (at most 0.4 s of waiting).
enum { max_loop_attempts = 200 };
static int make_filesystem(const char *image) {
    static const char *const candidates[] = {"/usr/sbin/mke2fs", "/sbin/mke2fs"};
    const char *program = NULL;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        if (access(candidates[i], X_OK) == 0) program = candidates[i];
    }
    if (!program) {
        errno = ENOENT;
        return fail("cannot make the job's volume: mke2fs (Debian's e2fsprogs) is not installed", NULL);
    }
    pid_t child = fork();
    if (child < 0) return fail("fork", NULL);
    if (child == 0) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) dup2(null, STDOUT_FILENO);
        execl(program, program, "-q", "-F", "-t", "ext4", "-m", "0", "-O", "^has_journal,^resize_inode",
              "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", image, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return fail("waitpid", NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = EIO;
        return fail("mke2fs failed on", image);
    }
    return 0;
}

// copy_file_range, or read and write where the kernel cannot copy between
// these filesystems (EXDEV before Linux 5.19).
static int copy_bytes(int from, int to, off_t size) {
    static char buffer[1 << 16];
    int fallback = 0;
    for (off_t left = size; left > 0;) {
        ssize_t moved = fallback ? -1 : copy_file_range(from, NULL, to, NULL, (size_t)left, 0);
        if (moved < 0 && !fallback && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
            fallback = 1;
            continue;
        }
        if (fallback) {
            moved = read(from, buffer, sizeof buffer);
            if (moved < 0 && errno == EINTR) continue;
            for (ssize_t done = 0; moved > 0 && done < moved;) {
                ssize_t wrote = write(to, buffer + done, (size_t)(moved - done));
                if (wrote < 0 && errno == EINTR) continue;
                if (wrote <= 0) return -1;
                done += wrote;
            }
        }
        if (moved <= 0) return moved == 0 ? 0 : -1;
        left -= moved;
    }
    return 0;
}

// Copies the data of `from` (a sparse file) into `to`, holes left as holes.
static int copy_sparse(int from, int to, off_t size) {
    if (ftruncate(to, size) != 0) return -1;
    off_t at = 0;
    while (at < size) {
        off_t data = lseek(from, at, SEEK_DATA);
        if (data < 0) return errno == ENXIO ? 0 : -1;
        off_t hole = lseek(from, data, SEEK_HOLE);
        if (hole < 0) return -1;
        if (lseek(from, data, SEEK_SET) < 0 || lseek(to, data, SEEK_SET) < 0 || copy_bytes(from, to, hole - data) != 0) return -1;
        at = hole;
    }
    return 0;
}

// The empty filesystem of this size, made once into the cache under a lock.
static int template_for(const char *cache, long long bytes, char *path, size_t size) {
    snprintf(path, size, "%s/volume-%lld.img", cache, bytes);
    struct stat status;
    if (stat(path, &status) == 0) {
        // Its time says when a job last used it (to within a day), which is what keeps it.
        if (status.st_mtime < time(NULL) - 86400) utimensat(AT_FDCWD, path, NULL, 0);
        return 0;
    }
    char lock[PATH_MAX], partial[PATH_MAX];
    snprintf(lock, sizeof lock, "%s/volume.lock", cache);
    snprintf(partial, sizeof partial, "%s.%d", path, (int)getpid());
    int held = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (held < 0) return fail("cannot open", lock);
    int rc = 0;
    if (flock(held, LOCK_EX) != 0) rc = fail("cannot lock", lock);
    else if (access(path, R_OK) != 0) {
        int made = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (made < 0 || ftruncate(made, bytes) != 0) rc = fail("cannot make", partial);
        if (made >= 0) close(made);
        if (rc == 0) rc = make_filesystem(partial);
        if (rc == 0 && rename(partial, path) != 0) rc = fail("cannot rename", partial);
        if (rc != 0) unlink(partial);
        // Templates of sizes no step has asked for in a week.
        if (rc == 0) remove_unused_for_a_week(cache, "volume-", path);
    }
    close(held);
    return rc;
}

// Makes the volume's file from the cached template (or afresh without a
// cache) and attaches it to a free loop device: the device, open, in `*loop`
// (autoclear lets go of the file when the device's last user closes it, so
// it stays open until the volume is mounted), its path in `device`.
static int attach(struct volume *volume, const char *cache, int *loop, char *device, size_t size) {
    // A volume larger than the free space of the disk under it would let the
    // job's writes fail as I/O errors when the disk fills, and fill the disk
    // the worker writes its records on: it gets what is free less a reserve of
    // 64 MiB or 2% of the disk (in whole GiB, so that few sizes share the
    // cached templates; 8 MiB at least).
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", volume->image);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) *slash = '\0';
    struct statvfs disk;
    if (statvfs(parent, &disk) == 0) {
        long long reserve = (long long)disk.f_blocks * (long long)disk.f_frsize / 50;
        long long free = (long long)disk.f_bavail * (long long)disk.f_frsize - (reserve > (64LL << 20) ? reserve : (64LL << 20));
        if (free < volume->bytes) {
            long long step = free >= (1LL << 30) ? (1LL << 30) : (8LL << 20);
            volume->bytes = free > (8LL << 20) ? free / step * step : (8LL << 20);
            volume->capped = 1;
        }
    }
    int image = open(volume->image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (image < 0) return fail("cannot create the job's volume", volume->image);
    int rc = 0;
    if (cache) {
        char template[PATH_MAX];
        int from = -1;
        // Twice: another helper may have swept this template away between the look and the open.
        for (int attempt = 0; attempt < 2 && from < 0 && rc == 0; attempt++) {
            if (template_for(cache, volume->bytes, template, sizeof template) != 0) rc = 125;
            else from = open(template, O_RDONLY | O_CLOEXEC);
        }
        if (rc == 0 && (from < 0 || copy_sparse(from, image, volume->bytes) != 0)) rc = fail("cannot copy the volume template", template);
        if (from >= 0) close(from);
    } else if (ftruncate(image, volume->bytes) != 0) {
        rc = fail("cannot size the job's volume", volume->image);
    } else {
        rc = make_filesystem(volume->image);
    }
    int control = rc == 0 ? open("/dev/loop-control", O_RDWR | O_CLOEXEC) : -1;
    if (rc == 0 && control < 0) rc = fail("cannot open /dev/loop-control (loop devices are needed for VolumeSizeInGB)", NULL);
    // Another helper may take the free device first: try the next one then.
    // Hundreds of instances starting at once all ask for the same free device,
    // so a refused one waits a moment of its own (0.1 to 2 ms) before asking again.
    unsigned seed = (unsigned)getpid();
    for (int attempt = 0; rc == 0 && attempt < max_loop_attempts; attempt++) {
        int number = ioctl(control, LOOP_CTL_GET_FREE);
        if (number < 0) {
            rc = fail("no free loop device for the job's volume", NULL);
            break;
        }
        snprintf(device, size, "/dev/loop%d", number);
        *loop = open(device, O_RDWR | O_CLOEXEC);
        if (*loop < 0) continue;
        struct loop_config config;
        memset(&config, 0, sizeof config);
        config.fd = (unsigned)image;
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        int configured = ioctl(*loop, LOOP_CONFIGURE, &config);
        int why = errno;
        if (configured == 0) break;
        close(*loop);
        *loop = -1;
        if (why != EBUSY || attempt == max_loop_attempts - 1) {
            errno = why;
            rc = fail("cannot attach the job's volume to", device);
        } else {
            seed = seed * 1103515245u + 12345u;
            struct timespec pause = {0, 100000 + (long)(seed % 1900000u)};
            nanosleep(&pause, NULL);
        }
    }
    if (control >= 0) close(control);
    close(image);
    // The loop device holds the file now, and the kernel frees it with the
    // device: a crash leaves nothing behind.
    unlink(volume->image);
    return rc;
}

static int copy_tree(int from, int to, int depth, const uid_t *owner, const gid_t *group);

// A folder of the volume owned by the job's user, bound over `host`, holding
// the folders `host` holds (an output folder nested in another); `under`
// keeps the covered host folder (-1 when not wanted).
static int cover(struct volume *volume, const char *name, const char *host, uid_t uid, gid_t gid, int *under) {
    if (under) {
        *under = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*under < 0) return fail("cannot open", host);
    }
    char folder[PATH_MAX];
    snprintf(folder, sizeof folder, "%s/%s", volume->mount, name);
    if (mkdir(folder, 0755) != 0 || chown(folder, uid, gid) != 0) return fail("cannot make a folder on the job's volume:", folder);
    if (under) {
        int copy = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int copied = copy >= 0 ? copy_tree(*under, copy, 0, &uid, &gid) : -1;
        if (copy >= 0) close(copy);
        if (copied != 0) return fail("cannot copy onto the job's volume:", host);
    }
    if (mount(folder, host, NULL, MS_BIND, NULL) != 0) return fail("cannot bind the job's volume over", host);
    return 0;
}

int volume_attach(struct volume *volume, const char *cache, struct mount_request *mounts, int count, uid_t uid, gid_t gid) {
    char device[64];
    int loop = -1;
    if (attach(volume, cache, &loop, device, sizeof device) != 0) {
        if (loop >= 0) close(loop);
        return 125;
    }
    int mounted = mount(device, volume->mount, "ext4", MS_NOSUID | MS_NODEV, "");
    int why = errno;
    close(loop);
    errno = why;
    if (mounted != 0) return fail("cannot mount the job's volume at", volume->mount);
    volume->root = open(volume->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (volume->root < 0) return fail("cannot open", volume->mount);
    char name[32];
    for (int i = 0; i < volume->count; i++) {
        snprintf(name, sizeof name, "%d", i);
        if (cover(volume, name, volume->folders[i].path, uid, gid, volume->folders[i].kind == SCRATCH ? NULL : &volume->folders[i].under) != 0) return 125;
    }
    // What a job writes into its input folders lands on the volume too: the
    // folder holding an overlay's upper and work folders is covered by one of
    // the volume's holding both (they must share a filesystem).
    for (int i = 0; i < count; i++) {
        if (mounts[i].kind != OVERLAY) continue;
        char parent[PATH_MAX], folder[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", mounts[i].upper);
        char *slash = strrchr(parent, '/');
        size_t length = slash ? (size_t)(slash - parent) : 0;
        if (!slash || strncmp(mounts[i].work, parent, length) != 0 || mounts[i].work[length] != '/' || strchr(mounts[i].work + length + 1, '/')) {
            errno = EINVAL;
            return fail("an overlay's upper and work folders must share a parent folder:", mounts[i].upper);
        }
        *slash = '\0';
        snprintf(name, sizeof name, "overlay-%d", i);
        if (cover(volume, name, parent, 0, 0, NULL) != 0) return 125;
        snprintf(folder, sizeof folder, "%s/%s/%s", volume->mount, name, slash + 1);
        if (mkdir(folder, 0755) != 0 || chown(folder, uid, gid) != 0) return fail("cannot make a folder on the job's volume:", folder);
        snprintf(folder, sizeof folder, "%s/%s/%s", volume->mount, name, mounts[i].work + length + 1);
        if (mkdir(folder, 0700) != 0) return fail("cannot make a folder on the job's volume:", folder);
    }
    return 0;
}

// Copies the tree in `from` into `to` (both open folders): folders, regular
// files and symbolic links, as the worker then takes them, owned as they were
// or by `owner` and `group` when given; `depth` bounds the recursion as
// PATH_MAX bounds a path.
static int copy_tree(int from, int to, int depth, const uid_t *owner, const gid_t *group) {
    if (depth > PATH_MAX / 2) {
        errno = ELOOP;
        return -1;
    }
    int listing = dup(from);
    DIR *folder = listing >= 0 ? fdopendir(listing) : NULL;
    if (!folder) {
        if (listing >= 0) close(listing);
        return -1;
    }
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir(folder))) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        struct stat status;
        if (fstatat(from, name, &status, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = -1;
        } else if (S_ISDIR(status.st_mode)) {
            int source = -1, target = -1;
            if ((mkdirat(to, name, status.st_mode & 07777) != 0 && errno != EEXIST)
                || (source = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
                || (target = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
                || fchown(target, owner ? *owner : status.st_uid, group ? *group : status.st_gid) != 0
                || copy_tree(source, target, depth + 1, owner, group) != 0) rc = -1;
            if (source >= 0) close(source);
            if (target >= 0) close(target);
        } else if (S_ISREG(status.st_mode)) {
            int source = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            int target = source < 0 ? -1 : openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, status.st_mode & 0777);
            if (target < 0) rc = -1;
            if (target >= 0 && copy_bytes(source, target, status.st_size) != 0) rc = -1;
            if (rc == 0 && fchown(target, owner ? *owner : status.st_uid, group ? *group : status.st_gid) != 0) rc = -1;
            if (source >= 0) close(source);
            if (target >= 0) close(target);
        } else if (S_ISLNK(status.st_mode)) {
            char link[PATH_MAX];
            ssize_t length = readlinkat(from, name, link, sizeof link - 1);
            if (length < 0) rc = -1;
            else {
                link[length] = '\0';
                if (symlinkat(link, to, name) != 0) rc = -1;
            }
        }
        // Sockets, pipes and devices: the worker leaves them out of outputs anyway.
    }
    closedir(folder);
    return rc;
}

int volume_detach(struct volume *volume, int succeeded, char *reason, size_t size) {
    int rc = 0;
    for (int i = 0; i < volume->count; i++) {
        struct volume_folder *folder = &volume->folders[i];
        if (folder->under < 0) continue;
        if (folder->kind == STATUS || succeeded) {
            char name[32];
            snprintf(name, sizeof name, "%d", i);
            int source = openat(volume->root, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (source < 0 || copy_tree(source, folder->under, 0, NULL, NULL) != 0) {
                fprintf(stderr, "shoal-sandbox: cannot copy %s from the job's volume: %s\n", folder->path, strerror(errno));
                if (reason && rc == 0) snprintf(reason, size, "the job's files in %s could not be copied from its volume: %s", folder->path, strerror(errno));
                rc = -1;
            }
            if (source >= 0) close(source);
        }
        close(folder->under);
        folder->under = -1;
    }
    if (volume->root >= 0) close(volume->root);
    volume->root = -1;
    return rc;
}

void volume_verdict(const struct volume *volume, char *reason, size_t size) {
    struct statvfs usage;
    if (volume->root < 0 || fstatvfs(volume->root, &usage) != 0) return;
    unsigned long long left = (unsigned long long)usage.f_bavail * usage.f_frsize;
    // Less than one block of 64 KiB, or no inode left: a write would have failed.
    if (left < 65536 || usage.f_favail == 0) {
        snprintf(reason, size, "the instance's volume (%lld MiB, %s) was full: a write in the job failed with ENOSPC", volume->bytes >> 20,
                 volume->capped ? "VolumeSizeInGB cut to the space free on the worker's disk" : "VolumeSizeInGB");
    }
}
