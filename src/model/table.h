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
#include <vector>

#include "model/kinds.h"

namespace tw::model {

struct TableColumn {
  std::string name;         // "Name", "Content", "Age" (kubectl upper-cases)
  std::string type;         // OpenAPI type: "string", "integer", "date", ...
  std::string format;       // "name" for the Name column, else ""
  std::string description;
  int priority = 0;         // 0 = always, 1 = wide only
};

std::vector<TableColumn> TableColumns(const KindInfo& kind);

// One row of cells for `object` (same order as TableColumns); `now` is used
// for the Age column.
boost::json::array TableCells(const KindInfo& kind, const boost::json::object& object,
                              std::chrono::system_clock::time_point now);

}  // namespace tw::model

#endif  // TW_MODEL_TABLE_H_
