// Replay of whole recorded sessions between a controller and the Java agent
// (freestyle shell launches, Pipeline `sh` steps through durable-task): every
// controller command goes to Kite's channel over the in-memory transport, in
// recorded order and with the recorded pauses (at most 1 s each), and Kite's
// responses are compared with the Java agent's. The test plays the controller's
// side of flow control itself, acknowledging every chunk Kite sends.
//
// Compared for every request: Response kind (value or exception), exception
// class, value type structure, and the value where it does not depend on the
// machine or the clock. Also compared: the kinds of exported objects (proxy
// interfaces, RemoteInputStream), the bytes written into each stream the
// controller exported, which streams were closed, and that every byte of a
// request's output arrived before its Response (for WriteLog and join).
//
// Class-loader tags of remoting's own classes differ: the Java agent names
// its own exported application class loader for them, and Kite, which has
// no classes to serve, names the controller's loader; both resolve to the
// same remoting class on the controller. Tags of every other class are compared.
//
// Not compared: the Java agent's class-loading traffic (its RPCs to the
// controller's class loaders, jar transfers, Channel$IOSyncer calls, and the
// controller's answers to them), the Java agent's ProxyOutputStream$Unexport
// after garbage collection, and its export ids (the test maps the recorded
// ids to Kite's as the answers arrive).
//
// Paths: the sessions ran under a directory of the recording machine
// (/tmp/refctl-run.XXXXXX). The test creates a directory whose path has the
// same length and rewrites that prefix in every string of the decoded
// commands before encoding them again. Equal lengths keep every log offset
// the controller sends (WriteLog.lastLocation) valid, and the same rewrite in
// reverse turns Kite's output back into the recorded bytes.
//
// Exits with 77 (skipped) when the vectors directory is absent.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "protocol/channel/channel.hpp"
#include "protocol/channel/commands.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"
#include "runner/callables/registry.hpp"
#include "runner/launcher/java_values.hpp"
#include "runner/launcher/process_tree.hpp"
#include "tests/channel/loopback_channel.hpp"
#include "tests/channel/recorded_values.hpp"
#include "tests/channel/vector_files.hpp"

namespace fs = std::filesystem;
using namespace kite;
using namespace kite::channel;
using namespace kite::channel::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

fs::path g_vectors;

