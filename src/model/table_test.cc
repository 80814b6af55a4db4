#include "model/table.h"

#include <gtest/gtest.h>

#include "model/codec.h"

namespace tw::model {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-01-01T00:00:00Z, like FakeClock.
const std::chrono::system_clock::time_point kNow = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};

const KindInfo& Kind(std::string_view api_version, std::string_view kind) {
  const KindInfo* k = FindKind(api_version, kind);
  EXPECT_NE(k, nullptr) << api_version << " " << kind;
  return *k;
}

json::object Yaml(std::string_view text) {
  auto docs = ParseYamlDocuments(text);
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  return (*docs)[0].as_object();
}

std::vector<std::string> Names(const std::vector<TableColumn>& cols) {
  std::vector<std::string> out;
  for (const auto& c : cols) out.push_back(c.name + (c.priority ? "*" : ""));
  return out;
}

TEST(Table, ColumnsPerKind) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Names(TableColumns(Kind("v1", "Pod"))),
            (V{"Name", "Ready", "Status", "Restarts", "Age", "IP*", "Node*", "Nominated Node*", "Readiness Gates*"}));
  EXPECT_EQ(Names(TableColumns(Kind("v1", "Namespace"))), (V{"Name", "Status", "Age"}));
  EXPECT_EQ(Names(TableColumns(Kind("v1", "Secret"))), (V{"Name", "Type", "Data", "Age"}));
  EXPECT_EQ(Names(TableColumns(Kind("v1", "ConfigMap"))), (V{"Name", "Data", "Age"}));
  EXPECT_EQ(Names(TableColumns(Kind("networking.k8s.io/v1", "NetworkPolicy"))), (V{"Name", "Pod-Selector", "Age"}));
  EXPECT_EQ(Names(TableColumns(Kind("projectcalico.org/v3", "GlobalThreatFeed"))),
            (V{"Name", "Content", "Mode", "Period", "Last-Sync", "Age", "URL*", "Entries*", "Next-Pull*",
               "Last-Error*"}));
  EXPECT_EQ(Names(TableColumns(Kind("projectcalico.org/v3", "GlobalNetworkSet"))),
            (V{"Name", "Nets", "Age", "Labels*"}));
  EXPECT_EQ(Names(TableColumns(Kind("projectcalico.org/v3", "NetworkSet"))), (V{"Name", "Nets", "Age", "Labels*"}));
  EXPECT_EQ(Names(TableColumns(Kind("projectcalico.org/v3", "Tier"))), (V{"Name", "Order", "Default-Action", "Age"}));
  for (std::string_view k : {"GlobalNetworkPolicy", "StagedGlobalNetworkPolicy", "NetworkPolicy"})
    EXPECT_EQ(Names(TableColumns(Kind("projectcalico.org/v3", k))),
              (V{"Name", "Tier", "Order", "Selector", "Age", "Types*"}));
  EXPECT_EQ(Names(TableColumns(Kind("projectcalico.org/v3", "IPPool"))), (V{"Name", "CIDR", "Age"}));
  EXPECT_EQ(Names(TableColumns(Kind("projectcalico.org/v3", "SecurityEventWebhook"))),
            (V{"Name", "Consumer", "State", "Age"}));
  // Every kind: the first column is the name, and cells match the columns.
  for (const KindInfo* k : AllKinds()) {
    auto cols = TableColumns(*k);
    ASSERT_FALSE(cols.empty());
    EXPECT_EQ(cols[0].format, "name");
    EXPECT_EQ(TableCells(*k, json::object{}, kNow).size(), cols.size()) << k->kind;
  }
}

