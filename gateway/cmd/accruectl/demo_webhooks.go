package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// demoListener is the demo's `accruectl listen`: a local receiver subscribed to the events the
// demo causes, printing each verified delivery.
type demoListener struct {
	out    *lineBuffer
	cancel context.CancelFunc
	types  []string // subscribed; the demo's steps cause each of them
}

type lineBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		b.lines = append(b.lines, l)
	}
	return len(p), nil
}

func (b *lineBuffer) since(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines[n:]...)
}

// subscribeListener starts a receiver on 127.0.0.1 and subscribes it (through the gateway) to
// project.activated, invoice.posted and payment.applied when the catalogue has it; nil when no
// dispatcher runs behind the gateway.
func (d *demoRun) subscribeListener() *demoListener {
	step(0, "Outbound webhooks: `accruectl listen` subscribed to the events below (dispatcher, signed CloudEvents)")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("   skipped:", err)
		return nil
	}
	types := []string{"project.activated", "invoice.posted", "payment.applied"}
	var st int
	var sub map[string]any
	for len(types) > 0 {
		st, sub, err = d.call(http.MethodPost, "/v1/webhook-subscriptions", map[string]any{"url": "http://" + lis.Addr().String() + "/",
			"event_types": types, "description": "accruectl demo"})
		if err == nil && st == http.StatusBadRequest && str(sub, "reason") == "WEBHOOK_EVENT_TYPE_UNKNOWN" {
			types = types[:len(types)-1] // payment.applied arrives with the payments module
			continue
		}
		break
	}
	if err != nil || st >= 300 {
		_ = lis.Close()
		fmt.Printf("   skipped: no dispatcher behind the gateway (%d %s)\n", st, str(sub, "reason"))
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &demoListener{out: &lineBuffer{}, cancel: cancel, types: types}
	go func() {
		_ = serveListener(ctx, lis, &listener{secret: str(sub, "signing_secret"), tolerance: 5 * time.Minute, out: l.out, seen: map[string]bool{}})
	}()
	fmt.Printf("   subscription %s → %s for %s\n", str(sub, "subscription", "subscription_id"), lis.Addr(), strings.Join(types, ", "))
	return l
}

// showDeliveries posts an invoice of the contract (when one can be proposed) and prints what the
// receiver got.
func (d *demoRun) showDeliveries(l *demoListener, contractID string) {
	if l == nil {
		return
	}
	defer l.cancel()
	step(7, "Outbound webhooks received by the listener (each signature verified)")
	// The cut-off of step 5: the training fee (service from 2027-05-01) stays unbilled.
	cutOff := map[string]any{"cut_off": map[string]any{"year": 2027, "month": 2, "day": 28}}
	if st, inv, err := d.call(http.MethodPost, "/v1/contracts/"+contractID+"/invoices:propose", cutOff); err == nil && st < 300 {
		id := str(inv, "invoice", "invoice_id")
		st, posted, err := d.call(http.MethodPost, "/v1/invoices/"+id+":post",
			map[string]any{"issue_date": map[string]any{"year": 2026, "month": 3, "day": 2}})
		if err == nil && st < 300 {
			fmt.Printf("   posted invoice %s (%s)\n", str(posted, "invoice", "number"), id)
		} else {
			fmt.Printf("   the invoice was not posted (%d %s): no invoice.posted this time\n", st, str(posted, "reason"))
		}
	}
	// Every subscribed type was caused by an earlier step (project.activated by step 2,
	// invoice.posted and payment.applied by step 5): wait for one of each.
	missing := func() []string {
		got := strings.Join(l.out.since(0), "\n")
		var out []string
		for _, ty := range l.types {
			if !strings.Contains(got, ty+" ") {
				out = append(out, ty)
			}
		}
		return out
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	for _, line := range l.out.since(0) {
		fmt.Println("   " + line)
	}
	if m := missing(); len(m) > 0 {
		fmt.Printf("   not received within 20 s: %s (see `accruectl` ops dispatcher exceptions and the dispatcher's log)\n", strings.Join(m, ", "))
	}
}
