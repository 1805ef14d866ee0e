// What every resource command shares (calicoctl/calicoctl/commands/common: cmd.go,
// resources.go ExecuteConfigCommand, version_mismatch.go): its flags, the parsed arguments, the
// run over every resource named on the command line or loaded with -f, and the results the
// commands then report.
//
//   flags ──ResourceArgsFromFlags──▶ ResourceArgs ──ExecuteConfigCommand──▶ CommandResults
//          (resource_loader.h: -f)        (resource_actions.h: one action per resource)
//
// Thread-safety: a Context is used by one command at a time.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/resource_actions.h"

namespace calico::ctl {

// -l/--log-level, --context, --allow-version-mismatch, -h/--help.
void AddGlobalFlags(FlagSet& fs);
// -c/--config.
void AddConfigFlag(FlagSet& fs);
// -f/--filename, -R/--recursive, --skip-empty, -c/--config, -n/--namespace.
void AddCrudFlags(FlagSet& fs);

// The arguments every resource command takes (sets the log level from -l as a side effect).
ResourceArgs ResourceArgsFromFlags(const FlagSet& fs, Action action);

// Parses `args` into `fs`: -1 to go on, else the exit code (after printing the error, or the
// usage for --help).
int ParseOrFail(FlagSet& fs, std::span<const std::string> args, Context& ctx,
                std::string_view usage);

// Prints MassageError(message) to ctx.err; returns 1.
int Fail(Context& ctx, std::string_view message);

// common.CommandResults.
struct CommandResults {
  static CommandResults Error(std::string message, bool file_invalid = false) {
    CommandResults r;
    r.err = std::move(message);
    r.file_invalid = file_invalid;
    return r;
  }
  // "Failed to create Calico API client: ..." was printed: the command exits 1.
  bool client_failed = false;
  bool file_invalid = false;
  int num_resources = 0;
  int num_handled = 0;
  std::optional<std::string> err;
  std::string single_kind;
  std::vector<ActionOutput> resources;
  std::vector<std::string> res_errs;
  datastore::Client* client = nullptr;
};

// common.ExecuteConfigCommand: the version-mismatch check, the resources of -f or of KIND NAME...,
// then ExecuteResourceAction on each (result_reporter.h prints the summary).
CommandResults ExecuteConfigCommand(const ResourceArgs& args, Context& ctx);

}  // namespace calico::ctl
