// The changes between two rendered tables (old and new Program): which
// kernel sets appear, disappear or change members (element by element),
// and which chains appear, disappear or change -- as data, and as one
// incremental `nft -f` script that applies them in a single transaction.
// Pure: no I/O.  See docs/dataplane.md "Steady state".
#ifndef TW_NFT_DIFF_H_
#define TW_NFT_DIFF_H_

#include <string>
#include <vector>

#include "nft/render.h"
#include "policy/ir.h"

namespace tw::nft {

enum class ChangeKind { kAdded, kRemoved, kChanged };

struct SetChange {
  ChangeKind kind = ChangeKind::kChanged;
  SetSpec set;  // the new set (the old one for kRemoved)
  // Elements, compared as elements (exact ranges), not as addresses: when
  // two ranges merge, the old elements go and the merged one comes.  For
  // kAdded `added` holds every element; kRemoved has none (the set goes).
  std::vector<Element> added, removed;
};

struct ChainChange {
  ChangeKind kind = ChangeKind::kChanged;
  ChainSpec chain;  // the new chain (the old one for kRemoved)
};

struct Diff {
  std::vector<SetChange> sets;      // in Ruleset order: new sets, then removed
  std::vector<ChainChange> chains;  // likewise
  bool empty() const { return sets.empty() && chains.empty(); }
};

// The changes that turn the table of `old_program` into the table of
// `new_program` (both rendered with `options`).  The Diff points into
// `new_program` and `old_program` (SetSpec::members): it must not outlive
// them.
Diff DiffPrograms(const policy::Program& old_program, const policy::Program& new_program,
                  const RenderOptions& options);
Diff DiffRulesets(const Ruleset& old_rules, const Ruleset& new_rules);

// The incremental script, in an order the kernel accepts within one
// transaction: add new sets (with elements), delete then add elements of
// changed sets (interval sets reject overlaps), declare new chains, flush
// and refill new and changed chains, flush and delete removed chains, and
// last delete removed sets (no rule refers to them any more).  Empty text
// for an empty Diff.
std::string RenderDiff(const Diff& diff);

// The chain part of RenderDiff alone (declare new chains, flush and refill
// new and changed ones, flush and delete removed ones): the netlink
// dataplane sends the set changes itself, before (new sets, elements) and
// after (removed sets) this script.  Empty text when no chain changes.
std::string RenderChainDiff(const Diff& diff);

// The chain switch of a full sync, one `nft -f` transaction over a table
// that may hold anything from an earlier run: declares every chain of
// `ruleset`, flushes every chain in `existing_chains` (so no rule is ever
// duplicated), deletes the existing chains `ruleset` does not have, fills
// the chains of `ruleset`, and last deletes `delete_sets` (sets no rule
// refers to after the flushes).  The sets of `ruleset` must already exist
// in the kernel: the script does not declare them.
std::string RenderChainSwitch(const Ruleset& ruleset, const std::vector<std::string>& existing_chains,
                              const std::vector<std::string>& delete_sets);

}  // namespace tw::nft

#endif  // TW_NFT_DIFF_H_
