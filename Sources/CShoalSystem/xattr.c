#include "CShoalSystem.h"
#include <sys/xattr.h>

// <sys/xattr.h> is not part of Swift's Glibc module.
ssize_t shoal_getxattr(const char *path, const char *name, void *value, size_t size) {
    return getxattr(path, name, value, size);
}

int shoal_setxattr(const char *path, const char *name, const void *value, size_t size) {
    return setxattr(path, name, value, size, 0);
}
