#include "tests/api/test_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace tw::test {

namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads what is available before `deadline`; false on EOF/error/timeout.
bool ReadSome(int fd, std::string& out, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left < 0) left = 0;
  pollfd p{fd, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(left));
  if (r <= 0) return false;
  char buf[65536];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n <= 0) return false;
  out.append(buf, static_cast<size_t>(n));
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses "HTTP/1.1 200 OK\r\nA: b\r\n\r\n" at the start of `raw`; returns
// the header length or 0 if incomplete.
size_t ParseHead(const std::string& raw, HttpResult& out) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::istringstream in(raw.substr(0, end));
  std::string line;
  std::getline(in, line);
  if (line.size() >= 12) out.code = std::atoi(line.substr(9, 3).c_str());
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out.headers.emplace_back(Lower(line.substr(0, colon)), value);
  }
  return end + 4;
}

// Moves complete chunks from `raw` to `out`; sets `ended` at the last chunk.
void DecodeChunks(std::string& raw, std::string& out, bool& ended) {
  while (!ended) {
    size_t eol = raw.find("\r\n");
    if (eol == std::string::npos) return;
    size_t len = std::strtoul(raw.substr(0, eol).c_str(), nullptr, 16);
    if (len == 0) {
      ended = true;
      raw.clear();
      return;
    }
    if (raw.size() < eol + 2 + len + 2) return;
    out.append(raw, eol + 2, len);
    raw.erase(0, eol + 2 + len + 2);
  }
}

HttpResult Exchange(int port, const std::string& request, std::chrono::milliseconds timeout) {
  HttpResult result;
  int fd = Connect(port);
  if (fd < 0) return result;
  auto deadline = Clock::now() + timeout;
  if (!SendAll(fd, request)) {
    // The server may answer early (e.g. 413) and close; read what it said.
  }
  std::string raw;
  while (ReadSome(fd, raw, deadline)) {
  }
  close(fd);
  size_t head = ParseHead(raw, result);
  if (head == 0) {
    result.code = 0;
    return result;
  }
  std::string rest = raw.substr(head);
  if (Lower(result.Header("transfer-encoding")) == "chunked") {
    bool ended = false;
    DecodeChunks(rest, result.body, ended);
  } else {
    result.body = rest;
  }
  return result;
}

}  // namespace

std::string HttpResult::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}

int PortOf(const std::string& base_url) {
  size_t colon = base_url.rfind(':');
  if (colon == std::string::npos) return 0;
  return std::atoi(base_url.c_str() + colon + 1);
}

HttpResult HttpDo(int port, const std::string& method, const std::string& path, const std::string& token,
                  const std::string& body, const std::string& content_type, std::chrono::milliseconds timeout,
                  const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  for (const auto& [k, v] : extra_headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Type: " + content_type + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return Exchange(port, req, timeout);
}

HttpResult HttpRaw(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  return Exchange(port, bytes, timeout);
}

HttpStream::~HttpStream() {
  if (fd_ >= 0) close(fd_);
}

bool HttpStream::Open(int port, const std::string& path, const std::string& token) {
  fd_ = Connect(port);
  if (fd_ < 0) return false;
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n";
  if (!SendAll(fd_, req)) return false;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (raw_.find("\r\n\r\n") == std::string::npos)
    if (!ReadSome(fd_, raw_, deadline)) return false;
  HttpResult head;
  size_t n = ParseHead(raw_, head);
  code_ = head.code;
  raw_.erase(0, n);
  if (Lower(head.Header("transfer-encoding")) != "chunked") {
    body_ = raw_;
    raw_.clear();
    while (ReadSome(fd_, body_, deadline)) {
    }
    ended_ = true;
  }
  return true;
}

bool HttpStream::Fill(Clock::time_point deadline) {
  if (ended_) return false;
  if (!ReadSome(fd_, raw_, deadline)) return false;
  DecodeChunks(raw_, body_, ended_);
  return true;
}

std::optional<std::string> HttpStream::NextLine(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  DecodeChunks(raw_, body_, ended_);
  while (true) {
    size_t nl = body_.find('\n');
    if (nl != std::string::npos) {
      std::string line = body_.substr(0, nl);
      body_.erase(0, nl + 1);
      return line;
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/tw-api-test.XXXXXX";
  char* p = mkdtemp(tmpl);
  path_ = p ? p : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Daemon::Daemon(std::string data_dir, std::vector<std::string> extra_args)
    : dir_(std::move(data_dir)), args_(std::move(extra_args)), log_(dir_ + ".log") {}

Daemon::~Daemon() { Kill(); }

bool Daemon::Start() {
  std::string address = dir_ + "/address";
  unlink(address.c_str());
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    int log = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    // The API alone: no feed controller writing statuses into the watches
    // under test (and no pulls of the test manifests' URLs).
    std::vector<std::string> argv_s = {TW_DAEMON_BIN, "--data-dir", dir_, "--listen", "127.0.0.1:0", "--no-feeds", "--no-agent"};
    argv_s.insert(argv_s.end(), args_.begin(), args_.end());
    std::vector<char*> argv;
    for (std::string& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    std::string content = ReadAll(address);
    if (!content.empty() && content.back() == '\n') {
      port_ = PortOf(content.substr(0, content.size() - 1));
      return port_ > 0;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int Daemon::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  return -1;
}

void Daemon::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string Daemon::admin_token() const {
  std::string t = ReadAll(dir_ + "/admin.token");
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  return t;
}

std::string Daemon::readonly_token() const {
  std::string t = ReadAll(dir_ + "/readonly.token");
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  return t;
}

}  // namespace tw::test
