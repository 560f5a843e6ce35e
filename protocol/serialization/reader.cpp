#include "protocol/serialization/reader.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "protocol/serialization/mutf8.hpp"

namespace kite::ser {
namespace {

// Largest input whose offsets fit the uint32 offset fields of the model.
constexpr std::size_t kMaxInput = 0xFFFFFFFFu;

bool is_value_token(std::uint8_t b) {
  switch (static_cast<Token>(b)) {
    case Token::Null: case Token::Reference: case Token::ClassDesc: case Token::Object:
    case Token::String: case Token::Array: case Token::Class: case Token::Exception:
    case Token::LongString: case Token::ProxyClassDesc: case Token::Enum:
      return true;
    default:
      return false;
  }
}

bool is_block_or_end(std::uint8_t b) {
  return b == static_cast<std::uint8_t>(Token::BlockData) ||
         b == static_cast<std::uint8_t>(Token::BlockDataLong) ||
         b == static_cast<std::uint8_t>(Token::EndBlockData);
}

class Parser {
 public:
  Parser(std::span<const std::uint8_t> in, const ReaderOptions& options, Arena& arena)
      : data_(in.data()), size_(in.size()), options_(options), arena_(arena) {}

  Result<void> parse(Stream& stream) {
    if (size_ > kMaxInput) return fail(ErrorCode::BadLength, "input larger than 4 GiB");
    auto magic = u16();
    if (!magic) return Unexpected(magic.error());
    if (*magic != kStreamMagic) {
      return fail_at(0, ErrorCode::BadMagic, fmt::format("expected AC ED, found {:04X}", *magic));
    }
    auto version = u16();
    if (!version) return Unexpected(version.error());
    if (*version != kStreamVersion) {
      return fail_at(2, ErrorCode::BadVersion, fmt::format("expected 5, found {}", *version));
    }
    stream.version = *version;
    while (pos_ < size_) {
      if (auto r = top_level_content(stream.contents); !r) return r;
    }
    return {};
  }

 private:
  // ------------------------------------------------------------ primitives

  Error error_at(std::size_t offset, ErrorCode code, std::string message) const {
    return Error{code, offset, std::move(message)};
  }
  Unexpected fail_at(std::size_t offset, ErrorCode code, std::string message) const {
    return Unexpected(error_at(offset, code, std::move(message)));
  }
  Unexpected fail(ErrorCode code, std::string message) const {
    return fail_at(pos_, code, std::move(message));
  }

  Result<void> need(std::size_t n, std::string_view what) const {
    if (size_ - pos_ < n) {
      return fail(ErrorCode::Truncated,
                  fmt::format("{} needs {} bytes, {} remain", what, n, size_ - pos_));
    }
    return {};
  }

  template <class T>
  Result<T> be(std::string_view what) {
    if (auto r = need(sizeof(T), what); !r) return Unexpected(r.error());
    using U = std::make_unsigned_t<T>;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | data_[pos_ + i]);
    pos_ += sizeof(T);
    return static_cast<T>(u);
  }
  Result<std::uint8_t> u8(std::string_view what = "byte") { return be<std::uint8_t>(what); }
  Result<std::uint16_t> u16(std::string_view what = "short") { return be<std::uint16_t>(what); }
  Result<std::int32_t> i32(std::string_view what = "int") { return be<std::int32_t>(what); }
  Result<std::int64_t> i64(std::string_view what = "long") { return be<std::int64_t>(what); }

  Result<std::uint8_t> peek() const {
    if (pos_ >= size_) return fail(ErrorCode::Truncated, "input ended where a token was expected");
    return data_[pos_];
  }

  // Modified UTF-8 bytes of length n at the current position, validated.
  Result<std::string_view> utf_bytes(std::size_t n, std::string_view what) {
    if (auto r = need(n, what); !r) return Unexpected(r.error());
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
    if (auto bad = mutf8::find_invalid(s)) {
      return fail_at(pos_ + *bad, ErrorCode::BadUtf, fmt::format("malformed byte in {}", what));
    }
    pos_ += n;
    return s;
  }

  // writeUTF form: u2 length + bytes, decoded to UTF-8 (names in descriptors).
  Result<std::string> utf(std::string_view what) {
    auto len = u16(what);
    if (!len) return Unexpected(len.error());
    auto s = utf_bytes(*len, what);
    if (!s) return Unexpected(s.error());
    return mutf8::to_utf8(*s);
  }

  // ------------------------------------------------------------ handles

