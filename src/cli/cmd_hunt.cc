// `threatwall hunt --feed FILE [format flags] [--invert|-i] [-c] [-x] LOG...`
// (issue 5 item 7): prints the log lines that contain an address of the feed,
// byte-identical to `grepcidr -f FEED LOG...` (see hunt.h for the exact
// rules).  The feed is read with the same Ingest() as `feeds parse`, so every
// feed format works; logs are mapped, scanned without per-line allocation and
// printed through one large buffer.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <ostream>
#include <string>
#include <system_error>
#include <thread>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/input_file.h"
#include "cli/hunt.h"
#include "cli/hunt_kernels.h"
#include "feeds/ingest.h"
#include "feeds/parse/feed_format.h"
#include "model/admit.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

// ---- grepcidr's character classes (C locale) --------------------------------

enum : uint8_t { kDigit = 1, kXDigit = 2, kV4Field = 4, kV6Field = 8 };

struct CharTable {
  uint8_t c[256] = {};
  constexpr CharTable() {
    for (int i = '0'; i <= '9'; ++i) c[i] = kDigit | kXDigit | kV4Field | kV6Field;
    for (int i = 'a'; i <= 'z'; ++i) c[i] = kV4Field | kV6Field | (i <= 'f' ? kXDigit : 0);
    for (int i = 'A'; i <= 'Z'; ++i) c[i] = kV4Field | kV6Field | (i <= 'F' ? kXDigit : 0);
    c[static_cast<int>('.')] = kV4Field | kV6Field;
    c[static_cast<int>(':')] = kV6Field;
  }
};
constexpr CharTable kChars;

inline uint8_t Class(char ch) { return kChars.c[static_cast<uint8_t>(ch)]; }

// std::popcount is a libgcc call on the default x86-64 target (no -mpopcnt).
inline int Pop64(uint64_t x) {
#if defined(__POPCNT__) || !defined(__x86_64__)
  return std::popcount(x);
#else
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<int>((x * 0x0101010101010101ull) >> 56);
#endif
}

