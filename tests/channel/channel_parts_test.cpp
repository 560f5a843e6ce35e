// The channel's parts on their own: command codec, export table, request
// tracker, pipe window and lane, worker pool.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "protocol/channel/commands.hpp"
#include "protocol/channel/export_table.hpp"
#include "protocol/channel/pipe_window.hpp"
#include "protocol/channel/request_tracker.hpp"
#include "protocol/channel/worker_pool.hpp"
#include "tests/channel/channel_test_support.hpp"

using namespace kite::channel;
using namespace std::chrono_literals;

TEST_CASE("stream commands round-trip", "[commands]") {
  auto chunk = decode_command(encode_stream_chunk(7, 3, 24, std::vector<std::uint8_t>{'h', 'i'}));
  REQUIRE(chunk.has_value());
  const auto& c = std::get<StreamChunkCmd>(*chunk);
  CHECK(c.io_id == 7);
  CHECK(c.oid == 3);
  CHECK(c.request_id == 24);
  CHECK(c.data == std::vector<std::uint8_t>{'h', 'i'});

  auto ack = decode_command(encode_stream_ack(3, 6));
  REQUIRE(ack.has_value());
  CHECK(std::get<StreamAckCmd>(*ack).size == 6);
  auto eof = decode_command(encode_stream_eof(9, 3, 24));
  REQUIRE(eof.has_value());
  CHECK(std::get<StreamEofCmd>(*eof).io_id == 9);
  CHECK_FALSE(std::get<StreamEofCmd>(*eof).error.has_value());
  auto connect = decode_command(encode_pipe_connect(5, 4));
  REQUIRE(connect.has_value());
  CHECK(std::get<PipeConnectCmd>(*connect).oid_pos == 5);
  CHECK(std::get<PipeConnectCmd>(*connect).oid_ros == 4);
  CHECK(std::holds_alternative<CloseCmd>(*decode_command(encode_close())));
}

TEST_CASE("UnexportCommand bytes match remoting's", "[commands]") {
  // 137 bytes as remoting writes UnexportCommand(oid=3) with createdAt null.
  auto bytes = encode_unexport(3);
  CHECK(bytes.size() == 137);
  auto decoded = decode_command(bytes);
  REQUIRE(decoded.has_value());
  CHECK(std::get<UnexportCmd>(*decoded).oid == 3);
}

TEST_CASE("UserRequest round-trip keeps the loader oid", "[commands]") {
  std::vector<std::uint8_t> payload = {0xac, 0xed, 0x00, 0x05, 0x70};
  auto decoded = decode_command(encode_user_request(12, 4, 9, payload, "x@1"));
  REQUIRE(decoded.has_value());
  const auto& r = std::get<UserRequestCmd>(*decoded);
  CHECK(r.id == 12);
  CHECK(r.last_io_id == 4);
  CHECK(r.class_loader_oid == 9);
  CHECK(r.payload == payload);
  CHECK(r.to_string == "x@1");
}

TEST_CASE("malformed commands are errors", "[commands]") {
  CHECK_FALSE(decode_command(std::vector<std::uint8_t>{0xac, 0xed, 0x00, 0x05, 0x73}).has_value());
  CHECK_FALSE(decode_command(std::vector<std::uint8_t>{'n', 'o'}).has_value());
  CHECK_FALSE(decode_command(std::vector<std::uint8_t>{}).has_value());
  // A string where a command object belongs.
  CHECK_FALSE(decode_command(std::vector<std::uint8_t>{0xac, 0xed, 0x00, 0x05, 0x74, 0x00, 0x01, 'x'}).has_value());
}

TEST_CASE("export table counts references", "[exports]") {
  ExportTable table;
  auto a = std::make_shared<ExportedObject>();
  int unexported = 0;
  a->on_unexport = [&] { ++unexported; };
  auto b = std::make_shared<ExportedObject>();
  CHECK(table.export_object(a) == 2);
  CHECK(table.export_object(b) == 3);
  CHECK(table.export_object(a) == 2);
  CHECK_FALSE(table.unexport(2));
  CHECK(table.get(2) == a);
  CHECK(table.unexport(2));
  CHECK(unexported == 1);
  CHECK(table.get(2) == nullptr);
  CHECK_FALSE(table.unexport(2));
  CHECK(table.export_object(a) == 4);  // ids are never reused
  table.clear();
  CHECK(unexported == 2);
  CHECK(table.size() == 0);
}

