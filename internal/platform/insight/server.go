package insight

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
)

// Server exposes an Insight as accrue.ops.v1.OpsInsightService.
type Server struct {
	opsv1.UnimplementedOpsInsightServiceServer
	in *Insight
}

// NewServer returns the OpsInsightService of in's service. Requests naming another service are
// refused (WRONG_SERVICE): the gateway routed them to the wrong place.
func NewServer(in *Insight) *Server {
	if in == nil {
		panic("insight: NewServer needs an Insight")
	}
	return &Server{in: in}
}

func (s *Server) check(service string) error {
	if service != s.in.service {
		return fault.Invalidf("WRONG_SERVICE", "service", "this is the %s service, not %s", s.in.service, service)
	}
	return nil
}

func (s *Server) GetStreamHealth(ctx context.Context, req *opsv1.GetStreamHealthRequest) (*opsv1.GetStreamHealthResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	h, err := s.in.StreamHealth(ctx)
	if err != nil {
		return nil, err
	}
	resp := &opsv1.GetStreamHealthResponse{Service: s.in.service, Outbox: &opsv1.OutboxBacklog{
		Unpublished: h.Outbox.Unpublished, OldestUnpublishedSeconds: int64(h.Outbox.OldestAge / time.Second)}}
	for _, g := range h.Groups {
		resp.ConsumerGroups = append(resp.ConsumerGroups, &opsv1.ConsumerGroupHealth{Stream: g.Stream, Group: g.Group,
			Length: g.Length, Lag: g.Lag, Pending: g.Pending, OldestPendingSeconds: int64(g.OldestPendingIdle / time.Second),
			DeadLetters: g.DeadLetters, DeadLetterStream: g.DeadLetterStream})
	}
	for _, p := range h.Produced {
		resp.Produced = append(resp.Produced, &opsv1.ProducedStream{Stream: p.Stream, Length: p.Length})
	}
	return resp, nil
}

func (s *Server) TraceKey(ctx context.Context, req *opsv1.TraceKeyRequest) (*opsv1.TraceKeyResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	if len(req.GetKeys()) == 0 && len(req.GetCorrelationIds()) == 0 && len(req.GetEventIds()) == 0 {
		return nil, fault.Invalidf("TRACE_KEY_REQUIRED", "keys", "name a business key, a correlation id or an event id to trace")
	}
	t, err := s.in.Trace(ctx, TraceQuery{Keys: req.GetKeys(), CorrelationIDs: req.GetCorrelationIds(),
		EventIDs: req.GetEventIds(), Limit: int(req.GetLimit())})
	if err != nil {
		return nil, err
	}
	resp := &opsv1.TraceKeyResponse{CorrelationIds: t.CorrelationIDs, RelatedKeys: t.RelatedKeys,
		PublishedEventIds: t.PublishedEventIDs, Truncated: t.Truncated}
	for _, it := range t.Items {
		resp.Items = append(resp.Items, &opsv1.TraceItem{Service: s.in.service, Time: timestamppb.New(it.Time), Kind: it.Kind,
			Title: it.Title, Status: it.Status, EntityType: it.EntityType, EntityId: it.EntityID,
			CorrelationId: it.CorrelationID, EventId: it.EventID, Detail: it.Detail})
	}
	return resp, nil
}

func (s *Server) ListKpiHistory(ctx context.Context, req *opsv1.ListKpiHistoryRequest) (*opsv1.ListKpiHistoryResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	now := time.Now()
	from, to := now.Add(-7*24*time.Hour), now.Add(time.Second)
	if req.GetFrom() != nil {
		from = req.GetFrom().AsTime()
	}
	if req.GetTo() != nil {
		to = req.GetTo().AsTime()
	}
	if !from.Before(to) {
		return nil, fault.Invalidf("INVALID_TIME_RANGE", "from", "from must be before to")
	}
	limit := int(req.GetPageSize())
	if limit == 0 {
		limit = 2000
	}
	// The history is recorded for every legal entity: a caller acting for fewer sees only the
	// current values, computed within its entities.
	var hist []Sample
	if auth.RequireAllLegalEntities(ctx) == nil && !strings.ContainsRune(req.GetKpi(), 0) {
		h, err := s.in.History(ctx, req.GetKpi(), from, to, limit)
		if err != nil {
			return nil, err
		}
		hist = h
	}
	cur, err := s.in.Current(ctx)
	if err != nil {
		return nil, err
	}
	resp := &opsv1.ListKpiHistoryResponse{}
	for _, h := range hist {
		resp.Samples = append(resp.Samples, sample(h.KpiValue, h.At))
	}
	for _, c := range cur {
		if req.GetKpi() == "" || c.KPI == req.GetKpi() {
			resp.Current = append(resp.Current, sample(c, now))
		}
	}
	return resp, nil
}

func (s *Server) RecordKpis(ctx context.Context, req *opsv1.RecordKpisRequest) (*opsv1.RecordKpisResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	// Recorded for every legal entity, like the periodic recorder (history is one series), so
	// only a caller acting for every entity may record.
	if err := auth.RequireAllLegalEntities(ctx); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := s.in.Record(correlation.With(rctx, correlation.ID(ctx)))
	if err != nil {
		return nil, err
	}
	resp := &opsv1.RecordKpisResponse{}
	for _, h := range list {
		resp.Samples = append(resp.Samples, sample(h.KpiValue, h.At))
	}
	return resp, nil
}

func sample(v KpiValue, at time.Time) *opsv1.KpiSample {
	return &opsv1.KpiSample{Kpi: v.KPI, Value: v.Value, CurrencyCode: v.Currency, RecordTime: timestamppb.New(at)}
}
