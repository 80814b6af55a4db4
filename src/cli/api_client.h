// The threatwall API as the CLI sees it: Kubernetes-style REST paths for a
// kind, bearer-token auth, JSON bodies, Status error bodies.
//
// Transport failures (no server, timeout) are errors of the returned Result;
// any HTTP answer, including 4xx/5xx, is an ApiResponse the caller inspects.
#ifndef TW_CLI_API_CLIENT_H_
#define TW_CLI_API_CLIENT_H_

#include <boost/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cli/http_client.h"
#include "model/kinds.h"

namespace tw::cli {

inline constexpr char kTableAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

struct ApiResponse {
  int code = 0;
  boost::json::value body;  // parsed JSON, or null when the body is not JSON
  std::string raw;

  bool ok() const { return code / 100 == 2; }
  // For !ok(): the Status reason ("NotFound") and message; derived from the
  // HTTP code and raw body when the server sent no Status.
  std::string Reason() const;
  std::string Message() const;
  // kubectl's line: "Error from server (NotFound): MESSAGE".
  std::string ErrorLine() const;
  // A tw::Status carrying Message() (and the causes) with a code matching
  // the HTTP status.
  Status ToStatus() const;
};

// "/apis/G/V[/namespaces/NS]/PLURAL[/NAME]" for `kind`; `ns` is ignored for
// cluster-scoped kinds, and "" for a namespaced kind means all namespaces.
std::string ResourcePath(const model::KindInfo& kind, std::string_view ns, std::string_view name = "");

// Percent-encodes a query parameter value.
std::string EscapeQuery(std::string_view s);

// `path` + "?k=v&..." with the values percent-encoded ("" query: `path`).
std::string PathWithQuery(std::string path, const std::vector<std::pair<std::string, std::string>>& query);

class ApiClient {
 public:
  ApiClient(HttpClient http, std::string token, int verbosity = 0)
      : http_(std::move(http)), token_(std::move(token)), verbosity_(verbosity) {}

  Result<ApiResponse> Call(std::string_view method, const std::string& path, const std::string& body = "",
                           std::string_view content_type = "application/json",
                           std::string_view accept = "application/json") const;

  // Streams a watch: `on_line` gets every complete line of the body; the
  // stream ends when the server closes it or on_line returns false.  A
  // non-2xx answer is returned like Call's.
  Result<ApiResponse> Watch(const std::string& path, const std::function<bool(std::string_view)>& on_line) const;

  const ServerUrl& server() const { return http_.server(); }

 private:
  HttpRequest MakeRequest(std::string_view method, const std::string& path, const std::string& body,
                          std::string_view content_type, std::string_view accept) const;

  HttpClient http_;
  std::string token_;
  int verbosity_;
};

}  // namespace tw::cli

#endif  // TW_CLI_API_CLIENT_H_
