#include "logstore/log_tables.h"

#include <cmath>
#include <utility>

namespace tw::logstore {

namespace json = boost::json;

namespace {

TableSpec MakeFlowTable() {
  TableSpec t;
  t.table = "flows";
  t.what = "flow log";
  t.time_fields = {"end_time", "start_time"};
  for (std::string_view f : {"action", "reporter", "proto", "source_ip", "source_namespace", "source_name",
                             "dest_ip", "dest_namespace", "dest_name", "dest_port"}) {
    t.columns.push_back({f, f, Source::kField});
  }
  t.columns.push_back({"policies", "", Source::kPolicies});
  t.sides = {{"source_namespace", "source_name"}, {"dest_namespace", "dest_name"}};
  t.namespace_filter = true;
  t.substring_column = "policies";
  return t;
}

TableSpec MakeDnsTable() {
  TableSpec t;
  t.table = "dns";
  t.what = "DNS log";
  t.time_fields = {"end_time", "start_time"};
  for (std::string_view f : {"qname", "qtype", "rcode", "client_ip", "client_namespace", "client_name"}) {
    t.columns.push_back({f, f, Source::kField});
  }
  t.sides = {{"client_namespace", "client_name"}};
  return t;
}

TableSpec MakeEventTable() {
  TableSpec t;
  t.table = "events";
  t.what = "event";
  t.time_fields = {"time"};
  for (std::string_view f : {"type", "origin", "source_ip", "source_namespace", "source_name", "dest_ip",
                             "dest_namespace", "dest_name"}) {
    t.columns.push_back({f, f, Source::kField});
  }
  t.columns.push_back({"feeds", "", Source::kFeeds});
  t.sides = {{"source_namespace", "source_name"}, {"dest_namespace", "dest_name"}};
  t.is_events = true;
  return t;
}

// One index per log table, ordered by (time, id) as every query is, that
// also carries every filter column: a filtered query walks this narrow
// index newest first, tests the filters on it, and reads the row (with its
// document) only for a match, so a scan reads ~1/6 of the bytes.  Indexes
// on the pod columns (random insert positions) made appends twice as slow;
// this one grows at its end like the table.
const char* const kIndexes = R"sql(
CREATE INDEX flows_time ON flows(time, id, action, reporter, proto, source_ip, source_namespace, source_name,
                                 dest_ip, dest_namespace, dest_name, dest_port, policies);
CREATE INDEX dns_time ON dns(time, id, qname, qtype, rcode, client_ip, client_namespace, client_name);
CREATE INDEX events_time ON events(time);
)sql";

std::string TableSql(const TableSpec& spec) {
  std::string sql = "CREATE TABLE " + std::string(spec.table) +
                    "(id INTEGER PRIMARY KEY, time INTEGER NOT NULL";
  if (spec.is_events) sql += ", event_id TEXT NOT NULL UNIQUE, dismissed INTEGER NOT NULL DEFAULT 0";
  for (const ColumnSpec& c : spec.columns) sql += ", " + std::string(c.column) + " TEXT";
  sql += ", doc TEXT NOT NULL);\n";
  return sql;
}

// A scalar as the text filters compare with, into `out`; false (NULL) for
// null, absent, arrays and objects.
bool ScalarText(const json::value* v, std::string& out) {
  if (v == nullptr) return false;
  switch (v->kind()) {
    case json::kind::string:
      out.assign(v->get_string().data(), v->get_string().size());
      return true;
    case json::kind::int64:
      out = std::to_string(v->get_int64());
      return true;
    case json::kind::uint64:
      out = std::to_string(v->get_uint64());
      return true;
    case json::kind::double_: {
      double d = v->get_double();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9e15) {
        out = std::to_string(static_cast<int64_t>(d));
      } else {
        out = json::serialize(*v);
      }
      return true;
    }
    case json::kind::bool_:
      out = v->get_bool() ? "true" : "false";
      return true;
    default:
      return false;
  }
}

// "\na\nb\n" from the strings of array `v`, into `out`; false if not an
// array.
bool JoinedStrings(const json::value* v, std::string& out) {
  if (v == nullptr || !v->is_array()) return false;
  out.assign(1, '\n');
  for (const json::value& e : v->get_array()) {
    if (!e.is_string()) continue;
    out.append(e.get_string().data(), e.get_string().size());
    out += '\n';
  }
  return true;
}

