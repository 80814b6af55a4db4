#include "policy/inputs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/admit.h"
#include "model/manifest.h"

namespace tw::policy {
namespace {

namespace json = boost::json;
using selector::Labels;

// ---- helpers ----------------------------------------------------------------------------

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SourcePath(const std::string& rel) { return std::string(TW_SOURCE_DIR) + "/" + rel; }

// The objects of a YAML text, admitted as the API would store them (or
// just parsed when `admit` is false).
std::vector<json::object> Objects(std::string_view yaml, bool admit = true) {
  std::vector<json::object> out;
  auto docs = model::ParseManifest(yaml, "test");
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  if (!docs.ok()) return out;
  for (const auto& doc : *docs) {
    if (!admit) {
      out.push_back(doc.value.as_object());
      continue;
    }
    auto admitted = model::Admit(doc.value);
    EXPECT_TRUE(admitted.ok()) << admitted.status().ToString();
    if (admitted.ok()) out.push_back(admitted->object);
  }
  return out;
}

json::object One(std::string_view yaml, bool admit = true) {
  auto all = Objects(yaml, admit);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? json::object() : all[0];
}

std::string Opt(const std::optional<uint8_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string Ports(const std::vector<PortSpec>& ports) {
  std::string out;
  for (const PortSpec& p : ports) {
    if (!out.empty()) out += ",";
    if (!p.range) out += p.name;
    else if (p.range->first == p.range->last) out += std::to_string(p.range->first);
    else out += std::to_string(p.range->first) + ":" + std::to_string(p.range->last);
  }
  return out;
}

std::string Nets(const std::vector<net::Cidr>& nets) {
  std::string out;
  for (const net::Cidr& c : nets) out += (out.empty() ? "" : ",") + c.ToString();
  return out;
}

void DumpEntity(const EntityIn& e, std::string_view name, std::string& out) {
  auto line = [&](std::string_view field, const std::string& text) {
    if (!text.empty()) out += "  " + std::string(name) + "." + std::string(field) + " " + text + "\n";
  };
  line("selector", e.selector ? e.selector->String() : "");
  line("notSelector", e.not_selector ? e.not_selector->String() : "");
  line("nets", Nets(e.nets));
  line("notNets", Nets(e.not_nets));
  line("ports", Ports(e.ports));
  line("notPorts", Ports(e.not_ports));
}

// The dump format of testdata/policy/inputs/policies.txt.
std::string Dump(const PolicyIn& p) {
  std::ostringstream order;
  if (p.order) order << *p.order;
  else order << "none";
  std::string out = "key " + p.key + "\ntier " + p.tier + "\norder " + order.str() + "\nstaged " +
                    (p.staged ? "true" : "false") + "\napplies_to " + p.applies_to.String() + "\ntypes";
  if (p.ingress) out += " ingress";
  if (p.egress) out += " egress";
  out += "\n";
  auto rules = [&](const std::vector<RuleIn>& list, std::string_view dir) {
    for (size_t i = 0; i < list.size(); ++i) {
      const RuleIn& r = list[i];
      out += std::string(dir) + "[" + std::to_string(i) + "] " + std::string(ActionName(r.action));
      if (r.ip_version) out += " ipv=" + Opt(r.ip_version);
      if (r.protocol) out += " proto=" + Opt(r.protocol);
      if (r.not_protocol) out += " notProto=" + Opt(r.not_protocol);
      if (r.icmp) out += " icmp=" + Opt(r.icmp->type) + "/" + Opt(r.icmp->code);
      if (r.not_icmp) out += " notIcmp=" + Opt(r.not_icmp->type) + "/" + Opt(r.not_icmp->code);
      out += "\n";
      DumpEntity(r.source, "source", out);
      DumpEntity(r.destination, "destination", out);
    }
  };
  rules(p.ingress_rules, "ingress");
  rules(p.egress_rules, "egress");
  return out;
}

// ---- table: testdata/policy/inputs/policies.txt -----------------------------------------

struct TableCase {
  std::string name;
  int line = 0;
  bool raw = false;
  std::string yaml, expected;
};

std::vector<TableCase> LoadTable(const std::string& path) {
  std::vector<TableCase> cases;
  std::istringstream in(ReadFile(path));
  std::string line;
  int n = 0;
  bool in_expect = false;
  while (std::getline(in, line)) {
    ++n;
    if (line.starts_with("### ")) {
      TableCase c;
      c.name = line.substr(4);
      c.line = n;
      if (c.name.ends_with(" raw")) {
        c.raw = true;
        c.name.resize(c.name.size() - 4);
      }
      cases.push_back(std::move(c));
      in_expect = false;
      continue;
    }
    if (cases.empty()) continue;  // file header
    if (line == "=== expect") {
      in_expect = true;
      continue;
    }
    if (in_expect) {
      if (line.starts_with("#")) continue;
      cases.back().expected += line + "\n";
    } else {
      cases.back().yaml += line + "\n";
    }
  }
  for (auto& c : cases)
    while (c.expected.ends_with("\n\n")) c.expected.pop_back();
  return cases;
}

TEST(PolicyInputsTable, Policies) {
  const std::string path = SourcePath("testdata/policy/inputs/policies.txt");
  std::vector<TableCase> cases = LoadTable(path);
  ASSERT_GE(cases.size(), 20u) << path;
  for (const TableCase& c : cases) {
    SCOPED_TRACE("policies.txt:" + std::to_string(c.line) + " " + c.name);
    json::object obj = One(c.yaml, !c.raw);
    auto p = PolicyFromObject(obj);
    std::string got = p.ok() ? Dump(*p) : "error: " + p.status().ToString() + "\n";
    EXPECT_EQ(got, c.expected);
  }
}

// ---- the seed ------------------------------------------------------------------------------

constexpr std::string_view kSnortGns = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: threatfeed.snort-ip-block-list
  labels:
    threatfeed: snort
    tigera.io/creator: intrusion-detection-controller
spec:
  nets: [5.196.58.96, 1.2.2.0/24, 1.2.3.0/24]
)";

TEST(PolicyInputsSeed, BlockSnortAppliesToPodAndMatchesFeedSet) {
  json::object gnp = One(ReadFile(SourcePath("examples/manifests/41-tf-gnp.yaml")));
  json::object pod = One(ReadFile(SourcePath("examples/manifests/42-tf-ubuntu.yaml")));
  auto tiers = Objects(ReadFile(SourcePath("examples/manifests/01-security-tier.yaml")));
  ASSERT_EQ(tiers.size(), 1u);

  auto tier = TierFromObject(tiers[0]);
  ASSERT_TRUE(tier.ok()) << tier.status().ToString();
  EXPECT_EQ(tier->name, "security");
  EXPECT_EQ(tier->order, 600);
  EXPECT_FALSE(tier->pass_at_end);

  auto policy = PolicyFromObject(gnp);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->tier, tier->name);
  ASSERT_EQ(policy->egress_rules.size(), 2u);

