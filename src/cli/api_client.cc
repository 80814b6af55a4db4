#include "cli/api_client.h"

#include "api/status_body.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <system_error>

namespace tw::cli {

namespace json = boost::json;

namespace {

const json::object* StatusBody(const json::value& body) {
  if (!body.is_object()) return nullptr;
  const json::value* kind = body.as_object().if_contains("kind");
  if (kind == nullptr || !kind->is_string() || kind->as_string() != "Status") return nullptr;
  return &body.as_object();
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string ApiResponse::Reason() const {
  if (const json::object* s = StatusBody(body)) {
    std::string r = StringField(*s, "reason");
    if (!r.empty()) return r;
  }
  return std::string(api::ReasonForCode(code));
}

std::string ApiResponse::Message() const {
  if (const json::object* s = StatusBody(body)) {
    std::string m = StringField(*s, "message");
    if (!m.empty()) return m;
  }
  std::string text = raw;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) text = "the server responded with HTTP " + std::to_string(code);
  return text;
}

std::string ApiResponse::ErrorLine() const { return "Error from server (" + Reason() + "): " + Message(); }

Status ApiResponse::ToStatus() const {
  std::string m = Message();
  Status s;
  switch (code) {
    case 400: case 422: s = Status::InvalidArgument(m); break;
    case 401: s = Status::Unauthenticated(m); break;
    case 403: s = Status::PermissionDenied(m); break;
    case 404: s = Status::NotFound(m); break;
    case 409: s = Reason() == "AlreadyExists" ? Status::AlreadyExists(m) : Status::Conflict(m); break;
    case 410: s = Status::Gone(m); break;
    case 413: s = Status::TooLarge(m); break;
    case 405: case 415: s = Status::Unsupported(m); break;
    case 503: s = Status::Unavailable(m); break;
    default: s = Status::Internal(m); break;
  }
  std::vector<StatusCause> causes;
  if (const json::object* st = StatusBody(body)) {
    const json::value* details = st->if_contains("details");
    const json::value* list = details != nullptr && details->is_object() ? details->as_object().if_contains("causes")
                                                                         : nullptr;
    if (list != nullptr && list->is_array()) {
      for (const auto& c : list->as_array()) {
        if (!c.is_object()) continue;
        causes.push_back({StringField(c.as_object(), "field"), StringField(c.as_object(), "reason"),
                          StringField(c.as_object(), "message")});
      }
    }
  }
  return std::move(s).WithCauses(std::move(causes));
}

std::string ResourcePath(const model::KindInfo& kind, std::string_view ns, std::string_view name) {
  std::string path = kind.ApiPrefix();
  if (kind.namespaced && !ns.empty()) path += "/namespaces/" + std::string(ns);
  path += "/" + std::string(kind.plural);
  if (!name.empty()) path += "/" + std::string(name);
  return path;
}

std::string EscapeQuery(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string PathWithQuery(std::string path, const std::vector<std::pair<std::string, std::string>>& query) {
  for (size_t i = 0; i < query.size(); ++i) {
    path += (i == 0 ? "?" : "&") + query[i].first + "=" + EscapeQuery(query[i].second);
  }
  return path;
}

HttpRequest ApiClient::MakeRequest(std::string_view method, const std::string& path, const std::string& body,
                                   std::string_view content_type, std::string_view accept) const {
  HttpRequest req;
  req.method = std::string(method);
  req.target = path;
  req.body = body;
  req.headers.emplace_back("Accept", std::string(accept));
  if (!body.empty()) req.headers.emplace_back("Content-Type", std::string(content_type));
  if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
  return req;
}

namespace {

ApiResponse ToApiResponse(HttpResponse http) {
  ApiResponse out;
  out.code = http.status;
  out.raw = std::move(http.body);
  std::error_code ec;
  json::value v = json::parse(out.raw, ec);
  if (!ec) out.body = std::move(v);
  return out;
}

}  // namespace

Result<ApiResponse> ApiClient::Call(std::string_view method, const std::string& path, const std::string& body,
                                    std::string_view content_type, std::string_view accept) const {
  auto start = std::chrono::steady_clock::now();
  TW_ASSIGN_OR_RETURN(HttpResponse http, http_.Do(MakeRequest(method, path, body, content_type, accept)));
  if (verbosity_ >= 6) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::fprintf(stderr, "%.*s %s%s %d in %lld milliseconds\n", static_cast<int>(method.size()), method.data(),
                 http_.server().text.c_str(), path.c_str(), http.status, static_cast<long long>(ms.count()));
  }
  if (verbosity_ >= 8 && !http.body.empty()) std::fprintf(stderr, "Response Body: %s\n", http.body.c_str());
  return ToApiResponse(std::move(http));
}

Result<ApiResponse> ApiClient::Watch(const std::string& path,
                                     const std::function<bool(std::string_view)>& on_line) const {
  std::string pending;
  auto on_data = [&](std::string_view data) {
    pending.append(data);
    size_t start = 0;
    while (true) {
      size_t nl = pending.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(pending.data() + start, nl - start);
      start = nl + 1;
      if (!line.empty() && !on_line(line)) return false;
    }
    pending.erase(0, start);
    return true;
  };
  if (verbosity_ >= 6) std::fprintf(stderr, "GET %s%s (watch)\n", http_.server().text.c_str(), path.c_str());
  TW_ASSIGN_OR_RETURN(HttpResponse http, http_.Stream(MakeRequest("GET", path, "", "", "application/json"), on_data));
  if (http.status / 100 == 2 && !pending.empty()) on_line(pending);
  return ToApiResponse(std::move(http));
}

}  // namespace tw::cli
