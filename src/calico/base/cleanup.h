// Scope guards (absl::Cleanup) and the undo stack of a multi-step operation.
//
//   Cleanup remove_dir([&] { std::filesystem::remove_all(dir, ec); });
//   ...
//   std::move(remove_dir).Cancel();   // keep the directory after all
//
//   UndoStack undo("cni");
//   RETURN_IF_ERROR(CreateVeth());
//   undo.Push("delete veth", [&] { return DeleteVeth(); });
//   RETURN_IF_ERROR(WriteEndpoint());    // a failure here deletes the veth again
//   undo.Commit();
//
// Thread-safety: objects confined to the scope (and thread) that made them.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "calico/base/result.h"

namespace calico {

// Runs a callback when the scope ends, unless cancelled. The callback returns void: a step that
// can fail decides there what to do with the failure (log it, as rollbacks do).
template <typename F>
class [[nodiscard]] Cleanup {
  static_assert(std::is_void_v<std::invoke_result_t<F&>>,
                "a Cleanup callback returns void: log or handle a failure inside it");

 public:
  explicit Cleanup(F callback) : callback_(std::move(callback)) {}
  Cleanup(Cleanup&& other) noexcept(std::is_nothrow_move_constructible_v<F>)
      : callback_(std::move(other.callback_)), armed_(std::exchange(other.armed_, false)) {}
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  Cleanup& operator=(Cleanup&&) = delete;
  ~Cleanup() {
    if (armed_) callback_();
  }

  // Drops the callback without running it.
  void Cancel() && { armed_ = false; }
  // Runs the callback now (once).
  void Invoke() && {
    if (std::exchange(armed_, false)) callback_();
  }

 private:
  F callback_;
  bool armed_ = true;
};

template <typename F>
Cleanup(F) -> Cleanup<F>;

// The undo steps of an operation made of several steps: each step that succeeded pushes what
// removes it; destruction runs the steps pushed so far in reverse order, unless Commit() was
// called. An undo step that fails is logged ("rollback: <what> failed: <error>") under the
// component's logger and the remaining steps still run.
class UndoStack {
 public:
  explicit UndoStack(std::string log_component) : component_(std::move(log_component)) {}
  UndoStack(const UndoStack&) = delete;
  UndoStack& operator=(const UndoStack&) = delete;
  ~UndoStack();

  void Push(std::string what, std::function<Status()> undo) {
    steps_.emplace_back(std::move(what), std::move(undo));
  }
  // The operation is complete: keep everything.
  void Commit() { steps_.clear(); }

 private:
  std::string component_;
  std::vector<std::pair<std::string, std::function<Status()>>> steps_;
};

}  // namespace calico