// inet_pton(AF_INET) on [s, s+n): 4 decimal parts 0-255, no leading zeros.
__attribute__((always_inline)) inline bool ParseV4(const char* s, size_t n, uint32_t* out) {
  if (n > 15 || n < 7) return false;
  uint32_t addr = 0, part = 0;
  int parts = 0, digits = 0;
  for (size_t i = 0; i < n; ++i) {
    char ch = s[i];
    if (ch >= '0' && ch <= '9') {
      if (digits > 0 && part == 0) return false;  // leading zero
      part = part * 10 + static_cast<uint32_t>(ch - '0');
      if (part > 255) return false;
      ++digits;
    } else if (ch == '.') {
      if (digits == 0 || parts == 3) return false;
      addr = addr << 8 | part;
      ++parts;
      part = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits == 0 || parts != 3) return false;
  *out = addr << 8 | part;
  return true;
}

// The address of `count` 16-bit groups with "::" before groups[gap] (gap
// -1: none; gap == count: at the end): false unless that makes 8 groups,
// "::" standing for at least one.
inline bool AssembleV6(const uint16_t* groups, int count, int gap, net::Uint128* out) {
  if (gap >= 0 ? count == 8 : count != 8) return false;
  net::Uint128 v = 0;
  for (int i = 0; i < count; ++i) {
    if (i == gap) v <<= 16 * (8 - count);
    v = v << 16 | groups[i];
  }
  if (gap == count && count > 0) v <<= 16 * (8 - count);  // "x::" (and "::" is 0)
  *out = v;
  return true;
}

// glibc's inet_pton(AF_INET6) (resolv/inet_pton.c, 2.26 and later) on
// [s, s+n), without the copy and NUL it needs: groups of 1-4 hex digits
// separated by ':', at most one "::", an optional dotted IPv4 tail parsed
// as its inet_pton4 does (4 decimal parts 0-255, no leading zeros).  Tests
// compare it with the C library's on random text.
bool InetPton6(const char* s, size_t n, net::Uint128* out) {
  const char* const end = s + n;
  if (s == end) return false;
  if (*s == ':' && (++s == end || *s != ':')) return false;  // a leading ':' must be "::"
  uint16_t groups[8];
  int count = 0, gap = -1;  // gap: index in `groups` where "::" stands
  const char* token = s;
  unsigned value = 0;
  int digits = 0;
  while (s < end) {
    const char ch = *s++;
    if (Class(ch) & kXDigit) {
      if (digits == 4) return false;
      value = value << 4 | static_cast<unsigned>(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
      ++digits;
      continue;
    }
    if (ch == ':') {
      token = s;
      if (digits == 0) {
        if (gap >= 0) return false;
        gap = count;
        continue;
      }
      if (s == end || count == 8) return false;  // a trailing ':', or nine groups
      groups[count++] = static_cast<uint16_t>(value);
      value = 0;
      digits = 0;
      continue;
    }
    if (ch == '.' && count <= 6) {  // an IPv4 tail from the last group's start
      uint32_t v4 = 0, part = 0;
      int parts = 0;
      bool part_digits = false;
      for (const char* q = token; q < end; ++q) {
        if (*q >= '0' && *q <= '9') {
          if (part_digits && part == 0) return false;
          part = part * 10 + static_cast<uint32_t>(*q - '0');
          if (part > 255) return false;
          if (!part_digits) {
            if (++parts > 4) return false;
            part_digits = true;
          }
        } else if (*q == '.' && part_digits) {
          if (parts == 4) return false;
          v4 = v4 << 8 | part;
          part = 0;
          part_digits = false;
        } else {
          return false;
        }
      }
      if (parts < 4) return false;
      v4 = v4 << 8 | part;
      groups[count++] = static_cast<uint16_t>(v4 >> 16);
      groups[count++] = static_cast<uint16_t>(v4 & 0xFFFF);
      digits = 0;
      break;
    }
    return false;
  }
  if (digits > 0) {
    if (count == 8) return false;
    groups[count++] = static_cast<uint16_t>(value);
  }
  return AssembleV6(groups, count, gap, out);
}

// InetPton6 of a field of hex digits and ':' only (no IPv4 tail), 2-45
// bytes, with its colons at the bits of `colons` and 3 readable bytes
// before s: the same answers from the colon bitmap, each group read as the
// word that ends it.  The rules, as InetPton6 applies them: at most one
// "::" (which may lead or end), no other leading or trailing ':', groups
// of 1-4 digits, 8 of them without "::" and at most 7 with.
bool InetPton6Colons(const char* s, size_t n, uint64_t colons, net::Uint128* out) {
  const uint64_t doubles = colons & (colons >> 1);
  if ((doubles & (doubles - 1)) != 0) return false;                            // two "::", or ":::"
  if ((colons & 1) != 0 && (doubles & 1) == 0) return false;                   // ':' leads, not "::"
  if (((colons >> (n - 1)) & 1) != 0 && ((doubles >> (n - 2)) & 1) == 0) return false;  // ':' ends
  static constexpr uint32_t kKeep[5] = {0, 0xFF000000u, 0xFFFF0000u, 0xFFFFFF00u, 0xFFFFFFFFu};
  const size_t gap_at = doubles != 0 ? static_cast<size_t>(__builtin_ctzll(doubles)) : n;
  uint16_t groups[8];
  int count = 0, gap = -1;
  size_t start = 0;
  for (uint64_t ends = colons | (uint64_t{1} << n); ends != 0; ends &= ends - 1) {
    const size_t e = static_cast<size_t>(__builtin_ctzll(ends)), len = e - start;
    start = e + 1;
    if (gap < 0 && e > gap_at) gap = count;  // the empty group after "::"
    if (len == 0) continue;
    if (len > 4 || count == 8) return false;
    uint32_t w;
    std::memcpy(&w, s + e - 4, 4);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap32(w);
    // '0'-'9' -> 0-9, 'a'-'f' / 'A'-'F' (bit 6 set) -> 10-15; s[e - 1] in the top byte.
    const uint32_t nib = ((w & 0x0F0F0F0Fu) + 9 * ((w >> 6) & 0x01010101u)) & kKeep[len];
    groups[count++] = static_cast<uint16_t>((nib >> 24) | ((nib >> 16) & 0xF) << 4 | ((nib >> 8) & 0xF) << 8 |
                                            (nib & 0xF) << 12);
  }
  return AssembleV6(groups, count, gap, out);
}

// inet_pton(AF_INET6) on [s, s+n) (at most 45 bytes, as grepcidr's field).
// Cheap rejection of fields that cannot be an address (timestamps such as
// "03:41:11") first.
bool ParseV6(const char* s, size_t n, net::Uint128* out) {
  if (n > 45 || n < 2) return false;
  int colons = 0;
  bool dbl = false, dot = false;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == ':') {
      ++colons;
      if (i + 1 < n && s[i + 1] == ':') dbl = true;
    } else if (s[i] == '.') {
      dot = true;
    } else if (!(Class(s[i]) & kXDigit)) {
      return false;
    }
  }
  if (!dbl && colons < (dot ? 6 : 7)) return false;
  return InetPton6(s, n, out);
}

// The run of bytes of class `cls` in [s+p, s+n).
inline size_t FieldLen(const char* s, size_t p, size_t n, uint8_t cls) {
  size_t e = p;
  while (e < n && (Class(s[e]) & cls)) ++e;
  return e - p;
}

inline char At(const char* s, size_t i, size_t n) { return i < n ? s[i] : '\0'; }

inline bool V4Hint(const char* s, size_t p, size_t n) {
  return (Class(s[p]) & kDigit) &&
         (At(s, p + 1, n) == '.' || At(s, p + 2, n) == '.' || At(s, p + 3, n) == '.');
}