constexpr std::string_view kController = "org.jenkinsci.plugins.durabletask.FileMonitoringTask$FileMonitoringController$";
constexpr auto kAnswerTimeout = 60s;
constexpr auto kMaxPause = 1000ms;

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string as_text(std::span<const std::uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A local directory standing in for the recording machine's run directory,
// with a path of the same length (see the file comment).
class PathMapper {
 public:
  explicit PathMapper(std::string recorded_root) : recorded_(std::move(recorded_root)) {
    const fs::path recorded(recorded_);
    const std::size_t name_length = recorded.filename().string().size();
    if (name_length < 8 || !fs::is_directory(recorded.parent_path())) {
      FAIL("cannot make a local directory like " << recorded_ << ": the name is too short or its parent is missing");
    }
    std::string name = "kite-replay-run";
    name.resize(name_length - 6, '-');
    std::string path = (recorded.parent_path() / (name + "XXXXXX")).string();
    if (::mkdtemp(path.data()) == nullptr) FAIL("mkdtemp(" << path << ") failed: " << std::strerror(errno));
    local_ = path;
  }
  ~PathMapper() {
    std::error_code ignored;
    fs::remove_all(local_, ignored);
  }

  const std::string& recorded_root() const { return recorded_; }
  const std::string& local_root() const { return local_; }
  std::string to_local(const std::string& text) const { return replace_all(text, recorded_, local_); }
  std::string to_recorded(const std::string& text) const { return replace_all(text, local_, recorded_); }

 private:
  std::string recorded_;
  std::string local_;
};

// Rewrites a decoded controller payload in place: the recorded run directory
// in every string, and the Java agent's export ids in UserRPCRequest.oid.
class PayloadRewriter {
 public:
  PayloadRewriter(const PathMapper& paths, const std::map<std::int32_t, std::int32_t>& oids)
      : paths_(paths), oids_(oids) {}

  bool changed() const { return changed_; }
  // Set when a UserRPCRequest names an export the test has not mapped.
  std::optional<std::int32_t> unmapped_oid() const { return unmapped_; }

  void visit(const std::vector<ser::Content>& contents) {
    for (const auto& content : contents) {
      if (const auto* value = std::get_if<ser::Value>(&content)) visit(*value);
    }
  }

  void visit(const ser::Value& value) {
    if (const ser::JString* s = value.as_jstring()) {
      if (s->mutf8.find(paths_.recorded_root()) == std::string::npos) return;
      // The root is ASCII, which modified UTF-8 encodes as itself.
      const_cast<ser::JString*>(s)->mutf8 = paths_.to_local(s->mutf8);
      changed_ = true;
      return;
    }
    if (const ser::Array* a = value.as_array()) {
      if (!seen_.insert(a).second) return;
      for (const auto& element : a->elements) visit(element);
      return;
    }
    const ser::Object* o = value.as_object();
    if (o == nullptr || !seen_.insert(o).second) return;
    for (const auto& data : o->classes) {
      for (const auto& field : data.fields) visit(field);
      visit(data.custom);
    }
    visit(o->external);
    if (o->is_instance_of("hudson.remoting.RemoteInvocationHandler$RPCRequest")) {
      const std::int32_t recorded = o->field("oid")->as_int().value_or(0);
      auto mapped = oids_.find(recorded);
      if (mapped == oids_.end()) {
        unmapped_ = recorded;
        return;
      }
      const_cast<ser::Object*>(o)->set("oid", ser::Value(mapped->second));
      changed_ = true;
    }
  }

 private:
  const PathMapper& paths_;
  const std::map<std::int32_t, std::int32_t>& oids_;
  std::set<const void*> seen_;
  bool changed_ = false;
  std::optional<std::int32_t> unmapped_;
};

// What the recording holds, indexed for the replay.
struct Recording {
  std::vector<RecordedCommand> commands;
  std::map<std::int32_t, std::size_t> response_index;            // request id -> a2c Response command
  std::map<std::int32_t, std::string> agent_stream_bytes;         // controller export oid -> bytes the agent wrote
  std::set<std::int32_t> agent_closed_streams;                    // ProxyOutputStream$EOF from the agent
  std::set<std::int32_t> agent_released_streams;                  // ProxyOutputStream$Unexport from the agent
  std::string root;                                                // the recording machine's run directory

  explicit Recording(const fs::path& file) : commands(read_session(file)) {
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].controller_to_agent) continue;
      auto command = decode_command(commands[i].bytes);
      REQUIRE(command.has_value());
      if (const auto* r = std::get_if<ResponseCmd>(&*command)) response_index.emplace(r->id, i);
      if (const auto* c = std::get_if<StreamChunkCmd>(&*command)) agent_stream_bytes[c->oid] += as_text(c->data);
      if (const auto* e = std::get_if<StreamEofCmd>(&*command)) agent_closed_streams.insert(e->oid);
      if (const auto* u = std::get_if<StreamUnexportCmd>(&*command)) agent_released_streams.insert(u->oid);
    }
    for (const auto& c : commands) {
      auto command = decode_command(c.bytes);
      const auto* request = command ? std::get_if<UserRequestCmd>(&*command) : nullptr;
      if (!c.controller_to_agent || request == nullptr) continue;
      auto payload = ser::read_payload(request->payload);
      REQUIRE(payload.has_value());
      const ser::Object* wrapper = payload->values()[0].as_object();
      if (wrapper == nullptr || wrapper->class_name() != "hudson.FilePath$FileCallableWrapper") continue;
      const ser::Object* file_path = wrapper->field("filePath")->as_object();
      if (file_path == nullptr) continue;
      // The run directory is the first two components of the first FilePath.
      const std::string remote = *file_path->field("remote")->as_string();
      const std::size_t second = remote.find('/', remote.find('/', 1) + 1);
      root = remote.substr(0, second);
      break;
    }
    REQUIRE_FALSE(root.empty());
  }
};

// One controller request of the recording, decoded for the replay.
struct RequestInfo {
  std::int32_t id = 0;
  std::string callable;  // class, or "Interface.method" for a UserRPCRequest
  std::int32_t rpc_oid = 0;
  ser::Stream payload;   // decoded, already rewritten
  const ser::Object* file_callable = nullptr;  // the FileCallable inside a FileCallableWrapper
  std::string path;      // FilePath.remote, local
};

// Kite's side of the channel with the traffic it sent, collected as it arrives.
class KiteSide {
 public:
  explicit KiteSide(const fs::path& work_dir)
      : loopback_({.name = "replay", .work_dir = work_dir, .close_timeout = 5s, .drain_timeout = 5s}), transport_(loopback_.transport) {}

  void send(const std::vector<std::uint8_t>& command) { transport_->inject(command); }

