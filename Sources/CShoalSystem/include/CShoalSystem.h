#ifndef SHOAL_CSHOALSYSTEM_H
#define SHOAL_CSHOALSYSTEM_H
#include <sys/types.h>

/// pidfd_open(2): a descriptor that becomes readable when the process exits,
/// so a poll loop wakes at once instead of on its next timeout. -1 when the
/// kernel lacks it (before Linux 5.3); errno tells why.
int shoal_pidfd_open(pid_t pid);

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli) of `length` bytes, continuing from `crc` (0 to start):
/// the SSE 4.2 instruction where the CPU has it, a table otherwise.
uint32_t shoal_crc32c(uint32_t crc, const void *bytes, size_t length);

/// CRC-32 (IEEE, as zlib and S3's x-amz-checksum-crc32) of `length` bytes, continuing from `crc` (0 to start).
uint32_t shoal_crc32(uint32_t crc, const void *bytes, size_t length);

/// Keeps glibc from giving each 1 MiB transfer chunk its own fresh mapping
/// (and from returning freed memory at once), so chunk buffers are reused
/// instead of page-faulted in anew. Process-wide; safe to call more than once.
void shoal_reuse_chunk_memory(void);

/// Reserves `length` bytes for the file without changing its size
/// (fallocate(2) with FALLOC_FL_KEEP_SIZE): 0 on success,
/// -1 with errno set (ENOSPC: the disk is too full; EOPNOTSUPP: the file
/// system cannot, which costs nothing but the saving).
int shoal_preallocate(int fd, off_t length);

/// copy_file_range(2) from the current offsets: bytes copied, 0 at the end, -1 with errno.
ssize_t shoal_copy_file_range(int in, int out, size_t length);

/// getxattr(2) and setxattr(2) (flags 0): an object's S3 metadata rides on its file.
ssize_t shoal_getxattr(const char *path, const char *name, void *value, size_t size);
int shoal_setxattr(const char *path, const char *name, const void *value, size_t size);

#endif
