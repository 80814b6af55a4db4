#include "model/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "base/clock.h"
#include "model/codec.h"
#include "model/validators.h"

namespace tw::model {
namespace {

namespace json = boost::json;
using TimePoint = std::chrono::system_clock::time_point;

constexpr std::string_view kNone = "<none>";

// ---------------------------------------------------------------------------
// Reading fields leniently: a field of an unexpected type reads as missing.

const json::value* Field(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::object* cur = &o;
  const json::value* v = nullptr;
  for (std::string_view key : path) {
    if (cur == nullptr) return nullptr;
    v = cur->if_contains(key);
    if (v == nullptr) return nullptr;
    cur = v->if_object();
  }
  return v;
}

const json::object* ObjectField(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = Field(o, path);
  return v ? v->if_object() : nullptr;
}

const json::array* ArrayField(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = Field(o, path);
  return v ? v->if_array() : nullptr;
}

std::string_view StringField(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = Field(o, path);
  if (v == nullptr || !v->is_string()) return {};
  return std::string_view(v->get_string().data(), v->get_string().size());
}

int64_t IntField(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = Field(o, path);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return 0;
}

bool BoolField(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = Field(o, path);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// A string or number field as text; "<none>" when missing or empty.
json::value TextCell(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = Field(o, path);
  if (v == nullptr || v->is_null() || v->is_object() || v->is_array()) return json::value(kNone);
  std::string s = ScalarToString(*v);
  if (s.empty()) return json::value(kNone);
  return json::value(s);
}

json::value CountCell(const json::value* v) {
  if (v == nullptr) return int64_t{0};
  if (const json::array* a = v->if_array()) return static_cast<int64_t>(a->size());
  if (const json::object* m = v->if_object()) return static_cast<int64_t>(m->size());
  return int64_t{0};
}

// RFC 3339 ("2026-11-27T21:23:06Z", "...06.123+01:00").
// kubectl's translateTimestampSince.
json::value AgeOf(std::string_view timestamp, TimePoint now, std::string_view missing) {
  auto t = ParseRfc3339(timestamp);
  if (!t) return json::value(missing);
  return json::value(FormatAge(now - *t));
}

json::value AgeCell(const json::object& o, TimePoint now) {
  return AgeOf(StringField(o, {"metadata", "creationTimestamp"}), now, "<unknown>");
}

json::value NameCell(const json::object& o) {
  return json::value(StringField(o, {"metadata", "name"}));
}

// ---------------------------------------------------------------------------
// Column sets.

TableColumn NameColumn() {
  return {"Name", "string", "name",
          "Name must be unique within a namespace. Cannot be updated.", 0};
}
TableColumn AgeColumn() {
  return {"Age", "string", "",
          "CreationTimestamp is a timestamp representing the server time when this object was created.", 0};
}
TableColumn Col(std::string name, std::string type, std::string description, int priority = 0) {
  return {std::move(name), std::move(type), "", std::move(description), priority};
}

enum class Shape {
  kPod, kNamespace, kSecret, kConfigMap, kK8sNetworkPolicy, kThreatFeed, kNetworkSet, kTier,
  kCalicoPolicy, kIPPool, kWebhook, kGeneric,
};

Shape ShapeOf(const KindInfo& kind) {
  std::string_view k = kind.kind;
  if (kind.group.empty()) {
    if (k == "Pod") return Shape::kPod;
    if (k == "Namespace") return Shape::kNamespace;
    if (k == "Secret") return Shape::kSecret;
    if (k == "ConfigMap") return Shape::kConfigMap;
    return Shape::kGeneric;
  }
  if (kind.group == "networking.k8s.io") return k == "NetworkPolicy" ? Shape::kK8sNetworkPolicy : Shape::kGeneric;
  if (k == "GlobalThreatFeed") return Shape::kThreatFeed;
  if (k == "GlobalNetworkSet" || k == "NetworkSet") return Shape::kNetworkSet;
  if (k == "Tier") return Shape::kTier;
  if (k == "GlobalNetworkPolicy" || k == "StagedGlobalNetworkPolicy" || k == "NetworkPolicy")
    return Shape::kCalicoPolicy;
  if (k == "IPPool") return Shape::kIPPool;
  if (k == "SecurityEventWebhook") return Shape::kWebhook;
  return Shape::kGeneric;
}

// ---------------------------------------------------------------------------
// Pods (a reduced kubectl printPod).

void PodCells(const json::object& pod, TimePoint now, json::array& cells) {
  const json::array* containers = ArrayField(pod, {"spec", "containers"});
  int64_t total = containers ? static_cast<int64_t>(containers->size()) : 0;
  int64_t ready = 0, restarts = 0;
  std::optional<TimePoint> last_restart;
  std::string reason(StringField(pod, {"status", "phase"}));
  if (std::string_view r = StringField(pod, {"status", "reason"}); !r.empty()) reason = r;

  auto note_restart = [&](const json::object& cs) {
    restarts += IntField(cs, {"restartCount"});
    if (auto t = ParseRfc3339(StringField(cs, {"lastState", "terminated", "finishedAt"}))) {
      if (!last_restart || *t > *last_restart) last_restart = t;
    }
  };

  bool initializing = false;
  if (const json::array* inits = ArrayField(pod, {"status", "initContainerStatuses"})) {
    const json::array* specs = ArrayField(pod, {"spec", "initContainers"});
    size_t n = specs ? specs->size() : inits->size();
    for (size_t i = 0; i < inits->size(); ++i) {
      const json::object* cs = (*inits)[i].if_object();
      if (cs == nullptr) continue;
      note_restart(*cs);
      if (const json::object* term = ObjectField(*cs, {"state", "terminated"})) {
        if (IntField(*term, {"exitCode"}) == 0) continue;
        initializing = true;
        std::string_view r = StringField(*term, {"reason"});
        if (!r.empty()) {
          reason = "Init:" + std::string(r);
        } else if (int64_t sig = IntField(*term, {"signal"})) {
          reason = fmt::format("Init:Signal:{}", sig);
        } else {
          reason = fmt::format("Init:ExitCode:{}", IntField(*term, {"exitCode"}));
        }
      } else {
        std::string_view w = StringField(*cs, {"state", "waiting", "reason"});
        initializing = true;
        if (!w.empty() && w != "PodInitializing") {
          reason = "Init:" + std::string(w);
        } else {
          reason = fmt::format("Init:{}/{}", i, n);
        }
      }
      break;
    }
  }
  if (!initializing) {
    bool has_running = false;
    if (const json::array* statuses = ArrayField(pod, {"status", "containerStatuses"})) {
      for (auto it = statuses->rbegin(); it != statuses->rend(); ++it) {
        const json::object* cs = it->if_object();
        if (cs == nullptr) continue;
        note_restart(*cs);
        std::string_view waiting = StringField(*cs, {"state", "waiting", "reason"});
        const json::object* term = ObjectField(*cs, {"state", "terminated"});
        if (!waiting.empty()) {
          reason = waiting;
        } else if (term != nullptr && !StringField(*term, {"reason"}).empty()) {
          reason = StringField(*term, {"reason"});
        } else if (term != nullptr) {
          int64_t sig = IntField(*term, {"signal"});
          reason = sig ? fmt::format("Signal:{}", sig) : fmt::format("ExitCode:{}", IntField(*term, {"exitCode"}));
        } else if (BoolField(*cs, {"ready"}) && ObjectField(*cs, {"state", "running"}) != nullptr) {
          has_running = true;
          ++ready;
        }
      }
    }
    if (reason == "Completed" && has_running) reason = "Running";
  }
  if (!StringField(pod, {"metadata", "deletionTimestamp"}).empty())
    reason = StringField(pod, {"status", "reason"}) == "NodeLost" ? "Unknown" : "Terminating";
  if (reason.empty()) reason = "Pending";

  std::string restarts_text = std::to_string(restarts);
  if (restarts > 0 && last_restart) restarts_text += " (" + FormatAge(now - *last_restart) + " ago)";

  cells.push_back(NameCell(pod));
  cells.push_back(json::value(fmt::format("{}/{}", ready, total)));
  cells.push_back(json::value(reason));
  cells.push_back(json::value(restarts_text));
  cells.push_back(AgeCell(pod, now));
  cells.push_back(TextCell(pod, {"status", "podIP"}));
  cells.push_back(TextCell(pod, {"spec", "nodeName"}));
  cells.push_back(TextCell(pod, {"status", "nominatedNodeName"}));
  if (const json::array* gates = ArrayField(pod, {"spec", "readinessGates"}); gates && !gates->empty()) {
    // Gates whose condition is True.
    size_t true_gates = 0;
    const json::array* conds = ArrayField(pod, {"status", "conditions"});
    for (const json::value& g : *gates) {
      const json::object* go = g.if_object();
      if (go == nullptr || conds == nullptr) continue;
      std::string_view type = StringField(*go, {"conditionType"});
      for (const json::value& c : *conds) {
        const json::object* co = c.if_object();
        if (co && StringField(*co, {"type"}) == type && StringField(*co, {"status"}) == "True") ++true_gates;
      }
    }
    cells.push_back(json::value(fmt::format("{}/{}", true_gates, gates->size())));
  } else {
    cells.push_back(json::value(kNone));
  }
}

// ---------------------------------------------------------------------------
// Threat feeds.

json::value NextPullCell(const json::object& feed, TimePoint now) {
  if (ObjectField(feed, {"spec", "pull"}) == nullptr) return json::value(kNone);
  // The controller writes when it will pull next (retries included);
  // without it (no controller yet), estimate from the last sync.
  if (auto planned = ParseRfc3339(StringField(feed, {"status", "nextPull"}))) {
    if (*planned <= now) return json::value("due");
    return json::value("in " + FormatAge(*planned - now));
  }
  auto last = ParseRfc3339(StringField(feed, {"status", "lastSuccessfulSync"}));
  if (!last) return json::value(kNone);
  std::string_view period_text = StringField(feed, {"spec", "pull", "period"});
  int64_t period_ns = int64_t{24} * 3600 * 1000000000;
  if (!period_text.empty()) {
    auto p = ParseGoDuration(period_text);
    if (!p.ok() || *p <= 0) return json::value(kNone);
    period_ns = *p;
  }
  TimePoint next = *last + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::nanoseconds(period_ns));
  if (next <= now) return json::value("due");
  return json::value("in " + FormatAge(next - now));
}

json::value LastErrorCell(const json::object& feed) {
  const json::array* conds = ArrayField(feed, {"status", "errorConditions"});
  if (conds == nullptr || conds->empty()) return json::value(kNone);
  const json::object* last = conds->back().if_object();
  if (last == nullptr) return json::value(kNone);
  std::string_view msg = StringField(*last, {"message"});
  if (msg.empty()) return json::value(kNone);
  // One line per row: newlines would break the table.
  std::string one_line(msg);
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  return json::value(one_line);
}

}  // namespace

std::string FormatLabelSelector(const boost::json::value* selector) {
  const json::object* sel = selector ? selector->if_object() : nullptr;
  if (sel == nullptr) return std::string(kNone);
  // (key, text) pairs, sorted by key like labels.Selector.String().
  std::vector<std::pair<std::string, std::string>> reqs;
  if (const json::object* ml = ObjectField(*sel, {"matchLabels"})) {
    for (const auto& kv : *ml) {
      std::string key(kv.key());
      reqs.push_back({key, key + "=" + (kv.value().is_string() ? std::string(kv.value().get_string())
                                                                 : ScalarToString(kv.value()))});
    }
  }
  if (const json::array* exprs = ArrayField(*sel, {"matchExpressions"})) {
    for (const json::value& e : *exprs) {
      const json::object* eo = e.if_object();
      if (eo == nullptr) continue;
      std::string key(StringField(*eo, {"key"}));
      std::string_view op = StringField(*eo, {"operator"});
      std::vector<std::string> values;
      if (const json::array* vs = ArrayField(*eo, {"values"}))
        for (const json::value& v : *vs) values.push_back(v.is_string() ? std::string(v.get_string()) : ScalarToString(v));
      std::sort(values.begin(), values.end());
      std::string joined;
      for (size_t i = 0; i < values.size(); ++i) joined += (i ? "," : "") + values[i];
      if (op == "In") {
        reqs.push_back({key, key + " in (" + joined + ")"});
      } else if (op == "NotIn") {
        reqs.push_back({key, key + " notin (" + joined + ")"});
      } else if (op == "Exists") {
        reqs.push_back({key, key});
      } else if (op == "DoesNotExist") {
        reqs.push_back({key, "!" + key});
      } else {
        reqs.push_back({key, key + " " + std::string(op) + " (" + joined + ")"});
      }
    }
  }
  if (reqs.empty()) return std::string(kNone);
  std::stable_sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (size_t i = 0; i < reqs.size(); ++i) out += (i ? "," : "") + reqs[i].second;
  return out;
}

std::string FormatLabelMap(const boost::json::value* labels) {
  const json::object* m = labels ? labels->if_object() : nullptr;
  if (m == nullptr || m->empty()) return std::string(kNone);
  std::map<std::string, std::string> sorted;
  for (const auto& kv : *m)
    sorted[std::string(kv.key())] = kv.value().is_string() ? std::string(kv.value().get_string())
                                                           : ScalarToString(kv.value());
  std::string out;
  for (const auto& [k, v] : sorted) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

std::vector<TableColumn> TableColumns(const KindInfo& kind) {
  switch (ShapeOf(kind)) {
    case Shape::kPod:
      return {NameColumn(),
              Col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
              Col("Status", "string", "The aggregate status of the containers in this pod."),
              Col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
              AgeColumn(),
              Col("IP", "string", "IP address allocated to the pod.", 1),
              Col("Node", "string", "Name of the node this pod runs on.", 1),
              Col("Nominated Node", "string", "Name of the node where the pod is nominated to run.", 1),
              Col("Readiness Gates", "string", "Pod readiness gates that are True, of all gates.", 1)};
    case Shape::kNamespace:
      return {NameColumn(), Col("Status", "string", "The status of the namespace"), AgeColumn()};
    case Shape::kSecret:
      return {NameColumn(), Col("Type", "string", "The type of the secret"),
              Col("Data", "integer", "The number of entries in data"), AgeColumn()};
    case Shape::kConfigMap:
      return {NameColumn(), Col("Data", "integer", "The number of entries in data and binaryData"), AgeColumn()};
    case Shape::kK8sNetworkPolicy:
      return {NameColumn(), Col("Pod-Selector", "string", "The pods the policy applies to (spec.podSelector)."),
              AgeColumn()};
    case Shape::kThreatFeed:
      return {NameColumn(),
              Col("Content", "string", "IPSet or DomainNameSet (spec.content)."),
              Col("Mode", "string", "Enabled or Disabled (spec.mode)."),
              Col("Period", "string", "How often the feed is pulled (spec.pull.period)."),
              Col("Last-Sync", "string", "Time since the last successful pull (status.lastSuccessfulSync)."),
              AgeColumn(),
              Col("URL", "string", "Where the feed is pulled from (spec.pull.http.url).", 1),
              Col("Entries", "string", "Prefixes or domains in force from the last good pull (status.entries).", 1),
              Col("Next-Pull", "string", "When the next pull is due (status.nextPull).", 1),
              Col("Last-Error", "string", "The most recent error condition (status.errorConditions).", 1)};
    case Shape::kNetworkSet:
      return {NameColumn(), Col("Nets", "integer", "Number of entries in spec.nets."), AgeColumn(),
              Col("Labels", "string", "The set's labels (what policy selectors match).", 1)};
    case Shape::kTier:
      return {NameColumn(), Col("Order", "string", "Lower orders are evaluated first (spec.order)."),
              Col("Default-Action", "string", "What happens at the end of the tier (spec.defaultAction)."),
              AgeColumn()};
    case Shape::kCalicoPolicy:
      return {NameColumn(), Col("Tier", "string", "The tier of the policy (spec.tier)."),
              Col("Order", "string", "Lower orders are evaluated first within the tier (spec.order)."),
              Col("Selector", "string", "The endpoints the policy applies to (spec.selector)."), AgeColumn(),
              Col("Types", "string", "Ingress and/or Egress (spec.types).", 1)};
    case Shape::kIPPool:
      return {NameColumn(), Col("CIDR", "string", "The pool's address range (spec.cidr)."), AgeColumn()};
    case Shape::kWebhook:
      return {NameColumn(), Col("Consumer", "string", "Who receives the events (spec.consumer)."),
              Col("State", "string", "Enabled, Disabled or Debug (spec.state)."), AgeColumn()};
    case Shape::kGeneric:
      break;
  }
  return {NameColumn(), AgeColumn()};
}

boost::json::array TableCells(const KindInfo& kind, const boost::json::object& o,
                              std::chrono::system_clock::time_point now) {
  json::array cells;
  switch (ShapeOf(kind)) {
    case Shape::kPod:
      PodCells(o, now, cells);
      break;
    case Shape::kNamespace:
      cells = {NameCell(o), TextCell(o, {"status", "phase"}), AgeCell(o, now)};
      break;
    case Shape::kSecret:
      cells = {NameCell(o), TextCell(o, {"type"}), CountCell(Field(o, {"data"})), AgeCell(o, now)};
      break;
    case Shape::kConfigMap: {
      json::value data = CountCell(Field(o, {"data"}));
      int64_t n = data.get_int64() + CountCell(Field(o, {"binaryData"})).get_int64();
      cells = {NameCell(o), json::value(n), AgeCell(o, now)};
      break;
    }
    case Shape::kK8sNetworkPolicy:
      cells = {NameCell(o), json::value(FormatLabelSelector(Field(o, {"spec", "podSelector"}))), AgeCell(o, now)};
      break;
    case Shape::kThreatFeed: {
      json::value period = ObjectField(o, {"spec", "pull"}) ? TextCell(o, {"spec", "pull", "period"})
                                                             : json::value(kNone);
      cells = {NameCell(o),
               TextCell(o, {"spec", "content"}),
               TextCell(o, {"spec", "mode"}),
               period,
               AgeOf(StringField(o, {"status", "lastSuccessfulSync"}), now, kNone),
               AgeCell(o, now),
               TextCell(o, {"spec", "pull", "http", "url"}),
               TextCell(o, {"status", "entries"}),
               NextPullCell(o, now),
               LastErrorCell(o)};
      break;
    }
    case Shape::kNetworkSet:
      cells = {NameCell(o), CountCell(Field(o, {"spec", "nets"})), AgeCell(o, now),
               json::value(FormatLabelMap(Field(o, {"metadata", "labels"})))};
      break;
    case Shape::kTier:
      cells = {NameCell(o), TextCell(o, {"spec", "order"}), TextCell(o, {"spec", "defaultAction"}), AgeCell(o, now)};
      break;
    case Shape::kCalicoPolicy: {
      std::string types;
      if (const json::array* t = ArrayField(o, {"spec", "types"}))
        for (const json::value& v : *t)
          if (v.is_string()) types += (types.empty() ? "" : ",") + std::string(v.get_string());
      cells = {NameCell(o),
               TextCell(o, {"spec", "tier"}),
               TextCell(o, {"spec", "order"}),
               TextCell(o, {"spec", "selector"}),
               AgeCell(o, now),
               json::value(types.empty() ? std::string(kNone) : types)};
      break;
    }
    case Shape::kIPPool:
      cells = {NameCell(o), TextCell(o, {"spec", "cidr"}), AgeCell(o, now)};
      break;
    case Shape::kWebhook:
      cells = {NameCell(o), TextCell(o, {"spec", "consumer"}), TextCell(o, {"spec", "state"}), AgeCell(o, now)};
      break;
    case Shape::kGeneric:
      cells = {NameCell(o), AgeCell(o, now)};
      break;
  }
  return cells;
}

boost::json::object BuildTable(const KindInfo& kind, const std::vector<boost::json::object>& objects,
                               std::string_view resource_version, std::chrono::system_clock::time_point now,
                               IncludeObject include) {
  json::array columns;
  for (const TableColumn& c : TableColumns(kind)) {
    columns.push_back(json::object{{"name", c.name},
                                   {"type", c.type},
                                   {"format", c.format},
                                   {"description", c.description},
                                   {"priority", c.priority}});
  }
  json::array rows;
  rows.reserve(objects.size());
  for (const json::object& o : objects) {
    json::object row{{"cells", TableCells(kind, o, now)}};
    if (include == IncludeObject::kObject) {
      row["object"] = o;
    } else if (include == IncludeObject::kMetadata) {
      json::object partial{{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}};
      if (const json::object* md = ObjectField(o, {"metadata"})) partial["metadata"] = *md;
      row["object"] = std::move(partial);
    }
    rows.push_back(std::move(row));
  }
  json::object metadata;
  if (!resource_version.empty()) metadata["resourceVersion"] = resource_version;
  return json::object{{"kind", "Table"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", std::move(metadata)},
                      {"columnDefinitions", std::move(columns)},
                      {"rows", std::move(rows)}};
}

Result<std::string> PrintTable(const boost::json::value& table, const TablePrintOptions& options) {
  const json::object* t = table.if_object();
  if (t == nullptr || StringField(*t, {"kind"}) != "Table")
    return Status::InvalidArgument("not a meta.k8s.io/v1 Table");
  const json::array* defs = ArrayField(*t, {"columnDefinitions"});
  if (defs == nullptr) return Status::InvalidArgument("Table: columnDefinitions: must be a list");
  const json::array* rows = ArrayField(*t, {"rows"});

  std::vector<size_t> visible;  // indexes into the cells of each row
  std::vector<std::vector<std::string>> lines(1);
  if (options.with_namespace) lines[0].push_back("NAMESPACE");
  for (size_t i = 0; i < defs->size(); ++i) {
    const json::object* d = (*defs)[i].if_object();
    if (d == nullptr) return Status::InvalidArgument(fmt::format("Table: columnDefinitions[{}]: not an object", i));
    if (IntField(*d, {"priority"}) > 0 && !options.wide) continue;
    visible.push_back(i);
    std::string name(StringField(*d, {"name"}));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    lines[0].push_back(std::move(name));
  }
  if (rows != nullptr) {
    for (size_t r = 0; r < rows->size(); ++r) {
      const json::object* row = (*rows)[r].if_object();
      const json::array* cells = row ? ArrayField(*row, {"cells"}) : nullptr;
      if (cells == nullptr) return Status::InvalidArgument(fmt::format("Table: rows[{}].cells: must be a list", r));
      std::vector<std::string> line;
      if (options.with_namespace) {
        std::string_view ns = StringField(*row, {"object", "metadata", "namespace"});
        line.push_back(ns.empty() ? std::string() : std::string(ns));
      }
      for (size_t i : visible) {
        if (i >= cells->size() || (*cells)[i].is_null()) {
          line.push_back(std::string(kNone));
          continue;
        }
        std::string text = ScalarToString((*cells)[i]);
        std::replace(text.begin(), text.end(), '\n', ' ');
        line.push_back(std::move(text));
      }
      lines.push_back(std::move(line));
    }
  }
  if (options.no_headers) lines.erase(lines.begin());

  // Go's text/tabwriter as kubectl sets it up (minwidth 6, padding 3): every
  // column but the last is padded to max(widest cell + 3, 6) characters.
  auto width_of = [](std::string_view s) {
    size_t n = 0;
    for (char c : s)
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
  };
  size_t ncols = 0;
  for (const auto& line : lines) ncols = std::max(ncols, line.size());
  std::vector<size_t> width(ncols, 0);
  for (const auto& line : lines)
    for (size_t i = 0; i + 1 < line.size(); ++i) width[i] = std::max(width[i], width_of(line[i]));
  std::string out;
  for (const auto& line : lines) {
    for (size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) out.append(std::max<size_t>(width[i] + 3, 6) - width_of(line[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace tw::model
