package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/accrue/accrue/e2e/internal/harness"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/rpcspec"
)

// matrixRPC is one RPC of the contracts on one service that serves it.
type matrixRPC struct {
	service    string // harness service name
	fullMethod string
	spec       rpcspec.Method
	in, out    protoreflect.MessageType
}

// contractRPCs lists every RPC the Accrue contracts declare, from the registered descriptors: the
// ops exception service on each of the five services, every other RPC on its own service.
func contractRPCs(t testing.TB) []matrixRPC {
	t.Helper()
	var out []matrixRPC
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		pkg := string(fd.Package())
		if !strings.HasPrefix(pkg, "accrue.") {
			return true
		}
		owner := strings.Split(pkg, ".")[1]
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			servers := []string{owner}
			switch owner {
			case "ops": // every service serves its exception queue, and so does the dispatcher
				servers = append(slices.Clone(harness.Services), harness.Dispatcher)
			case "webhooks": // SubscriptionService: the outbound webhook dispatcher
				servers = []string{harness.Dispatcher}
			}
			for j := range sd.Methods().Len() {
				md := sd.Methods().Get(j)
				full := "/" + string(sd.FullName()) + "/" + string(md.Name())
				in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
				if err != nil {
					t.Fatal(err)
				}
				o, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range servers {
					out = append(out, matrixRPC{service: s, fullMethod: full, spec: rpcspec.Lookup(full), in: in, out: o})
				}
			}
		}
		return true
	})
	slices.SortFunc(out, func(a, b matrixRPC) int { return strings.Compare(a.service+a.fullMethod, b.service+b.fullMethod) })
	return out
}