const json::value* Member(const json::object& obj, std::string_view key) { return obj.if_contains(key); }

const json::value* Nested(const json::object& obj, std::string_view outer, std::string_view inner) {
  const json::value* o = obj.if_contains(outer);
  if (o == nullptr || !o->is_object()) return nullptr;
  return o->get_object().if_contains(inner);
}

std::optional<int64_t> TimeValueMs(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return v.get_int64() * 1000;
    case json::kind::uint64:
      return static_cast<int64_t>(v.get_uint64()) * 1000;
    case json::kind::double_:
      if (!std::isfinite(v.get_double())) return std::nullopt;
      return static_cast<int64_t>(std::floor(v.get_double() * 1000));
    case json::kind::string:
      if (auto t = ParseRfc3339(std::string_view(v.get_string()))) return ToMs(*t);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// The field names a query on `spec` accepts, for error messages.
std::string KnownFields(const TableSpec& spec) {
  std::vector<std::string> names;
  if (spec.is_events) names.push_back("id");
  for (const ColumnSpec& c : spec.columns) {
    if (c.source == Source::kField) names.emplace_back(c.column);
  }
  if (!spec.sides.empty()) names.push_back("pod");
  if (spec.namespace_filter) names.push_back("namespace");
  if (spec.substring_column) names.push_back("policy");
  if (spec.is_events) {
    names.push_back("dismissed");
    names.push_back("feed");
  }
  return Join(names, ", ");
}

// Builds the WHERE conditions; one method per kind of filter.
class FilterBuilder {
 public:
  explicit FilterBuilder(const TableSpec& spec) : spec_(spec) {}

  Status Add(const std::string& field, const std::string& value) {
    if (spec_.is_events && field == "id") return Equal("event_id", value);
    if (spec_.is_events && field == "dismissed") return Dismissed(value);
    if (spec_.is_events && field == "feed") return Contains(field, "feeds", value);
    if (spec_.substring_column && field == "policy") return Contains(field, *spec_.substring_column, value);
    if (!spec_.sides.empty() && field == "pod") return Pod(value);
    if (spec_.namespace_filter && field == "namespace") return Namespace(value);
    for (const ColumnSpec& c : spec_.columns) {
      if (c.source == Source::kField && c.column == field) return Equal(c.column, value);
    }
    return Bad(field, "unknown field (known: " + KnownFields(spec_) + ")");
  }

  std::vector<std::string> conditions;
  std::vector<std::string> binds;

 private:
  std::string Param(std::string value) {
    binds.push_back(std::move(value));
    return "?" + std::to_string(binds.size() + kFirstFilterParam - 1);
  }

  Status Equal(std::string_view column, const std::string& value) {
    conditions.push_back(std::string(column) + " = " + Param(value));
    return Status::Ok();
  }

  Status Dismissed(const std::string& value) {
    if (value != "true" && value != "false") return Bad("dismissed", "\"" + value + "\": must be true or false");
    conditions.push_back(std::string("dismissed = ") + (value == "true" ? "1" : "0"));
    return Status::Ok();
  }

  Status Contains(const std::string& field, std::string_view column, const std::string& value) {
    if (value.empty()) return Bad(field, "must not be empty");
    if (value.find('\n') != std::string::npos) return Bad(field, "must not contain a newline");
    // feed names are whole entries; policy is a substring of one entry.
    std::string needle = field == "feed" ? "\n" + value + "\n" : value;
    conditions.push_back("instr(" + std::string(column) + ", " + Param(std::move(needle)) + ") > 0");
    return Status::Ok();
  }

  Status Pod(const std::string& value) {
    size_t slash = value.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == value.size() ||
        value.find('/', slash + 1) != std::string::npos) {
      return Bad("pod", "\"" + value + "\": must be NAMESPACE/NAME");
    }
    std::string ns = Param(value.substr(0, slash));
    std::string name = Param(value.substr(slash + 1));
    std::vector<std::string> alternatives;
    for (const Side& s : spec_.sides) {
      alternatives.push_back("(" + std::string(s.ns_column) + " = " + ns + " AND " + std::string(s.name_column) +
                             " = " + name + ")");
    }
    conditions.push_back("(" + Join(alternatives, " OR ") + ")");
    return Status::Ok();
  }

  Status Namespace(const std::string& value) {
    std::string ns = Param(value);
    std::vector<std::string> alternatives;
    for (const Side& s : spec_.sides) alternatives.push_back(std::string(s.ns_column) + " = " + ns);
    conditions.push_back("(" + Join(alternatives, " OR ") + ")");
    return Status::Ok();
  }

  Status Bad(const std::string& field, const std::string& reason) const {
    return Status::InvalidArgument(std::string(spec_.what) + " query: where." + field + ": " + reason);
  }

 public:
  // ?1 since, ?2 until, ?3 limit; filters from ?4.
  static constexpr int kFirstFilterParam = 4;

 private:
  const TableSpec& spec_;
};

}  // namespace

