// The I/O loop of the WebSocket transport: one thread per connection polls
// the socket and an eventfd, writes queued frames, parses incoming frames and
// keeps the connection alive with pings.
#include "protocol/transport/websocket_transport.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "protocol/transport/chunk_framer.hpp"
#include "protocol/transport/websocket_transport_impl.hpp"
#include "protocol/transport/ws_frame.hpp"

namespace kite::transport {

using Clock = std::chrono::steady_clock;

WakeFd::WakeFd() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
WakeFd::~WakeFd() {
  if (fd_ >= 0) ::close(fd_);
}
void WakeFd::signal() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
}
void WakeFd::drain() {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto read_bytes = ::read(fd_, &value, sizeof value);
}

std::array<std::byte, 4> MaskSource::next() {
  if (used_ + 4 > pool_.size()) {
    if (RAND_bytes(pool_.data(), static_cast<int>(pool_.size())) != 1) {
      // OpenSSL's CSPRNG failing means the process cannot produce secure
      // masks; that is not a condition to run on.
      spdlog::critical("RAND_bytes failed: no random masking keys for WebSocket frames");
      std::abort();
    }
    used_ = 0;
  }
  std::array<std::byte, 4> key;
  for (auto& b : key) b = std::byte(pool_[used_++]);
  return key;
}

WebSocketTransport::WebSocketTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebSocketTransport::~WebSocketTransport() {
  if (!impl_) return;
  close("transport released");
  if (impl_->thread.joinable()) {
    if (impl_->thread.get_id() == std::this_thread::get_id()) {
      // Released from its own callback: the loop is past its last use of the state.
      impl_->thread.detach();
    } else {
      impl_->thread.join();
    }
  }
}

void WebSocketTransport::start(Callbacks callbacks) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started) return;
  impl_->started = true;
  impl_->callbacks = std::move(callbacks);
  impl_->thread = std::thread([impl = impl_] { impl->run(); });
}

bool WebSocketTransport::send_command(std::span<const std::byte> command) {
  Impl& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  if (!impl.accepting) return false;

  const std::size_t before = impl.pending.size();
  for_each_chunk(command, kMaxChunkPayload, [&](std::array<std::byte, 2> header, std::span<const std::byte> payload) {
    // Each chunk is its own binary message, as remoting's WebSocket transport sends it.
    std::vector<std::byte> message(header.begin(), header.end());
    message.insert(message.end(), payload.begin(), payload.end());
    ws::encode_frame(impl.pending, ws::Opcode::kBinary, true, message, impl.masks.next());
  });
  impl.queued_bytes += impl.pending.size() - before;
  impl.stats.commands_sent++;
  impl.wake.signal();

  // Back-pressure for producers on other threads; the I/O thread itself
  // (a command sent from on_command) must never wait for its own progress.
  if (std::this_thread::get_id() != impl.io_thread_id) {
    impl.space_or_closed.wait(lock, [&] { return impl.queued_bytes <= impl.limits.send_queue_high_water || !impl.accepting; });
  }
  return true;
}

void WebSocketTransport::close(std::string reason) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->close_requested) return;
  impl_->close_requested = true;
  impl_->accepting = false;
  impl_->close_reason = std::move(reason);
  impl_->space_or_closed.notify_all();
  impl_->wake.signal();
  if (!impl_->started) impl_->finished = true;
}

void WebSocketTransport::join() {
  std::unique_lock lock(impl_->mutex);
  impl_->finished_cv.wait(lock, [&] { return impl_->finished || !impl_->started; });
}

TransportStats WebSocketTransport::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

namespace {

std::string seconds(std::chrono::milliseconds ms) { return fmt::format("{:.1f} s", ms.count() / 1000.0); }

// How long, and how many bytes, Kite reads and discards after it closed the
// connection because of a protocol error.
constexpr std::chrono::milliseconds kErrorLinger{1000};
constexpr std::size_t kErrorLingerMaxBytes = 64 * 1024 * 1024;

// Reads and discards what the controller still sends after Kite's close frame.
// Closing a socket whose receive queue contains unread bytes makes the kernel
// send a TCP reset, and the peer's kernel then drops the close frame before
// the controller reads it; draining first lets the close code arrive.
void drain_before_close(CURL* curl, curl_socket_t socket, std::span<std::byte> buffer) {
  ::shutdown(socket, SHUT_WR);
  const auto deadline = Clock::now() + kErrorLinger;
  std::size_t discarded = 0;
  while (discarded < kErrorLingerMaxBytes) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) return;
    pollfd fd{socket, POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(remaining));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;
    for (;;) {
      size_t received = 0;
      const CURLcode code = curl_easy_recv(curl, buffer.data(), buffer.size(), &received);
      if (code == CURLE_AGAIN) break;
      if (code != CURLE_OK || received == 0) return;
      discarded += received;
    }
  }
}

}  // namespace

