#include "detect/threat_index.h"

#include <algorithm>
#include <bit>
#include <functional>

#include "feeds/parse/domain.h"

namespace tw::detect {

// ---------------------------------------------------------------------------
// FeedSet

std::shared_ptr<const FeedSet> FeedSet::FromEntries(std::string name, feeds::Content content,
                                                    std::string_view entries) {
  std::shared_ptr<FeedSet> set(new FeedSet(std::move(name), content));
  if (content == feeds::Content::kIPSet) {
    net::CidrSet::Builder builder;
    size_t lines = static_cast<size_t>(std::count(entries.begin(), entries.end(), '\n')) + 1;
    builder.Reserve(lines);
    size_t pos = 0;
    while (pos < entries.size()) {
      size_t end = entries.find('\n', pos);
      if (end == std::string_view::npos) end = entries.size();
      std::string_view line = entries.substr(pos, end - pos);
      if (!line.empty() && !builder.AddText(line)) ++set->skipped_;
      pos = end + 1;
    }
    set->ips_ = builder.Build();
    return set;
  }
  set->text_.reserve(entries.size() + 1);
  size_t pos = 0;
  while (pos < entries.size()) {
    size_t end = entries.find('\n', pos);
    if (end == std::string_view::npos) end = entries.size();
    std::string_view line = entries.substr(pos, end - pos);
    if (!line.empty()) {
      set->starts_.push_back(static_cast<uint32_t>(set->text_.size()));
      set->text_.append(line);
      set->text_.push_back('\n');
    }
    pos = end + 1;
  }
  set->SortDomains();
  return set;
}

std::shared_ptr<const FeedSet> FeedSet::FromIps(std::string name, net::CidrSet ips) {
  std::shared_ptr<FeedSet> set(new FeedSet(std::move(name), feeds::Content::kIPSet));
  set->ips_ = std::move(ips);
  return set;
}

std::shared_ptr<const FeedSet> FeedSet::FromDomains(std::string name, std::vector<std::string> domains) {
  std::shared_ptr<FeedSet> set(new FeedSet(std::move(name), feeds::Content::kDomainNameSet));
  for (const std::string& d : domains) {
    if (d.empty()) continue;
    set->starts_.push_back(static_cast<uint32_t>(set->text_.size()));
    set->text_ += d;
    set->text_.push_back('\n');
  }
  set->SortDomains();
  return set;
}

// On entry starts_ holds one offset per name (no end sentinel), in text
// order; on exit the names are in byte order, unique, with the sentinel.
void FeedSet::SortDomains() {
  if (starts_.empty()) return;
  std::vector<std::string_view> names;
  names.reserve(starts_.size());
  for (size_t i = 0; i < starts_.size(); ++i) {
    size_t end = i + 1 < starts_.size() ? starts_[i + 1] : text_.size();
    names.push_back(std::string_view(text_).substr(starts_[i], end - starts_[i] - 1));
  }
  if (std::adjacent_find(names.begin(), names.end(), std::greater_equal<>()) == names.end()) {
    // The usual case: the feed controller stores them sorted and unique.
    starts_.push_back(static_cast<uint32_t>(text_.size()));
    return;
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string text;
  text.reserve(text_.size());
  std::vector<uint32_t> starts;
  starts.reserve(names.size() + 1);
  for (std::string_view n : names) {
    starts.push_back(static_cast<uint32_t>(text.size()));
    text.append(n);
    text.push_back('\n');
  }
  starts.push_back(static_cast<uint32_t>(text.size()));
  text_ = std::move(text);
  starts_ = std::move(starts);
}

size_t FeedSet::entry_count() const {
  return content_ == feeds::Content::kIPSet ? ips_.CidrCount() : domain_count();
}

std::shared_ptr<const FeedSet> FeedSet::GainedSince(const FeedSet* old) const {
  if (old == nullptr || old->content_ != content_) {
    return shared_from_this();  // everything
  }
  if (content_ == feeds::Content::kIPSet) return FromIps(name_, ips_.Difference(old->ips_));
  std::vector<std::string> gained;
  size_t j = 0;
  for (size_t i = 0; i < domain_count(); ++i) {
    std::string_view n = domain(i);
    while (j < old->domain_count() && old->domain(j) < n) ++j;
    if (j < old->domain_count() && old->domain(j) == n) continue;
    gained.emplace_back(n);
  }
  return FromDomains(name_, std::move(gained));
}

std::optional<net::Cidr> FeedSet::PrefixOf(const net::IpAddr& a) const { return ips_.CoveringCidr(a); }

size_t FeedSet::MemoryBytes() const {
  return sizeof(FeedSet) + name_.capacity() + ips_.MemoryBytes() + text_.capacity() +
         starts_.capacity() * sizeof(uint32_t);
}

// ---------------------------------------------------------------------------
// ThreatIndex

std::shared_ptr<const ThreatIndex> ThreatIndex::Empty() {
  static const std::shared_ptr<const ThreatIndex> empty(new ThreatIndex());
  return empty;
}

std::shared_ptr<const ThreatIndex> ThreatIndex::Build(std::vector<IndexedFeed> feeds) {
  std::shared_ptr<ThreatIndex> index(new ThreatIndex());
  std::erase_if(feeds, [](const IndexedFeed& f) { return f.set == nullptr || f.set->empty(); });
  std::stable_sort(feeds.begin(), feeds.end(),
                   [](const IndexedFeed& a, const IndexedFeed& b) { return a.set->name() < b.set->name(); });
  for (IndexedFeed& f : feeds) {
    if (!index->names_.empty() && index->names_.back() == f.set->name()) continue;
    index->names_.push_back(f.set->name());
    index->feeds_.push_back(std::move(f));
  }

  // IPSet feeds: one matcher over their union.
  const net::CidrSet* only = nullptr;
  net::CidrSet all;
  for (FeedId id = 0; id < index->feeds_.size(); ++id) {
    const FeedSet& set = *index->feeds_[id].set;
    if (set.content() != feeds::Content::kIPSet) continue;
    index->ip_feeds_.push_back(id);
    index->ip_prefixes_ += set.ips().CidrCount();
    if (index->ip_feeds_.size() == 1) {
      only = &set.ips();
    } else {
      all = (index->ip_feeds_.size() == 2 ? *only : all).Union(set.ips());
    }
  }
  if (!index->ip_feeds_.empty()) {
    index->has_ip_ = true;
    index->union_ = net::PrefixMatcher(index->ip_feeds_.size() == 1 ? *only : all);
  }
  index->BuildDomains();
  return index;
}

uint64_t ThreatIndex::Hash(std::string_view s) {
  uint64_t h = std::hash<std::string_view>{}(s);
  // Mix so that the low bits (the slot) and the high bits (the tag) differ.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

void ThreatIndex::BuildDomains() {
  size_t total = 0;
  for (const IndexedFeed& f : feeds_)
    if (f.set->content() == feeds::Content::kDomainNameSet) total += f.set->domain_count();
  if (total == 0) return;
  size_t capacity = std::bit_ceil(std::max<size_t>(16, total * 2));
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
  domains_.reserve(total);
  std::map<std::vector<FeedId>, uint32_t> interned;
  auto intern = [&](std::vector<FeedId> ids) {
    auto [it, inserted] = interned.try_emplace(ids, static_cast<uint32_t>(feed_sets_.size()));
    if (inserted) feed_sets_.push_back(std::move(ids));
    return it->second;
  };
  for (FeedId id = 0; id < feeds_.size(); ++id) {
    const FeedSet& set = *feeds_[id].set;
    if (set.content() != feeds::Content::kDomainNameSet) continue;
    uint32_t single = intern({id});
    for (size_t i = 0; i < set.domain_count(); ++i) {
      std::string_view name = set.domain(i);
      uint64_t h = Hash(name);
      uint64_t tag = h >> 32;
      for (uint64_t slot = h & mask_;; slot = (slot + 1) & mask_) {
        uint64_t v = slots_[slot];
        if (v == 0) {
          domains_.push_back({name.data(), static_cast<uint32_t>(name.size()), single});
          slots_[slot] = (tag << 32) | domains_.size();
          break;
        }
        if ((v >> 32) != tag) continue;
        DomainEntry& e = domains_[(v & 0xffffffffu) - 1];
        if (std::string_view(e.data, e.len) != name) continue;
        // Listed by an earlier feed too (feeds go in id order: append).
        std::vector<FeedId> ids = feed_sets_[e.feed_set];
        ids.push_back(id);
        e.feed_set = intern(std::move(ids));
        break;
      }
    }
  }
}

std::optional<uint32_t> ThreatIndex::FindDomain(std::string_view name) const {
  if (slots_.empty()) return std::nullopt;
  uint64_t h = Hash(name);
  uint64_t tag = h >> 32;
  for (uint64_t slot = h & mask_;; slot = (slot + 1) & mask_) {
    uint64_t v = slots_[slot];
    if (v == 0) return std::nullopt;
    if ((v >> 32) != tag) continue;
    const DomainEntry& e = domains_[(v & 0xffffffffu) - 1];
    if (std::string_view(e.data, e.len) == name) return e.feed_set;
  }
}

void ThreatIndex::ContainsBatchV4(std::span<const uint32_t> keys, std::span<uint8_t> out) const {
  if (!has_ip_) {
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keys.size()), uint8_t{0});
    return;
  }
  union_.ContainsBatchV4(keys, out);
}

IpMatch ThreatIndex::MatchIp(const net::IpAddr& a) const {
  IpMatch match;
  if (!ContainsIp(a)) return match;
  for (FeedId id : ip_feeds_) {
    std::optional<net::Cidr> prefix = feeds_[id].set->PrefixOf(a);
    if (!prefix) continue;
    match.feeds.push_back(id);
    if (!match.prefix || prefix->prefix_len() > match.prefix->prefix_len()) match.prefix = prefix;
  }
  return match;
}

std::vector<ThreatIndex::FeedId> ThreatIndex::MatchDomain(std::string_view name) const {
  std::vector<FeedId> out;
  if (slots_.empty() || name.empty()) return out;
  if (auto set = FindDomain(name)) out = feed_sets_[*set];
  // Parent domains, for the feeds that match subdomains.
  for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    auto set = FindDomain(name.substr(dot + 1));
    if (!set) continue;
    for (FeedId id : feed_sets_[*set])
      if (feeds_[id].match_subdomains) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> ThreatIndex::NamesOf(std::span<const FeedId> ids) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (FeedId id : ids) out.push_back(names_[id]);
  return out;
}

size_t ThreatIndex::MemoryBytes() const {
  size_t bytes = sizeof(ThreatIndex) + union_.MemoryBytes() + domains_.capacity() * sizeof(DomainEntry) +
                 slots_.capacity() * sizeof(uint64_t);
  for (const auto& s : feed_sets_) bytes += sizeof(s) + s.capacity() * sizeof(FeedId);
  return bytes;
}

}  // namespace tw::detect