  auto ep = EndpointFromPod(pod, Labels{{"kubernetes.io/metadata.name", "default"}});
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->ns, "default");
  EXPECT_EQ(ep->name, "tf-ubuntu");
  EXPECT_TRUE(policy->applies_to.Matches(ep->labels));

  auto gns = NetSetFromObject(One(kSnortGns), {});
  ASSERT_TRUE(gns.ok()) << gns.status().ToString();
  const RuleIn& deny = policy->egress_rules[0];
  EXPECT_EQ(deny.action, Action::kDeny);
  ASSERT_TRUE(deny.destination.selector.has_value());
  EXPECT_TRUE(deny.destination.selector->Matches(gns->labels));
  // The pod itself carries threatfeed=snort, so it is matched too (GNP rule
  // selectors are unscoped); a pod without the label is not.
  EXPECT_TRUE(deny.destination.selector->Matches(ep->labels));
  EXPECT_FALSE(deny.destination.selector->Matches(Labels{{"projectcalico.org/namespace", "default"}}));
  EXPECT_TRUE(gns->nets.Contains(*net::IpAddr::Parse("5.196.58.96")));
  EXPECT_EQ(policy->egress_rules[1].action, Action::kPass);
}

// ---- endpoints -----------------------------------------------------------------------------

constexpr std::string_view kPod = R"(
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  labels:
    app: web
    projectcalico.org/namespace: spoofed
  annotations:
    threatwall.io/iface: twabc123
