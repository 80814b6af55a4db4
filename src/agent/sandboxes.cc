#include "agent/sandboxes.h"

#include "base/strings.h"
#include "node/netns.h"
#include "node/sandbox.h"

namespace tw::agent {

namespace {

// The node-side interface's alias names the pod namespace: "tw-netns:<name>".
constexpr std::string_view kAliasPrefix = "tw-netns:";

Status IpCommand(std::string_view netns, std::vector<std::string> args, std::string* out = nullptr) {
  std::vector<std::string> argv = {node::IpTool()};
  if (!netns.empty()) {
    argv.push_back("-n");
    argv.emplace_back(netns);
  }
  for (auto& a : args) argv.push_back(std::move(a));
  TW_ASSIGN_OR_RETURN(node::ExecResult r, node::Exec("", argv));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Status::IoError(cmd + ": exit " + std::to_string(r.exit_code) + ": " + std::string(TrimSpace(r.output)));
  }
  if (out) *out = std::move(r.output);
  return Status::Ok();
}

}  // namespace

Status NodeSandboxes::Create(std::string_view netns, std::string_view iface, const net::IpAddr& ip,
                             std::string_view owner) {
  (void)owner;
  TW_RETURN_IF_ERROR(node::CreateSandbox(node_netns_, netns, iface, ip));
  Status st = IpCommand(node_netns_, {"link", "set", "dev", std::string(iface), "alias",
                                      std::string(kAliasPrefix) + std::string(netns)});
  if (st.ok() && !dns_servers_.empty()) {
    std::string resolv = "# written by threatwalld: the pod's DNS servers (--pod-dns)\n";
    for (const std::string& s : dns_servers_) resolv += "nameserver " + s + "\n";
    st = node::WriteNetnsEtcFile(netns, "resolv.conf", resolv);
  }
  if (!st.ok()) {
    (void)node::RemoveNetnsEtc(netns);
    (void)node::DeleteSandbox(node_netns_, netns, iface);
    return st;
  }
  return Status::Ok();
}

Status NodeSandboxes::Delete(std::string_view netns, std::string_view iface) {
  TW_RETURN_IF_ERROR(node::DeleteSandbox(node_netns_, netns, iface));
  return node::RemoveNetnsEtc(netns);
}

Result<bool> NodeSandboxes::Exists(std::string_view netns, std::string_view iface) {
  TW_ASSIGN_OR_RETURN(bool ns_exists, node::NetnsExists(netns));
  if (!ns_exists) return false;
  return node::LinkExists(node_netns_, iface);
}

Result<std::map<std::string, std::string>> NodeSandboxes::List() {
  // `ip -o link show type veth`: one line per link,
  //   "7: twab12cd34ef5@if2: <...> ... \    link/ether ... \    alias tw-netns:NAME"
  std::string out;
  TW_RETURN_IF_ERROR(IpCommand(node_netns_, {"-o", "link", "show", "type", "veth"}, &out));
  std::map<std::string, std::string> boxes;
  for (std::string_view line : Split(out, '\n')) {
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    std::string_view rest = line.substr(colon + 2);
    size_t end = rest.find_first_of("@:");
    if (end == std::string_view::npos) continue;
    std::string_view name = rest.substr(0, end);
    size_t alias = line.find(std::string(" alias ") + std::string(kAliasPrefix));
    if (alias == std::string_view::npos) continue;
    std::string_view netns = line.substr(alias + 7 + kAliasPrefix.size());
    netns = netns.substr(0, netns.find_first_of(" \\"));
    if (!name.empty() && !netns.empty()) boxes.emplace(std::string(name), std::string(netns));
  }
  return boxes;
}

Status FakeSandboxes::Create(std::string_view netns, std::string_view iface, const net::IpAddr& ip,
                             std::string_view owner) {
  ++creates;
  if (on_create) on_create(netns);
  if (fail_create.count(std::string(netns))) return Status::IoError("sandbox " + std::string(netns) + ": injected failure");
  if (boxes.count(std::string(netns))) return Status::AlreadyExists("netns " + std::string(netns) + " exists");
  boxes[std::string(netns)] = Box{std::string(iface), ip, std::string(owner)};
  return Status::Ok();
}

Status FakeSandboxes::Delete(std::string_view netns, std::string_view iface) {
  (void)iface;
  ++deletes;
  boxes.erase(std::string(netns));
  return Status::Ok();
}

Result<bool> FakeSandboxes::Exists(std::string_view netns, std::string_view iface) {
  auto it = boxes.find(std::string(netns));
  return it != boxes.end() && it->second.iface == iface;
}

Result<std::map<std::string, std::string>> FakeSandboxes::List() {
  std::map<std::string, std::string> out;
  for (const auto& [netns, box] : boxes) out[box.iface] = netns;
  return out;
}

}  // namespace tw::agent
