#include "CShoalSystem.h"
#include <pthread.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <string.h>

// Data over the wire is checksummed at several GB/s: a byte-wise table in
// Swift ran at a few hundred MB/s and was the transfer's bottleneck.

static uint32_t table[8][256];
static int table_ready;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t crc = i;
        for (int k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        table[0][i] = crc;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
    table_ready = 1;
}

static uint32_t crc32c_table(uint32_t crc, const unsigned char *p, size_t n) {
    if (!table_ready) build_table();
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;
        crc = table[7][word & 0xFF] ^ table[6][(word >> 8) & 0xFF] ^ table[5][(word >> 16) & 0xFF] ^ table[4][(word >> 24) & 0xFF] ^
              table[3][(word >> 32) & 0xFF] ^ table[2][(word >> 40) & 0xFF] ^ table[1][(word >> 48) & 0xFF] ^ table[0][word >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
// Three independent crc32 instructions in flight (the instruction's latency
// is three cycles, its throughput one per cycle), then the three partial CRCs
// are joined by "appending zeros" operators: Mark Adler's method (crc32c.c,
// zlib licence). Triples the single-stream rate.
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t long_shift[4][256], short_shift[4][256];

static uint32_t gf2_times(const uint32_t *matrix, uint32_t vector) {
    uint32_t sum = 0;
    while (vector) {
        if (vector & 1) sum ^= *matrix;
        vector >>= 1;
        matrix++;
    }
    return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *matrix) {
    for (int n = 0; n < 32; n++) square[n] = gf2_times(matrix, matrix[n]);
}

// The operator that appends `length` zero bytes (a power of two) to a CRC.
static void zeros_operator(uint32_t *even, size_t length) {
    uint32_t odd[32];
    odd[0] = 0x82F63B78u;
    for (int n = 1; n < 32; n++) odd[n] = 1u << (n - 1);
    gf2_square(even, odd);
    gf2_square(odd, even);
    do {
        gf2_square(even, odd);
        length >>= 1;
        if (length == 0) return;
        gf2_square(odd, even);
        length >>= 1;
    } while (length);
    for (int n = 0; n < 32; n++) even[n] = odd[n];
}

static void build_shift(uint32_t shift[4][256], size_t length) {
    uint32_t op[32];
    zeros_operator(op, length);
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 0; k < 4; k++) shift[k][n] = gf2_times(op, n << (8 * k));
}

static void build_shifts(void) {
    build_shift(long_shift, LONG_BLOCK);
    build_shift(short_shift, SHORT_BLOCK);
}

static pthread_once_t shifts_once = PTHREAD_ONCE_INIT;

static inline uint32_t shift(uint32_t table[4][256], uint32_t crc) {
    return table[0][crc & 0xFF] ^ table[1][(crc >> 8) & 0xFF] ^ table[2][(crc >> 16) & 0xFF] ^ table[3][crc >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *p, size_t n) {
    pthread_once(&shifts_once, build_shifts);
    uint64_t c0 = crc;
    while (n && ((uintptr_t)p & 7)) {
        c0 = __builtin_ia32_crc32qi((uint32_t)c0, *p++);
        n--;
    }
    size_t block = LONG_BLOCK;
    uint32_t (*table)[256] = long_shift;
    for (int round = 0; round < 2; round++) {
        while (n >= 3 * block) {
            uint64_t c1 = 0, c2 = 0;
            const unsigned char *end = p + block;
            do {
                uint64_t w0, w1, w2;
                memcpy(&w0, p, 8);
                memcpy(&w1, p + block, 8);
                memcpy(&w2, p + 2 * block, 8);
                c0 = __builtin_ia32_crc32di(c0, w0);
                c1 = __builtin_ia32_crc32di(c1, w1);
                c2 = __builtin_ia32_crc32di(c2, w2);
                p += 8;
            } while (p < end);
            c0 = shift(table, (uint32_t)c0) ^ (uint32_t)c1;
            c0 = shift(table, (uint32_t)c0) ^ (uint32_t)c2;
            p += 2 * block;
            n -= 3 * block;
        }
        block = SHORT_BLOCK;
        table = short_shift;
    }
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c0 = __builtin_ia32_crc32di(c0, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c0;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}

// Where the CPU has carry-less multiplication on 512-bit registers, 256 bytes
// are folded per step (four registers in flight), twice the rate of the
// three crc32 streams: on a cluster worker the checksum was a tenth of the CPU
// a transfer costs. The folding constants are x^(64+D-1) and x^(D-1) modulo the
// CRC-32C polynomial, bit-reflected, for a fold over D bits; the 128 bits left
// at the end are reduced by the crc32 instruction itself.
#define FOLD_TARGET __attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2")))

FOLD_TARGET static inline __m512i fold512(__m512i x, __m512i k, __m512i data) {
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11), data, 0x96);
}

FOLD_TARGET static inline __m128i fold128(__m128i x, uint64_t lo, uint64_t hi, __m128i into) {
    __m128i k = _mm_set_epi64x((long long)hi, (long long)lo);
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), into);
}

