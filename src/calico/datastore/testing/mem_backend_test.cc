#include "calico/datastore/testing/mem_backend.h"

#include <gtest/gtest.h>

namespace calico::datastore {
namespace {

TEST(MemBackendTest, FailNextInjectsOneFailure) {
  MemBackend mem;
  mem.FailNext(Error(ErrorCode::kUnavailable, "etcd down"));
  auto r = mem.Create("/a", "1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(mem.Create("/a", "1"));
}

}  // namespace
}  // namespace calico::datastore