  Result<std::int32_t> new_handle(Value v) {
    if (handles_.size() >= options_.max_handles) {
      return fail(ErrorCode::TooManyObjects,
                  fmt::format("more than {} handles", options_.max_handles));
    }
    handles_.push_back(v);
    return static_cast<std::int32_t>(kBaseHandle + handles_.size() - 1);
  }

  // Records that `node` starts at byte `at` and gives it the next handle, so
  // that later TC_REFERENCEs can name it. Returns the node as a Value.
  template <typename Node>
  Result<Value> assign_handle(Node* node, std::size_t at) {
    node->offset = static_cast<std::uint32_t>(at);
    const Value self(static_cast<const Node*>(node));
    auto h = new_handle(self);
    if (!h) return Unexpected(h.error());
    node->handle = *h;
    return self;
  }

  Result<Value> reference() {
    const std::size_t at = pos_ - 1;
    auto h = i32("handle");
    if (!h) return Unexpected(h.error());
    const std::int64_t index = static_cast<std::int64_t>(*h) - kBaseHandle;
    if (index < 0 || index >= static_cast<std::int64_t>(handles_.size())) {
      return fail_at(at, ErrorCode::BadHandle,
                     fmt::format("reference to unknown handle 0x{:x} ({} handles assigned)",
                                 static_cast<std::uint32_t>(*h), handles_.size()));
    }
    return handles_[static_cast<std::size_t>(index)];
  }

  struct DepthGuard {
    explicit DepthGuard(std::size_t& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    std::size_t& depth;
  };

  Result<void> check_depth() const {
    if (depth_ > options_.max_depth) {
      return fail(ErrorCode::DepthExceeded, fmt::format("nesting deeper than {}", options_.max_depth));
    }
    return {};
  }

  // ------------------------------------------------------------ contents

  Result<void> top_level_content(std::vector<Content>& out) {
    const std::size_t start = pos_;
    const std::uint8_t b = data_[pos_];
    if (b == static_cast<std::uint8_t>(Token::Reset)) {
      ++pos_;
      handles_.clear();
      out.emplace_back(Reset{static_cast<std::uint32_t>(start)});
      return {};
    }
    if (b == static_cast<std::uint8_t>(Token::BlockData) ||
        b == static_cast<std::uint8_t>(Token::BlockDataLong)) {
      auto block = block_data();
      if (!block) return Unexpected(block.error());
      out.emplace_back(std::move(*block));
      return {};
    }
    auto v = value();
    if (v) {
      out.emplace_back(*v);
      return {};
    }
    if (v.error().code != ErrorCode::WriteAborted) return Unexpected(v.error());
    return aborted(start, v.error().offset, out);
  }

  // TC_EXCEPTION: the writer cleared its handle table, wrote the Throwable and
  // cleared it again. The bytes before it belong to the failed object.
  Result<void> aborted(std::size_t start, std::size_t exception_at, std::vector<Content>& out) {
    Aborted a;
    a.partial.assign(data_ + start, data_ + exception_at);
    a.offset = static_cast<std::uint32_t>(exception_at);
    pos_ = exception_at + 1;
    handles_.clear();
    depth_ = 0;
    auto ex = value();
    if (!ex) {
      Error e = ex.error();
      if (e.code == ErrorCode::WriteAborted) {
        e = error_at(e.offset, ErrorCode::UnexpectedToken, "TC_EXCEPTION inside an exception");
      }
      return Unexpected(e);
    }
    if (ex->as_object() == nullptr) {
      return fail_at(exception_at, ErrorCode::UnexpectedToken,
                     "TC_EXCEPTION is not followed by an object");
    }
    a.exception = *ex;
    handles_.clear();
    out.emplace_back(std::move(a));
    return {};
  }

  Result<BlockData> block_data() {
    BlockData block;
    block.recorded = true;
    block.offset = static_cast<std::uint32_t>(pos_);
    const std::uint8_t tc = data_[pos_++];
    std::size_t len = 0;
    if (tc == static_cast<std::uint8_t>(Token::BlockData)) {
      auto n = u8("block data length");
      if (!n) return Unexpected(n.error());
      len = *n;
    } else {
      auto n = i32("block data length");
      if (!n) return Unexpected(n.error());
      if (*n < 0) return fail(ErrorCode::BadLength, fmt::format("negative block data length {}", *n));
      len = static_cast<std::size_t>(*n);
      block.long_header = len <= 0xFF;
    }
    if (auto r = need(len, "block data"); !r) return Unexpected(r.error());
    block.bytes.assign(data_ + pos_, data_ + pos_ + len);
    pos_ += len;
    return block;
  }

