package stream_test

import (
	"strings"
	"testing"
	"time"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/stream"
)

func TestConsumerConfigValidation(t *testing.T) {
	t.Parallel()
	minimal := stream.Config{Stream: "s", Group: "g", Types: []string{"t"}, Undeclared: true}
	if err := minimal.Validate(); err != nil {
		t.Fatalf("minimal config refused: %v", err)
	}
	if err := (stream.Config{}).Validate(); err == nil {
		t.Fatal("empty config accepted")
	}
	slow := minimal
	slow.Block = 10 * time.Second
	if err := slow.Validate(); err == nil {
		t.Fatal("Block at the Redis read timeout accepted")
	}
	untyped := minimal
	untyped.Types = nil
	if err := untyped.Validate(); err == nil || !strings.Contains(err.Error(), "Types is required") {
		t.Fatalf("config without Types: %v, want Types is required", err)
	}
	e := newEnv(t)
	h := newRecorder().handle
	noGroup := minimal
	noGroup.Group = ""
	if _, err := stream.NewConsumer(noGroup, e.rdb, e.db.Pool, e.queue, h, quietLogger()); err == nil {
		t.Fatal("NewConsumer accepted a config without a group")
	}
	if _, err := stream.NewConsumer(minimal, e.rdb, e.db.Pool, nil, h, quietLogger()); err == nil {
		t.Fatal("NewConsumer accepted a nil exception queue")
	}
	if _, err := stream.NewConsumer(minimal, e.rdb, e.db.Pool, e.queue, nil, quietLogger()); err == nil {
		t.Fatal("NewConsumer accepted a nil handler")
	}
}

// Types are checked against the event catalogue: a handler cannot subscribe to a type no
// contract declares on its stream (a typo, or a type that was renamed).
func TestConsumerConfigRefusesTypesTheStreamDoesNotDeclare(t *testing.T) {
	t.Parallel()
	declared := stream.Config{Stream: timeexpensev1.EventStream, Group: "billing", Types: timeexpensev1.EventTypes}
	if err := declared.Validate(); err != nil {
		t.Fatalf("the declared types of %s refused: %v", timeexpensev1.EventStream, err)
	}
	for _, typ := range []string{"time_entries.approvedd", "project.created"} {
		cfg := declared
		cfg.Types = []string{timeexpensev1.EventTypeTimeEntriesApproved, typ}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), typ) {
			t.Errorf("Types with %q on %s: %v, want an error naming it", typ, timeexpensev1.EventStream, err)
		}
	}
	// A stream no contract declares is refused unless the config says so (platform tests).
	stranger := stream.Config{Stream: "nobody.events", Group: "billing", Types: []string{"x.happened"}}
	if err := stranger.Validate(); err == nil {
		t.Fatal("a type on an undeclared stream accepted without Undeclared")
	}
	stranger.Undeclared = true
	if err := stranger.Validate(); err != nil {
		t.Fatalf("Undeclared stream refused: %v", err)
	}
}
