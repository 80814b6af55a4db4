// tw_http_receiver: a webhook receiver for the end-to-end test.  Listens on
// 127.0.0.1 (port 0 = any; the port is written to --port-file), answers the
// first --fail requests with 503 and the rest with 200, and appends each
// request as one line "<status> <method> <path> <body>" to --out (bodies are
// one-line JSON).  Runs until SIGTERM.  Loopback only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace {

bool ReadRequest(int fd, std::string* head, std::string* body) {
  std::string buf;
  char chunk[65536];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    header_end = buf.find("\r\n\r\n");
  }
  *head = buf.substr(0, header_end);
  size_t length = 0;
  std::string lower = *head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (size_t p = lower.find("\r\ncontent-length:"); p != std::string::npos) {
    length = std::strtoul(lower.c_str() + p + 17, nullptr, 10);
  }
  *body = buf.substr(header_end + 4);
  while (body->size() < length) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n <= 0) return false;
    body->append(chunk, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string port_file, out;
  long fail = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port-file") port_file = argv[i + 1];
    else if (flag == "--out") out = argv[i + 1];
    else if (flag == "--fail") fail = std::strtol(argv[i + 1], nullptr, 10);
  }
  if (port_file.empty() || out.empty()) {
    std::fprintf(stderr, "usage: tw_http_receiver --port-file F --out F [--fail N]\n");
    return 2;
  }
  int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(ls, 16) != 0) {
    std::perror("tw_http_receiver: bind/listen");
    return 1;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
  {
    std::ofstream pf(port_file + ".tmp");
    pf << ntohs(addr.sin_port) << "\n";
  }
  std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  for (long served = 0;; ++served) {
    int fd = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string head, body;
    if (ReadRequest(fd, &head, &body)) {
      int status = served < fail ? 503 : 200;
      std::string request_line = head.substr(0, head.find("\r\n"));
      std::string method = request_line.substr(0, request_line.find(' '));
      std::string path = request_line.substr(method.size() + 1);
      path = path.substr(0, path.find(' '));
      for (char& c : body)
        if (c == '\n' || c == '\r') c = ' ';
      {
        std::ofstream o(out, std::ios::app);
        o << status << " " << method << " " << path << " " << body << "\n";
      }
      std::string reply = status == 200 ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                        : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                          "Connection: close\r\n\r\n";
      ssize_t ignored = ::write(fd, reply.data(), reply.size());
      (void)ignored;
    }
    ::close(fd);
  }
}
