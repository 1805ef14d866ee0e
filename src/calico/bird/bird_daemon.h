// BirdDaemon: the seam over one BIRD process, as calico-node's BIRD reconciler drives it
// (bird_reconciler.h). BirdSupervisor (bird_supervisor.h) is the real implementation; tests use a
// stateful fake.
//
// Thread-safety: as the implementation (BirdSupervisor serialises its methods).
#pragma once

#include <string>

#include "calico/base/result.h"

namespace calico::bird {

// The BIRD process as the reconciler drives it (BirdSupervisor's contract, bird_supervisor.h).
class BirdDaemon {
 public:
  virtual ~BirdDaemon() = default;
  // Starts BIRD with `config_text`. Errors: see BirdSupervisor::Start.
  [[nodiscard]] virtual Status Start(const std::string& config_text) = 0;
  // Makes the running BIRD use `config_text`; a rejected text leaves the running one.
  [[nodiscard]] virtual Status Reconfigure(const std::string& config_text) = 0;
  // Starts BIRD again with the last accepted configuration when it is not running.
  [[nodiscard]] virtual Status EnsureRunning() = 0;
  virtual bool Running() = 0;
  // The configuration BIRD runs with (last one accepted); "" before the first Start.
  virtual std::string current_config() = 0;
  // Where the configuration file is (for logs).
  virtual const std::string& config_path() const = 0;
};

}  // namespace calico::bird