const TableSpec& FlowTable() {
  static const TableSpec* t = new TableSpec(MakeFlowTable());
  return *t;
}

const TableSpec& DnsTable() {
  static const TableSpec* t = new TableSpec(MakeDnsTable());
  return *t;
}

const TableSpec& EventTable() {
  static const TableSpec* t = new TableSpec(MakeEventTable());
  return *t;
}

std::string SchemaSql() {
  return TableSql(FlowTable()) + TableSql(DnsTable()) + TableSql(EventTable()) + kIndexes;
}

void ExtractColumns(const TableSpec& spec, const json::object& doc, ColumnValues& out) {
  out.text.resize(spec.columns.size());
  out.present.assign(spec.columns.size(), false);
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    const ColumnSpec& c = spec.columns[i];
    switch (c.source) {
      case Source::kField:
        out.present[i] = ScalarText(Member(doc, c.json_field), out.text[i]);
        break;
      case Source::kPolicies:
        out.present[i] = JoinedStrings(Nested(doc, "policies", "all_policies"), out.text[i]);
        break;
      case Source::kFeeds:
        out.present[i] = JoinedStrings(Nested(doc, "record", "feeds"), out.text[i]);
        break;
    }
  }
}

std::optional<int64_t> ExtractTimeMs(const TableSpec& spec, const json::object& doc) {
  for (std::string_view f : spec.time_fields) {
    const json::value* v = Member(doc, f);
    if (v == nullptr || v->is_null()) continue;
    if (auto ms = TimeValueMs(*v)) return ms;
  }
  return std::nullopt;
}

std::string InsertSql(const TableSpec& spec) {
  std::string cols = "time";
  std::string params = "?1";
  int n = 1;
  auto add = [&](std::string_view column) {
    cols += ", " + std::string(column);
    params += ", ?" + std::to_string(++n);
  };
  if (spec.is_events) add("event_id");
  for (const ColumnSpec& c : spec.columns) add(c.column);
  add("doc");
  std::string sql = "INSERT INTO " + std::string(spec.table) + "(" + cols + ") VALUES (" + params + ")";
  if (spec.is_events) sql += " ON CONFLICT(event_id) DO NOTHING";
  return sql;
}

Result<SelectSql> BuildQuery(const TableSpec& spec, const LogQuery& query) {
  if (query.limit < 1 || query.limit > kMaxQueryLimit) {
    return Status::InvalidArgument(std::string(spec.what) + " query: limit: " + std::to_string(query.limit) +
                                   ": must be between 1 and " + std::to_string(kMaxQueryLimit));
  }
  FilterBuilder filters(spec);
  for (const auto& [field, value] : query.where) TW_RETURN_IF_ERROR(filters.Add(field, value));

  SelectSql out;
  out.sql = "SELECT doc";
  if (spec.is_events) out.sql += ", dismissed";
  out.sql += " FROM " + std::string(spec.table) + " WHERE time >= ?1 AND time < ?2";
  for (const std::string& c : filters.conditions) out.sql += " AND " + c;
  out.sql += " ORDER BY time DESC, id DESC LIMIT ?3";
  out.binds = std::move(filters.binds);
  return out;
}

int64_t ToMs(TimePoint t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace tw::logstore