inline bool V6Hint(const char* s, size_t p, size_t n) {
  if (s[p] == ':') return At(s, p + 1, n) == ':' && (Class(At(s, p + 2, n)) & kXDigit);
  for (size_t k = 0; k < 4; ++k) {  // 1-4 hex digits, then ':'
    if (!(Class(At(s, p + k, n)) & kXDigit)) return false;
    if (At(s, p + k + 1, n) == ':') return true;
  }
  return false;
}

// grepcidr's scan_with_hints, position by position: the reference the fast
// scanner is tested against.  One line [s, s+n) (n includes the '\n'),
// fields start only below `limit`; on_v4(addr, field, len) / on_v6(...) are
// called for each parsed address, in order, until one returns true.
template <typename OnV4, typename OnV6>
void ScanLineReference(const char* s, size_t n, size_t limit, bool v4, bool v6, OnV4&& on_v4, OnV6&& on_v6) {
  size_t p = 0;
  while (p < limit) {
    if (v4 && V4Hint(s, p, n)) {
      size_t len = FieldLen(s, p, n, kV4Field);
      uint32_t a;
      if (ParseV4(s + p, len, &a) && on_v4(a, s + p, len)) return;
      p += len;
      continue;
    }
    if (v6 && V6Hint(s, p, n)) {
      size_t len = FieldLen(s, p, n, kV6Field);
      net::Uint128 a;
      if (ParseV6(s + p, len, &a) && on_v6(a, s + p, len)) return;
      p += len;
      continue;
    }
    ++p;
  }
}

using hunt::BlockBits;

// Bit i of the result = byte p + i where p is at `off` in the block whose
// bits are `lo` and the following block's are `hi` (0 <= off < 64).
inline uint64_t From(uint64_t lo, uint64_t hi, size_t off) { return (lo >> off) | ((hi << 1) << (63 - off)); }

// The field at s[p] where a hint fired (`is_v4`: the IPv4 hint, else an
// IPv6 one), `m` the bits of the block holding p at offset `off`, `next`
// those of the following block, `end` where the classified bytes end.
// Returns the field's length, with kParsedBit set when an IPv6 field
// parsed (into *a6) and kV4Bit when an IPv4 one may be an address (7-15
// digits and dots, their dots in *dots): the caller parses those, a batch
// at a time.  Fields shorter than 64 bytes are checked on the bitmaps
// first (letters, dot and colon counts) so most non-addresses never reach
// a parser; longer ones (never addresses) are measured byte by byte.
constexpr size_t kParsedBit = size_t{1} << 62;
constexpr size_t kV4Bit = size_t{1} << 61;
constexpr size_t kLenMask = kV4Bit - 1;

__attribute__((always_inline)) inline size_t ParseFieldAt(const char* s, size_t p, size_t end,
                                                          const BlockBits& m, const BlockBits& next,
                                                          size_t off, bool is_v4, uint16_t* dots,
                                                          net::Uint128* a6) {
  const uint64_t field4 = From(m.field4, next.field4, off), dot = From(m.dot, next.dot, off);
  if (is_v4) {
    if (~field4 == 0) return FieldLen(s, p, end, kV4Field);  // 64+ bytes: too long to parse
    const size_t len = static_cast<size_t>(__builtin_ctzll(~field4));
    const uint64_t in_field = (uint64_t{1} << len) - 1;
    if (len > 15 || len < 7 || (From(m.alpha, next.alpha, off) & in_field) != 0) return len;
    *dots = static_cast<uint16_t>(dot & in_field);
    return len | kV4Bit;
  }
  const uint64_t colon = From(m.colon, next.colon, off), field6 = field4 | colon;
  if (~field6 == 0) return FieldLen(s, p, end, kV6Field);
  const size_t len = static_cast<size_t>(__builtin_ctzll(~field6));
  const uint64_t in_field = (uint64_t{1} << len) - 1;
  const uint64_t colons = colon & in_field;
  const bool dbl = (colons & (colons >> 1)) != 0;
  const bool has_dots = (dot & in_field) != 0;
  // ParseV6's own checks, on the bitmaps: hex digits, ':' and '.' only,
  // enough colons; then the parser.
  const bool plausible = (From(m.nonhex, next.nonhex, off) & in_field) == 0 &&
                         (dbl || Pop64(colons) >= (has_dots ? 6 : 7)) && len <= 45 && len >= 2;
  const bool parsed = plausible && (has_dots || p < 3 ? InetPton6(s + p, len, a6)
                                                     : InetPton6Colons(s + p, len, colons, a6));
  return len | (parsed ? kParsedBit : 0);
}

