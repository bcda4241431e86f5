package client

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"time"
)

// CertificateThumbprint is the SHA-256 of a client certificate's DER, from its PEM or DER
// bytes: RFC 8705 §3.1's x5t#S256, the value a sender-bound token carries (docs/TOKENS.md).
func CertificateThumbprint(pemOrDER []byte) ([]byte, error) {
	der := pemOrDER
	if block, _ := pem.Decode(pemOrDER); block != nil && block.Type == "CERTIFICATE" {
		der = block.Bytes
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return nil, errors.New("the client certificate is not a PEM or DER X.509 certificate")
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}

func x5tS256(pemOrDER []byte) (string, error) {
	thumbprint, err := CertificateThumbprint(pemOrDER)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(thumbprint), nil
}

// TLSConfig presents certFile with keyFile (PEM) when certFile is set, and trusts caFile (PEM)
// when it is set, else the system's roots.
func TLSConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" {
		if keyFile == "" {
			keyFile = certFile
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(data) {
			return nil, errors.New("no PEM certificate in the CA file")
		}
		config.RootCAs = roots
	}
	return config, nil
}

// UseTLS makes LoadJWKS and Search connect with config (TLSConfig): the mTLS connection over
// which a token bound to its client certificate opens.
func UseTLS(config *tls.Config) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = config
	httpClient = &http.Client{Timeout: 30 * time.Second, Transport: transport}
}
