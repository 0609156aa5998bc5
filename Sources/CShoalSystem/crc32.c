#include "CShoalSystem.h"
#include <zlib.h>

// zlib's CRC-32 (braided, several bytes a step) rather than a byte-wise table:
// S3 clients checksum every upload with it, so it runs over every byte stored.
uint32_t shoal_crc32(uint32_t crc, const void *bytes, size_t length) {
    const unsigned char *at = bytes;
    while (length > 0) {
        unsigned int step = length > (1u << 30) ? (1u << 30) : (unsigned int)length;
        crc = (uint32_t)crc32(crc, at, step);
        at += step;
        length -= step;
    }
    return crc;
}
