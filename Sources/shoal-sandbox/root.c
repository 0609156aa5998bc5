// The job's own root: the skeleton (skeleton.c), the host's system folders
// read-only, a minimal /dev, and the job's own mounts; nothing else of the host.
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};

// The folders of `path` below its first `skip` bytes (a folder that exists:
// the new root), so the host's own folders above it are not tried each time.
static size_t skip = 1;

static int make_folders(char *path, mode_t mode) {
    if (mkdir(path, mode) == 0 || errno == EEXIST) return 0;
    if (errno != ENOENT) return -1;
    for (char *slash = strchr(path + (strlen(path) > skip ? skip : 1), '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int made = mkdir(path, mode) == 0 || errno == EEXIST;
        *slash = '/';
        if (!made) return -1;
    }
    return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

static int inside(char *buffer, size_t size, const char *root, const char *path) {
    int length = snprintf(buffer, size, "%s/%s", root, path[0] == '/' ? path + 1 : path);
    if (length < 0 || (size_t)length >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

// Creates what `source` can be mounted on at `target`: a folder, or an empty file.
static int mount_point(char *target, const struct stat *source) {
    if (S_ISDIR(source->st_mode)) return make_folders(target, 0755);
    char *slash = strrchr(target, '/');
    *slash = '\0';
    int made = make_folders(target, 0755);
    *slash = '/';
    if (made != 0) return -1;
    int descriptor = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (descriptor < 0) return -1;
    close(descriptor);
    return 0;
}

// Mounts `source` at `path` in the new root; where nothing is there to mount
// on, makes it if `create` (a tmpfs of the job's), else refuses: the cached
// skeleton is shared by every job and stays as built.
static int bind(const char *root, const char *source, const char *path, int read_only, unsigned long extra, int create) {
    char target[PATH_MAX];
    struct stat status, existing;
    if (inside(target, sizeof target, root, path) != 0) return fail("a mount target too long:", path);
    if (stat(source, &status) != 0) return fail("cannot mount", source);
    if (stat(target, &existing) != 0) {
        if (!create) return fail("no mount point in the job's root for", path);
        if (mount_point(target, &status) != 0) return fail("cannot make a mount point at", path);
    }
    if (mount(source, target, NULL, MS_BIND | MS_REC, NULL) != 0) return fail("cannot bind-mount", source);
    if (read_only && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, NULL) != 0) {
        return fail("cannot make read-only", path);
    }
    return 0;
}

static int overlay(const char *root, const struct mount_request *request) {
    char target[PATH_MAX], options[3 * PATH_MAX + 64];
    if (inside(target, sizeof target, root, request->target) != 0) return fail("an overlay target too long:", request->target);
    // volatile (Linux 5.10+): the upper folder is scratch, thrown away with the
    // job; without it the overlay syncs the whole upper file system when the
    // namespace goes, which cost a third of a data-heavy run. Older kernels
    // refuse the option, and get the overlay with its sync.
    int length = snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s,volatile", request->source, request->upper, request->work);
    int fits = length > 0 && (size_t)length < sizeof options;
    if (!fits) errno = ENAMETOOLONG;
    int mounted = fits && mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, options) == 0;
    if (fits && !mounted && errno == EINVAL) {
        options[length - (int)strlen(",volatile")] = '\0';
        mounted = mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, options) == 0;
    }
    // The input's files are the job user's to read, not to write: without the
    // overlay a job cannot change them, only not write beside them.
    if (!mounted) {
        fprintf(stderr, "shoal-sandbox: warning: no overlay at %s (%s); the job cannot write into its input folder there\n", request->target, strerror(errno));
    }
    return 0;
}

static int device_folder(const char *root) {
    char path[PATH_MAX];
    if (inside(path, sizeof path, root, "/dev") != 0 || make_folders(path, 0755) != 0) return fail("cannot make", "/dev");
    if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") != 0) return fail("cannot mount a tmpfs at", "/dev");
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        char host[32];
        snprintf(host, sizeof host, "/dev/%s", devices[i]);
        if (bind(root, host, host, 0, 0, 1) != 0) return 125;
    }
    static const char *const links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        char target[PATH_MAX];
        snprintf(target, sizeof target, "%s/%s", path, links[i][1]);
        if (symlink(links[i][0], target) != 0) return fail("cannot link /dev/", links[i][1]);
    }
    char shm[PATH_MAX];
    snprintf(shm, sizeof shm, "%s/shm", path);
    if (mkdir(shm, 01777) != 0 || mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") != 0) return fail("cannot mount", "/dev/shm");
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") != 0) return fail("cannot make read-only", "/dev");
    return 0;
}

