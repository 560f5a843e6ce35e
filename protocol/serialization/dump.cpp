#include "protocol/serialization/dump.hpp"

#include <unordered_set>

#include <fmt/format.h>

#include "protocol/serialization/reader.hpp"

namespace kite::ser {
namespace {

class Printer {
 public:
  Printer(const DumpOptions& options, std::string& out, int base_indent)
      : options_(options), out_(out), base_(base_indent) {}

  void stream(const Stream& s) {
    line(0, fmt::format("stream version {}", s.version));
    for (const Content& c : s.contents) content(1, c);
  }

 private:
  void line(int indent, const std::string& text) {
    out_.append(static_cast<std::size_t>(2 * (indent + base_)), ' ');
    out_ += text;
    out_ += '\n';
  }

  static std::string handle(std::int32_t h) { return fmt::format("0x{:x}", static_cast<std::uint32_t>(h)); }

  std::string hex(std::span<const std::uint8_t> bytes) const {
    std::string s;
    const std::size_t n = std::min(bytes.size(), options_.max_bytes_shown);
    for (std::size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", bytes[i]);
    if (n < bytes.size()) s += "...";
    return s;
  }

  static std::string quoted(const JString& s) {
    std::string text = s.utf8();
    std::string q = "\"";
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        q += '\\';
        q += c;
      } else if (u < 0x20) {
        q += fmt::format("\\x{:02x}", u);
      } else {
        q += c;
      }
    }
    q += '"';
    return q;
  }

  void content(int indent, const Content& c) {
    if (const auto* v = std::get_if<Value>(&c)) {
      value(indent, "", *v);
    } else if (const auto* b = std::get_if<BlockData>(&c)) {
      line(indent, fmt::format("@{} TC_BLOCKDATA{} len={}: {}", b->offset,
                               b->bytes.size() > 0xFF || b->long_header ? "LONG" : "",
                               b->bytes.size(), hex(b->bytes)));
    } else if (const auto* r = std::get_if<Reset>(&c)) {
      line(indent, fmt::format("@{} TC_RESET", r->offset));
      seen_.clear();
    } else if (const auto* a = std::get_if<Aborted>(&c)) {
      line(indent, fmt::format("@{} TC_EXCEPTION after {} bytes of a failed object: {}", a->offset,
                               a->partial.size(), hex(a->partial)));
      seen_.clear();
      value(indent + 1, "exception = ", a->exception);
      seen_.clear();
    }
  }

  bool first_time(const void* node) { return seen_.insert(node).second; }

  void value(int indent, const std::string& label, const Value& v) {
    const auto& s = v.storage();
    if (v.is_null()) {
      line(indent, label + "null");
    } else if (const auto* b = std::get_if<bool>(&s)) {
      line(indent, label + (*b ? "true" : "false"));
    } else if (const auto* i8 = std::get_if<std::int8_t>(&s)) {
      line(indent, label + std::to_string(*i8));
    } else if (const auto* ch = std::get_if<char16_t>(&s)) {
      line(indent, label + fmt::format("'\\u{:04x}'", static_cast<unsigned>(*ch)));
    } else if (const auto* i16 = std::get_if<std::int16_t>(&s)) {
      line(indent, label + std::to_string(*i16));
    } else if (const auto* i32 = std::get_if<std::int32_t>(&s)) {
      line(indent, label + std::to_string(*i32));
    } else if (const auto* i64 = std::get_if<std::int64_t>(&s)) {
      line(indent, label + std::to_string(*i64));
    } else if (const auto* f = std::get_if<float>(&s)) {
      line(indent, label + fmt::format("{}f", *f));
    } else if (const auto* d = std::get_if<double>(&s)) {
      line(indent, label + fmt::format("{}", *d));
    } else if (const JString* str = v.as_jstring()) {
      string(indent, label, *str);
    } else if (const Object* o = v.as_object()) {
      object(indent, label, *o);
    } else if (const Array* a = v.as_array()) {
      array(indent, label, *a);
    } else if (const EnumConstant* e = v.as_enum()) {
      if (!first_time(e)) {
        line(indent, label + fmt::format("ref {} -> enum {}.{}", handle(e->handle), e->desc->name, e->constant()));
        return;
      }
      line(indent, label + fmt::format("@{} TC_ENUM h={} {}.{}", e->offset, handle(e->handle),
                                       e->desc ? e->desc->name : "?", e->constant()));
      class_desc(indent + 1, e->desc);
      if (e->name) first_time(e->name);
    } else if (const ClassObject* c = v.as_class()) {
      if (!first_time(c)) {
        line(indent, label + fmt::format("ref {} -> class", handle(c->handle)));
        return;
      }
      line(indent, label + fmt::format("@{} TC_CLASS h={}", c->offset, handle(c->handle)));
      class_desc(indent + 1, c->desc);
    } else if (const ClassDesc* d = v.as_class_desc()) {
      line(indent, label + "class descriptor");
      class_desc(indent + 1, d);
    }
  }

