// The grepcidr-compatible scanner of `threatwall hunt`, without grepcidr:
// the expectations were recorded from grepcidr 2.0 (Debian 12) on the same
// inputs.  tests/hunt/ compares with the real grepcidr byte for byte.
#include "cli/hunt.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/file.h"
#include "cli/commands.h"

namespace tw::cli {
namespace {

using Tokens = std::vector<HuntToken>;

HuntToken V4(std::string t) { return {std::move(t), true}; }
HuntToken V6(std::string t) { return {std::move(t), false}; }

net::CidrSet SetOf(const std::vector<std::string>& texts) {
  net::CidrSet::Builder b;
  for (const auto& t : texts) EXPECT_TRUE(b.AddText(t)) << t;
  return b.Build();
}

TEST(HuntTokens, IPv4Fields) {
  EXPECT_EQ(HuntScanner::Tokens("plain 1.2.3.4 here", true, true), Tokens{V4("1.2.3.4")});
  // No left boundary: the field starts at the first digit before a dot.
  EXPECT_EQ(HuntScanner::Tokens("host1.2.3.4", true, true), Tokens{V4("1.2.3.4")});
  // A digit run: the hint fires 3 digits before the dot.
  EXPECT_EQ(HuntScanner::Tokens("x1234.1.2.3 ", true, true), Tokens{V4("234.1.2.3")});
  // ... but letters continue the field, which then does not parse.
  EXPECT_EQ(HuntScanner::Tokens("x1234.1.2.3y", true, true), Tokens{});
  EXPECT_EQ(HuntScanner::Tokens("01.2.3.4", true, true), Tokens{});   // leading zero
  EXPECT_EQ(HuntScanner::Tokens("10.01.2.3", true, true), Tokens{});  // leading zero
  EXPECT_EQ(HuntScanner::Tokens("1.2.3.4.5", true, true), Tokens{});
  EXPECT_EQ(HuntScanner::Tokens("1.2.3.4abc", true, true), Tokens{});
  EXPECT_EQ(HuntScanner::Tokens("256.1.1.1 1.2.3", true, true), Tokens{});
  EXPECT_EQ(HuntScanner::Tokens("1.2.3.4:80", true, true), Tokens{V4("1.2.3.4")});
  EXPECT_EQ(HuntScanner::Tokens("1.2.3.4_x 5.6.7.8/24", true, true), (Tokens{V4("1.2.3.4"), V4("5.6.7.8")}));
  EXPECT_EQ(HuntScanner::Tokens("0.0.0.0,255.255.255.255", true, false),
            (Tokens{V4("0.0.0.0"), V4("255.255.255.255")}));
  EXPECT_EQ(HuntScanner::Tokens("1.2.3.4", false, true), Tokens{});  // no IPv4 patterns: not scanned
}

TEST(HuntTokens, IPv6Fields) {
  EXPECT_EQ(HuntScanner::Tokens("[2001:db8::1]:443", true, true), Tokens{V6("2001:db8::1")});
  // No left boundary either: "abc2001:" -- the hint needs 1-4 hex digits
  // before ':', so the field starts at "2001:".
  EXPECT_EQ(HuntScanner::Tokens("abc2001:db8::1", false, true), Tokens{V6("2001:db8::1")});
  EXPECT_EQ(HuntScanner::Tokens("2001:0db8:0000::1", false, true), Tokens{V6("2001:0db8:0000::1")});
  EXPECT_EQ(HuntScanner::Tokens("fe80::1%eth0", false, true), Tokens{V6("fe80::1")});
  EXPECT_EQ(HuntScanner::Tokens("at 03:41:11 ::1", false, true), Tokens{V6("::1")});  // timestamps fail
  // With IPv6 patterns the mapped form is one IPv6 field; without, the
  // IPv4 inside is found.
  EXPECT_EQ(HuntScanner::Tokens("::ffff:1.2.3.4", true, true), Tokens{V6("::ffff:1.2.3.4")});
  EXPECT_EQ(HuntScanner::Tokens("::ffff:1.2.3.4", true, false), Tokens{V4("1.2.3.4")});
  EXPECT_EQ(HuntScanner::Tokens("1:2:3:4:5:6:7:8 1::2::3 1:2", false, true), Tokens{V6("1:2:3:4:5:6:7:8")});
  EXPECT_EQ(HuntScanner::Tokens("::", false, true), Tokens{});  // the hint needs a hex digit after ::
}

// hunt's IPv6 parser accepts exactly what the C library's inet_pton
// accepts, with the same value: random strings of IPv6 characters and
// random near-addresses (groups, "::", IPv4 tails, too many or few parts).
TEST(HuntTokens, IPv6ParserAgreesWithInetPton) {
  std::mt19937 rng(41);
  const std::string alphabet = "0123456789abcdefABCDEF0000:::::.....g";
  auto group = [&] {
    std::string g;
    for (size_t k = 0, n = 1 + rng() % 5; k < n; ++k) g.push_back(alphabet[rng() % 22]);
    return g;
  };
  auto v4 = [&] {
    std::string t;
    for (int k = 0, n = 3 + static_cast<int>(rng() % 3); k < n; ++k) {
      if (k > 0) t.push_back('.');
      t += std::to_string(rng() % 3 == 0 ? rng() % 300 : rng() % 10);
      if (rng() % 20 == 0) t = "0" + t;
    }
    return t;
  };
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      for (size_t k = 0, n = rng() % 46; k < n; ++k) text.push_back(alphabet[rng() % alphabet.size()]);
    } else {
      const int groups = static_cast<int>(rng() % 10);
      const int gap = rng() % 2 ? static_cast<int>(rng() % (groups + 1)) : -1;
      for (int k = 0; k < groups; ++k) {
        if (k == gap) text += "::";
        else if (k > 0) text += ":";
        text += group();
      }
      if (gap == groups) text += "::";
      if (rng() % 4 == 0) text += (text.empty() || text.back() == ':' ? "" : ":") + v4();
    }
    unsigned char want[16];
    const bool want_ok = inet_pton(AF_INET6, text.c_str(), want) == 1;
    net::Uint128 got = 0;
    ASSERT_EQ(HuntScanner::ParseIPv6(text, &got), want_ok) << text;
    if (!want_ok) continue;
    ++accepted;
    net::Uint128 want_value = 0;
    for (unsigned char b : want) want_value = want_value << 8 | b;
    ASSERT_TRUE(got == want_value) << text;
  }
  EXPECT_GT(accepted, 10000);  // the generator reaches both answers
}