  // Block data and objects up to and including TC_ENDBLOCKDATA (class
  // annotations, custom writeObject data, externalizable data).
  Result<void> contents_until_end(std::vector<Content>& out) {
    DepthGuard guard(depth_);
    if (auto r = check_depth(); !r) return r;
    for (;;) {
      auto b = peek();
      if (!b) return Unexpected(b.error());
      switch (static_cast<Token>(*b)) {
        case Token::EndBlockData:
          ++pos_;
          return {};
        case Token::BlockData:
        case Token::BlockDataLong: {
          auto block = block_data();
          if (!block) return Unexpected(block.error());
          out.emplace_back(std::move(*block));
          break;
        }
        default: {
          auto v = value();
          if (!v) return Unexpected(v.error());
          out.emplace_back(*v);
        }
      }
    }
  }

  // ------------------------------------------------------------ values

  // Consumes the token byte that starts the next element, after checking the
  // nesting depth, and stores its offset in `at`. The caller owns the DepthGuard.
  Result<std::uint8_t> take_token(std::size_t& at) {
    if (auto r = check_depth(); !r) return Unexpected(r.error());
    auto b = peek();
    if (!b) return Unexpected(b.error());
    at = pos_;
    ++pos_;
    return *b;
  }

  Result<Value> value() {
    DepthGuard guard(depth_);
    std::size_t at = 0;
    auto b = take_token(at);
    if (!b) return Unexpected(b.error());
    switch (static_cast<Token>(*b)) {
      case Token::Null: return Value();
      case Token::Reference: return reference();
      case Token::Object: return object(at);
      case Token::String: return string(at, false);
      case Token::LongString: return string(at, true);
      case Token::Array: return array(at);
      case Token::Enum: return enum_constant(at);
      case Token::Class: return class_object(at);
      case Token::ClassDesc:
      case Token::ProxyClassDesc: {
        pos_ = at;
        auto d = class_desc();
        if (!d) return Unexpected(d.error());
        return Value(*d);
      }
      case Token::Exception:
        return fail_at(at, ErrorCode::WriteAborted, "the writer failed while writing this object");
      case Token::Reset:
        return fail_at(at, ErrorCode::UnexpectedReset, "TC_RESET inside an object");
      default:
        return fail_at(at, ErrorCode::UnexpectedToken,
                       fmt::format("byte 0x{:02X} where an object was expected", *b));
    }
  }

  Result<Value> string(std::size_t at, bool long_form) {
    std::size_t len = 0;
    if (long_form) {
      auto n = i64("long string length");
      if (!n) return Unexpected(n.error());
      if (*n < 0 || static_cast<std::uint64_t>(*n) > size_ - pos_) {
        return fail(ErrorCode::BadLength,
                    fmt::format("string length {} exceeds the {} bytes that remain", *n, size_ - pos_));
      }
      len = static_cast<std::size_t>(*n);
    } else {
      auto n = u16("string length");
      if (!n) return Unexpected(n.error());
      len = *n;
    }
    auto bytes = utf_bytes(len, "string");
    if (!bytes) return Unexpected(bytes.error());
    JString* s = arena_.make_string(std::string(*bytes));
    s->long_form = long_form && len <= 0xFFFF;
    return assign_handle(s, at);
  }

  // classDesc position: TC_CLASSDESC, TC_PROXYCLASSDESC, TC_NULL or TC_REFERENCE.
  Result<const ClassDesc*> class_desc() {
    DepthGuard guard(depth_);
    std::size_t at = 0;
    auto b = take_token(at);
    if (!b) return Unexpected(b.error());
    switch (static_cast<Token>(*b)) {
      case Token::Null:
        return static_cast<const ClassDesc*>(nullptr);
      case Token::Reference: {
        auto v = reference();
        if (!v) return Unexpected(v.error());
        if (const ClassDesc* d = v->as_class_desc()) return d;
        return fail_at(at, ErrorCode::BadHandle, "reference to a non-descriptor where a class descriptor was expected");
      }
      case Token::ClassDesc: return plain_class_desc(at);
      case Token::ProxyClassDesc: return proxy_class_desc(at);
      default:
        return fail_at(at, ErrorCode::UnexpectedToken,
                       fmt::format("byte 0x{:02X} where a class descriptor was expected", *b));
    }
  }

