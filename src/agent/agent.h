// Agent: the node role of threatwalld.  It turns the stored state into a
// running node:
//  * Pods get sandboxes (sandboxes.h): a network namespace named
//    node::SandboxNetnsName(ns, pod), a veth whose node side is
//    node::HostIfaceName(ns, pod), and an address from the IPPool (the
//    first enabled IPv4 pool by name; 10.244.0.0/16 when there is none).
//    The pod is then written back with annotations threatwall.io/netns and
//    threatwall.io/iface and status {phase: Running, podIP, podIPs, hostIP,
//    startTime, conditions}.  A sandbox that cannot be made leaves the pod
//    Pending with a Ready=False condition saying why, and is retried.
//    Deleting the pod removes its sandbox and frees its address.
//  * Policy: Tiers, (Staged)GlobalNetworkPolicies, NetworkPolicies (Calico
//    and Kubernetes), GlobalNetworkSets, NetworkSets, Pods and Namespaces
//    are converted (policy/inputs.h), compiled (policy/compile.h) and
//    handed to the Dataplane as one Program whenever any of them changes
//    (changes arriving within `settle` are taken together).  An object
//    that does not convert is left out and logged; the rest still applies.
//  * Restart: Load() reserves the addresses of existing pods, recreates
//    missing sandboxes with the same address, deletes sandboxes no pod owns,
//    and applies the whole program once (the Dataplane replaces the table
//    atomically, so the previous run's rules stay in force until then).
// Reads and writes only through the Datastore; effects only through
// Sandboxes and Dataplane, so unit tests use MemStore + fakes.
#ifndef TW_AGENT_AGENT_H_
#define TW_AGENT_AGENT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "agent/sandboxes.h"
#include "base/clock.h"
#include "flowlog/flow_types.h"
#include "nft/dataplane.h"
#include "node/ipam.h"
#include "policy/inputs.h"
#include "policy/ir.h"
#include "store/datastore.h"

namespace tw::agent {

inline constexpr std::string_view kNetnsAnnotation = "threatwall.io/netns";
inline constexpr std::string_view kIfaceAnnotation = "threatwall.io/iface";

// What the agent last applied, for flow and DNS logs (who an address is,
// which policy an NFLOG prefix names).
struct AppliedSnapshot {
  std::shared_ptr<const policy::Program> program;
  std::vector<flowlog::PodInfo> pods;    // pods with an address
  std::vector<policy::NetSet> netsets;   // GlobalNetworkSets and NetworkSets
};

struct AgentOptions {
  std::string default_pool = "10.244.0.0/16";
  // The node's address shown as status.hostIP (empty: left out).
  std::string host_ip;
  // Changes that arrive within this time of each other are applied together.
  std::chrono::milliseconds settle{20};
  // A failed sandbox or dataplane apply is retried after this long.
  std::chrono::milliseconds retry{std::chrono::seconds(5)};
  // Called on the agent's thread after every successful apply.
  std::function<void(AppliedSnapshot)> on_applied;
};

struct AgentStats {
  uint64_t compiles = 0;
  uint64_t applies = 0;
  uint64_t apply_failures = 0;
  uint64_t sandboxes_created = 0;
  uint64_t sandboxes_deleted = 0;
  std::chrono::microseconds last_compile{0};
  std::chrono::microseconds last_apply{0};
};

class Agent {
 public:
  // All references must outlive the agent.
  Agent(store::Datastore& store, Sandboxes& sandboxes, nft::Dataplane& dataplane, Clock& clock,
        AgentOptions options = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Background mode (the daemon): Load(), then a thread that follows the
  // store until Stop().
  Status Start();
  void Stop();

  // Step mode (tests): Load() lists everything, converges sandboxes and
  // applies; Step() handles the events that arrive within `wait`, retries
  // what is due, and applies when something changed.
  Status Load();
  Status Step(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  // The program last applied to the dataplane (null before the first).
  std::shared_ptr<const policy::Program> program() const;
  AgentStats stats() const;

 private:
  struct PodState {
    boost::json::object obj;
    int64_t mod_revision = 0;
    bool want_sandbox = false;  // not yet provisioned, or the last try failed
    std::chrono::system_clock::time_point retry_at{};
  };
  using NsName = std::pair<std::string, std::string>;

  Status OpenWatches(int64_t revision);
  void HandleEvent(const store::WatchEvent& event);  // updates the cache; marks the program dirty
  void PutObject(const store::Record& record);
  void DropObject(const store::Record& record);
  void ProvisionDuePods();
  Status ProvisionPod(const NsName& key, PodState& pod);
  Status WritePodStatus(const NsName& key, PodState& pod, const std::string& netns, const std::string& iface,
                        const std::string& ip, const Status& failure);
  void RemoveSandbox(const boost::json::object& pod);
  void RebuildIpam();
  policy::Inputs BuildInputs() const;
  std::vector<flowlog::PodInfo> PodInfos(const policy::Inputs& inputs) const;
  Status CompileAndApply();
  void RunLoop();

  store::Datastore& store_;
  Sandboxes& sandboxes_;
  nft::Dataplane& dataplane_;
  Clock& clock_;
  AgentOptions options_;

  // Store kinds (model::KindInfo::StoreKind) of everything followed.
  std::string pod_kind_, ns_kind_, tier_kind_, pool_kind_, gns_kind_, netset_kind_;
  std::set<std::string> policy_kinds_;
  std::vector<std::unique_ptr<store::Watch>> watches_;

  // Cache of the followed objects (only touched by the loop thread).
  std::map<NsName, PodState> pods_;
  std::map<std::string, selector::Labels> namespaces_;
  std::map<std::string, policy::Tier> tiers_;
  std::map<store::Key, policy::PolicyIn> policies_;
  std::map<std::string, policy::NetSet> global_sets_;
  std::map<NsName, boost::json::object> netsets_;
  std::map<std::string, std::string> pools_;  // name -> IPv4 CIDR of enabled pools
  std::optional<node::Ipam> ipam_;
  std::string ipam_pool_;

  bool dirty_ = true;
  bool watch_failed_ = false;  // the last Step ended on a watch error
  std::chrono::system_clock::time_point apply_retry_at_{};

  mutable std::mutex mu_;  // guards program_ and stats_
  std::shared_ptr<const policy::Program> program_;
  AgentStats stats_;

  std::atomic<bool> stop_{false};
  std::thread loop_;
};

}  // namespace tw::agent

#endif  // TW_AGENT_AGENT_H_
