// Ipam: address allocation from one pool CIDR (an IPPool's spec.cidr).
//
// Usable addresses are the whole pool minus, for IPv4 prefixes up to /30,
// the network and the broadcast address, and for IPv6 prefixes up to /126,
// the first (Subnet-Router anycast) address.  /31, /32, /127 and /128 pools
// use every address (RFC 3021 style).  Allocate() always returns the lowest
// free address, so the same sequence of calls gives the same addresses --
// also after a restart, once Load() has been given the addresses in use.
//
// Free addresses are kept as disjoint inclusive ranges, so every operation
// is O(log ranges), whatever the pool size (an IPv6 /64 is fine).
//
// Thread-compatible: callers serialise access.
#ifndef TW_NODE_IPAM_H_
#define TW_NODE_IPAM_H_

#include <cstdint>
#include <map>
#include <span>

#include "base/result.h"
#include "net/cidr.h"
#include "net/ip_addr.h"

namespace tw::node {

class Ipam {
 public:
  // A pool with every usable address free.
  explicit Ipam(const net::Cidr& pool);

  const net::Cidr& pool() const { return pool_; }

  // The lowest free address.  Unavailable when every usable address is in
  // use: "pool 10.244.0.0/30: no free address (2 of 2 in use)".
  Result<net::IpAddr> Allocate();

  // Marks `addr` in use.  InvalidArgument when it is outside the pool or not
  // usable (network/broadcast), AlreadyExists when it is already in use.
  Status Reserve(const net::IpAddr& addr);

  // Returns `addr` to the pool.  InvalidArgument when outside the pool or not
  // usable, NotFound when it is not in use.
  Status Release(const net::IpAddr& addr);

  // Replaces the state: exactly the addresses in `used` are in use (e.g. the
  // status.podIP of every stored pod after a restart).  On error (an address
  // outside the pool or not usable, or listed twice) the state is unchanged
  // and the message names the index and the address.
  Status Load(std::span<const net::IpAddr> used);

  bool IsAllocated(const net::IpAddr& addr) const;
  // Number of usable addresses (saturates at 2^128-1) and of those in use.
  net::Uint128 capacity() const { return last_ - first_ + 1; }
  net::Uint128 allocated() const { return allocated_; }

 private:
  // Offsets are address bits; empty pool is impossible (the constructor
  // always leaves at least one usable address).
  Status CheckUsable(const net::IpAddr& addr, const char* op) const;
  net::IpAddr AddrOf(net::Uint128 bits) const;
  void Reset();

  net::Cidr pool_;
  net::Uint128 first_ = 0;                     // first usable address
  net::Uint128 last_ = 0;                      // last usable address (inclusive)
  std::map<net::Uint128, net::Uint128> free_;  // range start -> range last
  net::Uint128 allocated_ = 0;
};

}  // namespace tw::node

#endif  // TW_NODE_IPAM_H_
