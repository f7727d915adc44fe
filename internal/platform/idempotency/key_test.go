package idempotency_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// The draft's sf-string and the legacy bare key name the same key; lists, duplicates, empty and
// over-long keys are refused with IDEMPOTENCY_KEY_INVALID on the Idempotency-Key field.
func TestParseKey(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", idempotency.MaxKeyLen)
	for _, tc := range []struct {
		values []string
		want   string // "" with ok: no key
		ok     bool
	}{
		{nil, "", true},
		{[]string{`"k"`}, "k", true},
		{[]string{`k`}, "k", true},
		{[]string{` "k" `}, "k", true},
		{[]string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}, "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{[]string{`8e03978e-40d5-43e8-bc93-6894a57f9324`}, "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{[]string{`"a b"`}, "a b", true},
		{[]string{`a b`}, "a b", true},
		{[]string{`"a\"b\\c"`}, `a"b\c`, true},
		{[]string{`"k";origin=crm;n=12;f=1.5;t=tok/x;b=:aGk=:;q=?1;s="x";flag`}, "k", true},
		{[]string{`webhook:salesforce:tk-1:1`}, "webhook:salesforce:tk-1:1", true},
		{[]string{`"` + long + `"`}, long, true},
		{[]string{long}, long, true},

		{[]string{`"a"`, `"b"`}, "", false},
		{[]string{`k`, `k`}, "", false},
		{[]string{`"a", "b"`}, "", false},
		{[]string{`"a" ,"b"`}, "", false},
		{[]string{`a, b`}, "", false},
		{[]string{`a,b`}, "", false},
		{[]string{``}, "", false},
		{[]string{`  `}, "", false},
		{[]string{`""`}, "", false},
		{[]string{`"` + long + `k"`}, "", false},
		{[]string{long + "k"}, "", false},
		{[]string{`"k`}, "", false},
		{[]string{`"k" x`}, "", false},
		{[]string{`"k"x`}, "", false},
		{[]string{`"a\nb"`}, "", false},
		{[]string{`a"b`}, "", false},
		{[]string{"line\nbreak"}, "", false},
		{[]string{"caf\u00e9"}, "", false},
		{[]string{`"caf` + "\u00e9" + `"`}, "", false},
		{[]string{`"k";`}, "", false},
		{[]string{`"k";A=1`}, "", false},
		{[]string{`"k";a=`}, "", false},
		{[]string{`"k";a=?2`}, "", false},
		{[]string{`"k";a=:not base64!:`}, "", false},
	} {
		key, present, err := idempotency.ParseKey(tc.values)
		if !tc.ok {
			fe, isFault := fault.As(err)
			if !isFault || fe.Kind != fault.Invalid || fe.Reason != idempotency.ReasonInvalid || len(fe.Violations) != 1 ||
				fe.Violations[0].Field != "Idempotency-Key" || !present {
				t.Errorf("ParseKey(%q) = %q, %v, %v; want an IDEMPOTENCY_KEY_INVALID violation on Idempotency-Key", tc.values, key, present, err)
			}
			continue
		}
		if err != nil || key != tc.want || present != (tc.want != "") {
			t.Errorf("ParseKey(%q) = %q, %v, %v; want %q", tc.values, key, present, err, tc.want)
		}
	}
}

// The gateway forwards FormatKey's form; the services read it back as the same key.
func TestFormatKeyRoundTrips(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"k", `a"b\c`, "a b", "a,b", "webhook:tne:evt-1"} {
		got, _, err := idempotency.ParseKey([]string{idempotency.FormatKey(k)})
		if err != nil || got != k {
			t.Errorf("ParseKey(FormatKey(%q)) = %q, %v", k, got, err)
		}
	}
}

// On the gRPC metadata path, `"k"` and `k` are one key (the second call replays the first), two
// values are refused before anything runs, and a malformed key is refused on any RPC, as the
// gateway refuses it on any route.
func TestInterceptorParsesKeysAsTheGateway(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	e := &effect{db: db}
	req := request("quoted or not")
	if _, err := call(ctx, t, db, e, idempotentMethod, "crm", `"order-77"`, req); err != nil {
		t.Fatal(err)
	}
	if _, err := call(ctx, t, db, e, idempotentMethod, "crm", `order-77`, req); err != nil {
		t.Fatal(err)
	}
	if e.runs.Load() != 1 || count(t, db, `SELECT count(*) FROM idempotency_keys`) != 1 {
		t.Fatalf(`"order-77" then order-77: %d runs, %d keys; want 1 and 1`, e.runs.Load(), count(t, db, `SELECT count(*) FROM idempotency_keys`))
	}

	twice := metadata.NewIncomingContext(ctx, metadata.Pairs(idempotency.MetadataKey, `"a"`, idempotency.MetadataKey, `"b"`))
	_, err := call(twice, t, db, e, idempotentMethod, "crm", "", req)
	wantFault(t, err, fault.Invalid, idempotency.ReasonInvalid)
	for _, method := range []string{idempotentMethod, plainMethod} {
		_, err = call(ctx, t, db, e, method, "crm", `"a", "b"`, req)
		wantFault(t, err, fault.Invalid, idempotency.ReasonInvalid)
	}
	if e.runs.Load() != 1 {
		t.Fatalf("a refused key ran the operation (%d runs)", e.runs.Load())
	}
}

// FuzzParseKey: whatever the header holds, ParseKey either refuses it with the stable reason or
// returns 1 to 255 printable ASCII characters that FormatKey serialises back to the same key.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{`"k"`, `k`, `"a\"b"`, `"k";a=1;b="x";c=?0;d=:aGk=:`, `"a", "b"`, `a, b`, `""`, `"k`, "caf\u00e9", `"k";A`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		key, present, err := idempotency.ParseKey([]string{v})
		if !present {
			t.Fatalf("ParseKey(%q): a value is always present", v)
		}
		if err != nil {
			if fe, ok := fault.As(err); !ok || fe.Reason != idempotency.ReasonInvalid || fe.Violations[0].Field != "Idempotency-Key" {
				t.Fatalf("ParseKey(%q) error %v", v, err)
			}
			return
		}
		if key == "" || len(key) > idempotency.MaxKeyLen {
			t.Fatalf("ParseKey(%q) = %q", v, key)
		}
		for i := 0; i < len(key); i++ {
			if key[i] < 0x20 || key[i] > 0x7e {
				t.Fatalf("ParseKey(%q) = %q: not printable ASCII", v, key)
			}
		}
		if again, _, err := idempotency.ParseKey([]string{idempotency.FormatKey(key)}); err != nil || again != key {
			t.Fatalf("round trip of %q: %q, %v", key, again, err)
		}
	})
}
