// threatwalld: parses flags into daemon::Options and runs the daemon.
#include <CLI/CLI.hpp>

#include <iostream>

#include "base/log.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) {
  tw::daemon::Options options;
  CLI::App app{"threatwalld: the threatwall daemon (Calico-style threat feeds and policy, Kubernetes-style API)"};
  app.set_version_flag("--version", std::string("threatwalld ") + TW_VERSION);
  app.add_option("--data-dir", options.data_dir, "data directory (tokens, address, datastore)")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "API address HOST:PORT (port 0 = any free port)")
      ->capture_default_str();
  app.add_option("--log-level", options.log_level, "debug | info | warn | error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--max-body-bytes", options.max_body_bytes, "largest accepted request body")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections, "concurrent API connections")
      ->capture_default_str();
  app.add_option("--history-max-revisions", options.history_max_revisions,
                 "watch history kept before compaction (0 = unlimited)")
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert_file,
                 "PEM certificate for https on the API port (default: DIR/tls.crt, self-signed)");
  app.add_option("--tls-key", options.tls_key_file, "PEM private key for --tls-cert (default: DIR/tls.key)");
  CLI11_PARSE(app, argc, argv);
  tw::InitLogging(options.log_level);
  return tw::daemon::Run(options);
}
