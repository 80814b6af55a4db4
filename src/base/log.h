// Logging: thin wrapper over spdlog so the rest of the code base has one
// include and one init call.  Never log secret values.
#ifndef TW_BASE_LOG_H_
#define TW_BASE_LOG_H_

#include <spdlog/spdlog.h>

#include <string_view>

namespace tw {

// level: "debug" | "info" | "warn" | "error".  Logs go to stderr.
void InitLogging(std::string_view level);

}  // namespace tw

#define TW_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define TW_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define TW_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define TW_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)

#endif  // TW_BASE_LOG_H_
