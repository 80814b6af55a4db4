#include "node/sandbox.h"

#include <atomic>
#include <string>
#include <vector>

#include "base/strings.h"
#include "node/netns.h"

namespace tw::node {
namespace {

std::atomic<int> fail_after_step_for_test{0};

Status InjectedFailure(int step) {
  if (fail_after_step_for_test.load() != step) return Status::Ok();
  return Status::IoError("injected failure after step " + std::to_string(step) + " (test hook)");
}

std::string Where(std::string_view netns) {
  return netns.empty() ? std::string("host netns") : "netns " + Quote(netns);
}

// Runs `ip <args>` in `netns`; a non-zero exit is an IoError carrying the
// command and what ip printed.
Status RunIp(std::string_view netns, std::vector<std::string> args) {
  args.insert(args.begin(), IpTool());
  TW_ASSIGN_OR_RETURN(ExecResult r, Exec(netns, args));
  if (r.exit_code != 0) {
    args.erase(args.begin());
    return Status::IoError(Where(netns) + ": ip " + Join(args, " ") + ": exit " +
                           std::to_string(r.exit_code) + ": " + std::string(TrimSpace(r.output)));
  }
  return Status::Ok();
}

Status SetUpNodeSide(std::string_view node_netns, const std::string& iface, const std::string& ip) {
  // Without lo up a fresh node namespace has no IPv4 local table, and the
  // kernel then classifies every neighbour as broadcast: it sends pod
  // traffic to ff:ff:ff:ff:ff:ff, which the pod's TCP drops.
  TW_RETURN_IF_ERROR(RunIp(node_netns, {"link", "set", "lo", "up"}));
  TW_RETURN_IF_ERROR(WriteSysctl(node_netns, "net/ipv4/ip_forward", "1"));
  TW_RETURN_IF_ERROR(WriteSysctl(node_netns, "net/ipv4/conf/" + iface + "/proxy_arp", "1"));
  // The default delay answers proxy ARP after up to 0.8 s; pods would see
  // their first packet stall.
  TW_RETURN_IF_ERROR(WriteSysctl(node_netns, "net/ipv4/neigh/" + iface + "/proxy_delay", "0"));
  TW_RETURN_IF_ERROR(RunIp(node_netns, {"link", "set", iface, "up"}));
  // replace, not add: a stale route of a deleted sandbox must not block us.
  return RunIp(node_netns, {"route", "replace", ip + "/32", "dev", iface, "scope", "link"});
}

Status SetUpPodSide(std::string_view pod_netns, const std::string& ip) {
  std::string gw = kPodGateway.ToString();
  TW_RETURN_IF_ERROR(RunIp(pod_netns, {"link", "set", "lo", "up"}));
  TW_RETURN_IF_ERROR(RunIp(pod_netns, {"addr", "add", ip + "/32", "dev", "eth0"}));
  TW_RETURN_IF_ERROR(RunIp(pod_netns, {"link", "set", "eth0", "up"}));
  TW_RETURN_IF_ERROR(RunIp(pod_netns, {"route", "add", gw, "dev", "eth0", "scope", "link"}));
  return RunIp(pod_netns, {"route", "add", "default", "via", gw, "dev", "eth0"});
}

}  // namespace

void FailSandboxAfterStepForTest(int step) { fail_after_step_for_test.store(step); }

Status CheckIfaceName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 15 && name != "." && name != "..";
  for (char c : name) {
    // '%' would make the kernel pick a name from a template ("tw%d").
    if (c == '/' || c == ':' || c == '%' || c == ' ' || c == '\t' || c == '\n' || c == '\0') ok = false;
  }
  if (!ok) {
    return Status::InvalidArgument("interface name " + Quote(name) +
                                   ": must be 1..15 bytes without '/', ':', '%' or whitespace");
  }
  return Status::Ok();
}

Result<bool> LinkExists(std::string_view netns, std::string_view iface) {
  TW_RETURN_IF_ERROR(CheckIfaceName(iface));
  // Ask the kernel rather than /sys: /sys shows the caller's namespace.
  TW_ASSIGN_OR_RETURN(ExecResult r, Exec(netns, {IpTool(), "-o", "link", "show", "dev", std::string(iface)}));
  return r.exit_code == 0;
}

