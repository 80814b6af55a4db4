#include "model/admit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "base/file.h"
#include "base/strings.h"
#include "model/codec.h"
#include "model/kind_rules.h"
#include "model/openapi.h"

namespace tw::model {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// ---- The table-driven runner (format: testdata/admit/README.md) -------------------

struct Case {
  std::string file;
  int line = 0;
  std::string name;
  std::string doc;
  std::string expect;  // "ok", "error" or "unsupported"
  std::string default_namespace = "default";
  std::vector<std::string> lines;
};

std::vector<Case> LoadCases(const fs::path& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  int n = 0;
  bool in_expect = false;
  while (std::getline(in, line)) {
    ++n;
    if (line.starts_with("=== ")) {
      cases.push_back({path.filename().string(), n, line.substr(4), "", "", "default", {}});
      in_expect = false;
    } else if (cases.empty()) {
      continue;  // file header comments
    } else if (line.starts_with("--- ")) {
      std::string what = line.substr(4);
      if (what.starts_with("namespace ")) {
        cases.back().default_namespace = what.substr(10) == "\"\"" ? "" : what.substr(10);
        continue;
      }
      cases.back().expect = what;
      in_expect = true;
    } else if (in_expect) {
      if (!TrimSpace(line).empty() && !line.starts_with("#")) cases.back().lines.push_back(line);
    } else {
      cases.back().doc += line + "\n";
    }
  }
  return cases;
}

// Follows "spec.egress[0].ports[1]" / "data[tls.crt]" through a value.
const json::value* Lookup(const json::value& root, std::string_view path) {
  const json::value* cur = &root;
  size_t i = 0;
  while (i < path.size() && cur) {
    if (path[i] == '.') ++i;
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      std::string key(path.substr(i + 1, close - i - 1));
      i = close + 1;
      bool numeric = !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit);
      if (numeric && cur->is_array()) {
        size_t idx = std::stoul(key);
        cur = idx < cur->as_array().size() ? &cur->as_array()[idx] : nullptr;
      } else {
        cur = cur->is_object() ? cur->as_object().if_contains(key) : nullptr;
      }
      continue;
    }
    size_t end = path.find_first_of(".[", i);
    std::string key(path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    i = end == std::string_view::npos ? path.size() : end;
    cur = cur->is_object() ? cur->as_object().if_contains(key) : nullptr;
  }
  return cur;
}

void RunCase(const Case& c) {
  SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + ": " + c.name);
  auto docs = ParseYamlDocuments(c.doc);
  ASSERT_TRUE(docs.ok()) << docs.error().ToString();
  ASSERT_EQ(docs->size(), 1u);
  auto r = Admit((*docs)[0], c.default_namespace);
  if (c.expect == "ok") {
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    json::value obj = r->object;
    // Admission is idempotent: the stored form admits to itself (updates
    // and re-applies of stored objects go through Admit again).
    auto again = Admit(obj, c.default_namespace);
    ASSERT_TRUE(again.ok()) << "re-admitting the admitted object: " << again.error().ToString();
    EXPECT_EQ(json::value(again->object), obj);
    for (const std::string& l : c.lines) {
      if (l.ends_with(" absent")) {
        std::string path = l.substr(0, l.size() - 7);
        EXPECT_EQ(Lookup(obj, path), nullptr) << path << " is present: " << json::serialize(obj);
        continue;
      }
      size_t eq = l.find(" = ");
      ASSERT_NE(eq, std::string::npos) << "bad expectation line: " << l;
      std::string path = l.substr(0, eq);
      json::value want = json::parse(l.substr(eq + 3));
      const json::value* got = Lookup(obj, path);
      ASSERT_NE(got, nullptr) << path << " missing in " << json::serialize(obj);
      EXPECT_EQ(*got, want) << path << ": got " << json::serialize(*got);
    }
  } else if (c.expect == "error" || c.expect == "unsupported") {
    ASSERT_FALSE(r.ok()) << "admitted: " << json::serialize(r->object);
    const Status& s = r.error();
    EXPECT_EQ(s.code(), c.expect == "error" ? Code::kInvalidArgument : Code::kUnsupported) << s.ToString();
    ASSERT_FALSE(c.lines.empty()) << "an error case needs the expected message";
    EXPECT_EQ(s.message(), c.lines[0]);
    // Further lines: "FIELD: MESSAGE" or "FIELD: MESSAGE (REASON)", each one of the causes.
    for (size_t i = 1; i < c.lines.size(); ++i) {
      bool found = false;
      for (const StatusCause& cause : s.causes()) {
        std::string text = cause.field + ": " + cause.message;
        found = found || text == c.lines[i] || text + " (" + cause.reason + ")" == c.lines[i];
      }
      std::string all;
      for (const StatusCause& cause : s.causes())
        all += "\n  " + cause.field + ": " + cause.message + " (" + cause.reason + ")";
      EXPECT_TRUE(found) << "no cause " << c.lines[i] << "; causes:" << all;
    }
  } else {
    FAIL() << "unknown expectation '--- " << c.expect << "'";
  }
}

