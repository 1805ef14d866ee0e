// FlagSet: a small cobra/pflag-compatible flag parser for calicoctl's commands
// (calicoctl/calicoctl/commands, spf13/pflag). Flags may appear anywhere among the positionals;
// "--name value", "--name=value", "-n value", "-nvalue", "-n=value" and grouped boolean shorthands
// ("-AR") are accepted; "--" ends flag parsing. Error texts are pflag's:
//   unknown flag: --foo
//   unknown shorthand flag: 'x' in -x
//   flag needs an argument: --filename        flag needs an argument: 'f' in -f
//   invalid argument "x" for "--overwrite" flag: strconv.ParseBool: parsing "x": invalid syntax
//
// Public so that libraries adding subcommands through the CommandRegistry (ctl.h) parse flags the
// same way.
//
// Thread-safety: values.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::ctl {

class FlagSet {
 public:
  void AddBool(std::string name, char shorthand, std::string help, bool hidden = false);
  void AddString(std::string name, char shorthand, std::string default_value, std::string help);

  // Parses `args` (without the command words). Positionals are collected in order. calicoctl's
  // global flags (--log-level/-l, --context, --allow-version-mismatch: the root command's
  // persistent flags) are accepted by every FlagSet that does not declare them itself.
  // Errors: kInvalidArgument with pflag's message.
  [[nodiscard]] Status Parse(std::span<const std::string> args);

  bool GetBool(std::string_view name) const;
  std::string GetString(std::string_view name) const;
  // True when the flag was given on the command line.
  bool Changed(std::string_view name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

  // "  -f, --filename string   Filename to use ..." lines, cobra's layout.
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    char shorthand = 0;
    bool is_bool = false;
    bool hidden = false;
    std::string value;
    std::string default_value;
    std::string help;
    bool changed = false;
  };
  void InheritPersistentFlags();
  Flag* Find(std::string_view name);
  Flag* FindShort(char c);
  [[nodiscard]] Status Set(Flag& f, std::string_view value, std::string_view shown);

  std::vector<Flag> flags_;
  std::vector<std::string> positionals_;
};

}  // namespace calico::ctl
