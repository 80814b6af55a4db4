#include "model/kinds.h"

#include <gtest/gtest.h>

#include <set>

namespace tw::model {
namespace {

TEST(Kinds, ResolveAliasesLikeKubectlAndCalicoctl) {
  EXPECT_EQ(ResolveKindAlias("gtf")->kind, "GlobalThreatFeed");
  EXPECT_EQ(ResolveKindAlias("globalthreatfeeds")->kind, "GlobalThreatFeed");
  EXPECT_EQ(ResolveKindAlias("GlobalThreatFeed")->kind, "GlobalThreatFeed");
  EXPECT_EQ(ResolveKindAlias("gns")->kind, "GlobalNetworkSet");
  EXPECT_EQ(ResolveKindAlias("gnp")->kind, "GlobalNetworkPolicy");
  EXPECT_EQ(ResolveKindAlias("po")->kind, "Pod");
  EXPECT_EQ(ResolveKindAlias("netpol")->group, "networking.k8s.io");
  EXPECT_EQ(ResolveKindAlias("networkpolicies")->group, "networking.k8s.io");
  EXPECT_EQ(ResolveKindAlias("networkpolicies.projectcalico.org")->group, "projectcalico.org");
  EXPECT_EQ(ResolveKindAlias("networkpolicy.v3.projectcalico.org")->group, "projectcalico.org");
  EXPECT_EQ(ResolveKindAlias("cnp")->group, "projectcalico.org");
  EXPECT_EQ(ResolveKindAlias("deployments"), nullptr);
  EXPECT_EQ(ResolveKindAlias("gtf.networking.k8s.io"), nullptr);
}

TEST(Kinds, NamesAreUniquePerGroup) {
  std::set<std::string> seen;
  for (const KindInfo* k : AllKinds()) {
    EXPECT_TRUE(seen.insert(k->QualifiedPlural()).second) << k->QualifiedPlural();
    EXPECT_EQ(FindKind(k->ApiVersion(), k->kind), k);
    EXPECT_EQ(FindKindByResource(k->group, k->version, k->plural), k);
    EXPECT_EQ(FindKindByStoreKind(k->StoreKind()), k);
  }
  EXPECT_EQ(FindKind("apps/v1", "Deployment"), nullptr);
  EXPECT_EQ(FindKind("v1", "Pod")->ApiPrefix(), "/api/v1");
}

}  // namespace
}  // namespace tw::model
