#include "protocol/serialization/writer.hpp"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "protocol/serialization/mutf8.hpp"

namespace kite::ser {

namespace {
// ObjectOutputStream's BlockDataOutputStream buffer: records never exceed it.
constexpr std::size_t kMaxBlockRecord = 1024;
// Nesting bound of graphs built in C++, so a very deep graph is an error
// instead of a stack overflow. Read streams stay within ReaderOptions::max_depth.
constexpr std::size_t kMaxWriteDepth = 4096;
}  // namespace

// Serialization steps; a friend of Writer so it can use its handle table.
class WriterImpl {
 public:
  explicit WriterImpl(Writer& w) : w_(w), out_(w.out_) {}

  void u8(std::uint8_t b) { out_.push_back(b); }
  void token(Token t) { out_.push_back(static_cast<std::uint8_t>(t)); }
  template <class T>
  void be(T v) {
    using U = std::make_unsigned_t<T>;
    const U u = static_cast<U>(v);
    for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
      out_.push_back(static_cast<std::uint8_t>(u >> shift));
    }
  }
  void raw(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void raw(std::string_view s) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
  }

  Unexpected fail(std::string message) const {
    return Unexpected(Error{ErrorCode::InvalidGraph, out_.size(), std::move(message)});
  }

  Result<void> utf(std::string_view utf8, std::string_view what) {
    const std::string m = mutf8_of(utf8);
    if (m.size() > 0xFFFF) return fail(fmt::format("{} longer than 65535 encoded bytes", what));
    be<std::uint16_t>(static_cast<std::uint16_t>(m.size()));
    raw(m);
    return {};
  }

  static std::string mutf8_of(std::string_view utf8);

  // Returns the handle of a node already written, or -1.
  std::int32_t lookup(const void* node) const {
    auto it = w_.handles_.find(node);
    return it == w_.handles_.end() ? -1 : it->second;
  }
  void assign(const void* node) { w_.handles_.emplace(node, w_.next_handle_++); }
  void reference(std::int32_t handle) {
    token(Token::Reference);
    be<std::int32_t>(handle);
  }

  struct DepthGuard {
    explicit DepthGuard(std::size_t& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    std::size_t& depth;
  };

  // ---------------------------------------------------------------- blocks

  void block_record(std::span<const std::uint8_t> bytes, bool long_header) {
    if (bytes.size() <= 0xFF && !long_header) {
      token(Token::BlockData);
      u8(static_cast<std::uint8_t>(bytes.size()));
    } else {
      token(Token::BlockDataLong);
      be<std::int32_t>(static_cast<std::int32_t>(bytes.size()));
    }
    raw(bytes);
  }

  void block(const BlockData& b) {
    if (b.recorded) {
      block_record(b.bytes, b.long_header);
      return;
    }
    block_split(b.bytes);
  }

  void block_split(std::span<const std::uint8_t> bytes) {
    for (std::size_t off = 0; off < bytes.size(); off += kMaxBlockRecord) {
      block_record(bytes.subspan(off, std::min(kMaxBlockRecord, bytes.size() - off)), false);
    }
  }

  Result<void> contents(const std::vector<Content>& items) {
    for (const Content& c : items) {
      if (const auto* b = std::get_if<BlockData>(&c)) {
        block(*b);
      } else if (const auto* v = std::get_if<Value>(&c)) {
        if (auto r = value(*v); !r) return r;
      } else {
        return fail("reset or aborted write inside an object");
      }
    }
    token(Token::EndBlockData);
    return {};
  }

  // ---------------------------------------------------------------- values

  Result<void> value(const Value& v) {
    DepthGuard guard(w_.depth_);
    if (w_.depth_ > kMaxWriteDepth) return fail("object graph nested deeper than 4096");
    return std::visit([this](const auto& x) { return node(x); }, v.storage());
  }

  Result<void> node(Null) {
    token(Token::Null);
    return {};
  }
  template <class P>
    requires std::is_arithmetic_v<P> || std::is_same_v<P, char16_t>
  Result<void> node(P) {
    return fail("a primitive value where an object was expected");
  }

  Result<void> node(const JString* s) {
    if (s == nullptr) return node(Null{});
    if (auto h = lookup(s); h >= 0) {
      reference(h);
      return {};
    }
    string_body(*s);
    return {};
  }

  void string_body(const JString& s) {
    assign(&s);
    if (s.mutf8.size() <= 0xFFFF && !s.long_form) {
      token(Token::String);
      be<std::uint16_t>(static_cast<std::uint16_t>(s.mutf8.size()));
    } else {
      token(Token::LongString);
      be<std::int64_t>(static_cast<std::int64_t>(s.mutf8.size()));
    }
    raw(s.mutf8);
  }

  Result<void> node(const ClassDesc* d) { return class_desc(d); }

  Result<void> node(const ClassObject* c) {
    if (c == nullptr) return node(Null{});
    if (auto h = lookup(c); h >= 0) {
      reference(h);
      return {};
    }
    token(Token::Class);
    if (c->desc == nullptr) return fail("class object without a descriptor");
    if (auto r = class_desc(c->desc); !r) return r;
    assign(c);
    return {};
  }

