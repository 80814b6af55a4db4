// Bearer-token files in the data directory (admin.token, readonly.token).
#ifndef TW_DAEMON_TOKENS_H_
#define TW_DAEMON_TOKENS_H_

#include <string>

#include "base/result.h"

namespace tw::daemon {

// 32 random bytes from /dev/urandom as 64 lower-case hex characters.
Result<std::string> NewToken();

// Returns the token stored at `path` (surrounding whitespace trimmed).  If
// the file does not exist, writes a NewToken() plus a newline with mode
// 0600 and returns it.  An existing file keeps its content; an empty one is
// an error (IoError naming the path), as is any I/O failure.
Result<std::string> EnsureTokenFile(const std::string& path);

}  // namespace tw::daemon

#endif  // TW_DAEMON_TOKENS_H_