TEST(Table, ThreatFeedCells) {
  json::object feed = Yaml(R"(
apiVersion: projectcalico.org/v3
kind: GlobalThreatFeed
metadata:
  name: snort-ip-block-list
  creationTimestamp: "2025-12-31T22:00:00Z"
spec:
  content: IPSet
  mode: Enabled
  pull:
    period: 1h
    http:
      url: https://snort.org/downloads/ip-block-list
status:
  lastSuccessfulSync: "2025-12-31T23:55:00Z"
  entries: 1234
  errorConditions:
  - type: PullFailed
    message: old
  - type: PullFailed
    message: "GET https://snort.org: 503"
)");
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "GlobalThreatFeed"), feed, kNow),
            json::parse(R"(["snort-ip-block-list", "IPSet", "Enabled", "1h", "5m", "120m",
                             "https://snort.org/downloads/ip-block-list", "1234", "in 55m",
                             "GET https://snort.org: 503"])"));
  // A fresh push-mode feed: no pull, never synced, no status.
  json::object push = Yaml(R"(
apiVersion: projectcalico.org/v3
kind: GlobalThreatFeed
metadata: {name: pushed, creationTimestamp: "2025-12-31T23:59:30Z"}
spec: {content: DomainNameSet, mode: Disabled}
)");
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "GlobalThreatFeed"), push, kNow),
            json::parse(R"(["pushed", "DomainNameSet", "Disabled", "<none>", "<none>", "30s",
                             "<none>", "<none>", "<none>", "<none>"])"));
  // Overdue pull with the default period.
  json::object overdue = Yaml(R"(
metadata: {name: o}
spec: {pull: {http: {url: "http://x"}}}
status: {lastSuccessfulSync: "2025-12-30T00:00:00Z"}
)");
  auto cells = TableCells(Kind("projectcalico.org/v3", "GlobalThreatFeed"), overdue, kNow);
  EXPECT_EQ(cells[4], json::value("2d"));
  EXPECT_EQ(cells[5], json::value("<unknown>"));
  EXPECT_EQ(cells[8], json::value("due"));
}

TEST(Table, PolicySetTierPoolWebhookCells) {
  json::object gnp = Yaml(R"(
metadata: {name: security.block-snort, creationTimestamp: "2025-12-29T00:00:00Z"}
spec: {tier: security, order: 150, selector: "threatfeed == 'snort'", types: [Egress]}
)");
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "GlobalNetworkPolicy"), gnp, kNow),
            json::parse(R"(["security.block-snort", "security", "150", "threatfeed == 'snort'", "3d", "Egress"])"));
  json::object np = Yaml("metadata: {name: p}\nspec: {order: 1.5, types: [Ingress, Egress]}\n");
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "NetworkPolicy"), np, kNow),
            json::parse(R"(["p", "<none>", "1.5", "<none>", "<unknown>", "Ingress,Egress"])"));

  json::object gns = Yaml(R"(
metadata: {name: threatfeed.snort, labels: {threatfeed: snort, "tigera.io/creator": intrusion-detection-controller}}
spec: {nets: [1.2.3.4/32, 5.6.7.0/24, "::1/128"]}
)");
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "GlobalNetworkSet"), gns, kNow),
            json::parse(R"(["threatfeed.snort", 3, "<unknown>",
                             "threatfeed=snort,tigera.io/creator=intrusion-detection-controller"])"));
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "NetworkSet"), Yaml("metadata: {name: e}\n"), kNow),
            json::parse(R"(["e", 0, "<unknown>", "<none>"])"));

  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "Tier"),
                       Yaml("metadata: {name: security}\nspec: {order: 100, defaultAction: Pass}\n"), kNow),
            json::parse(R"(["security", "100", "Pass", "<unknown>"])"));
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "IPPool"),
                       Yaml("metadata: {name: default-ipv4-ippool}\nspec: {cidr: 10.244.0.0/16}\n"), kNow),
            json::parse(R"(["default-ipv4-ippool", "10.244.0.0/16", "<unknown>"])"));
  EXPECT_EQ(TableCells(Kind("projectcalico.org/v3", "SecurityEventWebhook"),
                       Yaml("metadata: {name: w}\nspec: {consumer: Generic, state: Enabled}\n"), kNow),
            json::parse(R"(["w", "Generic", "Enabled", "<unknown>"])"));
}

