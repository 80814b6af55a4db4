// `threatwall feeds parse`: the offline dry run of a feed (issue 3 item 7).
// The format flags become a GlobalThreatFeed spec that goes through the same
// admission and the same Ingest() the daemon uses, so what this prints is what
// a feed with that manifest would store.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ostream>
#include <string>

#include "base/file.h"
#include "cli/commands.h"
#include "feeds/fetch/fetcher.h"
#include "feeds/ingest.h"
#include "feeds/parse/feed_format.h"
#include "model/admit.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

// The spec.pull.http.format object the flags describe.
Result<json::object> FormatFromFlags(const ParsedArgs& args) {
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

// A feed body: a read-only mapping of a regular file (no copy, pages mapped
// up front with MAP_POPULATE -- a feed can be 100+ MB), or the bytes read
// from anything else.
class Body {
 public:
  Body() = default;
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;
  ~Body() {
    if (map_ != nullptr) munmap(map_, size_);
  }
  void Own(std::string text) { owned_ = std::move(text); }
  std::string_view view() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(owned_);
  }

  // Maps `path` if it is a non-empty regular file, else reads it ("-" is
  // standard input).
  Status Load(const std::string& path, size_t max_bytes) {
    int fd = path == "-" ? -1 : open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && path == "-") return Read(path, max_bytes);  // standard input
    if (fd < 0) return Status::IoError(path + ": " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      size_ = static_cast<size_t>(st.st_size);
      if (size_ > max_bytes) {
        close(fd);
        return Status::TooLarge(path + ": larger than " + std::to_string(max_bytes) + " bytes");
      }
      void* m = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      close(fd);
      if (m != MAP_FAILED) {
        map_ = m;
        return Status::Ok();
      }
    } else {
      close(fd);
    }
    return Read(path, max_bytes);
  }

 private:
  Status Read(const std::string& path, size_t max_bytes) {
    size_ = 0;
    auto r = ReadFile(path, max_bytes);
    if (!r) return r.error();
    owned_ = std::move(*r);
    return Status::Ok();
  }

  void* map_ = nullptr;
  size_t size_ = 0;
  std::string owned_;
};

// Reads FILE, a file:// URL, or fetches an http(s) URL with the daemon's
// fetcher (same TLS checks, redirects, gzip and size limit).
Status ReadSource(const std::string& source, Body& body) {
  std::string path = source;
  if (path.rfind("file://", 0) == 0) {
    path = path.substr(7);
  } else if (path.find("://") != std::string::npos) {
    feeds::CurlFetcher fetcher;
    feeds::FetchRequest request;
    request.url = source;
    auto fetched = fetcher.Fetch(request, feeds::FetchLimits());
    if (!fetched.ok()) return fetched.error();
    body.Own(std::move(fetched->body));
    return Status::Ok();
  }
  return body.Load(path, size_t{1} << 30);
}

}  // namespace

int RunFeeds(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.empty()) return ctx.Usage("expected a subcommand: parse");
  if (pos[0] != "parse") return ctx.Usage("unknown subcommand " + pos[0] + " (expected parse)");
  if (pos.size() != 2) return ctx.Usage("parse takes exactly one FILE or URL");
  const std::string& source = pos[1];

  auto format = FormatFromFlags(ctx.args);
  if (!format) return ctx.Usage(format.error().message());
  std::string content = ctx.args.Get("content", "IPSet");
  json::object spec{{"content", content},
                    {"pull", json::object{{"http", json::object{{"url", "file:///feed"}, {"format", *format}}}}}};
  json::object doc{{"apiVersion", "projectcalico.org/v3"},
                   {"kind", "GlobalThreatFeed"},
                   {"metadata", json::object{{"name", "feeds-parse"}}},
                   {"spec", spec}};
  auto admitted = model::Admit(doc);
  if (!admitted) return ctx.Usage("invalid feed settings: " + admitted.error().message());
  const json::value& admitted_spec = admitted->object.at("spec");
  auto feed_format = feeds::FeedFormatFromSpec(admitted_spec);
  if (!feed_format) return ctx.Fail(feed_format.error().message());
  auto feed_content = feeds::ContentFromSpec(admitted_spec);
  if (!feed_content) return ctx.Fail(feed_content.error().message());

  Body body;
  if (Status st = ReadSource(source, body); !st.ok()) return ctx.Fail(st.message());
  auto ingested = feeds::Ingest(body.view(), *feed_format, *feed_content);
  if (!ingested) return ctx.Fail(source + ": " + ingested.error().message());
  const feeds::IngestResult& r = *ingested;

  // The whole output is built in one buffer and written with one call.
  std::string text;
  if (r.content == feeds::Content::kIPSet) {
    r.ips.AppendCidrs(&text, /*compact=*/true, "", "\n");
  } else {
    size_t bytes = 0;
    for (const std::string& n : r.domains) bytes += n.size() + 1;
    text.reserve(bytes);
    for (const std::string& n : r.domains) text.append(n).push_back('\n');
  }
  ctx.out->write(text.data(), static_cast<std::streamsize>(text.size()));

  std::ostream& err = *ctx.err;
  err << source << ": " << r.entries << " entries read from " << r.data_lines << " data lines; " << r.prefixes
      << (r.content == feeds::Content::kIPSet ? " prefixes" : " domains") << " kept\n";
  if (r.ignored > 0) err << "  " << r.ignored << " localhost-style hosts-file names ignored\n";
  if (r.invalid > 0) {
    err << "  " << r.invalid << " invalid entries dropped:\n";
    for (const feeds::SkippedLine& s : r.examples) {
      err << "  line " << s.line << ": " << s.text << " (" << s.reason << ")\n";
    }
  }
  return kExitOk;
}

}  // namespace tw::cli
