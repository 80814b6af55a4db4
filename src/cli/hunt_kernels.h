// The data-parallel kernels of hunt's scanner (see hunt.h), one function
// per instruction set, the same answers from each; which one runs is
// decided once, from what the CPU reports:
//  - ClassifyFn: the byte classes grepcidr's scan needs, 64 bytes of a file
//    at a time, as bitmaps (bit i of a word = byte i of the block):
//    AVX-512BW (one compare per class and block), AVX2, SSE2, portable;
//  - ParseV4Fn: IPv4 fields the scan found, parsed as inet_pton does, a
//    batch at a time: one byte shuffle per address (SSSE3, on the CPUs that
//    have AVX2), else branch-free scalar code.
// The portable ones are the reference in tests, and the only ones off
// x86-64.
#ifndef TW_CLI_HUNT_CLASSIFY_H_
#define TW_CLI_HUNT_CLASSIFY_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tw::cli::hunt {

// One 64-byte block.  Bytes at or past the range's end are in no class.
struct BlockBits {
  uint64_t newline;  // '\n'
  uint64_t v4_hint;  // grepcidr's IPv4 hint fires: a digit with '.' 1-3 bytes on (0 without v4)
  uint64_t v6_hint;  // an IPv6 hint fires: "::" + hex digit, or 1-4 hex digits + ':' (0 without v6)
  uint64_t field4;   // [0-9A-Za-z.], the bytes of an IPv4 field
  uint64_t alpha;    // [A-Za-z]
  uint64_t nonhex;   // letters that are not hex digits
  uint64_t dot;      // '.'
  uint64_t colon;    // ':'
};

// Classifies `count` blocks of s[0, size): block k covers
// s[first + 64k, first + 64k + 64), only bytes below `end` (<= size)
// counted.  Hints look up to 4 bytes into the following block.  Reads no
// byte at or past `size`.
using ClassifyFn = void (*)(const char* s, size_t first, size_t count, size_t end, size_t size, bool v4,
                            bool v6, BlockBits* out);

// An IPv4 field the scan found: at `pos`, `len` bytes (7-15) that are
// digits and '.', the dots at the bits set in `dots` (bit i = byte pos+i;
// any number of them), in line `line` of its chunk.
struct V4Field {
  uint64_t pos;
  uint32_t line;
  uint16_t dots;
  uint8_t len;
};

// Parses `n` fields of s[0, size) as inet_pton(AF_INET): addrs[k] and
// ok[k] (1 when fields[k] is an address: four parts of 1-3 digits, no
// leading zero, each at most 255).  Reads no byte at or past `size`.
using ParseV4Fn = void (*)(const char* s, size_t size, const V4Field* fields, size_t n, uint32_t* addrs,
                           uint8_t* ok);

enum class Isa { kPortable, kSse2, kAvx2, kAvx512 };

std::string_view IsaName(Isa isa);
bool IsaSupported(Isa isa);
// The fastest supported one.
Isa BestIsa();
// Every supported one, for tests.
std::vector<Isa> SupportedIsas();
// The kernels of a supported `isa`; the portable ones otherwise.
ClassifyFn Classifier(Isa isa);
ParseV4Fn V4Parser(Isa isa);

}  // namespace tw::cli::hunt

#endif  // TW_CLI_HUNT_CLASSIFY_H_
