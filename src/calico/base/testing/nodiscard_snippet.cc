// Compiled by the base_nodiscard_* tests (not linked): each CALICO_SNIPPET_<case> ignores a
// Result and must be rejected with -Werror=unused-result; without a case it compiles. The virtual
// case is the one g++ 12 misses for a [[nodiscard]] function: the class attribute covers it.
#include <functional>

#include "calico/base/result.h"

namespace {

calico::Result<int> Free() {
  return 1;
}

class Seam {
 public:
  virtual ~Seam() = default;
  virtual calico::Status Apply() = 0;
};

class Impl final : public Seam {
 public:
  calico::Status Apply() override { return calico::OkStatus(); }
};

}  // namespace

int Use(Seam& seam) {
  std::function<calico::Status()> fn = [] { return calico::OkStatus(); };
  auto lambda = []() -> calico::Result<int> { return 2; };
#if defined(CALICO_SNIPPET_free_function)
  Free();
#elif defined(CALICO_SNIPPET_virtual_method)
  seam.Apply();
#elif defined(CALICO_SNIPPET_std_function)
  fn();
#elif defined(CALICO_SNIPPET_lambda)
  lambda();
#endif
  int used = 0;
  if (Free()) ++used;
  if (seam.Apply()) ++used;
  if (fn()) ++used;
  if (lambda()) ++used;
  return used;
}

int main() {
  Impl impl;
  return Use(impl);
}
