//===- Json.cpp - a small JSON reader for the runtime ---------------------===//

#include "Json.h"

#include <cmath>
#include <cstdlib>

namespace swaa::json {

const Value *Value::get(const std::string &key) const {
  if (kind != Object)
    return nullptr;
  for (const auto &[k, v] : object)
    if (k == key)
      return &v;
  return nullptr;
}

bool Value::isInteger() const {
  return kind == Number && std::isfinite(number) &&
         number == std::floor(number) && std::fabs(number) < 9.0e15;
}

namespace {
class Parser {
public:
  Parser(const std::string &text) : s(text) {}

  bool parseDocument(Value &out, std::string &error) {
    if (!value(out, 0)) {
      error = message;
      return false;
    }
    skip();
    if (i != s.size()) {
      error = "trailing characters at byte " + std::to_string(i);
      return false;
    }
    return true;
  }

private:
  const std::string &s;
  size_t i = 0;
  std::string message;

  bool fail(const std::string &what) {
    if (message.empty())
      message = what + " at byte " + std::to_string(i);
    return false;
  }
  void skip() {
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
      ++i;
  }
  bool literal(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (s.compare(i, n, word) != 0)
      return fail(std::string("expected '") + word + "'");
    i += n;
    return true;
  }

  bool value(Value &v, int depth) {
    if (depth > 64)
      return fail("nesting too deep");
    skip();
    if (i >= s.size())
      return fail("unexpected end of input");
    char c = s[i];
    if (c == '{')
      return object(v, depth);
    if (c == '[')
      return array(v, depth);
    if (c == '"') {
      v.kind = Value::String;
      return string(v.string);
    }
    if (c == 't' || c == 'f') {
      v.kind = Value::Bool;
      v.boolean = c == 't';
      return literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      v.kind = Value::Null;
      return literal("null");
    }
    return number(v);
  }

  bool number(Value &v) {
    size_t start = i;
    if (i < s.size() && s[i] == '-')
      ++i;
    while (i < s.size() &&
           ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
            s[i] == 'E' || s[i] == '+' || s[i] == '-'))
      ++i;
    if (i == start)
      return fail("expected a value");
    std::string text = s.substr(start, i - start);
    char *end = nullptr;
    v.kind = Value::Number;
    v.number = std::strtod(text.c_str(), &end);
    if (!end || *end != '\0')
      return fail("bad number '" + text + "'");
    return true;
  }

  bool string(std::string &out) {
    ++i; // "
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size())
        break;
      char e = s[i++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        if (i + 4 > s.size())
          return fail("truncated \\u escape");
        unsigned code = std::strtoul(s.substr(i, 4).c_str(), nullptr, 16);
        i += 4;
        // Names in manifests are ASCII; keep other code points as UTF-8.
        if (code < 0x80) {
          out += (char)code;
        } else if (code < 0x800) {
          out += (char)(0xC0 | (code >> 6));
          out += (char)(0x80 | (code & 0x3F));
        } else {
          out += (char)(0xE0 | (code >> 12));
          out += (char)(0x80 | ((code >> 6) & 0x3F));
          out += (char)(0x80 | (code & 0x3F));
        }
        break;
      }
      default:
        return fail("bad escape");
      }
    }
    if (i >= s.size())
      return fail("unterminated string");
    ++i;
    return true;
  }

  bool array(Value &v, int depth) {
    v.kind = Value::Array;
    ++i;
    skip();
    if (i < s.size() && s[i] == ']') {
      ++i;
      return true;
    }
    for (;;) {
      v.array.emplace_back();
      if (!value(v.array.back(), depth + 1))
        return false;
      skip();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') {
        ++i;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool object(Value &v, int depth) {
    v.kind = Value::Object;
    ++i;
    skip();
    if (i < s.size() && s[i] == '}') {
      ++i;
      return true;
    }
    for (;;) {
      skip();
      if (i >= s.size() || s[i] != '"')
        return fail("expected a key");
      std::string key;
      if (!string(key))
        return false;
      skip();
      if (i >= s.size() || s[i] != ':')
        return fail("expected ':'");
      ++i;
      v.object.emplace_back(std::move(key), Value());
      if (!value(v.object.back().second, depth + 1))
        return false;
      skip();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '}') {
        ++i;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }
};
} // namespace

bool parse(const std::string &text, Value &out, std::string &error) {
  return Parser(text).parseDocument(out, error);
}

} // namespace swaa::json
