#include "cli/apply_patch.h"

#include <system_error>

namespace tw::cli {

namespace json = boost::json;

json::object TwoWayMergePatch(const json::object& from, const json::object& to, bool ignore_deletions,
                              bool only_deletions) {
  json::object patch;
  for (const auto& [key, to_value] : to) {
    const json::value* from_value = from.if_contains(key);
    if (from_value == nullptr) {
      if (!only_deletions) patch[key] = to_value;
      continue;
    }
    if (from_value->is_object() && to_value.is_object()) {
      json::object sub = TwoWayMergePatch(from_value->as_object(), to_value.as_object(), ignore_deletions,
                                          only_deletions);
      if (!sub.empty()) patch[key] = std::move(sub);
      continue;
    }
    if (*from_value != to_value && !only_deletions) patch[key] = to_value;
  }
  if (!ignore_deletions) {
    for (const auto& [key, unused] : from) {
      if (!to.contains(key)) patch[key] = nullptr;
    }
  }
  return patch;
}

namespace {

// Deep merge of two patches; values in `b` win, objects merge.
void MergeInto(json::object& a, const json::object& b) {
  for (const auto& [key, value] : b) {
    json::value* existing = a.if_contains(key);
    if (existing != nullptr && existing->is_object() && value.is_object()) {
      MergeInto(existing->as_object(), value.as_object());
    } else {
      a[key] = value;
    }
  }
}

}  // namespace

json::object ThreeWayMergePatch(const json::object& original, const json::object& modified,
                                const json::object& live) {
  // Additions and changes relative to what is live; deletions only of what
  // the user applied before and removed since.
  json::object patch = TwoWayMergePatch(original, modified, /*ignore_deletions=*/false, /*only_deletions=*/true);
  json::object delta = TwoWayMergePatch(live, modified, /*ignore_deletions=*/true);
  MergeInto(patch, delta);
  return patch;
}

json::object WithLastApplied(const json::object& doc) {
  json::object clean = doc;
  if (json::value* md = clean.if_contains("metadata"); md != nullptr && md->is_object()) {
    if (json::value* ann = md->as_object().if_contains("annotations"); ann != nullptr && ann->is_object()) {
      ann->as_object().erase(kLastAppliedAnnotation);
      if (ann->as_object().empty()) md->as_object().erase("annotations");
    }
  }
  std::string text = json::serialize(clean) + "\n";
  json::object out = doc;
  json::value& md = out["metadata"];
  if (!md.is_object()) md = json::object();
  json::value& ann = md.as_object()["annotations"];
  if (!ann.is_object()) ann = json::object();
  ann.as_object()[kLastAppliedAnnotation] = text;
  return out;
}

Result<json::object> LastApplied(const json::object& live, bool* present) {
  *present = false;
  const json::value* md = live.if_contains("metadata");
  if (md == nullptr || !md->is_object()) return json::object();
  const json::value* ann = md->as_object().if_contains("annotations");
  if (ann == nullptr || !ann->is_object()) return json::object();
  const json::value* text = ann->as_object().if_contains(kLastAppliedAnnotation);
  if (text == nullptr || !text->is_string()) return json::object();
  std::error_code ec;
  json::value parsed = json::parse(text->as_string(), ec);
  if (ec || !parsed.is_object()) {
    return Status::InvalidArgument(std::string("metadata.annotations.") + kLastAppliedAnnotation +
                                   ": not a JSON object");
  }
  *present = true;
  return parsed.as_object();
}

}  // namespace tw::cli
