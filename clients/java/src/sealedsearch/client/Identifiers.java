package sealedsearch.client;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The identifier formats the gateway accepts, checked before anything is encrypted. MBI (CMS,
 * "Understanding the MBI"): 11 characters, the dashed print form and lower case normalised; `S`
 * in position 2 marks synthetic test data. HICN: 9 digits, then a 1-2 character beneficiary
 * identification code starting with a letter.
 */
public final class Identifiers {
  private static final String ALPHA = "[AC-HJKMNP-RT-Y]";
  private static final String ALNUM = "[0-9AC-HJKMNP-RT-Y]";
  private static final Pattern MBI =
      Pattern.compile(
          "[1-9](?:" + ALPHA + "|S)" + ALNUM + "[0-9]" + ALPHA + ALNUM + "[0-9]" + ALPHA + ALPHA
              + "[0-9][0-9]");
  private static final Pattern HICN = Pattern.compile("[0-9]{9}[A-Z][0-9A-Z]?");

  /** Which identifier a token carries: the `mbi-encrypted` or the `hicn-encrypted` search. */
  public enum Kind {
    MBI("mbi", "https://bluebutton.cms.gov/resources/identifier/mbi-encrypted"),
    HICN("hicn", "https://bluebutton.cms.gov/resources/identifier/hicn-encrypted");

    public final String claim;
    public final String system;

    Kind(String claim, String system) {
      this.claim = claim;
      this.system = system;
    }
  }

  private Identifiers() {}

  /** The canonical MBI, or null when the input is not a well-formed MBI. */
  public static String normalizeMbi(String value) {
    if (value.length() == 13) {
      if (value.charAt(4) != '-' || value.charAt(8) != '-') return null;
      value = value.substring(0, 4) + value.substring(5, 8) + value.substring(9);
    }
    String upper = value.toUpperCase(Locale.ROOT);
    return value.length() == 11 && MBI.matcher(upper).matches() ? upper : null;
  }

  /** The canonical (upper-case) HICN, or null when the input is not a HICN. */
  public static String normalizeHicn(String value) {
    String upper = value.toUpperCase(Locale.ROOT);
    boolean ok = (value.length() == 10 || value.length() == 11) && HICN.matcher(upper).matches();
    return ok ? upper : null;
  }

  /**
   * The token's plaintext (docs/TOKENS.md): the canonical identifier, or {"mbi"|"hicn","iat","exp"}
   * when ttlSeconds is positive. The exception never holds the identifier.
   */
  public static String payload(String identifier, Kind kind, long ttlSeconds, long nowSeconds) {
    String canonical = kind == Kind.MBI ? normalizeMbi(identifier) : normalizeHicn(identifier);
    if (canonical == null) {
      throw new IllegalArgumentException("not a well-formed " + kind.claim.toUpperCase(Locale.ROOT));
    }
    if (ttlSeconds == 0) return canonical;
    if (ttlSeconds < 0) throw new IllegalArgumentException("ttlSeconds must be positive");
    return "{\"" + kind.claim + "\":\"" + canonical + "\",\"iat\":" + nowSeconds + ",\"exp\":"
        + (nowSeconds + ttlSeconds) + "}";
  }
}