// The same scan as ScanLineReference, 64 bytes at a time: bitmaps of the
// byte classes give every position where a hint fires, and only those are
// visited.  `avail` = bytes readable from s (>= n).
template <typename OnV4, typename OnV6>
void ScanLine(hunt::ClassifyFn classify, hunt::ParseV4Fn parse_v4, const char* s, size_t n, size_t limit,
              size_t avail, bool v4, bool v6, OnV4&& on_v4, OnV6&& on_v6) {
  if (!v4 && !v6) return;
  size_t p = 0;
  size_t block = 0;
  BlockBits bits[2];
  while (block < limit) {
    classify(s, block, 2, n, avail, v4, v6, bits);
    const BlockBits& m = bits[0];
    uint64_t hints = m.v4_hint | m.v6_hint;
    if (limit - block < 64) hints &= (uint64_t{1} << (limit - block)) - 1;
    if (p > block) hints &= ~uint64_t{0} << (p - block);  // p - block < 64 here
    while (hints != 0) {
      p = block + static_cast<size_t>(__builtin_ctzll(hints));
      const size_t off = p - block;
      const bool is_v4 = (m.v4_hint >> off) & 1;
      uint16_t dots = 0;
      net::Uint128 a6 = 0;
      const size_t r = ParseFieldAt(s, p, n, m, bits[1], off, is_v4, &dots, &a6);
      const size_t len = r & kLenMask;
      if (r & kV4Bit) {
        const hunt::V4Field field{p, 0, dots, static_cast<uint8_t>(len)};
        uint32_t a4 = 0;
        uint8_t ok = 0;
        parse_v4(s, avail, &field, 1, &a4, &ok);
        if (ok && on_v4(a4, s + p, len)) return;
      } else if ((r & kParsedBit) && on_v6(a6, s + p, len)) {
        return;
      }
      p += len;
      if (p - block >= 64) break;
      hints &= ~uint64_t{0} << (p - block);
    }
    block = p > block + 64 ? p : block + 64;
  }
}

// grepcidr -x: the single field at the start of the line.
template <typename OnV4, typename OnV6>
void ScanLineStart(const char* s, size_t n, bool v4, bool v6, OnV4&& on_v4, OnV6&& on_v6) {
  if (v4) {
    size_t len = FieldLen(s, 0, n, kV4Field);
    uint32_t a;
    if (ParseV4(s, len, &a) && on_v4(a, s, len)) return;
  }
  if (v6) {
    size_t len = FieldLen(s, 0, n, kV6Field);
    net::Uint128 a;
    if (ParseV6(s, len, &a)) on_v6(a, s, len);
  }
}

// ---- input files -------------------------------------------------------------

// Reads and ingests the feed named by --feed into a set.
Result<net::CidrSet> LoadFeed(const ParsedArgs& args) {
  auto format = FeedFormatFromFlags(args);
  if (!format) return format.error();
  json::object doc{
      {"apiVersion", "projectcalico.org/v3"},
      {"kind", "GlobalThreatFeed"},
      {"metadata", json::object{{"name", "hunt"}}},
      {"spec",
       json::object{
           {"content", "IPSet"},
           {"pull", json::object{{"http", json::object{{"url", "file:///feed"}, {"format", *format}}}}}}}};
  auto admitted = model::Admit(doc);
  if (!admitted) return Status::InvalidArgument("invalid feed settings: " + admitted.error().message());
  auto feed_format = feeds::FeedFormatFromSpec(admitted->object.at("spec"));
  if (!feed_format) return feed_format.error();
  std::string path = args.Get("feed");
  InputFile body;
  if (Status st = body.Load(path, {.directory_is_empty = true}); !st.ok()) return st;
  auto ingested = feeds::Ingest(body.view(), *feed_format, feeds::Content::kIPSet);
  if (!ingested) return Status::InvalidArgument(path + ": " + ingested.error().message());
  return std::move(ingested->ips);
}

// Lines per chunk: the addresses of a chunk are looked up together.
constexpr size_t kChunkLines = 1024;

// Blocks classified at once by ScanRange (4 KiB: their bits stay in L1).
constexpr size_t kSpanBlocks = 64;

// The most threads --threads accepts.
constexpr int kMaxThreads = 64;

// Output through one large buffer, written to `out` whenever it fills.
constexpr size_t kFlushBytes = size_t{1} << 20;

void Flush(std::ostream& out, std::string* buf) {
  out.write(buf->data(), static_cast<std::streamsize>(buf->size()));
  buf->clear();
}

}  // namespace

// ---- HuntScanner ----------------------------------------------------------------

HuntScanner::HuntScanner(const net::PrefixMatcher& matcher, HuntOptions options, int threads,
                         size_t piece_bytes, hunt::Isa isa)
    : matcher_(matcher),
      options_(options),
      v4_(matcher.has_v4()),
      v6_(matcher.has_v6()),
      threads_(threads),
      piece_bytes_(piece_bytes),
      classify_(hunt::Classifier(isa)),
      parse_v4_(hunt::V4Parser(isa)) {}