TEST(Table, KubernetesKindCells) {
  json::object secret = Yaml(R"(
metadata: {name: s, creationTimestamp: "2025-12-31T23:00:00Z"}
type: Opaque
data: {a: YQ==, b: Yg==}
)");
  EXPECT_EQ(TableCells(Kind("v1", "Secret"), secret, kNow), json::parse(R"(["s", "Opaque", 2, "60m"])"));
  EXPECT_EQ(TableCells(Kind("v1", "ConfigMap"), Yaml("metadata: {name: c}\ndata: {a: x}\nbinaryData: {b: eA==}\n"), kNow),
            json::parse(R"(["c", 2, "<unknown>"])"));
  EXPECT_EQ(TableCells(Kind("v1", "Namespace"), Yaml("metadata: {name: dev}\nstatus: {phase: Active}\n"), kNow),
            json::parse(R"(["dev", "Active", "<unknown>"])"));
  json::object netpol = Yaml(R"(
metadata: {name: nginx, namespace: dev}
spec:
  podSelector:
    matchLabels: {app: nginx, tier: web}
    matchExpressions:
    - {key: env, operator: In, values: [prod, dev]}
    - {key: legacy, operator: DoesNotExist}
)");
  EXPECT_EQ(TableCells(Kind("networking.k8s.io/v1", "NetworkPolicy"), netpol, kNow),
            json::parse(R"(["nginx", "app=nginx,env in (dev,prod),!legacy,tier=web", "<unknown>"])"));
  json::object all = Yaml("metadata: {name: all}\nspec: {podSelector: {}}\n");
  EXPECT_EQ(TableCells(Kind("networking.k8s.io/v1", "NetworkPolicy"), all, kNow)[1], json::value("<none>"));
}

TEST(Table, PodCells) {
  const KindInfo& pod = Kind("v1", "Pod");
  json::object fresh = Yaml(R"(
metadata: {name: tf-ubuntu, creationTimestamp: "2025-12-31T23:59:50Z"}
spec: {containers: [{name: test1, image: ubuntu}]}
)");
  EXPECT_EQ(TableCells(pod, fresh, kNow),
            json::parse(R"(["tf-ubuntu", "0/1", "Pending", "0", "10s", "<none>", "<none>", "<none>", "<none>"])"));
  json::object running = Yaml(R"(
metadata: {name: web, creationTimestamp: "2025-12-31T00:00:00Z"}
spec: {nodeName: node-1, containers: [{name: a}, {name: b}]}
status:
  phase: Running
  podIP: 10.244.0.5
  containerStatuses:
  - name: a
    ready: true
    restartCount: 2
    state: {running: {startedAt: "2025-12-31T23:50:00Z"}}
    lastState: {terminated: {exitCode: 1, finishedAt: "2025-12-31T23:49:00Z"}}
  - name: b
    ready: false
    restartCount: 0
    state: {waiting: {reason: CrashLoopBackOff}}
)");
  EXPECT_EQ(TableCells(pod, running, kNow),
            json::parse(R"j(["web", "1/2", "CrashLoopBackOff", "2 (11m ago)", "24h", "10.244.0.5", "node-1",
                              "<none>", "<none>"])j"));
  json::object deleting = Yaml(R"(
metadata: {name: d, deletionTimestamp: "2026-01-01T00:00:00Z"}
spec: {containers: [{name: a}]}
status: {phase: Running, containerStatuses: [{name: a, ready: true, state: {running: {}}}]}
)");
  EXPECT_EQ(TableCells(pod, deleting, kNow)[2], json::value("Terminating"));
  json::object init = Yaml(R"(
metadata: {name: i}
spec: {initContainers: [{name: x}, {name: y}], containers: [{name: a}]}
status: {phase: Pending, initContainerStatuses: [{name: x, state: {terminated: {exitCode: 0}}}, {name: y, state: {running: {}}}]}
)");
  EXPECT_EQ(TableCells(pod, init, kNow)[2], json::value("Init:1/2"));
}

TEST(Table, CellsNeverFailOnWrongTypes) {
  json::object weird = Yaml(R"(
metadata: {name: 5, labels: [x], creationTimestamp: yesterday}
spec: {nets: "not a list", pull: 3, order: {a: 1}, types: "Egress", containers: {}}
status: {errorConditions: [1, 2], lastSuccessfulSync: 7}
)");
  for (const KindInfo* k : AllKinds()) {
    auto cells = TableCells(*k, weird, kNow);
    EXPECT_EQ(cells.size(), TableColumns(*k).size()) << k->kind;
  }
}

