#include "api/resource_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "model/table.h"
#include "store/chunked_store.h"
#include "store/mem_store.h"

namespace tw::api {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

const model::KindInfo* K(std::string_view api_version, std::string_view kind) {
  const model::KindInfo* k = model::FindKind(api_version, kind);
  EXPECT_NE(k, nullptr) << kind;
  return k;
}
const model::KindInfo* Gtf() { return K("projectcalico.org/v3", "GlobalThreatFeed"); }
const model::KindInfo* Tier() { return K("projectcalico.org/v3", "Tier"); }
const model::KindInfo* Gnp() { return K("projectcalico.org/v3", "GlobalNetworkPolicy"); }
const model::KindInfo* NetSet() { return K("projectcalico.org/v3", "NetworkSet"); }
const model::KindInfo* Ns() { return K("v1", "Namespace"); }
const model::KindInfo* Secret() { return K("v1", "Secret"); }
const model::KindInfo* ConfigMap() { return K("v1", "ConfigMap"); }

json::value J(std::string_view text) { return json::parse(text); }

std::string GtfJson(std::string_view name, std::string_view label = "snort") {
  return R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed","metadata":{"name":")" +
         std::string(name) + R"(","labels":{"feed":")" + std::string(label) +
         R"("}},"spec":{"pull":{"http":{"url":"https://example.com/list"}},)"
         R"("globalNetworkSet":{"labels":{"threatfeed":"snort"}}}})";
}

std::string Msg(const ApiResponse& r) {
  if (!r.body.is_object()) return "";
  const auto* m = r.body.get_object().if_contains("message");
  return m && m->is_string() ? std::string(m->get_string()) : "";
}
std::string Reason(const ApiResponse& r) {
  const auto* m = r.body.is_object() ? r.body.get_object().if_contains("reason") : nullptr;
  return m && m->is_string() ? std::string(m->get_string()) : "";
}
std::string Meta(const ApiResponse& r, std::string_view field) {
  const json::value* v = r.body.get_object().if_contains("metadata");
  if (!v) return "";
  const json::value* f = v->get_object().if_contains(field);
  if (!f) return "";
  return f->is_string() ? std::string(f->get_string()) : json::serialize(*f);
}
std::string At(const json::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const json::value* f = v.find_pointer(pointer, ec);
  if (!f) return "<missing>";
  return f->is_string() ? std::string(f->get_string()) : json::serialize(*f);
}

class ResourceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(service_.EnsureBuiltins().ok()); }

  ApiResponse Create(const model::KindInfo* kind, std::string_view body, std::string ns = "",
                     WriteOptions opts = {}) {
    return service_.Create({kind, ns, "", false}, J(body), opts);
  }
  ApiResponse Get(const model::KindInfo* kind, std::string name, std::string ns = "", ReadOptions opts = {}) {
    return service_.Get({kind, ns, name, false}, opts);
  }
  ApiResponse List(const model::KindInfo* kind, std::string ns = "", ReadOptions opts = {}) {
    return service_.List({kind, ns, "", false}, opts);
  }
  // Drains every event a watch has ready.
  std::vector<json::object> Drain(ResourceWatch& w) {
    std::vector<json::object> out;
    while (auto ev = w.Next(milliseconds(0))) out.push_back(std::move(*ev));
    return out;
  }

  store::MemStore store_;
  FakeClock clock_;
  ResourceService service_{store_, clock_};
};

TEST_F(ResourceServiceTest, BuiltinsExistAndAreIdempotent) {
  EXPECT_EQ(Get(Ns(), "default").code, 200);
  ApiResponse tier = Get(Tier(), "default");
  ASSERT_EQ(tier.code, 200);
  EXPECT_EQ(At(tier.body, "/spec/order"), "1000000");
  EXPECT_EQ(At(tier.body, "/spec/defaultAction"), "Deny");
  int64_t rev = store_.CurrentRevision();
  ASSERT_TRUE(service_.EnsureBuiltins().ok());
  EXPECT_EQ(store_.CurrentRevision(), rev);
}

