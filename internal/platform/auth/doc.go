// Package auth verifies OAuth2 bearer tokens (JWTs from a client-credentials flow) and carries the
// verified Principal through contexts. Verification checks the signature against keys from a JWKS
// (file or URL), the algorithm against an allow-list, the issuer, the audience and the expiry.
// A Verifier is safe for concurrent use.
//
// devkey.go holds the development helpers behind `accruectl keygen` and `accruectl token`: a
// local Ed25519 signing key and tokens signed with it. Production deployments point JWKS_URL at
// their identity provider instead.
package auth
