#define _GNU_SOURCE
#include "CShoalSystem.h"
#include <fcntl.h>

// fallocate(2) itself, not posix_fallocate(3): where the file system cannot
// reserve space, glibc's fallback writes a byte into every block, which costs
// more than it saves. KEEP_SIZE: the file still ends where its data does, so a
// file that turned out shorter than planned is not padded.
int shoal_preallocate(int fd, off_t length) {
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, length);
}
