#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace tw {

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("threatwall");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace tw