spec:
  serviceAccountName: web-sa
  containers:
    - name: web
      image: nginx
      ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 53, protocol: UDP}
        - {containerPort: 9999}
    - name: side
      image: envoy
      ports:
        - {name: admin, containerPort: 15000, protocol: SCTP}
status:
  podIP: 10.244.0.7
  podIPs:
    - ip: 10.244.0.7
    - ip: fd00::7
)";

TEST(PolicyInputsEndpoint, LabelsIpsIfaceAndNamedPorts) {
  auto ep = EndpointFromPod(One(kPod), Labels{{"env", "prod"}, {"kubernetes.io/metadata.name", "shop"}});
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_EQ(ep->iface, "twabc123");
  Labels want = {
      {"app", "web"},
      {"projectcalico.org/namespace", "shop"},  // reserved label wins over the pod's
      {"projectcalico.org/orchestrator", "k8s"},
      {"projectcalico.org/serviceaccount", "web-sa"},
      {"pcns.env", "prod"},
      {"pcns.kubernetes.io/metadata.name", "shop"},
      {"pcns.projectcalico.org/name", "shop"},
      {"pcsa.projectcalico.org/name", "web-sa"},
  };
  EXPECT_EQ(ep->labels, want);
  ASSERT_EQ(ep->ips.size(), 2u);
  EXPECT_EQ(ep->ips[0].ToString(), "10.244.0.7");
  EXPECT_EQ(ep->ips[1].ToString(), "fd00::7");
  ASSERT_EQ(ep->ports.size(), 3u);
  EXPECT_EQ(ep->ports[0].name, "http");
  EXPECT_EQ(ep->ports[0].protocol, 6);
  EXPECT_EQ(ep->ports[0].port, 8080);
  EXPECT_EQ(ep->ports[1].name, "dns");
  EXPECT_EQ(ep->ports[1].protocol, 17);
  EXPECT_EQ(ep->ports[2].name, "admin");
  EXPECT_EQ(ep->ports[2].protocol, 132);
  EXPECT_EQ(ep->ports[2].port, 15000);
}

TEST(PolicyInputsEndpoint, PodWithoutStatusOrAnnotation) {
  auto ep = EndpointFromPod(One(ReadFile(SourcePath("examples/manifests/42-tf-ubuntu.yaml"))), {});
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  EXPECT_TRUE(ep->iface.empty());
  EXPECT_TRUE(ep->ips.empty());
  EXPECT_TRUE(ep->ports.empty());
  EXPECT_EQ(ep->labels.at("threatfeed"), "snort");
  EXPECT_EQ(ep->labels.at("pcns.projectcalico.org/name"), "default");
}

TEST(PolicyInputsEndpoint, NamespaceSelectorsSeeNamespaceLabels) {
  auto ep = EndpointFromPod(One(kPod), Labels{{"env", "prod"}});
  ASSERT_TRUE(ep.ok());
  // A GNP with namespaceSelector env == 'prod' applies; one for 'dev' does not.
  auto prod = PolicyFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: prod-only}
spec: {namespaceSelector: env == 'prod'}
)"));
  auto dev = PolicyFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: dev-only}
spec: {namespaceSelector: env == 'dev'}
)"));
  ASSERT_TRUE(prod.ok() && dev.ok());
  EXPECT_TRUE(prod->applies_to.Matches(ep->labels));
  EXPECT_FALSE(dev->applies_to.Matches(ep->labels));
}

