// shoal-sandbox --root DIR --user UID:GID:NAME [--isolate-network] [--workdir DIR]
//               [--bind SOURCE TARGET]... [--bind-ro SOURCE TARGET]... [--overlay TARGET LOWER UPPER WORK]...
//               [--memory BYTES] [--processes N] [--files N] [--report FILE] [--cache DIR]
//               [--volume BYTES IMAGE DIR [--volume-output PATH]... [--volume-status PATH]... [--volume-scratch PATH]...]
//               -- COMMAND [ARG...]
//
// Runs COMMAND as an unprivileged user in a root of its own, assembled in DIR
// (an empty folder): the host's /usr (and its links) and /etc essentials
// read-only, a minimal /dev, a fresh /proc, a private /tmp unless one is bound,
// and the mounts asked for, in order (TARGETs are paths inside the new root).
// Nothing else of the host is there: not its home folders, keys, other jobs'
// folders or the worker's. The job gets no capabilities, no_new_privs and a
// seccomp filter, and its memory and process count are limited by cgroups
// where mounted (resource limits otherwise). --report names a host file where
// the helper writes which limit, if any, ended the job. --cache names a folder
// (root's) where the part of the root that every job shares is kept between
// jobs; without it, that part is built afresh in a tmpfs for each job.
//
// The job runs in mount and PID namespaces of its own (a network namespace
// with loopback only with --isolate-network), and is killed (SIGKILL) when the
// helper's parent — the worker — dies. The PID namespace makes "no job
// outlives its worker" hold for every descendant, detached ones included: its
// first process is a small init this helper forks, which starts COMMAND, reaps
// whatever is orphaned to it, and ends when COMMAND ends; the kernel then kills
// every process left in the namespace. The helper stays outside as COMMAND's
// stand-in for the worker: it ends the way COMMAND ended (the same exit code,
// or killed by the same signal).
//
// --overlay puts an overlay at TARGET over LOWER, with UPPER and WORK taking
// what the job writes: input files are hard links to the object store's files,
// and a job writing into its input folder must change a copy, never the stored
// object.
//
// shoal-sandbox --unsandboxed -- COMMAND [ARG...] is the fallback of a worker
// started with --unsandboxed (and of local mode without root): no isolation at
// all, only "no job outlives its worker", without namespaces: the helper is a
// child subreaper, so every descendant of COMMAND that loses its parent (a
// double fork included) becomes its child, and all of them are killed when
// COMMAND ends or when the worker dies.
//
// --rootless, for a worker that is not root, builds the same root inside a user
// namespace of the job's own, where the worker's user is mapped to root: the
// job keeps that user's identity on the host (and no capability there), and
// --user is not needed. Memory and processes are then held by resource limits:
// an unprivileged user cannot make cgroups.
//
// --volume bounds what the job writes (volume.c): an ext4 of BYTES in a new
// sparse file IMAGE, mounted on the empty folder DIR in the helper's
// namespace, covering each host folder named by --volume-output (copied back
// when COMMAND exits 0), --volume-status (copied back always) and
// --volume-scratch (dropped), and the upper folders of the overlays.
//
// Exit status 125 means the sandbox could not be set up; the reason is on stderr.
// The job never runs without the isolation it asked for.
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int fail(const char *what, const char *detail) {
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

#define MAX_MOUNTS 128

struct options {
    int unsandboxed, rootless;
    const char *root, *user, *workdir, *report, *cache;
    uid_t uid;
    gid_t gid;
    int isolate;
    struct mount_request mounts[MAX_MOUNTS];
    int mount_count;
    struct limits limits;
    struct volume volume;
    char **command;
};

static int usage(const char *problem) {
    fprintf(stderr, "shoal-sandbox: %s\nusage: shoal-sandbox --root DIR --user UID:GID:NAME [--isolate-network] [--workdir DIR] "
                    "[--bind SOURCE TARGET]... [--bind-ro SOURCE TARGET]... [--overlay TARGET LOWER UPPER WORK]... "
                    "[--memory BYTES] [--processes N] [--files N] [--report FILE] [--cache DIR] "
                    "[--volume BYTES IMAGE DIR [--volume-output PATH]... [--volume-status PATH]... [--volume-scratch PATH]...] -- COMMAND [ARG...]\n", problem);
    return 125;
}

static int parse(int argc, char **argv, struct options *options) {
    memset(options, 0, sizeof *options);
    options->workdir = "/";
    options->volume.root = -1;
    char **at = argv + 1, **end = argv + argc;
    while (at < end && strcmp(*at, "--") != 0) {
        const char *flag = *at;
        long left = end - at - 1;
        int mounting = strcmp(flag, "--bind") == 0 || strcmp(flag, "--bind-ro") == 0 || strcmp(flag, "--overlay") == 0;
        if (mounting && options->mount_count == MAX_MOUNTS) return usage("too many mounts");
        struct mount_request *request = &options->mounts[options->mount_count];
        if (strcmp(flag, "--unsandboxed") == 0 || strcmp(flag, "--rootless") == 0) {
            if (flag[2] == 'u') options->unsandboxed = 1; else options->rootless = 1;
            at += 1;
            continue;
        }
        if (strcmp(flag, "--isolate-network") == 0) {
            options->isolate = 1;
            at += 1;
            continue;
        }
        if (strcmp(flag, "--volume") == 0) {
            if (left < 3) return usage("--volume takes BYTES IMAGE DIR");
            options->volume.bytes = atoll(at[1]);
            options->volume.image = at[2];
            options->volume.mount = at[3];
            if (options->volume.bytes < (8LL << 20)) return usage("a volume holds at least 8 MiB");
            at += 4;
            continue;
        }
        if (strncmp(flag, "--volume-", 9) == 0) {
            struct volume_folder *folder = &options->volume.folders[options->volume.count];
            if (strcmp(flag + 9, "output") == 0) folder->kind = OUTPUT;
            else if (strcmp(flag + 9, "status") == 0) folder->kind = STATUS;
            else if (strcmp(flag + 9, "scratch") == 0) folder->kind = SCRATCH;
            else return usage("unknown option");
            if (left < 1) return usage("an option lacks its value");
            if (options->volume.count == MAX_VOLUME_FOLDERS) return usage("too many volume folders");
            folder->path = at[1];
            folder->under = -1;
            options->volume.count++;
            at += 2;
            continue;
        }
        if (mounting && strcmp(flag, "--overlay") == 0) {
            if (left < 4) return usage("--overlay takes TARGET LOWER UPPER WORK");
            *request = (struct mount_request){OVERLAY, at[2], at[1], at[3], at[4]};
            options->mount_count++;
            at += 5;
            continue;
        }
        if (mounting) {
            if (left < 2) return usage("--bind and --bind-ro take SOURCE TARGET");
            *request = (struct mount_request){strcmp(flag, "--bind") == 0 ? BIND : BIND_READ_ONLY, at[1], at[2], NULL, NULL};
            if (request->target[0] != '/') return usage("a mount target must be an absolute path");
            options->mount_count++;
            at += 3;
            continue;
        }
        if (left < 1) return usage("an option lacks its value");
        const char *value = at[1];
        if (strcmp(flag, "--root") == 0) options->root = value;
        else if (strcmp(flag, "--user") == 0) options->user = value;
        else if (strcmp(flag, "--workdir") == 0) options->workdir = value;
        else if (strcmp(flag, "--report") == 0) options->report = value;
        else if (strcmp(flag, "--cache") == 0) options->cache = value;
        else if (strcmp(flag, "--memory") == 0) options->limits.memory = atoll(value);
        else if (strcmp(flag, "--processes") == 0) options->limits.processes = atol(value);
        else if (strcmp(flag, "--files") == 0) options->limits.files = atol(value);
        else return usage("unknown option");
        at += 2;
    }
    if (at == end || at + 1 == end) return usage("no command");
    options->command = at + 1;
    if (options->unsandboxed) return 0;
    if (!options->root) return usage("--root is required");
    if (options->volume.count > 0 && options->volume.bytes == 0) return usage("--volume-output, --volume-status and --volume-scratch need --volume");
    if (options->rootless) {
        // Loop devices are the host root's.
        if (options->volume.bytes > 0) return usage("--volume needs root (loop devices), not --rootless");
        // Root of its own user namespace, and nobody else is there.
        options->uid = 0;
        options->gid = 0;
        options->user = "root";
        return 0;
    }
    if (!options->user) return usage("--user is required (or --rootless)");
    unsigned uid, gid;
    int name_at = 0;
    if (sscanf(options->user, "%u:%u:%n", &uid, &gid, &name_at) != 2 || name_at == 0 || options->user[name_at] == '\0') {
        return usage("--user takes UID:GID:NAME");
    }
    if (uid == 0 || gid == 0) return usage("a job never runs as root");
    options->uid = uid;
    options->gid = gid;
    options->user += name_at;
    return 0;
}

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

// Writes `text` into an existing file of /proc: 0, or -1 when it could not.
static int write_proc(const char *file, const char *text) {
    int descriptor = open(file, O_WRONLY | O_CLOEXEC);
    if (descriptor < 0) return -1;
    ssize_t length = (ssize_t)strlen(text);
    ssize_t wrote = write(descriptor, text, (size_t)length);
    close(descriptor);
    return wrote == length ? 0 : -1;
}

// The job's own process, from root in the new root to the unprivileged user
// that runs COMMAND; never returns.
static void become_job(const struct options *options, const struct cgroups *groups) {
    // The helper and init are shielded from the OOM killer; the job must not be.
    (void)write_proc("/proc/self/oom_score_adj", "0");
    if (apply_rlimits(&options->limits, groups) != 0) _exit(125);
    if (chdir(options->workdir) != 0) _exit(fail("cannot enter the working folder", options->workdir));
    for (int capability = 0; capability <= 63; capability++) {
        if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno == EINVAL) break;
    }
    // Rootless, the job stays root of its user namespace (the worker's user on
    // the host): with the bounding set empty, exec leaves it no capability.
    if (!options->rootless) {
        if (setgroups(0, NULL) != 0 || setresgid(options->gid, options->gid, options->gid) != 0) _exit(fail("cannot take the job's group", NULL));
        if (setresuid(options->uid, options->uid, options->uid) != 0) _exit(fail("cannot become the job's user", options->user));
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) _exit(fail("cannot clear ambient capabilities", NULL));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(fail("prctl(PR_SET_NO_NEW_PRIVS)", NULL));
    if (install_seccomp() != 0) _exit(125);
    execvp(options->command[0], options->command);
    // The shell's convention: 127 for a command that cannot be found or run.
    fprintf(stderr, "shoal-sandbox: cannot run %s: %s\n", options->command[0], strerror(errno));
    _exit(127);
}

