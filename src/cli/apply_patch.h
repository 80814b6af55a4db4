// Client-side apply, as `kubectl apply` does it for objects without a
// strategic-merge schema: a three-way JSON merge patch (RFC 7386) from the
// last-applied configuration, the new manifest and the live object.  Pure.
#ifndef TW_CLI_APPLY_PATCH_H_
#define TW_CLI_APPLY_PATCH_H_

#include <boost/json.hpp>

#include <string>

#include "base/result.h"

namespace tw::cli {

inline constexpr char kLastAppliedAnnotation[] = "kubectl.kubernetes.io/last-applied-configuration";

// The two-way merge patch that turns `from` into `to`: keys added or changed
// in `to` carry their new value, keys missing in `to` are null, nested
// objects recurse, arrays and scalars are replaced whole.  Empty object when
// equal.  `ignore_deletions` drops the nulls; `only_deletions` keeps only them.
boost::json::object TwoWayMergePatch(const boost::json::object& from, const boost::json::object& to,
                                     bool ignore_deletions = false, bool only_deletions = false);

// kubectl's CreateThreeWayJSONMergePatch: the changes from `live` to
// `modified` (never deleting what only the server set) plus deletions of
// the fields that were in `original` (last applied) but are gone from
// `modified`.  An empty object means "nothing to do".
boost::json::object ThreeWayMergePatch(const boost::json::object& original, const boost::json::object& modified,
                                       const boost::json::object& live);

// `doc` with the last-applied annotation set to the compact JSON of `doc`
// itself (without that annotation) plus "\n", as kubectl writes it.
boost::json::object WithLastApplied(const boost::json::object& doc);

// The parsed last-applied annotation of a live object: an empty object when
// absent (`*present` false), InvalidArgument when it is not a JSON object.
Result<boost::json::object> LastApplied(const boost::json::object& live, bool* present);

}  // namespace tw::cli

#endif  // TW_CLI_APPLY_PATCH_H_
