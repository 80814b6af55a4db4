#include "cli/hunt_kernels.h"

#include <array>
#include <bit>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TW_HUNT_X86 1
#endif

namespace tw::cli::hunt {

namespace {

// How far ahead of the block being classified its data is prefetched: a
// file's pages are not contiguous, so the hardware prefetcher stops at each
// 4 KiB page; this starts the next pages' reads early.
constexpr size_t kPrefetchBytes = 8192;

// The classes of 64 bytes.
struct Raw {
  uint64_t digit, hexalpha, alpha, dot, colon, newline;
};

// Bit i of the result = bit i+k of the 128-bit value (next:lo), 0 < k < 64.
inline uint64_t Ahead(uint64_t lo, uint64_t next, int k) { return (lo >> k) | (next << (64 - k)); }

// The lengths of the four parts of a field of `len` bytes whose dots are
// at the bits of `dots`; false unless there are exactly three dots and
// every part has 1-3 digits.
inline bool DottedLengths(uint64_t dots, size_t len, size_t* lengths) {
  const uint64_t d2 = dots & (dots - 1), d3 = d2 & (d2 - 1);
  if (d3 == 0 || (d3 & (d3 - 1)) != 0) return false;
  const size_t e0 = static_cast<size_t>(__builtin_ctzll(dots)), e1 = static_cast<size_t>(__builtin_ctzll(d2)),
               e2 = static_cast<size_t>(__builtin_ctzll(d3));
  lengths[0] = e0, lengths[1] = e1 - e0 - 1, lengths[2] = e2 - e1 - 1, lengths[3] = len - e2 - 1;
  return lengths[0] - 1 <= 2 && lengths[1] - 1 <= 2 && lengths[2] - 1 <= 2 && lengths[3] - 1 <= 2;
}

// The 4 bytes before p + e as a little-endian word: p[e - 1] is its top byte.
inline uint32_t Load4Before(const char* p, size_t e) {
  uint32_t w;
  __builtin_memcpy(&w, p + e - 4, 4);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap32(w);
  return w;
}

// One part of 1-3 digits ending at p[e] (read as the word before e, its
// other bytes masked off); sets *bad unless it has no leading zero and is
// at most 255.  The kept bytes are digits: no borrow crosses them.
inline uint32_t DottedPart(const char* p, size_t e, size_t len, uint32_t* bad) {
  static constexpr uint32_t kKeep[4] = {0, 0xFF000000u, 0xFFFF0000u, 0xFFFFFF00u};
  const uint32_t keep = kKeep[len];
  const uint32_t d = (Load4Before(p, e) & keep) - (0x30303030u & keep);
  const uint32_t v = (d >> 24) + ((d >> 16) & 0xFF) * 10 + ((d >> 8) & 0xFF) * 100;
  const uint32_t first = (d >> (32 - 8 * len)) & 0xFF;
  *bad |= static_cast<uint32_t>(v > 255) | (static_cast<uint32_t>(len >= 2) & static_cast<uint32_t>(first == 0));
  return v;
}

// The field at p (3 readable bytes before it), scalar and branch-free
// within a part.
inline bool ParseV4Scalar(const char* p, size_t len, uint64_t dots, uint32_t* out) {
  size_t n[4];
  if (!DottedLengths(dots, len, n)) return false;
  uint32_t bad = 0;
  const size_t e0 = n[0], e1 = e0 + 1 + n[1], e2 = e1 + 1 + n[2];
  *out = DottedPart(p, e0, n[0], &bad) << 24 | DottedPart(p, e1, n[1], &bad) << 16 |
         DottedPart(p, e2, n[2], &bad) << 8 | DottedPart(p, len, n[3], &bad);
  return bad == 0;
}

#if defined(TW_HUNT_X86)
// For the byte-shuffle parser: per combination of the four parts' lengths
// (1-3 each, 81 in all), where each part's digits go (lane k = bytes
// 4k..4k+3 = hundreds, tens, units, 0; a missing digit is 0) and the least
// value without a leading zero (0, 10 or 100).
struct V4Pattern {
  alignas(16) int8_t shuffle[16];
  alignas(16) int32_t least[4];
};
constexpr std::array<V4Pattern, 81> MakeV4Patterns() {
  std::array<V4Pattern, 81> patterns{};
  for (int index = 0; index < 81; ++index) {
    V4Pattern& pattern = patterns[index];
    int start = 0;
    for (int k = 0; k < 4; ++k) {
      int len = 1;
      for (int rest = index, j = 3; j >= k; --j, rest /= 3) len = rest % 3 + 1;
      for (int b = 0; b < 4; ++b) pattern.shuffle[4 * k + b] = -1;  // zero
      for (int d = 0; d < len; ++d) pattern.shuffle[4 * k + (3 - len) + d] = static_cast<int8_t>(start + d);
      pattern.least[k] = len == 3 ? 100 : len == 2 ? 10 : 0;
      start += len + 1;
    }
  }
  return patterns;
}
constexpr std::array<V4Pattern, 81> kV4Patterns = MakeV4Patterns();

// The four parts' digits shuffled into 32-bit lanes by the pattern of
// their lengths, then each lane's hundreds*100 + tens*10 + units by two
// multiply-adds, checked against 255 and the least value.  SSSE3: the
// AVX2 and AVX-512 kernels inline it.
__attribute__((target("ssse3"))) inline bool ParseV4Shuffle(const char* p, size_t len, uint64_t dots, uint32_t* out) {
  size_t n[4];
  if (!DottedLengths(dots, len, n)) return false;
  const V4Pattern& pattern = kV4Patterns[(((n[0] - 1) * 3 + n[1] - 1) * 3 + n[2] - 1) * 3 + n[3] - 1];
  const __m128i digits = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
  const __m128i lanes = _mm_shuffle_epi8(digits, _mm_load_si128(reinterpret_cast<const __m128i*>(pattern.shuffle)));
  const __m128i pairs = _mm_maddubs_epi16(lanes, _mm_setr_epi8(100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1, 0));
  const __m128i values = _mm_madd_epi16(pairs, _mm_set1_epi16(1));
  const __m128i bad = _mm_or_si128(_mm_cmpgt_epi32(values, _mm_set1_epi32(255)),
                                   _mm_cmpgt_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(pattern.least)), values));
  if (_mm_movemask_epi8(bad) != 0) return false;
  const __m128i bytes = _mm_shuffle_epi8(values, _mm_setr_epi8(12, 8, 4, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  *out = static_cast<uint32_t>(_mm_cvtsi128_si32(bytes));
  return true;
}
#endif

namespace portable {
#define TW_HUNT_TARGET
inline Raw Raw64(const char* p) {
  Raw r{};
  for (int i = 0; i < 64; ++i) {
    const unsigned c = static_cast<unsigned char>(p[i]);
    const unsigned letter = (c | 0x20) - 'a';
    const uint64_t bit = uint64_t{1} << i;
    if (c - '0' < 10) r.digit |= bit;
    if (letter < 26) r.alpha |= bit;
    if (letter < 6) r.hexalpha |= bit;
    if (c == '.') r.dot |= bit;
    if (c == ':') r.colon |= bit;
    if (c == '\n') r.newline |= bit;
  }
  return r;
}
inline bool ParseV4One(const char* p, size_t len, uint64_t dots, uint32_t* out) {
  return ParseV4Scalar(p, len, dots, out);
}
#include "cli/hunt_kernels_body.inc"
#undef TW_HUNT_TARGET
}  // namespace portable

#if defined(TW_HUNT_X86)
// Unsigned "x <= limit" per byte, for x86 without unsigned byte compares:
// saturating x - limit is 0.
namespace sse2 {
#define TW_HUNT_TARGET __attribute__((target("sse2")))
TW_HUNT_TARGET inline Raw Raw64(const char* p) {
  Raw r{};
  const __m128i zero = _mm_setzero_si128();
  for (int k = 0; k < 4; ++k) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i letter = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    const __m128i digit = _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(c, _mm_set1_epi8('0')), _mm_set1_epi8(9)), zero);
    const __m128i alpha = _mm_cmpeq_epi8(_mm_subs_epu8(letter, _mm_set1_epi8(25)), zero);
    const __m128i hex = _mm_cmpeq_epi8(_mm_subs_epu8(letter, _mm_set1_epi8(5)), zero);
    auto bits = [k](__m128i v) {
      return uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(v))} << (16 * k);
    };
    r.digit |= bits(digit);
    r.alpha |= bits(alpha);
    r.hexalpha |= bits(hex);
    r.dot |= bits(_mm_cmpeq_epi8(c, _mm_set1_epi8('.')));
    r.colon |= bits(_mm_cmpeq_epi8(c, _mm_set1_epi8(':')));
    r.newline |= bits(_mm_cmpeq_epi8(c, _mm_set1_epi8('\n')));
  }
  return r;
}
TW_HUNT_TARGET inline bool ParseV4One(const char* p, size_t len, uint64_t dots, uint32_t* out) {
  return ParseV4Scalar(p, len, dots, out);
}
#include "cli/hunt_kernels_body.inc"
#undef TW_HUNT_TARGET
}  // namespace sse2

