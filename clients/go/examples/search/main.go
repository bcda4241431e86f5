// Usage: search GATEWAY_URL < mbi.txt
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	client "sealedsearch/client"
)

func main() {
	gateway := os.Args[1]
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	mbi := strings.TrimSpace(string(input))

	// Its P-256 keys, fetched once; fetched again (at most once per 10 s) when the gateway answers
	// ERR_TOKEN_KID_UNKNOWN, and the search retried once with another key.
	jwks := client.NewJWKSCache(gateway+"/.well-known/jwks.json", nil)
	outcome, err := client.SearchPatients(gateway, mbi, jwks, client.Options{TTLSeconds: 300})
	if err != nil {
		log.Fatal(err)
	}
	result := outcome.Result
	if result.ErrorCode != "" {
		log.Fatal("refused: " + result.ErrorCode)
	}
	for _, id := range result.PatientIDs {
		fmt.Println(id)
	}
}
