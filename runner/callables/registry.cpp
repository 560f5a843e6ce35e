#include "runner/callables/registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace kite::callables {

std::optional<std::string> NodeInfo::system_property(const std::string& key) const {
  std::lock_guard lock(settings->mutex);
  auto it = settings->system_properties.find(key);
  if (it == settings->system_properties.end()) return std::nullopt;
  return it->second;
}

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

void Registry::add(std::string class_name, Handler handler) {
  std::lock_guard lock(mutex_);
  handlers_.insert_or_assign(std::move(class_name), std::move(handler));
}

void Registry::add_file(std::string class_name, FileHandler handler) {
  std::lock_guard lock(mutex_);
  file_handlers_.insert_or_assign(std::move(class_name), std::move(handler));
}

const Handler* Registry::find(std::string_view class_name) const {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(class_name);
  return it == handlers_.end() ? nullptr : &it->second;
}

const FileHandler* Registry::find_file(std::string_view class_name) const {
  std::lock_guard lock(mutex_);
  auto it = file_handlers_.find(class_name);
  return it == file_handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::class_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, handler] : handlers_) names.push_back(name);
  return names;
}

std::vector<std::string> Registry::file_class_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, handler] : file_handlers_) names.push_back(name);
  return names;
}

Registration::Registration(std::string class_name, Handler handler) {
  Registry::global().add(std::move(class_name), std::move(handler));
}

Registration::Registration(std::string class_name, FileHandler handler) {
  Registry::global().add_file(std::move(class_name), std::move(handler));
}

std::string unsupported_message(std::string_view class_name) {
  return fmt::format("Kite does not support the callable {}: this native agent has no implementation for it",
                     class_name);
}

RegistryDispatcher::RegistryDispatcher(const Registry& registry, NodeInfo node, std::shared_ptr<spdlog::logger> log)
    : registry_(registry), node_(std::move(node)), log_(log ? std::move(log) : spdlog::default_logger()) {}

namespace {

// FilePath wrappers: the inner FileCallable and the FilePath, by wrapper class.
struct Unwrapped {
  const ser::Object* callable = nullptr;
  const ser::Object* file_path = nullptr;
};

std::optional<Unwrapped> unwrap_file_callable(const ser::Object& wrapper) {
  const char* inner_field = nullptr;
  const char* path_field = nullptr;
  if (wrapper.class_name() == "hudson.FilePath$FileCallableWrapper") {
    inner_field = "callable";
    path_field = "filePath";
  } else if (wrapper.class_name() == "hudson.FilePath$CallableWith") {
    inner_field = "task";
    path_field = "this$0";
  } else {
    return std::nullopt;
  }
  Unwrapped u;
  if (const ser::Value* v = wrapper.field(inner_field)) u.callable = v->as_object();
  if (const ser::Value* v = wrapper.field(path_field)) u.file_path = v->as_object();
  return u;
}

}  // namespace

channel::MethodResult RegistryDispatcher::call(const channel::IncomingCall& incoming, channel::CallContext& cctx) {
  const ser::Object& callable = *incoming.callable;
  std::string_view class_name = callable.class_name();

  if (auto wrapped = unwrap_file_callable(callable)) {
    if (wrapped->callable == nullptr || wrapped->file_path == nullptr) {
      return Context::fail(fmt::format("{} without a callable or a FilePath ({})", class_name, incoming.to_string));
    }
    const ser::Value* remote = wrapped->file_path->field("remote");
    auto path = remote ? remote->as_string() : std::nullopt;
    if (!path) return Context::fail(fmt::format("{}: FilePath.remote is not a string", class_name));
    class_name = wrapped->callable->class_name();
    // A system call would stop at the NUL and act on a shorter path than the one requested.
    if (path->find('\0') != std::string::npos) {
      std::string printable_path = *path;
      std::replace(printable_path.begin(), printable_path.end(), '\0', '?');
      log_->warn("request {}: {} rejected: FilePath.remote contains a NUL byte: {}", incoming.request_id, class_name,
                 printable_path);
      return Context::fail(fmt::format("Invalid file path (contains a NUL byte): {}", printable_path));
    }
    cctx.set_loader_oid(channel::loader_oid_of(wrapped->callable->desc, cctx.loader_oid()));
    Context ctx(cctx, node_, *log_, class_name);
    if (const FileHandler* handler = registry_.find_file(class_name)) {
      log_->debug("request {}: {} on {}", incoming.request_id, class_name, *path);
      return (*handler)(FileCall{*wrapped->callable, std::filesystem::path(*path), incoming.to_string}, ctx);
    }
  } else {
    Context ctx(cctx, node_, *log_, class_name);
    if (const Handler* handler = registry_.find(class_name)) {
      log_->debug("request {}: {}", incoming.request_id, class_name);
      return (*handler)(Call{callable, incoming.to_string}, ctx);
    }
  }

  {
    std::lock_guard lock(logged_mutex_);
    if (std::find(logged_unsupported_.begin(), logged_unsupported_.end(), class_name) == logged_unsupported_.end()) {
      logged_unsupported_.emplace_back(class_name);
      log_->warn("node {}: Kite does not support the callable {} (request {}: {}); answering with an IOException",
                 node_.name, class_name, incoming.request_id, incoming.to_string);
    }
  }
  return Context::fail(unsupported_message(class_name));
}

}  // namespace kite::callables