TEST_F(ResourceServiceTest, CreateSetsServerFieldsAndGetReturnsThem) {
  ApiResponse r = Create(Gtf(), GtfJson("snort"));
  ASSERT_EQ(r.code, 201) << Msg(r);
  EXPECT_EQ(Meta(r, "uid").size(), 36u);
  EXPECT_EQ(Meta(r, "creationTimestamp"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Meta(r, "generation"), "1");
  EXPECT_EQ(Meta(r, "resourceVersion"), std::to_string(store_.CurrentRevision()));
  ApiResponse g = Get(Gtf(), "snort");
  ASSERT_EQ(g.code, 200);
  EXPECT_EQ(Meta(g, "uid"), Meta(r, "uid"));
  EXPECT_EQ(At(g.body, "/spec/pull/http/url"), "https://example.com/list");
  EXPECT_EQ(At(g.body, "/kind"), "GlobalThreatFeed");
}

TEST_F(ResourceServiceTest, CreateTwiceIsAlreadyExists) {
  ASSERT_EQ(Create(Gtf(), GtfJson("snort")).code, 201);
  ApiResponse r = Create(Gtf(), GtfJson("snort"));
  EXPECT_EQ(r.code, 409);
  EXPECT_EQ(Reason(r), "AlreadyExists");
  EXPECT_EQ(Msg(r), "globalthreatfeeds.projectcalico.org \"snort\" already exists");
  EXPECT_EQ(At(r.body, "/details/kind"), "globalthreatfeeds");
  EXPECT_EQ(At(r.body, "/details/group"), "projectcalico.org");
}

TEST_F(ResourceServiceTest, GetMissingIsNotFoundInKubernetesWords) {
  ApiResponse r = Get(Gtf(), "nope");
  EXPECT_EQ(r.code, 404);
  EXPECT_EQ(Msg(r), "globalthreatfeeds.projectcalico.org \"nope\" not found");
  EXPECT_EQ(Get(Ns(), "nope").code, 404);
  EXPECT_EQ(Msg(Get(Ns(), "nope")), "namespaces \"nope\" not found");
}

TEST_F(ResourceServiceTest, InvalidPathNamesAreBadRequest) {
  EXPECT_EQ(Get(Gtf(), "Bad_Name").code, 400);
  EXPECT_EQ(Get(Gtf(), std::string(300, 'a')).code, 400);
  EXPECT_EQ(service_.List({NetSet(), "NS!", "", false}, {}).code, 400);
}

TEST_F(ResourceServiceTest, InvalidObjectIs422NamingTheField) {
  ApiResponse r = Create(Gtf(), R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed",
      "metadata":{"name":"x"},"spec":{"pull":{"http":{"url":"https://a/b"}},"mode":"Sideways"}})");
  EXPECT_EQ(r.code, 422);
  EXPECT_EQ(Reason(r), "Invalid");
  EXPECT_EQ(Msg(r).rfind("GlobalThreatFeed.projectcalico.org \"x\" is invalid: spec.mode", 0), 0u) << Msg(r);
  EXPECT_EQ(At(r.body, "/details/causes/0/field"), "spec.mode");
  EXPECT_EQ(Get(Gtf(), "x").code, 404);  // nothing stored
}

TEST_F(ResourceServiceTest, MissingNameIs422) {
  ApiResponse r = Create(Gtf(), R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed","metadata":{}})");
  EXPECT_EQ(r.code, 422);
  EXPECT_EQ(At(r.body, "/details/causes/0/field"), "metadata.name");
}

TEST_F(ResourceServiceTest, BodyKindMustMatchUrl) {
  ApiResponse r = Create(Gtf(), R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}})");
  EXPECT_EQ(r.code, 400);
  ApiResponse r2 = Create(Gtf(), R"({"apiVersion":"projectcalico.org/v3","kind":"Deployment","metadata":{"name":"x"}})");
  EXPECT_EQ(r2.code, 400);
  EXPECT_NE(Msg(r2).find("kind not served"), std::string::npos) << Msg(r2);
  EXPECT_EQ(Create(Gtf(), "[1,2]").code, 400);
}

TEST_F(ResourceServiceTest, UnknownFieldsFollowFieldValidation) {
  std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"},"bogus":1})";
  ApiResponse strict = Create(ConfigMap(), body, "default");
  EXPECT_EQ(strict.code, 422) << Msg(strict);
  EXPECT_NE(Msg(strict).find("bogus"), std::string::npos) << Msg(strict);

  WriteOptions warn;
  warn.field_validation = FieldValidation::kWarn;
  ApiResponse w = Create(ConfigMap(), body, "default", warn);
  ASSERT_EQ(w.code, 201) << Msg(w);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_NE(w.warnings[0].find("bogus"), std::string::npos);
  EXPECT_EQ(At(w.body, "/bogus"), "<missing>");

  WriteOptions ignore;
  ignore.field_validation = FieldValidation::kIgnore;
  std::string body2 = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"},"bogus":1})";
  ApiResponse i = Create(ConfigMap(), body2, "default", ignore);
  EXPECT_EQ(i.code, 201) << Msg(i);
  EXPECT_TRUE(i.warnings.empty());
}

