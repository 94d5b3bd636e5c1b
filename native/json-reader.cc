#include "json-reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace hull {
namespace json {

// Nodes are carved from chunks of this many values (a state.json has a few dozen).
constexpr size_t kChunkValues = 256;

struct Chunk {
  Chunk* next;
  size_t used;
  Value values[kChunkValues];
};

Document::~Document() {
  while (chunks != nullptr) {
    Chunk* next = chunks->next;
    free(chunks);
    chunks = next;
  }
}

namespace {

struct Parser {
  char* text;
  size_t size;
  size_t pos;
  Document* doc;
  char* error;
  size_t error_size;
  bool failed;

  bool Fail(const char* what) {
    if (!failed) snprintf(error, error_size, "byte %zu: %s", pos, what);
    failed = true;
    return false;
  }

  Value* NewValue(Kind kind) {
    Chunk* c = doc->chunks;
    if (c == nullptr || c->used == kChunkValues) {
      c = static_cast<Chunk*>(malloc(sizeof(Chunk)));
      if (c == nullptr) {
        fprintf(stderr, "json: out of memory\n");
        abort();
      }
      c->next = doc->chunks;
      c->used = 0;
      doc->chunks = c;
    }
    Value* v = &c->values[c->used++];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return v;
  }

  bool AtEnd() const { return pos >= size; }
  char Peek() const { return AtEnd() ? '\0' : text[pos]; }

  void SkipSpace() {
    while (!AtEnd() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) pos++;
  }

