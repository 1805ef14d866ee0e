// The Go text/template subset behind `calicoctl get -o go-template=...`
// (calicoctl/calicoctl/commands/common/printer.go ResourcePrinterTemplate over text/template):
// grammar, functions, fmt's %v printing and text/template's error wording.
#include "calico/ctl/go_template.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/ctl/testing/ctl_fixture.h"

namespace calico::ctl {
namespace {

using model::Json;
using ::testing::HasSubstr;

std::string Render(std::string_view text, const Json& data, const GoTemplateFuncs& funcs = {}) {
  auto t = GoTemplate::Parse(text);
  if (!t) return "PARSE ERROR: " + t.error().message();
  std::ostringstream out;
  Status st = t->Execute(data, out, funcs);
  if (!st) return out.str() + "EXEC ERROR: " + st.error().message();
  return out.str();
}

// What `calicoctl get ippools` gives the template: the slice of results, here one IPPoolList.
Json PoolListData() {
  return Json::parse(R"j([{"apiVersion": "projectcalico.org/v3", "kind": "IPPoolList",
    "metadata": {"resourceVersion": "12"},
    "items": [
      {"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
       "metadata": {"name": "pool1", "labels": {"zone": "a", "env": "prod"}},
       "spec": {"cidr": "10.1.0.0/16", "natOutgoing": true, "ipipMode": "Always",
                "blockSize": 26, "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"]}},
      {"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
       "metadata": {"name": "pool2"},
       "spec": {"cidr": "10.2.0.0/16", "blockSize": 28, "nodeSelector": "zone == 'b'",
                "allowedUses": ["Workload"]}}]}])j");
}

// Every template of printer.go / resourcemgr.go's tables and the user forms of Calico's docs,
// rendered over the same results: one golden file.
TEST(GoTemplateTest, TemplatesRenderAsGoDoes) {
  const std::vector<std::string> templates = {
      "{{range .}}{{range .Items}}{{.ObjectMeta.Name}}\t{{.Spec.CIDR}}\n{{end}}{{end}}",
      "{{range .}}{{range .Items}}{{.Name}},{{end}}{{end}}",
      "{{range .}}{{range .Items}}{{.metadata.name}} {{.spec.cidr}}\n{{end}}{{end}}",
      "{{range $i, $p := (index . 0).Items}}{{$i}}={{$p.Spec.BlockSize}} {{end}}",
      "{{(index (index . 0).Items 1).Spec.NodeSelector}}",
      "{{range .}}{{range .Items}}{{printf \"%-8s|%5d|%v\" .ObjectMeta.Name .Spec.BlockSize "
      ".Spec.NATOutgoing}}\n{{end}}{{end}}",
      "{{range .}}{{range .Items}}{{if .Spec.IPIPMode}}{{.Spec.IPIPMode}}{{else}}Never{{end}} "
      "{{end}}{{end}}",
      "{{range .}}{{range .Items}}{{join .Spec.AllowedUses \",\"}};{{join .ObjectMeta.Labels "
      "\",\"}};{{end}}{{end}}",
      "{{range .}}{{range .Items}}{{joinAndTruncate .Spec.AllowedUses \",\" 10}};{{end}}{{end}}",
      "{{with index . 0}}{{.Kind}} {{.ListMeta.ResourceVersion}} {{len .Items}}{{end}}",
      "{{range .}}{{range .Items -}}\n  {{ .Name }}\n{{- end}}{{end}}",
      "{{/* a comment */}}{{$n := 0}}{{range (index . 0).Items}}{{$n = .Spec.BlockSize}}{{end}}"
      "{{$n}}",
      "{{range .}}{{range .Items}}{{if eq .Spec.BlockSize 26}}26:{{.Name}}{{else if "
      "gt .Spec.BlockSize 27}}big:{{.Name}}{{end}} {{end}}{{end}}",
      "{{range .}}{{range .Items}}{{if and .Spec.NATOutgoing (ne .Name \"x\")}}nat{{else}}"
      "nonat{{end}}{{if not .Spec.Disabled}}+{{end}}{{end}}{{end}}",
      "{{range .}}{{range .Items}}{{.Spec.CIDR | printf \"%q\"}} {{end}}{{end}}",
      "{{range .}}{{range .Items}}{{index .ObjectMeta.Labels \"zone\"}}|{{end}}{{end}}",
      "{{range (index . 0).Items}}{{if eq .Name \"pool2\"}}{{break}}{{end}}{{.Name}}{{end}}",
      "{{range .}}{{range .Items}}{{.Spec.AllowedUses}} {{.ObjectMeta.Labels}} {{end}}{{end}}",
      "{{range (index . 0).Missing}}x{{else}}none{{end}} {{print 1 2 \"a\" \"b\"}} {{println "
      "\"x\"}}",
      "{{config \"asnumber\"}} {{len \"abc\"}} {{printf \"%d %s\" 1}} {{printf \"%d\" \"x\"}}",
  };
  std::string all;
  GoTemplateFuncs funcs{.config = [](std::string_view) { return std::string("64513"); }};
  for (const auto& t : templates) {
    all += "=== " + t + "\n" + Render(t, PoolListData(), funcs) + "\n";
  }
  calico::testing::ExpectGolden("src/calico/ctl/testdata/go_template.golden", all);
}

