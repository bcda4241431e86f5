import java.nio.charset.StandardCharsets;
import java.util.List;
import sealedsearch.client.Client;
import sealedsearch.client.GatewayKey;
import sealedsearch.client.Identifiers;
import sealedsearch.client.Search;

/** Usage: java -cp build SearchExample GATEWAY_URL < mbi.txt */
public class SearchExample {
  public static void main(String[] args) throws Exception {
    String gateway = args[0];
    String mbi = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).strip();

    List<GatewayKey> jwks = Search.fetchJwks(gateway);
    GatewayKey key = GatewayKey.choose(jwks, null, true); // the first P-256 key with an hpke_key_id
    String token = Client.encrypt(mbi, key, Client.Format.HPKE, Identifiers.Kind.MBI, 300);
    Search.Result result = Search.search(gateway, token, Identifiers.Kind.MBI);
    if (result.errorCode != null) throw new IllegalStateException("refused: " + result.errorCode);
    result.patientIds.forEach(System.out::println);
  }
}
