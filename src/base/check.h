// TW_CHECK: crash on the impossible.  Use only for invariants the program
// itself guarantees (say why in a comment); never for anything the outside
// world (feeds, manifests, the network, the kernel) controls -- return a
// Status for those.  Always on, also in release builds.
#ifndef TW_BASE_CHECK_H_
#define TW_BASE_CHECK_H_

#include <sstream>
#include <string>

namespace tw::internal {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* expr);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return os_; }

 private:
  std::ostringstream os_;
};

// Lets `TW_CHECK(x) << "details"` be an expression of type void.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace tw::internal

#define TW_CHECK(cond)                      \
  (cond) ? (void)0                          \
         : ::tw::internal::Voidify() &      \
               ::tw::internal::CheckFailure(__FILE__, __LINE__, #cond).stream()

#endif  // TW_BASE_CHECK_H_