TEST_F(ResourceServiceTest, DryRunStoresNothing) {
  WriteOptions dry;
  dry.dry_run = true;
  int64_t rev = store_.CurrentRevision();
  ApiResponse r = Create(Gtf(), GtfJson("snort"), "", dry);
  EXPECT_EQ(r.code, 201) << Msg(r);
  EXPECT_EQ(store_.CurrentRevision(), rev);
  EXPECT_EQ(Get(Gtf(), "snort").code, 404);
}

TEST_F(ResourceServiceTest, ReplaceHonoursResourceVersion) {
  ApiResponse c = Create(Gtf(), GtfJson("snort"));
  ASSERT_EQ(c.code, 201);
  json::value body = J(GtfJson("snort", "v2"));
  body.get_object()["metadata"].get_object()["resourceVersion"] = Meta(c, "resourceVersion");
  ApiResponse r = service_.Replace({Gtf(), "", "snort", false}, body, {});
  ASSERT_EQ(r.code, 200) << Msg(r);
  EXPECT_EQ(At(r.body, "/metadata/labels/feed"), "v2");
  EXPECT_EQ(Meta(r, "uid"), Meta(c, "uid"));
  EXPECT_EQ(Meta(r, "generation"), "1");  // labels are not spec

  // The same (now stale) resourceVersion again: conflict.
  ApiResponse stale = service_.Replace({Gtf(), "", "snort", false}, body, {});
  EXPECT_EQ(stale.code, 409);
  EXPECT_EQ(Reason(stale), "Conflict");
  EXPECT_EQ(Msg(stale),
            "Operation cannot be fulfilled on globalthreatfeeds.projectcalico.org \"snort\": the object has been "
            "modified; please apply your changes to the latest version and try again");

  // Without resourceVersion: unconditional; a spec change bumps generation.
  json::value spec_change = J(GtfJson("snort", "v3"));
  spec_change.get_object()["spec"].get_object()["pull"].get_object()["http"].get_object()["url"] = "https://b/c";
  ApiResponse u = service_.Replace({Gtf(), "", "snort", false}, spec_change, {});
  ASSERT_EQ(u.code, 200) << Msg(u);
  EXPECT_EQ(Meta(u, "generation"), "2");
  EXPECT_EQ(Meta(u, "creationTimestamp"), Meta(c, "creationTimestamp"));
}

TEST_F(ResourceServiceTest, ReplaceChecksNameAndExistence) {
  EXPECT_EQ(service_.Replace({Gtf(), "", "snort", false}, J(GtfJson("snort")), {}).code, 404);
  ASSERT_EQ(Create(Gtf(), GtfJson("snort")).code, 201);
  ApiResponse r = service_.Replace({Gtf(), "", "snort", false}, J(GtfJson("other")), {});
  EXPECT_EQ(r.code, 400);
}