  Result<const ClassDesc*> plain_class_desc(std::size_t at) {
    ClassDesc* d = arena_.make_class_desc();
    auto name = utf("class name");
    if (!name) return Unexpected(name.error());
    d->name = std::move(*name);
    auto svuid = i64("serialVersionUID");
    if (!svuid) return Unexpected(svuid.error());
    d->svuid = *svuid;
    if (auto handled = assign_handle(d, at); !handled) return Unexpected(handled.error());
    auto flags = u8("class flags");
    if (!flags) return Unexpected(flags.error());
    d->flags = *flags;
    if ((d->flags & kScSerializable) && (d->flags & kScExternalizable)) {
      return fail_at(pos_ - 1, ErrorCode::BadClassDesc,
                     fmt::format("{}: serializable and externalizable flags conflict", d->name));
    }
    auto count = u16("field count");
    if (!count) return Unexpected(count.error());
    // Each field takes at least 3 bytes (type code and an empty name).
    if (auto r = need(std::size_t{*count} * 3, "field list"); !r) return Unexpected(r.error());
    d->fields.reserve(*count);
    for (std::uint16_t i = 0; i < *count; ++i) {
      if (auto r = field(*d); !r) return Unexpected(r.error());
    }
    if (auto r = annotation(*d); !r) return Unexpected(r.error());
    auto super = class_desc();
    if (!super) return Unexpected(super.error());
    d->super = *super;
    return d;
  }

  Result<void> field(ClassDesc& d) {
    const std::size_t at = pos_;
    auto type = u8("field type");
    if (!type) return Unexpected(type.error());
    FieldDesc f;
    f.type = static_cast<char>(*type);
    switch (f.type) {
      case 'B': case 'C': case 'D': case 'F': case 'I': case 'J': case 'S': case 'Z':
      case 'L': case '[':
        break;
      default:
        return fail_at(at, ErrorCode::BadClassDesc,
                       fmt::format("{}: invalid field type code 0x{:02X}", d.name, *type));
    }
    auto name = utf("field name");
    if (!name) return Unexpected(name.error());
    f.name = std::move(*name);
    if (!f.is_primitive()) {
      const std::size_t sig_at = pos_;
      auto sig = value();
      if (!sig) return Unexpected(sig.error());
      f.signature = sig->as_jstring();
      if (f.signature == nullptr) {
        return fail_at(sig_at, ErrorCode::BadClassDesc,
                       fmt::format("{}.{}: field type is not a string", d.name, f.name));
      }
    }
    d.fields.push_back(std::move(f));
    return {};
  }

  Result<void> annotation(ClassDesc& d) {
    if (auto r = contents_until_end(d.annotation); !r) return r;
    if (!options_.multi_class_loader) return {};
    d.loader = decode_loader_tag(d.annotation);
    if (!d.loader) return {};
    const std::int32_t tag = d.loader->tag;
    if (tag == kTagExportedClassLoader || tag == kTagLocalClassLoader) {
      loaders_.push_back(*d.loader);
      d.resolved_loader = d.loader;
    } else if (tag == kTagSystemClassLoader) {
      d.resolved_loader = d.loader;
    } else if (tag >= 0 && static_cast<std::size_t>(tag) < loaders_.size()) {
      d.resolved_loader = loaders_[static_cast<std::size_t>(tag)];
    }
    return {};
  }

  Result<const ClassDesc*> proxy_class_desc(std::size_t at) {
    ClassDesc* d = arena_.make_class_desc();
    d->proxy = true;
    if (auto handled = assign_handle(d, at); !handled) return Unexpected(handled.error());
    auto count = i32("interface count");
    if (!count) return Unexpected(count.error());
    if (*count < 0 || static_cast<std::size_t>(*count) * 2 > size_ - pos_) {
      return fail(ErrorCode::BadLength, fmt::format("interface count {} exceeds the input", *count));
    }
    d->interfaces.reserve(static_cast<std::size_t>(*count));
    for (std::int32_t i = 0; i < *count; ++i) {
      auto name = utf("interface name");
      if (!name) return Unexpected(name.error());
      d->interfaces.push_back(std::move(*name));
    }
    if (auto r = annotation(*d); !r) return Unexpected(r.error());
    auto super = class_desc();
    if (!super) return Unexpected(super.error());
    d->super = *super;
    return d;
  }

