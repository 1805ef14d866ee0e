// Random small edits of a stored value, for the tests that compare a one-pass typed reader with
// the full decode + validate path on mutated values (model/v3 stored_endpoint_test.cc,
// datastore/stored_policy_test.cc): one or two edits, each replacing, deleting or inserting one
// character from `alphabet` at a random place. Deterministic for a given `rng` state.
#pragma once

#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace calico::model::testing {

inline std::string Mutate(std::string v, std::mt19937& rng, std::string_view alphabet) {
  for (int edits = 1 + static_cast<int>(rng() % 2); edits > 0; --edits) {
    const size_t at = rng() % v.size();
    const char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 3) {
      case 0:
        v[at] = c;
        break;
      case 1:
        v.erase(at, 1);
        break;
      default:
        v.insert(at, 1, c);
        break;
    }
  }
  return v;
}

// `rounds` mutations of `base`: every value the one-pass reader `fast` accepts, the reference path
// `reference` accepts too and reads the same (the fast path never widens what is accepted). Adds
// how many values `fast` accepted to `*accepted`. Stops at the first disagreement: call it under
// ASSERT_NO_FATAL_FAILURE.
template <typename Fast, typename Reference>
void ExpectMutationsAgree(const std::string& base, int rounds, std::mt19937& rng,
                          std::string_view alphabet, Fast fast, Reference reference,
                          int* accepted) {
  for (int i = 0; i < rounds; ++i) {
    const std::string v = Mutate(base, rng, alphabet);
    auto got = fast(v);
    if (!got) continue;
    ++*accepted;
    auto ref = reference(v);
    ASSERT_TRUE(ref.has_value()) << "fast path accepted what the reference path refuses: " << v;
    ASSERT_EQ(*got, *ref) << v;
  }
}

}  // namespace calico::model::testing