TEST(AdmitCases, AllFilesInTestdata) {
  fs::path dir = fs::path(TW_SOURCE_DIR) / "testdata" / "admit";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".cases") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  size_t total = 0;
  for (const fs::path& f : files) {
    auto cases = LoadCases(f);
    EXPECT_FALSE(cases.empty()) << f;
    for (const Case& c : cases) RunCase(c);
    total += cases.size();
  }
  EXPECT_GE(total, 150u);
}

// True when every member of `given` (recursively) is in `got` with the same
// value: admission may add defaults but must not change what was written.
bool IsSubset(const json::value& given, const json::value& got) {
  if (given.is_object() && got.is_object()) {
    for (const auto& [k, v] : given.as_object()) {
      const json::value* g = got.as_object().if_contains(k);
      if (!g || !IsSubset(v, *g)) return false;
    }
    return true;
  }
  if (given.is_array() && got.is_array()) {
    if (given.as_array().size() != got.as_array().size()) return false;
    for (size_t i = 0; i < given.as_array().size(); ++i)
      if (!IsSubset(given.as_array()[i], got.as_array()[i])) return false;
    return true;
  }
  return given == got;
}

// ---- Seed manifests --------------------------------------------------------------------

// The seed's manifests (DESIGN.md: accepted byte-for-byte) and the repo's
// examples, which build on them.
TEST(Admit, SeedAndExampleManifestsAdmitUnchanged) {
  int count = 0;
  for (fs::path dir : {fs::path(TW_SOURCE_DIR) / ".." / "shared" / "seed" / "manifests",
                       fs::path(TW_SOURCE_DIR) / "examples" / "manifests"}) {
    if (!fs::exists(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".yaml") continue;
      auto text = ReadFile(e.path().string());
      ASSERT_TRUE(text.ok());
      auto docs = ParseYamlDocuments(*text);
      ASSERT_TRUE(docs.ok()) << e.path() << ": " << docs.error().ToString();
      for (size_t i = 0; i < docs->size(); ++i) {
        auto r = Admit((*docs)[i]);
        EXPECT_TRUE(r.ok()) << e.path() << ": document " << i + 1 << ": " << r.error().ToString();
        if (!r.ok()) continue;
        ++count;
        // Everything given is kept as given (defaults only add).
        EXPECT_TRUE(IsSubset((*docs)[i], r->object))
            << e.path() << ": document " << i + 1 << ": admitted " << json::serialize(r->object);
      }
    }
  }
  if (count == 0) GTEST_SKIP() << "no seed or example manifests found";
}

