#include "cli/config.h"

#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "base/strings.h"
#include "model/codec.h"

namespace tw::cli {

std::optional<std::string> GetEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

namespace {

struct FileConfig {
  std::optional<std::string> server;
  std::optional<std::string> token;
};

Result<FileConfig> ReadConfigFile(const std::string& path) {
  TW_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 1 << 20));
  auto docs = model::ParseYamlDocuments(text);
  if (!docs) return docs.error().WithPrefix("config file " + path);
  FileConfig out;
  if (docs->empty()) return out;
  if (docs->size() > 1 || !(*docs)[0].is_object()) {
    return Status::InvalidArgument("config file " + path + ": expected one YAML mapping");
  }
  for (const auto& [key, value] : (*docs)[0].as_object()) {
    if (key != "server" && key != "token" && key != "token-file") {
      return Status::InvalidArgument("config file " + path + ": " + std::string(key) +
                                     ": unknown field (expected server, token, token-file)");
    }
    if (!value.is_string()) {
      return Status::InvalidArgument("config file " + path + ": " + std::string(key) + ": must be a string");
    }
    std::string v(value.as_string());
    if (key == "server") {
      out.server = v;
    } else if (key == "token") {
      out.token = v;
    } else if (!out.token) {
      std::filesystem::path token_path(v);
      if (token_path.is_relative()) token_path = std::filesystem::path(path).parent_path() / token_path;
      auto token = ReadFile(token_path.string(), 1 << 16);
      if (!token) return token.error().WithPrefix("config file " + path + ": token-file");
      out.token = std::string(TrimSpace(*token));
    }
  }
  return out;
}

std::optional<std::string> ReadTrimmed(const std::string& path) {
  auto text = ReadFile(path, 1 << 16);
  if (!text) return std::nullopt;
  std::string v(TrimSpace(*text));
  if (v.empty()) return std::nullopt;
  return v;
}

}  // namespace

Result<ClientConfig> ResolveConfig(const ConfigInputs& in) {
  auto env = [&](const std::string& name) { return in.getenv ? in.getenv(name) : std::nullopt; };
  ClientConfig out;
  if (!in.flag_server.empty()) {
    out.server = in.flag_server;
    out.server_source = "flag --server";
  } else if (auto v = env("THREATWALL_SERVER")) {
    out.server = *v;
    out.server_source = "env THREATWALL_SERVER";
  }
  if (!in.flag_token.empty()) {
    out.token = in.flag_token;
    out.token_source = "flag --token";
  } else if (auto v = env("THREATWALL_TOKEN")) {
    out.token = *v;
    out.token_source = "env THREATWALL_TOKEN";
  }
  if (!out.server.empty() && !out.token.empty()) return out;

  // The config file: an explicitly named one must exist.
  std::string config_path = in.flag_config;
  bool explicit_config = !config_path.empty();
  if (!explicit_config) {
    if (auto v = env("THREATWALL_CONFIG")) {
      config_path = *v;
      explicit_config = true;
    } else if (auto home = env("HOME")) {
      config_path = *home + "/.config/threatwall/config.yaml";
    }
  }
  if (!config_path.empty()) {
    std::error_code ec;
    if (explicit_config || std::filesystem::exists(config_path, ec)) {
      TW_ASSIGN_OR_RETURN(FileConfig file, ReadConfigFile(config_path));
      if (out.server.empty() && file.server) {
        out.server = *file.server;
        out.server_source = config_path;
      }
      if (out.token.empty() && file.token) {
        out.token = *file.token;
        out.token_source = config_path;
      }
    }
  }

  std::string data_dir = env("THREATWALL_DATA_DIR").value_or(kDefaultDataDir);
  if (out.server.empty()) {
    if (auto v = ReadTrimmed(data_dir + "/address")) {
      out.server = *v;
      out.server_source = data_dir + "/address";
    }
  }
  if (out.token.empty()) {
    if (auto v = ReadTrimmed(data_dir + "/admin.token")) {
      out.token = *v;
      out.token_source = data_dir + "/admin.token";
    }
  }
  if (out.server.empty()) {
    out.server = kDefaultServer;
    out.server_source = "default";
  }
  return out;
}

}  // namespace tw::cli