  // Handles what Kite sent until `done()` is true or `timeout` passes, and returns `done()`.
  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return false;
      auto sent = transport_->next_sent(std::min<std::chrono::milliseconds>(left, 200ms));
      if (sent) handle(*sent);
    }
    return true;
  }
  void pump_for(std::chrono::milliseconds duration) {
    pump_until([] { return false; }, duration);
  }

  const std::vector<std::uint8_t>* response(std::int32_t id) const {
    auto it = responses_.find(id);
    return it == responses_.end() ? nullptr : &it->second;
  }
  // Bytes written to each controller export when the Response to `id` arrived.
  std::size_t stream_size_at_response(std::int32_t id, std::int32_t oid) const {
    auto at = sizes_at_response_.find(id);
    if (at == sizes_at_response_.end()) return 0;
    auto size = at->second.find(oid);
    return size == at->second.end() ? 0 : size->second;
  }
  const std::map<std::int32_t, std::string>& stream_bytes() const { return stream_bytes_; }
  const std::set<std::int32_t>& closed_streams() const { return closed_streams_; }
  // Controller streams Kite released with ProxyOutputStream$Unexport, in order.
  const std::vector<std::int32_t>& released_streams() const { return released_streams_; }
  // Bytes Kite had written to a stream when it released it.
  std::size_t stream_size_at_release(std::int32_t oid) const { return size_at_release_.at(oid); }
  const std::vector<std::string>& unexpected() const { return unexpected_; }
  bool close_seen() const { return close_seen_; }

 private:
  void handle(const std::vector<std::uint8_t>& bytes) {
    auto command = decode_command(bytes);
    if (!command) {
      unexpected_.push_back("undecodable command: " + command.error().describe());
      return;
    }
    if (const auto* r = std::get_if<ResponseCmd>(&*command)) {
      responses_[r->id] = bytes;
      auto& sizes = sizes_at_response_[r->id];
      for (const auto& [oid, data] : stream_bytes_) sizes[oid] = data.size();
    } else if (const auto* c = std::get_if<StreamChunkCmd>(&*command)) {
      stream_bytes_[c->oid] += as_text(c->data);
      transport_->inject(encode_stream_ack(c->oid, static_cast<std::int32_t>(c->data.size())));
    } else if (const auto* e = std::get_if<StreamEofCmd>(&*command)) {
      closed_streams_.insert(e->oid);
    } else if (const auto* u = std::get_if<StreamUnexportCmd>(&*command)) {
      released_streams_.push_back(u->oid);
      auto written = stream_bytes_.find(u->oid);
      size_at_release_[u->oid] = written == stream_bytes_.end() ? 0 : written->second.size();
    } else if (std::holds_alternative<CloseCmd>(*command)) {
      close_seen_ = true;
    } else if (!std::holds_alternative<StreamFlushCmd>(*command)) {
      unexpected_.push_back("Kite sent " + command_name(*command));
    }
  }

  LoopbackChannel loopback_;
  std::shared_ptr<LoopbackTransport> transport_;
  std::map<std::int32_t, std::vector<std::uint8_t>> responses_;
  std::map<std::int32_t, std::map<std::int32_t, std::size_t>> sizes_at_response_;
  std::map<std::int32_t, std::string> stream_bytes_;
  std::set<std::int32_t> closed_streams_;
  std::vector<std::int32_t> released_streams_;
  std::map<std::int32_t, std::size_t> size_at_release_;
  std::vector<std::string> unexpected_;
  bool close_seen_ = false;
};

// How Kite's response to a request is compared with the recorded one.
enum class Compare {
  kExact,    // same type structure and same value
  kShape,    // same type structure; the value depends on the machine or the clock
  kRunning,  // StatusCheck while the step may still run: null, or the step's final status
};

// A step's log as the controller reassembles it from WriteLog calls: the bytes
// of each call placed at its lastLocation.
struct LogAssembly {
  std::string bytes;
  bool consistent = true;
  void place(std::uint64_t offset, const std::string& data) {
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size(), '\0');
    if (offset > bytes.size()) consistent = false;
    for (std::size_t i = 0; i < data.size(); ++i) {
      char& slot = bytes[offset + i];
      if (offset + i < filled && slot != data[i]) consistent = false;
      slot = data[i];
    }
    filled = std::max<std::size_t>(filled, offset + data.size());
  }
  std::size_t filled = 0;
};

class Replay {
 public:
  Replay(const Recording& recording, const PathMapper& paths)
      : recording_(recording), paths_(paths), kite_(paths.local_root()) {}

