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
  // directory, which contains durable-task control directories) writable, plus
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

// Makes a configured policy known by name (the daemon calls this for the
// policies of its JSON configuration, with the node's cache mounts).
void register_policy(const sandbox::Policy& policy, std::vector<sandbox::CacheMount> caches, std::string node_name);

// The spawner for a node's policy name: default_spawner() for an empty
// name, a registered policy, else a built-in one (strict, default, off).
// Returns nullptr for an unknown name, so launches fail rather than run
// without the sandbox the configuration asked for.
std::shared_ptr<Spawner> spawner_for_policy(const std::string& policy_name, const std::string& node_name);

}  // namespace kite::launcher
