#include "cli/input_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace tw::cli {

namespace json = boost::json;

InputFile::~InputFile() {
  if (map_ != nullptr) munmap(map_, size_);
}

void InputFile::Own(std::string text) {
  if (map_ != nullptr) munmap(map_, size_);
  map_ = nullptr;
  size_ = 0;
  owned_ = std::move(text);
}

Status InputFile::Load(const std::string& path, const Options& options) {
  bool stdin_input = path.empty() || path == "-";
  std::string shown = stdin_input ? std::string("(standard input)") : path;
  int fd = stdin_input ? dup(0) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(shown + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    size_t size = static_cast<size_t>(st.st_size);
    if (size > options.max_bytes) {
      close(fd);
      return Status::TooLarge(shown + ": larger than " + std::to_string(options.max_bytes) + " bytes");
    }
    void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m != MAP_FAILED) {
      madvise(m, size, MADV_SEQUENTIAL);
      close(fd);
      Own({});
      map_ = m;
      size_ = size;
      return Status::Ok();
    }
  }
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EISDIR && options.directory_is_empty) break;
      Status err = Status::IoError(shown + ": " + std::strerror(errno));
      close(fd);
      return err;
    }
    if (data.size() + static_cast<size_t>(r) > options.max_bytes) {
      close(fd);
      return Status::TooLarge(shown + ": larger than " + std::to_string(options.max_bytes) + " bytes");
    }
    data.append(buf, static_cast<size_t>(r));
  }
  close(fd);
  Own(std::move(data));
  return Status::Ok();
}

Result<json::object> FeedFormatFromFlags(const ParsedArgs& args) {
  std::string format = args.Get("format", "newline");
  json::object out;
  if (format == "newline" || format == "newlineDelimited") {
    out["newlineDelimited"] = json::object();
  } else if (format == "json") {
    out["json"] = json::object{{"path", args.Get("path", "$.")}};
  } else if (format == "csv") {
    json::object csv;
    if (args.Has("field-num")) {
      std::string text = args.Get("field-num");
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size())
        return Status::InvalidArgument("--field-num " + text + ": expected a column number counted from 0");
      csv["fieldNum"] = n;
    }
    if (args.Has("field-name")) csv["fieldName"] = args.Get("field-name");
    if (args.Has("header")) csv["header"] = true;
    if (args.Has("column-delimiter")) csv["columnDelimiter"] = args.Get("column-delimiter");
    if (args.Has("comment-delimiter")) csv["commentDelimiter"] = args.Get("comment-delimiter");
    if (args.Has("disable-record-size-validation")) csv["disableRecordSizeValidation"] = true;
    out["csv"] = std::move(csv);
  } else {
    return Status::InvalidArgument("--format " + format + ": expected newline, json or csv");
  }
  return out;
}

}  // namespace tw::cli
