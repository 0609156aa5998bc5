// shoal-sandbox [--isolate-network] [--overlay TARGET LOWER UPPER WORK]... SANDBOX COMMAND [ARG...]
//
// Runs COMMAND with SANDBOX bind-mounted at /opt/ml in a private mount
// namespace and a PID namespace of its own, killed (SIGKILL) when its parent —
// the worker — dies. One exec instead of the setpriv → unshare → sh → mount
// chain util-linux would need.
//
// The PID namespace is what makes "no job outlives its worker" hold for every
// descendant, detached ones included (a new session and a double fork leave
// the process group a worker kills): its first process is a small init, this
// helper forked, which starts COMMAND, reaps whatever is orphaned to it, and
// ends when COMMAND ends; the kernel then kills every process left in the
// namespace. The init also dies with the helper (parent-death signal), so a
// worker killed outright takes the whole namespace with it. The helper stays
// outside as COMMAND's stand-in for the worker: it ends the way COMMAND ended
// (the same exit code, or killed by the same signal). A fresh /proc shows the
// job its own processes only.
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
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
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

// Signals a worker sends a job's process group, caught (not ignored: an
// ignored signal stays ignored across exec) so that the helper and the init
// live until COMMAND has acted on them; exec gives COMMAND the defaults back.
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
static void noop(int signal) { (void)signal; }

static int catch_job_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = noop;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
        if (sigaction(forwarded[i], &action, NULL) != 0) return -1;
    }
    return 0;
}

// PID 1 of the job's namespace: runs COMMAND, reaps everything, and reports
// COMMAND's wait status on `report`, then ends (and the kernel ends the rest).
static int init_process(int alive, int report, char **command) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail("prctl(PR_SET_PDEATHSIG) in the job's init", NULL);
    // The helper may have died before the signal was armed: its end of `alive` is then closed.
    struct pollfd check = {.fd = alive, .events = POLLIN};
    if (poll(&check, 1, 0) > 0 && (check.revents & (POLLHUP | POLLIN))) return 125;
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
        fprintf(stderr, "shoal-sandbox: warning: no fresh /proc (%s); the job sees the host's processes there\n", strerror(errno));
    }
    pid_t job = fork();
    if (job < 0) return fail("fork", NULL);
    if (job == 0) {
        if (chdir("/") != 0) return fail("chdir", "/");
        execvp(command[0], command);
        // The shell's convention: 127 for a command that cannot be found or run.
        fprintf(stderr, "shoal-sandbox: cannot run %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    for (;;) {
        int status;
        pid_t ended = waitpid(-1, &status, 0);
        if (ended < 0 && errno == EINTR) continue;
        if (ended < 0) return fail("waitpid", NULL);
        if (ended == job) {
            ssize_t wrote;
            do wrote = write(report, &status, sizeof status); while (wrote < 0 && errno == EINTR);
            return 0;
        }
    }
}

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
    if (unshare(CLONE_NEWNS | CLONE_NEWPID | (isolate ? CLONE_NEWNET : 0)) != 0) {
        return fail(isolate ? "unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET)" : "unshare(CLONE_NEWNS | CLONE_NEWPID)", NULL);
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
    if (catch_job_signals() != 0) return fail("sigaction", NULL);
    int alive[2], report[2];
    if (pipe2(alive, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) return fail("pipe2", NULL);
    pid_t init = fork();
    if (init < 0) return fail("fork", NULL);
    if (init == 0) {
        close(alive[1]);
        close(report[0]);
        _exit(init_process(alive[0], report[1], rest + 1));
    }
    close(alive[0]);
    close(report[1]);
    int init_status;
    while (waitpid(init, &init_status, 0) < 0) {
        if (errno != EINTR) return fail("waitpid", NULL);
    }
    int status;
    ssize_t got;
    do got = read(report[0], &status, sizeof status); while (got < 0 && errno == EINTR);
    // No report: the init failed before COMMAND ran, and said why on stderr.
    if (got != (ssize_t)sizeof status) return WIFEXITED(init_status) ? WEXITSTATUS(init_status) : 125;
    if (WIFSIGNALED(status)) {
        int signal = WTERMSIG(status);
        struct sigaction reset;
        memset(&reset, 0, sizeof reset);
        reset.sa_handler = SIG_DFL;
        sigaction(signal, &reset, NULL);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, signal);
        sigprocmask(SIG_UNBLOCK, &only, NULL);
        raise(signal);
        return 128 + signal;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
