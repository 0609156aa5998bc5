#define _GNU_SOURCE
#include "CShoalSystem.h"
#include <fcntl.h>
#include <unistd.h>

// fallocate(2) itself, not posix_fallocate(3): where the file system cannot
// reserve space, glibc's fallback writes a byte into every block, which costs
// more than it saves. KEEP_SIZE: the file still ends where its data does, so a
// file that turned out shorter than planned is not padded.
int shoal_preallocate(int fd, off_t length) {
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, length);
}

// copy_file_range(2) needs _GNU_SOURCE, which Swift's Glibc module is not built with.
ssize_t shoal_copy_file_range(int in, int out, size_t length) {
    return copy_file_range(in, NULL, out, NULL, length, 0);
}
