// Byte-level helpers shared by the netlink, packet and DNS decoders: the
// fixed header sizes of netlink, 4-byte alignment, unaligned host-order
// loads and big-endian reads.  Callers check bounds before reading.
#ifndef TW_FLOWLOG_WIRE_H_
#define TW_FLOWLOG_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tw::flowlog::wire {

inline constexpr size_t kNlmsgHeaderLen = 16;  // sizeof(nlmsghdr)
inline constexpr size_t kNfgenLen = 4;         // sizeof(nfgenmsg)
inline constexpr size_t kNlattrHeaderLen = 4;  // sizeof(nlattr)

inline size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

template <typename T>
T HostLoad(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline uint64_t Be64(const uint8_t* p) { return (uint64_t{Be32(p)} << 32) | Be32(p + 4); }
inline unsigned __int128 Be128(const uint8_t* p) {
  return (static_cast<unsigned __int128>(Be64(p)) << 64) | Be64(p + 8);
}

}  // namespace tw::flowlog::wire

#endif  // TW_FLOWLOG_WIRE_H_
