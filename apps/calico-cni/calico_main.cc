// calico: the main CNI plugin (reference CNI 1.6-1.14).
#include "calico/cni/calico_plugin.h"
#include "calico/cni/plugin_main.h"

int main(int argc, char** argv) {
  return calico::cni::PluginMain(argc, argv, "calico", calico::cni::RunCalicoPlugin);
}
