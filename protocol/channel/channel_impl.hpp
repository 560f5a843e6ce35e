// Internal state of a Channel, shared by channel.cpp, command_dispatcher.cpp,
// streams.cpp and pinger.cpp. Not part of the public API.
#pragma once

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "protocol/channel/channel.hpp"
#include "protocol/channel/commands.hpp"
#include "protocol/channel/export_table.hpp"
#include "protocol/channel/pipe_window.hpp"
#include "protocol/channel/request_tracker.hpp"
#include "protocol/channel/worker_pool.hpp"

namespace kite::channel {

// Capability bit of the peer: ProxyOutputStream flow control with Ack.
inline constexpr std::uint64_t kCapabilityPipeThrottling = 0x004;

struct Channel::Impl {
  Impl(Channel& owner, std::shared_ptr<transport::CommandTransport> t, std::shared_ptr<CallableHandler> h,
       ChannelConfig c);

  Channel& owner;
  std::shared_ptr<transport::CommandTransport> transport;
  std::shared_ptr<CallableHandler> handler;
  ChannelConfig config;
  std::shared_ptr<spdlog::logger> logger;

  ExportTable exports;
  RequestTracker requests;
  PipeWindows windows;
  PipeLane lane;
  WorkerPool workers;

  std::atomic<std::int32_t> next_io_id{1};
  std::atomic<std::uint64_t> commands_received{0};
  std::atomic<std::uint64_t> commands_sent{0};
  std::atomic<std::uint64_t> requests_served{0};
  std::atomic<std::uint64_t> pings_sent{0};

  // Lifecycle.
  mutable std::mutex state_mutex;
  std::condition_variable state_cv;
  bool closing = false;            // no new requests accepted
  bool close_sent = false;
  bool close_received = false;
  bool ended = false;              // transport reported on_closed
  ChannelEnd end;

  // Class-loader export Kite names in its own UserRequests (created lazily).
  std::mutex loader_mutex;
  std::shared_ptr<ExportedObject> loader_export;

  // Agent-side ping thread.
  std::mutex ping_mutex;
  std::condition_variable ping_cv;
  std::thread ping_thread;
  std::uint64_t ping_generation = 0;

  bool send(const std::vector<std::uint8_t>& command);
  std::int32_t new_io_id() { return next_io_id.fetch_add(1); }
  bool is_closing() const;
  std::int32_t class_loader_oid();  // exports (one more reference to) Kite's IClassLoader

  // command_dispatcher.cpp
  void on_command(std::vector<std::byte> bytes);
  void on_transport_closed(const transport::CloseReason& reason);
  void serve_user_request(UserRequestCmd request, std::shared_ptr<std::atomic<bool>> cancelled);
  void serve_rpc(RpcRequestCmd rpc, CallContext& ctx, std::int32_t reply_id, bool user_request);
  void serve_input_read(InputReadCmd read);
  void handle_close_command();

  // pinger.cpp
  void stop_ping();
};

}  // namespace kite::channel