// PID 1 of the job's namespace: runs COMMAND, reaps everything, and reports
// COMMAND's wait status on `report`, then ends (and the kernel ends the rest).
//
// Its /proc is mounted in the new root before the helper enters it: in a user
// namespace the kernel allows a new proc only while one is fully visible, as
// the host's still is then. `ready` tells the helper it is mounted; a byte on
// `alive` says the root was entered (its end of file, that the helper died).
static int init_process(int alive, int ready, int report, const struct options *options, const struct cgroups *groups) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail("prctl(PR_SET_PDEATHSIG) in the job's init", NULL);
    // The helper may have died before the signal was armed: its end of `alive` is then closed.
    struct pollfd check = {.fd = alive, .events = POLLIN};
    if (poll(&check, 1, 0) > 0 && (check.revents & (POLLHUP | POLLIN))) return 125;
    char proc[4096];
    snprintf(proc, sizeof proc, "%s/proc", options->root);
    if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") != 0) return fail("cannot mount a fresh /proc", NULL);
    char byte = 1;
    ssize_t moved;
    do moved = write(ready, &byte, 1); while (moved < 0 && errno == EINTR);
    close(ready);
    do moved = read(alive, &byte, 1); while (moved < 0 && errno == EINTR);
    if (moved != 1) return 125;
    if (chdir("/") != 0) return fail("chdir", "/");
    pid_t job = fork();
    if (job < 0) return fail("fork", NULL);
    if (job == 0) become_job(options, groups);
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

