package client

import (
	"sync"
	"time"

	jose "gopkg.in/square/go-jose.v2"
)

// DefaultMinRefresh is the shortest time between two JWKS fetches that Refresh forces.
const DefaultMinRefresh = 10 * time.Second

// JWKSCache holds one gateway's P-256 keys: fetched when first needed, and again only when
// asked, after the gateway answers ERR_TOKEN_KID_UNKNOWN (Refresh) or when it holds no key
// (Key). Forced fetches are rate-limited: at most one per MinRefresh, however many searches
// fail at once; within the interval the last fetch's keys are used. Safe for concurrent use.
type JWKSCache struct {
	URL string
	// MinRefresh is the rate limit of forced fetches (DefaultMinRefresh when zero).
	MinRefresh time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	held      bool
	fetchedAt time.Time
	fetched   bool
	fetches   int
}

// NewJWKSCache is a cache of the JWKS at url, starting from initial keys when not nil (a JWKS
// already held, e.g. the operator's jwks.json).
func NewJWKSCache(url string, initial []jose.JSONWebKey) *JWKSCache {
	return &JWKSCache{URL: url, keys: initial, held: initial != nil}
}

// Fetches is the number of JWKS requests made.
func (c *JWKSCache) Fetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

func (c *JWKSCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *JWKSCache) fetch() ([]jose.JSONWebKey, error) {
	keys, err := LoadJWKS(c.URL)
	c.fetches++
	c.fetchedAt, c.fetched = c.now(), true
	if err != nil {
		return nil, err
	}
	c.keys, c.held = keys, true
	return keys, nil
}

// Get returns the keys held, fetching them first when there are none.
func (c *JWKSCache) Get() ([]jose.JSONWebKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		return c.keys, nil
	}
	return c.fetch()
}

// Refresh fetches again, unless the last fetch is less than MinRefresh old.
func (c *JWKSCache) Refresh() ([]jose.JSONWebKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.MinRefresh
	if limit == 0 {
		limit = DefaultMinRefresh
	}
	if c.fetched && c.held && c.now().Sub(c.fetchedAt) < limit {
		return c.keys, nil
	}
	return c.fetch()
}

// Key returns a P-256 key other than exclude; when the keys held have none, they are fetched
// again (rate-limited) and asked once more.
func (c *JWKSCache) Key(exclude string) (*jose.JSONWebKey, error) {
	keys, err := c.Get()
	if err != nil {
		return nil, err
	}
	if key, err := ChooseKey(without(keys, exclude), ""); err == nil {
		return key, nil
	}
	if keys, err = c.Refresh(); err != nil {
		return nil, err
	}
	return ChooseKey(without(keys, exclude), "")
}

func without(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var kept []jose.JSONWebKey
	for _, k := range keys {
		if kid == "" || k.KeyID != kid {
			kept = append(kept, k)
		}
	}
	return kept
}

// Outcome is a search made by SearchPatients: its result, the kid the answered token was
// encrypted to, and whether the first key was refused and the search made again.
type Outcome struct {
	Result  *Result
	KeyID   string
	Retried bool
}

// SearchPatients encrypts the identifier to a key from the cache and searches. When the gateway
// answers ERR_TOKEN_KID_UNKNOWN (the key was rotated out or revoked since the JWKS was fetched),
// the JWKS is fetched again (rate-limited by the cache) and the search made once more with
// another key: one retry, never more.
func SearchPatients(baseURL, identifier string, cache *JWKSCache, options Options) (*Outcome, error) {
	attempt := func(exclude string) (*Outcome, error) {
		key, err := cache.Key(exclude)
		if err != nil {
			return nil, err
		}
		token, err := EncryptJWE(identifier, key, options)
		if err != nil {
			return nil, err
		}
		result, err := Search(baseURL, token, options.Kind)
		if err != nil {
			return nil, err
		}
		return &Outcome{Result: result, KeyID: key.KeyID}, nil
	}
	first, err := attempt("")
	if err != nil || first.Result.ErrorCode != "ERR_TOKEN_KID_UNKNOWN" {
		return first, err
	}
	if _, err := cache.Refresh(); err != nil {
		return nil, err
	}
	again, err := attempt(first.KeyID)
	if again != nil {
		again.Retried = true
	}
	return again, err
}
