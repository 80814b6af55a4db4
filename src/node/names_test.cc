#include "node/names.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tw::node {
namespace {

TEST(NodeNames, ShortNamesAreReadable) {
  EXPECT_EQ(SandboxNetnsName("default", "tf-ubuntu").value(), "tw-default-tf-ubuntu");
  EXPECT_EQ(SandboxNetnsName("kube-system", "a.b").value(), "tw-kube-system-a.b");
  // Exactly at the limit: kept as is.
  std::string pod(kMaxNetnsNameLen - std::string("tw-ns-").size(), 'p');
  EXPECT_EQ(SandboxNetnsName("ns", pod).value(), "tw-ns-" + pod);
}

TEST(NodeNames, LongNamesAreShortenedWithAStableHash) {
  std::string pod(kMaxNetnsNameLen, 'p');  // one over the limit once prefixed
  std::string a = SandboxNetnsName("ns", pod).value();
  std::string b = SandboxNetnsName("ns", pod + "q").value();
  EXPECT_EQ(a.size(), kMaxNetnsNameLen);
  EXPECT_EQ(b.size(), kMaxNetnsNameLen);
  EXPECT_NE(a, b);  // same prefix, different hash
  EXPECT_EQ(a.substr(0, 6), "tw-ns-");
  EXPECT_EQ(a[a.size() - 13], '-');
  EXPECT_NE(a.substr(a.size() - 12), b.substr(b.size() - 12));
  EXPECT_EQ(SandboxNetnsName("ns", pod).value(), a);  // deterministic
  // The hash separates namespace from pod, so moving the '-' changes it.
  EXPECT_NE(NameHash("a-b", "c"), NameHash("a", "b-c"));
}

TEST(NodeNames, KnownHashValues) {
  // FNV-1a 64 of "default/tf-ubuntu", computed independently (python:
  // h=0xcbf29ce484222325; for c in b"default/tf-ubuntu": h=((h^c)*0x100000001b3)%2**64).
  EXPECT_EQ(NameHash("default", "tf-ubuntu"), 0x4a45721551da0ac7ull);
  EXPECT_EQ(HostIfaceName("default", "tf-ubuntu").value(), "tw4a45721551d");
  std::string pod(70, 'x');
  std::string name = SandboxNetnsName("default", pod).value();
  // Low 48 bits of the hash of "default/xxx...": python as above.
  EXPECT_EQ(name.substr(name.size() - 13), "-f0a9bd944a2b");
}

TEST(NodeNames, HostIfaceNamesFitIfnamsizAndDiffer) {
  std::set<std::string> seen;
  for (int ns = 0; ns < 20; ++ns) {
    for (int pod = 0; pod < 50; ++pod) {
      std::string name = HostIfaceName("ns" + std::to_string(ns), "pod-" + std::to_string(pod)).value();
      EXPECT_EQ(name.size(), 13u) << name;
      EXPECT_LE(name.size(), kMaxIfaceNameLen);
      EXPECT_EQ(name.substr(0, 2), "tw");
      EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 2), std::string::npos) << name;
      seen.insert(name);
    }
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(NodeNames, RejectsBadInputNamingTheField) {
  struct Case {
    const char* ns;
    const char* pod;
    const char* field;
  };
  const Case cases[] = {
      {"", "p", "namespace"},         {"default", "", "pod name"},    {"Default", "p", "namespace"},
      {"default", "a/b", "pod name"}, {"de fault", "p", "namespace"}, {"default", "p_q", "pod name"},
  };
  for (const auto& c : cases) {
    auto a = SandboxNetnsName(c.ns, c.pod);
    ASSERT_FALSE(a.ok()) << c.ns << "/" << c.pod;
    EXPECT_TRUE(a.error().IsInvalidArgument());
    EXPECT_EQ(a.error().message().rfind(c.field, 0), 0u) << a.error().message();
    EXPECT_FALSE(HostIfaceName(c.ns, c.pod).ok());
  }
}

}  // namespace
}  // namespace tw::node