  Result<void> node(const EnumConstant* e) {
    if (e == nullptr) return node(Null{});
    if (auto h = lookup(e); h >= 0) {
      reference(h);
      return {};
    }
    if (e->desc == nullptr || e->name == nullptr) return fail("enum constant without class or name");
    token(Token::Enum);
    if (auto r = class_desc(e->desc); !r) return r;
    assign(e);
    // ObjectOutputStream.writeEnum writes the name as a new string every time.
    string_body(*e->name);
    return {};
  }

  Result<void> node(const Array* a) {
    if (a == nullptr) return node(Null{});
    if (auto h = lookup(a); h >= 0) {
      reference(h);
      return {};
    }
    if (a->desc == nullptr) return fail("array without a descriptor");
    token(Token::Array);
    if (auto r = class_desc(a->desc); !r) return r;
    assign(a);
    be<std::int32_t>(a->length);
    if (a->is_primitive()) {
      FieldDesc probe{a->element_type, {}, nullptr};
      if (a->raw.size() != static_cast<std::size_t>(a->length) * probe.primitive_size()) {
        return fail(fmt::format("array {} holds {} bytes for {} elements", a->desc->name,
                                a->raw.size(), a->length));
      }
      raw(a->raw);
      return {};
    }
    if (a->elements.size() != static_cast<std::size_t>(a->length)) {
      return fail(fmt::format("array {} holds {} elements, length says {}", a->desc->name,
                              a->elements.size(), a->length));
    }
    for (const Value& e : a->elements) {
      if (auto r = value(e); !r) return r;
    }
    return {};
  }

  Result<void> node(const Object* o) {
    if (o == nullptr) return node(Null{});
    if (auto h = lookup(o); h >= 0) {
      reference(h);
      return {};
    }
    if (o->desc == nullptr) return fail("object without a class descriptor");
    token(Token::Object);
    if (auto r = class_desc(o->desc); !r) return r;
    assign(o);
    if (o->desc->is_externalizable()) return contents(o->external);

    const std::vector<const ClassDesc*> chain = o->desc->chain();
    if (o->classes.size() != chain.size()) {
      return fail(fmt::format("object of {} has data for {} classes, its descriptor chain has {}",
                              o->desc->name, o->classes.size(), chain.size()));
    }
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const ClassData& cd = o->classes[i];
      if (cd.desc != chain[chain.size() - 1 - i]) {
        return fail(fmt::format("object of {}: class data {} does not follow the descriptor chain",
                                o->desc->name, i));
      }
      if (auto r = class_data(cd); !r) return r;
    }
    return {};
  }

  Result<void> class_data(const ClassData& cd) {
    const ClassDesc& d = *cd.desc;
    if (cd.has_fields) {
      if (cd.fields.size() != d.fields.size()) {
        return fail(fmt::format("{} has {} field values for {} fields", d.name, cd.fields.size(),
                                d.fields.size()));
      }
      for (std::size_t i = 0; i < d.fields.size(); ++i) {
        if (auto r = field_value(d, d.fields[i], cd.fields[i]); !r) return r;
      }
    }
    if (d.has_write_method()) return contents(cd.custom);
    if (!cd.custom.empty()) return fail(fmt::format("{} has custom data but no SC_WRITE_METHOD", d.name));
    return {};
  }

  template <class T>
  Result<void> prim(const ClassDesc& d, const FieldDesc& f, const Value& v) {
    const T* p = std::get_if<T>(&v.storage());
    if (p == nullptr) {
      return fail(fmt::format("{}.{} (type {}) holds a value of another type", d.name, f.name, f.type));
    }
    if constexpr (std::is_same_v<T, bool>) {
      u8(*p ? 1 : 0);
    } else if constexpr (std::is_floating_point_v<T>) {
      be(std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(*p));
    } else {
      be(static_cast<std::make_unsigned_t<T>>(*p));
    }
    return {};
  }

  Result<void> field_value(const ClassDesc& d, const FieldDesc& f, const Value& v) {
    switch (f.type) {
      case 'B': return prim<std::int8_t>(d, f, v);
      case 'Z': return prim<bool>(d, f, v);
      case 'C': return prim<char16_t>(d, f, v);
      case 'S': return prim<std::int16_t>(d, f, v);
      case 'I': return prim<std::int32_t>(d, f, v);
      case 'F': return prim<float>(d, f, v);
      case 'J': return prim<std::int64_t>(d, f, v);
      case 'D': return prim<double>(d, f, v);
      default:
        if (v.is_primitive()) return fail(fmt::format("{}.{} holds a primitive", d.name, f.name));
        return value(v);
    }
  }

  // ---------------------------------------------------------- descriptors