void HuntScanner::CollectLine(const char* line, size_t n, size_t limit, size_t avail, uint32_t index,
                              Chunk* chunk) const {
  LineState& st = chunk->lines[index];
  auto on_v4 = [&](uint32_t a, const char*, size_t) {
    st.seen = true;
    chunk->keys.push_back(a);
    chunk->key_line.push_back(index);
    return false;  // the lookup is batched: collect every address
  };
  auto on_v6 = [&](net::Uint128 a, const char*, size_t) {
    st.seen = true;
    st.matched = matcher_.ContainsV6(a);
    return st.matched;
  };
  if (options_.strict_start)
    ScanLineStart(line, n, v4_, v6_, on_v4, on_v6);
  else
    ScanLine(classify_, parse_v4_, line, n, limit, avail, v4_, v6_, on_v4, on_v6);
}

uint64_t HuntScanner::FinishChunk(const char* data, size_t data_size, std::string_view name_prefix,
                                  Chunk* chunk, std::string* out, std::ostream* flush_to) const {
  // IPv4 fields ScanRange found: parsed together, the addresses join the keys.
  if (!chunk->fields.empty()) {
    const size_t n = chunk->fields.size();
    chunk->parsed.resize(n);
    chunk->parsed_ok.resize(n);
    parse_v4_(data, data_size, chunk->fields.data(), n, chunk->parsed.data(), chunk->parsed_ok.data());
    for (size_t k = 0; k < n; ++k) {
      if (!chunk->parsed_ok[k]) continue;
      chunk->keys.push_back(chunk->parsed[k]);
      chunk->key_line.push_back(chunk->fields[k].line);
      chunk->lines[chunk->fields[k].line].seen = true;
    }
    chunk->fields.clear();
  }
  if (!chunk->keys6.empty()) {
    chunk->hits.resize(chunk->keys6.size());
    matcher_.ContainsBatchV6(chunk->keys6, chunk->hits);
    for (size_t k = 0; k < chunk->keys6.size(); ++k) {
      if (chunk->hits[k]) chunk->lines[chunk->key6_line[k]].matched = true;
    }
    chunk->keys6.clear();
    chunk->key6_line.clear();
  }
  chunk->hits.resize(chunk->keys.size());
  matcher_.ContainsBatchV4(chunk->keys, chunk->hits);
  for (size_t k = 0; k < chunk->keys.size(); ++k) {
    if (chunk->hits[k]) chunk->lines[chunk->key_line[k]].matched = true;
  }
  uint64_t selected = 0;
  for (size_t i = 0; i < chunk->line_count; ++i) {
    const LineState& st = chunk->lines[i];
    bool seen = st.seen || options_.include_no_ip;
    bool take = options_.invert ? (seen && !st.matched) : st.matched;
    if (!take) continue;
    ++selected;
    if (options_.count) continue;
    out->append(name_prefix);
    out->append(data + st.pos, st.len);
    if (flush_to != nullptr && out->size() >= kFlushBytes) Flush(*flush_to, out);
  }
  chunk->line_count = 0;
  chunk->keys.clear();
  chunk->key_line.clear();
  return selected;
}

uint64_t HuntScanner::ScanFileByLine(std::string_view data, std::string_view name_prefix, std::string* out,
                                     std::ostream* flush_to) {
  // Lines are scanned in chunks: addresses of a chunk are collected first and
  // looked up together (ContainsBatchV4 overlaps their cache misses), then
  // the chunk's selected lines are printed in order.
  Chunk chunk;
  chunk.lines.resize(kChunkLines);
  uint64_t selected = 0;
  size_t capacity = 512;  // grepcidr's line buffer, per file
  const char* s = data.data();
  size_t pos = 0;
  while (pos < data.size()) {
    const void* nl = std::memchr(s + pos, '\n', data.size() - pos);
    size_t n =
        nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - (s + pos)) + 1 : data.size() - pos;
    // fgets needs n + 1 bytes; the buffer doubles until they fit.  A last
    // line without '\n' that fills the buffer exactly is lost (no EOF seen
    // before the buffer filled, then fgets returns nothing).
    while (n + 1 > capacity) capacity *= 2;
    if (nl == nullptr && n + 1 == capacity) break;
    size_t limit = capacity - 5 < n ? capacity - 5 : n;
    const uint32_t index = static_cast<uint32_t>(chunk.line_count++);
    chunk.lines[index] = {pos, n, false, false};
    CollectLine(s + pos, n, limit, data.size() - pos, index, &chunk);
    if (chunk.line_count == kChunkLines) selected += FinishChunk(s, data.size(), name_prefix, &chunk, out, flush_to);
    pos += n;
  }
  selected += FinishChunk(s, data.size(), name_prefix, &chunk, out, flush_to);
  return selected;
}