TEST_F(ResourceServiceTest, PatchMergeJsonAndStrategic) {
  ASSERT_EQ(Create(Gtf(), GtfJson("snort")).code, 201);
  ResourceTarget t{Gtf(), "", "snort", false};
  ApiResponse m = service_.Patch(t, PatchType::kMerge, J(R"({"metadata":{"labels":{"x":"1","feed":null}}})"), {});
  ASSERT_EQ(m.code, 200) << Msg(m);
  EXPECT_EQ(At(m.body, "/metadata/labels/x"), "1");
  EXPECT_EQ(At(m.body, "/metadata/labels/feed"), "<missing>");

  ApiResponse j = service_.Patch(
      t, PatchType::kJson, J(R"([{"op":"replace","path":"/spec/pull/http/url","value":"https://c/d"}])"), {});
  ASSERT_EQ(j.code, 200) << Msg(j);
  EXPECT_EQ(At(j.body, "/spec/pull/http/url"), "https://c/d");
  EXPECT_EQ(Meta(j, "generation"), "2");

  ApiResponse s = service_.Patch(t, PatchType::kStrategic, J(R"({"metadata":{"annotations":{"a":"b"}}})"), {});
  ASSERT_EQ(s.code, 200) << Msg(s);
  EXPECT_EQ(At(s.body, "/metadata/annotations/a"), "b");

  ApiResponse bad = service_.Patch(t, PatchType::kJson, J(R"([{"op":"remove","path":"/nope/x"}])"), {});
  EXPECT_GE(bad.code, 400);
  EXPECT_EQ(Get(Gtf(), "snort").body, s.body);  // unchanged by the failed patch

  ApiResponse invalid = service_.Patch(t, PatchType::kMerge, J(R"({"spec":{"mode":"Sideways"}})"), {});
  EXPECT_EQ(invalid.code, 422);

  // A patch carrying a stale resourceVersion is a conflict.
  ApiResponse stale = service_.Patch(t, PatchType::kMerge, J(R"({"metadata":{"resourceVersion":"1"}})"), {});
  EXPECT_EQ(stale.code, 409);
  EXPECT_EQ(service_.Patch({Gtf(), "", "missing", false}, PatchType::kMerge, J("{}"), {}).code, 404);
}

TEST_F(ResourceServiceTest, DeleteReturnsStatusForCalicoKindsAndObjectForCore) {
  ASSERT_EQ(Create(Gtf(), GtfJson("snort")).code, 201);
  ApiResponse d = service_.Delete({Gtf(), "", "snort", false}, json::value(), {});
  ASSERT_EQ(d.code, 200) << Msg(d);
  EXPECT_EQ(At(d.body, "/kind"), "Status");
  EXPECT_EQ(At(d.body, "/status"), "Success");
  EXPECT_EQ(At(d.body, "/details/name"), "snort");
  EXPECT_EQ(Get(Gtf(), "snort").code, 404);
  EXPECT_EQ(service_.Delete({Gtf(), "", "snort", false}, json::value(), {}).code, 404);

  ASSERT_EQ(Create(ConfigMap(), R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})", "default").code,
            201);
  ApiResponse dc = service_.Delete({ConfigMap(), "default", "c", false}, json::value(), {});
  ASSERT_EQ(dc.code, 200);
  EXPECT_EQ(At(dc.body, "/kind"), "ConfigMap");
}

TEST_F(ResourceServiceTest, DeletePreconditions) {
  ApiResponse c = Create(Gtf(), GtfJson("snort"));
  ASSERT_EQ(c.code, 201);
  ResourceTarget t{Gtf(), "", "snort", false};
  EXPECT_EQ(service_.Delete(t, J(R"({"preconditions":{"uid":"other"}})"), {}).code, 409);
  EXPECT_EQ(service_.Delete(t, J(R"({"preconditions":{"resourceVersion":"1"}})"), {}).code, 409);
  WriteOptions dry;
  dry.dry_run = true;
  EXPECT_EQ(service_.Delete(t, json::value(), dry).code, 200);
  EXPECT_EQ(Get(Gtf(), "snort").code, 200);
  std::string rv = Meta(c, "resourceVersion");
  EXPECT_EQ(service_.Delete(t, J(R"({"preconditions":{"resourceVersion":")" + rv + R"("}})"), {}).code, 200);
}

TEST_F(ResourceServiceTest, NamespacedObjectsNeedTheirNamespace) {
  std::string ns_body = R"({"apiVersion":"projectcalico.org/v3","kind":"NetworkSet","metadata":{"name":"s"},
                            "spec":{"nets":["10.0.0.0/8"]}})";
  ApiResponse r = Create(NetSet(), ns_body, "dev");
  EXPECT_EQ(r.code, 404);
  EXPECT_EQ(Msg(r), "namespaces \"dev\" not found");
  ASSERT_EQ(Create(Ns(), R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}})").code, 201);
  ApiResponse ok = Create(NetSet(), ns_body, "dev");
  ASSERT_EQ(ok.code, 201) << Msg(ok);
  EXPECT_EQ(Meta(ok, "namespace"), "dev");
  // A body naming another namespace than the URL is rejected.
  std::string other = R"({"apiVersion":"projectcalico.org/v3","kind":"NetworkSet",
                          "metadata":{"name":"t","namespace":"default"},"spec":{}})";
  EXPECT_EQ(Create(NetSet(), other, "dev").code, 400);
  // Namespaces get phase Active.
  EXPECT_EQ(At(Get(Ns(), "dev").body, "/status/phase"), "Active");
}

TEST_F(ResourceServiceTest, DeletingANamespaceDeletesItsObjects) {
  ASSERT_EQ(Create(Ns(), R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}})").code, 201);
  ASSERT_EQ(Create(ConfigMap(), R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})", "dev").code, 201);
  ASSERT_EQ(Create(ConfigMap(), R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})", "default").code,
            201);
  ASSERT_EQ(service_.Delete({Ns(), "", "dev", false}, json::value(), {}).code, 200);
  EXPECT_EQ(Get(ConfigMap(), "c", "dev").code, 404);
  EXPECT_EQ(Get(ConfigMap(), "c", "default").code, 200);
  ApiResponse d = service_.Delete({Ns(), "", "default", false}, json::value(), {});
  EXPECT_EQ(d.code, 403);
  EXPECT_EQ(Msg(d), "namespaces \"default\" is forbidden: this namespace may not be deleted");
}

