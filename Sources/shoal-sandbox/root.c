// The job's own root: nothing of the host but what is listed here, read-only.
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
#include <sys/syscall.h>
#include <unistd.h>

// The host's programs and libraries; on merged-/usr systems all but /usr are symbolic links.
static const char *const system_folders[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};

// What programs read from /etc: name resolution, certificates, the dynamic
// linker's cache, time zone, alternatives (Debian's /usr/bin links go through
// them). Not the host's users, keys, or anything a service configured.
static const char *const etc_entries[] = {
    "resolv.conf", "hosts", "host.conf", "nsswitch.conf", "gai.conf", "protocols", "services", "networks",
    "ssl", "ca-certificates", "ca-certificates.conf", "pki", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
    "localtime", "timezone", "alternatives", "mime.types", "os-release", "debian_version", "locale.alias",
    "magic", "magic.mime", "matplotlibrc", "fonts",
};

static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};

static int make_folders(char *path, mode_t mode) {
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
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

static int bind(const char *root, const char *source, const char *path, int read_only, unsigned long extra) {
    char target[PATH_MAX];
    struct stat status;
    if (inside(target, sizeof target, root, path) != 0) return fail("a mount target too long:", path);
    if (stat(source, &status) != 0) return fail("cannot mount", source);
    if (mount_point(target, &status) != 0) return fail("cannot make a mount point at", path);
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

static int write_file(const char *root, const char *path, const char *text) {
    char target[PATH_MAX];
    if (inside(target, sizeof target, root, path) != 0) return fail("a path too long:", path);
    int descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (descriptor < 0) return fail("cannot write", path);
    size_t length = strlen(text);
    ssize_t wrote = write(descriptor, text, length);
    close(descriptor);
    if (wrote != (ssize_t)length) return fail("cannot write", path);
    return 0;
}

static int system_folder(const char *root, const char *name) {
    char host[64], link[PATH_MAX], target[PATH_MAX];
    snprintf(host, sizeof host, "/%s", name);
    struct stat status;
    if (lstat(host, &status) != 0) return 0;
    if (S_ISLNK(status.st_mode)) {
        ssize_t length = readlink(host, link, sizeof link - 1);
        if (length < 0) return fail("cannot read the link", host);
        link[length] = '\0';
        if (inside(target, sizeof target, root, name) != 0 || symlink(link, target) != 0) return fail("cannot link", host);
        return 0;
    }
    return S_ISDIR(status.st_mode) ? bind(root, host, host, 1, MS_NOSUID | MS_NODEV) : 0;
}

static int etc_entry(const char *root, const char *name) {
    char host[PATH_MAX], resolved[PATH_MAX];
    snprintf(host, sizeof host, "/etc/%s", name);
    // A link (resolv.conf into /run, localtime into /usr/share) is mounted as what it names.
    if (realpath(host, resolved) == NULL) return 0;
    return bind(root, resolved, host, 1, MS_NOSUID | MS_NODEV);
}

static int accounts(const char *root, uid_t uid, gid_t gid, const char *user) {
    char passwd[512], group[512];
    snprintf(passwd, sizeof passwd, "root:x:0:0:root:/root:/usr/sbin/nologin\n%s:x:%u:%u:Shoal job:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
             user, (unsigned)uid, (unsigned)gid);
    snprintf(group, sizeof group, "root:x:0:\n%s:x:%u:\nnogroup:x:65534:\n", user, (unsigned)gid);
    if (write_file(root, "/etc/passwd", passwd) != 0) return 125;
    return write_file(root, "/etc/group", group);
}

static int device_folder(const char *root) {
    char path[PATH_MAX];
    if (inside(path, sizeof path, root, "/dev") != 0 || make_folders(path, 0755) != 0) return fail("cannot make", "/dev");
    if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") != 0) return fail("cannot mount a tmpfs at", "/dev");
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        char host[32];
        snprintf(host, sizeof host, "/dev/%s", devices[i]);
        if (bind(root, host, host, 0, 0) != 0) return 125;
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

int assemble_root(const char *root, const struct mount_request *mounts, int count, uid_t uid, gid_t gid, const char *user) {
    if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m") != 0) return fail("cannot mount the job's root at", root);
    for (size_t i = 0; i < sizeof system_folders / sizeof system_folders[0]; i++) {
        if (system_folder(root, system_folders[i]) != 0) return 125;
    }
    char path[PATH_MAX];
    static const char *const empty[] = {"/etc", "/proc", "/tmp", "/opt/ml", "/root"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        if (inside(path, sizeof path, root, empty[i]) != 0 || make_folders(path, 0755) != 0) return fail("cannot make", empty[i]);
    }
    for (size_t i = 0; i < sizeof etc_entries / sizeof etc_entries[0]; i++) {
        if (etc_entry(root, etc_entries[i]) != 0) return 125;
    }
    // Python's own configuration (Debian keeps sitecustomize.py there).
    DIR *etc = opendir("/etc");
    if (etc) {
        struct dirent *entry;
        while ((entry = readdir(etc)) != NULL) {
            if (strncmp(entry->d_name, "python", 6) == 0 && etc_entry(root, entry->d_name) != 0) {
                closedir(etc);
                return 125;
            }
        }
        closedir(etc);
    }
    if (accounts(root, uid, gid, user) != 0) return 125;
    if (device_folder(root) != 0) return 125;
    int private_tmp = 1;
    for (int i = 0; i < count; i++) {
        const struct mount_request *request = &mounts[i];
        if (strcmp(request->target, "/tmp") == 0) private_tmp = 0;
        int failed = request->kind == OVERLAY ? overlay(root, request)
                                              : bind(root, request->source, request->target, request->kind == BIND_READ_ONLY, MS_NOSUID | MS_NODEV);
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
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=755,size=1m") != 0) return fail("cannot make the job's root read-only", NULL);
    return 0;
}
