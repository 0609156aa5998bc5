// CRC-32C speed of each path of Sources/CShoalSystem/crc32c.c over 256 KiB
// pieces (the size transfers checksum as chunks are read and written), in the
// cache: the dispatched path (carry-less folding where the CPU has it), the
// three SSE 4.2 streams, and the table. All three must agree on every piece.
#include "../../Sources/CShoalSystem/crc32c.c"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    enum { piece = 256 << 10 };
    unsigned char *bytes = malloc(piece);
    srand(7);
    for (size_t i = 0; i < piece; i++) bytes[i] = (unsigned char)rand();
    uint32_t folded = shoal_crc32c(0, bytes, piece);
    uint32_t streams = ~crc32c_sse42(~0u, bytes, piece);
    uint32_t table = ~crc32c_table(~0u, bytes, piece);
    if (folded != streams || streams != table) {
        fprintf(stderr, "crc32c paths disagree: %08x %08x %08x\n", folded, streams, table);
        return 1;
    }
    const char *names[3] = {"dispatched", "three SSE 4.2 streams", "table"};
    double rates[3];
    for (int path = 0; path < 3; path++) {
        int rounds = path == 2 ? 2000 : 40000;
        volatile uint32_t sink = 0;
        double start = now();
        for (int r = 0; r < rounds; r++) {
            if (path == 0) sink ^= shoal_crc32c(r, bytes, piece);
            else if (path == 1) sink ^= crc32c_sse42(r, bytes, piece);
            else sink ^= crc32c_table(r, bytes, piece);
        }
        rates[path] = (double)rounds * piece / (now() - start) / 1e9;
    }
    int folding = __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512vl");
    printf("crc32c over 256 KiB pieces in cache: %s %.1f GB/s (%s); %s %.1f GB/s; %s %.2f GB/s\n", names[0], rates[0],
           folding ? "512-bit carry-less folding" : "this CPU has no VPCLMULQDQ: the same streams", names[1], rates[1], names[2], rates[2]);
    return 0;
}
