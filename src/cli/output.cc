#include "cli/output.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/strings.h"
#include "model/jsonpath.h"
#include "model/table.h"

namespace tw::cli {

namespace json = boost::json;

std::string RenderTable(const TextTable& table) {
  size_t ncols = table.header.size();
  for (const auto& row : table.rows) ncols = std::max(ncols, row.size());
  std::vector<size_t> width(ncols, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(table.header);
  for (const auto& row : table.rows) measure(row);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < ncols; ++i) {
      std::string_view cell = i < row.size() ? std::string_view(row[i]) : std::string_view();
      line += cell;
      if (i + 1 < ncols) line += std::string(width[i] - cell.size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  if (!table.header.empty()) emit(table.header);
  for (const auto& row : table.rows) emit(row);
  return out;
}

std::string CellText(const json::value& cell) {
  switch (cell.kind()) {
    case json::kind::null: return "<none>";
    case json::kind::string: return std::string(cell.as_string());
    case json::kind::bool_: return cell.as_bool() ? "true" : "false";
    case json::kind::int64: return std::to_string(cell.as_int64());
    case json::kind::uint64: return std::to_string(cell.as_uint64());
    case json::kind::double_: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), cell.as_double());
      return ec == std::errc() ? std::string(buf, end) : json::serialize(cell);
    }
    case json::kind::array: {
      std::vector<std::string> parts;
      for (const auto& v : cell.as_array()) parts.push_back(CellText(v));
      return Join(parts, ",");
    }
    case json::kind::object: return json::serialize(cell);
  }
  return "";
}

namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string MetadataField(const json::value* object, std::string_view field) {
  if (object == nullptr || !object->is_object()) return "";
  const json::value* md = object->as_object().if_contains("metadata");
  if (md == nullptr || !md->is_object()) return "";
  const json::value* v = md->as_object().if_contains(field);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

void AddRow(std::vector<std::string> cells, const std::string& ns, const TableOptions& options, size_t name_index,
            TextTable* out) {
  if (options.name_prefix.size() > 0 && name_index < cells.size()) {
    cells[name_index] = options.name_prefix + cells[name_index];
  }
  if (options.with_namespace) cells.insert(cells.begin(), ns);
  out->rows.push_back(std::move(cells));
}

}  // namespace

Status AppendApiTable(const json::value& table, const TableOptions& options, TextTable* out) {
  if (!table.is_object() || !table.as_object().contains("columnDefinitions")) {
    return Status::InvalidArgument("server response is not a meta.k8s.io/v1 Table");
  }
  const json::value& defs = table.as_object().at("columnDefinitions");
  if (!defs.is_array()) return Status::InvalidArgument("Table.columnDefinitions: must be a list");
  std::vector<size_t> shown;
  std::vector<std::string> header;
  size_t name_index = 0;
  for (size_t i = 0; i < defs.as_array().size(); ++i) {
    const json::value& d = defs.as_array()[i];
    if (!d.is_object()) continue;
    const json::value* prio = d.as_object().if_contains("priority");
    int64_t p = prio != nullptr && prio->is_int64() ? prio->as_int64() : 0;
    if (p > 0 && !options.wide) continue;
    const json::value* name = d.as_object().if_contains("name");
    std::string n = name != nullptr && name->is_string() ? std::string(name->as_string()) : "";
    const json::value* format = d.as_object().if_contains("format");
    if (format != nullptr && format->is_string() && format->as_string() == "name") name_index = shown.size();
    shown.push_back(i);
    header.push_back(Upper(n));
  }
  if (options.with_namespace) header.insert(header.begin(), "NAMESPACE");
  if (out->header.empty()) out->header = std::move(header);
  const json::value* rows = table.as_object().if_contains("rows");
  if (rows == nullptr || !rows->is_array()) return Status::Ok();
  for (const auto& row : rows->as_array()) {
    if (!row.is_object()) continue;
    const json::value* cells = row.as_object().if_contains("cells");
    std::vector<std::string> texts;
    for (size_t i : shown) {
      const json::value* c = cells != nullptr && cells->is_array() && i < cells->as_array().size()
                                 ? &cells->as_array()[i]
                                 : nullptr;
      texts.push_back(c != nullptr ? CellText(*c) : "<none>");
    }
    std::string ns = MetadataField(row.as_object().if_contains("object"), "namespace");
    if (ns.empty()) ns = options.default_namespace;
    AddRow(std::move(texts), ns, options, name_index, out);
  }
  return Status::Ok();
}

