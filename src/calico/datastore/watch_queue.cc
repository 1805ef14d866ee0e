#include "calico/datastore/watch_queue.h"

#include <utility>

namespace calico::datastore {

bool WatchQueue::Push(std::vector<WatchEvent> events) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return queue_.size() < kMaxQueued || closed_; });
  if (closed_) return false;
  for (auto& e : events)
    queue_.push_back(std::move(e));
  cv_.notify_all();
  return true;
}

void WatchQueue::Fail(Error error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_ && !closed_) error_ = std::move(error);
  cv_.notify_all();
}

Result<std::vector<WatchEvent>> WatchQueue::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return !queue_.empty() || error_.has_value() || closed_; });
  if (!queue_.empty()) {
    std::vector<WatchEvent> out(std::make_move_iterator(queue_.begin()),
                                std::make_move_iterator(queue_.end()));
    queue_.clear();
    cv_.notify_all();  // Wakes the reader if it was stalled on a full queue.
    return out;
  }
  if (error_) return Unexpected(*error_);
  if (closed_) return Unavailable("watch closed");
  return std::vector<WatchEvent>{};
}

bool WatchQueue::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return false;
  closed_ = true;
  cv_.notify_all();
  return true;
}

bool WatchQueue::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

}  // namespace calico::datastore
