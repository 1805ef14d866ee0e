// calico-bench: timing rows of `make bench`.
//   calico-bench cni-add [--samples N] [--parallel N] [--rounds N] [--no-etcd] --bin DIR --out FILE
//   calico-bench connect-rate SERVER_NETNS CLIENT_NETNS IP PORT SECONDS [--request]
//   calico-bench simulate [--nodes N,N] [--etcd URL,URL] ... [--out FILE]
//   calico-bench table FILE
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"

#include "calc_bench.h"
#include "cni_add.h"
#include "connect_rate.h"
#include "flow_collector_bench.h"
#include "ipam_bench.h"
#include "policy_apply.h"
#include "simulate.h"
#include "stats.h"

namespace {

int Usage() {
  std::cerr
      << "usage: calico-bench cni-add [--samples N] [--parallel N] [--rounds N] [--no-etcd] "
         "--bin DIR --out FILE\n"
         "       calico-bench policy-apply [--endpoints N] [--local N] [--policies N,N] "
         "[--changes N] [--full-repeats N] [--keep DIR] [--bin DIR] --out FILE\n"
         "       calico-bench calc [--endpoints N] [--local N] [--policies N] [--repeats N] "
         "[--out FILE]\n"
         "       calico-bench flow-collector [--flows N] [--out FILE]\n"
         "       calico-bench record --row R --metric M --ours X --peer Y --unit U --samples N "
         "--params JSON [--details JSON] --out FILE\n"
         "       calico-bench ipam ALLOCATIONS_PER_CLIENT FILE [--no-etcd]\n"
         "       calico-bench connect-rate SERVER_NETNS CLIENT_NETNS IP PORT SECONDS [--request]\n"
         "       calico-bench simulate [--nodes N,N,...] [--endpoints-per-node N] [--policies N] "
         "[--changes N] [--etcd URL,...] [--etcd-pids PID,...] [--etcd-metrics URL,...] "
         "[--parallel-syncs N] [--out FILE]\n"
         "       calico-bench plotdata FILE\n"
         "       calico-bench table FILE\n";
  return 2;
}

// The number a flag was given, or exit 2 naming the flag (no atoi: "12abc" is not 12).
int IntOrExit(const std::string& flag, const std::string& text) {
  auto n = calico::ParseInt<int>(text);
  if (!n) {
    std::cerr << "calico-bench: " << flag << ": " << n.error().message() << "\n";
    std::exit(2);
  }
  return *n;
}
double DoubleOrExit(const std::string& flag, const std::string& text) {
  auto n = calico::ParseDouble(text);
  if (!n) {
    std::cerr << "calico-bench: " << flag << ": " << n.error().message() << "\n";
    std::exit(2);
  }
  return *n;
}

// Merges rows into the results file OUT; false (the reason printed) when it cannot.
bool WriteResults(const std::string& out, const std::vector<calico::bench::RowResult>& rows) {
  auto st = calico::bench::MergeResults(out, rows);
  if (!st) std::cerr << "calico-bench: " << st.error().message() << "\n";
  return st.has_value();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  if (cmd == "table") {
    if (argc != 3) return Usage();
    auto table = calico::bench::RenderTable(argv[2]);
    if (!table) {
      std::cerr << "calico-bench: " << table.error().message() << "\n";
      return 1;
    }
    std::cout << *table;
    return 0;
  }
  if (cmd == "connect-rate") {
    if (argc != 7 && !(argc == 8 && std::string(argv[7]) == "--request")) return Usage();
    auto rate =
        calico::bench::MeasureConnectRate(argv[2], argv[3], argv[4], IntOrExit("PORT", argv[5]),
                                          DoubleOrExit("SECONDS", argv[6]), argc == 8);
    if (!rate) {
      std::cerr << "calico-bench connect-rate: " << rate.error().message() << "\n";
      return 1;
    }
    std::cout << fmt::format("{:.1f}\n", *rate);
    return 0;
  }
  if (cmd == "ipam") {
    if (argc != 4 && !(argc == 5 && std::string(argv[4]) == "--no-etcd")) return Usage();
    calico::bench::IpamBenchOptions o;
    o.per_client = IntOrExit("ALLOCATIONS_PER_CLIENT", argv[2]);
    o.etcd = argc == 4;
    auto rows = calico::bench::RunIpamBench(o);
    if (!rows) {
      std::cerr << "calico-bench ipam: " << rows.error().message() << "\n";
      return 1;
    }
    if (!WriteResults(argv[3], *rows)) return 1;
    std::cout << "ipam: " << rows->size() << " results written to " << argv[3] << "\n";
    return 0;
  }
  if (cmd == "plotdata") {
    // Columns for bench/plot.gp: policies, full program ms, incremental p99 ms, Gbit/s with that
    // many policies, Gbit/s through a flat linear list of that many rules, `nft -f` of the same
    // ruleset ms, `nft -f` of the same one change p99 ms (the floor), TCP connect/request/close
    // per second with that many policies, the same with no policy engine ("-" when not measured).
    if (argc != 3) return Usage();
    std::ifstream in(argv[2]);
    auto doc = nlohmann::json::parse(in, nullptr, false);
    if (!doc.is_object() || !doc.contains("rows")) {
      std::cerr << "calico-bench: " << argv[2] << " is not a results file\n";
      return 1;
    }
    std::map<int, std::array<std::string, 8>> by_n;
    for (const auto& r : doc["rows"]) {
      const auto params = r.value("params", nlohmann::json::object());
      std::string row = r.value("row", ""), metric = r.value("metric", "");
      std::string v = std::to_string(r.value("ours", 0.0));
      // The scaling curve is at 10k endpoints; the 100k-endpoint design point is a table row.
      if (row == "policy-apply" && params.contains("policies") &&
          params.value("endpoints", 0) == 10000) {
        int n = params["policies"].get<int>();
        std::string peer = std::to_string(r.value("peer", 0.0));
        if (metric == "full_ms") {
          by_n[n][0] = v;
          by_n[n][4] = peer;
        }
        if (metric == "incr_p99_ms") {
          by_n[n][1] = v;
          by_n[n][5] = peer;
        }
      } else if (row == "per-packet" && params.contains("policies") &&
                 metric.rfind("gbps_", 0) == 0) {
        by_n[params["policies"].get<int>()][2] = v;
      } else if (row == "per-packet" && params.contains("rules")) {
        by_n[params["rules"].get<int>()][3] = v;
      } else if (row == "connect-rate" && params.contains("policies")) {
        by_n[params["policies"].get<int>()][6] = v;
        by_n[params["policies"].get<int>()][7] = std::to_string(r.value("peer", 0.0));
      }
    }
    std::cout << "# policies full_ms incr_p99_ms gbps linear_gbps nft_full_ms nft_change_p99_ms "
                 "crr_per_s crr_per_s_no_policy_engine\n";
    for (const auto& [n, cols] : by_n) {
      std::cout << n;
      for (const auto& c : cols)
        std::cout << " " << (c.empty() ? "-" : c);
      std::cout << "\n";
    }
    return 0;
  }
  if (cmd == "record") {
    // A row measured by a script (bench/lab_rows.sh): appended to the results file.
    calico::bench::RowResult r;
    std::string out, params = "{}", details = "{}";
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string a = argv[i], v = argv[i + 1];
      if (a == "--row")
        r.row = v;
      else if (a == "--metric")
        r.metric = v;
      else if (a == "--ours")
        r.ours = DoubleOrExit(a, v);
      else if (a == "--peer")
        r.peer = DoubleOrExit(a, v);
      else if (a == "--unit")
        r.unit = v;
      else if (a == "--samples")
        r.samples = IntOrExit(a, v);
      else if (a == "--params")
        params = v;
      else if (a == "--details")
        details = v;
      else if (a == "--out")
        out = v;
      else {
        std::cerr << "calico-bench record: unknown flag " << a << "\n";
        return 2;
      }
    }
    r.params = nlohmann::json::parse(params, nullptr, false);
    r.details = nlohmann::json::parse(details, nullptr, false);
    if (r.row.empty() || r.metric.empty() || out.empty() || !r.params.is_object() ||
        !r.details.is_object()) {
      std::cerr << "calico-bench record: needs --row, --metric, --out, object --params (what "
                   "names the row) and object --details (figures measured alongside), if given\n";
      return 2;
    }
    if (!WriteResults(out, {r})) return 1;
    return 0;
  }
  if (cmd == "flow-collector") {
    calico::bench::FlowCollectorBenchOptions o;
    std::string out;
    for (int i = 2; i < argc; i += 2) {
      std::string a = argv[i];
      std::string v = i + 1 < argc ? argv[i + 1] : "";
      if (a == "--flows") {
        o.flows = IntOrExit(a, v);
      } else if (a == "--out") {
        out = v;
      } else {
        std::cerr << "calico-bench: unknown flag " << a << "\n";
        return Usage();
      }
    }
    auto rows = calico::bench::RunFlowCollectorBench(o);
    if (!rows) {
      std::cerr << "calico-bench flow-collector: " << rows.error().message() << "\n";
      return 1;
    }
    for (const auto& r : *rows) {
      std::cout << "flow-collector " << r.metric << " " << r.ours << " " << r.unit << " (peer "
                << r.peer << ", " << r.params.dump() << ")\n";
    }
    if (!out.empty()) {
      if (!WriteResults(out, *rows)) return 1;
    }
    return 0;
  }
  if (cmd == "calc") {
    calico::bench::CalcBenchOptions o;
    std::string out;
    for (int i = 2; i < argc; i += 2) {  // flag, value
      std::string a = argv[i];
      std::string v = i + 1 < argc ? argv[i + 1] : "";
      if (a == "--endpoints") {
        o.endpoints = IntOrExit(a, v);
      } else if (a == "--local") {
        o.local = IntOrExit(a, v);
      } else if (a == "--policies") {
        o.policies = IntOrExit(a, v);
      } else if (a == "--repeats") {
        o.repeats = IntOrExit(a, v);
      } else if (a == "--out") {
        out = v;
      } else {
        std::cerr << "calico-bench: unknown flag " << a << "\n";
        return Usage();
      }
    }
    if (o.local < 0 || o.endpoints <= o.local || o.policies < 0 || o.repeats < 1) return Usage();
    auto rows = calico::bench::RunCalcBench(o);
    if (!rows) {
      std::cerr << "calico-bench calc: " << rows.error().message() << "\n";
      return 1;
    }
    for (const auto& r : *rows) {
      std::cout << "calc " << r.metric << " " << r.ours << " " << r.unit << " (" << r.params.dump()
                << ")\n";
    }
    if (!out.empty()) {
      if (!WriteResults(out, *rows)) return 1;
    }
    return 0;
  }
  if (cmd == "simulate") {
    calico::bench::SimulateOptions o;
    std::string out;
    auto list = [](const std::string& v) { return calico::StrSplit(v, ',', true); };
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (i + 1 >= argc) {
        std::cerr << "calico-bench: " << a << " needs a value\n";
        return Usage();
      }
      std::string v = argv[++i];
      if (a == "--nodes") {
        o.nodes.clear();
        for (const auto& n : list(v))
          o.nodes.push_back(IntOrExit(a, n));
      } else if (a == "--endpoints-per-node") {
        o.endpoints_per_node = IntOrExit(a, v);
      } else if (a == "--policies") {
        o.policies = IntOrExit(a, v);
      } else if (a == "--changes") {
        o.changes = IntOrExit(a, v);
      } else if (a == "--parallel-syncs") {
        o.parallel_syncs = IntOrExit(a, v);
      } else if (a == "--etcd") {
        o.etcd_endpoints = list(v);
      } else if (a == "--etcd-pids") {
        for (const auto& p : list(v))
          o.etcd_pids.push_back(IntOrExit(a, p));
      } else if (a == "--etcd-metrics") {
        o.etcd_metrics = list(v);
      } else if (a == "--out") {
        out = v;
      } else {
        std::cerr << "calico-bench: unknown flag " << a << "\n";
        return Usage();
      }
    }
    if (o.nodes.empty() || o.nodes.front() < 1 || o.endpoints_per_node < 1 || o.policies < 0 ||
        o.changes < 1 || o.parallel_syncs < 1) {
      return Usage();
    }
    auto rows = calico::bench::RunSimulation(o);
    if (!rows) {
      std::cerr << "calico-bench simulate: " << rows.error().message() << "\n";
      return 1;
    }
    if (!out.empty()) {
      if (!WriteResults(out, *rows)) return 1;
      std::cout << "simulate: " << rows->size() << " results written to " << out << "\n";
    }
    return 0;
  }
  if (cmd == "policy-apply") {
    calico::bench::PolicyApplyOptions o;
    std::string out;
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      std::string v = i + 1 < argc ? argv[i + 1] : "";
      if (a == "--endpoints") {
        o.endpoints = IntOrExit(a, v);
        ++i;
      } else if (a == "--local") {
        o.local = IntOrExit(a, v);
        ++i;
      } else if (a == "--changes") {
        o.changes = IntOrExit(a, v);
        ++i;
      } else if (a == "--policies") {
        o.policies.clear();
        for (const auto& p : calico::StrSplit(v, ',', true))
          o.policies.push_back(IntOrExit(a, p));
        ++i;
      } else if (a == "--bin") {
        o.bin = v;
        ++i;
      } else if (a == "--full-repeats") {
        o.full_repeats = IntOrExit(a, v);
        ++i;
      } else if (a == "--keep") {
        o.keep_dir = v;
        ++i;
      } else if (a == "--out") {
        out = v;
        ++i;
      } else {
        std::cerr << "calico-bench: unknown flag " << a << "\n";
        return Usage();
      }
    }
    if (out.empty() || o.endpoints < 1 || o.local < 0 || o.local > o.endpoints ||
        o.policies.empty() || o.changes < 1 || o.full_repeats < 1) {
      return Usage();
    }
    auto rows = calico::bench::RunPolicyApply(o);
    if (!rows) {
      std::cerr << "calico-bench policy-apply: " << rows.error().message() << "\n";
      return 1;
    }
    if (!WriteResults(out, *rows)) return 1;
    std::cout << "policy-apply: " << rows->size() << " results written to " << out << "\n";
    return 0;
  }
  if (cmd != "cni-add") return Usage();
  calico::bench::CniAddOptions o;
  std::string out;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "calico-bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    auto number = [&]() {
      std::string v = next();
      auto n = calico::ParseIntInRange<int>(v, 1, 100000);
      if (!n) {
        std::cerr << "calico-bench: " << a << " must be a positive number, not \"" << v << "\"\n";
        std::exit(2);
      }
      return *n;
    };
    if (a == "--samples") {
      o.samples = number();
    } else if (a == "--parallel") {
      o.parallel = number();
    } else if (a == "--rounds") {
      o.rounds = number();
    } else if (a == "--no-etcd") {
      o.etcd = false;
    } else if (a == "--bin") {
      o.bin = next();
    } else if (a == "--out") {
      out = next();
    } else {
      std::cerr << "calico-bench: unknown flag " << a << "\n";
      return Usage();
    }
  }
  if (o.bin.empty() || out.empty()) return Usage();
  auto rows = calico::bench::RunCniAdd(o);
  if (!rows) {
    std::cerr << "calico-bench cni-add: " << rows.error().message() << "\n";
    return 1;
  }
  if (!WriteResults(out, *rows)) return 1;
  std::cout << "cni-add: " << rows->size() << " results written to " << out << "\n";
  return 0;
}