TEST(PolicyInputsEndpoint, Errors) {
  json::object pod = One(kPod);
  pod["status"].as_object()["podIP"] = "10.244.0.300";
  auto ep = EndpointFromPod(pod, {});
  ASSERT_FALSE(ep.ok());
  EXPECT_TRUE(ep.status().message().starts_with("Pod shop/web-1: status.podIP: ")) << ep.status().message();

  json::object no_ns = One(kPod);
  no_ns["metadata"].as_object().erase("namespace");
  ep = EndpointFromPod(no_ns, {});
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.status().message(), "Pod web-1: metadata.namespace: required");

  json::object bad_labels = One(kPod);
  bad_labels["metadata"].as_object()["labels"] = json::array{1, 2};
  ep = EndpointFromPod(bad_labels, {});
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.status().message(), "Pod shop/web-1: metadata.labels: must be a map of strings");

  // Not even an object of the right shape: an error, never a crash.
  ep = EndpointFromPod(json::object{{"kind", "Pod"}, {"metadata", 7}}, {});
  EXPECT_FALSE(ep.ok());
}

// ---- NP scoping, checked by matching --------------------------------------------------

TEST(PolicyInputsScoping, NetworkPolicyRuleSelectorsStayInTheirNamespace) {
  auto np = PolicyFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-fe, namespace: shop}
spec:
  ingress:
    - action: Allow
      source: {selector: role == 'fe'}
)"));
  ASSERT_TRUE(np.ok()) << np.status().ToString();
  const auto& sel = np->ingress_rules[0].source.selector;
  ASSERT_TRUE(sel.has_value());
  auto same = EndpointFromPod(One(R"(
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop, labels: {role: fe}}
spec: {containers: [{name: c, image: busybox}]}
)"),
                              {});
  auto other = EndpointFromPod(One(R"(
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: other, labels: {role: fe}}
spec: {containers: [{name: c, image: busybox}]}
)"),
                               {});
  ASSERT_TRUE(same.ok() && other.ok());
  EXPECT_TRUE(sel->Matches(same->labels));
  EXPECT_FALSE(sel->Matches(other->labels));
  EXPECT_TRUE(np->applies_to.Matches(same->labels));
  EXPECT_FALSE(np->applies_to.Matches(other->labels));

  // NetworkSets of the policy's namespace are matched; a GNS is not.
  auto ns_set = NetSetFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: fe-nets, namespace: shop, labels: {role: fe}}
spec: {nets: [192.0.2.0/24]}
)"),
                                 {});
  auto gns = NetSetFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: fe-global, labels: {role: fe}}
spec: {nets: [198.51.100.0/24]}
)"),
                              {});
  ASSERT_TRUE(ns_set.ok() && gns.ok());
  EXPECT_TRUE(sel->Matches(ns_set->labels));
  EXPECT_FALSE(sel->Matches(gns->labels));
}

TEST(PolicyInputsScoping, GlobalNamespaceSelectorMatchesOnlyNonNamespaced) {
  auto np = PolicyFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: to-feeds, namespace: shop}
spec:
  egress:
    - action: Deny
      destination: {namespaceSelector: global(), selector: threatfeed == 'snort'}
)"));
  ASSERT_TRUE(np.ok()) << np.status().ToString();
  const auto& sel = np->egress_rules[0].destination.selector;
  ASSERT_TRUE(sel.has_value());
  auto gns = NetSetFromObject(One(kSnortGns), {});
  ASSERT_TRUE(gns.ok());
  EXPECT_TRUE(sel->Matches(gns->labels));
  EXPECT_FALSE(sel->Matches(Labels{{"threatfeed", "snort"}, {"projectcalico.org/namespace", "shop"}}));
}

// ---- network sets and tiers -----------------------------------------------------------

