// TempDir for tests (header only, needs GoogleTest): a fresh directory
// under ::testing::TempDir(), removed with everything in it at the end.
#ifndef TW_BASE_TEST_TEMP_DIR_H_
#define TW_BASE_TEST_TEMP_DIR_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace tw::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "tw_test") {
    std::string tmpl = ::testing::TempDir() + std::string(prefix) + "_XXXXXX";
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tw::testing

#endif  // TW_BASE_TEST_TEMP_DIR_H_
