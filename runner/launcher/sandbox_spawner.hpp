// Spawner over the sandbox's step launcher (kite::sandbox::launch), used when
// the node's policy is enabled. Policy "off" keeps ForkExecSpawner.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runner/launcher/spawner.hpp"
#include "sandbox/launcher.hpp"
#include "sandbox/policy.hpp"

namespace kite::launcher {

class SandboxSpawner final : public Spawner {
 public:
  // `caches` come from sandbox::cache_mounts() for the node.
  SandboxSpawner(sandbox::Policy policy, std::vector<sandbox::CacheMount> caches, std::string node_name);

  // Binds the working directory and its "@tmp" sibling (Jenkins' temporary
  // directory, which holds durable-task control directories) writable, plus
  // every argument that is an existing absolute path outside them, such as
  // the /tmp/jenkins*.sh script of a freestyle shell step.
  std::expected<SpawnedProcess, Error> spawn(const SpawnRequest& request) override;

 private:
  sandbox::Policy policy_;
  std::vector<sandbox::CacheMount> caches_;
  std::string node_name_;
};

// Picks ForkExecSpawner for a disabled policy, else SandboxSpawner.
std::shared_ptr<Spawner> make_spawner(const sandbox::Policy& policy, std::vector<sandbox::CacheMount> caches,
                                      std::string node_name);

}  // namespace kite::launcher
