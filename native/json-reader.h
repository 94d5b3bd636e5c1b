// A strict JSON reader (RFC 8259) for hull's small static executables, which have no exceptions
// and no JSON library: hull-runc's native front reads the state.json that src/oci/runtime.ts
// writes. Recursive descent over a buffer the caller owns; strings are decoded in place (a
// decoded string is never longer than its JSON text), the values are nodes from one arena.
//
// Strict where JSON.parse is lenient about nothing, and stricter in one way: a lone UTF-16
// surrogate (`"\ud800"`), which JSON.parse accepts, is an error here, because it has no UTF-8
// form. Also errors: bytes that are not UTF-8, a byte order mark, control characters in strings,
// nesting deeper than kMaxDepth, anything after the value. Duplicate member names are kept as
// written (the caller decides what they mean).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace hull {
namespace json {

constexpr int kMaxDepth = 64;

enum class Kind : unsigned char { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

struct Value {
  Kind kind;
  // kString: the decoded UTF-8, NUL-terminated (it may hold NULs of its own: `size` counts).
  // kNumber: the literal as written (not NUL-terminated).
  const char* text;
  size_t size;
  // A member of an object: its name, decoded and NUL-terminated.
  const char* name;
  size_t name_size;
  Value* first;  // kArray, kObject: the first element or member, nullptr when empty
  Value* next;   // the next element or member of the array or object that holds this one
};

struct Chunk;

// Owns the nodes of one parse.
struct Document {
  Value* root = nullptr;
  Chunk* chunks = nullptr;
  Document() = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;
  ~Document();
};

// Parses `text` (`size` bytes, rewritten in place: keep it while the values are used). On failure
// returns false with "byte N: what" in `error`. Fails only on bad input (an allocation that fails aborts).
bool Parse(char* text, size_t size, Document* doc, char* error, size_t error_size);

// The member `name` of an object (the last one, as JSON.parse keeps it), or nullptr.
const Value* Member(const Value& object, const char* name);

// Whether the string value equals `s`.
bool Equals(const Value& v, const char* s);

// The length of the UTF-8 sequence at s[0] (of n > 0 bytes): 1 to 4, or 0 when it is not UTF-8 (an
// overlong form, a surrogate, above U+10FFFF, cut short).
size_t Utf8Length(const char* s, size_t n);

// A number written as an integer (`-?(0|[1-9][0-9]*)`, no fraction or exponent) within [min, max].
bool Integer(const Value& v, int64_t min, int64_t max, int64_t* out);

}  // namespace json
}  // namespace hull