// A user namespace where this process's user is root; what follows (mounts,
// namespaces, pivot_root) needs no privilege on the host.
static int enter_user_namespace(void) {
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) != 0) return fail("unshare(CLONE_NEWUSER): this kernel refuses unprivileged user namespaces", NULL);
    snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
    if (write_proc("/proc/self/setgroups", "deny") != 0 || write_proc("/proc/self/uid_map", map) != 0) return fail("cannot map the user into its namespace", NULL);
    snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
    if (write_proc("/proc/self/gid_map", map) != 0) return fail("cannot map the group into its namespace", NULL);
    return 0;
}

static int set_up(struct options *options, struct cgroups *groups, int *verdict) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail("prctl(PR_SET_PDEATHSIG)", NULL);
    // The parent may have died before the signal was armed.
    if (getppid() != parent) return 125;
    (void)write_proc("/proc/self/oom_score_adj", "-1000");
    if (options->report) {
        *verdict = open(options->report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (*verdict < 0) return fail("cannot create", options->report);
    }
    if (options->rootless) {
        if (enter_user_namespace() != 0) return 125;
    } else if (cgroups_enter(&options->limits, groups) != 0) {
        return 125;
    }
    if (unshare(CLONE_NEWNS) != 0) return fail("unshare(CLONE_NEWNS)", NULL);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return fail("making / private", NULL);
    // Before the PID namespace: making a volume may run mke2fs, and the first
    // child forked after unshare(CLONE_NEWPID) must be the job's init.
    if (options->volume.bytes > 0 && volume_attach(&options->volume, options->cache, options->mounts, options->mount_count, options->uid, options->gid) != 0) return 125;
    if (unshare(CLONE_NEWPID | (options->isolate ? CLONE_NEWNET : 0)) != 0) {
        return fail(options->isolate ? "unshare(CLONE_NEWPID | CLONE_NEWNET)" : "unshare(CLONE_NEWPID)", NULL);
    }
    if (assemble_root(options->root, options->cache, options->mounts, options->mount_count, options->uid, options->gid, options->user) != 0) return 125;
    if (options->isolate && loopback_up() != 0) return fail("bringing up loopback", NULL);
    if (catch_job_signals() != 0) return fail("sigaction", NULL);
    return 0;
}

