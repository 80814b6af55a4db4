// Inputs of the offline commands (`feeds parse`, `hunt`): whole files read
// without copies, and the feed-format flags they share.
#ifndef TW_CLI_INPUT_FILE_H_
#define TW_CLI_INPUT_FILE_H_

#include <boost/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "cli/args.h"

namespace tw::cli {

// A whole input: a read-only mapping of a non-empty regular file (pages
// mapped up front: feeds and logs can be 100+ MB), or the bytes read from
// anything else (pipes, standard input), or bytes handed over with Own().
class InputFile {
 public:
  struct Options {
    size_t max_bytes = ~size_t{0};     // TooLarge past this
    bool directory_is_empty = false;   // grepcidr reads a directory as an empty file
  };
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  // `path` "" or "-" = standard input.  Errors name the path and the reason.
  Status Load(const std::string& path, const Options& options);
  Status Load(const std::string& path) { return Load(path, Options()); }
  void Own(std::string text);
  std::string_view view() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(owned_);
  }

 private:
  void* map_ = nullptr;
  size_t size_ = 0;
  std::string owned_;
};

// The spec.pull.http.format object that --format newline|json|csv and the
// --path / --field-num / --field-name / --header / --column-delimiter /
// --comment-delimiter / --disable-record-size-validation flags describe.
Result<boost::json::object> FeedFormatFromFlags(const ParsedArgs& args);

}  // namespace tw::cli

#endif  // TW_CLI_INPUT_FILE_H_
