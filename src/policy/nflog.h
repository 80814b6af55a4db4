// NFLOG prefixes: the compact strings the dataplane attaches to verdicts so
// that a log record maps back to tier, policy and rule -- Calico's encoding
// (docs/calico-semantics.md §7), so flow-log tooling reads them unchanged.
//
//   rule hit        <A><O><D><idx>|<name>   A: A allow, D deny, P pass
//                                           O: P policy, R profile
//                                           D: I ingress, E egress
//                   "APE0|security.allow-dns", "DPI3|ns1/default.web"
//   end of tier     DP<D>|<tier> (deny), PP<D>|<tier> (pass)
//   staged no-match DP<D>|<staged policy name>
//   no profile      DR<D>
//
// The kernel keeps 63 bytes of a prefix.  A prefix of 63 bytes or more is
// shortened to: its first 10 bytes + 16 lower-case hex digits of the 64-bit
// FNV-1a hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of the
// whole unshortened prefix + "_" + its last 10 bytes (37 bytes in total).
// Calico's own hash differs (it is not specified); the layout is the same.
//
// Log rules get no NFLOG prefix (empty string): Calico's Log action writes
// to the kernel log, not to flow logs.  Pure functions.
#ifndef TW_POLICY_NFLOG_H_
#define TW_POLICY_NFLOG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "policy/inputs.h"

namespace tw::policy {

// Longest prefix the kernel keeps (64 bytes including the NUL).
inline constexpr size_t kMaxNflogPrefixLen = 63;

// NFLOG groups (Calico's): policy verdicts on ingress / egress, DNS packets.
inline constexpr uint16_t kNflogGroupIngress = 1;
inline constexpr uint16_t kNflogGroupEgress = 2;
inline constexpr uint16_t kNflogGroupDns = 3;
inline constexpr uint16_t NflogGroup(Direction d) {
  return d == Direction::kIngress ? kNflogGroupIngress : kNflogGroupEgress;
}

// Returns `prefix` unchanged when shorter than 63 bytes, else the hashed
// form described above (the hash is tw::Fnv1a64, base/strings.h).
std::string ShortenNflogPrefix(std::string_view prefix);

// A policy rule hit ("APE0|tier.name"); empty for Action::kLog.
std::string RuleNflogPrefix(Action action, Direction direction, uint32_t index, std::string_view policy_key);
// A profile rule hit ("ARI0|kns.default"); empty for Action::kLog.
std::string ProfileNflogPrefix(Action action, Direction direction, uint32_t index, std::string_view profile);
// End of a tier: "DPI|tier" when `deny`, else "PPI|tier".
std::string EndOfTierNflogPrefix(bool deny, Direction direction, std::string_view tier);
// A staged policy none of whose rules matched: "DPE|staged:tier.name".
std::string StagedNoMatchNflogPrefix(Direction direction, std::string_view policy_key);
// No profile allowed the packet: "DRI" / "DRE".
std::string NoProfileNflogPrefix(Direction direction);

// A prefix read back (for flow logs and tests).  Hashed prefixes parse too,
// but `name` is then the shortened text and `hashed` is set.
struct ParsedNflogPrefix {
  Action action = Action::kAllow;  // kAllow, kDeny or kPass
  bool profile = false;            // O == 'R'
  Direction direction = Direction::kIngress;
  std::optional<uint32_t> index;   // rule index; nullopt for end of tier / no-match / no profile
  std::string name;                // policy key, tier or profile; may be empty ("DRI")
  bool hashed = false;
};
// InvalidArgument naming the prefix and the reason for anything else.
Result<ParsedNflogPrefix> ParseNflogPrefix(std::string_view prefix);

}  // namespace tw::policy

#endif  // TW_POLICY_NFLOG_H_