// The bitmap scanner hunt runs finds exactly the tokens of the plain
// position-by-position emulation, on random text dense in address-like
// characters, across 64-byte block boundaries, with every classifier the
// CPU runs.
TEST(HuntTokens, BitmapScannerAgreesWithReference) {
  std::mt19937 rng(17);
  const std::string alphabet =
      "0123456789012345678901234567890123456789abcdefABCFxyzZTg..........:::::::/ -[]%,_\t";
  const std::vector<std::string> pieces = {
      "1.2.3.4",         "::1",    "2001:db8::1", "::ffff:10.0.0.1",     "255.255.255.255",
      "1:2:3:4:5:6:7:8", "fe80::", "03:41:11",    "a:b:c:d:e:f:1.2.3.4", "01.2.3.4"};
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    size_t len = rng() % 200;
    while (line.size() < len) {
      if (rng() % 8 == 0)
        line += pieces[rng() % pieces.size()];
      else
        line.push_back(alphabet[rng() % alphabet.size()]);
    }
    for (int fam = 1; fam < 4; ++fam) {
      bool v4 = fam & 1, v6 = fam & 2;
      const Tokens want = HuntScanner::Tokens(line, v4, v6, /*reference=*/true);
      for (hunt::Isa isa : hunt::SupportedIsas())
        ASSERT_EQ(HuntScanner::Tokens(line, v4, v6, false, isa), want)
            << hunt::IsaName(isa) << " v4=" << v4 << " v6=" << v6 << " line: " << line;
    }
  }
}

