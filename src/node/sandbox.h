// Pod sandboxes: Calico's pod networking, built with `ip` inside a node
// network namespace.
//
// A sandbox is
//   pod side (netns `pod_netns`):  lo up; eth0 (veth) up with pod_ip/32;
//     route 169.254.1.1 dev eth0 scope link; default via 169.254.1.1 dev eth0
//   node side (netns `node_netns`, "" = the caller's own):  lo up; the veth peer
//     `host_iface` up, MAC ee:ee:ee:ee:ee:ee, proxy_arp=1 and
//     neigh proxy_delay=0 on it; route pod_ip/32 dev host_iface scope link;
//     net.ipv4.ip_forward=1.
// Pods therefore reach everything, each other included, through the node's
// routing table, where the nftables forward hook sees every packet.
//
// Requirement on the node namespace: it needs a route covering 169.254.1.1
// through some other interface (normally its default route to the uplink).
// Proxy ARP answers only for destinations the node can route elsewhere;
// without such a route pods cannot resolve their gateway.
//
// IPv4 only for now (an IPv6 pod address is Unsupported).
// Thread-safe; needs root.
#ifndef TW_NODE_SANDBOX_H_
#define TW_NODE_SANDBOX_H_

#include <string_view>

#include "base/result.h"
#include "net/ip_addr.h"

namespace tw::node {

// The pods' default gateway: link-local, never on the wire.
inline constexpr net::IpAddr kPodGateway = net::IpAddr::V4(0xa9fe0101);  // 169.254.1.1
// MAC of every host-side veth (as Calico).
inline constexpr std::string_view kHostVethMac = "ee:ee:ee:ee:ee:ee";

// InvalidArgument unless `name` can be a network interface name: 1..15
// bytes, no '/', ':', '%', whitespace or NUL, not "." or "..".
Status CheckIfaceName(std::string_view name);

// Creates the sandbox described above.  Names usually come from
// names.h (SandboxNetnsName, HostIfaceName) and the address from Ipam.
// Errors: InvalidArgument (names), Unsupported (IPv6), NotFound (node
// namespace missing), AlreadyExists (pod namespace or host interface
// taken -- nothing of the existing one is touched), IoError (an `ip`
// command or sysctl failed; its output is in the message).  On any error
// everything this call created is removed again.
Status CreateSandbox(std::string_view node_netns, std::string_view pod_netns, std::string_view host_iface,
                     const net::IpAddr& pod_ip);

// Removes a sandbox: deletes `host_iface` in the node namespace (which
// removes both veth ends and the pod route at once, synchronously) and then
// the pod namespace.  Idempotent: parts already gone are fine, so it also
// cleans up after a half-created sandbox.
Status DeleteSandbox(std::string_view node_netns, std::string_view pod_netns, std::string_view host_iface);

// Test hook: makes the next CreateSandbox calls fail right after step
// `step` (1 = veth created, 2 = pod side configured, 3 = node side
// configured), to test the rollback.  0 turns it off.
void FailSandboxAfterStepForTest(int step);

// Whether `iface` exists in `netns`.
Result<bool> LinkExists(std::string_view netns, std::string_view iface);

}  // namespace tw::node

#endif  // TW_NODE_SANDBOX_H_
