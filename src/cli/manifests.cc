#include "cli/manifests.h"

#include <algorithm>
#include <filesystem>

#include "base/file.h"
#include "base/strings.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

std::vector<std::string> ExpandPath(const std::string& path) {
  std::error_code ec;
  if (path == "-" || !std::filesystem::is_directory(path, ec)) return {path};
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    std::string ext = entry.path().extension().string();
    if (entry.is_regular_file(ec) && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<model::ManifestDocument> LoadManifests(const std::vector<std::string>& files,
                                                   std::vector<std::string>* errors) {
  std::vector<model::ManifestDocument> docs;
  for (const auto& arg : files) {
    for (const auto& file : ExpandPath(arg)) {
      auto text = ReadFile(file);
      if (!text) {
        errors->push_back(file + ": " + text.error().message());
        continue;
      }
      auto parsed = model::ParseManifest(*text, file);
      if (!parsed) {
        // ParseManifest already prefixes "FILE: ...".
        errors->push_back(parsed.error().message());
        continue;
      }
      for (auto& d : *parsed) docs.push_back(std::move(d));
    }
  }
  return docs;
}

std::string DocPrefix(const model::ManifestDocument& doc) {
  return doc.source + ": document " + std::to_string(doc.index) + ": ";
}

Result<Target> ResolveTarget(json::value& doc, const std::string& flag_ns, bool require_name) {
  if (!doc.is_object()) return Status::InvalidArgument("expected an object (a mapping with apiVersion and kind)");
  json::object& o = doc.as_object();
  auto str = [](const json::value* v) { return v != nullptr && v->is_string() ? std::string(v->as_string()) : ""; };
  std::string api_version = str(o.if_contains("apiVersion"));
  std::string kind_name = str(o.if_contains("kind"));
  if (api_version.empty()) return Status::InvalidArgument("apiVersion: Required value");
  if (kind_name.empty()) return Status::InvalidArgument("kind: Required value");
  Target t;
  t.kind = model::FindKind(api_version, kind_name);
  if (t.kind == nullptr) return Status::Unsupported("kind not served: " + api_version + " " + kind_name);
  json::value* md = o.if_contains("metadata");
  if (md != nullptr && !md->is_object()) return Status::InvalidArgument("metadata: must be an object");
  t.name = md != nullptr ? str(md->as_object().if_contains("name")) : "";
  if (t.name.empty() && require_name) return Status::InvalidArgument("metadata.name: Required value");
  if (t.kind->namespaced) {
    std::string doc_ns = md != nullptr ? str(md->as_object().if_contains("namespace")) : "";
    if (!doc_ns.empty() && !flag_ns.empty() && doc_ns != flag_ns) {
      return Status::InvalidArgument("the namespace from the provided object " + Quote(doc_ns) +
                                     " does not match the namespace " + Quote(flag_ns) +
                                     "; pass --namespace=" + doc_ns + " or remove it");
    }
    t.ns = !doc_ns.empty() ? doc_ns : !flag_ns.empty() ? flag_ns : "default";
    if (md == nullptr) md = &(o["metadata"] = json::object());
    md->as_object()["namespace"] = t.ns;
  }
  return t;
}

}  // namespace tw::cli
