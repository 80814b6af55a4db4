#include "api/patch.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tw::api {
namespace json = boost::json;

// ---------------------------------------------------------------------------
// RFC 7386

namespace {

json::value MergeValue(const json::value& target, const json::value& patch) {
  if (!patch.is_object()) return patch;
  json::object result = target.is_object() ? target.get_object() : json::object();
  for (const auto& [key, value] : patch.get_object()) {
    if (value.is_null()) {
      result.erase(key);
      continue;
    }
    const json::value* existing = result.if_contains(key);
    result[key] = MergeValue(existing ? *existing : json::value(nullptr), value);
  }
  return result;
}

}  // namespace

Result<json::value> ApplyMergePatch(const json::value& target, const json::value& patch) {
  return MergeValue(target, patch);
}

// ---------------------------------------------------------------------------
// RFC 6902

namespace {

// A parsed JSON pointer: the reference tokens, unescaped.
Result<std::vector<std::string>> ParsePointer(std::string_view text) {
  std::vector<std::string> tokens;
  if (text.empty()) return tokens;
  if (text.front() != '/') return Status::InvalidArgument("must be empty or start with '/'");
  text.remove_prefix(1);
  while (true) {
    size_t slash = text.find('/');
    std::string_view raw = text.substr(0, slash);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
        continue;
      }
      if (i + 1 < raw.size() && raw[i + 1] == '0') {
        token += '~';
      } else if (i + 1 < raw.size() && raw[i + 1] == '1') {
        token += '/';
      } else {
        return Status::InvalidArgument("invalid escape: '~' must be followed by '0' or '1'");
      }
      ++i;
    }
    tokens.push_back(std::move(token));
    if (slash == std::string_view::npos) break;
    text.remove_prefix(slash + 1);
  }
  return tokens;
}

// An array index token: digits without leading zeros.  `allow_end` admits
// "-" (one past the end) and index == size, as `add` does.
Result<size_t> ParseIndex(const std::string& token, size_t size, bool allow_end) {
  if (token == "-") {
    if (allow_end) return size;
    return Status::InvalidArgument("index '-' is only valid when adding");
  }
  if (token.empty() || token.size() > 18 ||
      !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (token.size() > 1 && token[0] == '0'))
    return Status::InvalidArgument(fmt::format("invalid array index '{}'", token));
  size_t index = std::stoull(token);
  if (index > size || (index == size && !allow_end))
    return Status::InvalidArgument(fmt::format("array index {} out of range (size {})", index, size));
  return index;
}

// The value the pointer designates, or NotFound.
Result<json::value*> Find(json::value& root, const std::vector<std::string>& tokens) {
  json::value* cur = &root;
  for (const std::string& token : tokens) {
    if (cur->is_object()) {
      cur = cur->get_object().if_contains(token);
      if (cur == nullptr) return Status::NotFound("path not found");
    } else if (cur->is_array()) {
      auto& arr = cur->get_array();
      auto index = ParseIndex(token, arr.size(), false);
      if (!index) return Status::NotFound("path not found: " + index.error().message());
      cur = &arr[*index];
    } else {
      return Status::NotFound("path not found");
    }
  }
  return cur;
}

Status AddAt(json::value& root, const std::vector<std::string>& tokens, json::value value) {
  if (tokens.empty()) {
    root = std::move(value);
    return Status::Ok();
  }
  std::vector<std::string> parent_tokens(tokens.begin(), tokens.end() - 1);
  auto parent = Find(root, parent_tokens);
  if (!parent) return Status::InvalidArgument("parent path not found");
  const std::string& last = tokens.back();
  if ((*parent)->is_object()) {
    (*parent)->get_object()[last] = std::move(value);
    return Status::Ok();
  }
  if ((*parent)->is_array()) {
    auto& arr = (*parent)->get_array();
    TW_ASSIGN_OR_RETURN(size_t index, ParseIndex(last, arr.size(), true));
    arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
    return Status::Ok();
  }
  return Status::InvalidArgument("parent is neither an object nor an array");
}

