#include "policy/nflog.h"

#include <cstdio>

#include "base/strings.h"

namespace tw::policy {
namespace {

constexpr size_t kKeepHead = 10, kKeepTail = 10, kHashDigits = 16;
constexpr size_t kHashedLen = kKeepHead + kHashDigits + 1 + kKeepTail;

char DirectionLetter(Direction d) { return d == Direction::kIngress ? 'I' : 'E'; }

char ActionLetter(Action a) {
  switch (a) {
    case Action::kAllow: return 'A';
    case Action::kDeny: return 'D';
    case Action::kPass: return 'P';
    case Action::kLog: break;
  }
  return '\0';
}

std::string HitPrefix(Action action, char owner, Direction direction, uint32_t index, std::string_view name) {
  char letter = ActionLetter(action);
  if (letter == '\0') return "";  // Log: kernel log only, no NFLOG (see header)
  std::string out{letter, owner, DirectionLetter(direction)};
  out += std::to_string(index);
  out += '|';
  out += name;
  return ShortenNflogPrefix(out);
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string ShortenNflogPrefix(std::string_view prefix) {
  if (prefix.size() < kMaxNflogPrefixLen) return std::string(prefix);
  std::string out(prefix.substr(0, kKeepHead));
  out.append(Hex64(Fnv1a64(prefix)), 0, kHashDigits);
  out += '_';
  out += prefix.substr(prefix.size() - kKeepTail);
  return out;
}

std::string RuleNflogPrefix(Action action, Direction direction, uint32_t index, std::string_view policy_key) {
  return HitPrefix(action, 'P', direction, index, policy_key);
}

std::string ProfileNflogPrefix(Action action, Direction direction, uint32_t index, std::string_view profile) {
  return HitPrefix(action, 'R', direction, index, profile);
}

std::string EndOfTierNflogPrefix(bool deny, Direction direction, std::string_view tier) {
  std::string out{deny ? 'D' : 'P', 'P', DirectionLetter(direction), '|'};
  out += tier;
  return ShortenNflogPrefix(out);
}

std::string StagedNoMatchNflogPrefix(Direction direction, std::string_view policy_key) {
  std::string out{'D', 'P', DirectionLetter(direction), '|'};
  out += policy_key;
  return ShortenNflogPrefix(out);
}

std::string NoProfileNflogPrefix(Direction direction) { return std::string{'D', 'R', DirectionLetter(direction)}; }

Result<ParsedNflogPrefix> ParseNflogPrefix(std::string_view prefix) {
  auto fail = [&](std::string_view why) {
    return Status::InvalidArgument("NFLOG prefix '" + std::string(prefix) + "': " + std::string(why));
  };
  if (prefix.size() > kMaxNflogPrefixLen) return fail("longer than 63 bytes");
  if (prefix.size() < 3) return fail("shorter than 3 bytes");
  ParsedNflogPrefix p;
  switch (prefix[0]) {
    case 'A': p.action = Action::kAllow; break;
    case 'D': p.action = Action::kDeny; break;
    case 'P': p.action = Action::kPass; break;
    default: return fail("action letter must be A, D or P");
  }
  if (prefix[1] != 'P' && prefix[1] != 'R') return fail("owner letter must be P or R");
  p.profile = prefix[1] == 'R';
  if (prefix[2] != 'I' && prefix[2] != 'E') return fail("direction letter must be I or E");
  p.direction = prefix[2] == 'I' ? Direction::kIngress : Direction::kEgress;
  std::string_view rest = prefix.substr(3);
  if (rest.empty()) {
    if (p.action != Action::kDeny || !p.profile) return fail("only DRI/DRE may end after the direction");
    return p;
  }
  size_t bar = rest.find('|');
  if (bar == std::string_view::npos) return fail("missing '|'");
  std::string_view digits = rest.substr(0, bar);
  if (!digits.empty()) {
    if (digits.size() > 9) return fail("rule index too long");
    uint32_t idx = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return fail("rule index is not a decimal number");
      idx = idx * 10 + static_cast<uint32_t>(c - '0');
    }
    p.index = idx;
  }
  p.name = std::string(rest.substr(bar + 1));
  if (prefix.size() == kHashedLen && prefix[kKeepHead + kHashDigits] == '_') {
    p.hashed = true;
    for (size_t i = kKeepHead; i < kKeepHead + kHashDigits; ++i) p.hashed = p.hashed && IsHex(prefix[i]);
  }
  return p;
}

}  // namespace tw::policy
