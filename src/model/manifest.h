// Manifest files: what `threatwall create|apply|validate -f FILE` read.
#ifndef TW_MODEL_MANIFEST_H_
#define TW_MODEL_MANIFEST_H_

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::model {

struct ManifestDocument {
  std::string source;  // file name as the user gave it ("-" for stdin)
  int index = 0;       // 1-based document number within the source
  boost::json::value value;
  // "items[2]" for an object that came from a List (or a top-level JSON
  // array), "" otherwise.  Error messages about this object should read
  // "SOURCE: document N: items[2].FIELD: REASON" -- see Where().
  std::string item_path;

  // "SOURCE: document N" or "SOURCE: document N: items[2]": the prefix for
  // errors about this document.
  std::string Where() const;
};

// Inputs larger than this are rejected with TooLarge.
inline constexpr size_t kMaxManifestBytes = 64u << 20;

// Splits a file into documents: JSON (object, or concatenated objects) when
// the first non-blank character is '{' or '[', else multi-document YAML.  A
// document whose kind is "List" (apiVersion v1) is expanded into its items,
// which keep the List's document index.  Errors are prefixed
// "SOURCE: document N: ..." (or "SOURCE: ..." when the position is unknown).
//
// Details: a UTF-8 byte order mark is skipped; a top-level JSON array is a
// list of objects (like a List's items); any kind ending in "List" with an
// `items` array is expanded as kubectl does, and items of a typed list
// (e.g. "GlobalThreatFeedList") that have neither apiVersion nor kind get
// them from the list.  Every document must be an object with string
// `apiVersion` and `kind` ("SOURCE: document N: kind: required");
// whether the kind is served is left to Admit().  Empty documents are
// skipped.  Over kMaxManifestBytes: TooLarge.
Result<std::vector<ManifestDocument>> ParseManifest(std::string_view text, std::string_view source);

}  // namespace tw::model

#endif  // TW_MODEL_MANIFEST_H_
