// A Channel that runs the registry's callables over a LoopbackTransport, as
// the channel session does for a real connection. The test plays the
// controller through `transport`.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "protocol/channel/channel.hpp"
#include "runner/callables/registry.hpp"
#include "tests/channel/loopback_transport.hpp"

namespace kite::channel::test {

struct LoopbackChannelOptions {
  std::string name = "test";                          // node and channel name, for logs
  std::filesystem::path work_dir;                     // NodeInfo.work_dir; empty when not needed
  std::chrono::milliseconds close_timeout{5000};      // ChannelConfig.close_timeout
  std::chrono::milliseconds drain_timeout{2000};      // how long teardown waits for running callables
};

class LoopbackChannel {
 public:
  explicit LoopbackChannel(LoopbackChannelOptions options = {}) : drain_timeout_(options.drain_timeout) {
    callables::NodeInfo node;
    node.name = options.name;
    node.work_dir = options.work_dir;
    auto dispatcher = std::make_shared<callables::RegistryDispatcher>(callables::Registry::global(), node, nullptr);
    ChannelConfig config;
    config.name = options.name;
    config.close_timeout = options.close_timeout;
    channel = Channel::create(transport, dispatcher, config);
    channel->start();
  }
  // Drops the connection and waits for the callables still running.
  ~LoopbackChannel() {
    transport->drop("test over");
    channel->drain_workers(drain_timeout_);
  }
  LoopbackChannel(const LoopbackChannel&) = delete;
  LoopbackChannel& operator=(const LoopbackChannel&) = delete;

  std::shared_ptr<LoopbackTransport> transport = std::make_shared<LoopbackTransport>();
  std::shared_ptr<Channel> channel;

 private:
  std::chrono::milliseconds drain_timeout_;
};

}  // namespace kite::channel::test