// grepcidr keeps a line only below capacity - 5 for fields; with `cap` the
// buffer before a line of `n` bytes, may a field start at offset `rel`?
inline bool FieldMayStart(size_t rel, size_t n, size_t cap) {
  while (n + 1 > cap) cap *= 2;
  return rel + 5 < cap;
}

uint64_t HuntScanner::ScanFile(std::string_view data, std::string_view name_prefix, std::string* out,
                               std::ostream* flush_to) {
  if (options_.strict_start || (!v4_ && !v6_)) return ScanFileByLine(data, name_prefix, out, flush_to);
  if (threads_ > 1 && data.size() > piece_bytes_) return ScanPieces(data, name_prefix, out, flush_to);
  return ScanRange(data.data(), 0, data.size(), data.size(), 512, name_prefix, out, flush_to).selected;
}

uint64_t HuntScanner::ScanPieces(std::string_view data, std::string_view name_prefix, std::string* out,
                                 std::ostream* flush_to) {
  // The file is cut after a '\n' every piece_bytes_ or so.  Workers take
  // the pieces in order and scan each as if grepcidr's buffer were at its
  // initial 512 bytes at the piece's start; the scan reports the capacity
  // after the piece and whether a larger capacity at its start could have
  // changed anything (a field refused near a line's end, a last line
  // without '\n' of 511+ bytes).  Pieces are then taken in file order by
  // whichever worker is free (one at a time): it knows the true capacity
  // at the piece's start (the largest end capacity so far), scans the
  // piece again in the rare case that matters, and writes its output.
  const char* s = data.data();
  const size_t size = data.size();
  struct Piece {
    size_t begin, end;
    RangeResult result;
    std::string out;
  };
  std::vector<Piece> pieces;
  const size_t step = std::max<size_t>(piece_bytes_, 1);
  for (size_t begin = 0; begin < size;) {
    size_t end = size;
    if (size - begin > step) {
      const size_t from = begin + step - 1;
      const void* nl = std::memchr(s + from, '\n', size - from);
      if (nl != nullptr) end = static_cast<size_t>(static_cast<const char*>(nl) - s) + 1;
    }
    pieces.push_back({begin, end, {}, {}});
    begin = end;
  }
  // Output of pieces waiting for earlier ones is held in memory: workers
  // run at most this many pieces ahead of the writer.
  const size_t max_ahead = 4 * static_cast<size_t>(threads_);

  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable advanced;
  std::vector<char> done(pieces.size(), 0);  // guarded by mu
  size_t written = 0;                        // guarded by mu
  bool writing = false;                      // guarded by mu: a worker is in emit()
  // Only the worker that set `writing` touches these.
  size_t cap = 512;
  uint64_t selected = 0;

  auto emit = [&](Piece& piece) {
    if (piece.result.cap_sensitive && cap > 512) {
      piece.out.clear();
      piece.result = ScanRange(s, piece.begin, piece.end, size, cap, name_prefix, &piece.out, nullptr);
      ++rescanned_pieces_;
    }
    cap = std::max(cap, piece.result.end_cap);
    selected += piece.result.selected;
    if (flush_to != nullptr && piece.out.size() >= kFlushBytes) {
      Flush(*flush_to, out);
      Flush(*flush_to, &piece.out);
    } else {
      out->append(piece.out);
      if (flush_to != nullptr && out->size() >= kFlushBytes) Flush(*flush_to, out);
    }
    std::string().swap(piece.out);
  };
  auto work = [&] {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= pieces.size()) return;
      {
        std::unique_lock lock(mu);
        advanced.wait(lock, [&] { return i < written + max_ahead; });
      }
      Piece& piece = pieces[i];
      piece.result = ScanRange(s, piece.begin, piece.end, size, 512, name_prefix, &piece.out, nullptr);
      std::unique_lock lock(mu);
      done[i] = 1;
      if (writing) continue;
      writing = true;
      while (written < pieces.size() && done[written]) {
        Piece& ready = pieces[written];
        lock.unlock();
        emit(ready);
        lock.lock();
        ++written;
        advanced.notify_all();
      }
      writing = false;
    }
  };
  std::vector<std::thread> workers;
  const size_t helpers = std::min(pieces.size(), static_cast<size_t>(threads_)) - 1;
  for (size_t k = 0; k < helpers; ++k) {
    try {
      workers.emplace_back(work);
    } catch (const std::system_error&) {  // fewer threads, same output
      break;
    }
  }
  work();
  for (std::thread& w : workers) w.join();
  return selected;
}

