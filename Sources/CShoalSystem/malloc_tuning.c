#include "CShoalSystem.h"
#include <malloc.h>

// glibc serves allocations above its mmap threshold (128 KiB until a free
// raises it) with a fresh mapping and trims freed memory eagerly; libzmq
// allocates every received 1 MiB frame on its I/O thread and frees it on
// ours, so without this each chunk's pages were faulted in again. The peak
// stays bounded by the transfer credit; only its reuse changes.
void shoal_reuse_chunk_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}