// Runs the scanner on `data` and returns what it printed.
std::string Scan(const net::CidrSet& set, std::string_view data, HuntOptions options = {},
                 uint64_t* selected = nullptr) {
  net::PrefixMatcher m(set);
  HuntScanner scanner(m, options);
  std::string out;
  uint64_t n = scanner.ScanFile(data, "", &out);
  if (selected != nullptr) *selected = n;
  return out;
}

TEST(HuntScan, SelectsMatchingLinesVerbatim) {
  net::CidrSet set = SetOf({"1.2.3.4", "10.0.0.0/8", "2001:db8::/32"});
  std::string log =
      "a 1.2.3.4 b\r\n"
      "no address\n"
      "miss 1.2.3.5\n"
      "2026-11-28T03:41:11 from 10.255.255.255 port 22\n"
      "v6 [2001:db8::7]:443\n"
      "last 10.0.0.1";  // no '\n': printed without one
  EXPECT_EQ(
      Scan(set, log),
      "a 1.2.3.4 b\r\n2026-11-28T03:41:11 from 10.255.255.255 port 22\nv6 [2001:db8::7]:443\nlast 10.0.0.1");
  HuntOptions invert;
  invert.invert = true;
  EXPECT_EQ(Scan(set, log, invert), "miss 1.2.3.5\n");
  invert.include_no_ip = true;
  EXPECT_EQ(Scan(set, log, invert), "no address\nmiss 1.2.3.5\n");
  HuntOptions count;
  count.count = true;
  uint64_t n = 0;
  EXPECT_EQ(Scan(set, log, count, &n), "");
  EXPECT_EQ(n, 4u);
  HuntOptions strict;
  strict.strict_start = true;
  EXPECT_EQ(Scan(set, "1.2.3.4 x\nx 1.2.3.4\n2001:db8::1 y\n", strict), "1.2.3.4 x\n2001:db8::1 y\n");
}

TEST(HuntScan, ReproducesGrepcidrLineBufferQuirks) {
  net::CidrSet set = SetOf({"::1", "1.2.3.4"});
  // 510 bytes + '\n' fill the 512-byte buffer: fields may start only below
  // 507, so "::1" at 507 is not seen; one byte earlier it is.
  std::string late = std::string(506, 'a') + " ::1\n";
  std::string early = std::string(505, 'b') + " ::1\n";
  EXPECT_EQ(Scan(set, late + early), early);
  // A last line without '\n' of exactly capacity-1 bytes is dropped.
  std::string dropped = "x 1.2.3.4 " + std::string(501, 'c');
  EXPECT_EQ(Scan(set, dropped), "");
  std::string kept = "x 1.2.3.4 " + std::string(500, 'c');
  EXPECT_EQ(Scan(set, kept), kept);
  // ... also after the buffer grew to 1024 for an earlier line.
  std::string grown = std::string(600, 'y') + "\n" + "x 1.2.3.4 " + std::string(1013, 'c');
  EXPECT_EQ(Scan(set, grown), "");
}

