#include "cli/hunt_kernels.h"

#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tw::cli::hunt {
namespace {

// What each bit means, byte by byte: bytes at or past `end` are in no class.
std::vector<BlockBits> Expected(const char* s, size_t first, size_t count, size_t end, bool v4, bool v6) {
  auto at = [&](size_t i) -> int { return i < end ? static_cast<unsigned char>(s[i]) : -1; };
  auto digit = [&](size_t i) { return at(i) >= '0' && at(i) <= '9'; };
  auto xdigit = [&](size_t i) { return at(i) >= 0 && std::isxdigit(at(i)); };
  auto alpha = [&](size_t i) { return at(i) >= 0 && std::isalpha(at(i)); };
  auto is = [&](size_t i, char c) { return at(i) == c; };
  std::vector<BlockBits> want(count);
  for (size_t k = 0; k < count; ++k) {
    BlockBits& b = want[k];
    b = {};
    for (size_t j = 0; j < 64; ++j) {
      const size_t i = first + 64 * k + j;
      const uint64_t bit = uint64_t{1} << j;
      if (is(i, '\n')) b.newline |= bit;
      if (digit(i) || alpha(i) || is(i, '.')) b.field4 |= bit;
      if (alpha(i)) b.alpha |= bit;
      if (alpha(i) && !xdigit(i)) b.nonhex |= bit;
      if (is(i, '.')) b.dot |= bit;
      if (is(i, ':')) b.colon |= bit;
      if (v4 && digit(i) && (is(i + 1, '.') || is(i + 2, '.') || is(i + 3, '.'))) b.v4_hint |= bit;
      bool h6 = is(i, ':') && is(i + 1, ':') && xdigit(i + 2);
      for (size_t n = 0; n < 4 && xdigit(i + n); ++n) h6 = h6 || is(i + n + 1, ':');
      if (v6 && h6) b.v6_hint |= bit;
    }
  }
  return want;
}

std::string Describe(const BlockBits& b) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "nl %016llx v4 %016llx v6 %016llx f4 %016llx al %016llx nh %016llx dot %016llx col %016llx",
                static_cast<unsigned long long>(b.newline), static_cast<unsigned long long>(b.v4_hint),
                static_cast<unsigned long long>(b.v6_hint), static_cast<unsigned long long>(b.field4),
                static_cast<unsigned long long>(b.alpha), static_cast<unsigned long long>(b.nonhex),
                static_cast<unsigned long long>(b.dot), static_cast<unsigned long long>(b.colon));
  return buf;
}

// `size` bytes that end where an unreadable page begins: reading past them faults.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t size) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    pages_ = (size + page_ - 1) / page_ + 1;
    void* m = mmap(nullptr, pages_ * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(m, MAP_FAILED);
    base_ = static_cast<char*>(m);
    EXPECT_EQ(mprotect(base_ + (pages_ - 1) * page_, page_, PROT_NONE), 0);
    data_ = base_ + (pages_ - 1) * page_ - size;
  }
  ~GuardedBuffer() { munmap(base_, pages_ * page_); }
  char* data() { return data_; }

 private:
  size_t page_ = 0, pages_ = 0;
  char* base_ = nullptr;
  char* data_ = nullptr;
};

// Every classifier the CPU runs gives, on random text dense in the classes,
// exactly the bits their definition gives, at any start, count and end, and
// reads nothing past the buffer.
TEST(HuntClassify, EveryInstructionSetAgreesWithTheDefinition) {
  std::mt19937 rng(41);
  const std::string alphabet = "0123456789abcdefABCFgxyzGZ..........:::::::\n\n -[]\x80\xff\x7f/`@{";
  for (int round = 0; round < 400; ++round) {
    const size_t size = 1 + rng() % 700;
    GuardedBuffer buffer(size);
    char* s = buffer.data();
    for (size_t i = 0; i < size; ++i) s[i] = alphabet[rng() % alphabet.size()];
    const size_t first = rng() % size;
    const size_t end = first + 1 + rng() % (size - first);
    const size_t count = 1 + rng() % ((end - first + 63) / 64 + 2);
    for (int fam = 0; fam < 4; ++fam) {
      const bool v4 = fam & 1, v6 = fam & 2;
      const std::vector<BlockBits> want = Expected(s, first, count, end, v4, v6);
      for (Isa isa : SupportedIsas()) {
        std::vector<BlockBits> got(count);
        Classifier(isa)(s, first, count, end, size, v4, v6, got.data());
        for (size_t k = 0; k < count; ++k)
          ASSERT_EQ(Describe(got[k]), Describe(want[k]))
              << IsaName(isa) << " block " << k << " first " << first << " end " << end << " size " << size;
      }
    }
  }
}

// Every IPv4 parser the CPU runs answers as inet_pton(AF_INET) on random
// fields of digits and dots (7-15 bytes, near-misses included: parts of 0
// or 4 digits, leading zeros, 256, two or four dots), at any position,
// the field's end against an unreadable page or at the start of the buffer.
TEST(HuntParseV4, EveryInstructionSetAgreesWithInetPton) {
  std::mt19937 rng(43);
  const std::vector<std::string> parts = {"0", "1", "9", "10", "01", "00", "99", "100", "199", "255",
                                          "256", "260", "300", "999", "010", "1000", "", "25", "249"};
  size_t accepted = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string text;
    const int nparts = rng() % 10 == 0 ? (rng() % 2 ? 3 : 5) : 4;
    for (int k = 0; k < nparts; ++k) {
      if (k > 0) text += '.';
      text += rng() % 4 == 0 ? std::to_string(rng() % 256) : parts[rng() % parts.size()];
    }
    if (rng() % 20 == 0) text += '.';
    if (text.size() < 7 || text.size() > 15) continue;
    uint16_t dots = 0;
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '.') dots |= static_cast<uint16_t>(1u << i);
    in_addr want{};
    const bool want_ok = inet_pton(AF_INET, text.c_str(), &want) == 1;
    accepted += want_ok;
    const size_t before = rng() % 3 == 0 ? 0 : rng() % 40, after = rng() % 2 == 0 ? 0 : rng() % 20;
    GuardedBuffer buffer(before + text.size() + after);
    char* s = buffer.data();
    std::memset(s, '7', before + text.size() + after);
    std::memcpy(s + before, text.data(), text.size());
    const V4Field field{before, 0, dots, static_cast<uint8_t>(text.size())};
    for (Isa isa : SupportedIsas()) {
      uint32_t got = 0;
      uint8_t ok = 2;
      V4Parser(isa)(s, before + text.size() + after, &field, 1, &got, &ok);
      ASSERT_EQ(ok, want_ok ? 1 : 0) << IsaName(isa) << " " << text;
      if (want_ok) {
        EXPECT_EQ(got, ntohl(want.s_addr)) << IsaName(isa) << " " << text;
      }
    }
  }
  EXPECT_GT(accepted, 500u);  // both answers are reached
}

TEST(HuntClassify, TheBestSupportedIsChosen) {
  const std::vector<Isa> isas = SupportedIsas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kPortable);
  EXPECT_EQ(BestIsa(), isas.size() > 1 ? isas.back() : Isa::kPortable);
  for (Isa isa : isas) EXPECT_TRUE(IsaSupported(isa)) << IsaName(isa);
#if defined(__x86_64__)
  EXPECT_TRUE(IsaSupported(Isa::kSse2));
#endif
}

}  // namespace
}  // namespace tw::cli::hunt
