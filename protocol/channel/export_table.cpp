#include "protocol/channel/export_table.hpp"

namespace kite::channel {

std::int32_t ExportTable::export_object(const std::shared_ptr<ExportedObject>& object) {
  std::lock_guard lock(mutex_);
  if (auto it = ids_.find(object.get()); it != ids_.end()) {
    ++entries_[it->second].references;
    return it->second;
  }
  const std::int32_t oid = next_oid_++;
  entries_.emplace(oid, Entry{object, 1});
  ids_.emplace(object.get(), oid);
  return oid;
}

bool ExportTable::unexport(std::int32_t oid) {
  std::shared_ptr<ExportedObject> removed;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(oid);
    if (it == entries_.end()) return false;
    if (--it->second.references > 0) return false;
    removed = std::move(it->second.object);
    ids_.erase(removed.get());
    entries_.erase(it);
  }
  if (removed->on_unexport) removed->on_unexport();
  return true;
}

std::shared_ptr<ExportedObject> ExportTable::get(std::int32_t oid) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(oid);
  return it == entries_.end() ? nullptr : it->second.object;
}

std::size_t ExportTable::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void ExportTable::clear() {
  std::unordered_map<std::int32_t, Entry> removed;
  {
    std::lock_guard lock(mutex_);
    removed.swap(entries_);
    ids_.clear();
  }
  for (auto& [oid, entry] : removed) {
    if (entry.object->on_unexport) entry.object->on_unexport();
  }
}

}  // namespace kite::channel
