// Reading one member out of JSON text without parsing the whole document.
// A stored GlobalNetworkSet of a million nets is ~19 MB of JSON with a few
// hundred bytes of metadata in front; a DOM of it costs ~100 MB.  These
// scanners let the API and the controllers touch the metadata alone.
#ifndef TW_BASE_JSON_TEXT_H_
#define TW_BASE_JSON_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tw {

// [begin, end) of the value of member `key` of the top-level object in
// `doc` (a string-aware scan that skips nested values; keys are compared as
// written, so a key spelled with escapes does not match).  nullopt when
// `doc` is not an object, the member is absent, or the text is malformed
// before it is found.
std::optional<std::pair<size_t, size_t>> FindTopLevelMember(std::string_view doc, std::string_view key);

// The members of the JSON object `obj` as (key as written, value text), in
// order; nullopt when `obj` is not a well-formed object at this level.
std::optional<std::vector<std::pair<std::string_view, std::string_view>>> ObjectMembers(std::string_view obj);

// The number of elements of the JSON array `array`; nullopt if malformed.
std::optional<size_t> CountArrayElements(std::string_view array);

// `doc` with "resourceVersion":"<revision>" added as the first member of
// its top-level "metadata" object; nullopt when there is no metadata object.
// The caller guarantees metadata has no resourceVersion yet.
std::optional<std::string> WithResourceVersionText(std::string_view doc, int64_t revision);

}  // namespace tw

#endif  // TW_BASE_JSON_TEXT_H_