static int run(struct options *options, struct cgroups *groups, int verdict) {
    int alive[2], ready[2], report[2];
    if (pipe2(alive, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) return fail("pipe2", NULL);
    pid_t init = fork();
    if (init < 0) return fail("fork", NULL);
    if (init == 0) {
        close(alive[1]);
        close(ready[0]);
        close(report[0]);
        _exit(init_process(alive[0], ready[1], report[1], options, groups));
    }
    close(alive[0]);
    close(ready[1]);
    close(report[1]);
    char byte = 1;
    ssize_t moved;
    do moved = read(ready[0], &byte, 1); while (moved < 0 && errno == EINTR);
    close(ready[0]);
    // Without its /proc the init has said why and ends; the helper ends as it does.
    if (moved == 1) {
        if (enter_root(options->root) != 0) return 125;
        do moved = write(alive[1], &byte, 1); while (moved < 0 && errno == EINTR);
    }
    int init_status;
    while (waitpid(init, &init_status, 0) < 0) {
        if (errno != EINTR) return fail("waitpid", NULL);
    }
    int status;
    ssize_t got;
    do got = read(report[0], &status, sizeof status); while (got < 0 && errno == EINTR);
    char reason[256];
    cgroups_verdict(&options->limits, groups, reason, sizeof reason);
    int succeeded = got == (ssize_t)sizeof status && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!reason[0] && !succeeded && options->volume.bytes > 0) volume_verdict(&options->volume, reason, sizeof reason);
    // Outputs that did not all come back fail the job: the worker would take a part of them as the whole.
    int lost = options->volume.bytes > 0 && volume_detach(&options->volume, succeeded, reason[0] ? NULL : reason, sizeof reason) != 0;
    if (reason[0] && verdict >= 0) {
        ssize_t ignored = write(verdict, reason, strlen(reason));
        (void)ignored;
    }
    if (reason[0]) fprintf(stderr, "shoal-sandbox: %s\n", reason);
    cgroups_leave(groups);
    // No report: the init failed before COMMAND ran, and said why on stderr.
    if (got != (ssize_t)sizeof status) return WIFEXITED(init_status) ? WEXITSTATUS(init_status) : 125;
    if (lost && succeeded) return 125;
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

// Kills every child of this (subreaper) process until none is left: killing
// one hands its own children to us, and the loop takes them next.
static void kill_descendants(void) {
    for (int round = 0; round < 1000; round++) {
        char path[64], list[4096];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        int descriptor = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t length = descriptor >= 0 ? read(descriptor, list, sizeof list - 1) : -1;
        if (descriptor >= 0) close(descriptor);
        if (length <= 0) {
            // Nothing listed (or no /proc): reap what is left and stop.
            while (waitpid(-1, NULL, WNOHANG) > 0) {}
            if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD) return;
            if (length < 0) return;
            usleep(1000);
            continue;
        }
        list[length] = '\0';
        for (char *at = list; *at;) {
            char *end;
            long pid = strtol(at, &end, 10);
            if (end == at) break;
            if (pid > 0) kill((pid_t)pid, SIGKILL);
            at = end;
        }
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
    }
}

