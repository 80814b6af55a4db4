#include "feeds/controller/feed_data.h"

#include <openssl/evp.h>

#include <boost/json.hpp>

namespace tw::feeds {

namespace json = boost::json;

namespace {

const char* ContentName(Content c) { return c == Content::kIPSet ? "IPSet" : "DomainNameSet"; }

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string EncodeFeedData(const FeedDataMeta& meta, std::string entries) {
  json::object m;
  m["feed"] = meta.feed;
  m["feedUid"] = meta.feed_uid;
  m["content"] = ContentName(meta.content);
  m["version"] = meta.version;
  m["createdAt"] = meta.created_at;
  m["gnsUid"] = meta.gns_uid;
  m["gnsCreated"] = meta.gns_created;
  m["count"] = meta.count;
  m["sha256"] = meta.sha256;
  entries += json::serialize(m);
  return entries;
}

Result<FeedDataMeta> DecodeFeedDataView(std::string_view value, std::string_view* entries) {
  // The meta line is the last one; the entries end with '\n' before it.
  size_t nl = value.rfind('\n');
  size_t meta_begin = nl == std::string_view::npos ? 0 : nl + 1;
  auto bad = [&](std::string_view why) {
    return Status::IoError("stored feed data: " + std::string(why));
  };
  json::error_code ec;
  json::value v = json::parse(value.substr(meta_begin), ec);
  if (ec || !v.is_object()) return bad("the meta line is not a JSON object");
  const json::object& m = v.as_object();
  FeedData out;  // meta only: the entries stay in `value`
  auto str = [&](std::string_view key) -> std::string {
    auto it = m.find(key);
    return it != m.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
  };
  auto num = [&](std::string_view key) -> int64_t {
    auto it = m.find(key);
    if (it == m.end()) return 0;
    if (it->value().is_int64()) return it->value().as_int64();
    if (it->value().is_uint64()) return static_cast<int64_t>(it->value().as_uint64());
    return 0;
  };
  out.meta.feed = str("feed");
  out.meta.feed_uid = str("feedUid");
  std::string content = str("content");
  if (content == "IPSet") {
    out.meta.content = Content::kIPSet;
  } else if (content == "DomainNameSet") {
    out.meta.content = Content::kDomainNameSet;
  } else {
    return bad("content \"" + content + "\" is neither IPSet nor DomainNameSet");
  }
  out.meta.version = num("version");
  out.meta.created_at = str("createdAt");
  out.meta.gns_uid = str("gnsUid");
  out.meta.gns_created = str("gnsCreated");
  out.meta.count = static_cast<uint64_t>(num("count"));
  out.meta.sha256 = str("sha256");
  *entries = value.substr(0, meta_begin);
  if (!out.meta.sha256.empty() && Sha256Hex(*entries) != out.meta.sha256)
    return bad("entries of feed " + out.meta.feed + " do not match their SHA-256 (damaged record)");
  return std::move(out.meta);
}

Result<FeedData> DecodeFeedData(std::string_view value) {
  std::string_view entries;
  TW_ASSIGN_OR_RETURN(FeedDataMeta meta, DecodeFeedDataView(value, &entries));
  return FeedData{std::move(meta), std::string(entries)};
}

std::string RenderGns(const FeedDataMeta& meta, const FeedSpec& feed, std::string_view entries) {
  json::object labels;
  if (feed.gns_labels)
    for (const auto& [k, v] : *feed.gns_labels) labels[k] = v;
  labels[kCreatorLabel] = kCreatorValue;  // overrides a user label of the same key, as Calico
  json::object owner{{"apiVersion", "projectcalico.org/v3"},
                     {"kind", "GlobalThreatFeed"},
                     {"name", feed.name},
                     {"uid", feed.uid},
                     {"controller", true}};
  json::object metadata{{"name", GnsNameFor(feed.name)},
                        {"uid", meta.gns_uid},
                        {"creationTimestamp", meta.gns_created},
                        {"generation", meta.version},
                        {"labels", std::move(labels)},
                        {"ownerReferences", json::array{std::move(owner)}}};
  std::string out = R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkSet","metadata":)";
  out += json::serialize(metadata);
  out += R"(,"spec":{"nets":[)";
  out.reserve(out.size() + entries.size() + entries.size() / 8 + 8);
  bool first = true;
  size_t pos = 0;
  while (pos < entries.size()) {
    size_t nl = entries.find('\n', pos);
    if (nl == std::string_view::npos) nl = entries.size();
    if (nl > pos) {
      if (!first) out.push_back(',');
      first = false;
      // Entries are CIDRs (digits, hex, '.', ':', '/'): nothing to escape.
      out.push_back('"');
      out.append(entries.substr(pos, nl - pos));
      out.push_back('"');
    }
    pos = nl + 1;
  }
  out += "]}}";
  return out;
}

}  // namespace tw::feeds
