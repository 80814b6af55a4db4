// Sandboxes: what the agent needs from the node to give a pod its network
// (node/sandbox.h does the work).  An interface so that the agent's logic
// is tested without root on FakeSandboxes.
#ifndef TW_AGENT_SANDBOXES_H_
#define TW_AGENT_SANDBOXES_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/ip_addr.h"

namespace tw::agent {

class Sandboxes {
 public:
  virtual ~Sandboxes() = default;
  // Creates the pod's namespace `netns`, the veth pair with `iface` on the
  // node side and `ip` on the pod side (node::CreateSandbox).  `owner` is
  // "ns/name", recorded on the node-side interface so that Orphans() can
  // find the namespace again after the pod object is gone.
  virtual Status Create(std::string_view netns, std::string_view iface, const net::IpAddr& ip,
                        std::string_view owner) = 0;
  // Removes both; idempotent.
  virtual Status Delete(std::string_view netns, std::string_view iface) = 0;
  // Whether the sandbox is complete (namespace and node-side interface).
  virtual Result<bool> Exists(std::string_view netns, std::string_view iface) = 0;
  // Sandboxes on the node (node-side interface -> pod namespace), as
  // recorded at Create: the agent deletes those no pod owns.
  virtual Result<std::map<std::string, std::string>> List() = 0;
};

// The node's own: `ip` and sysctls in `node_netns` ("" = the caller's).
// With `dns_servers`, each pod namespace gets /etc/netns/<netns>/resolv.conf
// naming them (the pod's cluster DNS; `threatwall exec` binds it over
// /etc/resolv.conf), removed with the sandbox.
class NodeSandboxes : public Sandboxes {
 public:
  explicit NodeSandboxes(std::string node_netns, std::vector<std::string> dns_servers = {})
      : node_netns_(std::move(node_netns)), dns_servers_(std::move(dns_servers)) {}
  Status Create(std::string_view netns, std::string_view iface, const net::IpAddr& ip,
                std::string_view owner) override;
  Status Delete(std::string_view netns, std::string_view iface) override;
  Result<bool> Exists(std::string_view netns, std::string_view iface) override;
  Result<std::map<std::string, std::string>> List() override;

 private:
  std::string node_netns_;
  std::vector<std::string> dns_servers_;
};

// In memory, for tests.  `fail_create` makes Create fail for that netns.
class FakeSandboxes : public Sandboxes {
 public:
  struct Box {
    std::string iface;
    net::IpAddr ip;
    std::string owner;
  };
  Status Create(std::string_view netns, std::string_view iface, const net::IpAddr& ip,
                std::string_view owner) override;
  Status Delete(std::string_view netns, std::string_view iface) override;
  Result<bool> Exists(std::string_view netns, std::string_view iface) override;
  Result<std::map<std::string, std::string>> List() override;

  std::map<std::string, Box> boxes;  // by netns
  std::set<std::string> fail_create;
  std::function<void(std::string_view netns)> on_create;  // runs inside Create (tests: events mid-provisioning)
  int creates = 0, deletes = 0;
};

}  // namespace tw::agent

#endif  // TW_AGENT_SANDBOXES_H_
