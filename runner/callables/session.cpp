// One channel per connection: the daemon hands over a transport, the session
// runs a Channel with the registry's callables until the channel ends, and
// returns to the daemon whether to reconnect.
#include <spdlog/spdlog.h>

#include "protocol/channel/channel.hpp"
#include "runner/callables/channel_session.hpp"
#include "runner/callables/registry.hpp"

namespace kite::callables {
namespace {

// Time given to running callables to notice the end of the channel before
// the session returns; they keep running detached if they need longer.
constexpr auto kWorkerDrain = std::chrono::seconds(2);

class ChannelSessionFactory final : public daemon::SessionFactory {
 public:
  daemon::SessionEnd run(std::shared_ptr<transport::CommandTransport> transport, const daemon::ConnectionInfo& info,
                         const std::atomic<bool>& stop_requested) override {
    NodeInfo node;
    node.name = info.node_name;
    node.controller_url = info.controller_url;
    node.work_dir = info.work_dir;
    node.internal_dir = info.internal_dir;
    node.sandbox_policy = info.sandbox_policy;
    node.labels = info.labels;

    auto logger = spdlog::default_logger();
    auto dispatcher = std::make_shared<RegistryDispatcher>(Registry::global(), std::move(node), logger);

    channel::ChannelConfig config;
    config.name = info.node_name;
    config.peer_capability = info.controller_capability;
    config.logger = logger;
    auto channel = channel::Channel::create(std::move(transport), dispatcher, config);
    logger->info("node {}: channel up (connection {})", info.node_name, info.connection_number);
    channel->start();

    channel::ChannelEnd end;
    while (true) {
      if (auto done = channel->wait_for(std::chrono::milliseconds(200))) {
        end = *done;
        break;
      }
      if (stop_requested.load()) {
        channel->close("the agent is shutting down");
        end = channel->wait();
        break;
      }
    }
    channel->drain_workers(kWorkerDrain);
    const auto stats = channel->stats();
    logger->info("node {}: channel ended ({}); {} requests served, {} commands in, {} out", info.node_name,
                 end.reason, stats.requests_served, stats.commands_received, stats.commands_sent);
    if (stop_requested.load()) return daemon::SessionEnd::kStopRequested;
    return end.closed_by_peer ? daemon::SessionEnd::kChannelTerminated : daemon::SessionEnd::kTransportClosed;
  }
};

}  // namespace

std::unique_ptr<daemon::SessionFactory> make_channel_session_factory() {
  return std::make_unique<ChannelSessionFactory>();
}

}  // namespace kite::callables
