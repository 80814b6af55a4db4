// The log routes of the API (issue 5): flow logs, DNS logs and security
// events from the log store (logstore/log_store.h), records exactly as
// stored (Calico's field names, calico-semantics.md §2.2, §6.1, §6.2).
//
//   GET  /threatwall/v1/flowlogs            200 {"items": [flow log, ...]}
//   GET  /threatwall/v1/dnslogs             200 {"items": [DNS log, ...]}
//   GET  /threatwall/v1/events              200 {"items": [event, ...]}
//   GET  /threatwall/v1/events/ID           200 the event; 404
//   POST /threatwall/v1/events/ID/dismiss   200 the event, now with
//                                           "dismissed": true; 404
// Items are newest first (by the record's time, see log_store.h).  ID is
// everything between "events/" and "/dismiss" of the decoded path, so an id
// may hold any character ("/" included, sent as %2F).
//
// Query parameters of the lists:
//   since, until  a Go duration meaning "that long before now" ("10m",
//                 "1h30m", "30s") or an RFC 3339 time; since is inclusive,
//                 until exclusive; none = no bound
//   limit         1..logstore::kMaxQueryLimit, default kDefaultLogLimit
//   anything else a LogQuery `where` field of that kind, passed through
//                 (flows: action, pod "NS/NAME", namespace, policy, ...;
//                 dns: qname, rcode, pod, ...; events: type, feed,
//                 dismissed, pod, ...; see LogQuery)
// A bad parameter is 400 with a Status naming it ("limit: invalid value
// 'x': ..." here; "flow log query: where.actoin: ..." from the store).
// With no log store (null) every route answers 503 "log store not open".
// Writes (the dismiss) need the admin token: ApiHandler refuses a POST
// with the read-only token (403) before it gets here.
#ifndef TW_API_LOG_ROUTES_H_
#define TW_API_LOG_ROUTES_H_

#include <chrono>
#include <cstddef>
#include <string_view>

#include "api/http_server.h"
#include "api/status_body.h"
#include "base/result.h"
#include "logstore/log_store.h"

namespace tw::api {

inline constexpr size_t kDefaultLogLimit = 100;

// True when `path` (decoded) is one of the routes above or below them
// ("/threatwall/v1/flowlogs", "/threatwall/v1/events/x/dismiss", ...):
// HandleLogRoute answers it, possibly with 404 or 405.
bool IsLogRoute(std::string_view path);

// A since/until value: a non-negative Go duration before `now`, or an RFC
// 3339 time.  InvalidArgument naming `param`:
// "since: invalid value '10x': must be a duration such as 10m or 1h30m, or an RFC 3339 time".
Result<std::chrono::system_clock::time_point> ParseLogTime(std::string_view param, std::string_view text,
                                                           std::chrono::system_clock::time_point now);

// The LogQuery of a list request: since, until, limit as above, every
// other parameter a `where` field (the last value of a repeated one wins).
// Whether a where field exists for `kind` is the store's to check.
Result<logstore::LogQuery> LogQueryFromRequest(const HttpRequest& request, std::chrono::system_clock::time_point now);

// Answers a request for which IsLogRoute(request.path) holds.  `store` may
// be null (503); `now` resolves durations.  Thread-safe as the store is.
ApiResponse HandleLogRoute(logstore::LogStore* store, const HttpRequest& request,
                           std::chrono::system_clock::time_point now);

}  // namespace tw::api

#endif  // TW_API_LOG_ROUTES_H_
