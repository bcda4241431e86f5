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

	keys, err := client.LoadJWKS(gateway + "/.well-known/jwks.json") // its P-256 keys
	if err != nil {
		log.Fatal(err)
	}
	key, err := client.ChooseKey(keys, "")
	if err != nil {
		log.Fatal(err)
	}
	token, err := client.EncryptJWE(mbi, key, client.Options{TTLSeconds: 300})
	if err != nil {
		log.Fatal(err)
	}
	result, err := client.Search(gateway, token, client.MBI)
	if err != nil {
		log.Fatal(err)
	}
	if result.ErrorCode != "" {
		log.Fatal("refused: " + result.ErrorCode)
	}
	for _, id := range result.PatientIDs {
		fmt.Println(id)
	}
}