  Result<const ClassDesc*> non_null_desc(std::string_view what) {
    const std::size_t at = pos_;
    auto d = class_desc();
    if (!d) return d;
    if (*d == nullptr) {
      return fail_at(at, ErrorCode::BadClassDesc, fmt::format("{} with a null class descriptor", what));
    }
    return d;
  }

  Result<Value> object(std::size_t at) {
    auto desc = non_null_desc("object");
    if (!desc) return Unexpected(desc.error());
    Object* o = arena_.make_object(*desc);
    auto handled = assign_handle(o, at);
    if (!handled) return handled;
    const Value self = *handled;

    const ClassDesc* d = *desc;
    if (d->is_externalizable()) {
      if (!(d->flags & kScBlockData)) {
        return fail(ErrorCode::Unsupported,
                    fmt::format("{}: externalizable data without SC_BLOCK_DATA (protocol 1) "
                                "cannot be parsed without the class",
                                d->name));
      }
      if (auto r = contents_until_end(o->external); !r) return Unexpected(r.error());
      return self;
    }

    std::vector<const ClassDesc*> chain = d->chain();
    if (chain.size() > options_.max_depth) {
      return fail(ErrorCode::DepthExceeded, "class hierarchy deeper than max_depth");
    }
    o->classes.resize(chain.size());
    for (std::size_t i = 0; i < chain.size(); ++i) {
      ClassData& cd = o->classes[i];
      cd.desc = chain[chain.size() - 1 - i];
      if (auto r = class_data(cd); !r) return Unexpected(r.error());
    }
    return self;
  }

  bool listed_without_default_fields(const ClassDesc& d) const {
    return std::find(options_.classes_without_default_fields.begin(),
                     options_.classes_without_default_fields.end(),
                     d.name) != options_.classes_without_default_fields.end();
  }

  // Whether a class with SC_WRITE_METHOD wrote its fields. See the section
  // "Fields absent from custom data" in docs/serialization.md.
  bool fields_present(const ClassDesc& d) const {
    if (!d.has_write_method() || d.fields.empty()) return true;
    if (listed_without_default_fields(d)) return false;
    if (pos_ >= size_ || !is_block_or_end(data_[pos_])) return true;
    const std::size_t prim = d.primitive_bytes();
    // The first field is an object: its value can never start with 77/7A/78.
    if (prim == 0) return false;
    // Primitive fields first: with the fields present, the byte after them
    // starts the first object field, or the custom data / end marker.
    if (prim >= size_ - pos_) return false;
    const std::uint8_t after = data_[pos_ + prim];
    const bool has_object_fields = std::any_of(d.fields.begin(), d.fields.end(),
                                               [](const FieldDesc& f) { return !f.is_primitive(); });
    return has_object_fields ? is_value_token(after) : is_block_or_end(after);
  }

  Result<void> class_data(ClassData& cd) {
    const ClassDesc& d = *cd.desc;
    cd.has_fields = fields_present(d);
    if (cd.has_fields) {
      cd.fields.reserve(d.fields.size());
      if (auto r = need(d.primitive_bytes(), "primitive field values"); !r) return r;
      for (const FieldDesc& f : d.fields) {
        auto v = field_value(f);
        if (!v) return Unexpected(v.error());
        cd.fields.push_back(*v);
      }
    }
    if (d.has_write_method()) return contents_until_end(cd.custom);
    return {};
  }

  template <class T>
  Value prim() {
    using U = std::conditional_t<sizeof(T) == 1, std::uint8_t,
              std::conditional_t<sizeof(T) == 2, std::uint16_t,
              std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | data_[pos_ + i]);
    pos_ += sizeof(T);
    return Value(std::bit_cast<T>(u));
  }

  // Primitive sizes were checked by the caller.
  Result<Value> field_value(const FieldDesc& f) {
    switch (f.type) {
      case 'B': return prim<std::int8_t>();
      case 'Z': return Value(data_[pos_++] != 0);
      case 'C': return prim<char16_t>();
      case 'S': return prim<std::int16_t>();
      case 'I': return prim<std::int32_t>();
      case 'F': return prim<float>();
      case 'J': return prim<std::int64_t>();
      case 'D': return prim<double>();
      default: return value();
    }
  }

