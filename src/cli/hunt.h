// `threatwall hunt`: offline matching of arbitrary text logs against a feed,
// with output byte-identical to grepcidr 2.0 (`grepcidr -f FEED LOG...`).
//
// What grepcidr 2.0 does, and so what HuntScanner does, per line (the line
// includes its '\n'; a last line without one is printed without one):
//  - Positions p are visited left to right.  At p, with IPv4 patterns loaded:
//    if byte p is an ASCII digit and one of bytes p+1..p+3 is '.', the IPv4
//    "field" is the run of [0-9A-Za-z.] starting at p; it is parsed as
//    inet_pton(AF_INET) would (exactly 4 decimal parts 0-255, no leading
//    zeros, at most 15 bytes); p then moves past the whole field whether it
//    parsed or not (so "1.2.3.4.5", "01.2.3.4", "1.2.3.4abc" match nothing,
//    while "host1.2.3.4" and "1234.1.2.3" contain 1.2.3.4 / 234.1.2.3:
//    there is no left boundary).
//  - Otherwise, with IPv6 patterns loaded: if bytes p.. are "::" + hex digit,
//    or 1-4 hex digits then ':', the IPv6 field is the run of
//    [0-9A-Za-z.:] from p, parsed as inet_pton(AF_INET6) (at most 45 bytes)
//    and skipped likewise.  Ports after ':' ("1.2.3.4:80") end an IPv4 field;
//    "[2001:db8::1]:443" yields 2001:db8::1.
//  - Families without patterns are not scanned at all (so with no IPv6
//    patterns "::ffff:1.2.3.4" is seen as 1.2.3.4; with some it is an IPv6
//    address).
//  - grepcidr reads lines into a buffer of 512 bytes that doubles while a
//    line does not fit (per file, never shrinking) and only starts fields at
//    p < capacity - 5; a last line without '\n' whose length is exactly
//    capacity - 1 is dropped.  Both quirks are reproduced.
// A line matches when any parsed address is in the set.  Not reproduced:
// lines containing NUL bytes (grepcidr's fgets/strlen handling glues them to
// the next line).
//
// How: the file is classified 64 bytes at a time into bitmaps ('\n', the
// hints, field bytes, letters, '.', ':'), 4 KiB at once with the widest
// vector instructions the CPU has (AVX-512BW, AVX2 or SSE2; see
// hunt_kernels.h).  The hint rules above become bit operations there, so
// only positions where a hint fires are visited, and a field is measured
// and rejected on the bitmaps of the 64 bytes from its start (letters,
// dot/colon counts) before any parser runs.  The IPv4 fields of 1024
// lines are parsed together (one byte shuffle per address where the CPU
// has SSSE3, else branch-free scalar code), their addresses looked up
// together (PrefixMatcher::ContainsBatchV4, IPv6 ones by ContainsBatchV6),
// then those lines printed.  IPv6 fields are parsed on the spot with glibc's
// inet_pton6 rules: groups cut at the colons of the bitmap, each read as
// one word (a byte-loop copy of inet_pton6 for fields with an IPv4 tail).
//
// Threads: a file larger than a piece (4 MiB) is cut into pieces at line
// ends; a pool of threads (one per core) takes pieces in order.  grepcidr's
// buffer capacity at a piece's start depends on the longest line before it,
// which the piece's thread does not know yet: it scans assuming 512 bytes
// and reports the capacity after the piece and whether a larger start
// capacity could have changed anything (a field refused within 4 bytes of
// a line's end, or a last line without '\n' of 511+ bytes).  The pieces'
// outputs are written strictly in file order by whichever thread is free;
// it then knows the true capacity (the largest so far) and scans a piece
// again only in the rare case both hold, so the output is byte-identical
// to one thread's.  Workers stay at most 4 pieces per thread ahead of the
// writer, which bounds the output held in memory.  The first log is mapped
// while the feed loads.
#ifndef TW_CLI_HUNT_H_
#define TW_CLI_HUNT_H_

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "cli/hunt_kernels.h"
#include "net/matcher.h"

namespace tw::cli {

struct HuntOptions {
  bool invert = false;         // grepcidr -v: lines with addresses, none matching
  bool include_no_ip = false;  // grepcidr -i: with invert, also lines without any address
  bool count = false;          // grepcidr -c: count lines instead of printing them
  bool strict_start = false;   // grepcidr -x: only the address at the start of the line
};

// One address candidate the scanner parsed, for tests: its text and family.
struct HuntToken {
  std::string text;
  bool v4 = true;
  bool operator==(const HuntToken&) const = default;
};

// Scans whole files (one buffer each) against `matcher`, grepcidr-style.
class HuntScanner {
 public:
  // `threads` > 1 lets ScanFile cut files larger than `piece_bytes` into
  // pieces of about that size (at line ends) scanned by that many threads;
  // the output is the same as with one thread.
  // `isa`: the kernels' instruction set (tests try each; see
  // hunt_kernels.h).
  HuntScanner(const net::PrefixMatcher& matcher, HuntOptions options, int threads = 1,
              size_t piece_bytes = size_t{4} << 20, hunt::Isa isa = hunt::BestIsa());