Status CreateSandbox(std::string_view node_netns, std::string_view pod_netns, std::string_view host_iface,
                     const net::IpAddr& pod_ip) {
  std::string what = "sandbox " + Quote(pod_netns);
  if (!node_netns.empty()) TW_RETURN_IF_ERROR(CheckNetnsName(node_netns).WithPrefix(what));
  TW_RETURN_IF_ERROR(CheckNetnsName(pod_netns).WithPrefix(what));
  TW_RETURN_IF_ERROR(CheckIfaceName(host_iface).WithPrefix(what));
  if (!pod_ip.is_v4()) {
    return Status::Unsupported(what + ": pod address " + pod_ip.ToString() +
                               ": only IPv4 pods are supported");
  }
  if (!node_netns.empty()) {
    TW_ASSIGN_OR_RETURN(bool node_exists, NetnsExists(node_netns));
    if (!node_exists) {
      return Status::NotFound(what + ": node netns " + Quote(node_netns) + " does not exist");
    }
  }
  TW_ASSIGN_OR_RETURN(bool iface_taken, LinkExists(node_netns, host_iface));
  if (iface_taken) {
    return Status::AlreadyExists(what + ": interface " + Quote(host_iface) + " already exists in " +
                                 Where(node_netns));
  }
  TW_RETURN_IF_ERROR(CreateNetns(pod_netns).WithPrefix(what));

  std::string iface(host_iface);
  std::string ip = pod_ip.ToString();
  // The pod end is created directly inside the pod namespace, so "eth0"
  // never clashes with the node's own devices.
  Status s = RunIp(node_netns, {"link", "add", iface, "address", std::string(kHostVethMac), "type", "veth",
                                "peer", "name", "eth0", "netns", std::string(pod_netns)});
  bool link_created = s.ok();
  if (s.ok()) s = InjectedFailure(1);
  if (s.ok()) s = SetUpPodSide(pod_netns, ip);
  if (s.ok()) s = InjectedFailure(2);
  if (s.ok()) s = SetUpNodeSide(node_netns, iface, ip);
  if (s.ok()) s = InjectedFailure(3);
  if (s.ok()) return s;

  // Roll back only what this call made: the interface check above ran
  // before, so the link (if any) is ours.
  if (link_created) (void)RunIp(node_netns, {"link", "del", iface});
  (void)DeleteNetns(pod_netns);
  return s.WithPrefix(what);
}

Status DeleteSandbox(std::string_view node_netns, std::string_view pod_netns, std::string_view host_iface) {
  std::string what = "delete sandbox " + Quote(pod_netns);
  if (!node_netns.empty()) TW_RETURN_IF_ERROR(CheckNetnsName(node_netns).WithPrefix(what));
  TW_RETURN_IF_ERROR(CheckNetnsName(pod_netns).WithPrefix(what));
  TW_RETURN_IF_ERROR(CheckIfaceName(host_iface).WithPrefix(what));
  bool node_exists = true;
  if (!node_netns.empty()) {
    TW_ASSIGN_OR_RETURN(node_exists, NetnsExists(node_netns));
  }
  if (node_exists) {
    TW_ASSIGN_OR_RETURN(bool has_link, LinkExists(node_netns, host_iface));
    // Deleting the host end removes the pair at once; deleting only the
    // namespace would leave the host end until the kernel's asynchronous
    // namespace cleanup runs, and a new sandbox of the same pod would find
    // its name taken.
    if (has_link) {
      TW_RETURN_IF_ERROR(RunIp(node_netns, {"link", "del", std::string(host_iface)}).WithPrefix(what));
    }
  }
  TW_ASSIGN_OR_RETURN(bool pod_exists, NetnsExists(pod_netns));
  if (pod_exists) {
    Status s = DeleteNetns(pod_netns);
    if (!s.ok() && !s.IsNotFound()) return s.WithPrefix(what);
  }
  return Status::Ok();
}

}  // namespace tw::node
