package translate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/translate"
	"github.com/accrue/accrue/gateway/internal/webhook"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/fault"
)

// The fuzz targets feed arbitrary bodies to every vendor translator. Whatever the body, a
// translator must not panic, must refuse with a fault of kind Invalid and reason
// MALFORMED_PAYLOAD, and must answer the same body the same way twice (an error message, or an
// event id and the same request). Seeds are the fixtures (testdata/*.json) plus the corpus in
// testdata/fuzz; `go test` runs them all, `go test -fuzz=FuzzX` explores. The fixtures are a few
// kilobytes, and the engine minimizes every new input for up to 60 s by default: short runs want
// -fuzzminimizetime=1s, e.g.
//
//	go test -run='^$' -fuzz='^FuzzSalesforceCDC$' -fuzztime=15s -fuzzminimizetime=1s ./gateway/internal/translate/

// seedFiles adds testdata files whose names start with prefix to f's corpus.
func seedFiles(f *testing.F, prefixes ...string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		for _, prefix := range prefixes {
			if strings.HasPrefix(filepath.Base(p), prefix) {
				b, err := os.ReadFile(p)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"data":{}}`, `{"ChangeEventHeader":{}}`, `{"Worker":{}}`, `{"a":1}{"b":2}`} {
		f.Add([]byte(s))
	}
}

// outcome is what a translation did with a body, comparable across two runs.
type outcome struct {
	err     error
	cmd     webhook.Command
	request proto.Message
}

// translateOnce runs tr on body and, for a command with a call, the call against a recording
// client (request returns what it recorded).
func translateOnce(tr webhook.Translator, body []byte, request func() proto.Message) outcome {
	cmd, err := tr("fuzz", body)
	if err != nil {
		return outcome{err: err, cmd: cmd}
	}
	o := outcome{cmd: cmd}
	if cmd.Call != nil {
		if _, err := cmd.Call(context.Background()); err != nil {
			o.err = fmt.Errorf("call: %w", err)
		}
		o.request = request()
	}
	return o
}

// checkTranslator asserts the fuzz invariants for one body.
func checkTranslator(t *testing.T, run func() outcome) {
	t.Helper()
	first, second := run(), run()
	if first.err != nil {
		fe, ok := fault.As(first.err)
		if !ok || fe.Kind != fault.Invalid || fe.Reason != translate.ReasonMalformed {
			t.Fatalf("error %v is not an Invalid MALFORMED_PAYLOAD fault", first.err)
		}
		if second.err == nil || second.err.Error() != first.err.Error() {
			t.Fatalf("the same body answered %v, then %v", first.err, second.err)
		}
		return
	}
	c := first.cmd
	if c.EventID == "" || len(c.EventID) > 200 || strings.ContainsFunc(c.EventID, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		t.Fatalf("event id %q is not a key", c.EventID)
	}
	n := 0
	for _, set := range []bool{c.Ignore != "", c.Exception != nil, c.Call != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("command %+v: exactly one of Ignore, Exception, Call must be set", c)
	}
	if c.Ignore != "" && strings.Trim(c.Ignore, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
		t.Fatalf("ignore reason %q is not UPPER_SNAKE", c.Ignore)
	}
	if e := c.Exception; e != nil {
		for _, id := range e.RecordIDs {
			if id == "" || strings.Contains(id, ",") {
				t.Fatalf("exception record id %q", id)
			}
		}
	}
	if c.Call != nil && first.request == nil {
		t.Fatal("the call sent no request")
	}
	if second.err != nil || c.EventID != second.cmd.EventID || c.Ignore != second.cmd.Ignore || !proto.Equal(first.request, second.request) {
		t.Fatalf("the same body translated differently:\n%+v %v\n%+v %v (%v)", c, first.request, second.cmd, second.request, second.err)
	}
}

// salesforceRun returns a run of the Salesforce translator on body with mappings.
func salesforceRun(ms *translate.SalesforceMappings, body []byte) func() outcome {
	return func() outcome {
		rec := &projects{}
		return translateOnce(translate.SalesforceClosedWon(rec, ms), body, func() proto.Message { return rec.got })
	}
}

func FuzzSalesforceCDC(f *testing.F) {
	seedFiles(f, "salesforce-c", "salesforce-p", "salesforce-b")
	ms := testMappings(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTranslator(t, salesforceRun(ms, body))
		checkTranslator(t, salesforceRun(nil, body))
	})
}

// FuzzSalesforceMapping fuzzes the mapping file: a file either loads or is refused with an
// error, and a loaded mapping translates every Salesforce fixture under the invariants.
func FuzzSalesforceMapping(f *testing.F) {
	seedFiles(f, "salesforce-mapping")
	f.Add([]byte(`{"default":{"defaults":{"legal_entity":"US01","tax_region":"US"},"lines":{"service_line":["Family__c","Product2.Family"]}}}`))
	var bodies [][]byte
	for _, name := range []string{"salesforce-cometd-stock.json", "salesforce-pubsub-custom.json", "salesforce-bare-accrue-fields.json", "salesforce-cometd-gap.json"} {
		bodies = append(bodies, fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		ms, err := translate.ParseSalesforceMappings(file)
		if err != nil {
			if ms != nil {
				t.Fatal("a refused mapping file returned mappings")
			}
			return
		}
		for _, b := range bodies {
			checkTranslator(t, salesforceRun(ms, b))
		}
	})
}

func FuzzWorkday(f *testing.F) {
	seedFiles(f, "workday-")
	if b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", "workday-worker.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTranslator(t, func() outcome {
			rec := &resources{}
			return translateOnce(translate.WorkdayWorkerChange(rec), body, func() proto.Message { return rec.got })
		})
	})
}

func FuzzCanonicalWorker(f *testing.F) {
	seedFiles(f, "canonical-worker")
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTranslator(t, func() outcome {
			rec := &resources{}
			return translateOnce(translate.CanonicalWorker(rec), body, func() proto.Message { return rec.got })
		})
	})
}

func FuzzCanonicalOpportunity(f *testing.F) {
	seedFiles(f, "canonical-opportunity")
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTranslator(t, func() outcome {
			rec := &projects{}
			return translateOnce(translate.CanonicalOpportunity(rec), body, func() proto.Message { return rec.got })
		})
	})
}

// entries is the time and expense service as the translator sees it.
type entries struct {
	timeexpensev1.TimeExpenseServiceClient
	got *timeexpensev1.ImportApprovedEntriesRequest
}

func (e *entries) ImportApprovedEntries(_ context.Context, req *timeexpensev1.ImportApprovedEntriesRequest, _ ...grpc.CallOption) (*timeexpensev1.ImportApprovedEntriesResponse, error) {
	e.got = req
	return &timeexpensev1.ImportApprovedEntriesResponse{}, nil
}

func FuzzApprovedEntries(f *testing.F) {
	seedFiles(f, "timeexpense-")
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTranslator(t, func() outcome {
			rec := &entries{}
			return translateOnce(translate.ApprovedEntries(rec), body, func() proto.Message { return rec.got })
		})
	})
}
