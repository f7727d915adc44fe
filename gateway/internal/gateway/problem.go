package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
)

// Problem is an RFC 9457 problem document with Accrue's extension members.
type Problem struct {
	Type          string            `json:"type"`
	Title         string            `json:"title"`
	Status        int               `json:"status"`
	Detail        string            `json:"detail,omitempty"`
	Instance      string            `json:"instance,omitempty"`
	Reason        string            `json:"reason,omitempty"`
	Violations    []Violation       `json:"violations,omitempty"`
	CorrelationID string            `json:"correlation_id,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
}

// Violation is one field problem.
type Violation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// ProblemTypeBase prefixes problem type URIs: the reason in kebab case follows.
const ProblemTypeBase = "https://accrue.dev/problems/"

// RetryAfterSeconds is the Retry-After header of a 503 answer.
const RetryAfterSeconds = "1"

// statusByReason overrides the HTTP status of reasons whose gRPC code maps too coarsely.
var statusByReason = map[string]int{
	idempotency.ReasonReused: http.StatusUnprocessableEntity,
	idempotency.ReasonInUse:  http.StatusConflict,
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
		if p.Reason != "" {
			p.Type = ProblemTypeBase + strings.ReplaceAll(strings.ToLower(p.Reason), "_", "-")
		}
	}
	if p.Title == "" {
		p.Title = title(p.Reason, p.Status)
	}
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	if p.CorrelationID == "" && r != nil {
		p.CorrelationID = correlation.ID(r.Context())
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Del("Content-Length")
	if p.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// A dependency is down or a connection was lost (DATABASE_UNAVAILABLE, ...): the client
		// retries, with the same Idempotency-Key for a write, which makes the retry safe.
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func title(reason string, status int) string {
	if reason == "" {
		return http.StatusText(status)
	}
	s := strings.ToLower(strings.ReplaceAll(reason, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:]
}

// problemFromStatus builds the problem for a gRPC status: reason and metadata from ErrorInfo,
// violations from BadRequest or buf.validate.Violations.
func problemFromStatus(st *status.Status) Problem {
	d := grpcx.DetailsOf(st)
	p := Problem{Status: runtime.HTTPStatusFromCode(st.Code()), Detail: st.Message(), Reason: d.Reason,
		CorrelationID: d.CorrelationID, Metadata: d.Metadata}
	for _, v := range d.Violations {
		p.Violations = append(p.Violations, Violation{Field: v.Field, Description: v.Description})
	}
	for _, d := range st.Details() {
		if vs, ok := d.(*validate.Violations); ok {
			for _, v := range vs.GetViolations() {
				p.Violations = append(p.Violations, Violation{Field: protovalidate.FieldPathString(v.GetField()), Description: v.GetMessage()})
			}
		}
	}
	if p.Reason == "" {
		p.Reason = st.Code().String()
		p.Reason = strings.ToUpper(camelToSnake(p.Reason))
	}
	if s, ok := statusByReason[p.Reason]; ok {
		p.Status = s
	}
	if masked(st) {
		p.Detail = maskedDetail(st.Code())
	}
	return p
}

// masked reports whether the detail of st must not reach the caller: a status without ErrorInfo
// did not come from a service's error mapping but from gRPC or the transport (a refused
// connection, a deadline, a reset stream), and its message names hosts, ports and internals. A
// service relaying such a failure of its own dependency (grpcx.FaultFromStatus) says so with the
// reason UPSTREAM_<code> and the same message: masked too. InvalidArgument without ErrorInfo is
// grpc-gateway's own answer to an undecodable request, which the caller needs to see.
func masked(st *status.Status) bool {
	if st.Code() == codes.OK || st.Code() == codes.InvalidArgument {
		return false
	}
	reason := grpcx.DetailsOf(st).Reason
	return reason == "" || relayedCode[reason]
}

// relayedCode holds the reasons grpcx.FaultFromStatus makes of a dependency's status without
// ErrorInfo (grpcx.UpstreamReason), and the mixed-case ones older services made.
var relayedCode = func() map[string]bool {
	out := map[string]bool{}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		out[grpcx.UpstreamReason(c)] = true
		out["UPSTREAM_"+c.String()] = true
	}
	return out
}()

func maskedDetail(c codes.Code) string {
	switch c {
	case codes.Unavailable:
		return "an upstream service is unavailable; retry with backoff"
	case codes.DeadlineExceeded:
		return "an upstream service did not answer in time; retry with backoff"
	case codes.Canceled:
		return "the request was cancelled"
	}
	return "the request failed inside Accrue; quote the correlation id to support"
}

// upstreamProblem is problemFromStatus, logging what it masks with the correlation id.
func (g *Gateway) upstreamProblem(ctx context.Context, st *status.Status) Problem {
	if masked(st) {
		g.opts.Logger.ErrorContext(ctx, "gateway: upstream call failed", "code", st.Code().String(), "err", st.Message())
	}
	return problemFromStatus(st)
}

func camelToSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// errorHandler is grpc-gateway's error handler: every failed call becomes problem+json.
func (g *Gateway) errorHandler(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	p := g.upstreamProblem(ctx, st)
	// Requests the gateway could not even decode are invalid JSON, not internal errors; a body
	// cut off by the size limit says so.
	if st.Code() == codes.InvalidArgument && p.Reason == "INVALID_ARGUMENT" {
		p.Reason = "MALFORMED_REQUEST"
		if strings.Contains(st.Message(), "request body too large") {
			p.Status, p.Reason, p.Detail = http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "the request body is over the size limit"
		}
	}
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		if v := md.HeaderMD.Get(correlation.MetadataKey); len(v) > 0 && p.CorrelationID == "" {
			p.CorrelationID = v[0]
		}
	}
	writeProblem(w, r, p)
}

// routingErrorHandler answers unknown paths and methods with problem+json.
func routingErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	reason := "NOT_FOUND"
	if httpStatus == http.StatusMethodNotAllowed {
		reason = "METHOD_NOT_ALLOWED"
	}
	writeProblem(w, r, Problem{Status: httpStatus, Reason: reason, Detail: "no API operation matches " + r.Method + " " + r.URL.Path})
}
