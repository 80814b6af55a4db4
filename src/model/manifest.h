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
};

// Splits a file into documents: JSON (object, or concatenated objects) when
// the first non-blank character is '{' or '[', else multi-document YAML.  A
// document whose kind is "List" (apiVersion v1) is expanded into its items,
// which keep the List's document index.  Errors are prefixed
// "SOURCE: document N: ..." (or "SOURCE: ..." when the position is unknown).
Result<std::vector<ManifestDocument>> ParseManifest(std::string_view text, std::string_view source);

}  // namespace tw::model

#endif  // TW_MODEL_MANIFEST_H_