TEST(Admit, SeedPolicyGetsDefaultsAndTier) {
  auto docs = ParseYamlDocuments(R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: security.block-snort
spec:
  tier: security
  order: 150
  selector: threatfeed == 'snort'
  types:
    - Egress
  egress:
    - action: Deny
      destination:
        selector: threatfeed == 'snort'
    - action: Pass)");
  ASSERT_TRUE(docs.ok());
  auto r = Admit((*docs)[0]);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->kind->kind, "GlobalNetworkPolicy");
  EXPECT_FALSE(r->object.at("metadata").as_object().contains("namespace"));
  EXPECT_EQ(r->object.at("spec").at("types"), json::parse(R"(["Egress"])"));
}

// ---- Structure of the results -----------------------------------------------------------

TEST(Admit, EveryKindHasRulesAndAnOpenApiSchema) {
  for (const KindInfo* k : AllKinds()) {
    SCOPED_TRACE(k->kind);
    ASSERT_NE(FindKindRules(*k), nullptr);
    json::object schema = OpenApiV3Schema(*k);
    EXPECT_EQ(schema.at("type"), "object");
    const auto& gvk = schema.at("x-kubernetes-group-version-kind").as_array().at(0).as_object();
    EXPECT_EQ(gvk.at("kind").as_string(), k->kind);
    EXPECT_EQ(gvk.at("group").as_string(), k->group);
    EXPECT_EQ(gvk.at("version").as_string(), k->version);
    EXPECT_TRUE(schema.at("properties").as_object().contains("metadata"));
  }
}

TEST(Admit, CollectsEveryErrorAsCauses) {
  auto r = Admit(json::parse(R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed",
      "metadata":{"name":"f"},"spec":{"content":"IPset","mode":3,"bogus":1}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), R"(spec.content: unsupported value "IPset": must be one of IPSet, DomainNameSet)");
  std::vector<StatusCause> want = {
      {"spec.content", "FieldValueNotSupported", R"(unsupported value "IPset": must be one of IPSet, DomainNameSet)"},
      {"spec.mode", "FieldValueTypeInvalid", "must be a string, got number"},
      {"spec.bogus", "FieldValueUnknown", "unknown field"},
  };
  EXPECT_EQ(r.error().causes(), want);
}

TEST(Admit, DocumentMustBeAnObject) {
  auto r = Admit(json::parse("[1]"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "document must be an object, got array");
}

TEST(Admit, DropsManagedFieldsAndNullsKeepsOtherMetadata) {
  auto r = Admit(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c",
      "namespace":"ns1","uid":"u-1","resourceVersion":"7","creationTimestamp":null,
      "managedFields":[{"manager":"kubectl"}],"annotations":{"a":"b"}},"data":{"k":"v"}})"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const auto& meta = r->object.at("metadata").as_object();
  EXPECT_FALSE(meta.contains("managedFields"));
  EXPECT_FALSE(meta.contains("creationTimestamp"));
  EXPECT_EQ(meta.at("uid"), "u-1");
  EXPECT_EQ(meta.at("resourceVersion"), "7");
  EXPECT_EQ(meta.at("namespace"), "ns1");
}

TEST(Admit, AnnotationsTotalSizeLimit) {
  json::object doc = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})").as_object();
  doc["metadata"].as_object()["annotations"] = json::object{{"big", std::string(256 * 1024, 'x')}};
  auto r = Admit(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message().starts_with("metadata.annotations: may not be more than 262144 bytes"))
      << r.error().message();
  doc["metadata"].as_object()["annotations"] = json::object{{"big", std::string(256 * 1024 - 3, 'x')}};
  EXPECT_TRUE(Admit(doc).ok());
}

TEST(Admit, SecretStringDataIsMergedAsBase64) {
  auto r = Admit(json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},
      "data":{"a":"eA==","b":"eQ=="},"stringData":{"b":"hello","c":"hi!"}})"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_FALSE(r->object.contains("stringData"));
  EXPECT_EQ(r->object.at("data"), json::parse(R"({"a":"eA==","b":"aGVsbG8=","c":"aGkh"})"));
  EXPECT_EQ(r->object.at("type"), "Opaque");
}

