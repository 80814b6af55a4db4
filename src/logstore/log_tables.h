// The three tables of the log store as data: which document fields become
// columns, how a row's time is found, and how a LogQuery's `where` becomes
// SQL.  Pure (no SQLite calls); LogStore executes what this builds.
#ifndef TW_LOGSTORE_LOG_TABLES_H_
#define TW_LOGSTORE_LOG_TABLES_H_

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "logstore/log_store.h"

namespace tw::logstore {

// Where a column's value comes from.
enum class Source {
  kField,     // top-level scalar `json_field`, as text
  kPolicies,  // policies.all_policies, joined "\n" with "\n" at both ends
  kFeeds,     // record.feeds, joined the same way
};

struct ColumnSpec {
  std::string_view column;      // SQL column (also the query field name)
  std::string_view json_field;  // for kField
  Source source = Source::kField;
};

// An "either side" pair for the pod / namespace filters.
struct Side {
  std::string_view ns_column;
  std::string_view name_column;
};

struct TableSpec {
  std::string_view table;  // "flows"
  std::string_view what;   // "flow log", for messages
  std::vector<std::string_view> time_fields;  // first present wins
  std::vector<ColumnSpec> columns;            // filter columns, in row order
  std::vector<Side> sides;                    // pod/namespace filters (empty: none)
  bool namespace_filter = false;              // "namespace" accepted
  std::optional<std::string_view> substring_column;  // "policy" -> policies
  bool is_events = false;                     // event_id, dismissed, feed
};

const TableSpec& FlowTable();
const TableSpec& DnsTable();
const TableSpec& EventTable();

// CREATE TABLE + indexes for all three tables.
std::string SchemaSql();

// The values of `spec.columns` for one document; reused across documents
// so that a batch allocates once.
struct ColumnValues {
  std::vector<std::string> text;
  std::vector<bool> present;  // false: SQL NULL
};
void ExtractColumns(const TableSpec& spec, const boost::json::object& doc, ColumnValues& out);

// The row time in ms from the document's time fields (see log_store.h);
// nullopt when none is usable.
std::optional<int64_t> ExtractTimeMs(const TableSpec& spec, const boost::json::object& doc);

// "INSERT INTO <table>(time, <columns>..., doc) VALUES (?1, ...)" (events:
// also event_id and dismissed, ON CONFLICT(event_id) DO NOTHING).
std::string InsertSql(const TableSpec& spec);

// A compiled query: SQL selecting `doc` (events: also `dismissed`) with
// numbered parameters, and their text values in order.
struct SelectSql {
  std::string sql;
  std::vector<std::string> binds;
};

// Newest-first query with the time range, filters and limit of `query`.
// InvalidArgument naming the field and the reason for a bad filter.
Result<SelectSql> BuildQuery(const TableSpec& spec, const LogQuery& query);

// Milliseconds since the epoch (floor).
int64_t ToMs(TimePoint t);

}  // namespace tw::logstore

#endif  // TW_LOGSTORE_LOG_TABLES_H_
