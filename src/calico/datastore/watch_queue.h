// The queue between a watch stream's reader thread and its consumer, shared by the etcd backends
// (etcd/etcd_backend.cc over gRPC, etcdhttp/etcd_http_backend.cc over the JSON gateway): events in
// revision order, back-pressure on the reader (a slow consumer stalls the stream instead of
// growing the queue), the first error kept, Close() from either side. Implements the consumer's
// half of `WatchStream` (backend.h): Next's contract is the interface's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"

namespace calico::datastore {

class WatchQueue {
 public:
  static constexpr size_t kMaxQueued = 10000;

  // The reader: appends `events` once there is room; false when the queue was closed meanwhile
  // (the reader should stop).
  bool Push(std::vector<WatchEvent> events);

  // The reader: the stream failed. The first error is kept; none after Close().
  void Fail(Error error);

  // The consumer: WatchStream::Next.
  Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds timeout);

  // Either side: true the first time (the caller then cancels its stream), false after.
  bool Close();
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> queue_;
  std::optional<Error> error_;
  bool closed_ = false;
};

}  // namespace calico::datastore
