// Test helpers for the API integration tests: a tiny blocking HTTP/1.1
// client over loopback, a temp directory, and the daemon as a child process.
#ifndef TW_TESTS_API_TEST_HTTP_H_
#define TW_TESTS_API_TEST_HTTP_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tw::test {

struct HttpResult {
  int code = 0;  // 0 = no response (connection failed or closed)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const;
};

// "http://127.0.0.1:PORT" -> port; 0 if unparsable.
int PortOf(const std::string& base_url);

// One request on a fresh connection (Connection: close).  Chunked bodies
// are decoded.  `timeout` bounds the whole exchange.
HttpResult HttpDo(int port, const std::string& method, const std::string& path, const std::string& token,
                  const std::string& body = "", const std::string& content_type = "application/json",
                  std::chrono::milliseconds timeout = std::chrono::seconds(20),
                  const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

// Sends raw bytes and reads the whole answer (for malformed requests).
HttpResult HttpRaw(int port, const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A streaming GET (watch): the status line and headers are read on Open();
// NextLine() returns the next newline-terminated line of the chunked body.
class HttpStream {
 public:
  ~HttpStream();
  bool Open(int port, const std::string& path, const std::string& token);
  int code() const { return code_; }
  // nullopt on timeout or end of stream.
  std::optional<std::string> NextLine(std::chrono::milliseconds timeout);
  bool ended() const { return ended_; }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  int code_ = 0;
  std::string raw_;     // undecoded bytes
  std::string body_;    // decoded body not yet returned
  bool ended_ = false;
};

// mkdtemp under /tmp; removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// threatwalld as a child process.  The destructor SIGKILLs it if running.
class Daemon {
 public:
  Daemon(std::string data_dir, std::vector<std::string> extra_args = {});
  ~Daemon();
  // Starts and waits (up to 20 s) for DIR/address to appear.
  bool Start();
  // SIGTERM and wait; returns the exit status (-1 on timeout/signal).
  int Stop();
  void Kill();  // SIGKILL and reap
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string admin_token() const;
  std::string readonly_token() const;
  const std::string& log_path() const { return log_; }

 private:
  std::string dir_;
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string ReadAll(const std::string& path);

}  // namespace tw::test

#endif  // TW_TESTS_API_TEST_HTTP_H_
