// Whole-file helpers for small files (tokens, config, fixtures), and an
// owned file descriptor.
#ifndef TW_BASE_FILE_H_
#define TW_BASE_FILE_H_

#include <string>

#include "base/result.h"

namespace tw {

// Reads a whole file; "-" reads standard input.  Fails with IoError naming
// the path, or TooLarge past `max_bytes`.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64u << 20);

// Writes via a temporary file + fsync + rename, with the given mode, so a
// crash leaves either the old or the new content.
Status WriteFileAtomic(const std::string& path, const std::string& content, int mode = 0644);

// A file descriptor closed on destruction (-1: none).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  // Closes the one held, then holds `fd`.
  void Reset(int fd = -1);
  // Gives the descriptor up without closing it.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace tw

#endif  // TW_BASE_FILE_H_