HuntScanner::RangeResult HuntScanner::ScanRange(const char* s, size_t begin, size_t end, size_t size,
                                                size_t cap, std::string_view name_prefix, std::string* out,
                                                std::ostream* flush_to) const {
  // The range is classified 64 bytes at a time (no per-line search):
  // newline bits end lines, hint bits start fields, in position order.
  // Hints that look past a line's '\n' are harmless: their field stops at
  // the '\n' and cannot parse (see ScanFileByLine for the per-line form).
  Chunk chunk;
  chunk.lines.resize(kChunkLines);
  RangeResult result;
  size_t line_start = begin, cursor = begin;
  bool seen = false, matched = false;
  // Spans of kSpanBlocks blocks are classified at once, plus the block
  // after them (the look-ahead of their last block).
  BlockBits bits[kSpanBlocks + 1];
  for (size_t span = begin; span < end; span += 64 * kSpanBlocks) {
    const size_t blocks = std::min(kSpanBlocks, (end - span + 63) / 64);
    classify_(s, span, blocks + 1, end, size, v4_, v6_, bits);
    for (size_t k = 0; k < blocks; ++k) {
      const size_t block = span + 64 * k;
      const BlockBits& m = bits[k];
      const BlockBits& ahead = bits[k + 1];
      uint64_t events = m.v4_hint | m.v6_hint;
      if (cursor > block) events = cursor - block >= 64 ? 0 : events & (~uint64_t{0} << (cursor - block));
      events |= m.newline;
      const unsigned __int128 newlines = (static_cast<unsigned __int128>(ahead.newline) << 64) | m.newline;
      while (events != 0) {
        const size_t off = static_cast<size_t>(__builtin_ctzll(events));
        const size_t p = block + off;
        if ((m.newline >> off) & 1) {  // the line [line_start, p] ends
          const size_t n = p + 1 - line_start;
          while (n + 1 > cap) cap *= 2;
          chunk.lines[chunk.line_count++] = {line_start, n, seen, matched};
          seen = matched = false;
          line_start = p + 1;
          if (chunk.line_count == kChunkLines)
            result.selected += FinishChunk(s, size, name_prefix, &chunk, out, flush_to);
          events &= events - 1;
          continue;
        }
        // A hint: may a field start here?  Only in question within 4 bytes
        // of the line's end (the limit is never below n - 4).
        const uint64_t nl_ahead = static_cast<uint64_t>(newlines >> (off + 1)) & 0xF;
        if (nl_ahead != 0 || p + 5 > end) {
          const size_t line_end =
              nl_ahead != 0 ? p + 1 + static_cast<size_t>(__builtin_ctzll(nl_ahead)) + 1 : end;
          if (!FieldMayStart(p - line_start, line_end - line_start, cap)) {
            result.cap_sensitive = true;  // a larger buffer might have let it start
            events &= events - 1;
            continue;
          }
        }
        const bool is_v4 = (m.v4_hint >> off) & 1;
        uint16_t dots = 0;
        net::Uint128 a6 = 0;
        const size_t r = ParseFieldAt(s, p, end, m, ahead, off, is_v4, &dots, &a6);
        if (r & kV4Bit) {  // parsed with the chunk's others (FinishChunk)
          chunk.fields.push_back(
              {p, static_cast<uint32_t>(chunk.line_count), dots, static_cast<uint8_t>(r & kLenMask)});
        } else if (r & kParsedBit) {  // looked up with the chunk's others
          seen = true;
          chunk.keys6.push_back(a6);
          chunk.key6_line.push_back(static_cast<uint32_t>(chunk.line_count));
        }
        cursor = p + (r & kLenMask);
        if (cursor - block >= 64) break;  // a field holds no '\n': nothing left in this block
        events &= ~uint64_t{0} << (cursor - block);
      }
    }
  }
  if (line_start < end) {  // a last line without '\n'
    const size_t n = end - line_start;
    while (n + 1 > cap) cap *= 2;
    if (n + 1 >= 512) result.cap_sensitive = true;  // dropped or not depends on the buffer
    if (n + 1 == cap) {  // grepcidr loses it (see ScanFileByLine)
      while (!chunk.fields.empty() && chunk.fields.back().line == chunk.line_count) chunk.fields.pop_back();
      while (!chunk.key6_line.empty() && chunk.key6_line.back() == chunk.line_count) {
        chunk.key6_line.pop_back();
        chunk.keys6.pop_back();
      }
    } else {
      chunk.lines[chunk.line_count++] = {line_start, n, seen, matched};
    }
  }
  result.selected += FinishChunk(s, size, name_prefix, &chunk, out, flush_to);
  result.end_cap = cap;
  return result;
}

bool HuntScanner::ParseIPv6(std::string_view text, net::Uint128* out) {
  // As ParseFieldAt chooses: the colon-bitmap parser for 2-45 bytes of hex
  // digits and ':' (given 3 bytes before the text), else the byte loop.
  uint64_t colons = 0;
  bool plain = text.size() >= 2 && text.size() <= 45;
  for (size_t i = 0; plain && i < text.size(); ++i) {
    if (text[i] == ':') colons |= uint64_t{1} << i;
    plain = text[i] == ':' || (Class(text[i]) & kXDigit);
  }
  if (!plain) return InetPton6(text.data(), text.size(), out);
  char buf[3 + 45] = {};
  std::memcpy(buf + 3, text.data(), text.size());
  return InetPton6Colons(buf + 3, text.size(), colons, out);
}