TEST_F(ResourceServiceTest, TierRules) {
  std::string gnp = R"J({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy",
      "metadata":{"name":"security.block"},"spec":{"tier":"security","selector":"all()","types":["Egress"],
      "egress":[{"action":"Deny"}]}})J";
  ApiResponse no_tier = Create(Gnp(), gnp);
  EXPECT_EQ(no_tier.code, 422);
  EXPECT_EQ(At(no_tier.body, "/details/causes/0/field"), "spec.tier");
  EXPECT_NE(Msg(no_tier).find("spec.tier"), std::string::npos);

  ASSERT_EQ(Create(Tier(), R"({"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"security"},
                               "spec":{"order":300}})").code, 201);
  ApiResponse p = Create(Gnp(), gnp);
  ASSERT_EQ(p.code, 201) << Msg(p);
  ApiResponse del = service_.Delete({Tier(), "", "security", false}, json::value(), {});
  EXPECT_EQ(del.code, 409);
  EXPECT_NE(Msg(del).find("security.block"), std::string::npos) << Msg(del);
  ASSERT_EQ(service_.Delete({Gnp(), "", "security.block", false}, json::value(), {}).code, 200);
  EXPECT_EQ(service_.Delete({Tier(), "", "security", false}, json::value(), {}).code, 200);
}

TEST_F(ResourceServiceTest, DefaultTierIsFixedExceptLabels) {
  ResourceTarget t{Tier(), "", "default", false};
  EXPECT_EQ(service_.Delete(t, json::value(), {}).code, 403);
  EXPECT_EQ(service_.Patch(t, PatchType::kMerge, J(R"({"spec":{"order":5}})"), {}).code, 422);
  ApiResponse l = service_.Patch(t, PatchType::kMerge, J(R"({"metadata":{"labels":{"a":"b"}}})"), {});
  EXPECT_EQ(l.code, 200) << Msg(l);
}

TEST_F(ResourceServiceTest, StatusSubresource) {
  std::string with_status = GtfJson("snort");
  with_status.pop_back();
  with_status += R"(,"status":{"lastSuccessfulSync":"2026-01-01T00:00:00Z"}})";
  ApiResponse c = Create(Gtf(), with_status);
  ASSERT_EQ(c.code, 201) << Msg(c);
  EXPECT_EQ(At(c.body, "/status/lastSuccessfulSync"), "<missing>");  // create ignores status

  ResourceTarget status{Gtf(), "", "snort", true};
  ApiResponse s = service_.Replace(status, J(with_status), {});
  ASSERT_EQ(s.code, 200) << Msg(s);
  EXPECT_EQ(At(s.body, "/status/lastSuccessfulSync"), "2026-01-01T00:00:00Z");

  // /status ignores everything but status...
  ApiResponse s2 = service_.Patch(status, PatchType::kMerge, J(R"({"metadata":{"labels":{"z":"1"}}})"), {});
  ASSERT_EQ(s2.code, 200) << Msg(s2);
  EXPECT_EQ(At(s2.body, "/metadata/labels/z"), "<missing>");
  // ...and the main resource keeps the stored status.
  ApiResponse m = service_.Replace({Gtf(), "", "snort", false}, J(GtfJson("snort")), {});
  ASSERT_EQ(m.code, 200) << Msg(m);
  EXPECT_EQ(At(m.body, "/status/lastSuccessfulSync"), "2026-01-01T00:00:00Z");
  // Kinds without status have no /status.
  EXPECT_EQ(service_.Replace({Tier(), "", "default", true}, Get(Tier(), "default").body, {}).code, 404);
}

TEST_F(ResourceServiceTest, ListWithSelectorsAndPaging) {
  ASSERT_EQ(Create(Gtf(), GtfJson("a", "x")).code, 201);
  ASSERT_EQ(Create(Gtf(), GtfJson("b", "y")).code, 201);
  ASSERT_EQ(Create(Gtf(), GtfJson("c", "x")).code, 201);
  ApiResponse all = List(Gtf());
  ASSERT_EQ(all.code, 200);
  EXPECT_EQ(At(all.body, "/kind"), "GlobalThreatFeedList");
  EXPECT_EQ(At(all.body, "/apiVersion"), "projectcalico.org/v3");
  EXPECT_EQ(At(all.body, "/metadata/resourceVersion"), std::to_string(store_.CurrentRevision()));
  EXPECT_EQ(all.body.at("items").as_array().size(), 3u);

  ReadOptions sel;
  sel.label_selector = "feed=x";
  ApiResponse x = List(Gtf(), "", sel);
  ASSERT_EQ(x.body.at("items").as_array().size(), 2u);
  EXPECT_EQ(At(x.body, "/items/1/metadata/name"), "c");
  sel.label_selector = "feed notin (x)";
  EXPECT_EQ(List(Gtf(), "", sel).body.at("items").as_array().size(), 1u);
  sel.label_selector = "feed in (";
  EXPECT_EQ(List(Gtf(), "", sel).code, 400);

  ReadOptions field;
  field.field_selector = "metadata.name=b";
  ApiResponse b = List(Gtf(), "", field);
  ASSERT_EQ(b.body.at("items").as_array().size(), 1u);
  EXPECT_EQ(At(b.body, "/items/0/metadata/name"), "b");
  field.field_selector = "spec.mode=x";
  EXPECT_EQ(List(Gtf(), "", field).code, 400);

  ReadOptions page;
  page.limit = 2;
  ApiResponse p1 = List(Gtf(), "", page);
  ASSERT_EQ(p1.body.at("items").as_array().size(), 2u);
  std::string token = At(p1.body, "/metadata/continue");
  ASSERT_NE(token, "<missing>");
  page.continue_token = token;
  ApiResponse p2 = List(Gtf(), "", page);
  ASSERT_EQ(p2.body.at("items").as_array().size(), 1u);
  EXPECT_EQ(At(p2.body, "/items/0/metadata/name"), "c");
  EXPECT_EQ(At(p2.body, "/metadata/continue"), "<missing>");
}