namespace avx2 {
#define TW_HUNT_TARGET __attribute__((target("avx2,bmi,bmi2")))
TW_HUNT_TARGET inline Raw Raw64(const char* p) {
  Raw r{};
  const __m256i zero = _mm256_setzero_si256();
  for (int k = 0; k < 2; ++k) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
    const __m256i letter = _mm256_sub_epi8(_mm256_or_si256(c, _mm256_set1_epi8(0x20)), _mm256_set1_epi8('a'));
    const __m256i digit =
        _mm256_cmpeq_epi8(_mm256_subs_epu8(_mm256_sub_epi8(c, _mm256_set1_epi8('0')), _mm256_set1_epi8(9)), zero);
    const __m256i alpha = _mm256_cmpeq_epi8(_mm256_subs_epu8(letter, _mm256_set1_epi8(25)), zero);
    const __m256i hex = _mm256_cmpeq_epi8(_mm256_subs_epu8(letter, _mm256_set1_epi8(5)), zero);
    auto bits = [k](__m256i v) TW_HUNT_TARGET {
      return uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(v))} << (32 * k);
    };
    r.digit |= bits(digit);
    r.alpha |= bits(alpha);
    r.hexalpha |= bits(hex);
    r.dot |= bits(_mm256_cmpeq_epi8(c, _mm256_set1_epi8('.')));
    r.colon |= bits(_mm256_cmpeq_epi8(c, _mm256_set1_epi8(':')));
    r.newline |= bits(_mm256_cmpeq_epi8(c, _mm256_set1_epi8('\n')));
  }
  return r;
}
TW_HUNT_TARGET inline bool ParseV4One(const char* p, size_t len, uint64_t dots, uint32_t* out) {
  return ParseV4Shuffle(p, len, dots, out);
}
#include "cli/hunt_kernels_body.inc"
#undef TW_HUNT_TARGET
}  // namespace avx2

