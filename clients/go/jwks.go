package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	jose "gopkg.in/square/go-jose.v2"
)

var httpClient = &http.Client{Timeout: 30 * time.Second}

// ParseP256Keys returns the P-256 encryption keys of a JWKS document, in order. It reads the
// keys one by one: go-jose v2 has no X25519 JWK, and one key it cannot read fails a whole
// jose.JSONWebKeySet.
func ParseP256Keys(data []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil || set.Keys == nil {
		return nil, errors.New(`not a JWKS: expected {"keys": [...]}`)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil {
			continue // an X25519 key, or one this client does not use
		}
		pub, ok := k.Key.(*ecdsa.PublicKey)
		if ok && pub.Curve == elliptic.P256() && k.KeyID != "" && (k.Use == "" || k.Use == "enc") {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// LoadJWKS reads a JWKS from a file, or from its URL when source is http(s).
func LoadJWKS(source string) ([]jose.JSONWebKey, error) {
	var data []byte
	var err error
	if strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "http://") {
		data, err = get(source, "application/jwk-set+json")
	} else {
		data, err = os.ReadFile(source)
	}
	if err != nil {
		return nil, err
	}
	return ParseP256Keys(data)
}

// ChooseKey returns the key named kid, or the first key when kid is "".
func ChooseKey(keys []jose.JSONWebKey, kid string) (*jose.JSONWebKey, error) {
	for i := range keys {
		if kid == "" || keys[i].KeyID == kid {
			return &keys[i], nil
		}
	}
	return nil, errors.New("the JWKS has no usable P-256 encryption key")
}

func get(url, accept string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	res, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	// A JWKS or a search answer is far smaller than 1 MiB.
	return io.ReadAll(io.LimitReader(res.Body, 1<<20))
}