Result<json::value> RemoveAt(json::value& root, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return Status::InvalidArgument("cannot remove the whole document");
  std::vector<std::string> parent_tokens(tokens.begin(), tokens.end() - 1);
  auto parent = Find(root, parent_tokens);
  if (!parent) return Status::InvalidArgument("path not found");
  const std::string& last = tokens.back();
  if ((*parent)->is_object()) {
    auto& obj = (*parent)->get_object();
    auto it = obj.find(last);
    if (it == obj.end()) return Status::InvalidArgument("path not found");
    json::value removed = it->value();
    obj.erase(it);
    return removed;
  }
  if ((*parent)->is_array()) {
    auto& arr = (*parent)->get_array();
    auto index = ParseIndex(last, arr.size(), false);
    if (!index) return Status::InvalidArgument("path not found: " + index.error().message());
    json::value removed = arr[*index];
    arr.erase(arr.begin() + static_cast<std::ptrdiff_t>(*index));
    return removed;
  }
  return Status::InvalidArgument("path not found");
}

std::string_view StringMember(const json::object& op, std::string_view key) {
  const json::value* v = op.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

Status ApplyOperation(json::value& doc, const json::object& op) {
  const json::value* op_name = op.if_contains("op");
  if (op_name == nullptr || !op_name->is_string())
    return Status::InvalidArgument("missing or non-string \"op\"");
  const json::value* path_value = op.if_contains("path");
  if (path_value == nullptr || !path_value->is_string())
    return Status::InvalidArgument("missing or non-string \"path\"");
  auto path = ParsePointer(path_value->get_string());
  if (!path) return Status::InvalidArgument("path: " + path.error().message());
  std::string_view name = op_name->get_string();
  const json::value* value = op.if_contains("value");
  auto need_value = [&]() -> Status {
    return value ? Status::Ok() : Status::InvalidArgument("missing \"value\"");
  };
  auto from = [&]() -> Result<std::vector<std::string>> {
    const json::value* f = op.if_contains("from");
    if (f == nullptr || !f->is_string()) return Status::InvalidArgument("missing or non-string \"from\"");
    auto tokens = ParsePointer(f->get_string());
    if (!tokens) return Status::InvalidArgument("from: " + tokens.error().message());
    return tokens;
  };

  if (name == "add") {
    TW_RETURN_IF_ERROR(need_value());
    return AddAt(doc, *path, *value);
  }
  if (name == "remove") return RemoveAt(doc, *path).status();
  if (name == "replace") {
    TW_RETURN_IF_ERROR(need_value());
    auto target = Find(doc, *path);
    if (!target) return Status::InvalidArgument("path not found");
    **target = *value;
    return Status::Ok();
  }
  if (name == "test") {
    TW_RETURN_IF_ERROR(need_value());
    auto target = Find(doc, *path);
    if (!target) return Status::InvalidArgument("path not found");
    if (**target != *value) return Status::InvalidArgument("test failed");
    return Status::Ok();
  }
  if (name == "move" || name == "copy") {
    TW_ASSIGN_OR_RETURN(auto from_tokens, from());
    if (name == "move") {
      // A location cannot be moved into one of its own children.
      if (path->size() > from_tokens.size() &&
          std::equal(from_tokens.begin(), from_tokens.end(), path->begin()))
        return Status::InvalidArgument("cannot move a value into one of its children");
      if (*path == from_tokens) return Status::Ok();
      TW_ASSIGN_OR_RETURN(json::value moved, RemoveAt(doc, from_tokens));
      return AddAt(doc, *path, std::move(moved));
    }
    auto source = Find(doc, from_tokens);
    if (!source) return Status::InvalidArgument("from path not found");
    json::value copied = **source;
    return AddAt(doc, *path, std::move(copied));
  }
  return Status::InvalidArgument(fmt::format("unknown op \"{}\"", name));
}

}  // namespace

