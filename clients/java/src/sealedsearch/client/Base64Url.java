package sealedsearch.client;

import java.util.Arrays;
import java.util.Base64;

/** base64url without padding (RFC 4648 §5), decoding only the canonical spelling. */
public final class Base64Url {
  private Base64Url() {}

  public static String encode(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Exactly {@code length} bytes, or an IllegalArgumentException that names the member. */
  public static byte[] decode(String text, int length, String name) {
    byte[] bytes = null;
    if (text != null && text.matches("[A-Za-z0-9_-]*")) {
      try {
        bytes = Base64.getUrlDecoder().decode(text);
      } catch (IllegalArgumentException e) {
        bytes = null;
      }
    }
    if (bytes == null || bytes.length != length || !encode(bytes).equals(text)) {
      throw new IllegalArgumentException(
          "the gateway key's " + name + " is not base64url of " + length + " bytes");
    }
    return bytes;
  }

  static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] p : parts) length += p.length;
    byte[] out = new byte[length];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  static byte[] slice(byte[] bytes, int from, int to) {
    return Arrays.copyOfRange(bytes, from, to);
  }
}