// The streaming scanner (whole file in 64-byte blocks), with each
// classifier, prints what the line-by-line one prints, on random files: short and long lines (around
// grepcidr's 512/1024-byte buffer), '\r', last lines with and without '\n',
// and every option.
TEST(HuntScan, StreamingAgreesWithLineByLine) {
  std::mt19937 rng(23);
  const std::string alphabet = "0123456789abcdefxyzT......:::: -[]\r\n\n\n";
  const std::vector<std::string> pieces = {"1.2.3.4", "::1",        "2001:db8::1",   "10.9.8.7", "1::",
                                           "fe80::2", "5.6.7.8:80", "[2001:db8::5]", "03:41:11", "1.2.3.400"};
  net::CidrSet set = SetOf({"1.2.3.4", "10.0.0.0/8", "::1", "2001:db8::/48", "1::"});
  net::CidrSet v4only = SetOf({"1.2.3.0/24", "5.6.7.8"});
  const net::PrefixMatcher both_families(set), v4_family(v4only);
  for (int i = 0; i < 3000; ++i) {
    std::string data;
    size_t target = rng() % 3 == 0 ? 400 + rng() % 1400 : rng() % 300;
    while (data.size() < target) {
      if (rng() % 6 == 0)
        data += pieces[rng() % pieces.size()];
      else
        data.push_back(alphabet[rng() % alphabet.size()]);
      if (rng() % 97 == 0) data += std::string(490 + rng() % 40, 'q') + " ::1\n";
    }
    for (int o = 0; o < 4; ++o) {
      HuntOptions options;
      options.invert = o == 1 || o == 2;
      options.include_no_ip = o == 2;
      options.count = o == 3;
      for (const net::PrefixMatcher* m : {&both_families, &v4_family}) {
        HuntScanner b(*m, options, 1, size_t{4} << 20, hunt::Isa::kPortable);
        std::string out_b;
        const uint64_t nb = b.ScanFileByLine(data, "f:", &out_b);
        for (hunt::Isa isa : hunt::SupportedIsas()) {
          HuntScanner a(*m, options, 1, size_t{4} << 20, isa);
          std::string out_a;
          const uint64_t na = a.ScanFile(data, "f:", &out_a);
          ASSERT_EQ(out_a, out_b) << hunt::IsaName(isa) << " option set " << o << " data: " << data;
          ASSERT_EQ(na, nb);
        }
        // Two threads, pieces of one line each: every line starts a piece.
        HuntScanner split(*m, options, /*threads=*/2, /*piece_bytes=*/1);
        std::string out_split;
        const uint64_t ns = split.ScanFile(data, "f:", &out_split);
        ASSERT_EQ(out_split, out_b) << "option set " << o << " data: " << data;
        ASSERT_EQ(ns, nb);
      }
    }
  }
}

// Pieces scanned on threads: grepcidr's buffer grows for a long line in
// one piece and changes what later pieces see (fields near a line's end, a
// last line of capacity - 1 bytes); the pieces that first assumed 512 bytes
// are scanned again, those the capacity cannot affect are not.
TEST(HuntScan, PiecesCarryTheBufferCapacity) {
  net::CidrSet set = SetOf({"::1", "1.2.3.4"});
  const net::PrefixMatcher m(set);
  // "::1" ending a 511-byte line: refused with 512 bytes, seen with 1024.
  const std::string near_end = std::string(506, 'a') + " ::1\n";
  const std::string plain = "x 1.2.3.4\n";
  const std::string grow = std::string(600, 'g') + "\n";
  // A last line without '\n' of 1023 bytes: kept with 512, lost with 1024.
  const std::string last = "y 1.2.3.4 " + std::string(1013, 'c');
  for (const std::string& data : {near_end + plain + grow + near_end + plain + near_end,
                                  plain + near_end + grow + plain + last, grow + last, near_end + last}) {
    for (size_t piece : {size_t{1}, size_t{8}, size_t{520}, size_t{700}, size_t{4096}}) {
      for (int threads : {2, 3}) {
        HuntScanner by_line(m, {}), pieces(m, {}, threads, piece);
        std::string want, got;
        const uint64_t nw = by_line.ScanFileByLine(data, "", &want);
        const uint64_t ng = pieces.ScanFile(data, "", &got);
        ASSERT_EQ(got, want) << "piece " << piece << " threads " << threads;
        ASSERT_EQ(ng, nw);
      }
    }
  }
  // Only the pieces after the 600-byte line that hold a refused field are
  // scanned again: here the second "::1" line and the last one.
  HuntScanner pieces(m, {}, /*threads=*/2, /*piece_bytes=*/1);
  std::string out;
  pieces.ScanFile(near_end + plain + grow + near_end + plain + near_end, "", &out);
  EXPECT_EQ(out, plain + near_end + plain + near_end);
  EXPECT_EQ(pieces.rescanned_pieces(), 2u);
}

