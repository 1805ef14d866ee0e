// The resource commands' result summary (calicoctl/calicoctl/commands/crud_commands.go).
#include "calico/ctl/result_reporter.h"

#include <fmt/format.h>

#include "calico/base/strings.h"

namespace calico::ctl {
namespace {

// " 'Kind'" when every resource is of one kind, else "".
std::string KindPart(const CommandResults& r) {
  return r.single_kind.empty() ? std::string() : fmt::format(" '{}'", r.single_kind);
}

// createOrApplyOrValidate (errors per resource in res_errs) and reportReplaceResults (the first
// error in err): the same three outcomes, none / all / some handled.
int ReportBatch(Action action, const CommandResults& r, Context& ctx) {
  const bool per_resource = action != Action::kUpdate;
  const std::string errs = per_resource ? GoErrList(r.res_errs) : r.err.value_or("<nil>");
  const bool failed = per_resource ? !r.res_errs.empty() : r.err.has_value();
  const std::string_view verb = ActionVerb(action);
  const std::string_view past = ActionPastTense(action);
  if (r.num_handled == 0) {
    if (r.num_resources == 1) {
      return Fail(ctx, fmt::format("failed to {} '{}' resource: {}", verb, r.single_kind, errs));
    }
    return Fail(ctx, fmt::format("failed to {} any{} resources: {}", verb, KindPart(r), errs));
  }
  if (!failed) {
    ctx.out << fmt::format("Successfully {} {}{} resource(s)\n", past, r.num_handled, KindPart(r));
    return 0;
  }
  if (!per_resource || r.num_handled - static_cast<int>(r.res_errs.size()) > 0) {
    ctx.out << fmt::format("Partial success: {} the first {} out of {}{} resources:\n", past,
                           r.num_handled, r.num_resources, KindPart(r));
  }
  return Fail(ctx, fmt::format("hit error: {}", errs));
}

// The delete command: the success line for what was deleted, then a line per failure.
int ReportDelete(const CommandResults& r, Context& ctx) {
  if (!r.err && r.num_handled > 0) {
    ctx.out << fmt::format("Successfully deleted {}{} resource(s)\n", r.num_handled, KindPart(r));
  } else if (r.err) {
    return Fail(ctx, fmt::format("hit error: {}", *r.err));
  }
  if (r.res_errs.empty()) return 0;
  std::string msg;
  for (const auto& e : r.res_errs) {
    msg += r.single_kind.empty()
               ? fmt::format("Failed to delete resource: {}\n", e)
               : fmt::format("Failed to delete '{}' resource: {}\n", r.single_kind, e);
  }
  ctx.err << MassageError(msg) << "\n";
  return 1;
}

}  // namespace

std::string_view ActionVerb(Action action) {
  switch (action) {
    case Action::kApply:
      return "apply";
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "replace";
    case Action::kDelete:
      return "delete";
    case Action::kGetOrList:
      return "get";
    case Action::kPatch:
      return "patch";
    case Action::kValidate:
      return "validate";
  }
  return "";
}

std::string_view ActionPastTense(Action action) {
  switch (action) {
    case Action::kApply:
      return "applied";
    case Action::kCreate:
      return "created";
    case Action::kUpdate:
      return "replaced";
    case Action::kDelete:
      return "deleted";
    case Action::kGetOrList:
      return "got";
    case Action::kPatch:
      return "patched";
    case Action::kValidate:
      return "validated";
  }
  return "";
}

std::string GoErrList(const std::vector<std::string>& errs) {
  return "[" + StrJoin(errs, " ") + "]";
}

int ReportResults(Action action, const CommandResults& r, Context& ctx) {
  if (r.client_failed) return 1;  // "Failed to create Calico API client" is printed already.
  if (action == Action::kPatch) {
    if (r.num_resources == 0) return Fail(ctx, r.err.value_or("no resources specified"));
    if (!r.err && r.num_handled > 0) {
      ctx.out << fmt::format("Successfully patched {} '{}' resource\n", r.num_handled,
                             r.single_kind);
      return 0;
    }
    return Fail(ctx, fmt::format("hit error: {}", r.err.value_or("<nil>")));
  }
  if (r.file_invalid) {
    return Fail(ctx, fmt::format("failed to execute command: {}", r.err.value_or("<nil>")));
  }
  if (r.num_resources == 0) {
    if (r.err) return Fail(ctx, *r.err);
    ctx.out << "No resources specified\n";
    return 0;
  }
  if (action == Action::kDelete) return ReportDelete(r, ctx);
  return ReportBatch(action, r, ctx);
}

}  // namespace calico::ctl