  // Scans `data` (a whole file) and appends the selected lines to `*out`,
  // each prefixed by `name_prefix` ("FILE:" with several files, else "").
  // With options.count nothing is appended.  When `flush_to` is set, `*out`
  // is written to it (and cleared) whenever it passes 1 MiB, and the output
  // of pieces is written to it directly, in order.  Returns the lines
  // selected.
  uint64_t ScanFile(std::string_view data, std::string_view name_prefix, std::string* out,
                    std::ostream* flush_to = nullptr);

  // ScanFile done line by line (memchr per line, then the line's blocks):
  // the same output, the simpler path; ScanFile uses it for strict_start.
  // Exposed for tests, which compare both.
  uint64_t ScanFileByLine(std::string_view data, std::string_view name_prefix, std::string* out,
                          std::ostream* flush_to = nullptr);

  // The addresses grepcidr would parse in `line` (the line without its '\n')
  // in order, as if both families had patterns when `v4`/`v6` say so.  The
  // tokenizer alone, for tests; no matching.  `reference` uses the plain
  // position-by-position emulation instead of the bitmap scanner hunt runs.
  static std::vector<HuntToken> Tokens(std::string_view line, bool v4, bool v6, bool reference = false,
                                       hunt::Isa isa = hunt::BestIsa());

  // inet_pton(AF_INET6) as the C library (glibc 2.26+) answers it, on
  // `text` without a NUL: the parsers hunt uses (a byte loop, and one on
  // the colon bitmap for fields of hex digits and ':').  Exposed for tests.
  static bool ParseIPv6(std::string_view text, net::Uint128* out);

  // Pieces whose first scan assumed the wrong buffer capacity and were
  // scanned again, since construction (see ScanPieces).  For tests.
  uint64_t rescanned_pieces() const { return rescanned_pieces_; }

 private:
  struct LineState {
    size_t pos;  // in the file
    size_t len;  // including the '\n'
    bool seen;
    bool matched;
  };
  // The lines of one chunk and the IPv4 addresses found in them.
  struct Chunk {
    std::vector<LineState> lines;  // kChunkLines entries, `line_count` used
    size_t line_count = 0;
    std::vector<hunt::V4Field> fields;  // IPv4 fields not parsed yet (ScanRange)
    std::vector<uint32_t> parsed;       // ... their addresses
    std::vector<uint8_t> parsed_ok;     // ... and which are addresses
    std::vector<uint32_t> keys;
    std::vector<uint32_t> key_line;  // index in `lines` of each key
    std::vector<net::Uint128> keys6;  // IPv6 addresses (ScanRange)
    std::vector<uint32_t> key6_line;
    std::vector<uint8_t> hits;
  };
  // What a scan of a range of lines found out about grepcidr's buffer.
  struct RangeResult {
    uint64_t selected = 0;
    size_t end_cap = 512;        // the capacity after the range's last line
    bool cap_sensitive = false;  // a larger capacity at its start could change the output
  };
  // Scans the line [line, line+n) (n includes the '\n' if any; `limit` =
  // how far fields may start) into chunk->lines[index] and chunk->keys.
  // `avail` = bytes readable from `line` (to the end of the file).
  void CollectLine(const char* line, size_t n, size_t limit, size_t avail, uint32_t index,
                   Chunk* chunk) const;
  // Parses the chunk's IPv4 fields (`data` readable up to `data_size`),
  // looks its keys up, appends its selected lines, empties it.
  uint64_t FinishChunk(const char* data, size_t data_size, std::string_view name_prefix, Chunk* chunk,
                       std::string* out, std::ostream* flush_to) const;
  // The streaming scan of the lines in [begin, end) of the file s[0, size)
  // (`begin` starts a line, `end` ends one or the file), with grepcidr's
  // buffer at `cap` bytes before the first line.
  RangeResult ScanRange(const char* s, size_t begin, size_t end, size_t size, size_t cap,
                        std::string_view name_prefix, std::string* out, std::ostream* flush_to) const;
  // ScanFile of a file cut into pieces, on threads_ threads.
  uint64_t ScanPieces(std::string_view data, std::string_view name_prefix, std::string* out,
                      std::ostream* flush_to);

  const net::PrefixMatcher& matcher_;
  HuntOptions options_;
  bool v4_;
  bool v6_;
  int threads_;
  size_t piece_bytes_;
  hunt::ClassifyFn classify_;
  hunt::ParseV4Fn parse_v4_;
  uint64_t rescanned_pieces_ = 0;
};

}  // namespace tw::cli

#endif  // TW_CLI_HUNT_H_