TEST(Admit, IsPureAndDeterministic) {
  json::value doc = json::parse(R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed",
      "metadata":{"name":"f"},"spec":{"pull":{"http":{"url":"https://x.example/f"}}}})");
  json::value copy = doc;
  auto a = Admit(doc);
  auto b = Admit(doc);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(doc, copy);  // input untouched
  EXPECT_EQ(a->object, b->object);
}


TEST(Admit, ListLimits) {
  // 1024 rules are fine, 1025 are not.
  json::object doc = json::parse(R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy",
      "metadata":{"name":"p"},"spec":{}})").as_object();
  json::array rules;
  for (int i = 0; i < 1024; ++i) rules.push_back(json::object{{"action", "Allow"}});
  doc["spec"].as_object()["ingress"] = rules;
  EXPECT_TRUE(Admit(doc).ok());
  rules.push_back(json::object{{"action", "Allow"}});
  doc["spec"].as_object()["ingress"] = rules;
  auto r = Admit(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "spec.ingress: must have at most 1024 items");
  EXPECT_EQ(r.error().causes().at(0).reason, "FieldValueTooMany");

  // 256 nets per entity rule are fine, 257 are not.
  json::array nets;
  for (int i = 0; i < 256; ++i) nets.push_back(json::string("10.0." + std::to_string(i) + ".0/24"));
  json::object rule{{"action", "Deny"}, {"destination", json::object{{"nets", nets}}}};
  doc["spec"].as_object()["ingress"] = json::array{rule};
  EXPECT_TRUE(Admit(doc).ok());
  nets.push_back("10.1.0.0/24");
  rule["destination"] = json::object{{"nets", nets}};
  doc["spec"].as_object()["ingress"] = json::array{rule};
  r = Admit(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "spec.ingress[0].destination.nets: must have at most 256 items");
}

// Replaces the value at every position of `v` in turn with `replacement`
// and calls `f` on each variant.
void ForEachMutation(const json::value& root, json::value& v, const json::value& replacement,
                     const std::function<void(const json::value&)>& f) {
  json::value saved = v;
  v = replacement;
  f(root);
  v = saved;
  if (v.is_object()) {
    for (auto& [k, child] : v.as_object()) ForEachMutation(root, child, replacement, f);
  } else if (v.is_array()) {
    for (auto& child : v.as_array()) ForEachMutation(root, child, replacement, f);
  }
}