  void run() {
    const auto& commands = recording_.commands;
    std::vector<std::size_t> replayable;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].controller_to_agent && is_replayable(commands[i])) replayable.push_back(i);
    }
    REQUIRE(replayable.size() > 10);

    double previous_t = commands[replayable.front()].t_ms;
    auto previous_sent = Clock::now();
    for (std::size_t k = 0; k < replayable.size(); ++k) {
      const RecordedCommand& c = commands[replayable[k]];
      const std::size_t next = k + 1 < replayable.size() ? replayable[k + 1] : commands.size();
      const auto pause = std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds(static_cast<std::int64_t>(c.t_ms - previous_t)), kMaxPause);
      kite_.pump_until([&] { return Clock::now() >= previous_sent + pause; }, kMaxPause + 100ms);
      previous_t = c.t_ms;
      previous_sent = Clock::now();
      INFO("recorded controller command at " << c.t_ms << " ms");
      replay_one(c, next);
    }
    settle_pending();
    kite_.pump_for(200ms);
    compare_streams();
  }

  const std::map<std::string, int>& compared() const { return compared_; }
  struct Answer {
    std::int32_t id;
    ser::Value kite;
    ser::Value recorded;
  };
  // Kite's response value for each request of a callable class, in request order, with the recorded one.
  std::vector<Answer> answers_of(const std::string& callable) const {
    std::vector<Answer> out;
    for (const auto& [id, pair] : answers_) {
      if (pair.callable == callable) out.push_back(Answer{id, pair.kite.value(), pair.recorded.value()});
    }
    return out;
  }
  // Request ids of the KillTasks, and the environment variables each one named.
  const std::vector<std::int32_t>& kill_requests() const { return kill_request_ids_; }
  const std::vector<std::map<std::string, std::string>>& kill_models() const { return kill_models_; }
  KiteSide& kite() { return kite_; }

 private:
  struct AnswerPair {
    std::string callable;
    Reply kite;
    Reply recorded;
  };

  // Waits for the responses the controller had not waited for yet, and compares them.
  void settle_pending() {
    for (const auto& [id, request] : pending_) {
      INFO("request " << id << ": " << request.callable);
      REQUIRE(kite_.pump_until([&, id = id] { return kite_.response(id) != nullptr; }, kAnswerTimeout));
      compare(request);
    }
    pending_.clear();
  }

  // Returns the export id Kite uses for the Java agent's `recorded` one, once
  // the response that exported it has arrived. Exports the test never mapped
  // (the Java agent's class loaders) give nullopt.
  std::optional<std::int32_t> kite_oid(std::int32_t recorded) {
    if (!oids_.contains(recorded)) settle_pending();
    auto it = oids_.find(recorded);
    return it == oids_.end() ? std::nullopt : std::optional(it->second);
  }

  static bool is_replayable(const RecordedCommand& c) {
    auto command = decode_command(c.bytes);
    REQUIRE(command.has_value());
    return std::holds_alternative<UserRequestCmd>(*command) || std::holds_alternative<UnexportCmd>(*command) ||
           std::holds_alternative<InputEofCmd>(*command) || std::holds_alternative<CloseCmd>(*command);
  }

  void replay_one(const RecordedCommand& c, std::size_t next_replayable) {
    auto command = decode_command(c.bytes);
    REQUIRE(command.has_value());
    if (const auto* unexport = std::get_if<UnexportCmd>(&*command)) {
      // Exports the test did not map are the Java agent's class loaders.
      if (auto oid = kite_oid(unexport->oid)) kite_.send(encode_unexport(*oid));
      return;
    }
    if (const auto* eof = std::get_if<InputEofCmd>(&*command)) {
      if (auto oid = kite_oid(eof->oid)) kite_.send(encode_input_eof(*oid));
      return;
    }
    if (std::holds_alternative<CloseCmd>(*command)) {
      kite_.send(c.bytes);
      CHECK(kite_.pump_until([&] { return kite_.close_seen(); }, 5s));
      return;
    }
    const auto& user_request = std::get<UserRequestCmd>(*command);
    RequestInfo request = decode_request(user_request);
    INFO("request " << request.id << ": " << request.callable);
    wait_for_precondition(request);
    if (request.rpc_oid != 0) REQUIRE(kite_oid(request.rpc_oid).has_value());

    PayloadRewriter rewriter(paths_, oids_);
    rewriter.visit(request.payload.contents);
    REQUIRE_FALSE(rewriter.unmapped_oid().has_value());
    if (rewriter.changed()) {
      auto payload = ser::write_stream(request.payload);
      REQUIRE(payload.has_value());
      kite_.send(encode_user_request(user_request.id, user_request.last_io_id, user_request.class_loader_oid,
                                     *payload, user_request.to_string));
    } else {
      kite_.send(c.bytes);
    }

    // Wait where the controller waited: when the recorded response came before its next command.
    auto recorded = recording_.response_index.find(request.id);
    REQUIRE(recorded != recording_.response_index.end());
    if (recorded->second < next_replayable) {
      REQUIRE(kite_.pump_until([&] { return kite_.response(request.id) != nullptr; }, kAnswerTimeout));
      compare(request);
    } else {
      pending_.emplace(request.id, std::move(request));
    }
  }

  RequestInfo decode_request(const UserRequestCmd& user_request) {
    RequestInfo request;
    request.id = user_request.id;
    auto payload = ser::read_payload(user_request.payload);
    REQUIRE(payload.has_value());
    request.payload = std::move(*payload);
    const ser::Object* top = request.payload.values()[0].as_object();
    REQUIRE(top != nullptr);
    request.callable = std::string(top->class_name());
    if (top->is_instance_of("hudson.remoting.RemoteInvocationHandler$RPCRequest")) {
      auto rpc = decode_rpc_request(*top, request.payload.arena);
      REQUIRE(rpc.has_value());
      request.callable = rpc->declaring_class + "." + rpc->method;
      request.rpc_oid = rpc->oid;
    } else if (request.callable == "hudson.FilePath$FileCallableWrapper") {
      request.file_callable = top->field("callable")->as_object();
      request.callable = std::string(request.file_callable->class_name());
      request.path = paths_.to_local(*top->field("filePath")->as_object()->field("remote")->as_string());
    }
    return request;
  }

  std::int64_t recorded_stream_size(std::int32_t oid) const {
    auto it = recording_.agent_stream_bytes.find(oid);
    return it == recording_.agent_stream_bytes.end() ? 0 : static_cast<std::int64_t>(it->second.size());
  }

  // Waits until the step has got as far as it had when the Java agent
  // responded. For WriteLog, the log must contain the bytes the recorded call
  // sent, and for a StatusCheck that found a status, the result file must
  // exist. Without this wait the replay would outrun the polled steps.
  void wait_for_precondition(const RequestInfo& request) {
    if (request.callable == std::string(kController) + "WriteLog") {
      const auto last = request.file_callable->field("lastLocation")->as_long().value_or(0);
      const auto sink = launcher::java::remote_output_stream_oid(*request.file_callable->field("sink"));
      REQUIRE(sink.has_value());
      const auto wanted = static_cast<std::uintmax_t>(last + recorded_stream_size(*sink));
      CHECK(kite_.pump_until(
          [&] {
            std::error_code error;
            const auto size = fs::file_size(request.path, error);
            return !error && size >= wanted;
          },
          kAnswerTimeout));
    } else if (request.callable == std::string(kController) + "StatusCheck") {
      auto recorded = reply_of(recording_.commands[recording_.response_index.at(request.id)].bytes);
      REQUIRE(recorded.has_value());
      if (recorded->value().is_null()) return;
      CHECK(kite_.pump_until([&] { return !read_file(request.path).empty(); }, kAnswerTimeout));
    }
  }

  Compare comparison_for(const RequestInfo& request, const ser::Value& recorded) const {
    const std::string& c = request.callable;
    // Machine-dependent: the agent's environment and charset, and AgentInfo,
    // where Kite reports no durable-task binary (binaryCompatible = false) so
    // that the controller keeps using the shell wrapper.
    if (c == "hudson.EnvVars$GetEnvVars" || c == "org.jenkinsci.plugins.durabletask.AgentInfo$GetAgentInfo" ||
        c == std::string(kController) + "TranscodingCharsetForSystemDefault") {
      return Compare::kShape;
    }
    // Clock-dependent: a modification time, and the size of a file a
    // background process keeps appending to.
    if (c == "hudson.FilePath$LastModified" || c == "hudson.FilePath$Length") return Compare::kShape;
    if (c == std::string(kController) + "StatusCheck" && recorded.is_null()) return Compare::kRunning;
    return Compare::kExact;
  }

  void compare(const RequestInfo& request) {
    INFO("request " << request.id << ": " << request.callable);
    auto mine = reply_of(*kite_.response(request.id));
    auto theirs = reply_of(recording_.commands[recording_.response_index.at(request.id)].bytes);
    REQUIRE(mine.has_value());
    REQUIRE(theirs.has_value());
    ++compared_[request.callable];
    const ser::Value a = mine->value();
    const ser::Value b = theirs->value();
    INFO("Kite's answer: " << (mine->exception ? "exception " : "") << leaf(a)
                           << (mine->exception ? ": " + leaf(*a.as_object()->field("detailMessage")) : ""));
    REQUIRE(mine->exception == theirs->exception);
    if (mine->exception) {
      CHECK(a.class_name() == b.class_name());
      return;
    }

    switch (comparison_for(request, b)) {
      case Compare::kExact:
        CHECK(shape(a, 3, false) == shape(b, 3, false));
        if (const ser::Array* bytes = b.as_array(); bytes && bytes->element_type == 'B') {
          REQUIRE(a.as_array() != nullptr);
          CHECK(paths_.to_recorded(as_text(a.as_array()->bytes())) == as_text(bytes->bytes()));
        } else {
          CHECK(paths_.to_recorded(leaf(a)) == leaf(b));
        }
        break;
      case Compare::kShape:
        CHECK(shape(a, 3, false) == shape(b, 3, false));
        break;
      case Compare::kRunning:
        if (!a.is_null()) {
          REQUIRE(a.class_name() == "java.lang.Integer");
          running_status_checks_.emplace_back(request.path, *a.as_int());
        }
        break;
    }
    answers_.emplace(request.id, AnswerPair{request.callable, std::move(*mine), std::move(*theirs)});
    map_exports(request, a, b);
    note_streams(request);
  }

  // Learns Kite's export ids from its response: the RemoteProcess proxy of a
  // launch, and the RemoteInputStreams of an IOTriplet.
  void map_exports(const RequestInfo& request, const ser::Value& kite, const ser::Value& recorded) {
    if (auto recorded_oid = proxy_oid(recorded)) {
      auto kite_oid = proxy_oid(kite);
      REQUIRE(kite_oid.has_value());
      oids_[*recorded_oid] = *kite_oid;
    }
    if (request.callable == "hudson.Launcher$RemoteProcess.getIOtriplet") {
      for (const char* name : {"stdout", "stderr", "stdin"}) {
        INFO("IOTriplet." << name);
        const ser::Value* recorded_stream = recorded.as_object()->field(name);
        const ser::Value* kite_stream = kite.as_object()->field(name);
        REQUIRE(kite_stream != nullptr);
        CHECK(kite_stream->class_name() == recorded_stream->class_name());
        auto recorded_input = launcher::java::remote_input_stream(*recorded_stream);
        auto kite_input = launcher::java::remote_input_stream(*kite_stream);
        CHECK(recorded_input.has_value() == kite_input.has_value());
        if (recorded_input && kite_input) {
          CHECK(recorded_input->greedy == kite_input->greedy);
          oids_[recorded_input->oid] = kite_input->oid;
        }
      }
    }
  }

  // Remembers which controller stream belongs to which launch and WriteLog,
  // and checks that a request's output arrived before its Response.
  void note_streams(const RequestInfo& request) {
    const ser::Object* top = request.payload.values()[0].as_object();
    if (request.callable == "hudson.Launcher$RemoteLaunchCallable") {
      const ser::Value* out = top->field("out");
      auto oid = out != nullptr ? launcher::java::remote_output_stream_oid(*out) : std::nullopt;
      if (!oid) oid = launcher::java::listener_stream_oid(*top->field("stdoutListener"));
      auto kite_reply = reply_of(*kite_.response(request.id));
      auto process = proxy_oid(kite_reply->value());
      if (oid && process) process_output_[*process] = *oid;
    } else if (request.callable == "hudson.Launcher$RemoteProcess.join") {
      auto out = process_output_.find(oids_.at(request.rpc_oid));
      if (out != process_output_.end()) {
        join_outputs_.emplace_back(request.id, out->second);
      }
    } else if (request.callable == std::string(kController) + "WriteLog") {
      const auto last = request.file_callable->field("lastLocation")->as_long().value_or(0);
      const auto sink = launcher::java::remote_output_stream_oid(*request.file_callable->field("sink"));
      REQUIRE(sink.has_value());
      write_logs_.push_back(WriteLogCall{request.id, request.path, static_cast<std::uint64_t>(last), *sink});
    } else if (request.callable == "hudson.Launcher$RemoteLauncher$KillTask") {
      kill_request_ids_.push_back(request.id);
      auto model = launcher::java::string_map(*top->field("modelEnvVars"));
      REQUIRE(model.has_value());
      kill_models_.push_back(*model);
    } else if (request.callable == std::string(kController) + "StatusCheck") {
      status_paths_[request.id] = request.path;
    }
  }

  void compare_streams() {
    const auto& mine = kite_.stream_bytes();
    auto kite_bytes = [&](std::int32_t oid) {
      auto it = mine.find(oid);
      return it == mine.end() ? std::string() : paths_.to_recorded(it->second);
    };
    auto recorded_bytes = [&](std::int32_t oid) {
      auto it = recording_.agent_stream_bytes.find(oid);
      return it == recording_.agent_stream_bytes.end() ? std::string() : it->second;
    };

    // Every byte of a process's output arrived before the response to join.
    for (const auto& [join_id, oid] : join_outputs_) {
      INFO("join request " << join_id << ", output stream " << oid);
      CHECK(kite_.stream_size_at_response(join_id, oid) == mine.at(oid).size());
    }

    // WriteLog: each call's bytes arrived before its response, and the logs the
    // controller reassembles are the recorded ones.
    std::set<std::int32_t> log_sinks;
    std::map<std::string, LogAssembly> kite_logs;
    std::map<std::string, LogAssembly> recorded_logs;
    std::map<std::string, std::size_t> recorded_before_kill;
    const std::int32_t first_kill = kill_request_ids_.empty() ? INT32_MAX : kill_request_ids_.front();
    for (const auto& call : write_logs_) {
      INFO("WriteLog request " << call.id << " on " << call.path << " from " << call.last_location);
      log_sinks.insert(call.sink);
      CHECK(kite_.stream_size_at_response(call.id, call.sink) == kite_bytes(call.sink).size());
      kite_logs[call.path].place(call.last_location, kite_bytes(call.sink));
      recorded_logs[call.path].place(call.last_location, recorded_bytes(call.sink));
      if (call.id < first_kill) recorded_before_kill[call.path] = recorded_logs[call.path].filled;
    }
    for (const auto& [path, recorded] : recorded_logs) {
      INFO("log " << path);
      const LogAssembly& log = kite_logs[path];
      CHECK(log.consistent);
      CHECK(log.filled == log.bytes.size());
      if (killed_logs().contains(path)) {
        // A stopped step is equal up to what the controller read before the
        // stop, because what follows depends on when the signal arrived.
        const std::size_t common = recorded_before_kill[path];
        REQUIRE(log.bytes.size() >= common);
        CHECK(log.bytes.substr(0, common) == recorded.bytes.substr(0, common));
      } else {
        CHECK(log.bytes == recorded.bytes);
      }
    }

    // Every other stream (process output, the launcher's command line) is the recorded bytes.
    std::set<std::int32_t> oids;
    for (const auto& [oid, data] : recording_.agent_stream_bytes) oids.insert(oid);
    for (const auto& [oid, data] : mine) oids.insert(oid);
    for (std::int32_t oid : oids) {
      if (log_sinks.contains(oid)) continue;
      INFO("controller stream " << oid);
      CHECK(kite_bytes(oid) == recorded_bytes(oid));
    }
    CHECK(kite_.closed_streams() == recording_.agent_closed_streams);

    // ProxyOutputStream$Unexport: the Java agent releases a stream when its
    // garbage collector finds the proxy unused, so the recorded releases are
    // a sample of what it would release in the end. Kite releases each
    // WriteLog sink when the call ends and a launch's streams when the
    // process proxy is gone, each stream once and after its last byte.
    std::set<std::int32_t> released(kite_.released_streams().begin(), kite_.released_streams().end());
    INFO("recorded releases: " << fmt::format("{}", fmt::join(recording_.agent_released_streams, ",")));
    INFO("Kite's releases: " << fmt::format("{}", fmt::join(kite_.released_streams(), ",")));
    CHECK(released.size() == kite_.released_streams().size());
    for (std::int32_t oid : recording_.agent_released_streams) CHECK(released.contains(oid));
    for (std::int32_t sink : log_sinks) CHECK(released.contains(sink));
    for (std::int32_t oid : released) {
      INFO("released stream " << oid);
      const std::size_t written = mine.contains(oid) ? mine.at(oid).size() : 0;
      CHECK(kite_.stream_size_at_release(oid) == written);
    }

    // A status seen while a step ran must be its final one.
    const auto finals = final_statuses();
    for (const auto& [path, status] : running_status_checks_) {
      INFO("StatusCheck on " << path);
      auto final_status = finals.find(path);
      REQUIRE(final_status != finals.end());
      CHECK(status == final_status->second);
    }
    CHECK(kite_.unexpected() == std::vector<std::string>{});
  }

  // Logs of steps the controller stopped: the control directory of a
  // jenkins-log.txt read after a KillTask, with a StatusCheck returning 143.
  std::set<std::string> killed_logs() const {
    std::set<std::string> out;
    if (kill_request_ids_.empty()) return out;
    for (const auto& [path, status] : final_statuses()) {
      if (status == 143) out.insert(fs::path(path).parent_path() / "jenkins-log.txt");
    }
    return out;
  }

  // Recorded non-null StatusCheck results by result file.
  std::map<std::string, std::int32_t> final_statuses() const {
    std::map<std::string, std::int32_t> out;
    for (const auto& [id, pair] : answers_) {
      if (pair.callable != std::string(kController) + "StatusCheck") continue;
      if (auto status = pair.recorded.value().as_int()) out[status_paths_.at(id)] = *status;
    }
    return out;
  }

  struct WriteLogCall {
    std::int32_t id;
    std::string path;
    std::uint64_t last_location;
    std::int32_t sink;
  };

  const Recording& recording_;
  const PathMapper& paths_;
  KiteSide kite_;
  std::map<std::int32_t, std::int32_t> oids_;  // Java agent's export id -> Kite's
  std::map<std::int32_t, RequestInfo> pending_;
  std::map<std::int32_t, AnswerPair> answers_;
  std::map<std::string, int> compared_;
  std::map<std::int32_t, std::int32_t> process_output_;  // Kite's RemoteProcess oid -> controller stream
  std::vector<std::pair<std::int32_t, std::int32_t>> join_outputs_;
  std::vector<WriteLogCall> write_logs_;
  std::vector<std::int32_t> kill_request_ids_;
  std::vector<std::map<std::string, std::string>> kill_models_;
  std::vector<std::pair<std::string, std::int32_t>> running_status_checks_;
  std::map<std::int32_t, std::string> status_paths_;  // StatusCheck request id -> result file
};

}  // namespace

