#include "model/manifest.h"

#include <fmt/format.h>

#include "model/codec.h"

namespace tw::model {
namespace {

namespace json = boost::json;

std::string_view KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: return "an object";
    case json::kind::array: return "a list";
    case json::kind::string: return "a string";
    case json::kind::bool_: return "a boolean";
    case json::kind::null: return "null";
    default: return "a number";
  }
}

// Checks the type fields every document needs; `where` is the error prefix.
Status CheckTypeMeta(const json::value& doc, const std::string& where) {
  if (!doc.is_object())
    return Status::InvalidArgument(fmt::format("{}: not an object (got {})", where, KindName(doc)));
  const json::object& obj = doc.get_object();
  for (std::string_view field : {"apiVersion", "kind"}) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null())
      return Status::InvalidArgument(fmt::format("{}: {}: required", where, field));
    if (!it->value().is_string())
      return Status::InvalidArgument(
          fmt::format("{}: {}: must be a string, got {}", where, field, KindName(it->value())));
    if (it->value().get_string().empty())
      return Status::InvalidArgument(fmt::format("{}: {}: required", where, field));
  }
  return Status::Ok();
}

bool IsListKind(const json::object& obj) {
  auto kind = obj.find("kind");
  if (kind == obj.end() || !kind->value().is_string()) return false;
  std::string_view k = kind->value().get_string();
  return k.size() >= 4 && k.substr(k.size() - 4) == "List" && obj.contains("items");
}

// Appends `doc` (document number `index`) to `out`, expanding lists.
Status AddDocument(json::value doc, int index, std::string_view source,
                   std::vector<ManifestDocument>& out) {
  std::string where = fmt::format("{}: document {}", source, index);
  if (doc.is_object() && IsListKind(doc.get_object())) {
    TW_RETURN_IF_ERROR(CheckTypeMeta(doc, where));
    json::object& list = doc.as_object();
    std::string list_kind(list["kind"].get_string());
    std::string list_api_version(list["apiVersion"].get_string());
    json::value& items = list["items"];
    if (items.is_null()) return Status::Ok();
    if (!items.is_array())
      return Status::InvalidArgument(
          fmt::format("{}: items: must be a list, got {}", where, KindName(items)));
    json::array& arr = items.as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string item_path = fmt::format("items[{}]", i);
      std::string item_where = where + ": " + item_path;
      json::value& item = arr[i];
      if (item.is_object() && list_kind != "List") {
        // A typed list from the API: items carry no type fields.
        json::object& o = item.as_object();
        if (!o.contains("kind") && !o.contains("apiVersion")) {
          o["apiVersion"] = list_api_version;
          o["kind"] = list_kind.substr(0, list_kind.size() - 4);
        }
      }
      if (item.is_object() && IsListKind(item.get_object()))
        return Status::InvalidArgument(fmt::format("{}: nested lists are not supported", item_where));
      TW_RETURN_IF_ERROR(CheckTypeMeta(item, item_where));
      out.push_back({std::string(source), index, std::move(item), std::move(item_path)});
    }
    return Status::Ok();
  }
  TW_RETURN_IF_ERROR(CheckTypeMeta(doc, where));
  out.push_back({std::string(source), index, std::move(doc), ""});
  return Status::Ok();
}

}  // namespace

std::string ManifestDocument::Where() const {
  std::string out = fmt::format("{}: document {}", source, index);
  if (!item_path.empty()) out += ": " + item_path;
  return out;
}

Result<std::vector<ManifestDocument>> ParseManifest(std::string_view text, std::string_view source) {
  if (text.size() > kMaxManifestBytes) {
    return Status::TooLarge(fmt::format("{}: input is {} bytes, over the limit of {} MiB", source,
                                        text.size(), kMaxManifestBytes >> 20));
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t first = text.find_first_not_of(" \t\r\n");
  std::vector<ManifestDocument> out;
  if (first == std::string_view::npos) return out;
  if (text[first] == '{' || text[first] == '[') {
    auto values = ParseJsonDocuments(text);
    if (!values.ok()) return values.error().WithPrefix(source);
    int index = 0;
    for (json::value& v : *values) {
      ++index;
      if (v.is_array()) {
        // A JSON array at the top: a list of objects, like a List's items.
        json::value list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(v)}};
        TW_RETURN_IF_ERROR(AddDocument(std::move(list), index, source, out));
        continue;
      }
      TW_RETURN_IF_ERROR(AddDocument(std::move(v), index, source, out));
    }
    return out;
  }
  auto docs = ParseYamlStream(text);
  if (!docs.ok()) return docs.error().WithPrefix(source);
  for (YamlDocument& d : *docs) TW_RETURN_IF_ERROR(AddDocument(std::move(d.value), d.index, source, out));
  return out;
}

}  // namespace tw::model