void AppendObjectRows(const model::KindInfo& kind, const std::vector<json::object>& objects,
                      const TableOptions& options, std::chrono::system_clock::time_point now, TextTable* out) {
  std::vector<model::TableColumn> columns = model::TableColumns(kind);
  std::vector<size_t> shown;
  std::vector<std::string> header;
  size_t name_index = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].priority > 0 && !options.wide) continue;
    if (columns[i].format == "name") name_index = shown.size();
    shown.push_back(i);
    header.push_back(Upper(columns[i].name));
  }
  if (options.with_namespace) header.insert(header.begin(), "NAMESPACE");
  if (out->header.empty()) out->header = std::move(header);
  for (const auto& object : objects) {
    json::array cells = model::TableCells(kind, object, now);
    std::vector<std::string> texts;
    for (size_t i : shown) texts.push_back(i < cells.size() ? CellText(cells[i]) : "<none>");
    json::value wrapped = object;
    std::string ns = MetadataField(&wrapped, "namespace");
    AddRow(std::move(texts), ns, options, name_index, out);
  }
}

std::string KindDotGroup(const model::KindInfo& kind) {
  std::string out = ToLower(kind.kind);
  if (!kind.group.empty()) out += "." + std::string(kind.group);
  return out;
}

std::string ObjectRef(const model::KindInfo& kind, std::string_view name) {
  return KindDotGroup(kind) + "/" + std::string(name);
}

json::value MakeList(std::vector<json::object> items) {
  json::array arr;
  for (auto& item : items) arr.emplace_back(std::move(item));
  return json::object{{"apiVersion", "v1"},
                      {"items", std::move(arr)},
                      {"kind", "List"},
                      {"metadata", json::object{{"resourceVersion", ""}}}};
}