  bool Literal(const char* word, Kind kind, Value** out) {
    size_t n = strlen(word);
    if (size - pos < n || memcmp(text + pos, word, n) != 0) return Fail("unexpected character");
    pos += n;
    *out = NewValue(kind);
    return true;
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool Number(Value** out) {
    size_t start = pos;
    if (Peek() == '-') pos++;
    if (Peek() == '0') {
      pos++;
    } else if (IsDigit(Peek())) {
      while (IsDigit(Peek())) pos++;
    } else {
      return Fail("expected a digit");
    }
    if (Peek() == '.') {
      pos++;
      if (!IsDigit(Peek())) return Fail("expected a digit after the decimal point");
      while (IsDigit(Peek())) pos++;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      pos++;
      if (Peek() == '+' || Peek() == '-') pos++;
      if (!IsDigit(Peek())) return Fail("expected a digit in the exponent");
      while (IsDigit(Peek())) pos++;
    }
    Value* v = NewValue(Kind::kNumber);
    v->text = text + start;
    v->size = pos - start;
    *out = v;
    return true;
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // The four hex digits after "\u" at pos.
  bool Hex4(unsigned* out) {
    if (size - pos < 4) return Fail("expected four hex digits after \\u");
    unsigned u = 0;
    for (int i = 0; i < 4; i++) {
      int h = Hex(text[pos + i]);
      if (h < 0) return Fail("expected four hex digits after \\u");
      u = u << 4 | static_cast<unsigned>(h);
    }
    pos += 4;
    *out = u;
    return true;
  }

  static char* PutUtf8(char* out, unsigned cp) {
    if (cp < 0x80) {
      *out++ = static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out++ = static_cast<char>(0xC0 | cp >> 6);
      *out++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out++ = static_cast<char>(0xE0 | cp >> 12);
      *out++ = static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      *out++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out++ = static_cast<char>(0xF0 | cp >> 18);
      *out++ = static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      *out++ = static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      *out++ = static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
  }

  // A string at pos (its opening quote), decoded over its own text. Every escape is at least as
  // long as what it decodes to (\uXXXX: 6 bytes for at most 3, a pair: 12 for 4), so the writer
  // never passes the reader, and the closing quote's place is there for the NUL.
  bool String(const char** out, size_t* out_size) {
    pos++;  // "
    char* start = text + pos;
    char* w = start;
    for (;;) {
      if (AtEnd()) return Fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(text[pos]);
      if (c == '"') break;
      if (c < 0x20) return Fail("a control character in a string (it must be escaped)");
      if (c != '\\') {
        size_t n = json::Utf8Length(text + pos, size - pos);
        if (n == 0) return Fail("not UTF-8");
        memmove(w, text + pos, n);
        w += n;
        pos += n;
        continue;
      }
      pos++;
      if (AtEnd()) return Fail("unterminated string");
      char e = text[pos++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          *w++ = e;
          break;
        case 'b':
          *w++ = '\b';
          break;
        case 'f':
          *w++ = '\f';
          break;
        case 'n':
          *w++ = '\n';
          break;
        case 'r':
          *w++ = '\r';
          break;
        case 't':
          *w++ = '\t';
          break;
        case 'u': {
          unsigned u;
          if (!Hex4(&u)) return false;
          if (u >= 0xDC00 && u <= 0xDFFF) return Fail("a lone low surrogate");
          if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned low;
            if (size - pos < 2 || text[pos] != '\\' || text[pos + 1] != 'u') return Fail("a lone high surrogate");
            pos += 2;
            if (!Hex4(&low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return Fail("a lone high surrogate");
            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
          }
          w = PutUtf8(w, u);
          break;
        }
        default:
          pos--;
          return Fail("an unknown escape");
      }
    }
    *out = start;
    *out_size = static_cast<size_t>(w - start);
    *w = '\0';  // at most where the closing quote was
    pos++;
    return true;
  }

  bool Element(int depth, Value** out) {
    if (depth > kMaxDepth) return Fail("nested too deep");
    SkipSpace();
    Value* v = nullptr;
    switch (Peek()) {
      case '{':
        if (!Object(depth, &v)) return false;
        break;
      case '[':
        if (!Array(depth, &v)) return false;
        break;
      case '"':
        v = NewValue(Kind::kString);
        if (!String(&v->text, &v->size)) return false;
        break;
      case 't':
        if (!Literal("true", Kind::kTrue, &v)) return false;
        break;
      case 'f':
        if (!Literal("false", Kind::kFalse, &v)) return false;
        break;
      case 'n':
        if (!Literal("null", Kind::kNull, &v)) return false;
        break;
      default:
        if (AtEnd()) return Fail("unexpected end");
        if (Peek() != '-' && !IsDigit(Peek())) return Fail("unexpected character");
        if (!Number(&v)) return false;
    }
    SkipSpace();
    *out = v;
    return true;
  }

  bool Array(int depth, Value** out) {
    pos++;  // [
    Value* a = NewValue(Kind::kArray);
    Value** tail = &a->first;
    SkipSpace();
    if (Peek() == ']') {
      pos++;
      *out = a;
      return true;
    }
    for (;;) {
      Value* item;
      if (!Element(depth + 1, &item)) return false;
      *tail = item;
      tail = &item->next;
      if (Peek() == ']') break;
      if (Peek() != ',') return Fail("expected ',' or ']'");
      pos++;
    }
    pos++;
    *out = a;
    return true;
  }

  bool Object(int depth, Value** out) {
    pos++;  // {
    Value* o = NewValue(Kind::kObject);
    Value** tail = &o->first;
    SkipSpace();
    if (Peek() == '}') {
      pos++;
      *out = o;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (Peek() != '"') return Fail("expected a member name");
      const char* name;
      size_t name_size;
      if (!String(&name, &name_size)) return false;
      SkipSpace();
      if (Peek() != ':') return Fail("expected ':'");
      pos++;
      Value* member;
      if (!Element(depth + 1, &member)) return false;
      member->name = name;
      member->name_size = name_size;
      *tail = member;
      tail = &member->next;
      if (Peek() == '}') break;
      if (Peek() != ',') return Fail("expected ',' or '}'");
      pos++;
    }
    pos++;
    *out = o;
    return true;
  }
};

}  // namespace

size_t Utf8Length(const char* s, size_t n) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < n && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool Parse(char* text, size_t size, Document* doc, char* error, size_t error_size) {
  Parser p{text, size, 0, doc, error, error_size, false};
  Value* root;
  if (!p.Element(0, &root)) return false;
  if (!p.AtEnd()) return p.Fail("more after the value");
  doc->root = root;
  return true;
}

const Value* Member(const Value& object, const char* name) {
  const Value* found = nullptr;
  size_t n = strlen(name);
  for (const Value* m = object.first; m != nullptr; m = m->next) {
    if (m->name_size == n && memcmp(m->name, name, n) == 0) found = m;
  }
  return found;
}

bool Equals(const Value& v, const char* s) {
  size_t n = strlen(s);
  return v.kind == Kind::kString && v.size == n && memcmp(v.text, s, n) == 0;
}

bool Integer(const Value& v, int64_t min, int64_t max, int64_t* out) {
  if (v.kind != Kind::kNumber || v.size == 0) return false;
  const char* p = v.text;
  const char* end = v.text + v.size;
  bool negative = *p == '-';
  if (negative) p++;
  if (p == end || (*p == '0' && end - p > 1)) return false;
  // Magnitudes up to 2^63 fit; the limits are checked on the signed value.
  uint64_t magnitude = 0;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') return false;  // a fraction or an exponent
    if (magnitude > (UINT64_C(1) << 63) / 10) return false;
    magnitude = magnitude * 10 + static_cast<uint64_t>(*p - '0');
    if (magnitude > UINT64_C(1) << 63) return false;
  }
  int64_t value;
  if (negative) {
    value = magnitude == UINT64_C(1) << 63 ? INT64_MIN : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
    value = static_cast<int64_t>(magnitude);
  }
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

}  // namespace json
}  // namespace hull