TEST(Admit, NeverCrashesOnMistypedValues) {
  // Every field of documents that exercise most rules, replaced by a value
  // of every JSON type: admission must answer (ok or an error with a field
  // path), never crash.
  const char* docs[] = {
      R"j({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"security.p",
          "labels":{"a":"b"}},"spec":{"tier":"security","order":1,"selector":"a == 'b'","namespaceSelector":"all()",
          "types":["Ingress","Egress"],"doNotTrack":false,
          "egress":[{"action":"Allow","protocol":"TCP","ipVersion":4,"source":{"nets":["1.2.3.4"],"ports":[80,"1:2"],
          "serviceAccounts":{"names":["a"],"selector":"x == 'y'"}},"destination":{"domains":["*.a.com"]}}],
          "ingress":[{"action":"Allow","protocol":"ICMP","icmp":{"type":1,"code":2},"source":{"selector":"b == 'c'",
          "namespaceSelector":"global()","notNets":["10.0.0.0/8"]}},{"action":"Allow","protocol":"TCP",
          "destination":{"services":{"name":"s","namespace":"n"}},"http":{"methods":["GET"],"paths":[{"exact":"/"}],
          "headers":[{"header":"h","operator":"In","values":["v"]}]}}]}})j",
      R"j({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed","metadata":{"name":"f"},"spec":{
          "content":"IPSet","globalNetworkSet":{"labels":{"a":"b"}},"pull":{"period":"1h","http":{"url":"https://x",
          "headers":[{"name":"a","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}],"format":{"csv":{
          "fieldName":"ip","header":true,"columnDelimiter":";","recordSize":2}}}}}})j",
      R"j({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"n"},"spec":{
          "podSelector":{"matchExpressions":[{"key":"a","operator":"In","values":["b"]}]},"ingress":[{"ports":
          [{"port":80,"endPort":90}],"from":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}]}]}})j",
      R"j({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"volumes":[{"name":"v"}],
          "tolerations":[{"key":"k","operator":"Exists"}],"containers":[{"name":"c","image":"i","ports":
          [{"containerPort":80,"name":"http"}],"env":[{"name":"E","valueFrom":{"secretKeyRef":{"name":"s",
          "key":"k"}}}],"volumeMounts":[{"name":"v","mountPath":"/v"}]}]}})j",
      R"j({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":"YQ=="},"stringData":{"b":"c"}})j",
      R"j({"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"p"},"spec":{"cidr":"10.0.0.0/16",
          "blockSize":26,"allowedUses":["Workload"]}})j",
      R"j({"apiVersion":"projectcalico.org/v3","kind":"SecurityEventWebhook","metadata":{"name":"w"},"spec":{
          "consumer":"Generic","state":"Enabled","query":"q","config":[{"name":"url","value":"http://x"}]}})j",
  };
  const json::value replacements[] = {nullptr, 7, -1, 1.5, "x", "", true, json::array{}, json::array{1},
                                      json::object{}, json::object{{"k", 1}}};
  int variants = 0;
  for (const char* text : docs) {
    json::value doc = json::parse(text);
    ASSERT_TRUE(Admit(doc).ok()) << Admit(doc).error().ToString() << "\n" << text;
    for (const json::value& rep : replacements) {
      ForEachMutation(doc, doc, rep, [&](const json::value& variant) {
        ++variants;
        auto r = Admit(variant);
        if (!r.ok()) {
          EXPECT_FALSE(r.error().message().empty());
        }
      });
    }
  }
  EXPECT_GT(variants, 1000);
}

TEST(ModelOpenApi, MirrorsTheAdmissionSchema) {
  json::object gtf = OpenApiV3Schema(*FindKind("projectcalico.org/v3", "GlobalThreatFeed"));
  const json::object& spec = gtf.at("properties").at("spec").as_object();
  EXPECT_EQ(spec.at("properties").at("content").at("enum"), json::parse(R"(["IPSet","DomainNameSet"])"));
  EXPECT_EQ(spec.at("properties").at("description").at("maxLength"), 256);
  const json::object& http = spec.at("properties").at("pull").at("properties").at("http").as_object();
  EXPECT_EQ(http.at("required"), json::parse(R"(["url"])"));
  EXPECT_EQ(gtf.at("properties").at("status").at("x-kubernetes-preserve-unknown-fields"), true);

  json::object gnp = OpenApiV3Schema(*FindKind("projectcalico.org/v3", "GlobalNetworkPolicy"));
  const json::object& rule =
      gnp.at("properties").at("spec").at("properties").at("egress").at("items").as_object();
  EXPECT_EQ(gnp.at("properties").at("spec").at("properties").at("egress").at("maxItems"), 1024);
  const json::object& ports =
      rule.at("properties").at("destination").at("properties").at("ports").as_object();
  EXPECT_EQ(ports.at("items").at("x-kubernetes-int-or-string"), true);
  EXPECT_EQ(rule.at("required"), json::parse(R"(["action"])"));

  json::object np = OpenApiV3Schema(*FindKind("projectcalico.org/v3", "NetworkPolicy"));
  EXPECT_FALSE(np.at("properties").at("spec").at("properties").as_object().contains("namespaceSelector"));
  json::object cm = OpenApiV3Schema(*FindKind("v1", "ConfigMap"));
  EXPECT_EQ(cm.at("properties").at("data").at("additionalProperties").at("type"), "string");
  json::object pod = OpenApiV3Schema(*FindKind("v1", "Pod"));
  EXPECT_EQ(pod.at("properties").at("spec").at("properties").at("affinity").at("x-kubernetes-preserve-unknown-fields"),
            true);
}

}  // namespace
}  // namespace tw::model
