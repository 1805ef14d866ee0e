// The agent's own metrics (calico_node_*) beside Felix's.
#include "calico/agent/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, RenderProblemsSkippedValuesAndFieldsNotActedOn) {
  Metrics m;
  std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE calico_node_unrenderable gauge\n"));
  EXPECT_THAT(text, Not(HasSubstr("calico_node_unrenderable{")));
  EXPECT_THAT(text, HasSubstr("calico_node_datastore_values_skipped_total 0\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_config_fields_not_acted_on 0\n"));

  m.SetRenderProblems({{"policy", "default/a\"b\\c"}, {"endpoint", "ns/wep"}},
                      {{{"policy", "default/web"}, 2}});
  m.AddSkippedDatastoreValue();
  m.AddSkippedDatastoreValue();
  m.SetConfigNotActedOn(3);
  text = m.Render();
  // Label values are escaped as the exposition format requires.
  EXPECT_THAT(
      text,
      HasSubstr("calico_node_unrenderable{kind=\"policy\",name=\"default/a\\\"b\\\\c\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_unrenderable{kind=\"endpoint\",name=\"ns/wep\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("calico_node_http_match_ignored{kind=\"policy\",name=\"default/web\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_datastore_values_skipped_total 2\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_config_fields_not_acted_on 3\n"));

  m.SetRenderProblems({}, {});
  EXPECT_THAT(m.Render(), Not(HasSubstr("calico_node_unrenderable{")));
}

}  // namespace
}  // namespace calico::agent