std::vector<HuntToken> HuntScanner::Tokens(std::string_view line, bool v4, bool v6, bool reference, hunt::Isa isa) {
  std::vector<HuntToken> tokens;
  std::string copy(line);
  copy.push_back('\n');
  auto on_v4 = [&](uint32_t, const char* f, size_t len) {
    tokens.push_back({std::string(f, len), true});
    return false;
  };
  auto on_v6 = [&](net::Uint128, const char* f, size_t len) {
    tokens.push_back({std::string(f, len), false});
    return false;
  };
  if (reference)
    ScanLineReference(copy.data(), copy.size(), copy.size(), v4, v6, on_v4, on_v6);
  else
    ScanLine(hunt::Classifier(isa), hunt::V4Parser(isa), copy.data(), copy.size(), copy.size(), copy.size(), v4, v6,
             on_v4, on_v6);
  return tokens;
}

// ---- the command ------------------------------------------------------------------

namespace {

// Scans `files` in order against `set` and prints what grepcidr would;
// `first`, when set, is files[0] already loaded (with `first_status`).
int HuntFiles(Context& ctx, const net::CidrSet& set, HuntOptions options, int threads,
              const std::vector<std::string>& files, bool names, InputFile* first, const Status& first_status) {
  constexpr int kExitError = 2;
  net::PrefixMatcher matcher(set);
  HuntScanner scanner(matcher, options, threads);
  std::string out;
  out.reserve(kFlushBytes + 4096);
  uint64_t selected = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    InputFile loaded;
    InputFile* in = &loaded;
    Status st;
    if (i == 0 && first != nullptr) {
      in = first;
      st = first_status;
    } else {
      st = loaded.Load(files[i], {.directory_is_empty = true});
    }
    if (!st.ok()) {
      Flush(*ctx.out, &out);
      return ctx.Fail(st.message(), kExitError);
    }
    std::string prefix = names ? files[i] + ":" : "";
    selected += scanner.ScanFile(in->view(), prefix, &out, ctx.out);
  }
  if (options.count) out.append(std::to_string(selected)).push_back('\n');
  Flush(*ctx.out, &out);
  ctx.out->flush();
  return selected > 0 ? kExitOk : kExitFailure;
}

}  // namespace

// Exit codes as grepcidr's: 0 a line selected, 1 none, 2 an error (usage,
// unreadable or invalid feed, unreadable log: processing stops there, what
// was found before is printed).
int RunHunt(Context& ctx) {
  constexpr int kExitError = 2;
  if (!ctx.args.Has("feed")) return ctx.Usage("--feed FILE is required");
  HuntOptions options;
  options.invert = ctx.args.Has("invert") || ctx.args.Has("include-noip");
  options.include_no_ip = ctx.args.Has("include-noip");
  options.count = ctx.args.Has("count");
  options.strict_start = ctx.args.Has("strict");
  // Threads: one per core unless --threads says otherwise (files under a
  // piece are scanned on the calling thread anyway).
  int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, unsigned{kMaxThreads}));
  if (ctx.args.Has("threads")) {
    std::string text = ctx.args.Get("threads");
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), threads);
    if (ec != std::errc() || p != text.data() + text.size() || threads < 1 || threads > kMaxThreads)
      return ctx.Usage("--threads " + text + ": expected 1 to " + std::to_string(kMaxThreads));
  }
  std::vector<std::string> files = ctx.args.positionals;
  const bool names = files.size() > 1;
  if (files.empty()) files.push_back("");  // standard input
  const InputFile::Options log_options{.directory_is_empty = true};

  // With threads, the first log (a named one: standard input may be the
  // feed) is mapped and its pages read while the feed loads.  Its errors
  // are reported after the feed's, as without.
  auto is_stdin = [](const std::string& path) { return path.empty() || path == "-"; };
  InputFile first;
  Status first_status;
  bool first_loaded = false;
  if (threads > 1 && !is_stdin(files[0]) && !is_stdin(ctx.args.Get("feed"))) {
    std::thread loader;
    try {
      loader = std::thread([&] { first_status = first.Load(files[0], log_options); });
    } catch (const std::system_error&) {  // no thread: loaded in turn below
    }
    auto set = LoadFeed(ctx.args);
    if (loader.joinable()) {
      loader.join();
      first_loaded = true;
    }
    if (!set) return ctx.Fail(set.error().message(), kExitError);
    return HuntFiles(ctx, *set, options, threads, files, names, first_loaded ? &first : nullptr, first_status);
  }
  auto set = LoadFeed(ctx.args);
  if (!set) return ctx.Fail(set.error().message(), kExitError);
  return HuntFiles(ctx, *set, options, threads, files, names, nullptr, first_status);
}

}  // namespace tw::cli
