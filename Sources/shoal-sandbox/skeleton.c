// The unchanging part of a job's root: links to /usr, mount points, and the
// /etc a job may read, copied. The same for every job of a user until the
// host's /etc changes, so it is built once into a cache folder (under a lock)
// and bound read-only into each job's root: a copy per job cost more than the
// rest of its sandbox.
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <ftw.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

const char *const system_folders[SYSTEM_FOLDERS] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};

// What programs read from /etc: name resolution, certificates, the dynamic
// linker's cache, time zone, alternatives (Debian's /usr/bin links go through
// them), and (found by name) Python's own. Not the host's users, keys, or
// anything a service configured; and of these, only what any user of the host
// may read (/etc/ssl/private stays out).
static const char *const etc_entries[] = {
    "resolv.conf", "hosts", "host.conf", "nsswitch.conf", "gai.conf", "protocols", "services", "networks",
    "ssl", "ca-certificates", "ca-certificates.conf", "pki", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
    "localtime", "timezone", "alternatives", "mime.types", "os-release", "debian_version", "locale.alias",
    "magic", "magic.mime", "matplotlibrc", "fonts",
};
#define ETC_ENTRIES (sizeof etc_entries / sizeof etc_entries[0])

// Mount points every job's root has; a job's mounts must land on one of these (or inside /opt/ml).
static const char *const mount_points[] = {"/usr", "/etc", "/proc", "/tmp", "/dev", "/opt/ml", "/var/task", "/root"};

static int readable_by_anyone(const struct stat *status) {
    return S_ISDIR(status->st_mode) ? (status->st_mode & (S_IROTH | S_IXOTH)) == (S_IROTH | S_IXOTH) : (status->st_mode & S_IROTH) != 0;
}

static int copy_file(const char *source, const char *target, mode_t mode) {
    char buffer[65536];
    int from = open(source, O_RDONLY | O_CLOEXEC);
    if (from < 0) return 0;  // gone meanwhile: left out, as a missing entry is
    int to = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0755);
    if (to < 0) {
        close(from);
        return fail("cannot create", target);
    }
    ssize_t got;
    long long total = 0;
    int failed = 0;
    while (!failed && (got = read(from, buffer, sizeof buffer)) > 0) {
        total += got;
        failed = total > (16 << 20) || write(to, buffer, (size_t)got) != got;
    }
    close(from);
    close(to);
    return failed || got < 0 ? fail("cannot copy", source) : 0;
}

// Copies `source` (a file, a link, or a folder, at most `depth` deep) to `target`, keeping links as links.
static int copy_entry(const char *source, const char *target, int depth) {
    struct stat status;
    if (lstat(source, &status) != 0) return 0;
    if (S_ISLNK(status.st_mode)) {
        char link[PATH_MAX];
        ssize_t length = readlink(source, link, sizeof link - 1);
        if (length < 0) return 0;
        link[length] = '\0';
        return symlink(link, target) == 0 ? 0 : fail("cannot link", target);
    }
    if (!readable_by_anyone(&status)) return 0;
    if (S_ISREG(status.st_mode)) return copy_file(source, target, status.st_mode);
    if (!S_ISDIR(status.st_mode) || depth == 0) return 0;
    if (mkdir(target, 0755) != 0) return fail("cannot make", target);
    DIR *folder = opendir(source);
    if (!folder) return 0;
    struct dirent *entry;
    int failed = 0;
    while (!failed && (entry = readdir(folder)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        char from[PATH_MAX], to[PATH_MAX];
        if (snprintf(from, sizeof from, "%s/%s", source, entry->d_name) >= (int)sizeof from) continue;
        if (snprintf(to, sizeof to, "%s/%s", target, entry->d_name) >= (int)sizeof to) continue;
        failed = copy_entry(from, to, depth - 1) != 0;
    }
    closedir(folder);
    return failed ? 125 : 0;
}

// A link (resolv.conf into /run, localtime into /usr/share) at the top of /etc stands for what it names.
static int copy_etc_entry(const char *folder, const char *name) {
    char host[PATH_MAX], resolved[PATH_MAX], target[PATH_MAX];
    snprintf(host, sizeof host, "/etc/%s", name);
    snprintf(target, sizeof target, "%s/etc/%s", folder, name);
    struct stat status;
    if (lstat(host, &status) != 0) return 0;
    if (S_ISLNK(status.st_mode)) {
        if (realpath(host, resolved) == NULL) return 0;
        return copy_entry(resolved, target, 6);
    }
    return copy_entry(host, target, 6);
}

// The devices a job may open, made in the skeleton as root: with them there,
// a job's /dev costs no mount of its own (a tmpfs and six binds did). Rootless,
// mknod is refused, and the root gets a /dev of binds instead (root.c).
static void make_devices(const char *folder) {
    static const struct { const char *name; unsigned major, minor; } nodes[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    };
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        snprintf(path, sizeof path, "%s/dev/%s", folder, nodes[i].name);
        if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) != 0) return;
        chmod(path, 0666);
    }
    static const char *const links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"}, {"/tmp", "shm"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(path, sizeof path, "%s/dev/%s", folder, links[i][1]);
        if (symlink(links[i][0], path) != 0) return;
    }
}

