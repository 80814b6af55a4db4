// Reading the documents of `-f` arguments and turning each into the REST
// target it names.  Shared by create/apply/replace/delete/validate.
#ifndef TW_CLI_MANIFESTS_H_
#define TW_CLI_MANIFESTS_H_

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "base/result.h"
#include "model/kinds.h"
#include "model/manifest.h"

namespace tw::cli {

// Reads and splits every file ("-" = stdin; a directory = its *.yaml,
// *.yml and *.json files in name order).  A file that cannot be read or
// parsed adds one line to `errors` ("FILE: document N: REASON", or
// "FILE: REASON") and contributes no documents.
std::vector<model::ManifestDocument> LoadManifests(const std::vector<std::string>& files,
                                                   std::vector<std::string>* errors);

// What one document refers to.
struct Target {
  const model::KindInfo* kind = nullptr;
  std::string name;
  std::string ns;  // "" for cluster-scoped kinds
};

// Identifies the kind ("kind not served: apps/v1 Deployment"), the name
// ("metadata.name: Required value") and the namespace: the document's, else
// `flag_ns`, else "default"; a document namespace that differs from an
// explicit `flag_ns` is an error, as in kubectl.  Sets metadata.namespace
// of namespaced objects in `doc`.  Errors are InvalidArgument without the
// file prefix.
Result<Target> ResolveTarget(boost::json::value& doc, const std::string& flag_ns, bool require_name = true);

// "FILE: document N: " for messages.
std::string DocPrefix(const model::ManifestDocument& doc);

}  // namespace tw::cli

#endif  // TW_CLI_MANIFESTS_H_
