// ReportResults against upstream's messages and exit codes (calicoctl/calicoctl/commands/
// crud_commands.go): each variant (create/apply/validate, replace, delete, patch) and outcome
// (all, some, none handled; bad input; nothing named; client failure).
#include "calico/ctl/result_reporter.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace calico::ctl {
namespace {

struct Case {
  const char* name;
  Action action;
  CommandResults results;
  int code;
  std::string out;
  std::string err;
};

CommandResults Results(int resources, int handled, std::vector<std::string> res_errs,
                       std::optional<std::string> err = std::nullopt, std::string kind = "IPPool") {
  CommandResults r;
  r.num_resources = resources;
  r.num_handled = handled;
  r.res_errs = std::move(res_errs);
  r.err = std::move(err);
  r.single_kind = std::move(kind);
  return r;
}

CommandResults FileInvalid(std::string err) {
  return CommandResults::Error(std::move(err), /*file_invalid=*/true);
}

CommandResults ClientFailed() {
  CommandResults r;
  r.client_failed = true;
  return r;
}

TEST(ResultReporterTest, EveryVariantAndOutcomeAsUpstreamPrintsIt) {
  const std::vector<Case> cases = {
      {"create all", Action::kCreate, Results(2, 2, {}), 0,
       "Successfully created 2 'IPPool' resource(s)\n", ""},
      {"apply all, several kinds", Action::kApply, Results(3, 3, {}, std::nullopt, ""), 0,
       "Successfully applied 3 resource(s)\n", ""},
      {"validate all", Action::kValidate, Results(1, 1, {}), 0,
       "Successfully validated 1 'IPPool' resource(s)\n", ""},
      {"create one, failed", Action::kCreate, Results(1, 0, {"exists"}), 1, "",
       "failed to create 'IPPool' resource: [exists]\n"},
      {"create none of two", Action::kCreate, Results(2, 0, {"a", "b"}), 1, "",
       "failed to create any 'IPPool' resources: [a b]\n"},
      {"apply none, several kinds", Action::kApply, Results(2, 0, {"a", "b"}, std::nullopt, ""), 1,
       "", "failed to apply any resources: [a b]\n"},
      {"create some", Action::kCreate, Results(3, 2, {"c"}), 1,
       "Partial success: created the first 2 out of 3 'IPPool' resources:\n", "hit error: [c]\n"},
      {"apply some, several kinds", Action::kApply, Results(3, 2, {"c"}, std::nullopt, ""), 1,
       "Partial success: applied the first 2 out of 3 resources:\n", "hit error: [c]\n"},
      // Go prints "Partial success" only when more were handled than failed.
      {"create as many failed as handled", Action::kCreate, Results(2, 1, {"b"}), 1, "",
       "hit error: [b]\n"},
      {"replace all", Action::kUpdate, Results(2, 2, {}), 0,
       "Successfully replaced 2 'IPPool' resource(s)\n", ""},
      {"replace one, failed", Action::kUpdate, Results(1, 0, {}, "conflict"), 1, "",
       "failed to replace 'IPPool' resource: conflict\n"},
      {"replace none of two", Action::kUpdate, Results(2, 0, {}, "conflict"), 1, "",
       "failed to replace any 'IPPool' resources: conflict\n"},
      {"replace stops at the first error", Action::kUpdate, Results(3, 1, {}, "conflict"), 1,
       "Partial success: replaced the first 1 out of 3 'IPPool' resources:\n",
       "hit error: conflict\n"},
      {"delete all", Action::kDelete, Results(2, 2, {}), 0,
       "Successfully deleted 2 'IPPool' resource(s)\n", ""},
      {"delete some", Action::kDelete, Results(2, 1, {"gone"}), 1,
       "Successfully deleted 1 'IPPool' resource(s)\n",
       "Failed to delete 'IPPool' resource: gone\n\n"},
      {"delete none, several kinds", Action::kDelete, Results(2, 0, {"x", "y"}, std::nullopt, ""),
       1, "", "Failed to delete resource: x\nFailed to delete resource: y\n\n"},
      {"delete, version mismatch", Action::kDelete, Results(0, 0, {}, "version mismatch"), 1, "",
       "version mismatch\n"},
      {"patch", Action::kPatch, Results(1, 1, {}), 0, "Successfully patched 1 'IPPool' resource\n",
       ""},
      {"patch failed", Action::kPatch, Results(1, 0, {}, "not found"), 1, "",
       "hit error: not found\n"},
      {"patch of nothing", Action::kPatch, Results(0, 0, {}), 1, "", "no resources specified\n"},
      {"bad file", Action::kApply, FileInvalid("yaml: line 2: did not find expected key"), 1, "",
       "failed to execute command: yaml: line 2: did not find expected key\n"},
      {"bad field", Action::kCreate, FileInvalid("unknown field \"bogus\""), 1, "",
       "failed to execute command: field in document is not recognized or is in the wrong "
       "location: bogus\n"},
      {"nothing named", Action::kDelete, Results(0, 0, {}, std::nullopt, ""), 0,
       "No resources specified\n", ""},
      {"nothing in the file", Action::kCreate,
       CommandResults::Error("no resources specified in file -"), 1, "",
       "no resources specified in file -\n"},
      {"no client", Action::kApply, ClientFailed(), 1, "", ""},
  };
  for (const Case& c : cases) {
    std::istringstream in;
    std::ostringstream out;
    std::ostringstream err;
    Context ctx{.in = in, .out = out, .err = err, .open_client = nullptr, .build = {}};
    EXPECT_EQ(ReportResults(c.action, c.results, ctx), c.code) << c.name;
    EXPECT_EQ(out.str(), c.out) << c.name;
    EXPECT_EQ(err.str(), c.err) << c.name;
  }
}

TEST(ResultReporterTest, VerbsAndGoErrorLists) {
  EXPECT_EQ(ActionVerb(Action::kUpdate), "replace");
  EXPECT_EQ(ActionPastTense(Action::kUpdate), "replaced");
  EXPECT_EQ(ActionPastTense(Action::kApply), "applied");
  EXPECT_EQ(GoErrList({}), "[]");
  EXPECT_EQ(GoErrList({"a b", "c"}), "[a b c]");
}

}  // namespace
}  // namespace calico::ctl
