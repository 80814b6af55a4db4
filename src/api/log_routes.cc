#include "api/log_routes.h"

#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/strings.h"
#include "model/validators.h"

namespace tw::api {

namespace json = boost::json;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

constexpr std::string_view kPrefix = "/threatwall/v1/";
constexpr std::string_view kEventsPrefix = "/threatwall/v1/events/";
constexpr std::string_view kDismissSuffix = "/dismiss";

ApiResponse Error(int code, std::string_view message) {
  return ErrorResponse(code, ReasonForCode(code), message);
}

ApiResponse MethodNotAllowed() {
  return Error(405, "the server does not allow this method on the requested resource");
}

bool IsGet(const HttpRequest& request) { return request.method == "GET" || request.method == "HEAD"; }

ApiResponse Items(std::vector<json::object> records) {
  json::array items;
  items.reserve(records.size());
  for (json::object& r : records) items.emplace_back(std::move(r));
  ApiResponse r;
  r.code = 200;
  r.body = json::object{{"items", std::move(items)}};
  return r;
}

ApiResponse ListRoute(logstore::LogStore& store, std::string_view route, const HttpRequest& request,
                      TimePoint now) {
  if (!IsGet(request)) return MethodNotAllowed();
  auto query = LogQueryFromRequest(request, now);
  if (!query.ok()) return FromStatus(query.status());
  Result<std::vector<json::object>> records = Status::Internal("unreachable");
  if (route == "flowlogs") {
    records = store.QueryFlows(*query);
  } else if (route == "dnslogs") {
    records = store.QueryDns(*query);
  } else {
    records = store.QueryEvents(*query);
  }
  if (!records.ok()) return FromStatus(records.status());
  return Items(std::move(*records));
}

// GET events/ID, POST events/ID/dismiss; `rest` is what follows "events/".
ApiResponse EventRoute(logstore::LogStore& store, std::string_view rest, const HttpRequest& request) {
  bool dismiss = rest.size() > kDismissSuffix.size() && rest.ends_with(kDismissSuffix);
  std::string id(dismiss ? rest.substr(0, rest.size() - kDismissSuffix.size()) : rest);
  if (dismiss) {
    if (request.method != "POST") return MethodNotAllowed();
    if (Status st = store.DismissEvent(id); !st.ok()) return FromStatus(st);
  } else if (!IsGet(request)) {
    return MethodNotAllowed();
  }
  auto event = store.GetEvent(id);
  if (!event.ok()) return FromStatus(event.status());
  ApiResponse r;
  r.code = 200;
  r.body = std::move(*event);
  return r;
}

}  // namespace

bool IsLogRoute(std::string_view path) {
  if (!path.starts_with(kPrefix)) return false;
  std::string_view rest = path.substr(kPrefix.size());
  return rest == "flowlogs" || rest == "dnslogs" || rest == "events" || rest.starts_with("events/");
}

Result<TimePoint> ParseLogTime(std::string_view param, std::string_view text, TimePoint now) {
  auto bad = [&] {
    return Status::InvalidArgument(std::string(param) + ": invalid value " + Quote(text) +
                                   ": must be a duration such as 10m or 1h30m, or an RFC 3339 time");
  };
  if (text.empty()) return bad();
  if (auto t = ParseRfc3339(text)) return *t;
  auto ns = model::ParseGoDuration(text);
  if (!ns.ok() || *ns < 0) return bad();
  return now - std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(*ns));
}

Result<logstore::LogQuery> LogQueryFromRequest(const HttpRequest& request, TimePoint now) {
  logstore::LogQuery q;
  q.limit = kDefaultLogLimit;
  for (const auto& [name, value] : request.query) {
    if (name == "since") {
      TW_ASSIGN_OR_RETURN(q.since, ParseLogTime(name, value, now));
    } else if (name == "until") {
      TW_ASSIGN_OR_RETURN(q.until, ParseLogTime(name, value, now));
    } else if (name == "limit") {
      size_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() || v < 1 ||
          v > logstore::kMaxQueryLimit) {
        return Status::InvalidArgument("limit: invalid value " + Quote(value) + ": must be an integer 1-" +
                                       std::to_string(logstore::kMaxQueryLimit));
      }
      q.limit = v;
    } else {
      q.where[name] = value;
    }
  }
  return q;
}

ApiResponse HandleLogRoute(logstore::LogStore* store, const HttpRequest& request, TimePoint now) {
  if (store == nullptr) return Error(503, "log store not open: threatwalld keeps no flow logs, DNS logs or events");
  std::string_view path = request.path;
  if (path.starts_with(kEventsPrefix)) {
    std::string_view rest = path.substr(kEventsPrefix.size());
    if (rest.empty()) return Error(404, "the server could not find the requested resource");
    return EventRoute(*store, rest, request);
  }
  return ListRoute(*store, path.substr(kPrefix.size()), request, now);
}

}  // namespace tw::api
