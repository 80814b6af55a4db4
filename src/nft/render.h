// Rendering of the policy IR (policy/ir.h) as one nftables table,
// `inet threatwall`: the text for one atomic `nft -f` load, and the same
// content as data (Ruleset) that diff.h compares and the netlink path
// sends.  Pure: no I/O.  Layout: docs/dataplane.md "nftables".
//
//   forward   base chain (hook forward, priority filter, policy accept):
//             first the DNS copies (below), then
//             `iifname vmap` -> fw-<iface> (egress of the sending pod),
//             then `oifname vmap` -> tw-<iface> (ingress of the receiving pod).
//   fw-/tw-   endpoint chains: ct state, clear marks, per tier the jumps into
//             its policy chains gated on the Pass mark, Accept mark -> allow,
//             end-of-tier NFLOG + drop, then the namespace profile allows.
//             Ingress allows with `accept`; egress allows with `return`,
//             because `accept` would end the hook before the receiving pod's
//             tw- chain runs (pod-to-pod traffic crosses both).
//   pi-/po-   one chain per IR Policy (ingress/egress): each IR rule becomes
//             the nft rules of its variants (address family x hash/interval
//             set x named ports; the variants are disjoint up to named ports)
//             with the same statement: Allow sets the Accept mark, Pass the
//             Pass mark, both NFLOG and return; Deny NFLOGs and drops; Log
//             writes a kernel log line and continues.  Staged policies only
//             NFLOG (Log rules are skipped) and end with a no-match NFLOG.
//   sets      per IpSet and address family present: s<id>h (hash, single
//             addresses) and s<id>i (flags interval, the other ranges as
//             "first-last"); IPv6 sets carry a "6": s<id>h6 / s<id>i6.
//
// NFLOG: group 1 ingress, 2 egress, snaplen 80 (Calico §7).  Group 3, DNS
// (log_dns): two rules at the top of `forward` copy whole packets (no
// snaplen) with prefix "DNS" and no verdict, so every policy decision
// after them is unchanged:
//   meta l4proto { tcp, udp } th dport 53 iifname { <pods> } log prefix "DNS" group 3
//   meta l4proto { tcp, udp } th sport 53 th dport != 53 oifname { <pods> } log prefix "DNS" group 3
// i.e. every query a pod sends, on its way out, and every answer a pod
// receives, on its way in, whoever the server is (another pod or an
// address behind the uplink); a packet between two ports 53 is copied
// once.  Only forwarded packets are seen: a resolver inside the node's own
// namespace (input/output hooks) is not.  No pods, no DNS rules.
#ifndef TW_NFT_RENDER_H_
#define TW_NFT_RENDER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"
#include "policy/ir.h"
#include "policy/nflog.h"