  void string(int indent, const std::string& label, const JString& s) {
    if (!first_time(&s)) {
      line(indent, label + fmt::format("ref {} -> {}", handle(s.handle), quoted(s)));
      return;
    }
    line(indent, label + fmt::format("@{} TC_{}STRING h={} {}", s.offset,
                                     s.long_form || s.mutf8.size() > 0xFFFF ? "LONG" : "",
                                     handle(s.handle), quoted(s)));
  }

  void class_desc(int indent, const ClassDesc* d) {
    if (d == nullptr) {
      line(indent, "desc null");
      return;
    }
    if (!first_time(d)) {
      line(indent, fmt::format("desc ref {} -> {}", handle(d->handle), d->proxy ? "proxy" : d->name));
      return;
    }
    if (d->proxy) {
      std::string ifaces;
      for (const std::string& i : d->interfaces) ifaces += (ifaces.empty() ? "" : ", ") + i;
      line(indent, fmt::format("@{} TC_PROXYCLASSDESC h={} interfaces [{}]", d->offset, handle(d->handle), ifaces));
    } else {
      line(indent, fmt::format("@{} TC_CLASSDESC h={} {} svuid={} flags=0x{:02x}", d->offset,
                               handle(d->handle), d->name, d->svuid, d->flags));
      for (const FieldDesc& f : d->fields) {
        if (f.signature != nullptr) {
          const bool fresh = first_time(f.signature);
          line(indent + 1, fmt::format("field {} {} {}{}", f.type, f.name, f.signature->utf8(),
                                       fresh ? fmt::format(" (h={})", handle(f.signature->handle)) : " (ref)"));
        } else {
          line(indent + 1, fmt::format("field {} {}", f.type, f.name));
        }
      }
    }
    if (d->resolved_loader) {
      line(indent + 1, loader(*d->loader, *d->resolved_loader));
    }
    if (!d->annotation.empty()) {
      line(indent + 1, "annotation:");
      for (const Content& c : d->annotation) content(indent + 2, c);
    }
    if (d->super != nullptr) {
      line(indent + 1, "super:");
      class_desc(indent + 2, d->super);
    }
  }

  static std::string loader(const LoaderTag& tag, const LoaderTag& resolved) {
    auto name = [](const LoaderTag& t) {
      switch (t.tag) {
        case kTagSystemClassLoader: return std::string("system class loader");
        case kTagExportedClassLoader: return fmt::format("exported class loader oid={}", t.oid);
        case kTagLocalClassLoader: return fmt::format("receiver's class loader oid={}", t.oid);
        default: return fmt::format("loader #{}", t.tag);
      }
    };
    if (tag.tag >= 0) return fmt::format("class loader: #{} = {}", tag.tag, name(resolved));
    return "class loader: " + name(tag);
  }