// Many pieces on several threads, written straight to a stream: the same
// bytes, in order, as one thread.
TEST(HuntScan, PiecesOnThreadsKeepOrder) {
  std::mt19937 rng(5);
  net::CidrSet set = SetOf({"10.0.0.0/8", "2001:db8::/32"});
  const net::PrefixMatcher m(set);
  std::string data;
  for (int i = 0; data.size() < (size_t{3} << 20); ++i) {
    data += "line " + std::to_string(i) + (rng() % 3 == 0 ? " from 11." : " from 10.") +
            std::to_string(rng() % 300) + ".1.2";
    if (rng() % 50 == 0) data += " [2001:db8::" + std::to_string(i % 9999) + "]:53";
    if (rng() % 5000 == 0) data += std::string(1500 + rng() % 3000, 'w') + " 10.1.1.1";
    data += "\n";
  }
  for (int o = 0; o < 3; ++o) {
    HuntOptions options;
    options.invert = o == 1;
    options.count = o == 2;
    HuntScanner one(m, options), many(m, options, /*threads=*/4, /*piece_bytes=*/size_t{64} << 10);
    std::string want, buffer;
    std::ostringstream got;
    const uint64_t nw = one.ScanFile(data, "f:", &want);
    const uint64_t ng = many.ScanFile(data, "f:", &buffer, &got);
    got << buffer;
    ASSERT_EQ(got.str(), want) << "option set " << o;
    ASSERT_EQ(ng, nw);
    EXPECT_GT(nw, 0u);
  }
}

TEST(HuntScan, NothingLoadedMatchesNothing) {
  EXPECT_EQ(Scan(net::CidrSet(), "1.2.3.4\n::1\n"), "");
  HuntOptions invert;
  invert.invert = true;
  EXPECT_EQ(Scan(net::CidrSet(), "1.2.3.4\n", invert), "");  // no family scanned: no address seen
}

// The command end to end: file names with several logs, exit codes, -c.
TEST(HuntCommand, FilesNamesAndExitCodes) {
  std::string dir = ::testing::TempDir() + "/tw-hunt-test-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteFileAtomic(dir + "/feed", "# comment\n1.2.3.4\n10.0.0.0/8\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/a.log", "x 1.2.3.4\ny 9.9.9.9\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/b.log", "z 10.1.1.1\n").ok());
  auto run = [&](std::vector<std::string> args, std::string* out) {
    std::ostringstream o, e;
    int rc = tw::cli::Run(args, o, e, ConfigInputs());
    *out = o.str();
    return rc;
  };
  std::string out;
  EXPECT_EQ(run({"hunt", "--feed", dir + "/feed", dir + "/a.log"}, &out), 0);
  EXPECT_EQ(out, "x 1.2.3.4\n");
  EXPECT_EQ(run({"hunt", "--feed", dir + "/feed", dir + "/a.log", dir + "/b.log"}, &out), 0);
  EXPECT_EQ(out, dir + "/a.log:x 1.2.3.4\n" + dir + "/b.log:z 10.1.1.1\n");
  EXPECT_EQ(run({"hunt", "--feed", dir + "/feed", "-c", dir + "/a.log", dir + "/b.log"}, &out), 0);
  EXPECT_EQ(out, "2\n");
  EXPECT_EQ(run({"hunt", "--feed", dir + "/feed", "--invert", dir + "/a.log"}, &out), 0);
  EXPECT_EQ(out, "y 9.9.9.9\n");
  EXPECT_EQ(run({"hunt", "--feed", dir + "/feed", dir + "/b.log", dir + "/a.log"}, &out), 0);
  ASSERT_TRUE(WriteFileAtomic(dir + "/none.log", "nothing 8.8.8.8\n").ok());
  EXPECT_EQ(run({"hunt", "--feed", dir + "/feed", dir + "/none.log"}, &out), 1);
  EXPECT_EQ(out, "");
  // Errors: exit 2, output found before a missing log is kept.
  EXPECT_EQ(run({"hunt", "--feed", dir + "/nofeed", dir + "/a.log"}, &out), 2);
  EXPECT_EQ(run({"hunt", "--feed", dir + "/feed", dir + "/a.log", dir + "/missing.log"}, &out), 2);
  EXPECT_EQ(out, dir + "/a.log:x 1.2.3.4\n");
  EXPECT_EQ(run({"hunt", dir + "/a.log"}, &out), 2);  // no --feed
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tw::cli
