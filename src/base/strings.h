// Small string helpers used everywhere.  Pure functions, no allocation
// beyond the returned values.
#ifndef TW_BASE_STRINGS_H_
#define TW_BASE_STRINGS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tw {

std::vector<std::string_view> Split(std::string_view s, char sep);
std::string_view TrimSpace(std::string_view s);  // ASCII space, \t, \r, \n
std::string ToLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// Quotes `s` for an error message: 'abc' (control characters escaped).
std::string Quote(std::string_view s);

// The length of the valid UTF-8 sequence at s[i] (i < s.size()) and its
// code point in *cp; 0 when the bytes there are not one (truncated,
// overlong, a surrogate or past U+10FFFF).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp);

// 64-bit FNV-1a: a stable, fast hash for short names (not cryptographic).
uint64_t Fnv1a64(std::string_view data);

// `v` as 16 lower-case hex digits (zero-padded): hashes and ids in text.
std::string Hex64(uint64_t v);

// A random RFC 4122 version-4 UUID, lower-case: what metadata.uid holds.
std::string NewUuid();

}  // namespace tw

#endif  // TW_BASE_STRINGS_H_