  void object(int indent, const std::string& label, const Object& o) {
    if (!first_time(&o)) {
      line(indent, label + fmt::format("ref {} -> object {}", handle(o.handle), describe_class(o.desc)));
      return;
    }
    line(indent, label + fmt::format("@{} TC_OBJECT h={} {}", o.offset, handle(o.handle), describe_class(o.desc)));
    class_desc(indent + 1, o.desc);
    if (o.desc && o.desc->is_externalizable()) {
      line(indent + 1, "external data:");
      for (const Content& c : o.external) content(indent + 2, c);
      return;
    }
    for (const ClassData& cd : o.classes) {
      if (cd.desc->fields.empty() && cd.custom.empty() && !cd.desc->has_write_method()) continue;
      line(indent + 1, fmt::format("data of {}:", describe_class(cd.desc)));
      if (!cd.has_fields) line(indent + 2, "(fields not written: writeObject without defaultWriteObject)");
      for (std::size_t i = 0; i < cd.fields.size() && i < cd.desc->fields.size(); ++i) {
        const FieldDesc& f = cd.desc->fields[i];
        value(indent + 2, f.name + " = ", cd.fields[i]);
      }
      if (cd.desc->has_write_method()) {
        if (!cd.custom.empty()) line(indent + 2, "custom data:");
        for (const Content& c : cd.custom) content(indent + 3, c);
      }
    }
  }

  static std::string describe_class(const ClassDesc* d) {
    if (d == nullptr) return "?";
    if (!d->proxy) return d->name;
    std::string s = "proxy(";
    for (std::size_t i = 0; i < d->interfaces.size(); ++i) s += (i ? ", " : "") + d->interfaces[i];
    return s + ")";
  }

  void array(int indent, const std::string& label, const Array& a) {
    if (!first_time(&a)) {
      line(indent, label + fmt::format("ref {} -> array {}", handle(a.handle), a.desc ? a.desc->name : "?"));
      return;
    }
    line(indent, label + fmt::format("@{} TC_ARRAY h={} {} length={}", a.offset, handle(a.handle),
                                     a.desc ? a.desc->name : "?", a.length));
    class_desc(indent + 1, a.desc);
    if (a.element_type == 'B') {
      line(indent + 1, "bytes: " + hex(a.raw));
      nested(indent + 1, a.raw);
      return;
    }
    if (a.is_primitive()) {
      std::string items;
      const std::size_t shown = std::min<std::size_t>(static_cast<std::size_t>(a.length), 32);
      for (std::size_t i = 0; i < shown; ++i) {
        std::string one;
        Printer p(options_, one, 0);
        p.value(0, "", a.at(i));
        if (!one.empty()) one.pop_back();
        items += (i ? ", " : "") + one;
      }
      if (shown < static_cast<std::size_t>(a.length)) items += ", ...";
      line(indent + 1, "[" + items + "]");
      return;
    }
    for (std::size_t i = 0; i < a.elements.size(); ++i) {
      value(indent + 1, fmt::format("[{}] = ", i), a.elements[i]);
    }
  }

  void nested(int indent, std::span<const std::uint8_t> bytes) {
    if (!options_.nested_payloads || bytes.size() < 4 || bytes[0] != 0xAC || bytes[1] != 0xED) return;
    auto s = read_payload(bytes);
    if (!s) {
      line(indent, "nested stream (not decodable): " + s.error().describe());
      return;
    }
    line(indent, "nested stream (offsets relative to its first byte):");
    Printer p(options_, out_, base_ + indent + 1);
    p.stream(*s);
  }

  const DumpOptions& options_;
  std::string& out_;
  int base_;
  std::unordered_set<const void*> seen_;
};

}  // namespace

std::string dump(const Stream& stream, const DumpOptions& options) {
  std::string out;
  Printer p(options, out, 0);
  p.stream(stream);
  return out;
}

}  // namespace kite::ser