Result<json::value> ApplyJsonPatch(const json::value& target, const json::value& patch) {
  if (!patch.is_array()) return Status::InvalidArgument("json patch: must be an array of operations");
  json::value doc = target;
  const json::array& ops = patch.get_array();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!ops[i].is_object())
      return Status::InvalidArgument(fmt::format("json patch operation {}: must be an object", i));
    const json::object& op = ops[i].get_object();
    Status s = ApplyOperation(doc, op);
    if (!s.ok()) {
      std::string_view op_name = StringMember(op, "op");
      std::string_view path = StringMember(op, "path");
      if (op_name.empty())
        return Status::InvalidArgument(fmt::format("json patch operation {}: {}", i, s.message()));
      return Status::InvalidArgument(
          fmt::format("json patch operation {} ({} {}): {}", i, op_name, path, s.message()));
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------
// Strategic merge patch

namespace {

// patchStrategy / patchMergeKey of one list field (Kubernetes API struct
// tags).  `merge_key` empty with `merge` = a merged list of primitives.
struct ListMeta {
  bool merge = false;
  bool retain_keys = false;
  std::string_view merge_key;
};

// Field paths use "." between members and "[]" for "any element of".
using MetaTable = std::map<std::string, ListMeta, std::less<>>;

void AddContainerMeta(MetaTable& t, const std::string& list) {
  t[list] = {true, false, "name"};
  t[list + "[].ports"] = {true, false, "containerPort"};
  t[list + "[].env"] = {true, false, "name"};
  t[list + "[].volumeMounts"] = {true, false, "mountPath"};
  t[list + "[].volumeDevices"] = {true, false, "devicePath"};
}

MetaTable ObjectMetaTable() {
  MetaTable t;
  t["metadata.finalizers"] = {true, false, ""};
  t["metadata.ownerReferences"] = {true, false, "uid"};
  return t;
}

// k8s.io/api core/v1 and networking/v1 types, as of Kubernetes 1.32.
const MetaTable* MetaFor(const model::KindInfo& kind) {
  static const MetaTable* pod = [] {
    auto* t = new MetaTable(ObjectMetaTable());
    AddContainerMeta(*t, "spec.containers");
    AddContainerMeta(*t, "spec.initContainers");
    AddContainerMeta(*t, "spec.ephemeralContainers");
    (*t)["spec.volumes"] = {true, true, "name"};
    (*t)["spec.imagePullSecrets"] = {true, false, "name"};
    (*t)["spec.hostAliases"] = {true, false, "ip"};
    (*t)["spec.topologySpreadConstraints"] = {true, false, "topologyKey"};
    (*t)["spec.resourceClaims"] = {true, true, "name"};
    (*t)["spec.schedulingGates"] = {true, false, "name"};
    (*t)["status.conditions"] = {true, false, "type"};
    (*t)["status.podIPs"] = {true, false, "ip"};
    (*t)["status.hostIPs"] = {true, false, "ip"};
    (*t)["status.resourceClaimStatuses"] = {true, true, "name"};
    return t;
  }();
  static const MetaTable* ns = [] {
    auto* t = new MetaTable(ObjectMetaTable());
    (*t)["status.conditions"] = {true, false, "type"};
    return t;
  }();
  static const MetaTable* plain = new MetaTable(ObjectMetaTable());
  if (kind.group.empty() && kind.version == "v1") {
    if (kind.kind == "Pod") return pod;
    if (kind.kind == "Namespace") return ns;
    return plain;  // Secret, ConfigMap: maps only
  }
  if (kind.group == "networking.k8s.io") return plain;  // NetworkPolicy lists are atomic
  return nullptr;                                       // Calico kinds: every list is replaced
}

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder/";

class StrategicMerger {
 public:
  explicit StrategicMerger(const MetaTable* meta) : meta_(meta) {}

  // `path` is the metadata path ("spec.containers[]"), `where` the display
  // path with indexes ("spec.containers[1]").
  Result<json::value> MergeObject(const json::object& original, const json::object& patch,
                                  const std::string& path, const std::string& where) {
    json::object result = original;
    if (const json::value* directive = patch.if_contains(kPatchDirective)) {
      std::string_view d = directive->is_string() ? std::string_view(directive->get_string()) : "";
      if (d == "replace") {
        json::object replaced = patch;
        replaced.erase(kPatchDirective);
        return Merge(json::value(nullptr), json::value(std::move(replaced)), path, where);
      }
      if (d == "delete") return json::object();
      if (d != "merge")
        return Error(where, fmt::format("unknown patch type {}", json::serialize(*directive)));
    }
    if (const json::value* retain = patch.if_contains(kRetainKeysDirective)) {
      if (!retain->is_array()) return Error(where, "$retainKeys must be a list of strings");
      std::vector<std::string> keep;
      for (const auto& k : retain->get_array()) {
        if (!k.is_string()) return Error(where, "$retainKeys must be a list of strings");
        keep.emplace_back(k.get_string());
      }
      for (auto it = result.begin(); it != result.end();) {
        if (std::find(keep.begin(), keep.end(), std::string_view(it->key())) == keep.end())
          it = result.erase(it);
        else
          ++it;
      }
    }
    // Deletions from primitive lists come first: the same patch may also
    // add to that list.
    for (const auto& [key, value] : patch) {
      if (!key.starts_with(kDeleteFromPrimitiveListPrefix)) continue;
      std::string field(key.substr(kDeleteFromPrimitiveListPrefix.size()));
      if (!value.is_array()) return Error(Join(where, field), "$deleteFromPrimitiveList must be a list");
      json::value* list = result.if_contains(field);
      if (list == nullptr || !list->is_array()) continue;
      json::array kept;
      for (const auto& item : list->get_array())
        if (std::find(value.get_array().begin(), value.get_array().end(), item) == value.get_array().end())
          kept.push_back(item);
      *list = std::move(kept);
    }
    for (const auto& [key, value] : patch) {
      if (key.starts_with("$")) continue;  // directives, handled around the loop
      std::string child_path = Join(path, key);
      std::string child_where = Join(where, key);
      if (value.is_null()) {
        result.erase(key);
        continue;
      }
      json::value* existing = result.if_contains(key);
      TW_ASSIGN_OR_RETURN(json::value merged,
                          Merge(existing ? *existing : json::value(nullptr), value, child_path, child_where));
      result[key] = std::move(merged);
    }
    for (const auto& [key, value] : patch) {
      if (!key.starts_with(kSetElementOrderPrefix)) continue;
      std::string field(key.substr(kSetElementOrderPrefix.size()));
      if (!value.is_array()) return Error(Join(where, field), "$setElementOrder must be a list");
      json::value* list = result.if_contains(field);
      if (list == nullptr || !list->is_array()) continue;
      TW_RETURN_IF_ERROR(Reorder(list->get_array(), value.get_array(), Lookup(Join(path, field))));
    }
    return result;
  }

  // Merges `patch` into `original` (null = absent).
  Result<json::value> Merge(const json::value& original, const json::value& patch, const std::string& path,
                            const std::string& where) {
    if (patch.is_object()) {
      static const json::object kEmpty;
      const json::object& base = original.is_object() ? original.get_object() : kEmpty;
      return MergeObject(base, patch.get_object(), path, where);
    }
    if (patch.is_array()) {
      static const json::array kEmpty;
      const json::array& base = original.is_array() ? original.get_array() : kEmpty;
      return MergeList(base, patch.get_array(), path, where);
    }
    return patch;
  }

 private:
  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  static Status Error(const std::string& where, std::string_view reason) {
    return Status::InvalidArgument(
        fmt::format("strategic merge patch: {}: {}", where.empty() ? "<root>" : where, reason));
  }

  ListMeta Lookup(const std::string& path) const {
    if (meta_ == nullptr) return {};
    auto it = meta_->find(path);
    return it == meta_->end() ? ListMeta{} : it->second;
  }

  Result<json::value> MergeList(const json::array& original, const json::array& patch,
                                const std::string& path, const std::string& where) {
    ListMeta meta = Lookup(path);
    std::string elem_path = path + "[]";
    if (!meta.merge) {
      // Replace; still resolve directives inside the new elements.
      json::array out;
      for (size_t i = 0; i < patch.size(); ++i) {
        TW_ASSIGN_OR_RETURN(
            json::value v, Merge(json::value(nullptr), patch[i], elem_path, fmt::format("{}[{}]", where, i)));
        out.push_back(std::move(v));
      }
      return out;
    }
    if (meta.merge_key.empty()) {
      // Primitive list: union, first occurrence wins.
      json::array out;
      auto add = [&](const json::value& v) {
        if (v.is_object() && v.get_object().contains(kPatchDirective)) return;
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
      };
      bool replace = false;
      for (const auto& v : patch)
        if (v.is_object() && v.get_object().if_contains(kPatchDirective) &&
            *v.get_object().if_contains(kPatchDirective) == "replace")
          replace = true;
      if (!replace)
        for (const auto& v : original) add(v);
      for (const auto& v : patch) add(v);
      return out;
    }
    // List of maps merged by key.
    json::array out = original;
    std::vector<const json::value*> additions;
    for (size_t i = 0; i < patch.size(); ++i) {
      std::string elem_where = fmt::format("{}[{}]", where, i);
      if (!patch[i].is_object()) return Error(elem_where, "must be an object in a list merged by key");
      const json::object& elem = patch[i].get_object();
      if (const json::value* d = elem.if_contains(kPatchDirective)) {
        if (*d == "replace") {
          // The whole list is replaced by the other elements of the patch.
          json::array rest;
          for (size_t j = 0; j < patch.size(); ++j) {
            if (j == i) continue;
            TW_ASSIGN_OR_RETURN(json::value v, Merge(json::value(nullptr), patch[j], elem_path,
                                                     fmt::format("{}[{}]", where, j)));
            rest.push_back(std::move(v));
          }
          return rest;
        }
        if (*d == "delete") {
          const json::value* key = elem.if_contains(meta.merge_key);
          if (key == nullptr)
            return Error(elem_where, fmt::format("missing merge key \"{}\"", meta.merge_key));
          out.erase(std::remove_if(out.begin(), out.end(),
                                   [&](const json::value& o) {
                                     const json::value* k =
                                         o.is_object() ? o.get_object().if_contains(meta.merge_key) : nullptr;
                                     return k && *k == *key;
                                   }),
                    out.end());
          continue;
        }
        if (*d != "merge")
          return Error(elem_where, fmt::format("unknown patch type {}", json::serialize(*d)));
      }
      const json::value* key = elem.if_contains(meta.merge_key);
      if (key == nullptr) return Error(elem_where, fmt::format("missing merge key \"{}\"", meta.merge_key));
      auto found = std::find_if(out.begin(), out.end(), [&](const json::value& o) {
        const json::value* k = o.is_object() ? o.get_object().if_contains(meta.merge_key) : nullptr;
        return k && *k == *key;
      });
      if (found != out.end()) {
        TW_ASSIGN_OR_RETURN(*found, Merge(*found, patch[i], elem_path, elem_where));
      } else {
        TW_ASSIGN_OR_RETURN(json::value added, Merge(json::value(nullptr), patch[i], elem_path, elem_where));
        out.push_back(std::move(added));
      }
    }
    return out;
  }

  // Puts the elements named in `order` (merge-key maps or primitives) into
  // that order, in the slots they already occupy; other elements (the
  // server's own additions) keep their positions.
  Status Reorder(json::array& list, const json::array& order, const ListMeta& meta) {
    auto key_of = [&](const json::value& v) -> const json::value* {
      if (meta.merge_key.empty()) return &v;
      return v.is_object() ? v.get_object().if_contains(meta.merge_key) : nullptr;
    };
    auto rank_of = [&](const json::value& v) -> std::optional<size_t> {
      const json::value* k = key_of(v);
      if (k == nullptr) return std::nullopt;
      for (size_t i = 0; i < order.size(); ++i) {
        const json::value* ok = key_of(order[i]);
        if (ok && *ok == *k) return i;
      }
      return std::nullopt;
    };
    std::vector<size_t> slots;
    std::vector<std::pair<size_t, json::value>> ranked;
    for (size_t i = 0; i < list.size(); ++i) {
      if (auto r = rank_of(list[i])) {
        slots.push_back(i);
        ranked.emplace_back(*r, list[i]);
      }
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < slots.size(); ++i) list[slots[i]] = std::move(ranked[i].second);
    return Status::Ok();
  }

  const MetaTable* meta_;
};

}  // namespace

Result<json::value> ApplyStrategicMergePatch(const json::value& target, const json::value& patch,
                                             const model::KindInfo& kind) {
  if (!patch.is_object()) return Status::InvalidArgument("strategic merge patch: must be a JSON object");
  StrategicMerger merger(MetaFor(kind));
  return merger.Merge(target, patch, "", "");
}

}  // namespace tw::api
