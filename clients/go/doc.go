// Package client encrypts an MBI (or a HICN) to a sealed-search gateway's P-256 key as a JWE
// compact token (ECDH-ES, A256GCM) with go-jose v2, and searches with it. Only ciphertext
// leaves the process. Import path in GOPATH mode: sealedsearch/client (see build.sh).
package client