static int is_python_entry(const char *name) { return strncmp(name, "python", 6) == 0; }

static int write_text(const char *path, const char *text) {
    int descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (descriptor < 0) return fail("cannot create", path);
    size_t length = strlen(text);
    ssize_t wrote = write(descriptor, text, length);
    close(descriptor);
    return wrote == (ssize_t)length ? 0 : fail("cannot write", path);
}

int build_skeleton(const char *folder, uid_t uid, gid_t gid, const char *user) {
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof mount_points / sizeof mount_points[0]; i++) {
        snprintf(path, sizeof path, "%s%s", folder, mount_points[i]);
        char *slash = strchr(path + strlen(folder) + 1, '/');
        if (slash) {
            *slash = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST) return fail("cannot make", path);
            *slash = '/';
        }
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return fail("cannot make", path);
    }
    for (int i = 0; i < SYSTEM_FOLDERS; i++) {
        char host[64], link[PATH_MAX];
        snprintf(host, sizeof host, "/%s", system_folders[i]);
        snprintf(path, sizeof path, "%s/%s", folder, system_folders[i]);
        struct stat status;
        if (lstat(host, &status) != 0) continue;
        if (S_ISLNK(status.st_mode)) {
            ssize_t length = readlink(host, link, sizeof link - 1);
            if (length < 0) return fail("cannot read the link", host);
            link[length] = '\0';
            if (symlink(link, path) != 0) return fail("cannot link", path);
        } else if (S_ISDIR(status.st_mode) && mkdir(path, 0755) != 0 && errno != EEXIST) {
            return fail("cannot make", path);
        }
    }
    for (size_t i = 0; i < ETC_ENTRIES; i++) {
        if (copy_etc_entry(folder, etc_entries[i]) != 0) return 125;
    }
    DIR *etc = opendir("/etc");
    if (etc) {
        struct dirent *entry;
        while ((entry = readdir(etc)) != NULL) {
            if (is_python_entry(entry->d_name) && copy_etc_entry(folder, entry->d_name) != 0) {
                closedir(etc);
                return 125;
            }
        }
        closedir(etc);
    }
    make_devices(folder);
    char passwd[512], group[512];
    // Rootless, the job is root of its namespace: root is its only account.
    if (uid == 0) {
        snprintf(passwd, sizeof passwd, "root:x:0:0:root:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
        snprintf(group, sizeof group, "root:x:0:\nnogroup:x:65534:\n");
    } else {
        snprintf(passwd, sizeof passwd, "root:x:0:0:root:/root:/usr/sbin/nologin\n%s:x:%u:%u:Shoal job:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                 user, (unsigned)uid, (unsigned)gid);
        snprintf(group, sizeof group, "root:x:0:\n%s:x:%u:\nnogroup:x:65534:\n", user, (unsigned)gid);
    }
    snprintf(path, sizeof path, "%s/etc/passwd", folder);
    if (write_text(path, passwd) != 0) return 125;
    snprintf(path, sizeof path, "%s/etc/group", folder);
    return write_text(path, group);
}

static void mix(unsigned long long *hash, const void *bytes, size_t length) {
    for (size_t i = 0; i < length; i++) {
        *hash ^= ((const unsigned char *)bytes)[i];
        *hash *= 1099511628211ULL;
    }
}

static void mix_status(unsigned long long *hash, const char *path) {
    struct stat status;
    memset(&status, 0, sizeof status);
    if (lstat(path, &status) == 0 && S_ISLNK(status.st_mode)) stat(path, &status);
    long long fields[] = {(long long)status.st_ino, (long long)status.st_size, (long long)status.st_mtim.tv_sec,
                          (long long)status.st_mtim.tv_nsec, (long long)status.st_mode};
    mix(hash, fields, sizeof fields);
}

// Changes whenever an entry the skeleton copies changes (its own time, size,
// inode), a folder among them gains or loses an entry, one level down included
// (the certificates), or the job's user does.
static unsigned long long skeleton_key(uid_t uid, gid_t gid, const char *user) {
    unsigned long long hash = 14695981039346656037ULL;
    const char version[] = "skeleton-2";
    mix(&hash, version, sizeof version);
    unsigned ids[] = {(unsigned)uid, (unsigned)gid};
    mix(&hash, ids, sizeof ids);
    mix(&hash, user, strlen(user));
    mix_status(&hash, "/etc");
    char path[PATH_MAX];
    for (size_t i = 0; i < ETC_ENTRIES; i++) {
        snprintf(path, sizeof path, "/etc/%s", etc_entries[i]);
        mix_status(&hash, path);
        DIR *folder = opendir(path);
        if (!folder) continue;
        struct dirent *entry;
        while ((entry = readdir(folder)) != NULL) {
            if (entry->d_type != DT_DIR || entry->d_name[0] == '.') continue;
            char inner[PATH_MAX];
            if (snprintf(inner, sizeof inner, "%s/%s", path, entry->d_name) < (int)sizeof inner) mix_status(&hash, inner);
        }
        closedir(folder);
    }
    return hash;
}

static int remove_entry(const char *path, const struct stat *status, int type, struct FTW *walk) {
    (void)status, (void)walk;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

void remove_unused_for_a_week(const char *cache, const char *prefix, const char *current) {
    DIR *folder = opendir(cache);
    if (!folder) return;
    struct dirent *entry;
    time_t week_ago = time(NULL) - 7 * 86400;
    while ((entry = readdir(folder)) != NULL) {
        char path[PATH_MAX];
        struct stat status;
        if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0) continue;
        if (snprintf(path, sizeof path, "%s/%s", cache, entry->d_name) >= (int)sizeof path || strcmp(path, current) == 0) continue;
        if (lstat(path, &status) != 0 || status.st_mtime >= week_ago) continue;
        if (S_ISDIR(status.st_mode)) nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        else unlink(path);
    }
    closedir(folder);
}

int cached_skeleton(const char *cache, uid_t uid, gid_t gid, const char *user, char *path, size_t size) {
    if (snprintf(path, size, "%s/root-%016llx", cache, skeleton_key(uid, gid, user)) >= (int)size) {
        errno = ENAMETOOLONG;
        return fail("a cache path too long:", cache);
    }
    struct stat status;
    if (stat(path, &status) == 0) {
        // Its time says when a job last started on it (to within a day), which is what keeps it.
        if (status.st_mtime < time(NULL) - 86400) utimensat(AT_FDCWD, path, NULL, 0);
        return 0;
    }
    if (mkdir(cache, 0755) != 0 && errno != EEXIST) return fail("cannot make the sandbox cache", cache);
    char lock_path[PATH_MAX], building[PATH_MAX];
    snprintf(lock_path, sizeof lock_path, "%s/lock", cache);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) return fail("cannot lock", lock_path);
    int result = 0;
    // Another helper may have built it while this one waited.
    if (stat(path, &status) != 0) {
        snprintf(building, sizeof building, "%s.building-%d", path, (int)getpid());
        if (mkdir(building, 0755) != 0) {
            result = fail("cannot make", building);
        } else if ((result = build_skeleton(building, uid, gid, user)) == 0 && rename(building, path) != 0) {
            result = fail("cannot move the sandbox skeleton into", path);
        }
        // Skeletons of an /etc since changed: a running job may have one as its root.
        if (result == 0) remove_unused_for_a_week(cache, "root-", path);
    }
    close(lock);
    return result;
}