// Whether the skeleton's own device nodes work: made (as root), on a file
// system that allows devices.
static int skeleton_devices_usable(const char *skeleton) {
    char null[PATH_MAX];
    struct stat status;
    struct statvfs volume;
    snprintf(null, sizeof null, "%s/dev/null", skeleton);
    return stat(null, &status) == 0 && S_ISCHR(status.st_mode) && statvfs(skeleton, &volume) == 0 && !(volume.f_flag & ST_NODEV);
}

int assemble_root(const char *root, const char *cache, const struct mount_request *mounts, int count, uid_t uid, gid_t gid, const char *user) {
    skip = strlen(root);
    int devices = 0;
    if (cache) {
        char skeleton[PATH_MAX];
        if (cached_skeleton(cache, uid, gid, user, skeleton, sizeof skeleton) != 0) return 125;
        if (mount(skeleton, root, NULL, MS_BIND, NULL) != 0) return fail("cannot bind the job's root at", root);
        devices = skeleton_devices_usable(skeleton);
    } else {
        if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=4m") != 0) return fail("cannot mount the job's root at", root);
        if (build_skeleton(root, uid, gid, user) != 0) return 125;
    }
    for (int i = 0; i < SYSTEM_FOLDERS; i++) {
        char host[64];
        struct stat status;
        snprintf(host, sizeof host, "/%s", system_folders[i]);
        if (lstat(host, &status) == 0 && S_ISDIR(status.st_mode) && bind(root, host, host, 1, MS_NOSUID | MS_NODEV, 0) != 0) return 125;
    }
    if (!devices && device_folder(root) != 0) return 125;
    int private_tmp = 1;
    char path[PATH_MAX];
    for (int i = 0; i < count; i++) {
        const struct mount_request *request = &mounts[i];
        if (strcmp(request->target, "/tmp") == 0) private_tmp = 0;
        // Targets inside /opt/ml lie in the job's own folder, mounted by then: made there when missing.
        int own = cache == NULL || strncmp(request->target, "/opt/ml/", 8) == 0;
        int failed = request->kind == OVERLAY ? overlay(root, request)
                                              : bind(root, request->source, request->target, request->kind == BIND_READ_ONLY, MS_NOSUID | MS_NODEV, own);
        if (failed) return 125;
    }
    if (private_tmp) {
        if (inside(path, sizeof path, root, "/tmp") != 0 || mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777") != 0) {
            return fail("cannot mount a private", "/tmp");
        }
    }
    return 0;
}

int enter_root(const char *root) {
    // pivot_root(".", ".") stacks the old root under the new one, then the
    // detach takes it away: no folder for the old root is needed.
    if (chdir(root) != 0) return fail("cannot enter", root);
    if (syscall(SYS_pivot_root, ".", ".") != 0) return fail("pivot_root into", root);
    if (umount2(".", MNT_DETACH) != 0) return fail("cannot detach the host's root", NULL);
    if (chdir("/") != 0) return fail("chdir", "/");
    // Not nodev unless it was: the skeleton's /dev may hold the devices (a
    // read-only mount keeps them usable). The flags the root already has are
    // kept: in a user namespace a mount's own flags are locked.
    struct statvfs volume;
    unsigned long keep = 0;
    if (statvfs("/", &volume) == 0) {
        if (volume.f_flag & ST_NODEV) keep |= MS_NODEV;
        if (volume.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
        if (volume.f_flag & ST_NOATIME) keep |= MS_NOATIME;
        if (volume.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
        if (volume.f_flag & ST_RELATIME) keep |= MS_RELATIME;
    }
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | keep, NULL) != 0) return fail("cannot make the job's root read-only", NULL);
    return 0;
}