std::string HumanizeKey(std::string_view key) {
  // Words split at lower->upper and at acronym ends ("HTTPHeader" ->
  // "HTTP Header"); a few acronyms are written as kubectl does.
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool upper = std::isupper(static_cast<unsigned char>(c)) != 0;
    if (!cur.empty() && upper) {
      bool prev_lower = std::islower(static_cast<unsigned char>(cur.back())) != 0 ||
                        std::isdigit(static_cast<unsigned char>(cur.back())) != 0;
      bool next_lower = i + 1 < key.size() && std::islower(static_cast<unsigned char>(key[i + 1])) != 0;
      if (prev_lower || next_lower) {
        words.push_back(cur);
        cur.clear();
      }
    }
    if (c == '_' || c == '-' || c == ' ') {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!cur.empty()) words.push_back(cur);
  static const char* const kAcronyms[] = {"api", "url", "uid", "id", "ip", "cidr", "http", "https", "dns",
                                          "tcp", "udp", "icmp", "ipv4", "ipv6", "json", "csv", "tls"};
  std::string out;
  for (auto& w : words) {
    std::string lower = ToLower(w);
    bool acronym = std::any_of(std::begin(kAcronyms), std::end(kAcronyms), [&](const char* a) { return lower == a; });
    if (acronym) {
      for (char& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else {
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    }
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

namespace {

// Lines of "LEFT\tRIGHT"; consecutive lines with a tab are aligned like
// kubectl's tabwriter (padding 2).
class TabText {
 public:
  void Line(int level, const std::string& left, const std::string& right) {
    lines_.push_back({std::string(level * 2, ' ') + left, right, true});
  }
  void Plain(int level, const std::string& text) { lines_.push_back({std::string(level * 2, ' ') + text, "", false}); }

  std::string Render() const {
    std::string out;
    size_t i = 0;
    while (i < lines_.size()) {
      if (!lines_[i].tabbed) {
        out += lines_[i].left + "\n";
        ++i;
        continue;
      }
      size_t j = i;
      size_t width = 0;
      while (j < lines_.size() && lines_[j].tabbed) width = std::max(width, lines_[j++].left.size());
      for (; i < j; ++i) {
        std::string line = lines_[i].left + std::string(width - lines_[i].left.size() + 2, ' ') + lines_[i].right;
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
      }
    }
    return out;
  }

 private:
  struct L {
    std::string left;
    std::string right;
    bool tabbed;
  };
  std::vector<L> lines_;
};

std::string ScalarText(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "<nil>";
  return json::serialize(v);
}

void DescribeValue(TabText& w, int level, const std::string& label, const json::value& v);

// Keys sorted, as kubectl prints unstructured content.
void DescribeObject(TabText& w, int level, const json::object& o) {
  std::vector<std::string_view> keys;
  for (const auto& [key, unused] : o) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (auto key : keys) DescribeValue(w, level, HumanizeKey(key), o.at(key));
}

void DescribeValue(TabText& w, int level, const std::string& label, const json::value& v) {
  if (v.is_object()) {
    if (v.as_object().empty()) {
      w.Plain(level, label + ":");
      return;
    }
    w.Plain(level, label + ":");
    DescribeObject(w, level + 1, v.as_object());
  } else if (v.is_array()) {
    w.Plain(level, label + ":");
    for (const auto& item : v.as_array()) {
      if (item.is_object()) {
        DescribeObject(w, level + 1, item.as_object());
      } else if (item.is_array()) {
        DescribeValue(w, level + 1, "-", item);
      } else {
        w.Plain(level + 1, ScalarText(item));
      }
    }
  } else {
    w.Line(level, label + ":", ScalarText(v));
  }
}

// kubectl prints maps (labels/annotations) one per line, sorted.
void DescribeMap(TabText& w, const std::string& label, const json::value* v, char sep,
                 std::string_view skip = "") {
  std::vector<std::string> entries;
  if (v != nullptr && v->is_object()) {
    for (const auto& [key, value] : v->as_object()) {
      if (key == skip) continue;
      entries.push_back(std::string(key) + sep + (sep == ':' ? " " : "") + ScalarText(value));
    }
  }
  std::sort(entries.begin(), entries.end());
  if (entries.empty()) {
    w.Line(0, label + ":", "<none>");
    return;
  }
  for (size_t i = 0; i < entries.size(); ++i) w.Line(0, i == 0 ? label + ":" : "", entries[i]);
}

}  // namespace

std::string Describe(const json::object& object) {
  TabText w;
  const json::value* md_value = object.if_contains("metadata");
  json::object md = md_value != nullptr && md_value->is_object() ? md_value->as_object() : json::object();
  auto field = [&](std::string_view k) {
    const json::value* v = md.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  w.Line(0, "Name:", field("name"));
  w.Line(0, "Namespace:", field("namespace"));
  DescribeMap(w, "Labels", md.if_contains("labels"), '=');
  DescribeMap(w, "Annotations", md.if_contains("annotations"), ':', "kubectl.kubernetes.io/last-applied-configuration");
  const json::value* api_version = object.if_contains("apiVersion");
  const json::value* kind = object.if_contains("kind");
  w.Line(0, "API Version:", api_version != nullptr ? ScalarText(*api_version) : "");
  w.Line(0, "Kind:", kind != nullptr ? ScalarText(*kind) : "");
  json::object rest_md;
  for (const auto& [key, value] : md) {
    if (key == "name" || key == "namespace" || key == "labels" || key == "annotations" || key == "managedFields") {
      continue;
    }
    rest_md[key] = value;
  }
  if (!rest_md.empty()) DescribeValue(w, 0, "Metadata", rest_md);
  for (const auto& [key, value] : object) {
    if (key == "apiVersion" || key == "kind" || key == "metadata") continue;
    DescribeValue(w, 0, HumanizeKey(key), value);
  }
  w.Line(0, "Events:", "<none>");
  return w.Render();
}

Result<std::string> RenderJsonPathTemplate(std::string_view tmpl, const json::value& root) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] != '{') {
      out.push_back(tmpl[i++]);
      continue;
    }
    size_t close = tmpl.find('}', i);
    if (close == std::string_view::npos)
      return Status::InvalidArgument("unclosed '{' at column " + std::to_string(i + 1));
    std::string_view expr = TrimSpace(tmpl.substr(i + 1, close - i - 1));
    i = close + 1;
    if (expr.size() >= 2 && expr.front() == '"' && expr.back() == '"') {
      std::string_view lit = expr.substr(1, expr.size() - 2);
      for (size_t k = 0; k < lit.size(); ++k) {
        if (lit[k] == '\\' && k + 1 < lit.size()) {
          char c = lit[++k];
          out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c);
        } else {
          out.push_back(lit[k]);
        }
      }
      continue;
    }
    std::string path(expr);
    if (path.empty() || path == ".") {
      path = "$";
    } else if (path.front() == '.' || path.front() == '[') {
      path = "$" + path;
    }
    auto compiled = model::JsonPath::Compile(path);
    if (!compiled.ok()) return Status::InvalidArgument(std::string(expr) + ": " + compiled.error().message());
    bool first = true;
    for (const json::value* v : compiled->Evaluate(root)) {
      if (!first) out.push_back(' ');
      first = false;
      out += v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
    }
  }
  return out;
}

}  // namespace tw::cli
