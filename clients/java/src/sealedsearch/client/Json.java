package sealedsearch.client;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON (RFC 8259) for a JWKS, a FHIR response and a JWE header: objects become
 * {@code Map<String, Object>} in member order, arrays {@code List<Object>}, numbers {@code Long}
 * when integral else {@code Double}. Input is capped before parsing.
 */
public final class Json {
  /** Longest document parsed: a JWKS or a search answer is far smaller. */
  public static final int MAX_LENGTH = 1 << 20;

  private final String text;
  private int at;

  private Json(String text) {
    this.text = text;
  }

  public static Object parse(String text) {
    if (text.length() > MAX_LENGTH) throw new IllegalArgumentException("JSON document too long");
    Json p = new Json(text);
    Object value = p.value();
    p.space();
    if (p.at != text.length()) throw p.error();
    return value;
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Object value = parse(text);
    if (!(value instanceof Map)) throw new IllegalArgumentException("expected a JSON object");
    return (Map<String, Object>) value;
  }

  /** Serializes strings, integers, booleans, null, and maps and lists of them. */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString();
  }

  private static void write(Object value, StringBuilder out) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String) {
      quote((String) value, out);
    } else if (value instanceof Long || value instanceof Integer || value instanceof Boolean) {
      out.append(value);
    } else if (value instanceof Map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        if (!first) out.append(',');
        first = false;
        quote((String) e.getKey(), out);
        out.append(':');
        write(e.getValue(), out);
      }
      out.append('}');
    } else if (value instanceof List) {
      out.append('[');
      boolean first = true;
      for (Object item : (List<?>) value) {
        if (!first) out.append(',');
        first = false;
        write(item, out);
      }
      out.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + value.getClass().getSimpleName());
    }
  }

  private static void quote(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    out.append('"');
  }

  private IllegalArgumentException error() {
    return new IllegalArgumentException("malformed JSON at offset " + at);
  }

  private void space() {
    while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) at++;
  }

  private char peek() {
    if (at >= text.length()) throw error();
    return text.charAt(at);
  }

  private void expect(char c) {
    if (peek() != c) throw error();
    at++;
  }

  private Object value() {
    space();
    char c = peek();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return string();
    if (text.startsWith("true", at)) return literal(4, Boolean.TRUE);
    if (text.startsWith("false", at)) return literal(5, Boolean.FALSE);
    if (text.startsWith("null", at)) return literal(4, null);
    return number();
  }

  private Object literal(int length, Object value) {
    at += length;
    return value;
  }

  private Map<String, Object> object() {
    expect('{');
    Map<String, Object> map = new LinkedHashMap<>();
    space();
    if (peek() == '}') {
      at++;
      return map;
    }
    while (true) {
      space();
      String key = string();
      space();
      expect(':');
      if (map.put(key, value()) != null) throw new IllegalArgumentException("duplicate member");
      space();
      if (peek() == '}') {
        at++;
        return map;
      }
      expect(',');
    }
  }

  private List<Object> array() {
    expect('[');
    List<Object> list = new ArrayList<>();
    space();
    if (peek() == ']') {
      at++;
      return list;
    }
    while (true) {
      list.add(value());
      space();
      if (peek() == ']') {
        at++;
        return list;
      }
      expect(',');
    }
  }

  private String string() {
    expect('"');
    StringBuilder out = new StringBuilder();
    while (true) {
      char c = peek();
      at++;
      if (c == '"') return out.toString();
      if (c < 0x20) throw error();
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char e = peek();
      at++;
      switch (e) {
        case '"': case '\\': case '/': out.append(e); break;
        case 'b': out.append('\b'); break;
        case 'f': out.append('\f'); break;
        case 'n': out.append('\n'); break;
        case 'r': out.append('\r'); break;
        case 't': out.append('\t'); break;
        case 'u':
          if (at + 4 > text.length()) throw error();
          try {
            out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
          } catch (NumberFormatException ex) {
            throw error();
          }
          at += 4;
          break;
        default: throw error();
      }
    }
  }

  private Object number() {
    int start = at;
    while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
    String n = text.substring(start, at);
    if (n.isEmpty()) throw error();
    try {
      if (n.matches("-?(0|[1-9][0-9]{0,17})")) return Long.parseLong(n);
      return Double.parseDouble(n);
    } catch (NumberFormatException ex) {
      throw error();
    }
  }
}