static volatile sig_atomic_t parent_died = 0;
static void on_parent_death(int signal) {
    (void)signal;
    parent_died = 1;
}

static int run_unsandboxed(char **command) {
    // A signal of its own for the parent's death, caught: SIGKILL would take the
    // helper without its job's descendants.
    int death = SIGRTMIN + 3;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_parent_death;
    sigemptyset(&action.sa_mask);
    pid_t parent = getppid();
    if (sigaction(death, &action, NULL) != 0 || prctl(PR_SET_PDEATHSIG, death) != 0) return fail("arming the parent-death signal", NULL);
    if (getppid() != parent) return 125;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return fail("prctl(PR_SET_CHILD_SUBREAPER)", NULL);
    if (catch_job_signals() != 0) return fail("sigaction", NULL);
    pid_t job = fork();
    if (job < 0) return fail("fork", NULL);
    if (job == 0) {
        signal(death, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, 0);
        execvp(command[0], command);
        fprintf(stderr, "shoal-sandbox: cannot run %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    for (;;) {
        if (parent_died) {
            kill_descendants();
            return 137;
        }
        pid_t ended = waitpid(-1, &status, 0);
        if (ended == job) break;
        if (ended < 0 && errno != EINTR) return fail("waitpid", NULL);
    }
    kill_descendants();
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}

// Descriptors the worker let through (its runtime's sockets and pipes, made
// without close-on-exec) must not reach the job: one may be a connection to
// the coordinator. Only standard input, output and error go on.
static void close_inherited(void) {
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
    long limit = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (limit > 0 && limit < 65536 ? limit : 65536); fd++) close((int)fd);
}

int main(int argc, char **argv) {
    close_inherited();
    // Whatever the worker's runtime had blocked must not stay blocked for the
    // helper (its parent-death signal) or the job.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct options options;
    if (parse(argc, argv, &options) != 0) return 125;
    if (options.unsandboxed) return run_unsandboxed(options.command);
    struct cgroups groups = {.memory = -1, .pids = -1, .memory_parent = -1, .pids_parent = -1, .memory_top_procs = -1, .pids_top_procs = -1};
    int verdict = -1;
    if (set_up(&options, &groups, &verdict) != 0) {
        cgroups_leave(&groups);
        return 125;
    }
    return run(&options, &groups, verdict);
}