TEST_F(ResourceServiceTest, ListAcrossNamespaces) {
  ASSERT_EQ(Create(Ns(), R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}})").code, 201);
  std::string cm = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})";
  ASSERT_EQ(Create(ConfigMap(), cm, "dev").code, 201);
  ASSERT_EQ(Create(ConfigMap(), cm, "default").code, 201);
  EXPECT_EQ(List(ConfigMap(), "").body.at("items").as_array().size(), 2u);
  ApiResponse dev = List(ConfigMap(), "dev");
  ASSERT_EQ(dev.body.at("items").as_array().size(), 1u);
  EXPECT_EQ(At(dev.body, "/items/0/metadata/namespace"), "dev");
  ReadOptions field;
  field.field_selector = "metadata.namespace!=dev";
  EXPECT_EQ(At(List(ConfigMap(), "", field).body, "/items/0/metadata/namespace"), "default");
}

TEST_F(ResourceServiceTest, TableOutput) {
  ASSERT_EQ(Create(Gtf(), GtfJson("a")).code, 201);
  ReadOptions table;
  table.as_table = true;
  ApiResponse t = List(Gtf(), "", table);
  ASSERT_EQ(t.code, 200);
  EXPECT_EQ(At(t.body, "/kind"), "Table");
  EXPECT_EQ(At(t.body, "/apiVersion"), "meta.k8s.io/v1");
  size_t ncols = model::TableColumns(*Gtf()).size();
  EXPECT_EQ(t.body.at("columnDefinitions").as_array().size(), ncols);
  ASSERT_EQ(t.body.at("rows").as_array().size(), 1u);
  EXPECT_EQ(t.body.at("rows").at(0).at("cells").as_array().size(), ncols);
  EXPECT_EQ(At(t.body, "/rows/0/object/kind"), "PartialObjectMetadata");
  EXPECT_EQ(At(t.body, "/rows/0/object/metadata/name"), "a");
  ApiResponse one = Get(Gtf(), "a", "", table);
  EXPECT_EQ(At(one.body, "/kind"), "Table");
  EXPECT_EQ(one.body.at("rows").as_array().size(), 1u);
  EXPECT_TRUE(AcceptsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
  EXPECT_FALSE(AcceptsTable("application/json"));
}

TEST_F(ResourceServiceTest, SecretsAreRedactedForReadOnlyCallers) {
  std::string secret = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s",
      "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"k\":\"c2VjcmV0\"}}"}},
      "data":{"k":"c2VjcmV0"}})";
  ASSERT_EQ(Create(Secret(), secret, "default").code, 201);
  ReadOptions ro;
  ro.role = Role::kReadOnly;
  ApiResponse r = Get(Secret(), "s", "default", ro);
  ASSERT_EQ(r.code, 200);
  EXPECT_NE(At(r.body, "/data/k"), "c2VjcmV0");
  EXPECT_EQ(At(r.body, "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration").find("c2VjcmV0"),
            std::string::npos);
  EXPECT_NE(At(List(Secret(), "default", ro).body, "/items/0/data/k"), "c2VjcmV0");
  EXPECT_EQ(At(Get(Secret(), "s", "default").body, "/data/k"), "c2VjcmV0");  // admin sees it
}

