// feed_test_server [--tls] [--port N] [--dir DIR] [--cert PEM --key PEM]
//
// Serves every regular file of DIR (default: the current directory) at
// /<filename> over HTTP, or HTTPS with --tls, on 127.0.0.1.  Prints the base
// URL ("http://127.0.0.1:PORT") as the first line of stdout and, with --tls,
// the path of a PEM file to trust as the second line; then runs until
// SIGTERM or SIGINT.  Files are read once at start-up.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tests/feeds/feed_test_server.h"

namespace {

int Usage(const char* why) {
  std::fprintf(
      stderr,
      "feed_test_server: %s\nusage: feed_test_server [--tls] [--port N] [--dir DIR] [--cert PEM --key PEM]\n",
      why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  tw::testing::FeedTestServer::Options options;
  std::string dir = ".";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    if (arg == "--tls") {
      options.tls = true;
    } else if (arg == "--port") {
      const char* v = next("--port");
      if (v == nullptr) return Usage("--port needs a value");
      char* end = nullptr;
      long port = std::strtol(v, &end, 10);
      if (*v == '\0' || *end != '\0' || port < 0 || port > 65535) return Usage("--port: not a port number");
      options.port = static_cast<uint16_t>(port);
    } else if (arg == "--dir") {
      const char* v = next("--dir");
      if (v == nullptr) return Usage("--dir needs a value");
      dir = v;
    } else if (arg == "--cert") {
      const char* v = next("--cert");
      if (v == nullptr) return Usage("--cert needs a value");
      options.cert_pem_file = v;
    } else if (arg == "--key") {
      const char* v = next("--key");
      if (v == nullptr) return Usage("--key needs a value");
      options.key_pem_file = v;
    } else if (arg == "--help" || arg == "-h") {
      Usage("serves the files of a directory");
      return 0;
    } else {
      return Usage(("unknown argument " + arg).c_str());
    }
  }

  // Block the signals before any thread starts, so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = tw::testing::FeedTestServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "feed_test_server: %s\n", server.error().ToString().c_str());
    return 1;
  }
  std::error_code ec;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) continue;
    std::ostringstream body;
    body << in.rdbuf();
    (*server)->SetBody("/" + entry.path().filename().string(), body.str());
    ++files;
  }
  if (ec) {
    std::fprintf(stderr, "feed_test_server: --dir %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  std::cout << (*server)->Url("") << "\n";
  if (options.tls) std::cout << (*server)->ca_pem_file() << "\n";
  std::cout.flush();
  std::fprintf(stderr, "feed_test_server: serving %zu files of %s\n", files, dir.c_str());

  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  return 0;
}