TEST(PolicyInputsNetSet, GlobalAndNamespacedSets) {
  // Not admitted, so that an invalid entry reaches NetSetFromObject.
  json::object raw = One(kSnortGns, false);
  raw["spec"].as_object()["nets"].as_array().push_back("not-an-ip");
  auto gns = NetSetFromObject(raw, Labels{{"ignored", "x"}});
  ASSERT_TRUE(gns.ok()) << gns.status().ToString();
  EXPECT_EQ(gns->ns, "");
  EXPECT_EQ(gns->name, "threatfeed.snort-ip-block-list");
  EXPECT_EQ(gns->labels, (Labels{{"threatfeed", "snort"}, {"tigera.io/creator", "intrusion-detection-controller"}}));
  // The invalid entry is skipped; adjacent /24s merge into one range.
  EXPECT_EQ(gns->nets.ToText(false), "1.2.2.0/23\n5.196.58.96/32\n");

  auto ns = NetSetFromObject(json::object{{"apiVersion", "projectcalico.org/v3"},
                                          {"kind", "NetworkSet"},
                                          {"metadata", {{"name", "n"}, {"namespace", "dev"}, {"labels", {{"a", "b"}}}}},
                                          {"spec", {{"nets", json::array{"2001:db8::1", "10.0.0.0/8"}}}}},
                             Labels{{"team", "x"}});
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  EXPECT_EQ(ns->ns, "dev");
  EXPECT_EQ(ns->labels, (Labels{{"a", "b"},
                                {"projectcalico.org/namespace", "dev"},
                                {"pcns.team", "x"},
                                {"pcns.projectcalico.org/name", "dev"}}));
  EXPECT_EQ(ns->nets.ToText(false), "10.0.0.0/8\n2001:db8::1/128\n");

  auto wrong = NetSetFromObject(json::object{{"kind", "Tier"}, {"metadata", {{"name", "t"}}}}, {});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "Tier t: kind: expected GlobalNetworkSet or NetworkSet, got Tier");
}

TEST(PolicyInputsTier, OrdersAndDefaultActions) {
  auto pass = TierFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: platform}
spec: {order: 10.5, defaultAction: Pass}
)"));
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->order, 10.5);
  EXPECT_TRUE(pass->pass_at_end);

  auto last = TierFromObject(One(R"(
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: last}
)"));
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->order.has_value());
  EXPECT_FALSE(last->pass_at_end);

  auto def = TierFromObject(json::object{{"kind", "Tier"}, {"metadata", {{"name", "default"}}}});
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->order, 1000000);

  auto bad = TierFromObject(json::object{
      {"kind", "Tier"}, {"metadata", {{"name", "x"}}}, {"spec", {{"defaultAction", "Allow"}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "Tier x: spec.defaultAction: must be Deny or Pass");
}

// ---- robustness ------------------------------------------------------------------------------

TEST(PolicyInputsRobustness, WrongShapesAreErrorsNotCrashes) {
  const json::value shapes[] = {nullptr, 1, "x", json::array{1}, json::object{}};
  for (const json::value& v : shapes) {
    for (std::string_view field : {"selector", "ingress", "egress", "types", "order", "namespaceSelector"}) {
      json::object gnp{{"apiVersion", "projectcalico.org/v3"},
                       {"kind", "GlobalNetworkPolicy"},
                       {"metadata", {{"name", "p"}}},
                       {"spec", {{field, v}}}};
      (void)PolicyFromObject(gnp);  // must return, whatever it returns
      json::object source{{field, v}};
      json::object rule{{"action", "Allow"}, {"source", source}, {"protocol", v}, {"icmp", v}};
      json::object rule_shape{{"apiVersion", "projectcalico.org/v3"},
                              {"kind", "GlobalNetworkPolicy"},
                              {"metadata", {{"name", "p"}}},
                              {"spec", {{"ingress", json::array{rule}}}}};
      (void)PolicyFromObject(rule_shape);
      json::object peer{{"podSelector", v}, {"namespaceSelector", v}};
      json::object k8s_rule{{"from", json::array{peer}}, {"ports", v}};
      json::object knp{{"apiVersion", "networking.k8s.io/v1"},
                       {"kind", "NetworkPolicy"},
                       {"metadata", {{"name", "p"}, {"namespace", "n"}}},
                       {"spec", {{"ingress", json::array{k8s_rule}}, {"podSelector", v}}}};
      (void)PolicyFromObject(knp);
    }
  }
  auto empty = PolicyFromObject(json::object{});
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.status().IsUnsupported());
}

}  // namespace
}  // namespace tw::policy
