// A small synchronous HTTP/1.1 client (Boost.Beast) for talking to threatwalld.
//
// One connection per request, `Connection: close`.  Only `http://` URLs are
// supported; `https://` is refused with a clear error.  Every operation is
// bounded by the timeout given at construction (0 = no limit, used for watch
// streams).  Thread-compatible: use one HttpClient per thread.
#ifndef TW_CLI_HTTP_CLIENT_H_
#define TW_CLI_HTTP_CLIENT_H_

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace tw::cli {

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path + query, e.g. "/api/v1/namespaces?limit=5"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// A parsed base URL: "http://127.0.0.1:7780" (a path prefix is kept).
struct ServerUrl {
  std::string host;
  std::string port;
  std::string path_prefix;  // "" or "/prefix" without trailing slash
  std::string text;         // as the user gave it, for messages
};

// InvalidArgument for a malformed URL, Unsupported for https:// and any
// other scheme.
Result<ServerUrl> ParseServerUrl(std::string_view url);

class HttpClient {
 public:
  HttpClient(ServerUrl server, std::chrono::milliseconds timeout)
      : server_(std::move(server)), timeout_(timeout) {}

  // Sends the request and reads the whole response.  Any HTTP status is a
  // success here; errors are transport failures (Unavailable, naming the
  // server URL: "cannot connect to http://127.0.0.1:7780: Connection refused").
  Result<HttpResponse> Do(const HttpRequest& request) const;

  // Sends the request and streams the response body to `on_data` as it
  // arrives (chunked or not) until the server ends it or `on_data` returns
  // false.  For non-2xx answers the body is collected into the returned
  // response instead of being streamed.
  Result<HttpResponse> Stream(const HttpRequest& request,
                              const std::function<bool(std::string_view)>& on_data) const;

  const ServerUrl& server() const { return server_; }

 private:
  ServerUrl server_;
  std::chrono::milliseconds timeout_;
};

}  // namespace tw::cli

#endif  // TW_CLI_HTTP_CLIENT_H_
