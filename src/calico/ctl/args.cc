// Reproduces spf13/pflag's parsing as used by calicoctl's cobra commands.
#include "calico/ctl/args.h"

#include <algorithm>

#include <fmt/format.h>

namespace calico::ctl {

void FlagSet::AddBool(std::string name, char shorthand, std::string help, bool hidden) {
  flags_.push_back(Flag{.name = std::move(name),
                        .shorthand = shorthand,
                        .is_bool = true,
                        .hidden = hidden,
                        .value = "false",
                        .default_value = "false",
                        .help = std::move(help)});
}

void FlagSet::AddString(std::string name, char shorthand, std::string default_value,
                        std::string help) {
  flags_.push_back(Flag{.name = std::move(name),
                        .shorthand = shorthand,
                        .is_bool = false,
                        .hidden = false,
                        .value = default_value,
                        .default_value = default_value,
                        .help = std::move(help)});
}

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  for (auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

FlagSet::Flag* FlagSet::FindShort(char c) {
  for (auto& f : flags_) {
    if (f.shorthand != 0 && f.shorthand == c) return &f;
  }
  return nullptr;
}

Status FlagSet::Set(Flag& f, std::string_view value, std::string_view shown) {
  if (f.is_bool) {
    static const std::vector<std::string_view> kTrue = {"1", "t", "T", "true", "TRUE", "True"};
    static const std::vector<std::string_view> kFalse = {"0", "f", "F", "false", "FALSE", "False"};
    if (std::find(kTrue.begin(), kTrue.end(), value) != kTrue.end()) {
      f.value = "true";
    } else if (std::find(kFalse.begin(), kFalse.end(), value) != kFalse.end()) {
      f.value = "false";
    } else {
      return InvalidArgument(fmt::format(
          "invalid argument \"{}\" for \"{}\" flag: strconv.ParseBool: parsing \"{}\": invalid "
          "syntax",
          value, shown, value));
    }
  } else {
    f.value = std::string(value);
  }
  f.changed = true;
  return OkStatus();
}

void FlagSet::InheritPersistentFlags() {
  // calicoctl.go NewCommand: cmd.PersistentFlags() log-level/-l, context, allow-version-mismatch;
  // cobra gives every subcommand its root's persistent flags. A handler that declares one itself
  // keeps its own (and its help text); the inherited ones stay out of Usage() as cobra lists them
  // under "Global Flags".
  if (Find("log-level") == nullptr && FindShort('l') == nullptr) {
    AddString("log-level", 'l', "panic",
              "Set the log level (one of panic, fatal, error, warn, info, debug)");
    flags_.back().hidden = true;
  }
  if (Find("context") == nullptr) {
    AddString("context", 0, "", "The name of the kubeconfig context to use.");
    flags_.back().hidden = true;
  }
  if (Find("allow-version-mismatch") == nullptr) {
    AddBool("allow-version-mismatch", 0, "Allow client and cluster versions mismatch.",
            /*hidden=*/true);
  }
}

Status FlagSet::Parse(std::span<const std::string> args) {
  InheritPersistentFlags();
  positionals_.clear();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      for (size_t j = i + 1; j < args.size(); ++j)
        positionals_.push_back(args[j]);
      break;
    }
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      std::string_view body(a);
      body.remove_prefix(2);
      const size_t eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      Flag* f = Find(name);
      if (f == nullptr) return InvalidArgument(fmt::format("unknown flag: --{}", name));
      const std::string shown = fmt::format("--{}", name);
      if (eq != std::string_view::npos) {
        RETURN_IF_ERROR(Set(*f, body.substr(eq + 1), shown));
      } else if (f->is_bool) {
        RETURN_IF_ERROR(Set(*f, "true", shown));
      } else if (i + 1 < args.size()) {
        RETURN_IF_ERROR(Set(*f, args[++i], shown));
      } else {
        return InvalidArgument(fmt::format("flag needs an argument: --{}", name));
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      // Shorthand group: -AR, -fvalue, -f value, -f=value.
      for (size_t k = 1; k < a.size(); ++k) {
        const char c = a[k];
        Flag* f = FindShort(c);
        if (f == nullptr) {
          return InvalidArgument(fmt::format("unknown shorthand flag: '{}' in {}", c, a));
        }
        const std::string shown = fmt::format("-{}, --{}", c, f->name);
        if (k + 1 < a.size() && a[k + 1] == '=') {
          RETURN_IF_ERROR(Set(*f, std::string_view(a).substr(k + 2), shown));
          break;
        }
        if (f->is_bool) {
          RETURN_IF_ERROR(Set(*f, "true", shown));
          continue;
        }
        if (k + 1 < a.size()) {
          RETURN_IF_ERROR(Set(*f, std::string_view(a).substr(k + 1), shown));
        } else if (i + 1 < args.size()) {
          RETURN_IF_ERROR(Set(*f, args[++i], shown));
        } else {
          return InvalidArgument(fmt::format("flag needs an argument: '{}' in {}", c, a));
        }
        break;
      }
      continue;
    }
    positionals_.push_back(a);
  }
  // calicoctl.go NewCommand PersistentPreRunE: the level must be one logrus.ParseLevel knows
  // (checked after the flags parse and not when help is asked for, as cobra orders them).
  if (Flag* level = Find("log-level"); level != nullptr && level->changed && !GetBool("help")) {
    static const std::vector<std::string_view> kLevels = {"panic",   "fatal", "error", "warn",
                                                          "warning", "info",  "debug", "trace"};
    std::string lower = level->value;
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (std::find(kLevels.begin(), kLevels.end(), lower) == kLevels.end()) {
      return InvalidArgument(fmt::format(
          "unknown log level: {}, expected one of: panic, fatal, error, warn, info, debug",
          level->value));
    }
  }
  return OkStatus();
}

bool FlagSet::GetBool(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return f.value == "true";
  }
  return false;
}

std::string FlagSet::GetString(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return f.value;
  }
  return "";
}

bool FlagSet::Changed(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return f.changed;
  }
  return false;
}

std::string FlagSet::Usage() const {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const auto& f : flags_) {
    if (f.hidden) continue;
    std::string left = f.shorthand != 0 ? fmt::format("  -{}, --{}", f.shorthand, f.name)
                                        : fmt::format("      --{}", f.name);
    if (!f.is_bool) left += " string";
    width = std::max(width, left.size());
    std::string help = f.help;
    if (!f.is_bool && !f.default_value.empty()) {
      help += fmt::format(" (default \"{}\")", f.default_value);
    }
    rows.emplace_back(std::move(left), std::move(help));
  }
  std::string out;
  for (const auto& [left, help] : rows) {
    out += fmt::format("{:<{}}   {}\n", left, width, help);
  }
  return out;
}

}  // namespace calico::ctl