// rowCounts counts the rows of every table of every service's database, once they have not
// changed for two reads a second apart (the fixture's events have been consumed).
func rowCounts(t testing.TB, env *harness.Env) map[string]int {
	t.Helper()
	read := func() map[string]int {
		out := map[string]int{}
		for _, s := range harness.Services {
			rows, err := env.DB(s).Query(context.Background(),
				`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
			if err != nil {
				t.Fatal(err)
			}
			var tables []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, n)
			}
			rows.Close()
			for _, tb := range tables {
				out[s+"."+tb] = env.Count(s, `SELECT count(*) FROM "`+tb+`"`)
			}
		}
		return out
	}
	last, same := read(), 0
	harness.Eventually(t, 30*time.Second, 500*time.Millisecond, func() error {
		now := read()
		if !maps.Equal(now, last) {
			last, same = now, 0
			return fmt.Errorf("row counts still changing")
		}
		if same++; same < 2 {
			return fmt.Errorf("row counts unchanged once")
		}
		return nil
	})
	return last
}

func withBearer(tok string) context.Context {
	ctx := context.Background()
	if tok != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	return ctx
}

// TestAuthorizationMatrix calls every RPC of the contracts on the real services, gRPC direct,
// with every kind of bad token, a token missing the RPC's scope and, for the RPCs the contracts
// mark legal_entity_scoped, a token of another legal entity on entity A's data; each call must
// be refused with its stable code and reason (filtered lists answer without A's data), and
// nothing may be written. A sample repeats through the gateway's REST.
func TestAuthorizationMatrix(t *testing.T) {
	env := harness.Start(t)
	f := newForger(t, env)
	conns := map[string]*grpc.ClientConn{}
	for _, s := range append(slices.Clone(harness.Services), harness.Dispatcher) {
		c, err := grpc.NewClient(env.GRPCAddr(s), env.GRPCTransport())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[s] = c
	}
	rpcs := contractRPCs(t)
	var scopes []string
	for _, r := range rpcs {
		if r.spec.Scope != "" && !slices.Contains(scopes, r.spec.Scope) {
			scopes = append(scopes, r.spec.Scope)
		}
	}
	all := strings.Join(scopes, " ")
	fx := newMatrixFixture(t, env, conns["billing"], all, f)
	cases := fx.entityCases()
	// Also waits until the project service has folded the fixture's assignment in, the last
	// event the fixture causes.
	checkCostRedaction(t, conns["project"], f, fx)
	before := rowCounts(t, env)

	bad := f.badTokens(all)
	missing := map[string]string{} // scope → a token with every other scope
	for _, s := range scopes {
		missing[s] = f.valid(strings.Join(slices.DeleteFunc(slices.Clone(scopes), func(x string) bool { return x == s }), " "), []string{"*"})
	}
	otherEntity := f.valid(all, []string{fx.leB.GetLegalEntityId()})
	aIDs := fx.aIDs()

	calls, scoped := 0, 0
	expect := func(r matrixRPC, what string, err error, code, reason string) {
		t.Helper()
		calls++
		if st := status.Convert(err); st.Code().String() != code || grpcx.ReasonOf(err) != reason {
			t.Errorf("%s on %s, %s: %v (reason %q), want %s %s", r.fullMethod, r.service, what, err, grpcx.ReasonOf(err), code, reason)
		}
	}
	for _, r := range rpcs {
		if !r.spec.Known || r.spec.Scope == "" {
			t.Errorf("%s declares no scope", r.fullMethod)
			continue
		}
		call := func(tok string, req proto.Message) (proto.Message, error) {
			resp := r.out.New().Interface()
			ctx, cancel := context.WithTimeout(withBearer(tok), 10*time.Second)
			defer cancel()
			return resp, conns[r.service].Invoke(ctx, r.fullMethod, req, resp)
		}
		empty := r.in.New().Interface()
		for _, b := range bad {
			_, err := call(b.token, empty)
			expect(r, b.name, err, b.code, b.reason)
		}
		_, err := call(missing[r.spec.Scope], empty)
		expect(r, "missing scope "+r.spec.Scope, err, "PermissionDenied", "SCOPE_MISSING")
		if !r.spec.LegalEntityScoped {
			continue
		}
		scoped++
		c, ok := cases[r.fullMethod]
		if !ok {
			t.Errorf("%s is legal_entity_scoped but the matrix has no request naming entity A's data", r.fullMethod)
			continue
		}
		resp, err := call(otherEntity, c.req)
		if !c.filtered {
			expect(r, "other legal entity", err, "PermissionDenied", "LEGAL_ENTITY_FORBIDDEN")
			continue
		}
		calls++
		if err != nil {
			t.Errorf("%s, other legal entity: %v, want an answer filtered to B", r.fullMethod, err)
			continue
		}
		body := protojson.Format(resp)
		for _, id := range aIDs {
			if strings.Contains(body, id) {
				t.Errorf("%s answered B's token with A's %s: %s", r.fullMethod, id, body)
			}
		}
	}
	rest := restMatrix(t, env, f, fx, all, otherEntity)
	after := rowCounts(t, env)
	for k, n := range after {
		if before[k] != n {
			t.Errorf("refused calls wrote: %s has %d rows, had %d", k, n, before[k])
		}
	}
	t.Logf("authorization matrix: %d RPC endpoints (%d legal-entity scoped), %d gRPC cases and %d REST cases; row counts of %d tables compared",
		len(rpcs), scoped, calls, rest, len(after))
}

// restMatrix repeats a sample of the matrix through the gateway's REST (problem+json with the
// same reasons) and returns how many calls it made.
func restMatrix(t *testing.T, env *harness.Env, f *forger, fx *matrixFixture, all, otherEntity string) int {
	t.Helper()
	leA, proj := fx.leA.GetLegalEntityId(), fx.project.projectID
	bearer := func(tok string) map[string]string {
		if tok == "" {
			return nil
		}
		return map[string]string{"Authorization": "Bearer " + tok}
	}
	type restCase struct {
		name, method, path string
		tok                string
		status             int
		reason             string
	}
	var list []restCase
	for _, b := range f.badTokens(all) {
		list = append(list, restCase{b.name, http.MethodGet, "/v1/projects/" + proj, b.token, http.StatusUnauthorized, b.reason})
	}
	list = append(list,
		restCase{"missing scope", http.MethodGet, "/v1/projects/" + proj, f.valid("billing:read", []string{"*"}), http.StatusForbidden, "SCOPE_MISSING"},
		restCase{"missing scope", http.MethodGet, "/v1/webhook-subscriptions", f.valid("ops:read ops:write", []string{"*"}), http.StatusForbidden, "SCOPE_MISSING"},
		restCase{"no legal entity", http.MethodGet, "/v1/projects", f.valid(all, nil), http.StatusForbidden, "LEGAL_ENTITY_FORBIDDEN"},
		restCase{"other legal entity", http.MethodGet, "/v1/projects/" + proj, otherEntity, http.StatusForbidden, "LEGAL_ENTITY_FORBIDDEN"},
		restCase{"other legal entity", http.MethodPost, "/v1/legal-entities/" + leA + "/periods/2026-05:close", otherEntity, http.StatusForbidden, "LEGAL_ENTITY_FORBIDDEN"},
		restCase{"other legal entity", http.MethodGet, "/v1/legal-entities/" + leA + "/trial-balance", otherEntity, http.StatusForbidden, "LEGAL_ENTITY_FORBIDDEN"},
		restCase{"other legal entity", http.MethodGet, "/v1/time-entries/" + fx.entry.GetEntryId(), otherEntity, http.StatusForbidden, "LEGAL_ENTITY_FORBIDDEN"},
	)
	for _, c := range list {
		var body any
		if c.method == http.MethodPost {
			body = map[string]any{}
		}
		st, hdr, raw := env.Do(c.method, c.path, body, bearer(c.tok))
		if st != c.status || problemReason(raw) != c.reason || !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") {
			t.Errorf("REST %s %s (%s): %d %s %s, want %d problem+json %s", c.method, c.path, c.name, st, hdr.Get("Content-Type"), raw, c.status, c.reason)
		}
	}
	return len(list)
}

// checkCostRedaction reads the fixture project's financials (its assignment is costed at the
// resource's cost rate) with and without costrates:read: without it, the cost figures and the
// margins are left out and flagged.
func checkCostRedaction(t *testing.T, project *grpc.ClientConn, f *forger, fx *matrixFixture) {
	t.Helper()
	c := projectv1.NewProjectServiceClient(project)
	read := func(scopes ...string) *projectv1.ProjectFinancials {
		t.Helper()
		resp, err := c.GetProjectFinancials(withBearer(f.valid(strings.Join(scopes, " "), []string{fx.leA.GetLegalEntityId()})),
			&projectv1.GetProjectFinancialsRequest{ProjectId: fx.project.projectID})
		if err != nil {
			t.Fatalf("GetProjectFinancials: %v", err)
		}
		return resp.GetFinancials()
	}
	var full *projectv1.ProjectFinancials
	harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if full = read("projects:read", "costrates:read"); full.GetPlannedCost().GetAmount() != "200.00" {
			return fmt.Errorf("planned cost %v, want 200.00 (10 h × %s) once the assignment is folded in", full.GetPlannedCost(), consultantCostRate)
		}
		return nil
	})
	if full.GetCostRedacted() || full.GetForecastMargin() == nil {
		t.Errorf("with costrates:read: %v, want every figure", full)
	}
	red := read("projects:read")
	if !red.GetCostRedacted() || red.GetPlannedCost() != nil || red.GetActualCost() != nil || red.GetForecastMargin() != nil ||
		red.GetActualMargin() != nil || red.GetForecastMarginPercent() != "" || red.GetBudget().GetCost() != nil {
		t.Errorf("without costrates:read: %v, want the cost figures and margins left out and cost_redacted", red)
	}
	if red.GetPlannedHours() != full.GetPlannedHours() || red.GetForecastRevenue().GetAmount() != full.GetForecastRevenue().GetAmount() {
		t.Errorf("without costrates:read the hours or revenue changed: %v vs %v", red, full)
	}
}
