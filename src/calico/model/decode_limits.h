// The limits every decoder of untrusted text holds to: YAML and JSON documents from calicoctl,
// CNI network configurations on stdin, libnetwork HTTP requests, `calicoctl patch` patches, values
// read back from etcd or the embedded store, and `calicoctl datastore migrate import` streams.
//
// Each limit is one named constant here, and the error for a breach names it (the text in
// `k...Name`), so a user can tell which limit was hit and a reviewer can find where it is set.
//
// Why these values:
//   * nesting depth 512: Calico's deepest resource is about ten levels (a policy rule's
//     `source.serviceAccounts.selector`); go-yaml and Go's encoding/json stop at 10000 because Go
//     grows its stacks, while every recursive walker here (validation, emitters, nlohmann::json's
//     copy and dump) runs on a fixed 8 MiB thread stack. 512 levels use well under 1 MiB of it.
//   * document size 3 MiB: the Kubernetes API server's request-body limit; etcd refuses values
//     above 1.5 MiB by default (--max-request-bytes), so no real resource comes near either.
//   * stream size 64 MiB and 10000 documents per calicoctl file or stdin.
//   * aliases: go-yaml's rule (gopkg.in/yaml.v2 decode.go, allowedAliasRatio): once more than
//     100 of more than 1000 decoded nodes came from alias expansion, the share that came from
//     aliases may be at most 99% up to 400000 nodes, falling linearly to 10% at 4000000.
//   * HTTP: 64 KiB of request line and headers, a body of at most the document size.
//   * migrate import: a whole datastore in one stream (its IPAMData document holds every IPAM
//     key), so its size limits are larger; depth and aliasing are as everywhere else.
//
// Thread-safety: constants.
#pragma once

#include <cstddef>

namespace calico::model {

inline constexpr int kMaxNestingDepth = 512;
inline constexpr const char* kMaxNestingDepthName = "max nesting depth";

inline constexpr size_t kMaxDocumentBytes = size_t{3} << 20;
inline constexpr const char* kMaxDocumentBytesName = "max document size";

inline constexpr size_t kMaxStreamBytes = size_t{64} << 20;
inline constexpr const char* kMaxStreamBytesName = "max input size";

inline constexpr size_t kMaxDocuments = 10000;
inline constexpr const char* kMaxDocumentsName = "max documents per input";

// go-yaml's alias-expansion rule (see above).
inline constexpr int kAliasCountThreshold = 100;
inline constexpr int kAliasDecodeThreshold = 1000;
inline constexpr int kAliasRatioRangeLow = 400000;
inline constexpr int kAliasRatioRangeHigh = 4000000;

// A value read back from etcd or the embedded store (resources, IPAM blocks, handles, affinities,
// libnetwork records). Writers refuse values that readers would refuse.
inline constexpr size_t kMaxStoredValueBytes = kMaxDocumentBytes;
inline constexpr const char* kMaxStoredValueBytesName = "max stored value size";

// libnetwork's HTTP server (and the health and metrics servers, which take no body).
inline constexpr size_t kMaxHttpHeaderBytes = size_t{64} << 10;
inline constexpr const char* kMaxHttpHeaderBytesName = "max HTTP header size";
inline constexpr size_t kMaxHttpBodyBytes = kMaxDocumentBytes;
inline constexpr const char* kMaxHttpBodyBytesName = "max HTTP body size";

// calicoctl datastore migrate import.
inline constexpr size_t kMaxImportStreamBytes = size_t{1} << 30;
inline constexpr size_t kMaxImportDocumentBytes = size_t{512} << 20;
inline constexpr size_t kMaxImportDocuments = 10000000;

// The limits one decoding call applies; the two sets below are the only ones in use.
struct DecodeLimits {
  size_t max_document_bytes = kMaxDocumentBytes;
  size_t max_stream_bytes = kMaxStreamBytes;
  size_t max_documents = kMaxDocuments;
  int max_depth = kMaxNestingDepth;
};

inline constexpr DecodeLimits kDefaultDecodeLimits{};
inline constexpr DecodeLimits kImportDecodeLimits{.max_document_bytes = kMaxImportDocumentBytes,
                                                  .max_stream_bytes = kMaxImportStreamBytes,
                                                  .max_documents = kMaxImportDocuments,
                                                  .max_depth = kMaxNestingDepth};

}  // namespace calico::model
