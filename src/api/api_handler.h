// ApiHandler: turns HTTP requests into ResourceService / discovery calls.
//
// Routes (Kubernetes conventions; see the API contract in the issue):
//   /healthz /livez /readyz            "ok", no token needed
//   /version /api /apis /apis/G         discovery
//   /api/v1 /apis/G/V                   APIResourceList
//   /openapi/v2 /openapi/v3[/PATH]      OpenAPI documents
//   {prefix}/PLURAL[/NAME[/status]]                       cluster-scoped kinds,
//                                                         or all namespaces (list/watch)
//   {prefix}/namespaces/NS/PLURAL[/NAME[/status]]         namespaced kinds
//   /threatwall/v1/explain?from=..&to=..   (GET) a flow through the current
//       policy program (policy/explain.h).  Query: from, to (pod name,
//       NS/NAME or IP; required), fromNamespace, toNamespace (default
//       "default"), port (1-65535; required for TCP/UDP/SCTP/UDPLite),
//       protocol (default TCP), icmpType, icmpCode (0-255).  200 with
//       policy::ExplainToJson; 400 Status naming the parameter on a bad
//       query (also an unknown pod, or one without an IP yet); 503 when
//       there is no program (ApiHandlerOptions::program_provider).
//   /metrics                            counters, Prometheus text (token needed)
//   /threatwall/v1/flowlogs, /dnslogs, /events[/ID[/dismiss]]   the log
//       store's records (api/log_routes.h); 503 without a log store.
// Every route except the health checks needs a bearer token; the read-only
// token may only GET.  Request bodies are JSON (YAML accepted for POST/PUT
// with Content-Type application/yaml); patches pick their format from
// Content-Type.  Thread-safe: one instance serves every connection.
#ifndef TW_API_API_HANDLER_H_
#define TW_API_API_HANDLER_H_

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "api/auth.h"
#include "api/http_server.h"
#include "api/resource_service.h"
#include "base/clock.h"
#include "base/result.h"
#include "logstore/log_store.h"
#include "policy/explain.h"
#include "policy/ir.h"

namespace tw::api {

struct ApiHandlerOptions {
  // Longest watch when the client gives no timeoutSeconds.
  std::chrono::seconds max_watch{std::chrono::minutes(30)};
  // How often a watch checks for shutdown / a hung-up client.
  std::chrono::milliseconds watch_poll{250};
  // The compiled policy program /threatwall/v1/explain evaluates: the policy
  // agent's current one.  Called once per explain request, from any thread
  // (must be thread-safe); null, or a provider returning null, answers 503
  // "policy agent not running".
  std::function<std::shared_ptr<const policy::Program>()> program_provider;
  // The flow logs, DNS logs and events the log routes serve (must outlive
  // the handler); null answers 503 "log store not open".
  logstore::LogStore* logs = nullptr;
  // "now" for the log routes' since/until durations ("10m").
  const Clock* clock = &Clock::Real();
  // GET /metrics: the daemon's counters in the Prometheus text format
  // (daemon/metrics.h); called per request from any thread.  Null: 503.
  std::function<std::string()> metrics_provider;
};

class ApiHandler {
 public:
  // All references must outlive the handler.
  ApiHandler(ResourceService& service, const Authenticator& auth, ApiHandlerOptions options = {});

  void Handle(const HttpRequest& request, ResponseWriter& writer);

  // An HttpHandler that calls Handle() on this object.
  HttpHandler AsHttpHandler();

 private:
  void HandleResource(const HttpRequest& request, Role role, const ResourceTarget& target,
                      ResponseWriter& writer);
  void StreamWatch(const HttpRequest& request, Role role, const ResourceTarget& target, ResponseWriter& writer);
  void HandleExplain(const HttpRequest& request, ResponseWriter& writer);

  ResourceService& service_;
  const Authenticator& auth_;
  ApiHandlerOptions options_;
};

// Parses a JSON request body; errors name the line and column:
// "malformed JSON body: line 3, column 7: syntax error".
Result<boost::json::value> ParseJsonBody(std::string_view body);

// The query of GET /threatwall/v1/explain as an ExplainQuery.
// InvalidArgument naming the parameter: "port: invalid value 'x': must be
// an integer 1-65535".  Whether from/to/port are present is Explain()'s to
// check.
Result<policy::ExplainQuery> ExplainQueryFromRequest(const HttpRequest& request);

}  // namespace tw::api

#endif  // TW_API_API_HANDLER_H_
