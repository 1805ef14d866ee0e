#include "calico/base/cleanup.h"

#include "calico/base/log.h"

namespace calico {

UndoStack::~UndoStack() {
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    Status st = it->second();
    if (!st) {
      CALICO_LOG(error, component_, "rollback: {} failed: {}", it->first, st.error().message());
    }
  }
}

}  // namespace calico
