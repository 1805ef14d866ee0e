// Reproduces calicoctl's table printer: resourcemgr headings/templates per kind rendered through
// Go text/tabwriter (minwidth 5, tabwidth 1, padding 3).
#include "calico/ctl/table.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"

namespace calico::ctl {
namespace {

using model::Json;
using Cell = std::function<std::string(const Json& doc)>;

size_t Utf8Width(std::string_view s) {
  size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

const Json* Path(const Json& doc, std::initializer_list<std::string_view> path) {
  const Json* cur = &doc;
  for (const auto p : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(std::string(p));
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  return cur;
}

// Go %v of a JSON value the way the typed field would print.
std::string Scalar(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) return GoFloat(v.get<double>());
  if (v.is_null()) return "";
  return v.dump();
}

// {{.Spec.X}} for a string (or value) field: "" when absent.
Cell Str(std::initializer_list<std::string_view> path) {
  std::vector<std::string_view> p(path);
  return [p](const Json& doc) {
    const Json* cur = &doc;
    for (const auto s : p) {
      if (!cur->is_object() || !cur->contains(std::string(s))) return std::string();
      cur = &(*cur)[std::string(s)];
    }
    return Scalar(*cur);
  };
}

// A non-pointer Go field: prints its zero value (`zero`) when absent.
Cell WithZero(Cell c, std::string zero) {
  return [c = std::move(c), zero = std::move(zero)](const Json& doc) {
    std::string s = c(doc);
    return s.empty() ? zero : s;
  };
}

// A Go pointer field: "<nil>" when absent.
Cell Ptr(std::initializer_list<std::string_view> path) {
  return WithZero(Str(path), "<nil>");
}

// joinAndTruncate over a list (each element %v) or a map (sorted k=v).
std::string JoinAndTruncate(const Json* v, std::string_view sep, size_t max_len) {
  if (v == nullptr) return "";
  std::vector<std::string> items;
  if (v->is_object()) {
    for (auto it = v->begin(); it != v->end(); ++it) {
      items.push_back(fmt::format("{}={}", it.key(), Scalar(it.value())));
    }
    std::sort(items.begin(), items.end());
  } else if (v->is_array()) {
    for (const auto& e : *v) {
      if (e.is_object()) {
        // Go %v of a struct: {field1 field2} (IPNAT: {internalIP externalIP}).
        items.push_back(fmt::format("{{{} {}}}", Scalar(e.value("internalIP", Json(""))),
                                    Scalar(e.value("externalIP", Json("")))));
      } else {
        items.push_back(Scalar(e));
      }
    }
  } else {
    items.push_back(Scalar(*v));
  }
  std::string buf;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) buf += sep;
    buf += items[i];
    if (max_len > 0 && buf.size() > max_len) {
      buf.resize(max_len - 3);
      buf += "...";
      break;
    }
  }
  return buf;
}

Cell Join(std::initializer_list<std::string_view> path, size_t max_len = 0) {
  std::vector<std::string_view> p(path);
  return [p, max_len](const Json& doc) {
    const Json* cur = &doc;
    for (const auto s : p) {
      if (!cur->is_object() || !cur->contains(std::string(s))) return std::string();
      cur = &(*cur)[std::string(s)];
    }
    return JoinAndTruncate(cur, ",", max_len);
  };
}

Cell Len(std::string_view field) {
  std::string f(field);
  return [f](const Json& doc) {
    const Json* v = Path(doc, {"spec", f});
    return std::to_string(v != nullptr && v->is_array() ? v->size() : 0);
  };
}

const Cell kName = Str({"metadata", "name"});
const Cell kNamespace = Str({"metadata", "namespace"});

struct KindTable {
  std::vector<std::string> ps;
  std::vector<std::string> wide;
  std::map<std::string, Cell> cells;
};

std::map<std::string, KindTable> BuildTables() {
  std::map<std::string, KindTable> t;
  auto never = [](std::string_view field) {
    std::string f(field);
    return Cell([f](const Json& doc) {
      std::string s = Str({"spec", f})(doc);
      return s.empty() ? std::string("Never") : s;
    });
  };
  t["IPPool"] = {{"NAME", "CIDR", "SELECTOR"},
                 {"NAME", "CIDR", "NAT", "IPIPMODE", "VXLANMODE", "DISABLED", "DISABLEBGPEXPORT",
                  "SELECTOR", "ASSIGNMENTMODE"},
                 {{"NAME", kName},
                  {"CIDR", Str({"spec", "cidr"})},
                  {"NAT", WithZero(Str({"spec", "natOutgoing"}), "false")},
                  {"IPIPMODE", never("ipipMode")},
                  {"VXLANMODE", never("vxlanMode")},
                  {"DISABLED", WithZero(Str({"spec", "disabled"}), "false")},
                  {"DISABLEBGPEXPORT", WithZero(Str({"spec", "disableBGPExport"}), "false")},
                  {"SELECTOR", Str({"spec", "nodeSelector"})},
                  {"ASSIGNMENTMODE", Ptr({"spec", "assignmentMode"})}}};
  t["Profile"] = {
      {"NAME"}, {"NAME", "LABELS"}, {{"NAME", kName}, {"LABELS", Join({"spec", "labelsToApply"})}}};
  // Node ASN needs the global AS number: filled in by RenderTable.
  t["Node"] = {{"NAME"},
               {"NAME", "ASN", "IPV4", "IPV6"},
               {{"NAME", kName},
                {"ASN", nullptr},
                {"IPV4", Str({"spec", "bgp", "ipv4Address"})},
                {"IPV6", Str({"spec", "bgp", "ipv6Address"})}}};
  t["WorkloadEndpoint"] = {
      {"WORKLOAD", "NODE", "NETWORKS", "INTERFACE"},
      {"NAME", "WORKLOAD", "NODE", "NETWORKS", "INTERFACE", "PROFILES", "NATS"},
      {{"NAME", kName},
       {"NAMESPACE", kNamespace},
       {"NODE", Str({"spec", "node"})},
       {"ORCHESTRATOR", Str({"spec", "orchestrator"})},
       {"WORKLOAD",
        [](const Json& doc) {
          std::string w = Str({"spec", "workload"})(doc);
          return w.empty() ? Str({"spec", "pod"})(doc) : w;
        }},
       {"NETWORKS", Join({"spec", "ipNetworks"})},
       {"NATS", Join({"spec", "ipNATs"})},
       {"PROFILES", Join({"spec", "profiles"})},
       {"INTERFACE", Str({"spec", "interfaceName"})}}};
  KindTable policy = {{"NAME", "TIER"},
                      {"NAME", "TIER", "ORDER", "SELECTOR"},
                      {{"NAME", kName},
                       {"NAMESPACE", kNamespace},
                       {"ORDER", Ptr({"spec", "order"})},
                       {"SELECTOR", Str({"spec", "selector"})},
                       {"TIER", Str({"spec", "tier"})}}};
  // The enforced kinds' wide tables end with HITS (from calico-flows, TableOptions::policy_hits).
  KindTable enforced = policy;
  enforced.wide.push_back("HITS");
  enforced.cells["HITS"] = [](const Json&) { return std::string("-"); };
  t["NetworkPolicy"] = enforced;
  t["StagedNetworkPolicy"] = policy;
  policy.cells.erase("NAMESPACE");
  enforced.cells.erase("NAMESPACE");
  t["GlobalNetworkPolicy"] = enforced;
  t["StagedGlobalNetworkPolicy"] = policy;
  t["StagedKubernetesNetworkPolicy"] = {
      {"NAME"},
      {"NAME", "PODSELECTOR"},
      {{"NAME", kName},
       {"NAMESPACE", kNamespace},
       {"PODSELECTOR", [](const Json& doc) {
          // Go %v of a metav1.LabelSelector struct; JSON form is the closest stable rendering.
          const Json* v = Path(doc, {"spec", "podSelector"});
          return v == nullptr ? std::string(
                                    "&LabelSelector{MatchLabels:map[string]string{},"
                                    "MatchExpressions:[]LabelSelectorRequirement{},}")
                              : v->dump();
        }}}};
  t["HostEndpoint"] = {{"NAME", "NODE"},
                       {"NAME", "NODE", "INTERFACE", "IPS", "PROFILES"},
                       {{"NAME", kName},
                        {"NODE", Str({"spec", "node"})},
                        {"INTERFACE", Str({"spec", "interfaceName"})},
                        {"IPS", Join({"spec", "expectedIPs"})},
                        {"PROFILES", Join({"spec", "profiles"})}}};
  t["BGPPeer"] = {{"NAME", "PEERIP", "NODE", "ASN"},
                  {"NAME", "PEERIP", "NODE", "ASN"},
                  {{"NAME", kName},
                   {"PEERIP", Str({"spec", "peerIP"})},
                   {"NODE",
                    [](const Json& doc) {
                      std::string node = Str({"spec", "node"})(doc);
                      if (!node.empty()) return node;
                      std::string sel = Str({"spec", "nodeSelector"})(doc);
                      return sel.empty() ? std::string("(global)") : sel;
                    }},
                   {"ASN", WithZero(Str({"spec", "asNumber"}), "0")}}};
  t["BGPConfiguration"] = {{"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"},
                           {"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"},
                           {{"NAME", kName},
                            {"LOGSEVERITY", Str({"spec", "logSeverityScreen"})},
                            {"MESHENABLED", WithZero(Str({"spec", "nodeToNodeMeshEnabled"}), "-")},
                            {"ASNUMBER", WithZero(Str({"spec", "asNumber"}), "-")}}};
  t["Tier"] = {
      {"NAME", "ORDER"}, {"NAME", "ORDER"}, {{"NAME", kName}, {"ORDER", Ptr({"spec", "order"})}}};
  t["IPReservation"] = {{"NAME"},
                        {"NAME", "CIDRS"},
                        {{"NAME", kName}, {"CIDRS", Join({"spec", "reservedCIDRs"}, 80)}}};
  t["NetworkSet"] = {
      {"NAME"},
      {"NAME", "NETS"},
      {{"NAME", kName}, {"NAMESPACE", kNamespace}, {"NETS", Join({"spec", "nets"}, 80)}}};
  t["GlobalNetworkSet"] = {
      {"NAME"}, {"NAME", "NETS"}, {{"NAME", kName}, {"NETS", Join({"spec", "nets"}, 80)}}};
  t["ClusterInformation"] = {
      {"NAME", "CLUSTERGUID", "CLUSTERTYPE", "CALICOVERSION", "DATASTOREREADY"},
      {"NAME", "CLUSTERGUID", "CLUSTERTYPE", "CALICOVERSION", "DATASTOREREADY"},
      {{"NAME", kName},
       {"CLUSTERGUID", Str({"spec", "clusterGUID"})},
       {"CLUSTERTYPE", Str({"spec", "clusterType"})},
       {"CALICOVERSION", Str({"spec", "calicoVersion"})},
       {"DATASTOREREADY", Ptr({"spec", "datastoreReady"})}}};
  t["IPAMConfiguration"] = {
      {"NAME", "STRICTAFFINITY", "AUTOALLOCATEBLOCKS"},
      {"NAME", "STRICTAFFINITY", "AUTOALLOCATEBLOCKS", "MAXBLOCKSPERHOST"},
      {{"NAME", kName},
       {"STRICTAFFINITY", WithZero(Str({"spec", "strictAffinity"}), "false")},
       {"AUTOALLOCATEBLOCKS", WithZero(Str({"spec", "autoAllocateBlocks"}), "false")},
       {"MAXBLOCKSPERHOST", WithZero(Str({"spec", "maxBlocksPerHost"}), "0")}}};
  t["FelixConfiguration"] = {{"NAME"}, {"NAME"}, {{"NAME", kName}}};
  // The Kubernetes kinds calico-controllers converts (kubectl's columns, without AGE).
  auto selector_text = [](std::initializer_list<std::string_view> path) {
    std::vector<std::string_view> p(path);
    return Cell([p](const Json& doc) {
      const Json* cur = &doc;
      for (const auto s : p) {
        if (!cur->is_object() || !cur->contains(std::string(s))) return std::string("<none>");
        cur = &(*cur)[std::string(s)];
      }
      std::vector<std::string> terms;
      if (cur->is_object() && cur->contains("matchLabels") && (*cur)["matchLabels"].is_object()) {
        for (const auto& [k, v] : (*cur)["matchLabels"].items()) {
          terms.push_back(k + "=" + Scalar(v));
        }
      }
      if (cur->is_object() && cur->contains("matchExpressions") &&
          (*cur)["matchExpressions"].is_array()) {
        for (const auto& e : (*cur)["matchExpressions"]) {
          terms.push_back(e.value("key", "") + " " + e.value("operator", ""));
        }
      }
      return terms.empty() ? std::string("<none>") : StrJoin(terms, ",");
    });
  };
  t["NetworkPolicy.networking.k8s.io"] = {{"NAME", "POD-SELECTOR"},
                                          {"NAME", "POD-SELECTOR", "POLICYTYPES"},
                                          {{"NAME", kName},
                                           {"NAMESPACE", kNamespace},
                                           {"POD-SELECTOR", selector_text({"spec", "podSelector"})},
                                           {"POLICYTYPES", Join({"spec", "policyTypes"})}}};
  t["Namespace"] = {{"NAME"},
                    {"NAME", "STATUS", "LABELS"},
                    {{"NAME", kName},
                     {"STATUS", WithZero(Str({"status", "phase"}), "Active")},
                     {"LABELS", Join({"metadata", "labels"})}}};
  t["AdminNetworkPolicy.policy.networking.k8s.io"] = {{"NAME", "PRIORITY"},
                                                      {"NAME", "PRIORITY", "INGRESS", "EGRESS"},
                                                      {{"NAME", kName},
                                                       {"PRIORITY", Str({"spec", "priority"})},
                                                       {"INGRESS", Len("ingress")},
                                                       {"EGRESS", Len("egress")}}};
  t["BaselineAdminNetworkPolicy.policy.networking.k8s.io"] = {
      {"NAME"},
      {"NAME", "INGRESS", "EGRESS"},
      {{"NAME", kName}, {"INGRESS", Len("ingress")}, {"EGRESS", Len("egress")}}};
  t["KubeControllersConfiguration"] = {{"NAME"}, {"NAME"}, {{"NAME", kName}}};
  t["BGPFilter"] = {{"NAME", "NUMEXPORTV4", "NUMIMPORTV4", "NUMEXPORTV6", "NUMIMPORTV6"},
                    {"NAME", "NUMEXPORTV4", "NUMIMPORTV4", "NUMEXPORTV6", "NUMIMPORTV6"},
                    {{"NAME", kName},
                     {"NUMEXPORTV4", Len("exportV4")},
                     {"NUMIMPORTV4", Len("importV4")},
                     {"NUMEXPORTV6", Len("exportV6")},
                     {"NUMIMPORTV6", Len("importV6")}}};
  t["CalicoNodeStatus"] = {
      {"NAME", "NODE"},
      {"NAME", "NODE", "CLASSES"},
      {{"NAME", kName}, {"NODE", Str({"spec", "node"})}, {"CLASSES", Join({"spec", "classes"})}}};
  return t;
}

const std::map<std::string, KindTable>& Tables() {
  static const auto* tables = new std::map<std::string, KindTable>(BuildTables());
  return *tables;
}

}  // namespace

