package client

import (
	"errors"
	"time"

	jose "gopkg.in/square/go-jose.v2"
)

// Options of a token.
type Options struct {
	// Kind of identifier: MBI (default) or HICN.
	Kind Kind
	// TTLSeconds > 0 sends {"mbi","iat","exp"} expiring after it.
	TTLSeconds int64
	// Enc is jose.A256GCM (default) or jose.A128GCM.
	Enc jose.ContentEncryption
	// BindCertificate (the partner's mTLS client certificate, PEM or DER) binds the token to it:
	// the protected header carries its x5t#S256 (RFC 8705 §3.1), which the AAD covers, and the
	// gateway opens the token only over a connection that presents that certificate.
	BindCertificate []byte
}

func encrypterOptions(options Options) (*jose.EncrypterOptions, error) {
	opts := &jose.EncrypterOptions{}
	if options.BindCertificate == nil {
		return opts, nil
	}
	x5t, err := x5tS256(options.BindCertificate)
	if err != nil {
		return nil, err
	}
	return opts.WithHeader("x5t#S256", x5t), nil
}

// EncryptJWE encrypts an identifier to a gateway P-256 key as a JWE compact token: alg ECDH-ES,
// enc A256GCM (or A128GCM), the key's kid in the protected header; go-jose adds the epk.
func EncryptJWE(identifier string, key *jose.JSONWebKey, options Options) (string, error) {
	kind := options.Kind
	if kind == "" {
		kind = MBI
	}
	plaintext, err := Payload(identifier, kind, options.TTLSeconds, time.Now().Unix())
	if err != nil {
		return "", err
	}
	enc := options.Enc
	if enc == "" {
		enc = jose.A256GCM
	}
	if enc != jose.A256GCM && enc != jose.A128GCM {
		return "", errors.New("enc must be A256GCM or A128GCM")
	}
	if key.KeyID == "" {
		return "", errors.New("the gateway key has no kid")
	}
	opts, err := encrypterOptions(options)
	if err != nil {
		return "", err
	}
	recipient := jose.Recipient{Algorithm: jose.ECDH_ES, Key: key.Key, KeyID: key.KeyID}
	encrypter, err := jose.NewEncrypter(enc, recipient, opts)
	if err != nil {
		return "", err
	}
	object, err := encrypter.Encrypt(plaintext)
	if err != nil {
		return "", err
	}
	return object.CompactSerialize()
}
