package sealedsearch.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A gateway public key as its JWKS publishes it (docs/PARTNERS.md §1). */
public final class GatewayKey {
  public final String kty;
  public final String crv;
  public final String x;
  public final String y;
  public final String kid;
  public final String use;
  /** The key's number in HPKE tokens, 1 to 65535; 0 when the key publishes none. */
  public final int hpkeKeyId;

  GatewayKey(Map<String, Object> jwk) {
    kty = string(jwk, "kty");
    crv = string(jwk, "crv");
    x = string(jwk, "x");
    y = string(jwk, "y");
    kid = string(jwk, "kid");
    use = string(jwk, "use");
    Object id = jwk.get("hpke_key_id");
    hpkeKeyId = id instanceof Long && (Long) id >= 1 && (Long) id <= 0xffff ? (int) (long) (Long) id : 0;
  }

  private static String string(Map<String, Object> jwk, String name) {
    Object v = jwk.get(name);
    return v instanceof String ? (String) v : null;
  }

  /** The keys of a JWKS document, in order; members this client does not know are ignored. */
  @SuppressWarnings("unchecked")
  public static List<GatewayKey> parseJwks(String json) {
    Object keys = Json.parseObject(json).get("keys");
    if (!(keys instanceof List)) throw new IllegalArgumentException("not a JWKS: no keys array");
    List<GatewayKey> out = new ArrayList<>();
    for (Object k : (List<Object>) keys) {
      if (k instanceof Map) out.add(new GatewayKey((Map<String, Object>) k));
    }
    return out;
  }

  /**
   * The first P-256 encryption key (the curve this client implements), the one named by kid when
   * kid is not null; for HPKE only a key that publishes an hpke_key_id.
   */
  public static GatewayKey choose(List<GatewayKey> keys, String kid, boolean forHpke) {
    for (GatewayKey k : keys) {
      boolean usable =
          "EC".equals(k.kty) && "P-256".equals(k.crv) && k.kid != null
              && (k.use == null || "enc".equals(k.use)) && (!forHpke || k.hpkeKeyId != 0);
      if (usable && (kid == null || kid.equals(k.kid))) return k;
    }
    throw new IllegalArgumentException("the JWKS has no usable P-256 encryption key");
  }
}
