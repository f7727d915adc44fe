package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
)

func init() { commands = append(commands, listenCommand) }

var listenCommand = command{name: "listen", synopsis: "--secret whsec_... [--addr 127.0.0.1:9900] [-o text|json] [--tolerance 5m]",
	summary: "receive outbound webhooks locally, verify them and print one line each",
	details: "Runs an HTTP receiver for a webhook subscription: verifies each request's Standard Webhooks signature\n" +
		"(webhook-id, webhook-timestamp within the tolerance, webhook-signature) with the subscription's secret, answers\n" +
		"204 (401 when it does not verify) and prints one line per event: type, subject, id and key fields (-o json: the\n" +
		"CloudEvent). A repeated webhook-id is marked \"again\". Example:\n" +
		"  bin/accruectl listen --addr 127.0.0.1:9900 --secret \"$SECRET\"",
	run: func(fs *flag.FlagSet, args []string, out io.Writer) error {
		addr := fs.String("addr", "127.0.0.1:9900", "address to listen on")
		secret := fs.String("secret", "", "the subscription's signing secret (whsec_...); or ACCRUE_LISTEN_SECRET")
		format := fs.String("o", "text", "output: text or json")
		tolerance := fs.Duration("tolerance", 5*time.Minute, "accepted clock difference of webhook-timestamp")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *secret == "" {
			*secret = os.Getenv("ACCRUE_LISTEN_SECRET")
		}
		if !strings.HasPrefix(*secret, subscription.SecretPrefix) {
			return errors.New("listen needs --secret whsec_... (the secret CreateSubscription returned)")
		}
		if *format != "text" && *format != "json" {
			return errors.New("-o is text or json")
		}
		lis, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		fmt.Fprintf(os.Stderr, "listening on http://%s/\n", lis.Addr())
		return serveListener(ctx, lis, &listener{secret: *secret, json: *format == "json", tolerance: *tolerance, out: out, seen: map[string]bool{}})
	}}

func serveListener(ctx context.Context, lis net.Listener, l *listener) error {
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listener verifies and prints deliveries.
type listener struct {
	secret    string
	json      bool
	tolerance time.Duration
	out       io.Writer

	mu   sync.Mutex
	seen map[string]bool
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get(subscription.HeaderID)
	if err := subscription.Verify(l.secret, id, r.Header.Get(subscription.HeaderTimestamp), r.Header.Get(subscription.HeaderSignature),
		body, time.Now(), l.tolerance); err != nil {
		fmt.Fprintf(os.Stderr, "REJECTED %s: %v\n", id, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	again := l.seen[id]
	l.seen[id] = true
	if l.json {
		line, _ := json.Marshal(struct {
			WebhookID string          `json:"webhook_id"`
			Again     bool            `json:"again,omitempty"`
			Event     json.RawMessage `json:"event"`
		}{id, again, body})
		fmt.Fprintln(l.out, string(line))
	} else {
		fmt.Fprintln(l.out, eventLine(body, id, again))
	}
	w.WriteHeader(http.StatusNoContent)
}

// eventLine is one event as text: type, subject, id, then the data's scalar fields (up to two
// levels deep, at most eight, sorted).
func eventLine(body []byte, id string, again bool) string {
	var ce struct {
		Type    string         `json:"type"`
		Subject string         `json:"subject"`
		Data    map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		return fmt.Sprintf("%s (not a CloudEvent: %d bytes)", id, len(body))
	}
	var fields []string
	var walk func(prefix string, m map[string]any, depth int)
	walk = func(prefix string, m map[string]any, depth int) {
		for k, v := range m {
			switch v := v.(type) {
			case string, float64, bool:
				fields = append(fields, fmt.Sprintf("%s%s=%v", prefix, k, v))
			case map[string]any:
				if depth < 2 {
					walk(prefix+k+".", v, depth+1)
				}
			}
		}
	}
	walk("", ce.Data, 1)
	sort.Strings(fields)
	if len(fields) > 8 {
		fields = fields[:8]
	}
	line := fmt.Sprintf("%-28s subject=%s id=%s", ce.Type, ce.Subject, id)
	if len(fields) > 0 {
		line += " " + strings.Join(fields, " ")
	}
	if again {
		line += " (again)"
	}
	return line
}
