package gateway

import (
	"embed"
	"io/fs"
	"net/http"
)

// The console's page, script and styles, embedded in the binary: no CDN, no build step, works
// offline. The page holds no data; it calls /v1/ops/console/... and the list APIs with the
// bearer token the user signs in with (kept in the tab's sessionStorage).
//
//go:embed console/*
var consoleFiles embed.FS

// consoleUI serves /console/.
func consoleUI() http.Handler {
	sub, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/console/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
