#include "node/ipam.h"

#include <string>
#include <utility>

namespace tw::node {
namespace {

std::string U128ToString(net::Uint128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

}  // namespace

Ipam::Ipam(const net::Cidr& pool) : pool_(pool) {
  first_ = pool_.first();
  last_ = pool_.last();
  // Leave the reserved addresses out only where the pool is big enough
  // that doing so still leaves hosts (a /31 or /32 has no such addresses).
  int host_bits = pool_.addr().bit_len() - pool_.prefix_len();
  if (pool_.is_v4() && host_bits >= 2) {
    ++first_;
    --last_;
  } else if (!pool_.is_v4() && host_bits >= 2) {
    ++first_;
  }
  Reset();
}

void Ipam::Reset() {
  free_.clear();
  free_.emplace(first_, last_);
  allocated_ = 0;
}

net::IpAddr Ipam::AddrOf(net::Uint128 bits) const {
  return pool_.is_v4() ? net::IpAddr::V4(static_cast<uint32_t>(bits)) : net::IpAddr::V6(bits);
}

Status Ipam::CheckUsable(const net::IpAddr& addr, const char* op) const {
  if (!pool_.Contains(addr)) {
    return Status::InvalidArgument("pool " + pool_.ToString() + ": " + op + " " + addr.ToString() +
                                   ": address is outside the pool");
  }
  if (addr.bits() < first_ || addr.bits() > last_) {
    return Status::InvalidArgument("pool " + pool_.ToString() + ": " + op + " " + addr.ToString() +
                                   ": reserved address (network or broadcast)");
  }
  return Status::Ok();
}

Result<net::IpAddr> Ipam::Allocate() {
  if (free_.empty()) {
    return Status::Unavailable("pool " + pool_.ToString() + ": no free address (" + U128ToString(allocated_) +
                               " of " + U128ToString(capacity()) + " in use)");
  }
  auto it = free_.begin();
  net::Uint128 bits = it->first;
  net::Uint128 last = it->second;
  free_.erase(it);
  if (bits != last) free_.emplace(bits + 1, last);
  ++allocated_;
  return AddrOf(bits);
}

Status Ipam::Reserve(const net::IpAddr& addr) {
  TW_RETURN_IF_ERROR(CheckUsable(addr, "reserve"));
  net::Uint128 a = addr.bits();
  auto it = free_.upper_bound(a);
  if (it == free_.begin() || std::prev(it)->second < a) {
    return Status::AlreadyExists("pool " + pool_.ToString() + ": reserve " + addr.ToString() +
                                 ": address already in use");
  }
  --it;
  net::Uint128 start = it->first;
  net::Uint128 last = it->second;
  free_.erase(it);
  if (start < a) free_.emplace(start, a - 1);
  if (a < last) free_.emplace(a + 1, last);
  ++allocated_;
  return Status::Ok();
}

Status Ipam::Release(const net::IpAddr& addr) {
  TW_RETURN_IF_ERROR(CheckUsable(addr, "release"));
  if (!IsAllocated(addr)) {
    return Status::NotFound("pool " + pool_.ToString() + ": release " + addr.ToString() +
                            ": address is not in use");
  }
  net::Uint128 a = addr.bits();
  net::Uint128 start = a;
  net::Uint128 last = a;
  // Merge with the neighbours so the map stays minimal and Allocate() stays
  // O(log n) however the releases interleave.
  auto next = free_.upper_bound(a);
  if (next != free_.end() && next->first == a + 1) {
    last = next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->second + 1 == a) {
      start = prev->first;
      free_.erase(prev);
    }
  }
  free_.emplace(start, last);
  --allocated_;
  return Status::Ok();
}

Status Ipam::Load(std::span<const net::IpAddr> used) {
  auto saved_free = free_;
  auto saved_allocated = allocated_;
  Reset();
  for (size_t i = 0; i < used.size(); ++i) {
    Status s = Reserve(used[i]);
    if (!s.ok()) {
      free_ = std::move(saved_free);
      allocated_ = saved_allocated;
      return s.WithPrefix("load: used[" + std::to_string(i) + "]");
    }
  }
  return Status::Ok();
}

bool Ipam::IsAllocated(const net::IpAddr& addr) const {
  if (!pool_.Contains(addr)) return false;
  net::Uint128 a = addr.bits();
  if (a < first_ || a > last_) return false;
  auto it = free_.upper_bound(a);
  return it == free_.begin() || std::prev(it)->second < a;
}

}  // namespace tw::node