TEST_CASE("shell session replays like the Java agent", "[replay]") {
  Recording recording(g_vectors / "jenkins" / "shell.jsonl");
  PathMapper paths(recording.root);
  Replay replay(recording, paths);
  replay.run();

  const auto& compared = replay.compared();
  for (const char* expected : {"hudson.FilePath$Mkdirs", "hudson.FilePath$IsUnix", "hudson.Launcher$RemoteLaunchCallable",
                               "hudson.Launcher$RemoteProcess.getIOtriplet", "hudson.Launcher$RemoteProcess.join",
                               "hudson.Launcher$RemoteProcess.isAlive", "hudson.Launcher$RemoteProcess.kill",
                               "hudson.FilePath$DeleteRecursive"}) {
    INFO(expected);
    CHECK(compared.contains(expected));
  }
  // Exit codes: 0, 3 (exit 3), 143 (killed), all exactly as recorded.
  std::set<std::int32_t> exit_codes;
  for (const auto& answer : replay.answers_of("hudson.Launcher$RemoteProcess.join")) {
    exit_codes.insert(answer.kite.as_int().value_or(-1));
  }
  CHECK(exit_codes == std::set<std::int32_t>{0, 3, 143});
  CHECK(replay.kite().stream_bytes().size() >= 10);
}

