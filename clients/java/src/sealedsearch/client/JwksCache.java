package sealedsearch.client;

import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One gateway's JWKS: fetched when first needed, and again only when asked, after the gateway
 * answers ERR_TOKEN_KID_UNKNOWN (refresh) or when it holds no usable key (key). Forced fetches
 * are rate-limited: at most one per minRefresh (default 10 s), however many searches fail at
 * once; within the interval the last fetch's keys are used. Safe for concurrent use.
 */
public final class JwksCache {
  public static final Duration DEFAULT_MIN_REFRESH = Duration.ofSeconds(10);

  private final HttpClient http;
  private final String baseUrl;
  private final long minRefreshNanos;
  private List<GatewayKey> keys;
  private long fetchedAt;
  private boolean fetched;
  private int fetches;

  /** The JWKS of the gateway at baseUrl, fetched when first needed. */
  public JwksCache(String baseUrl) {
    this(null, baseUrl, null, DEFAULT_MIN_REFRESH);
  }

  /**
   * @param http the client to fetch with (Binding.httpClient for mTLS); null for the default
   * @param initial keys already held (e.g. parsed from the operator's jwks.json), or null
   */
  public JwksCache(HttpClient http, String baseUrl, List<GatewayKey> initial, Duration minRefresh) {
    this.http = http;
    this.baseUrl = baseUrl;
    this.keys = initial;
    this.minRefreshNanos = minRefresh.toNanos();
  }

  private List<GatewayKey> fetch() throws IOException, InterruptedException {
    fetches++;
    fetched = true;
    fetchedAt = System.nanoTime();
    keys = http == null ? Search.fetchJwks(baseUrl) : Search.fetchJwks(http, baseUrl);
    return keys;
  }

  /** The keys held, fetched first when there are none. */
  public synchronized List<GatewayKey> get() throws IOException, InterruptedException {
    return keys != null ? keys : fetch();
  }

  /** Fetches again, unless the last fetch is less than minRefresh old. */
  public synchronized List<GatewayKey> refresh() throws IOException, InterruptedException {
    if (fetched && keys != null && System.nanoTime() - fetchedAt < minRefreshNanos) return keys;
    return fetch();
  }

  /** The number of JWKS requests made. */
  public synchronized int fetches() {
    return fetches;
  }

  /**
   * A P-256 key other than the kid exclude (null: any); for HPKE one with an hpke_key_id. When
   * the keys held have none, they are fetched again (rate-limited) and asked once more.
   */
  public GatewayKey key(boolean forHpke, String exclude) throws IOException, InterruptedException {
    try {
      return GatewayKey.choose(without(get(), exclude), null, forHpke);
    } catch (IllegalArgumentException none) {
      return GatewayKey.choose(without(refresh(), exclude), null, forHpke);
    }
  }

  private static List<GatewayKey> without(List<GatewayKey> keys, String kid) {
    List<GatewayKey> kept = new ArrayList<>();
    for (GatewayKey k : keys) if (kid == null || !kid.equals(k.kid)) kept.add(k);
    return kept;
  }
}
