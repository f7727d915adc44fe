package exceptions

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/paging"
)

// Server exposes a Queue as accrue.ops.v1.ExceptionService.
type Server struct {
	opsv1.UnimplementedExceptionServiceServer
	queue   *Queue
	service string
	replay  Replayer
}

// Replayer serves ReplayEvents over the service's outbox (outbox.Replayer; the outbox package
// depends on this one, hence the interface).
type Replayer interface {
	ReplayEvents(ctx context.Context, req *opsv1.ReplayEventsRequest) (*opsv1.ReplayEventsResponse, error)
}

// WithReplay makes s serve ReplayEvents through r and returns s.
func (s *Server) WithReplay(r Replayer) *Server {
	s.replay = r
	return s
}

// ReplayEvents re-publishes events from this service's outbox (see outbox.Replayer).
func (s *Server) ReplayEvents(ctx context.Context, req *opsv1.ReplayEventsRequest) (*opsv1.ReplayEventsResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	if s.replay == nil {
		return s.UnimplementedExceptionServiceServer.ReplayEvents(ctx, req)
	}
	return s.replay.ReplayEvents(ctx, req)
}

// NewServer returns the ExceptionService of the named service ("customer", "billing", ...).
// Requests naming another service are refused: the gateway routed them to the wrong place.
func NewServer(q *Queue, service string) *Server {
	if q == nil || service == "" {
		panic("exceptions: NewServer needs a queue and a service name")
	}
	return &Server{queue: q, service: service}
}

func (s *Server) check(service string) error {
	if service != s.service {
		return fault.Invalidf("WRONG_SERVICE", "service", "this is the %s service, not %s", s.service, service)
	}
	return nil
}

func (s *Server) ListExceptions(ctx context.Context, req *opsv1.ListExceptionsRequest) (*opsv1.ListExceptionsResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	f := Filter{Kind: req.GetKind(), Reason: req.GetReason(), LegalEntityID: req.GetLegalEntityId(), Limit: int(req.GetPageSize())}
	switch req.GetStatus() {
	case opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN:
		f.Status = StatusOpen
	case opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED:
		f.Status = StatusResolved
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if tok := req.GetPageToken(); tok != "" {
		id, key, err := paging.DecodeID(tok)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, key)
		if err != nil {
			return nil, fault.Invalidf(paging.ReasonInvalidToken, "page_token", "the page token is not one this service issued")
		}
		f.BeforeID, f.BeforeTime = id, t
	}
	f.Limit++
	list, err := s.queue.List(ctx, f)
	f.Limit--
	if err != nil {
		return nil, err
	}
	resp := &opsv1.ListExceptionsResponse{}
	if len(list) > f.Limit {
		last := list[f.Limit-1]
		resp.NextPageToken = paging.Encode(last.ID, last.CreatedAt.Format(time.RFC3339Nano))
		list = list[:f.Limit]
	}
	for _, e := range list {
		resp.Exceptions = append(resp.Exceptions, ToProto(e))
	}
	return resp, nil
}

// GetException returns one exception with its payload (costs masked without costrates:read).
func (s *Server) GetException(ctx context.Context, req *opsv1.GetExceptionRequest) (*opsv1.GetExceptionResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	e, err := s.queue.Get(ctx, req.GetExceptionId())
	if err != nil {
		return nil, err
	}
	out := ToProto(e)
	out.PayloadJson = PayloadJSON(e.Payload, canSeeCosts(ctx))
	return &opsv1.GetExceptionResponse{Exception: out}, nil
}

func (s *Server) RetryException(ctx context.Context, req *opsv1.RetryExceptionRequest) (*opsv1.RetryExceptionResponse, error) {
	e, err := s.one(req.GetService(), func() (Exception, error) {
		return s.queue.Retry(ctx, req.GetExceptionId(), auth.Actor(ctx))
	})
	if err != nil {
		return nil, err
	}
	return &opsv1.RetryExceptionResponse{Exception: e}, nil
}

func (s *Server) ResolveException(ctx context.Context, req *opsv1.ResolveExceptionRequest) (*opsv1.ResolveExceptionResponse, error) {
	e, err := s.one(req.GetService(), func() (Exception, error) {
		return s.queue.Resolve(ctx, req.GetExceptionId(), auth.Actor(ctx), req.GetNote())
	})
	if err != nil {
		return nil, err
	}
	return &opsv1.ResolveExceptionResponse{Exception: e}, nil
}

// one checks that the request is for this service and runs op on one exception.
func (s *Server) one(service string, op func() (Exception, error)) (*opsv1.Exception, error) {
	if err := s.check(service); err != nil {
		return nil, err
	}
	e, err := op()
	if err != nil {
		return nil, err
	}
	return ToProto(e), nil
}

// ToProto converts an exception to its contract form (the payload is not exposed).
func ToProto(e Exception) *opsv1.Exception {
	st := opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN
	if e.Status == StatusResolved {
		st = opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED
	}
	return &opsv1.Exception{
		ExceptionId: e.ID, Kind: e.Kind, Reason: e.Reason, Message: e.Message,
		EntityType: e.EntityType, EntityId: e.EntityID, CorrelationId: e.CorrelationID,
		Status: st, Attempts: int32(e.Attempts),
		CreateTime: timestamppb.New(e.CreatedAt), UpdateTime: timestamppb.New(e.UpdatedAt),
		ResolvedBy: e.ResolvedBy, ResolutionNote: e.ResolutionNote, LegalEntityId: e.LegalEntityID,
	}
}

// ListProcessedEvents answers from the service's inbox (stream_inbox) which of the given events
// its consumer groups applied: reconciliation's "published = consumed" check asks every
// subscribing service through it.
func (s *Server) ListProcessedEvents(ctx context.Context, req *opsv1.ListProcessedEventsRequest) (*opsv1.ListProcessedEventsResponse, error) {
	if err := s.check(req.GetService()); err != nil {
		return nil, err
	}
	// The inbox's key is (group, event id): walk the few groups (a loose index scan) and look
	// each id up in each, rather than scanning a week of inbox rows.
	rows, err := s.queue.pool.Query(ctx, `WITH RECURSIVE groups AS (
			SELECT min(consumer_group) AS g FROM stream_inbox
			UNION ALL
			SELECT (SELECT min(consumer_group) FROM stream_inbox WHERE consumer_group > groups.g) FROM groups WHERE groups.g IS NOT NULL)
		SELECT i.event_id::text, i.consumer_group, i.processed_at FROM groups
		JOIN stream_inbox i ON i.consumer_group = groups.g AND i.event_id = ANY($1::uuid[])
		ORDER BY 1, 2`, req.GetEventIds())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	resp := &opsv1.ListProcessedEventsResponse{}
	for rows.Next() {
		var id, group string
		var at time.Time
		if err := rows.Scan(&id, &group, &at); err != nil {
			return nil, err
		}
		resp.Events = append(resp.Events, &opsv1.ProcessedEvent{EventId: id, ConsumerGroup: group, ProcessTime: timestamppb.New(at)})
	}
	return resp, rows.Err()
}
