#include "feeds/parse/feed_format.h"

#include <string>

namespace tw::feeds {
namespace json = boost::json;

namespace {

const json::object* Member(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_object()) return nullptr;
  return &it->value().get_object();
}

Result<std::string> StringField(const json::object& o, std::string_view name, std::string_view where,
                                std::string dflt) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return dflt;
  if (!it->value().is_string()) {
    return Status::InvalidArgument(std::string(where) + "." + std::string(name) + ": must be a string");
  }
  return std::string(it->value().get_string());
}

Result<bool> BoolField(const json::object& o, std::string_view name, std::string_view where) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return false;
  if (!it->value().is_bool()) {
    return Status::InvalidArgument(std::string(where) + "." + std::string(name) + ": must be a boolean");
  }
  return it->value().get_bool();
}

Result<std::optional<uint32_t>> UintField(const json::object& o, std::string_view name,
                                          std::string_view where) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<uint32_t>();
  const json::value& v = it->value();
  if (v.is_uint64() && v.get_uint64() <= UINT32_MAX) return std::optional<uint32_t>(v.get_uint64());
  if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() <= UINT32_MAX) {
    return std::optional<uint32_t>(static_cast<uint32_t>(v.get_int64()));
  }
  return Status::InvalidArgument(std::string(where) + "." + std::string(name) +
                                 ": must be a non-negative integer");
}

}  // namespace

Result<FeedFormat> FeedFormatFromSpec(const json::value& spec) {
  FeedFormat out;
  if (!spec.is_object()) return Status::InvalidArgument("spec: must be an object");
  const json::object* pull = Member(spec.get_object(), "pull");
  const json::object* http = pull ? Member(*pull, "http") : nullptr;
  const json::object* format = http ? Member(*http, "format") : nullptr;
  if (format == nullptr) return out;
  if (const json::object* j = Member(*format, "json")) {
    out.kind = FeedFormat::Kind::kJson;
    TW_ASSIGN_OR_RETURN(out.json_path, StringField(*j, "path", "spec.pull.http.format.json", ""));
    return out;
  }
  if (const json::object* c = Member(*format, "csv")) {
    constexpr std::string_view kWhere = "spec.pull.http.format.csv";
    out.kind = FeedFormat::Kind::kCsv;
    TW_ASSIGN_OR_RETURN(out.csv.field_num, UintField(*c, "fieldNum", kWhere));
    TW_ASSIGN_OR_RETURN(out.csv.field_name, StringField(*c, "fieldName", kWhere, ""));
    TW_ASSIGN_OR_RETURN(out.csv.header, BoolField(*c, "header", kWhere));
    TW_ASSIGN_OR_RETURN(out.csv.column_delimiter, StringField(*c, "columnDelimiter", kWhere, ","));
    if (out.csv.column_delimiter.empty()) out.csv.column_delimiter = ",";
    TW_ASSIGN_OR_RETURN(out.csv.comment_delimiter, StringField(*c, "commentDelimiter", kWhere, ""));
    TW_ASSIGN_OR_RETURN(auto record_size, UintField(*c, "recordSize", kWhere));
    out.csv.record_size = record_size.value_or(0);
    TW_ASSIGN_OR_RETURN(out.csv.disable_record_size_validation,
                        BoolField(*c, "disableRecordSizeValidation", kWhere));
  }
  return out;
}

Result<Content> ContentFromSpec(const json::value& spec) {
  if (!spec.is_object()) return Status::InvalidArgument("spec: must be an object");
  TW_ASSIGN_OR_RETURN(std::string c, StringField(spec.get_object(), "content", "spec", "IPSet"));
  if (c == "IPSet" || c.empty()) return Content::kIPSet;
  if (c == "DomainNameSet") return Content::kDomainNameSet;
  return Status::InvalidArgument("spec.content: must be IPSet or DomainNameSet, got '" + c + "'");
}

}  // namespace tw::feeds