  Result<void> class_desc(const ClassDesc* d) {
    DepthGuard guard(w_.depth_);
    if (w_.depth_ > kMaxWriteDepth) return fail("object graph nested deeper than 4096 at a class descriptor");
    if (d == nullptr) {
      token(Token::Null);
      return {};
    }
    if (auto h = lookup(d); h >= 0) {
      reference(h);
      return {};
    }
    if (d->proxy) {
      token(Token::ProxyClassDesc);
      assign(d);
      be<std::int32_t>(static_cast<std::int32_t>(d->interfaces.size()));
      for (const std::string& name : d->interfaces) {
        if (auto r = utf(name, "interface name"); !r) return r;
      }
    } else {
      token(Token::ClassDesc);
      if (auto r = utf(d->name, "class name"); !r) return r;
      be<std::int64_t>(d->svuid);
      assign(d);
      u8(d->flags);
      if (d->fields.size() > 0xFFFF) return fail(fmt::format("{} has more than 65535 fields", d->name));
      be<std::uint16_t>(static_cast<std::uint16_t>(d->fields.size()));
      for (const FieldDesc& f : d->fields) {
        u8(static_cast<std::uint8_t>(f.type));
        if (auto r = utf(f.name, "field name"); !r) return r;
        if (!f.is_primitive()) {
          if (f.signature == nullptr) return fail(fmt::format("{}.{} has no type string", d->name, f.name));
          if (auto r = node(f.signature); !r) return r;
        }
      }
    }
    if (auto r = annotation(*d); !r) return r;
    return class_desc(d->super);
  }

  Result<void> annotation(const ClassDesc& d) {
    switch (w_.options_.annotations) {
      case AnnotationMode::Stored:
        return contents(d.annotation);
      case AnnotationMode::Empty:
        token(Token::EndBlockData);
        return {};
      case AnnotationMode::Loader:
        loader_tag(d);
        token(Token::EndBlockData);
        return {};
    }
    return {};
  }

  // MultiClassLoaderSerializer.Output.annotateClass: -3 for the system loader,
  // else the index of a loader announced earlier in the payload, else -1/-2
  // and the export id (which allocates the next index).
  void loader_tag(const ClassDesc& d) {
    const LoaderRef ref = w_.options_.loader_policy ? w_.options_.loader_policy(d) : LoaderRef::system();
    std::vector<std::uint8_t> bytes;
    auto put = [&bytes](std::int32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> shift));
    };
    if (ref.kind == LoaderRef::Kind::System) {
      put(kTagSystemClassLoader);
    } else {
      auto it = std::find(w_.loaders_.begin(), w_.loaders_.end(), ref);
      if (it != w_.loaders_.end()) {
        put(static_cast<std::int32_t>(it - w_.loaders_.begin()));
      } else {
        w_.loaders_.push_back(ref);
        put(ref.kind == LoaderRef::Kind::Local ? kTagLocalClassLoader : kTagExportedClassLoader);
        put(ref.oid);
      }
    }
    block_record(bytes, false);
  }

 private:
  Writer& w_;
  std::vector<std::uint8_t>& out_;
};

std::string WriterImpl::mutf8_of(std::string_view utf8) { return mutf8::from_utf8(utf8); }

Writer::Writer(WriterOptions options) : options_(std::move(options)) {
  if (options_.write_header) {
    out_ = {0xAC, 0xED, 0x00, 0x05};
  }
}

Result<void> Writer::write(const Value& value) {
  depth_ = 0;
  WriterImpl impl(*this);
  return impl.value(value);
}

Result<void> Writer::write_block_data(std::span<const std::uint8_t> bytes) {
  WriterImpl impl(*this);
  impl.block_split(bytes);
  return {};
}

void Writer::reset() {
  out_.push_back(static_cast<std::uint8_t>(Token::Reset));
  handles_.clear();
  next_handle_ = kBaseHandle;
}

Result<void> Writer::write(const Content& content) {
  if (const auto* v = std::get_if<Value>(&content)) return write(*v);
  if (const auto* b = std::get_if<BlockData>(&content)) {
    WriterImpl impl(*this);
    impl.block(*b);
    return {};
  }
  if (std::holds_alternative<Reset>(content)) {
    reset();
    return {};
  }
  // ObjectOutputStream.writeFatalException: clear the handle table (without
  // TC_RESET), write TC_EXCEPTION and the Throwable, clear again.
  const auto& a = std::get<Aborted>(content);
  out_.insert(out_.end(), a.partial.begin(), a.partial.end());
  out_.push_back(static_cast<std::uint8_t>(Token::Exception));
  handles_.clear();
  next_handle_ = kBaseHandle;
  auto r = write(a.exception);
  handles_.clear();
  next_handle_ = kBaseHandle;
  return r;
}

Result<std::vector<std::uint8_t>> write_stream(const Stream& stream, const WriterOptions& options) {
  Writer w(options);
  for (const Content& c : stream.contents) {
    if (auto r = w.write(c); !r) return Unexpected(r.error());
  }
  return w.take();
}

Result<std::vector<std::uint8_t>> write_values(std::span<const Value> values, const WriterOptions& options) {
  Writer w(options);
  for (const Value& v : values) {
    if (auto r = w.write(v); !r) return Unexpected(r.error());
  }
  return w.take();
}

}  // namespace kite::ser
