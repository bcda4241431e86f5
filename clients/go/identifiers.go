package client

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

// Kind is the identifier a token carries: the gateway's mbi-encrypted or hicn-encrypted search.
type Kind string

const (
	MBI  Kind = "mbi"
	HICN Kind = "hicn"
)

// The MBI format (CMS, "Understanding the MBI"); S in position 2 marks synthetic test data. A
// HICN is 9 digits and a 1-2 character beneficiary identification code starting with a letter.
var (
	mbiPattern  = regexp.MustCompile(`^[1-9](?:[AC-HJKMNP-RT-Y]|S)[0-9AC-HJKMNP-RT-Y][0-9][AC-HJKMNP-RT-Y][0-9AC-HJKMNP-RT-Y][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y][0-9][0-9]$`)
	hicnPattern = regexp.MustCompile(`^[0-9]{9}[A-Z][0-9A-Z]?$`)
)

// NormalizeMBI returns the canonical MBI (dashes removed, upper case), or "" when malformed.
func NormalizeMBI(value string) string {
	if len(value) == 13 {
		if value[4] != '-' || value[8] != '-' {
			return ""
		}
		value = value[:4] + value[5:8] + value[9:]
	}
	upper := strings.ToUpper(value)
	if len(value) != 11 || !mbiPattern.MatchString(upper) {
		return ""
	}
	return upper
}

// NormalizeHICN returns the canonical (upper-case) HICN, or "" when malformed.
func NormalizeHICN(value string) string {
	upper := strings.ToUpper(value)
	if (len(value) != 10 && len(value) != 11) || !hicnPattern.MatchString(upper) {
		return ""
	}
	return upper
}

// Payload is a token's plaintext (docs/TOKENS.md): the canonical identifier, or
// {"mbi"|"hicn","iat","exp"} when ttlSeconds > 0. The error never holds the identifier.
func Payload(identifier string, kind Kind, ttlSeconds, nowSeconds int64) ([]byte, error) {
	var canonical string
	switch kind {
	case MBI:
		canonical = NormalizeMBI(identifier)
	case HICN:
		canonical = NormalizeHICN(identifier)
	default:
		return nil, errors.New("kind must be mbi or hicn")
	}
	if canonical == "" {
		return nil, errors.New("not a well-formed " + strings.ToUpper(string(kind)))
	}
	if ttlSeconds == 0 {
		return []byte(canonical), nil
	}
	if ttlSeconds < 0 {
		return nil, errors.New("ttlSeconds must be positive")
	}
	// encoding/json writes map keys sorted: {"exp","iat","mbi"}; the gateway takes any order.
	return json.Marshal(map[string]interface{}{
		string(kind): canonical, "iat": nowSeconds, "exp": nowSeconds + ttlSeconds,
	})
}
