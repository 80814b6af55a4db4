// version and kubeconfig.
#include <ostream>

#include <filesystem>

#include "base/file.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "model/codec.h"

namespace tw::cli {

namespace json = boost::json;

std::string Base64(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t n = uint8_t(data[i]) << 16;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

int RunVersion(Context& ctx) {
  if (!ctx.args.positionals.empty()) return ctx.Usage("unexpected argument " + ctx.args.positionals[0]);
  *ctx.out << "Client Version: v" << TW_VERSION << "\n";
  if (ctx.args.Has("client")) return kExitOk;
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  auto r = api->Call("GET", "/version");
  if (!r) return ctx.Fail(r.error().message());
  if (!r->ok()) {
    *ctx.err << r->ErrorLine() << "\n";
    return kExitFailure;
  }
  const json::value* git = r->body.is_object() ? r->body.as_object().if_contains("gitVersion") : nullptr;
  if (git == nullptr || !git->is_string()) return ctx.Fail("the server's /version has no gitVersion");
  *ctx.out << "Server Version: " << std::string(git->as_string()) << "\n";
  return kExitOk;
}

int RunKubeconfig(Context& ctx) {
  if (!ctx.args.positionals.empty()) return ctx.Usage("unexpected argument " + ctx.args.positionals[0]);
  auto config = ctx.Config();
  if (!config) return ctx.Fail(config.error().message());
  // kubectl itself may speak https (e.g. through a TLS front), so only the
  // URL's shape is checked here, not whether this client supports it.
  std::string server = config->server;
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (!server.starts_with("http://") && !server.starts_with("https://")) {
    return ctx.Fail("server URL " + server + ": expected http://HOST:PORT or https://HOST:PORT");
  }
  if (config->token.empty()) {
    *ctx.err << "Warning: no token found (--token, THREATWALL_TOKEN, config file or data dir); "
                "kubectl will be refused\n";
  }
  // kubectl sends tokens only over TLS.  threatwalld serves https on its API
  // port too, with DIR/tls.crt (self-signed, its own CA): for the local
  // daemon, point kubectl at https:// and embed that certificate.
  std::string ca_file = ctx.args.Get("certificate-authority");
  std::string data_dir = ctx.config_inputs.getenv ? ctx.config_inputs.getenv("THREATWALL_DATA_DIR").value_or(kDefaultDataDir)
                                                  : std::string(kDefaultDataDir);
  if (ca_file.empty()) {
    auto address = ReadFile(data_dir + "/address", 1 << 12);
    std::error_code ec;
    if (address && std::string(TrimSpace(*address)) == server &&
        std::filesystem::exists(data_dir + "/tls.crt", ec)) {
      ca_file = data_dir + "/tls.crt";
    }
  }
  json::object cluster;
  if (!ca_file.empty()) {
    auto pem = ReadFile(ca_file, 1 << 20);
    if (!pem) return ctx.Fail(pem.error().message());
    if (server.starts_with("http://")) server = "https://" + server.substr(7);
    cluster["certificate-authority-data"] = Base64(*pem);
  } else if (server.starts_with("http://") && !config->token.empty()) {
    *ctx.err << "Warning: kubectl sends the token only over https (client-go drops credentials for http:// "
                "servers); use an https server (--certificate-authority FILE) for kubectl\n";
  }
  cluster["server"] = server;
  if (ctx.args.Has("insecure-skip-tls-verify")) cluster["insecure-skip-tls-verify"] = true;
  json::object user;
  if (!config->token.empty()) user["token"] = config->token;
  json::value kubeconfig = json::object{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", json::array{json::object{{"name", "threatwall"},
                                            {"cluster", std::move(cluster)}}}},
      {"users", json::array{json::object{{"name", "threatwall"}, {"user", std::move(user)}}}},
      {"contexts",
       json::array{json::object{
           {"name", "threatwall"},
           {"context", json::object{{"cluster", "threatwall"}, {"user", "threatwall"}, {"namespace", "default"}}}}}},
      {"current-context", "threatwall"},
      {"preferences", json::object{}},
  };
  *ctx.out << model::ToYaml(kubeconfig);
  return kExitOk;
}

}  // namespace tw::cli