std::string GoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-4 || a >= 1e21)) {
    // Shortest round-trip mantissa with Go's exponent form (at least two exponent digits).
    std::string s = fmt::format("{:e}", v);
    for (int prec = 0; prec < 17; ++prec) {
      std::string t = fmt::format("{:.{}e}", v, prec);
      if (Result<double> back = ParseDouble(t); back && *back == v) {
        s = t;
        break;
      }
    }
    return s;
  }
  return fmt::format("{}", v);
}

std::string RenderTabwriter(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], Utf8Width(row[i]));
  }
  for (auto& w : widths)
    w = std::max<size_t>(5, w + 3);
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      out.append(widths[i] - Utf8Width(row[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

std::vector<std::string> DefaultHeadings(std::string_view kind, bool wide) {
  auto it = Tables().find(std::string(kind));
  if (it == Tables().end()) return {};
  return wide ? it->second.wide : it->second.ps;
}

Result<std::string> RenderTable(std::string_view kind, const std::vector<model::Resource>& items,
                                const TableOptions& options) {
  auto it = Tables().find(std::string(kind));
  if (it == Tables().end()) {
    return InvalidArgument(fmt::format("no table format for resource kind {}", kind));
  }
  const KindTable& table = it->second;
  std::vector<std::string> headings = options.headings;
  if (headings.empty()) headings = options.wide ? table.wide : table.ps;
  if (options.print_namespace && table.cells.count("NAMESPACE") > 0) {
    headings.insert(headings.begin(), "NAMESPACE");
  }
  std::vector<Cell> cells;
  for (const auto& h : headings) {
    auto c = table.cells.find(h);
    if (c == table.cells.end()) {
      std::vector<std::string> valid;
      for (const auto& [name, unused] : table.cells)
        valid.push_back(name);
      return InvalidArgument(
          fmt::format("unknown heading {}, valid values are: {}", h, StrJoin(valid, ", ")));
    }
    if (kind == "Node" && h == "ASN") {
      cells.push_back([&options](const Json& doc) {
        const Json* bgp = Path(doc, {"spec", "bgp"});
        if (bgp == nullptr) return std::string();
        const Json* asn = Path(*bgp, {"asNumber"});
        if (asn != nullptr) return Scalar(*asn);
        return fmt::format(
            "({})", options.global_as_number ? options.global_as_number() : std::string("64512"));
      });
    } else if (h == "HITS" && options.policy_hits) {
      cells.push_back(
          [&options](const Json& doc) { return options.policy_hits(model::Resource(doc)); });
    } else {
      cells.push_back(c->second);
    }
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back(headings);
  for (const auto& r : items) {
    std::vector<std::string> row;
    row.reserve(cells.size());
    for (const auto& c : cells)
      row.push_back(c(r.doc()));
    rows.push_back(std::move(row));
  }
  return RenderTabwriter(rows) + "\n";
}

}  // namespace calico::ctl