TEST_F(ResourceServiceTest, WatchFromNowSendsExistingThenChanges) {
  ASSERT_EQ(Create(Gtf(), GtfJson("a")).code, 201);
  WatchStart w = service_.Watch({Gtf(), "", "", false}, {}, "");
  ASSERT_NE(w.watch, nullptr);
  auto first = Drain(*w.watch);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].at("type"), "ADDED");
  EXPECT_EQ(At(first[0], "/object/metadata/name"), "a");

  ASSERT_EQ(Create(Gtf(), GtfJson("b")).code, 201);
  ASSERT_EQ(service_.Patch({Gtf(), "", "b", false}, PatchType::kMerge, J(R"({"metadata":{"labels":{"q":"1"}}})"), {})
                .code,
            200);
  ApiResponse del = service_.Delete({Gtf(), "", "a", false}, json::value(), {});
  ASSERT_EQ(del.code, 200);
  ASSERT_EQ(Create(Tier(), R"({"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"t"}})").code,
            201);  // another kind: not seen
  auto events = Drain(*w.watch);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("type"), "ADDED");
  EXPECT_EQ(events[1].at("type"), "MODIFIED");
  EXPECT_EQ(At(events[1], "/object/metadata/labels/q"), "1");
  EXPECT_EQ(events[2].at("type"), "DELETED");
  EXPECT_EQ(At(events[2], "/object/metadata/name"), "a");
  int64_t r0 = std::stoll(At(events[0], "/object/metadata/resourceVersion"));
  int64_t r1 = std::stoll(At(events[1], "/object/metadata/resourceVersion"));
  int64_t r2 = std::stoll(At(events[2], "/object/metadata/resourceVersion"));
  EXPECT_LT(r0, r1);
  EXPECT_LT(r1, r2);
}

TEST_F(ResourceServiceTest, WatchFromRevisionAndSelectors) {
  ApiResponse a = Create(Gtf(), GtfJson("a", "x"));
  ASSERT_EQ(a.code, 201);
  std::string rv = Meta(a, "resourceVersion");
  ASSERT_EQ(Create(Gtf(), GtfJson("b", "y")).code, 201);
  ASSERT_EQ(Create(Gtf(), GtfJson("c", "x")).code, 201);
  ReadOptions sel;
  sel.label_selector = "feed=x";
  WatchStart w = service_.Watch({Gtf(), "", "", false}, sel, rv);
  ASSERT_NE(w.watch, nullptr) << Msg(w.error);
  auto events = Drain(*w.watch);
  ASSERT_EQ(events.size(), 1u);  // only c: a is at rv itself, b does not match
  EXPECT_EQ(At(events[0], "/object/metadata/name"), "c");

  WatchStart bad = service_.Watch({Gtf(), "", "", false}, {}, "abc");
  EXPECT_EQ(bad.watch, nullptr);
  EXPECT_EQ(bad.error.code, 400);
}

TEST_F(ResourceServiceTest, WatchFromCompactedRevisionIsGone) {
  ApiResponse a = Create(Gtf(), GtfJson("a"));
  ASSERT_EQ(Create(Gtf(), GtfJson("b")).code, 201);
  ASSERT_EQ(Create(Gtf(), GtfJson("c")).code, 201);
  ASSERT_TRUE(store_.Compact(store_.CurrentRevision() - 1).ok());
  WatchStart w = service_.Watch({Gtf(), "", "", false}, {}, "1");
  ASSERT_EQ(w.watch, nullptr);
  EXPECT_EQ(w.error.code, 410);
  EXPECT_EQ(Reason(w.error), "Gone");
}

TEST_F(ResourceServiceTest, WatchOfOneNamespaceAndRedaction) {
  ASSERT_EQ(Create(Ns(), R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}})").code, 201);
  ReadOptions ro;
  ro.role = Role::kReadOnly;
  WatchStart w = service_.Watch({Secret(), "dev", "", false}, ro, "");
  ASSERT_NE(w.watch, nullptr);
  std::string s = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"c2VjcmV0"}})";
  ASSERT_EQ(Create(Secret(), s, "default").code, 201);
  ASSERT_EQ(Create(Secret(), s, "dev").code, 201);
  auto events = Drain(*w.watch);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(At(events[0], "/object/metadata/namespace"), "dev");
  EXPECT_NE(At(events[0], "/object/data/k"), "c2VjcmV0");
}

TEST(AuthenticatorTest, Decisions) {
  Authenticator auth("admintoken", "readtoken");
  EXPECT_EQ(*auth.Authenticate("Bearer admintoken"), Role::kAdmin);
  EXPECT_EQ(*auth.Authenticate("bearer readtoken "), Role::kReadOnly);
  EXPECT_TRUE(auth.Authenticate("").error().IsUnauthenticated());
  EXPECT_TRUE(auth.Authenticate("Bearer ").error().IsUnauthenticated());
  EXPECT_TRUE(auth.Authenticate("Bearer admintokenX").error().IsUnauthenticated());
  EXPECT_TRUE(auth.Authenticate("Bearer admintoke").error().IsUnauthenticated());
  EXPECT_TRUE(auth.Authenticate("Basic admintoken").error().IsUnauthenticated());
  EXPECT_TRUE(Authenticator::Authorize(Role::kReadOnly, "GET").ok());
  EXPECT_TRUE(Authenticator::Authorize(Role::kReadOnly, "POST").IsPermissionDenied());
  EXPECT_TRUE(Authenticator::Authorize(Role::kReadOnly, "DELETE").IsPermissionDenied());
  EXPECT_TRUE(Authenticator::Authorize(Role::kAdmin, "DELETE").ok());
  Authenticator empty("", "");
  EXPECT_FALSE(empty.Authenticate("Bearer ").ok());
}

