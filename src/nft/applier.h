// Applier: where nft scripts go.  The real implementation (netlink / `nft
// -f`, root) comes later; FakeApplier records the scripts for tests.
#ifndef TW_NFT_APPLIER_H_
#define TW_NFT_APPLIER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tw::nft {

class Applier {
 public:
  virtual ~Applier() = default;
  // Applies `nft_script` (RenderRuleset / RenderDiff text) as one
  // transaction: completely or not at all.  An error leaves the kernel as
  // it was; the caller then falls back to a full load.
  virtual Status Apply(std::string_view nft_script) = 0;
};

// Records every script; answers with `next_status` (OK by default).  A
// script that fails is still recorded.  Not thread-safe.
class FakeApplier : public Applier {
 public:
  Status Apply(std::string_view nft_script) override {
    scripts_.emplace_back(nft_script);
    return next_status_;
  }
  void set_next_status(Status s) { next_status_ = std::move(s); }
  const std::vector<std::string>& scripts() const { return scripts_; }

 private:
  std::vector<std::string> scripts_;
  Status next_status_;
};

}  // namespace tw::nft

#endif  // TW_NFT_APPLIER_H_
