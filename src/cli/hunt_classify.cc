#include "cli/hunt_classify.h"

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
#include "cli/hunt_classify_body.inc"
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
#include "cli/hunt_classify_body.inc"
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
#include "cli/hunt_classify_body.inc"
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
#include "cli/hunt_classify_body.inc"
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