namespace tw::nft {

inline constexpr std::string_view kTableName = "threatwall";
// Longest chain or set name we generate.  Kernels since 4.14 accept 255;
// longer texts are shortened with a hash (ShortName) to stay readable.
inline constexpr size_t kMaxNameLen = 63;
// NFLOG prefixes: 64 bytes including the NUL (Calico §7).
inline constexpr size_t kMaxPrefixLen = 63;

struct RenderOptions {
  uint32_t accept_mark = 0x10000;  // Felix's defaults for IptablesMarkMask 0xffff0000
  uint32_t pass_mark = 0x20000;
  uint16_t ingress_group = 1;
  uint16_t egress_group = 2;
  uint16_t snaplen = 80;
  // NFLOG copies of pods' DNS packets (see above).
  bool log_dns = true;
  uint16_t dns_group = policy::kNflogGroupDns;
  // NFLOG allow/pass hits and the profile allow (flow logs).  Denies and
  // staged policies are always logged.
  bool log_allows = true;
  // Write set elements into the text.  Off for the netlink path, which
  // declares the sets empty and sends the elements in batches.
  bool set_elements = true;
  // Kernel-log prefix of the Log action (Felix: "calico-packet").
  std::string log_action_prefix = "calico-packet";
  // Appended to every kernel set name ("s3h" + "_g5" = "s3h_g5"): the
  // dataplane's set generation, so a full sync can fill new sets next to
  // the ones in use (dataplane.h).  Empty in goldens.  At most
  // kMaxSetSuffixLen bytes of [A-Za-z0-9_].
  std::string set_suffix;
};

inline constexpr size_t kMaxSetSuffixLen = 20;

// One kernel set of the table.
struct SetSpec {
  std::string name;
  policy::SetId id = 0;
  net::Family family = net::Family::kV4;
  bool interval = false;  // s<id>i: the ranges that are not single addresses
  // The IpSet's members (all families and kinds); the elements of this
  // kernel set are the part selected by family/interval (SetElements).
  // Points into the Program the Ruleset was built from.
  const net::CidrSet* members = nullptr;
};

// One chain: `hook` is empty for regular chains, else the base chain
// declaration ("type filter hook forward priority filter; policy accept;").
// `rules` are nft rule texts in order; entries starting with '#' are
// comments (kept in the full text, skipped by `add rule` scripts).
struct ChainSpec {
  std::string name;
  std::string hook;
  std::vector<std::string> rules;
  bool operator==(const ChainSpec&) const = default;
};

// The whole table as data.  Must not outlive the Program it was built from.
struct Ruleset {
  std::vector<SetSpec> sets;      // by id, then family, hash before interval
  std::vector<ChainSpec> chains;  // forward, endpoint chains, policy chains
};

// An element of a kernel set: the inclusive range [first, last]
// (first == last for hash sets).  The netlink encoding of an interval
// element is the half-open [first, last + 1); when `last` is the family's
// highest address there is no end element (ElementKey / NextAddress).
struct Element {
  net::IpAddr first, last;
  bool operator==(const Element&) const = default;
};

// Builds the table for `program`.  Inputs the kernel cannot take are
// skipped, never fatal: endpoints whose interface name is not a valid Linux
// interface name, policy indexes and set ids out of range (a missing set
// matches nothing).  ValidateProgram reports them.
Ruleset BuildRuleset(const policy::Program& program, const RenderOptions& options);

// The full `nft -f` text: "add table inet threatwall", "delete table inet
// threatwall" (so loading it replaces the table in one transaction), then
// the table with its sets and chains.
std::string RenderRuleset(const policy::Program& program, const RenderOptions& options);
std::string RenderRuleset(const Ruleset& ruleset, const RenderOptions& options);

// The set declaration (`set NAME { type ...; [flags interval;] [elements =
// { ... }] }`) as written inside the table block, with a trailing newline.
std::string RenderSet(const SetSpec& set, bool with_elements);

// OK, or an InvalidArgument naming every part of `program` BuildRuleset
// skips.
Status ValidateProgram(const policy::Program& program);

// Elements of the kernel set `set`, sorted: for hash sets the single
// addresses of its family, for interval sets the other ranges.
std::vector<Element> SetElements(const SetSpec& set);
// The same from a CidrSet directly.
std::vector<Element> SetElements(const net::CidrSet& members, net::Family family, bool interval);
// Appends elements as nft text ("a" or "a-b"), separated by ", ".
void AppendElements(const std::vector<Element>& elements, std::string* out);

// Netlink key bytes of `a` in network byte order (4 or 16 bytes) into
// `out` (at least 16 bytes); returns the length.
size_t ElementKey(const net::IpAddr& a, uint8_t* out);
// a + 1, or false when `a` is the highest address of its family.
bool NextAddress(const net::IpAddr& a, net::IpAddr* next);

// Kernel set name: "s<id>h", "s<id>i", "s<id>h6", "s<id>i6", followed by
// `suffix` (RenderOptions::set_suffix).
std::string SetName(policy::SetId id, net::Family family, bool interval, std::string_view suffix = "");
// `prefix` + `text` when that is at most kMaxNameLen bytes and `text` only
// holds [A-Za-z0-9_.-/]; otherwise `prefix`, the safe characters of a
// leading part of `text`, '-', and 10 hex digits of a hash of `text`, so
// different texts give different names (up to the hash).
std::string ShortName(std::string_view prefix, std::string_view text);
// Calico's NFLOG prefix rule: a text of 63 bytes or more keeps its first 10
// and last 10 bytes with a hash and '_' in between.  Characters that cannot
// appear in an nft string ('"', '\\', control) become '_'.
std::string NflogPrefix(std::string_view text);
// True for a valid Linux interface name (1..15 bytes, no '/', ':',
// whitespace, '"' or control characters, not "." or "..").
bool ValidIfaceName(std::string_view name);
// 64-bit FNV-1a, the hash used in shortened names.
uint64_t NameHash(std::string_view text);

}  // namespace tw::nft

#endif  // TW_NFT_RENDER_H_