TEST_CASE("durable session replays like the Java agent", "[replay]") {
  Recording recording(g_vectors / "jenkins" / "durable.jsonl.gz");
  PathMapper paths(recording.root);
  Replay replay(recording, paths);
  // Processes the replay left (if a check failed before the recorded
  // KillTasks) are killed by the recorded cookies when the test ends.
  struct Cleanup {
    Replay& replay;
    ~Cleanup() {
      for (const auto& model : replay.kill_models()) launcher::process_tree::kill_all(model, {500ms});
    }
  } cleanup{replay};
  replay.run();

  const auto& compared = replay.compared();
  for (const std::string& expected : std::vector<std::string>{
           "org.jenkinsci.plugins.durabletask.AgentInfo$GetAgentInfo", "hudson.FilePath$Mkdirs", "hudson.FilePath$Write",
        "hudson.FilePath$Chmod", "hudson.Launcher$RemoteLaunchCallable", "hudson.Launcher$RemoteProcess.getIOtriplet",
        std::string(kController) + "WriteLog", std::string(kController) + "StatusCheck",
        std::string(kController) + "GetOutput", std::string(kController) + "TranscodingCharsetForSystemDefault",
        "hudson.FilePath$DeleteRecursive", "hudson.Launcher$RemoteLauncher$KillTask", "hudson.FilePath$LastModified"}) {
    INFO(expected);
    CHECK(compared.contains(expected));
  }

  // Exit statuses are compared exactly: 0, 3 (exit 3) and 143 (the stopped step).
  std::set<std::int32_t> statuses;
  for (const auto& answer : replay.answers_of(std::string(kController) + "StatusCheck")) {
    if (auto status = answer.kite.as_int()) statuses.insert(*status);
  }
  CHECK(statuses == std::set<std::int32_t>{0, 3, 143});

  // Clock-dependent values, checked for what they must be: a modification
  // time within ten minutes of now, in milliseconds since the epoch.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& answer : replay.answers_of("hudson.FilePath$LastModified")) {
    REQUIRE(answer.kite.as_long().has_value());
    CHECK(std::abs(*answer.kite.as_long() - now_ms) < 600'000);
  }
  // The background daemon's heartbeat file grows until the KillTask by
  // JENKINS_NODE_COOKIE, then stays as it is, as in the recording.
  REQUIRE(replay.kill_requests().size() == 2);
  std::vector<std::int64_t> after_kill;
  for (const auto& answer : replay.answers_of("hudson.FilePath$Length")) {
    if (answer.id > replay.kill_requests().back()) after_kill.push_back(*answer.kite.as_long());
  }
  REQUIRE(after_kill.size() == 2);
  CHECK(after_kill[0] > 0);
  CHECK(after_kill[0] == after_kill[1]);
}

int main(int argc, char* argv[]) {
  const char* dir = std::getenv("KITE_SHARED_VECTORS");
  g_vectors = dir ? fs::path(dir) : fs::path("../shared/vectors");
  if (!fs::exists(g_vectors / "jenkins" / "shell.jsonl") || !fs::exists(g_vectors / "jenkins" / "durable.jsonl.gz")) {
    std::printf("SKIP: recorded sessions not found at %s\n", (g_vectors / "jenkins").c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
