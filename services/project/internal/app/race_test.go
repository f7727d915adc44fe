package app_test

import (
	"context"
	"testing"

	"github.com/accrue/accrue/services/project/internal/project"
)

// Two instances convert the same opportunity at once: the second read "never converted" before
// the first wrote, so its one-round-trip write loses on the conversion's primary key as a whole;
// it then converges through the locking transaction and answers UNCHANGED from the first's
// records. One project, one conversion, one set of events.
func TestSecondInstanceLosingTheFirstWriteConvergesOnTheWinner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	slow := e.customers.blocked()
	second := e.instance(slow)
	opp := opportunity("006T", 1)

	type answer struct {
		res project.ConversionResult
		err error
	}
	late := make(chan answer, 1)
	go func() {
		res, err := second.Convert(ctx, opp)
		late <- answer{res, err}
	}()
	<-slow.entered // the second instance has read the conversion (none) and calls the customer service

	won, err := e.uc.Convert(ctx, opp)
	if err != nil || won.Outcome != project.OutcomeCreated {
		t.Fatalf("first instance: %+v, %v; want CREATED", won, err)
	}
	close(slow.release)
	lost := <-late
	if lost.err != nil {
		t.Fatalf("second instance: %v", lost.err)
	}
	if lost.res.Outcome != project.OutcomeUnchanged || lost.res.Project.ID != won.Project.ID || lost.res.Contract.ID != won.Contract.ID ||
		lost.res.Customer.ID != won.Customer.ID || lost.res.ProjectStatus != project.Active {
		t.Fatalf("second instance %+v, want UNCHANGED naming the first's customer %s, contract %s and project %s (ACTIVE)",
			lost.res, won.Customer.ID, won.Contract.ID, won.Project.ID)
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM projects`:                                1,
		`SELECT count(*) FROM tasks`:                                   won.TaskCount,
		`SELECT count(*) FROM opportunity_conversions`:                 1,
		`SELECT count(*) FROM outbox`:                                  2, // created, activated
		`SELECT count(*) FROM audit_log WHERE entity_type = 'project'`: 2,
	} {
		if n := e.count(t, sql); n != want {
			t.Errorf("%s: %d, want %d", sql, n, want)
		}
	}
}
