// Loading the resources a command names with -f (calicoctl/calicoctl/resourcemgr/resourcemgr.go
// CreateResourcesFromFile, commands/file/iter.go): a file, stdin ("-"), or the .yaml/.yml/.json
// files of a directory (recursively with -R), each a stream of `---` separated YAML or JSON
// documents holding a resource, a list of them, or a <Kind>List, decoded as calicoctl's strict
// decoder does: field names matched case-insensitively (encoding/json) and stored canonically,
// then bad durations, wrong JSON types and unknown fields refused. Every document is decoded
// before the command acts on any; with several, an error names the document
// ("document 2 (IPPool second): ...").
//
//   -f FILE|DIR|-  ──ExpandFilename──▶ files ──ReadResourceInput──▶ text
//                  ──ParseResourceStream (SplitYamlDocuments, ParseYaml, DecodeResourceObject)──▶
//                  [model::Resource]
//
// Thread-safety: free functions over values (ReadResourceInput reads the given stream).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::ctl {

// One decoded document object -> resources (a <Kind>List gives its items), field names
// canonical and durations in Go's form. Errors (kInvalidArgument) carry calicoctl's messages:
// "unknown resource type (K) and/or version (V)", `unknown field "x"` (see MassageError),
// "cannot unmarshal ...", `time: invalid duration "x"`.
[[nodiscard]] Result<std::vector<model::Resource>> DecodeResourceObject(const model::Json& obj);

// Every resource of a YAML/JSON stream (`---` separated documents; null documents are skipped).
[[nodiscard]] Result<std::vector<model::Resource>> ParseResourceStream(std::string_view text);

// The contents of `path`, or of `in` when `path` is "-". Errors: kNotFound with Go's
// "open PATH: no such file or directory" / "permission denied".
[[nodiscard]] Result<std::string> ReadResourceInput(const std::string& path, std::istream& in);

// file.Iter: `filename` itself (a file or "-"), or the .yaml/.yml/.json files of the directory
// `filename` (and of its subdirectories when `recursive`), in lexical order.
std::vector<std::string> ExpandFilename(const std::string& filename, bool recursive);

// What LoadResources read, or why it stopped.
struct LoadedResources {
  std::vector<model::Resource> resources;
  std::optional<std::string> error;
  // The error is a file's (unreadable, not YAML, not a resource): the commands report it as
  // "failed to execute command: <error>".
  bool file_invalid = false;
};

// Loads every resource of -f `filename` (-R: `recursive`). A file or directory without
// resources is an error ("no resources specified in file|directory X") unless `skip_empty`.
LoadedResources LoadResources(const std::string& filename, bool recursive, bool skip_empty,
                              std::istream& in);

}  // namespace calico::ctl
