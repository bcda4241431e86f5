// Command sealed-search encrypts an identifier read from standard input (never from the
// arguments, where other local users could see it), or encrypts and searches.
//
//	sealed-search encrypt --jwks FILE|URL [--kid=KID] [--ttl SECONDS] [--hicn] < identifier
//	sealed-search search [--kid=KID] [--ttl SECONDS] [--hicn] GATEWAY_URL < identifier
//
// Both take --bind-cert FILE (bind the token to this client certificate, PEM or DER) and, for
// mTLS, --cert FILE --key FILE (the client certificate to present) and --cacert FILE.
//
// Exit 0 on success, 1 on an error, 2 on a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	client "sealedsearch/client"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

const usageText = `usage: sealed-search encrypt --jwks FILE|URL [--kid=KID] [--ttl SECONDS] [--hicn] < identifier
       sealed-search search [--kid=KID] [--ttl SECONDS] [--hicn] GATEWAY_URL < identifier
  both: [--bind-cert FILE] [--cert FILE --key FILE] [--cacert FILE]`

// usage answers a usage error: one line naming it, the usage, and exit 2.
func usage(message string) int {
	fmt.Fprintln(os.Stderr, "sealed-search: "+message)
	fmt.Fprintln(os.Stderr, usageText)
	return 2
}

// isHelp is -h or --help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

func run(args []string) int {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Println(usageText)
		return 0
	}
	if len(args) == 0 || (args[0] != "encrypt" && args[0] != "search") {
		return usage("give a command: encrypt or search")
	}
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	jwks := flags.String("jwks", "", "the gateway's JWKS: a file or its URL")
	kid := flags.String("kid", "", "the key to encrypt to")
	ttl := flags.Int64("ttl", 0, "send iat and exp claims expiring after SECONDS")
	hicn := flags.Bool("hicn", false, "the identifier is a HICN")
	bindCert := flags.String("bind-cert", "", "bind the token to this client certificate")
	cert := flags.String("cert", "", "mTLS: the client certificate to present (PEM)")
	key := flags.String("key", "", "mTLS: its private key (PEM)")
	caCert := flags.String("cacert", "", "the CA of the gateway's certificate (PEM)")
	if err := flags.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Println(usageText)
			return 0
		}
		return usage(err.Error())
	}
	if *key != "" && *cert == "" {
		return usage("--key needs --cert")
	}
	if *ttl < 0 {
		return usage("--ttl must be a positive whole number")
	}
	options := client.Options{Kind: client.MBI, TTLSeconds: *ttl}
	if *hicn {
		options.Kind = client.HICN
	}
	tlsConfig, err := client.TLSConfig(*cert, *key, *caCert)
	if err != nil {
		return fail(err)
	}
	client.UseTLS(tlsConfig)
	if *bindCert != "" {
		if options.BindCertificate, err = os.ReadFile(*bindCert); err != nil {
			return fail(err)
		}
	}
	input, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
	if err != nil {
		return fail(err)
	}
	identifier := strings.TrimRight(string(input), "\r\n")

	if args[0] == "encrypt" {
		if *jwks == "" || flags.NArg() != 0 {
			return usage("encrypt takes --jwks FILE|URL")
		}
		token, err := encrypt(*jwks, *kid, identifier, options)
		if err != nil {
			return fail(err)
		}
		fmt.Println(token)
		return 0
	}
	if *jwks != "" || flags.NArg() != 1 {
		return usage("search takes the gateway's base URL")
	}
	gateway := strings.TrimRight(flags.Arg(0), "/")
	var result *client.Result
	for attempt := 0; attempt < 2; attempt++ {
		token, err := encrypt(gateway+"/.well-known/jwks.json", *kid, identifier, options)
		if err != nil {
			return fail(err)
		}
		if result, err = client.Search(gateway, token, options.Kind); err != nil {
			return fail(err)
		}
		// The key was rotated out: fetch the JWKS again and encrypt again, once.
		if result.ErrorCode != "ERR_TOKEN_KID_UNKNOWN" {
			break
		}
	}
	if result.ErrorCode != "" {
		fmt.Fprintln(os.Stderr, result.ErrorCode)
		return 1
	}
	for _, id := range result.PatientIDs {
		fmt.Println("Patient/" + id)
	}
	return 0
}

func encrypt(jwksSource, kid, identifier string, options client.Options) (string, error) {
	keys, err := client.LoadJWKS(jwksSource)
	if err != nil {
		return "", err
	}
	key, err := client.ChooseKey(keys, kid)
	if err != nil {
		return "", err
	}
	return client.EncryptJWE(identifier, key, options)
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "sealed-search: "+err.Error())
	return 1
}