// text/template/parse's and exec's error texts.
TEST(GoTemplateTest, ErrorsUseTextTemplatesWording) {
  const Json data = PoolListData();
  EXPECT_EQ(Render("{{.Name", data), "PARSE ERROR: template: get:1: unclosed action");
  EXPECT_EQ(Render("{{range .}}x", data), "PARSE ERROR: template: get:1: unexpected EOF");
  EXPECT_EQ(Render("a\n{{end}}", data), "PARSE ERROR: template: get:2: unexpected {{end}}");
  EXPECT_EQ(Render("{{foo .}}", data),
            "PARSE ERROR: template: get:1: function \"foo\" not defined");
  EXPECT_EQ(Render("{{if}}x{{end}}", data), "PARSE ERROR: template: get:1: missing value for if");
  EXPECT_EQ(Render("{{$x}}", data), "PARSE ERROR: template: get:1: undefined variable \"$x\"");
  EXPECT_EQ(Render("{{}}", data), "PARSE ERROR: template: get:1: missing value for command");
  EXPECT_EQ(Render("ok {{.Items}}", data),
            "ok EXEC ERROR: template: get:1:5: executing \"get\" at <.Items>: can't evaluate "
            "field Items in type []interface {}");
  EXPECT_EQ(Render("{{index . 5}}", data),
            "EXEC ERROR: template: get:1:2: executing \"get\" at <index . 5>: error calling index: "
            "index out of range: 5");
  EXPECT_EQ(Render("{{range 3}}x{{end}}", data),
            "EXEC ERROR: template: get:1:2: executing \"get\" at <range>: range can't iterate "
            "over 3");
}

class GoTemplateCommandTest : public testing::CtlFixture {};

// get_command.go buildResourcePrinter: go-template=TEXT / go-template-file=FILE, an empty value
// refused; the template runs over the slice of results (printer.go ResourcePrinterTemplate).
TEST_F(GoTemplateCommandTest, GetPrintsThroughTheTemplate) {
  ASSERT_EQ(Run({"create", "-f", "-"},
                "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p1}\nspec: "
                "{cidr: 10.1.0.0/16}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\n"
                "metadata: {name: p2}\nspec: {cidr: 10.2.0.0/16}\n")
                .code,
            0);
  auto r = Run({"get", "ippools", "-o",
                "go-template={{range .}}{{range .Items}}{{.ObjectMeta.Name}}={{.Spec.CIDR}} "
                "{{end}}{{end}}"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "p1=10.1.0.0/16 p2=10.2.0.0/16 ");
  r = Run({"get", "ippool", "p2", "-o", "go-template={{range .}}{{.Name}}{{end}}"});
  EXPECT_EQ(r.out, "p2");
  // Fields the document omits hold Go's zero values (the struct's false, 0, empty list).
  r = Run({"get", "ippool", "p2", "-o",
           "go-template={{range .}}{{.Spec.NATOutgoing}} {{.Spec.Disabled}} {{.Spec.BlockSize}} "
           "{{.Spec.DisableBGPExport}} {{len .Spec.AllowedUses}}{{end}}"});
  EXPECT_EQ(r.out, "false false 26 false 2");
  const std::string file = ::testing::TempDir() + "/ctl_template.tmpl";
  { std::ofstream(file) << "{{range .}}{{range .Items}}{{.Name}}\n{{end}}{{end}}"; }
  r = Run({"get", "ippools", "-o", "go-template-file=" + file});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "p1\np2\n");
  r = Run({"get", "ippools", "-o", "go-template="});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "need to specify a template\n");
  r = Run({"get", "ippools", "-o", "go-template-file="});
  EXPECT_EQ(r.err, "need to specify a template file\n");
  r = Run({"get", "ippools", "-o", "go-template-file=/nonexistent/t"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "open /nonexistent/t: no such file or directory\n");
  r = Run({"get", "ippools", "-o", "go-template={{range .}"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "template: get:1: unclosed action\n");
}

}  // namespace
}  // namespace calico::ctl
