package sealedsearch.client;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Command line. The identifier is read from standard input, never from the arguments, where
 * other local users could see it. Exit 0 on success, 1 on an error, 2 on a usage error.
 *
 * <pre>
 * java -cp build sealedsearch.client.Main encrypt --jwks FILE|URL [--format jwe|hpke] [--kid=KID] [--ttl SECONDS] [--hicn] &lt; identifier
 * java -cp build sealedsearch.client.Main search GATEWAY_URL [same options] &lt; identifier
 * java -cp build sealedsearch.client.Main check-vectors RFC9180_JSON RFC7518_C_JSON
 * </pre>
 *
 * <p>mTLS and sender binding: --cert FILE and --key FILE (PEM; PKCS#8 key) present the client
 * certificate, --cacert FILE trusts the gateway's CA, --bind-cert FILE (PEM or DER) binds the
 * token to a client certificate (usually the --cert file).
 */
public final class Main {
  static final String USAGE =
      "usage: Main encrypt --jwks FILE|URL [--format jwe|hpke] [--kid=KID] [--ttl SECONDS] [--hicn] < identifier\n"
          + "       Main search GATEWAY_URL [--format jwe|hpke] [--kid=KID] [--ttl SECONDS] [--hicn] < identifier\n"
          + "       Main check-vectors RFC9180_JSON RFC7518_C_JSON\n"
          + "  both: [--bind-cert FILE] [--cert FILE --key FILE] [--cacert FILE]";

  private static final class UsageError extends Exception {
    private static final long serialVersionUID = 1L;

    UsageError(String message) {
      super(message);
    }
  }

  public static void main(String[] args) {
    try {
      System.exit(run(args));
    } catch (UsageError e) {
      System.err.println("sealed-search client: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
    } catch (IllegalArgumentException
        | IllegalStateException
        | GeneralSecurityException
        | IOException e) {
      System.err.println("sealed-search client: " + e.getMessage());
      System.exit(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.exit(1);
    }
  }

  static int run(String[] args)
      throws UsageError, IOException, GeneralSecurityException, InterruptedException {
    if (args.length == 0) throw new UsageError("no command");
    if (args[0].equals("-h") || args[0].equals("--help")) {
      System.out.println(USAGE);
      return 0;
    }
    if (args[0].equals("check-vectors")) {
      if (args.length != 3) throw new UsageError("check-vectors takes two files");
      return checkVectors(Path.of(args[1]), Path.of(args[2]));
    }
    if (!args[0].equals("encrypt") && !args[0].equals("search")) {
      throw new UsageError("unknown command " + args[0]);
    }
    String jwks = null;
    String gateway = null;
    String kid = null;
    Client.Format format = Client.Format.JWE;
    Identifiers.Kind kind = Identifiers.Kind.MBI;
    long ttl = 0;
    Path bindCert = null;
    Path cert = null;
    Path key = null;
    Path caCert = null;
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--jwks") && i + 1 < args.length) jwks = args[++i];
      else if (a.equals("--bind-cert") && i + 1 < args.length) bindCert = Path.of(args[++i]);
      else if (a.equals("--cert") && i + 1 < args.length) cert = Path.of(args[++i]);
      else if (a.equals("--key") && i + 1 < args.length) key = Path.of(args[++i]);
      else if (a.equals("--cacert") && i + 1 < args.length) caCert = Path.of(args[++i]);
      else if (a.equals("--format") && i + 1 < args.length) format = format(args[++i]);
      else if (a.startsWith("--kid=")) kid = a.substring("--kid=".length());
      else if (a.equals("--ttl") && i + 1 < args.length) ttl = ttl(args[++i]);
      else if (a.equals("--hicn")) kind = Identifiers.Kind.HICN;
      else if (!a.startsWith("-") && gateway == null) gateway = a;
      else throw new UsageError("unknown argument " + a);
    }
    if (key != null && cert == null) throw new UsageError("--key needs --cert");
    HttpClient http = Binding.httpClient(Binding.sslContext(cert, key, caCert));
    byte[] binding = bindCert == null ? null : Files.readAllBytes(bindCert);
    String identifier =
        new String(System.in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("[\r\n]+$", "");
    if (args[0].equals("encrypt")) {
      if (jwks == null || gateway != null) throw new UsageError("encrypt takes --jwks FILE|URL");
      String text =
          jwks.matches("https?://.*")
              ? Search.get(http, jwks, "application/jwk-set+json")
              : Files.readString(Path.of(jwks));
      GatewayKey to = GatewayKey.choose(GatewayKey.parseJwks(text), kid, format == Client.Format.HPKE);
      System.out.println(Client.encrypt(identifier, to, format, kind, ttl, binding));
      return 0;
    }
    if (!args[0].equals("search") || gateway == null || jwks != null) {
      throw new UsageError("search takes the gateway's base URL");
    }
    Search.Result result = null;
    for (int attempt = 0; attempt < 2; attempt++) {
      GatewayKey to =
          GatewayKey.choose(Search.fetchJwks(http, gateway), kid, format == Client.Format.HPKE);
      String token = Client.encrypt(identifier, to, format, kind, ttl, binding);
      result = Search.search(http, gateway, token, kind);
      // ERR_TOKEN_KID_UNKNOWN: the key was rotated out; fetch the JWKS again and encrypt again.
      if (!"ERR_TOKEN_KID_UNKNOWN".equals(result.errorCode)) break;
    }
    if (result.errorCode != null) {
      System.err.println(result.errorCode);
      return 1;
    }
    for (String id : result.patientIds) System.out.println("Patient/" + id);
    return 0;
  }

  private static Client.Format format(String value) throws UsageError {
    if (value.equals("jwe")) return Client.Format.JWE;
    if (value.equals("hpke")) return Client.Format.HPKE;
    throw new UsageError("--format must be jwe or hpke");
  }

  private static long ttl(String value) throws UsageError {
    try {
      long ttl = Long.parseLong(value);
      if (ttl > 0) return ttl;
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new UsageError("--ttl must be a positive whole number");
  }

  private static byte[] hex(Object value) {
    return HexFormat.of().parseHex((String) value);
  }

  private static void same(String what, byte[] expected, byte[] actual) {
    if (!Arrays.equals(expected, actual)) throw new IllegalStateException(what + " differs");
  }

  /**
   * Checks the HPKE implementation against the RFC 9180 vectors of its suite (A.3.1: Decap with
   * the published skRm, the key schedule, every Seal), that an off-curve enc is refused, and the
   * Concat KDF against RFC 7518 Appendix C. Prints one line per check; exit 1 on a mismatch.
   */
  @SuppressWarnings("unchecked")
  static int checkVectors(Path rfc9180, Path rfc7518)
      throws IOException, GeneralSecurityException {
    int checked = 0;
    for (Object o : (List<Object>) Json.parseObject(Files.readString(rfc9180)).get("vectors")) {
      Map<String, Object> v = (Map<String, Object>) o;
      boolean suite =
          ((Long) v.get("kem_id")) == Hpke.KEM_P256_HKDF_SHA256
              && ((Long) v.get("kdf_id")) == Hpke.KDF_HKDF_SHA256
              && ((Long) v.get("aead_id")) == Hpke.AEAD_AES_128_GCM;
      if (!suite) continue;
      byte[] enc = hex(v.get("enc"));
      byte[] pkRm = hex(v.get("pkRm"));
      byte[] sharedSecret = Hpke.decap(enc, hex(v.get("skRm")), pkRm);
      same("shared_secret", hex(v.get("shared_secret")), sharedSecret);
      byte[][] schedule = Hpke.keySchedule(sharedSecret, hex(v.get("info")));
      same("key", hex(v.get("key")), schedule[0]);
      same("base_nonce", hex(v.get("base_nonce")), schedule[1]);
      int seals = 0;
      for (Object e : (List<Object>) v.get("encryptions")) {
        Map<String, Object> m = (Map<String, Object>) e;
        byte[] nonce = Hpke.nonce(schedule[1], (Long) m.get("seq"));
        same("nonce", hex(m.get("nonce")), nonce);
        same("ct", hex(m.get("ct")), Hpke.aeadSeal(schedule[0], nonce, hex(m.get("aad")), hex(m.get("pt"))));
        seals++;
      }
      byte[] offCurve = enc.clone();
      offCurve[64] ^= 1;
      try {
        Hpke.decap(offCurve, hex(v.get("skRm")), pkRm);
        throw new IllegalStateException("an enc off the curve was accepted");
      } catch (IllegalArgumentException expected) {
        // refused before the key agreement
      }
      System.out.println("RFC 9180 " + v.get("section") + ": shared_secret, key, base_nonce, "
          + seals + " ciphertexts; off-curve enc refused");
      checked++;
    }
    if (checked == 0) throw new IllegalStateException("no RFC 9180 vector for DHKEM(P-256)");

    Map<String, Object> c = Json.parseObject(Files.readString(rfc7518));
    Map<String, Object> alice = (Map<String, Object>) c.get("alice");
    Map<String, Object> bob = (Map<String, Object>) c.get("bob");
    byte[] z =
        P256.dh(
            P256.privateKey(Base64Url.decode((String) alice.get("d"), 32, "d")),
            P256.publicKey(
                Base64Url.decode((String) bob.get("x"), 32, "x"),
                Base64Url.decode((String) bob.get("y"), 32, "y")));
    byte[] derived =
        ConcatKdf.derive(z, "A128GCM", Hpke.ascii("Alice"), Hpke.ascii("Bob"), 128);
    if (!Base64Url.encode(derived).equals(c.get("derivedKeyBase64url"))) {
      throw new IllegalStateException("Concat KDF differs from RFC 7518 Appendix C");
    }
    System.out.println("RFC 7518 Appendix C: ECDH-ES Z and Concat KDF key");
    return 0;
  }
}
