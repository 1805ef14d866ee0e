// A Go text/template subset for `calicoctl get -o go-template=...|go-template-file=...`
// (calicoctl/calicoctl/commands/common/printer.go ResourcePrinterTemplate, which parses with
// text/template's grammar and executes over the slice of results).
//
//   GoTemplate::Parse(text) ──▶ tree of text / {{pipeline}} / if / range / with nodes
//   tmpl.Execute(data, funcs) ──▶ output text
//
// Supported: text and actions with trim markers ({{- -}}), comments ({{/* */}}), field chains on
// the data (.Spec.CIDR, .ObjectMeta.Name, .Items, {{.}}), variables ($, $x := ..., $x = ...,
// range $i, $e := ...), literals (strings "..." and `raw`, numbers, true, false, nil),
// parenthesised pipelines, pipelines (a | f b), if / else if / else, range (lists and maps, with
// else, break, continue), with / else, and the functions and, or, not, len, index, print,
// printf, println, eq, ne, lt, le, gt, ge, plus calicoctl's join, joinAndTruncate and config.
// Not supported: define / template / block, method calls, html / js / urlquery / slice / call.
//
// Data is JSON (the resources as calicoctl marshals them). Field names resolve as Go's struct
// fields do for calicoctl's types: a key equal ignoring case (CIDR -> cidr, NATOutgoing ->
// natOutgoing), ObjectMeta / ListMeta -> metadata, TypeMeta -> the object itself, and
// ObjectMeta's fields promoted (.Name, .Namespace, .Labels). An absent field is empty (the
// caller fills in Go's zero values where it knows the types); a field of a string, number or
// list is an error as in Go.
//
// Errors use text/template's wording: "template: get:LINE: ..." for parse errors and
// `template: get:LINE:COL: executing "get" at <.X>: ...` for execution errors.
//
// Thread-safety: a parsed GoTemplate is immutable; Execute may run concurrently.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::ctl {

namespace go_template_internal {
struct Node;
}  // namespace go_template_internal

// calicoctl's template functions that need the datastore: `config "asnumber"` (printer.go
// config: the global AS number, 64512 by default).
struct GoTemplateFuncs {
  std::function<std::string(std::string_view name)> config;
};

class GoTemplate {
 public:
  // Errors: kInvalidArgument with text/template's parse error ("template: get:1: ...").
  [[nodiscard]] static Result<GoTemplate> Parse(std::string_view text, std::string name = "get");
  // Writes the output to `out`; on an execution error what was written before it stays written
  // (text/template writes as it goes). Errors: kInvalidArgument with text/template's execution
  // error.
  [[nodiscard]] Status Execute(const model::Json& data, std::ostream& out,
                               const GoTemplateFuncs& funcs = {}) const;

 private:
  std::string name_;
  std::shared_ptr<const go_template_internal::Node> root_;
};

}  // namespace calico::ctl
