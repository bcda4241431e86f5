package sealedsearch.client;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** HTTP to the gateway with java.net.http: its JWKS, and the encrypted Patient search. */
public final class Search {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private Search() {}

  static String get(String url, String accept) throws IOException, InterruptedException {
    return get(HTTP, url, accept);
  }

  static String get(HttpClient http, String url, String accept)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(30))
            .header("Accept", accept)
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The gateway's published keys ({base}/.well-known/jwks.json). */
  public static List<GatewayKey> fetchJwks(String baseUrl) throws IOException, InterruptedException {
    return fetchJwks(HTTP, baseUrl);
  }

  /** As fetchJwks, over http (Binding.httpClient for mTLS). */
  public static List<GatewayKey> fetchJwks(HttpClient http, String baseUrl)
      throws IOException, InterruptedException {
    String base = baseUrl.replaceAll("/+$", "");
    return GatewayKey.parseJwks(
        get(http, base + "/.well-known/jwks.json", "application/jwk-set+json"));
  }

  /** A search's answer: the Patient ids of a Bundle, or the OperationOutcome's error code. */
  public static final class Result {
    public final List<String> patientIds;
    public final String errorCode;

    Result(List<String> patientIds, String errorCode) {
      this.patientIds = patientIds;
      this.errorCode = errorCode;
    }
  }

  public static Result search(String baseUrl, String token, Identifiers.Kind kind)
      throws IOException, InterruptedException {
    return search(HTTP, baseUrl, token, kind);
  }

  /** As search, over http (Binding.httpClient: the mTLS connection a bound token needs). */
  @SuppressWarnings("unchecked")
  public static Result search(HttpClient http, String baseUrl, String token, Identifiers.Kind kind)
      throws IOException, InterruptedException {
    Map<String, Object> body =
        Json.parseObject(
            get(http, Client.patientSearchUrl(baseUrl, token, kind), "application/fhir+json"));
    List<String> ids = new ArrayList<>();
    if ("Bundle".equals(body.get("resourceType"))) {
      Object entries = body.get("entry");
      if (entries instanceof List) {
        for (Object e : (List<Object>) entries) {
          ids.add((String) ((Map<String, Object>) ((Map<String, Object>) e).get("resource")).get("id"));
        }
      }
      return new Result(ids, null);
    }
    String code = "not a FHIR Bundle";
    try {
      Map<String, Object> issue = (Map<String, Object>) ((List<Object>) body.get("issue")).get(0);
      Map<String, Object> details = (Map<String, Object>) issue.get("details");
      code = (String) ((Map<String, Object>) ((List<Object>) details.get("coding")).get(0)).get("code");
    } catch (RuntimeException e) {
      // keep the generic description
    }
    return new Result(ids, code);
  }

  /** A search made by searchPatients: its result, the kid it used, whether it was retried. */
  public static final class Outcome {
    public final Result result;
    public final String kid;
    public final boolean retried;

    Outcome(Result result, String kid, boolean retried) {
      this.result = result;
      this.kid = kid;
      this.retried = retried;
    }
  }

  /**
   * Encrypts the identifier to a key from jwks and searches. When the gateway answers
   * ERR_TOKEN_KID_UNKNOWN (the key was rotated out or revoked since the JWKS was fetched), the
   * JWKS is fetched again (rate-limited by the cache) and the search made once more with another
   * key: one retry, never more.
   */
  public static Outcome searchPatients(
      String baseUrl,
      String identifier,
      JwksCache jwks,
      Client.Format format,
      Identifiers.Kind kind,
      long ttlSeconds)
      throws IOException, InterruptedException, GeneralSecurityException {
    boolean hpke = format == Client.Format.HPKE;
    GatewayKey key = jwks.key(hpke, null);
    Result result = search(baseUrl, Client.encrypt(identifier, key, format, kind, ttlSeconds), kind);
    if (!"ERR_TOKEN_KID_UNKNOWN".equals(result.errorCode)) return new Outcome(result, key.kid, false);
    jwks.refresh();
    GatewayKey other = jwks.key(hpke, key.kid);
    Result again = search(baseUrl, Client.encrypt(identifier, other, format, kind, ttlSeconds), kind);
    return new Outcome(again, other.kid, true);
  }
}