TEST_CASE("request tracker fails waiters on close", "[requests]") {
  RequestTracker tracker;
  auto [id, pending] = tracker.start();
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    tracker.fail_all("transport lost");
  });
  auto r = pending->wait(5s);
  closer.join();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == "transport lost");
  auto [id2, late] = tracker.start();
  CHECK(id2 == id + 1);
  CHECK_FALSE(late->wait(10ms).has_value());

  auto flag = tracker.begin_incoming(40);
  CHECK(flag->load());  // after the channel failed, new requests start cancelled
}

TEST_CASE("request tracker delivers responses and cancels", "[requests]") {
  RequestTracker tracker;
  auto [id, pending] = tracker.start();
  ResponseCmd response;
  response.id = id;
  CHECK(tracker.complete(response));
  CHECK_FALSE(tracker.complete(response));
  CHECK(pending->wait(1s).has_value());

  auto flag = tracker.begin_incoming(5);
  CHECK_FALSE(flag->load());
  CHECK(tracker.cancel_incoming(5));
  CHECK(flag->load());
  CHECK_FALSE(tracker.cancel_incoming(6));
  tracker.end_incoming(5);
  CHECK(tracker.running_count() == 0);
}

TEST_CASE("pipe window limits chunks and waits for acks", "[pipe]") {
  PipeWindow window(kPipeWindowBytes);
  auto first = window.acquire(3 << 20, nullptr);
  REQUIRE(first.has_value());
  CHECK(*first == 512 * 1024);
  auto second = window.acquire(3 << 20, nullptr);
  REQUIRE(second.has_value());
  CHECK(*second == 512 * 1024);

  std::atomic<bool> cancelled{false};
  std::atomic<bool> got{false};
  std::thread writer([&] {
    auto third = window.acquire(1000, &cancelled);
    got = third.has_value() && *third == 1000;
  });
  std::this_thread::sleep_for(150ms);
  CHECK_FALSE(got.load());  // the window is used up until the reader acknowledges
  window.ack(4096);
  writer.join();
  CHECK(got.load());

  std::thread blocked([&] {
    auto r = window.acquire(200 * 1024, &cancelled);
    CHECK_FALSE(r.has_value());
  });
  std::this_thread::sleep_for(50ms);
  cancelled = true;
  blocked.join();

  window.fail("Pipe is already closed");
  auto dead = window.acquire(10, nullptr);
  REQUIRE_FALSE(dead.has_value());
  CHECK(dead.error() == "Pipe is already closed");
}

TEST_CASE("unthrottled window grants everything", "[pipe]") {
  PipeWindow window(0);
  auto r = window.acquire(5 << 20, nullptr);
  REQUIRE(r.has_value());
  CHECK(*r == std::size_t(5 << 20));
}

TEST_CASE("pipe lane runs tasks in order and syncs on io ids", "[pipe]") {
  PipeLane lane;
  std::vector<int> order;
  std::mutex m;
  for (int i = 1; i <= 50; ++i) {
    lane.submit(i, [&, i] {
      if (i == 3) std::this_thread::sleep_for(30ms);
      std::lock_guard lock(m);
      order.push_back(i);
    });
  }
  lane.wait_until(50, 5s);
  std::lock_guard lock(m);
  REQUIRE(order.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(order[i] == i + 1);
  lane.wait_until(1000, 10ms);  // ids never submitted count as done
}

TEST_CASE("worker pool runs blocking tasks side by side", "[workers]") {
  WorkerPool pool(4, 1s);
  std::atomic<bool> release{false};
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i) {
    pool.submit([&] {
      while (!release) std::this_thread::sleep_for(5ms);
      ++done;
    });
  }
  std::atomic<bool> quick{false};
  pool.submit([&] { quick = true; });
  for (int i = 0; i < 200 && !quick; ++i) std::this_thread::sleep_for(5ms);
  CHECK(quick.load());  // three blocked tasks do not starve the fourth
  release = true;
  for (int i = 0; i < 200 && done < 3; ++i) std::this_thread::sleep_for(5ms);
  CHECK(done == 3);
  CHECK(pool.threads() <= 4);
  pool.shutdown(1s);
  CHECK_FALSE(pool.submit([] {}));
}