void WebSocketTransport::Impl::run() {
  {
    std::lock_guard lock(mutex);
    io_thread_id = std::this_thread::get_id();
  }

  ws::FrameReader reader(limits.max_frame, limits.max_message);
  ChunkReader chunks(limits.max_command);
  std::vector<std::byte> out;  // whole frames only, so control frames can be appended at any time
  std::size_t out_pos = 0;

  auto now = Clock::now();
  Clock::time_point last_write_progress = now;
  Clock::time_point next_ping = now + timeouts.ping_interval;
  Clock::time_point ping_deadline{};
  bool ping_outstanding = false;
  bool close_sent = false;
  bool close_received = false;
  Clock::time_point close_deadline{};
  bool done = false;
  bool drain_after_error = false;
  CloseReason result;

  auto queue_control = [&](ws::Opcode opcode, std::span<const std::byte> payload) {
    std::lock_guard lock(mutex);
    const std::size_t before = out.size();
    ws::encode_frame(out, opcode, true, payload, masks.next());
    queued_bytes += out.size() - before;
  };
  auto queue_close = [&](std::uint16_t code, std::string_view reason) {
    if (close_sent) return;
    std::lock_guard lock(mutex);
    const std::size_t before = out.size();
    ws::encode_close(out, code, reason, masks.next());
    queued_bytes += out.size() - before;
    close_sent = true;
    close_deadline = Clock::now() + timeouts.close_timeout;
  };
  // Ends the loop because of an error; sends a close frame when the socket still works.
  auto fail = [&](std::string message, std::uint16_t code, bool socket_usable) {
    if (done) return;
    if (socket_usable && !close_sent) {
      queue_close(code, message);
      // One non-blocking attempt to get the close frame out.
      size_t written = 0;
      curl_easy_send(curl.get(), out.data() + out_pos, out.size() - out_pos, &written);
      drain_after_error = true;
    }
    result = CloseReason{false, std::move(message)};
    done = true;
  };

  auto deliver = [&](std::vector<std::byte> command) {
    {
      std::lock_guard lock(mutex);
      stats.commands_received++;
    }
    if (callbacks.on_command) callbacks.on_command(std::move(command));
  };

  auto process = [&](std::span<const std::byte> data) {
    {
      std::lock_guard lock(mutex);
      stats.bytes_received += data.size();
    }
    ping_outstanding = false;  // any byte from the peer proves it is alive
    reader.append(data);
    while (!done) {
      auto event = reader.next();
      if (!event) {
        fail(fmt::format("protocol error from the controller: {}", event.error().message), event.error().close_code, true);
        return;
      }
      if (!*event) return;
      const ws::Event& e = **event;
      switch (e.kind) {
        case ws::Event::Kind::kBinaryData:
          if (close_received) break;
          if (auto fed = chunks.feed(e.data, deliver); !fed) {
            fail(fmt::format("bad chunk stream at byte {}: {}", fed.error().offset, fed.error().message),
                 ws::kCloseMessageTooBig, true);
            return;
          }
          break;
        case ws::Event::Kind::kMessageEnd:
          break;
        case ws::Event::Kind::kPing:
          if (!close_sent) queue_control(ws::Opcode::kPong, e.data);
          break;
        case ws::Event::Kind::kPong: {
          std::lock_guard lock(mutex);
          stats.pongs_received++;
          break;
        }
        case ws::Event::Kind::kClose: {
          close_received = true;
          const bool we_started = close_sent;
          if (!close_sent) {
            if (e.close_code == ws::kCloseNoStatus) {
              queue_control(ws::Opcode::kClose, {});
              close_sent = true;
            } else {
              queue_close(e.close_code, "");
            }
          }
          std::lock_guard lock(mutex);
          accepting = false;
          space_or_closed.notify_all();
          result = CloseReason{true, we_started ? fmt::format("closed: {}", close_reason)
                                                : fmt::format("controller closed the connection with code {}{}{}",
                                                              e.close_code, e.close_reason.empty() ? "" : ": ",
                                                              e.close_reason)};
          break;
        }
      }
    }
  };

  if (!initial.empty()) {
    process(initial);
    initial.clear();
  }

  std::vector<std::byte> buffer(64 * 1024);
  while (!done) {
    now = Clock::now();

    // Take the frames queued by other threads and a pending close request.
    {
      std::lock_guard lock(mutex);
      if (!pending.empty()) {
        if (out_pos == out.size()) {
          out.clear();
          out_pos = 0;
        }
        out.insert(out.end(), pending.begin(), pending.end());
        pending.clear();
      }
    }
    bool wants_close = false;
    std::string reason_text;
    {
      std::lock_guard lock(mutex);
      wants_close = close_requested;
      reason_text = close_reason;
    }
    if (wants_close && !close_sent) queue_close(ws::kCloseNormal, reason_text);

    // Write as much as the socket takes.
    while (out_pos < out.size()) {
      size_t written = 0;
      const CURLcode code = curl_easy_send(curl.get(), out.data() + out_pos, out.size() - out_pos, &written);
      if (code == CURLE_AGAIN) break;
      if (code != CURLE_OK) {
        fail(fmt::format("sending to the controller failed: {}", curl_easy_strerror(code)), 0, false);
        break;
      }
      out_pos += written;
      last_write_progress = Clock::now();
      std::lock_guard lock(mutex);
      stats.bytes_sent += written;
      queued_bytes -= std::min(queued_bytes, written);
      space_or_closed.notify_all();
    }
    if (done) break;
    if (out_pos == out.size() && out_pos > 0) {
      out.clear();
      out_pos = 0;
    }
    const bool output_pending = out_pos < out.size();

    if (close_sent && close_received && !output_pending) {
      done = true;
      break;
    }

    // Timers.
    now = Clock::now();
    if (!close_sent && now >= next_ping) {
      if (!ping_outstanding) {
        queue_control(ws::Opcode::kPing, {});
        ping_outstanding = true;
        ping_deadline = now + timeouts.pong_timeout;
        std::lock_guard lock(mutex);
        stats.pings_sent++;
      }
      next_ping = now + timeouts.ping_interval;
      continue;  // write the ping first
    }
    if (ping_outstanding && now >= ping_deadline) {
      fail(fmt::format("no answer from the controller within {} of a ping; the connection is dead",
                       seconds(timeouts.pong_timeout)),
           ws::kCloseGoingAway, true);
      break;
    }
    if (output_pending && now - last_write_progress >= timeouts.write_timeout) {
      fail(fmt::format("sending to the controller made no progress for {}", seconds(timeouts.write_timeout)),
           ws::kCloseGoingAway, false);
      break;
    }
    if (close_sent && now >= close_deadline) {
      result = CloseReason{true, close_received ? "closed" : fmt::format("closed ({}); the controller did not answer the close frame within {}",
                                                                         reason_text, seconds(timeouts.close_timeout))};
      done = true;
      break;
    }

    // Sleep until the socket or a timer needs attention.
    Clock::time_point wake_at = close_sent ? close_deadline : next_ping;
    if (ping_outstanding) wake_at = std::min(wake_at, ping_deadline);
    if (output_pending) wake_at = std::min(wake_at, last_write_progress + timeouts.write_timeout);
    const auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count() + 1;

    pollfd fds[2] = {{socket, static_cast<short>(POLLIN | (output_pending ? POLLOUT : 0)), 0}, {wake.fd(), POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(std::clamp<long long>(timeout_ms, 0, 60000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail(fmt::format("poll failed: {}", std::strerror(errno)), 0, false);
      break;
    }
    if (fds[1].revents & POLLIN) wake.drain();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      // Drain the socket and TLS buffers completely before polling again.
      for (;;) {
        size_t received = 0;
        const CURLcode code = curl_easy_recv(curl.get(), buffer.data(), buffer.size(), &received);
        if (code == CURLE_AGAIN) break;
        if (code != CURLE_OK) {
          fail(fmt::format("receiving from the controller failed: {}", curl_easy_strerror(code)), 0, false);
          break;
        }
        if (received == 0) {
          if (close_received || close_sent) {
            if (!close_received) result = CloseReason{true, fmt::format("closed ({})", reason_text)};
            done = true;
          } else {
            fail("the controller closed the connection without a close frame", 0, false);
          }
          break;
        }
        process(std::span(buffer.data(), received));
        if (done) break;
      }
    }
  }

  {
    std::lock_guard lock(mutex);
    accepting = false;
    space_or_closed.notify_all();
  }
  if (drain_after_error) drain_before_close(curl.get(), socket, buffer);
  // Close the socket before reporting, so a reconnect never overlaps this connection.
  curl.reset();
  {
    // Moving the callbacks out releases whatever they captured once they
    // have run, which breaks a cycle through a captured transport pointer.
    Callbacks done_callbacks = std::move(callbacks);
    if (done_callbacks.on_closed) done_callbacks.on_closed(result);
  }
  {
    std::lock_guard lock(mutex);
    finished = true;
    finished_cv.notify_all();
  }
}

}  // namespace kite::transport