// A large object is served as text (no DOM) and reads back exactly like a
// small one: same JSON, resourceVersion included.
TEST_F(ResourceServiceTest, LargeObjectsAreServedAsTextWithTheirResourceVersion) {
  const model::KindInfo* gns = K("projectcalico.org/v3", "GlobalNetworkSet");
  std::string nets;
  for (int i = 0; i < 30000; ++i) nets += std::string(i ? "," : "") + "\"10." + std::to_string(i / 256) + "." +
                                        std::to_string(i % 256) + ".0/24\"";
  std::string body = R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkSet","metadata":{"name":"big",)"
                     R"("labels":{"a":"b"}},"spec":{"nets":[)" + nets + "]}}";
  ApiResponse created = Create(gns, body);
  ASSERT_EQ(created.code, 201) << json::serialize(created.body);
  ApiResponse got = Get(gns, "big");
  ASSERT_EQ(got.code, 200);
  ASSERT_FALSE(got.raw_body.empty());
  json::value parsed = json::parse(got.raw_body);
  EXPECT_EQ(parsed, created.body);
  EXPECT_EQ(At(parsed, "/metadata/resourceVersion"), At(created.body, "/metadata/resourceVersion"));
  EXPECT_EQ(parsed.at_pointer("/spec/nets").as_array().size(), 30000u);
  EXPECT_TRUE(Get(Tier(), "default").raw_body.empty());  // small objects: the ordinary path

  ApiResponse list = List(gns);
  ASSERT_EQ(list.code, 200);
  ASSERT_FALSE(list.raw_body.empty());
  json::value items = json::parse(list.raw_body);
  EXPECT_EQ(At(items, "/kind"), "GlobalNetworkSetList");
  ASSERT_EQ(items.at_pointer("/items").as_array().size(), 1u);
  EXPECT_EQ(items.at_pointer("/items/0"), created.body);

  // Tables and selectors read a summary: the count of nets is right.
  ReadOptions table;
  table.as_table = true;
  table.label_selector = "a=b";
  ApiResponse rows = List(gns, "", table);
  ASSERT_EQ(rows.code, 200) << json::serialize(rows.body);
  EXPECT_EQ(At(rows.body, "/rows/0/cells/1"), "30000");
  table.label_selector = "a=c";
  EXPECT_EQ(List(gns, "", table).body.at_pointer("/rows").as_array().size(), 0u);
  EXPECT_EQ(At(Get(gns, "big", "", ReadOptions{.as_table = true}).body, "/rows/0/cells/1"), "30000");
}

// Over a ChunkedStore a deletion event may come without the object's value
// (its pieces are gone): watchers still get DELETED with the name.
TEST(ResourceServiceChunked, DeletionOfAChunkedObjectIsWatched) {
  store::ChunkedStore::Options small;
  small.chunk_bytes = 64;
  store::ChunkedStore store(std::make_unique<store::MemStore>(), small);
  FakeClock clock;
  ResourceService service(store, clock);
  ASSERT_TRUE(service.EnsureBuiltins().ok());
  const model::KindInfo* gns = K("projectcalico.org/v3", "GlobalNetworkSet");
  ApiResponse created = service.Create(
      {gns, "", "", false},
      J(R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkSet","metadata":{"name":"s"},)"
        R"("spec":{"nets":["10.0.0.0/8","11.0.0.0/8","12.0.0.0/8","13.0.0.0/8"]}})"),
      {});
  ASSERT_EQ(created.code, 201);
  WatchStart w = service.Watch({gns, "", "", false}, {}, At(created.body, "/metadata/resourceVersion"));
  ASSERT_NE(w.watch, nullptr);
  ASSERT_EQ(service.Delete({gns, "", "s", false}, json::value(nullptr), {}).code, 200);
  std::optional<json::object> ev;
  for (int i = 0; i < 50 && !ev; ++i) ev = w.watch->Next(std::chrono::milliseconds(100));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ((*ev)["type"], "DELETED");
  EXPECT_EQ(At((*ev)["object"], "/metadata/name"), "s");
}

}  // namespace
}  // namespace tw::api
