// Package openapi serves the merged OpenAPI (Swagger 2.0) document generated from the contracts
// by protoc-gen-openapiv2 (allow_merge), with the gateway's security scheme added.
package openapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

//go:embed spec/accrue.swagger.json
var spec []byte

// Document returns the merged document, with the bearer security scheme declared.
func Document() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, err
	}
	doc["info"] = map[string]any{
		"title":       "Accrue API",
		"version":     "v1",
		"description": "REST gateway of Accrue. Errors are application/problem+json (RFC 9457). Send Authorization: Bearer <token>; mutating calls take an Idempotency-Key header; X-Correlation-ID is echoed (and minted when absent). Field rules (lengths, patterns, ranges) are enforced server-side as declared in the protobuf contracts.",
	}
	doc["securityDefinitions"] = map[string]any{
		"bearer": map[string]any{"type": "apiKey", "name": "Authorization", "in": "header",
			"description": "OAuth2 bearer token: `Bearer <jwt>`"},
	}
	doc["security"] = []any{map[string]any{"bearer": []any{}}}
	doc["consumes"] = []any{"application/json"}
	doc["produces"] = []any{"application/json", "application/problem+json"}
	return json.MarshalIndent(doc, "", "  ")
}

// Handler serves the document.
func Handler() (http.Handler, error) {
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}), nil
}
