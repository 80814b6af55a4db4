// Hand-built IR programs shared by the nft/ tests (test-only header; the
// compiler in policy/ is tested on its own).
#ifndef TW_NFT_TEST_PROGRAMS_H_
#define TW_NFT_TEST_PROGRAMS_H_

#include <initializer_list>
#include <string>
#include <string_view>

#include "net/cidr.h"
#include "net/cidr_set.h"
#include "policy/ir.h"

namespace tw::nft::testing {

inline net::CidrSet NetsForTest(std::initializer_list<std::string_view> texts) {
  net::CidrSet::Builder b;
  for (std::string_view t : texts) b.AddText(t);
  return b.Build();
}

inline policy::IpSet SetForTest(policy::SetId id, std::string selector,
                                std::initializer_list<std::string_view> texts) {
  return {id, std::move(selector), NetsForTest(texts)};
}

inline policy::Rule RuleForTest(policy::Action action, uint16_t index, std::string prefix) {
  policy::Rule r;
  r.action = action;
  r.index = index;
  r.nflog_prefix = std::move(prefix);
  return r;
}

// The seed scenario after `create -f 41-tf-gnp.yaml`: pod tf-ubuntu
// (label threatfeed=snort) behind twc0ffee01, the SNORT feed's network set
// plus the pod itself in the set of `threatfeed == 'snort'`; tier security
// with security.block-snort (egress: Deny to the set, then Pass); tier
// default with default.allow-dns (egress UDP 53).  A second pod without
// policy shows the dispatch maps.
inline policy::Program SeedProgramForTest() {
  using policy::Action;
  policy::Program p;
  p.sets.push_back(SetForTest(0, "threatfeed == \"snort\"",
                              {"5.196.58.96", "5.188.10.0/23", "45.9.148.0/24", "10.244.0.5",
                               "185.220.101.1"}));
  policy::Policy snort{"security.block-snort", "security", false, policy::Direction::kEgress, {}};
  policy::Rule deny = RuleForTest(Action::kDeny, 0, "DPE0|security.block-snort");
  deny.match.dst.set = 0;
  snort.rules.push_back(deny);
  snort.rules.push_back(RuleForTest(Action::kPass, 1, "PPE1|security.block-snort"));
  p.policies.push_back(snort);
  policy::Policy dns{"default.allow-dns", "default", false, policy::Direction::kEgress, {}};
  policy::Rule udp = RuleForTest(Action::kAllow, 0, "APE0|default.allow-dns");
  udp.match.protocol = 17;
  udp.match.dst.ports = {{53, 53}};
  udp.match.dst.ports_present = true;
  dns.rules.push_back(udp);
  p.policies.push_back(dns);

  policy::EndpointProgram tf;
  tf.ns = "default";
  tf.name = "tf-ubuntu";
  tf.iface = "twc0ffee01";
  tf.ips = {net::IpAddr::V4(0x0af40005)};
  tf.egress.push_back({"security", {0}, true, "DPE|security"});
  tf.egress.push_back({"default", {1}, true, "DPE|default"});
  p.endpoints[tf.iface] = tf;
  policy::EndpointProgram other;
  other.ns = "default";
  other.name = "other";
  other.iface = "twbeef0002";
  other.ips = {net::IpAddr::V4(0x0af40006)};
  p.endpoints[other.iface] = other;
  return p;
}

}  // namespace tw::nft::testing

#endif  // TW_NFT_TEST_PROGRAMS_H_
