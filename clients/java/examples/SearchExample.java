import java.nio.charset.StandardCharsets;
import sealedsearch.client.Client;
import sealedsearch.client.Identifiers;
import sealedsearch.client.JwksCache;
import sealedsearch.client.Search;

/** Usage: java -cp build SearchExample GATEWAY_URL < mbi.txt */
public class SearchExample {
  public static void main(String[] args) throws Exception {
    String gateway = args[0];
    String mbi = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).strip();

    // Fetched once; fetched again (at most once per 10 s) when the gateway answers
    // ERR_TOKEN_KID_UNKNOWN, and the search retried once with another P-256 key.
    JwksCache jwks = new JwksCache(gateway);
    Search.Outcome outcome =
        Search.searchPatients(gateway, mbi, jwks, Client.Format.HPKE, Identifiers.Kind.MBI, 300);
    Search.Result result = outcome.result;
    if (result.errorCode != null) throw new IllegalStateException("refused: " + result.errorCode);
    result.patientIds.forEach(System.out::println);
  }
}
