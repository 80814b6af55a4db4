#include "model/openapi.h"

#include "model/kind_rules.h"

namespace tw::model {
namespace {

boost::json::object Convert(const Schema& s) {
  boost::json::object out;
  if (!s.description().empty()) out["description"] = s.description();
  switch (s.type()) {
    case SchemaType::kObject: {
      out["type"] = "object";
      boost::json::object props;
      boost::json::array required;
      for (const SchemaField& f : s.fields()) {
        props[f.name] = Convert(*f.schema);
        if (f.required) required.push_back(boost::json::string(f.name));
      }
      out["properties"] = std::move(props);
      if (!required.empty()) out["required"] = std::move(required);
      if (s.preserve_unknown_fields()) out["x-kubernetes-preserve-unknown-fields"] = true;
      break;
    }
    case SchemaType::kMap:
      out["type"] = "object";
      out["additionalProperties"] = Convert(*s.items());
      break;
    case SchemaType::kArray:
      out["type"] = "array";
      out["items"] = Convert(*s.items());
      break;
    case SchemaType::kString:
      out["type"] = "string";
      if (!s.enum_values().empty()) {
        boost::json::array e;
        for (const std::string& v : s.enum_values()) e.push_back(boost::json::string(v));
        out["enum"] = std::move(e);
      }
      if (s.max_length()) out["maxLength"] = *s.max_length();
      break;
    case SchemaType::kInteger:
      out["type"] = "integer";
      out["format"] = "int64";
      break;
    case SchemaType::kNumber:
      out["type"] = "number";
      break;
    case SchemaType::kBoolean:
      out["type"] = "boolean";
      break;
    case SchemaType::kIntOrString:
      out["x-kubernetes-int-or-string"] = true;
      out["anyOf"] = boost::json::array{boost::json::object{{"type", "integer"}},
                                        boost::json::object{{"type", "string"}}};
      break;
    case SchemaType::kFreeObject:
      out["type"] = "object";
      out["x-kubernetes-preserve-unknown-fields"] = true;
      break;
    case SchemaType::kAny:
      out["x-kubernetes-preserve-unknown-fields"] = true;
      break;
  }
  if (s.max_items()) out["maxItems"] = *s.max_items();
  if (s.type() == SchemaType::kInteger || s.type() == SchemaType::kNumber) {
    if (s.min()) out["minimum"] = *s.min();
    if (s.max()) out["maximum"] = *s.max();
  }
  return out;
}

}  // namespace

boost::json::object OpenApiV3Schema(const KindInfo& kind) {
  const KindRules* rules = FindKindRules(kind);
  boost::json::object out = rules ? Convert(rules->schema)
                                  : boost::json::object{{"type", "object"},
                                                        {"x-kubernetes-preserve-unknown-fields", true}};
  out["description"] = std::string(kind.kind) + " (" + kind.ApiVersion() + "), as served by threatwall.";
  if (auto* props = out.if_contains("properties"); props && props->is_object()) {
    auto& p = props->as_object();
    if (auto* v = p.if_contains("apiVersion"))
      v->as_object()["description"] = "APIVersion defines the versioned schema of this representation of an object.";
    if (auto* v = p.if_contains("kind"))
      v->as_object()["description"] = "Kind is a string value representing the REST resource this object represents.";
    if (auto* v = p.if_contains("metadata"))
      v->as_object()["description"] = "Standard object's metadata.";
  }
  out["x-kubernetes-group-version-kind"] = boost::json::array{boost::json::object{
      {"group", std::string(kind.group)}, {"version", std::string(kind.version)}, {"kind", std::string(kind.kind)}}};
  return out;
}

}  // namespace tw::model
