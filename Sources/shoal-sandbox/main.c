// shoal-sandbox SANDBOX COMMAND [ARG...]
//
// Runs COMMAND with SANDBOX bind-mounted at /opt/ml in a private mount
// namespace, killed (SIGKILL) when its parent — the worker — dies. One exec
// instead of the setpriv → unshare → sh → mount chain util-linux would need.
// Exit status 125 means the sandbox could not be set up; the reason is on stderr.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "shoal-sandbox: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
    return 125;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: shoal-sandbox SANDBOX COMMAND [ARG...]\n");
        return 125;
    }
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail("prctl(PR_SET_PDEATHSIG)", NULL);
    // The parent may have died before the signal was armed.
    if (getppid() != parent) return 125;
    if (unshare(CLONE_NEWNS) != 0) return fail("unshare(CLONE_NEWNS)", NULL);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return fail("making / private", NULL);
    if (mount(argv[1], "/opt/ml", NULL, MS_BIND | MS_REC, NULL) != 0) return fail("bind-mounting at /opt/ml", argv[1]);
    if (chdir("/") != 0) return fail("chdir", "/");
    execvp(argv[2], argv + 2);
    // The shell's convention: 127 for a command that cannot be found or run.
    fprintf(stderr, "shoal-sandbox: cannot run %s: %s\n", argv[2], strerror(errno));
    return 127;
}
