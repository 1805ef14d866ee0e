// calico-ipam: the IPAM plugin (reference CNI 1.15).
#include "calico/cni/ipam_plugin.h"
#include "calico/cni/plugin_main.h"

int main(int argc, char** argv) {
  return calico::cni::PluginMain(argc, argv, "calico-ipam", calico::cni::RunIpamPlugin);
}
