// Where the CLI finds its server and token.  Each of the two is resolved on
// its own, first match wins:
//   1. flags --server / --token
//   2. env THREATWALL_SERVER / THREATWALL_TOKEN
//   3. the config file: --config FILE, else env THREATWALL_CONFIG, else
//      ~/.config/threatwall/config.yaml (only if it exists); YAML keys
//      `server`, `token`, `token-file`
//   4. the local daemon's files in $THREATWALL_DATA_DIR or
//      /var/lib/threatwall: `address` and `admin.token`
//   5. server http://127.0.0.1:7780, no token
#ifndef TW_CLI_CONFIG_H_
#define TW_CLI_CONFIG_H_

#include <functional>
#include <optional>
#include <string>

#include "base/result.h"

namespace tw::cli {

inline constexpr char kDefaultServer[] = "http://127.0.0.1:7780";
inline constexpr char kDefaultDataDir[] = "/var/lib/threatwall";

struct ConfigInputs {
  std::string flag_server;  // "" = not given
  std::string flag_token;
  std::string flag_config;
  // Environment lookup (getenv in production, a map in tests).
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

struct ClientConfig {
  std::string server;
  std::string token;
  std::string server_source;  // "flag --server", "env THREATWALL_SERVER", "FILE", ...
  std::string token_source;
};

// IoError/InvalidArgument when an explicitly named config file (flag or env)
// is missing or malformed, or a `token-file` it names cannot be read.  An
// unreadable default config or data dir is skipped silently.
Result<ClientConfig> ResolveConfig(const ConfigInputs& in);

// The real environment.
std::optional<std::string> GetEnv(const std::string& name);

}  // namespace tw::cli

#endif  // TW_CLI_CONFIG_H_
