// Test-only builders of nfnetlink messages as the kernel lays them out:
// big-endian values, 4-byte aligned attributes (nests built inside out:
// Nest(type, Attrs().Add(...))), and a message = nlmsghdr + nfgenmsg +
// attributes.  Used by the conntrack and collector tests.
#ifndef TW_FLOWLOG_NETLINK_TEST_UTIL_H_
#define TW_FLOWLOG_NETLINK_TEST_UTIL_H_

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace tw::flowlog::testing {

using Bytes = std::vector<uint8_t>;

// The low `n` bytes of `v`, big-endian.
inline Bytes BeBytes(uint64_t v, int n) {
  Bytes b(n);
  for (int i = n - 1; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v);
  return b;
}

class Attrs {
 public:
  Attrs& Add(uint16_t type, const Bytes& value) {
    const uint16_t len = static_cast<uint16_t>(4 + value.size());
    const size_t at = b_.size();
    b_.resize(at + 4);
    std::memcpy(&b_[at], &len, 2);
    std::memcpy(&b_[at + 2], &type, 2);
    b_.insert(b_.end(), value.begin(), value.end());
    while (b_.size() % 4 != 0) b_.push_back(0);
    return *this;
  }
  Attrs& Nest(uint16_t type, const Attrs& inner) { return Add(type | NLA_F_NESTED, inner.b_); }
  // Bytes appended as they are (malformed attributes).
  Attrs& Raw(const Bytes& bytes) {
    b_.insert(b_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  const Bytes& bytes() const { return b_; }

 private:
  Bytes b_;
};

// nlmsghdr (type, length; host order) + nfgenmsg (family, version,
// res_id big-endian) + the attributes.
inline Bytes Message(uint16_t type, uint8_t family, uint16_t res_id, const Attrs& attrs) {
  Bytes b(16, 0);
  std::memcpy(&b[4], &type, 2);
  b.push_back(family);
  b.push_back(NFNETLINK_V0);
  b.push_back(static_cast<uint8_t>(res_id >> 8));
  b.push_back(static_cast<uint8_t>(res_id));
  b.insert(b.end(), attrs.bytes().begin(), attrs.bytes().end());
  const uint32_t len = static_cast<uint32_t>(b.size());
  std::memcpy(&b[0], &len, 4);
  return b;
}

}  // namespace tw::flowlog::testing

#endif  // TW_FLOWLOG_NETLINK_TEST_UTIL_H_
