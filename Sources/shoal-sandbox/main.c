// shoal-sandbox [--isolate-network] [--overlay TARGET LOWER UPPER WORK]... SANDBOX COMMAND [ARG...]
//
// Runs COMMAND with SANDBOX bind-mounted at /opt/ml in a private mount
// namespace, killed (SIGKILL) when its parent — the worker — dies. One exec
// instead of the setpriv → unshare → sh → mount chain util-linux would need.
//
// --overlay mounts an overlay at TARGET (a path under /opt/ml) over LOWER, with
// UPPER and WORK to take what the job writes: input files are hard links to the
// object store's files, and a job writing into its input must change a copy,
// never the stored object. Where the kernel refuses the overlay, the job runs
// without it and a warning says so.
//
// --isolate-network also gives the job a network namespace of its own with only
// loopback (up), and a private, empty /tmp, so neither the network nor the unix
// sockets other processes keep in /tmp (the coordinator's, for one) are reachable.
//
// Exit status 125 means the sandbox could not be set up; the reason is on stderr.
// The job never runs without the isolation it asked for.
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "shoal-sandbox: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
    return 125;
}

static int loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFFLAGS, &request);
    if (rc == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    close(fd);
    return rc;
}

#define MAX_OVERLAYS 64

int main(int argc, char **argv) {
    int isolate = 0, overlays = 0;
    char **overlay[MAX_OVERLAYS];
    char **rest = argv + 1, **end = argv + argc;
    while (rest < end) {
        if (strcmp(*rest, "--isolate-network") == 0) {
            isolate = 1;
            rest += 1;
        } else if (strcmp(*rest, "--overlay") == 0 && end - rest > 4 && overlays < MAX_OVERLAYS) {
            overlay[overlays++] = rest + 1;
            rest += 5;
        } else {
            break;
        }
    }
    if (end - rest < 2) {
        fprintf(stderr, "usage: shoal-sandbox [--isolate-network] [--overlay TARGET LOWER UPPER WORK]... SANDBOX COMMAND [ARG...]\n");
        return 125;
    }
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail("prctl(PR_SET_PDEATHSIG)", NULL);
    // The parent may have died before the signal was armed.
    if (getppid() != parent) return 125;
    if (unshare(CLONE_NEWNS | (isolate ? CLONE_NEWNET : 0)) != 0) {
        return fail(isolate ? "unshare(CLONE_NEWNS | CLONE_NEWNET)" : "unshare(CLONE_NEWNS)", NULL);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return fail("making / private", NULL);
    if (mount(rest[0], "/opt/ml", NULL, MS_BIND | MS_REC, NULL) != 0) return fail("bind-mounting at /opt/ml", rest[0]);
    for (int i = 0; i < overlays; i++) {
        // volatile (Linux 5.10+): the upper folder is scratch, thrown away with the
        // job; without it the overlay syncs the whole upper file system when the
        // namespace goes, which cost a third of a data-heavy run. Older kernels
        // refuse the option, and get the overlay with its sync.
        char options[12288];
        int length = snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s,volatile", overlay[i][1], overlay[i][2], overlay[i][3]);
        int fits = length > 0 && (size_t)length < sizeof options;
        if (!fits) errno = ENAMETOOLONG;
        int mounted = fits && mount("overlay", overlay[i][0], "overlay", 0, options) == 0;
        if (fits && !mounted && errno == EINVAL) {
            options[length - (int)strlen(",volatile")] = '\0';
            mounted = mount("overlay", overlay[i][0], "overlay", 0, options) == 0;
        }
        if (!mounted) {
            fprintf(stderr, "shoal-sandbox: warning: no overlay at %s (%s); a job writing into its input files there changes the stored objects\n",
                    overlay[i][0], strerror(errno));
        }
    }
    if (isolate) {
        if (loopback_up() != 0) return fail("bringing up loopback", NULL);
        if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777") != 0) return fail("mounting a private /tmp", NULL);
    }
    if (chdir("/") != 0) return fail("chdir", "/");
    execvp(rest[1], rest + 1);
    // The shell's convention: 127 for a command that cannot be found or run.
    fprintf(stderr, "shoal-sandbox: cannot run %s: %s\n", rest[1], strerror(errno));
    return 127;
}
