// How the CLI prints objects: kubectl-style tables, `-o name` lines, v1
// Lists, describe text, and the "<kind>.<group>/<name> created" lines.
// Pure functions returning text.
#ifndef TW_CLI_OUTPUT_H_
#define TW_CLI_OUTPUT_H_

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/kinds.h"

namespace tw::cli {

// Plain text table: header and rows of cells, printed like kubectl
// (columns left-aligned, three spaces apart, no trailing spaces).
struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
std::string RenderTable(const TextTable& table);

struct TableOptions {
  bool wide = false;            // also columns with priority > 0
  bool with_namespace = false;  // a NAMESPACE column first (-A)
  std::string name_prefix;      // put before every Name cell ("gtf.projectcalico.org/" when mixing kinds)
  std::string default_namespace;  // NAMESPACE cell when a row has no object metadata
};

// Appends the rows of a meta.k8s.io/v1 Table (as the API returns it) to
// `out`, setting out->header from its columnDefinitions (upper-cased) when
// it is empty.  InvalidArgument when `table` is not a Table.
Status AppendApiTable(const boost::json::value& table, const TableOptions& options, TextTable* out);

// Builds the same rows locally from objects with model::TableColumns/Cells
// (used for watch events and for servers that answer without a Table).
void AppendObjectRows(const model::KindInfo& kind, const std::vector<boost::json::object>& objects,
                      const TableOptions& options, std::chrono::system_clock::time_point now, TextTable* out);

// A table cell as kubectl prints it: strings as they are, numbers, bools,
// null as "<none>", lists as "a,b".
std::string CellText(const boost::json::value& cell);

// "globalthreatfeed.projectcalico.org" / "namespace" (kubectl's resource
// names for -o name and the "created" lines).
std::string KindDotGroup(const model::KindInfo& kind);
// "globalthreatfeed.projectcalico.org/snort-ip-block-list".
std::string ObjectRef(const model::KindInfo& kind, std::string_view name);

// {"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[...]}
boost::json::value MakeList(std::vector<boost::json::object> items);

// kubectl-describe-like text for one object.
std::string Describe(const boost::json::object& object);

// "globalNetworkSet" -> "Global Network Set", "url" -> "URL" (kubectl's
// describe headings).
std::string HumanizeKey(std::string_view key);

// kubectl's `-o jsonpath=TEMPLATE`: literal text with `{EXPR}` parts, where
// EXPR is a JSONPath relative to the object (`.status.entries`,
// `.items[*].metadata.name`, `$.spec`) or a quoted string (`{"\n"}`, with
// \n and \t escapes).  Several results are joined by a space; strings print
// raw, other values as JSON; a missing field prints nothing (kubectl's
// allow-missing-template-keys default).  InvalidArgument on a bad template.
Result<std::string> RenderJsonPathTemplate(std::string_view tmpl, const boost::json::value& root);

}  // namespace tw::cli

#endif  // TW_CLI_OUTPUT_H_