#define FOLD_CONSTANT(lo, hi) _mm512_set4_epi64((long long)(hi), (long long)(lo), (long long)(hi), (long long)(lo))

// Consumes whole 256-byte blocks of `*n` >= 256 bytes; returns the CRC (not inverted) so far.
FOLD_TARGET static uint32_t crc32c_fold(uint32_t crc, const unsigned char **bytes, size_t *length) {
    const unsigned char *p = *bytes;
    size_t n = *length;
    __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)crc)));
    __m512i x1 = _mm512_loadu_si512(p + 64), x2 = _mm512_loadu_si512(p + 128), x3 = _mm512_loadu_si512(p + 192);
    p += 256;
    n -= 256;
    const __m512i k2048 = FOLD_CONSTANT(0xe9a5d8be00000000ull, 0x1426a81500000000ull);
    while (n >= 256) {
        x0 = fold512(x0, k2048, _mm512_loadu_si512(p));
        x1 = fold512(x1, k2048, _mm512_loadu_si512(p + 64));
        x2 = fold512(x2, k2048, _mm512_loadu_si512(p + 128));
        x3 = fold512(x3, k2048, _mm512_loadu_si512(p + 192));
        p += 256;
        n -= 256;
    }
    const __m512i k512 = FOLD_CONSTANT(0x1c19243b00000000ull, 0x75bba45b00000000ull);
    x1 = fold512(x0, k512, x1);
    x2 = fold512(x1, k512, x2);
    x3 = fold512(x2, k512, x3);
    __m128i v = _mm512_extracti32x4_epi32(x3, 3);
    v = fold128(_mm512_extracti32x4_epi32(x3, 0), 0xa46ef4aa00000000ull, 0x6051243f00000000ull, v);
    v = fold128(_mm512_extracti32x4_epi32(x3, 1), 0x33ccbbbc00000000ull, 0xa2158b3400000000ull, v);
    v = fold128(_mm512_extracti32x4_epi32(x3, 2), 0x3743f7bd00000000ull, 0x3171d43000000000ull, v);
    uint64_t c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(v));
    c = _mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(v, 1));
    *bytes = p;
    *length = n;
    return (uint32_t)c;
}
#endif

uint32_t shoal_crc32c(uint32_t crc, const void *bytes, size_t length) {
    crc = ~crc;
#if defined(__x86_64__)
    if (length >= 1024 && __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512vl")) {
        const unsigned char *p = bytes;
        crc = crc32c_fold(crc, &p, &length);
        return ~crc32c_sse42(crc, p, length);
    }
    if (__builtin_cpu_supports("sse4.2")) return ~crc32c_sse42(crc, bytes, length);
#endif
    return ~crc32c_table(crc, bytes, length);
}
