// libFuzzer target for the manifest decoder: bytes -> ParseManifest ->
// Admit -> ToYaml -> ParseYamlDocuments.  Beyond "no crash, no sanitizer
// report" it checks two properties: everything ToYaml prints reads back,
// and a decoded document reads back equal (values with integral doubles
// excepted: those come back as integers, by design).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "base/check.h"
#include "model/admit.h"
#include "model/codec.h"
#include "model/kinds.h"
#include "model/manifest.h"

namespace {

bool HasIntegralDouble(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_: {
      double d = v.get_double();
      return std::isfinite(d) && d == std::trunc(d);
    }
    case boost::json::kind::array:
      for (const auto& x : v.get_array())
        if (HasIntegralDouble(x)) return true;
      return false;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object())
        if (HasIntegralDouble(kv.value())) return true;
      return false;
    default:
      return false;
  }
}

void CheckRoundTrip(const boost::json::value& v) {
  std::string yaml = tw::model::ToYaml(v);
  auto back = tw::model::ParseYamlDocuments(yaml);
  TW_CHECK(back.ok()) << "ToYaml printed YAML that does not parse: " << back.status().ToString() << "\n" << yaml;
  if (!HasIntegralDouble(v)) {
    TW_CHECK(back->size() == 1 && (*back)[0] == v) << "round trip changed the value:\n" << yaml;
  }
  boost::json::error_code ec;
  boost::json::value from_json = boost::json::parse(tw::model::ToPrettyJson(v), ec);
  TW_CHECK(!ec) << "ToPrettyJson printed invalid JSON";
}

}  // namespace

// The kinds table is built on first use and lives as long as the process
// (KindInfo objects from `new`, held by a static vector).  Building it here
// keeps libFuzzer's per-input leak check quiet, and a never-freed copy of
// the pointers keeps them reachable for LeakSanitizer's check at exit,
// after the static vector is gone.
const std::vector<const tw::model::KindInfo*>* g_kinds_keepalive = nullptr;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_kinds_keepalive = new std::vector<const tw::model::KindInfo*>(tw::model::AllKinds());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto docs = tw::model::ParseManifest(text, "fuzz");
  if (!docs.ok()) return 0;
  for (const tw::model::ManifestDocument& doc : *docs) {
    CheckRoundTrip(doc.value);
    auto admitted = tw::model::Admit(doc.value);
    if (admitted.ok()) CheckRoundTrip(boost::json::value(admitted->object));
  }
  return 0;
}
