#include "daemon/tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/strings.h"

namespace tw::daemon {

Result<std::string> NewToken() {
  unsigned char bytes[32];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(std::string("/dev/urandom: ") + std::strerror(errno));
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = read(fd, bytes + got, sizeof bytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return Status::IoError("/dev/urandom: short read");
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<std::string> EnsureTokenFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    TW_ASSIGN_OR_RETURN(std::string content, ReadFile(path, 4096));
    std::string token(TrimSpace(content));
    if (token.empty()) return Status::IoError(path + ": token file is empty");
    return token;
  }
  if (errno != ENOENT) return Status::IoError(path + ": " + std::strerror(errno));
  TW_ASSIGN_OR_RETURN(std::string token, NewToken());
  TW_RETURN_IF_ERROR(WriteFileAtomic(path, token + "\n", 0600));
  return token;
}

}  // namespace tw::daemon