namespace avx512 {
#define TW_HUNT_TARGET __attribute__((target("avx512f,avx512bw,bmi,bmi2")))
TW_HUNT_TARGET inline Raw Raw64(const char* p) {
  const __m512i c = _mm512_loadu_si512(p);
  const __m512i letter = _mm512_sub_epi8(_mm512_or_si512(c, _mm512_set1_epi8(0x20)), _mm512_set1_epi8('a'));
  Raw r;
  r.digit = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(c, _mm512_set1_epi8('0')), _mm512_set1_epi8(10));
  r.alpha = _mm512_cmplt_epu8_mask(letter, _mm512_set1_epi8(26));
  r.hexalpha = _mm512_cmplt_epu8_mask(letter, _mm512_set1_epi8(6));
  r.dot = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('.'));
  r.colon = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8(':'));
  r.newline = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('\n'));
  return r;
}
TW_HUNT_TARGET inline bool ParseV4One(const char* p, size_t len, uint64_t dots, uint32_t* out) {
  return ParseV4Shuffle(p, len, dots, out);
}
#include "cli/hunt_kernels_body.inc"
#undef TW_HUNT_TARGET
}  // namespace avx512
#endif  // TW_HUNT_X86

}  // namespace

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return "portable";
    case Isa::kSse2: return "sse2";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512bw";
  }
  return "?";
}

bool IsaSupported(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return true;
#if defined(TW_HUNT_X86)
    case Isa::kSse2: return true;  // in every x86-64
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
#endif
    default: return false;
  }
}

Isa BestIsa() {
  static const Isa best = [] {
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kSse2})
      if (IsaSupported(isa)) return isa;
    return Isa::kPortable;
  }();
  return best;
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kPortable, Isa::kSse2, Isa::kAvx2, Isa::kAvx512})
    if (IsaSupported(isa)) isas.push_back(isa);
  return isas;
}

ParseV4Fn V4Parser(Isa isa) {
  if (!IsaSupported(isa)) return portable::ParseV4Fields;
  switch (isa) {
#if defined(TW_HUNT_X86)
    case Isa::kSse2: return sse2::ParseV4Fields;
    case Isa::kAvx2: return avx2::ParseV4Fields;
    case Isa::kAvx512: return avx512::ParseV4Fields;
#endif
    default: return portable::ParseV4Fields;
  }
}

ClassifyFn Classifier(Isa isa) {
  if (!IsaSupported(isa)) return portable::ClassifyBlocks;
  switch (isa) {
#if defined(TW_HUNT_X86)
    case Isa::kSse2: return sse2::ClassifyBlocks;
    case Isa::kAvx2: return avx2::ClassifyBlocks;
    case Isa::kAvx512: return avx512::ClassifyBlocks;
#endif
    default: return portable::ClassifyBlocks;
  }
}

}  // namespace tw::cli::hunt
