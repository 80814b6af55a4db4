#include "feeds/controller/feed_spec.h"

#include <charconv>

#include "base/clock.h"
#include "model/kind_rules.h"
#include "model/validators.h"

namespace tw::feeds {

namespace json = boost::json;
using model::GetObject;
using model::GetString;

namespace {

std::string StringOr(const json::object& o, std::string_view key, std::string_view fallback = "") {
  auto s = GetString(o, key);
  return std::string(s ? *s : fallback);
}

int64_t IntOr(const json::object& o, std::string_view key, int64_t fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().as_uint64());
  return fallback;
}

Result<HeaderSpec> ReadHeader(const json::value& v, size_t index) {
  std::string path = "spec.pull.http.headers[" + std::to_string(index) + "]";
  const json::object* h = v.if_object();
  if (h == nullptr) return Status::InvalidArgument(path + ": not an object");
  HeaderSpec out;
  out.name = StringOr(*h, "name");
  if (out.name.empty()) return Status::InvalidArgument(path + ".name: required");
  const json::object* from = GetObject(*h, "valueFrom");
  if (from == nullptr) {
    out.value = StringOr(*h, "value");
    return out;
  }
  const json::object* ref = GetObject(*from, "secretKeyRef");
  out.from = HeaderSpec::From::kSecret;
  if (ref == nullptr) {
    ref = GetObject(*from, "configMapKeyRef");
    out.from = HeaderSpec::From::kConfigMap;
  }
  if (ref == nullptr)
    return Status::InvalidArgument(path + ".valueFrom: one of configMapKeyRef or secretKeyRef is required");
  out.ref_name = StringOr(*ref, "name");
  out.ref_key = StringOr(*ref, "key");
  auto opt = ref->find("optional");
  out.optional = opt != ref->end() && opt->value().is_bool() && opt->value().as_bool();
  return out;
}

}  // namespace

Result<FeedSpec> ReadFeedSpec(const json::object& feed) {
  FeedSpec out;
  static const json::object kEmpty;
  const json::object* meta = GetObject(feed, "metadata");
  if (meta == nullptr) meta = &kEmpty;
  out.name = StringOr(*meta, "name");
  out.uid = StringOr(*meta, "uid");
  out.generation = IntOr(*meta, "generation", 0);
  if (const json::object* ann = GetObject(*meta, "annotations")) {
    std::string request = StringOr(*ann, kSyncRequestAnnotation);
    size_t semi = request.find(';');
    out.sync_request = request.substr(0, semi);
    out.sync_force = semi != std::string::npos && request.substr(semi + 1) == "force";
    if (auto t = GetString(*ann, kCollapseThresholdAnnotation)) {
      double v = 0;
      auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
      if (ec != std::errc() || p != t->data() + t->size() || v < 0 || v > 1)
        return Status::InvalidArgument("metadata.annotations[" + std::string(kCollapseThresholdAnnotation) +
                                       "]: \"" + std::string(*t) + "\" is not a fraction from 0 to 1");
      out.collapse_threshold = v;
    }
  }
  const json::object* spec = GetObject(feed, "spec");
  if (spec == nullptr) spec = &kEmpty;
  TW_ASSIGN_OR_RETURN(out.content, ContentFromSpec(json::value(*spec)));
  out.enabled = StringOr(*spec, "mode", "Enabled") == "Enabled";
  if (const json::object* gns = GetObject(*spec, "globalNetworkSet")) {
    std::map<std::string, std::string> labels;
    if (const json::object* l = GetObject(*gns, "labels"))
      for (const auto& kv : *l)
        if (kv.value().is_string()) labels[std::string(kv.key())] = std::string(kv.value().as_string());
    out.gns_labels = std::move(labels);
  }
  const json::object* pull = GetObject(*spec, "pull");
  const json::object* http = pull ? GetObject(*pull, "http") : nullptr;
  if (http == nullptr) return out;
  out.has_pull = true;
  if (auto period = GetString(*pull, "period"); period && !period->empty()) {
    auto ns = model::ParseGoDuration(*period);
    if (!ns.ok()) return Status::InvalidArgument("spec.pull.period: " + ns.error().message());
    out.period = std::chrono::nanoseconds(*ns);
  }
  out.url = StringOr(*http, "url");
  if (out.url.empty()) return Status::InvalidArgument("spec.pull.http.url: required");
  if (const json::array* headers = model::GetArray(*http, "headers"))
    for (size_t i = 0; i < headers->size(); ++i) {
      TW_ASSIGN_OR_RETURN(HeaderSpec h, ReadHeader((*headers)[i], i));
      out.headers.push_back(std::move(h));
    }
  TW_ASSIGN_OR_RETURN(out.format, FeedFormatFromSpec(json::value(*spec)));
  return out;
}

FeedStatusView ReadFeedStatus(const json::object& feed) {
  FeedStatusView out;
  const json::object* status = GetObject(feed, "status");
  if (status == nullptr) return out;
  if (auto t = GetString(*status, "lastSuccessfulSync")) out.last_successful_sync = ParseRfc3339(*t);
  out.synced_generation = IntOr(*status, "syncedGeneration", 0);
  out.etag = StringOr(*status, "etag");
  out.last_modified = StringOr(*status, "lastModified");
  out.handled_sync_request = StringOr(*status, "handledSyncRequest");
  out.entries = IntOr(*status, "entries", -1);
  return out;
}

std::string GnsNameFor(std::string_view feed_name) { return std::string(kGnsPrefix) + std::string(feed_name); }

}  // namespace tw::feeds