  Result<Value> array(std::size_t at) {
    auto desc = non_null_desc("array");
    if (!desc) return Unexpected(desc.error());
    const ClassDesc* d = *desc;
    if (d->name.size() < 2 || d->name.front() != '[') {
      return fail_at(at + 1, ErrorCode::BadClassDesc,
                     fmt::format("array with a non-array class '{}'", d->name));
    }
    Array* a = arena_.make_array(d);
    a->element_type = d->name[1];
    auto handled = assign_handle(a, at);
    if (!handled) return handled;
    const Value self = *handled;
    auto len = i32("array length");
    if (!len) return Unexpected(len.error());
    if (*len < 0) return fail(ErrorCode::BadLength, fmt::format("negative array length {}", *len));
    a->length = *len;
    const std::size_t n = static_cast<std::size_t>(*len);
    const std::size_t remaining = size_ - pos_;
    if (a->element_type == 'L' || a->element_type == '[') {
      if (n > remaining) {
        return fail(ErrorCode::BadLength,
                    fmt::format("array length {} exceeds the {} bytes that remain", n, remaining));
      }
      a->elements.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        auto v = value();
        if (!v) return Unexpected(v.error());
        a->elements.push_back(*v);
      }
      return self;
    }
    FieldDesc probe{a->element_type, {}, nullptr};
    const std::size_t width = probe.primitive_size();
    if (width == 0) {
      return fail_at(at + 1, ErrorCode::BadClassDesc,
                     fmt::format("invalid array element type in '{}'", d->name));
    }
    if (n > remaining / width) {
      return fail(ErrorCode::BadLength,
                  fmt::format("array of {} elements of {} bytes exceeds the {} bytes that remain",
                              n, width, remaining));
    }
    a->raw.assign(data_ + pos_, data_ + pos_ + n * width);
    pos_ += n * width;
    return self;
  }

  Result<Value> enum_constant(std::size_t at) {
    auto desc = non_null_desc("enum constant");
    if (!desc) return Unexpected(desc.error());
    if (!(*desc)->is_enum()) {
      return fail_at(at + 1, ErrorCode::BadClassDesc,
                     fmt::format("enum constant of non-enum class '{}'", (*desc)->name));
    }
    EnumConstant* e = arena_.make_enum(*desc);
    auto handled = assign_handle(e, at);
    if (!handled) return handled;
    const Value self = *handled;
    // ObjectInputStream.readEnum accepts only TC_STRING / TC_LONGSTRING here.
    auto b = peek();
    if (!b) return Unexpected(b.error());
    const std::size_t name_at = pos_;
    if (*b != static_cast<std::uint8_t>(Token::String) &&
        *b != static_cast<std::uint8_t>(Token::LongString)) {
      return fail(ErrorCode::UnexpectedToken,
                  fmt::format("byte 0x{:02X} where the enum constant name was expected", *b));
    }
    ++pos_;
    auto name = string(name_at, *b == static_cast<std::uint8_t>(Token::LongString));
    if (!name) return Unexpected(name.error());
    e->name = name->as_jstring();
    return self;
  }

  Result<Value> class_object(std::size_t at) {
    auto desc = non_null_desc("class object");
    if (!desc) return Unexpected(desc.error());
    ClassObject* c = arena_.make_class(*desc);
    return assign_handle(c, at);
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  const ReaderOptions& options_;
  Arena& arena_;
  std::vector<Value> handles_;
  std::vector<LoaderTag> loaders_;
};

std::int32_t load_i32(const std::uint8_t* p) {
  return static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                   (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
}

}  // namespace

Result<Stream> read_stream(std::span<const std::uint8_t> bytes, const ReaderOptions& options) {
  Stream stream;
  Parser parser(bytes, options, *stream.arena);
  if (auto r = parser.parse(stream); !r) return Unexpected(r.error());
  return stream;
}

Result<Stream> read_payload(std::span<const std::uint8_t> bytes, ReaderOptions options) {
  options.multi_class_loader = true;
  return read_stream(bytes, options);
}

std::optional<LoaderTag> decode_loader_tag(const std::vector<Content>& annotation) {
  if (annotation.size() != 1) return std::nullopt;
  const auto* block = std::get_if<BlockData>(&annotation.front());
  if (block == nullptr) return std::nullopt;
  const auto& b = block->bytes;
  if (b.size() == 4) {
    const std::int32_t tag = load_i32(b.data());
    if (tag == kTagSystemClassLoader || tag >= 0) return LoaderTag{tag, 0};
    return std::nullopt;
  }
  if (b.size() == 8) {
    const std::int32_t tag = load_i32(b.data());
    if (tag != kTagExportedClassLoader && tag != kTagLocalClassLoader) return std::nullopt;
    return LoaderTag{tag, load_i32(b.data() + 4)};
  }
  return std::nullopt;
}

}  // namespace kite::ser