TEST(Table, BuildTableShape) {
  const KindInfo& gns = Kind("projectcalico.org/v3", "GlobalNetworkSet");
  std::vector<json::object> objs = {Yaml("metadata: {name: a, resourceVersion: '5'}\nspec: {nets: [1.1.1.1/32]}\n")};
  json::object t = BuildTable(gns, objs, "17", kNow);
  EXPECT_EQ(t.at("kind"), json::value("Table"));
  EXPECT_EQ(t.at("apiVersion"), json::value("meta.k8s.io/v1"));
  EXPECT_EQ(t.at("metadata"), json::parse(R"({"resourceVersion":"17"})"));
  EXPECT_EQ(t.at("columnDefinitions").at(0).at("name"), json::value("Name"));
  EXPECT_EQ(t.at("columnDefinitions").at(3).at("priority"), json::value(1));
  EXPECT_EQ(t.at("rows").at(0).at("cells"), json::parse(R"(["a", 1, "<unknown>", "<none>"])"));
  EXPECT_EQ(t.at("rows").at(0).at("object"),
            json::parse(R"({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",
                            "metadata":{"name":"a","resourceVersion":"5"}})"));
  EXPECT_EQ(BuildTable(gns, objs, "", kNow, IncludeObject::kObject).at("rows").at(0).at("object"), json::value(objs[0]));
  EXPECT_FALSE(BuildTable(gns, objs, "", kNow, IncludeObject::kNone).at("rows").at(0).as_object().contains("object"));
  EXPECT_TRUE(BuildTable(gns, {}, "", kNow).at("metadata").as_object().empty());
}

TEST(Table, PrintTableLikeKubectl) {
  const KindInfo& gtf = Kind("projectcalico.org/v3", "GlobalThreatFeed");
  std::vector<json::object> objs = {
      Yaml("metadata: {name: snort-ip-block-list, creationTimestamp: '2025-12-31T22:00:00Z'}\n"
           "spec: {content: IPSet, mode: Enabled, pull: {period: 24h, http: {url: 'https://x/y'}}}\n"),
      Yaml("metadata: {name: b, creationTimestamp: '2025-12-31T23:59:59Z'}\n"
           "spec: {content: DomainNameSet, mode: Enabled}\n")};
  json::value table = BuildTable(gtf, objs, "3", kNow);
  auto text = PrintTable(table, {});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            "NAME                  CONTENT         MODE      PERIOD   LAST-SYNC   AGE\n"
            "snort-ip-block-list   IPSet           Enabled   24h      <none>      120m\n"
            "b                     DomainNameSet   Enabled   <none>   <none>      1s\n");
  text = PrintTable(table, {.wide = true, .no_headers = true});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "snort-ip-block-list   IPSet           Enabled   24h      <none>   120m   https://x/y   <none>   <none>   <none>\n"
            "b                     DomainNameSet   Enabled   <none>   <none>   1s     <none>        <none>   <none>   <none>\n");

  // -A: NAMESPACE first, from the row objects; short cells pad to 6.
  const KindInfo& cm = Kind("v1", "ConfigMap");
  std::vector<json::object> cms = {Yaml("metadata: {name: c, namespace: dev}\ndata: {a: x}\n")};
  text = PrintTable(BuildTable(cm, cms, "", kNow), {.with_namespace = true});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "NAMESPACE   NAME   DATA   AGE\n"
            "dev         c      1      <unknown>\n");
  EXPECT_EQ(*PrintTable(BuildTable(cm, {}, "", kNow), {}), "NAME   DATA   AGE\n");
  EXPECT_FALSE(PrintTable(json::parse(R"({"kind":"List"})"), {}).ok());
  EXPECT_FALSE(PrintTable(json::parse(R"({"kind":"Table","columnDefinitions":[],"rows":[{"cells":3}]})"), {}).ok());
}

}  // namespace
}  // namespace tw::model
