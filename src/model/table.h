// Table columns per kind: what `threatwall get` and `kubectl get` show.
//
// The API answers `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
// with a meta.k8s.io/v1 Table built from these; the CLI prints that Table
// like kubectl does.  Columns with priority > 0 appear only with -o wide.
#ifndef TW_MODEL_TABLE_H_
#define TW_MODEL_TABLE_H_

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/kinds.h"

namespace tw::model {

struct TableColumn {
  std::string name;         // "Name", "Content", "Age" (kubectl upper-cases)
  std::string type;         // OpenAPI type: "string", "integer", "date", ...
  std::string format;       // "name" for the Name column, else ""
  std::string description;
  int priority = 0;         // 0 = always, 1 = wide only
};

// Columns per kind, as kubectl prints them for the Kubernetes kinds
// (Pod: Name, Ready, Status, Restarts, Age; wide: IP, Node, Nominated Node,
// Readiness Gates.  Namespace: Name, Status, Age.  Secret: Name, Type, Data,
// Age.  ConfigMap: Name, Data, Age.  NetworkPolicy: Name, Pod-Selector, Age)
// and useful ones for the Calico kinds:
//   GlobalThreatFeed      Name, Content, Mode, Period, Last-Sync, Age;
//                         wide: URL, Entries (status.entries), Next-Pull
//                         (last sync + period), Last-Error (message of the
//                         last status.errorConditions entry)
//   GlobalNetworkSet,
//   NetworkSet            Name, Nets (count), Age; wide: Labels
//   Tier                  Name, Order, Default-Action, Age
//   GlobalNetworkPolicy, StagedGlobalNetworkPolicy, Calico NetworkPolicy
//                         Name, Tier, Order, Selector, Age; wide: Types
//   IPPool                Name, CIDR, Age
//   SecurityEventWebhook  Name, Consumer, State, Age
// Any other kind: Name, Age.
std::vector<TableColumn> TableColumns(const KindInfo& kind);

// One row of cells for `object` (same order as TableColumns); `now` is used
// for the Age column.  Cells are strings except counts (integers); a
// missing value is "<none>"; Age is tw::FormatAge of now minus
// metadata.creationTimestamp ("<unknown>" without one).  Never fails: a
// field of the wrong type reads as missing.
boost::json::array TableCells(const KindInfo& kind, const boost::json::object& object,
                              std::chrono::system_clock::time_point now);

// What each Table row carries besides its cells (the Kubernetes API's
// `includeObject` parameter; kubectl asks for Metadata).
enum class IncludeObject { kNone, kMetadata, kObject };

// A meta.k8s.io/v1 Table for `objects` (all of `kind`):
//   {"kind":"Table","apiVersion":"meta.k8s.io/v1",
//    "metadata":{"resourceVersion":RV},
//    "columnDefinitions":[{"name","type","format","description","priority"}],
//    "rows":[{"cells":[...],"object":{...}}]}
// where "object" is a meta.k8s.io/v1 PartialObjectMetadata (kMetadata), the
// full object (kObject) or absent (kNone).  An empty `resource_version` is
// left out.
boost::json::object BuildTable(const KindInfo& kind, const std::vector<boost::json::object>& objects,
                               std::string_view resource_version,
                               std::chrono::system_clock::time_point now,
                               IncludeObject include = IncludeObject::kMetadata);

struct TablePrintOptions {
  bool wide = false;            // -o wide: also columns with priority > 0
  bool with_namespace = false;  // -A: a leading NAMESPACE column, from each
                                // row's object.metadata.namespace
  bool no_headers = false;      // --no-headers
};

// Prints a Table (from BuildTable or a server) as kubectl does: upper-cased
// column names, left-aligned columns padded as Go's tabwriter with
// kubectl's settings (cell width + 3 spaces, at least 6), cells as
// ScalarToString prints them (null -> "<none>").  No rows -> header only
// ("No resources found" is the caller's).  InvalidArgument when `table` is
// not a Table.
Result<std::string> PrintTable(const boost::json::value& table, const TablePrintOptions& options);

// metav1.FormatLabelSelector: "app=nginx,tier in (a,b),!x" (requirements
// sorted by key), "<none>" for an empty or missing selector.
std::string FormatLabelSelector(const boost::json::value* selector);

// labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty.
std::string FormatLabelMap(const boost::json::value* labels);

}  // namespace tw::model

#endif  // TW_MODEL_TABLE_H_
