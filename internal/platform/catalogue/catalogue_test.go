package catalogue_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
)

// The generated constants and the proto options are one catalogue: every type a package lists
// is declared on its stream, and the stream carries no other.
func TestCatalogueMatchesTheGeneratedConstants(t *testing.T) {
	t.Parallel()
	for stream, types := range map[string][]string{
		billingv1.EventStream:     billingv1.EventTypes,
		customerv1.EventStream:    customerv1.EventTypes,
		projectv1.EventStream:     projectv1.EventTypes,
		resourcev1.EventStream:    resourcev1.EventTypes,
		timeexpensev1.EventStream: timeexpensev1.EventTypes,
	} {
		want := slices.Sorted(slices.Values(types))
		if got := catalogue.Types(stream); !slices.Equal(got, want) {
			t.Errorf("Types(%s) = %v, want %v", stream, got, want)
		}
	}
	if got := catalogue.Types("nobody.events"); len(got) != 0 {
		t.Errorf("Types of an undeclared stream = %v", got)
	}
}

func TestPayloadNamesTheDeclaredMessage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		stream, typ string
		want        proto.Message
	}{
		{timeexpensev1.EventStream, timeexpensev1.EventTypeTimeEntriesApproved, &timeexpensev1.EntriesApproved{}},
		{billingv1.EventStream, billingv1.EventTypePeriodOpened, &billingv1.PeriodChanged{}},
		{billingv1.EventStream, billingv1.EventTypePeriodClosed, &billingv1.PeriodChanged{}},
		{customerv1.EventStream, customerv1.EventTypeCustomerUpserted, &customerv1.CustomerUpserted{}},
	} {
		got, ok := catalogue.Payload(c.stream, c.typ)
		if want := c.want.ProtoReflect().Descriptor().FullName(); !ok || got != want {
			t.Errorf("Payload(%s, %s) = %s, %v; want %s", c.stream, c.typ, got, ok, want)
		}
	}
	for _, c := range [][2]string{
		{timeexpensev1.EventStream, "time_entries.approvedd"},               // renamed
		{billingv1.EventStream, timeexpensev1.EventTypeTimeEntriesApproved}, // another stream's type
		{"nobody.events", timeexpensev1.EventTypeTimeEntriesApproved},       // undeclared stream
	} {
		if got, ok := catalogue.Payload(c[0], c[1]); ok {
			t.Errorf("Payload(%s, %s) = %s, want unknown", c[0], c[1], got)
		}
	}
}

func TestDeclares(t *testing.T) {
	t.Parallel()
	period := &billingv1.PeriodChanged{}
	for _, c := range []struct {
		payload     proto.Message
		stream, typ string
		want        bool
	}{
		{period, billingv1.EventStream, billingv1.EventTypePeriodOpened, true},
		{period, billingv1.EventStream, billingv1.EventTypePeriodClosed, true},
		{period, billingv1.EventStream, billingv1.EventTypeContractChanged, false},
		{period, projectv1.EventStream, billingv1.EventTypePeriodOpened, false},
		{wrapperspb.String("x"), billingv1.EventStream, billingv1.EventTypePeriodOpened, false},
	} {
		if got := catalogue.Declares(c.payload, c.stream, c.typ); got != c.want {
			t.Errorf("Declares(%T, %s, %s) = %v, want %v", c.payload, c.stream, c.typ, got, c.want)
		}
	}
	spec, ok := catalogue.SpecOf(period.ProtoReflect().Descriptor())
	if !ok || spec.GetStream() != billingv1.EventStream || len(spec.GetTypes()) != 2 {
		t.Fatalf("SpecOf(PeriodChanged) = %v, %v", spec, ok)
	}
	if _, ok := catalogue.SpecOf(wrapperspb.String("x").ProtoReflect().Descriptor()); ok {
		t.Fatal("SpecOf a message without the option reported a spec")
	}
}

// Consumers names the services whose groups apply an event, as the contracts declare them: what
// reconciliation checks every published event against.
func TestConsumersAreTheDeclaredSubscribers(t *testing.T) {
	for _, c := range []struct {
		stream, typ string
		want        []string
	}{
		{timeexpensev1.EventStream, timeexpensev1.EventTypeTimeEntriesApproved, []string{"billing"}},
		{customerv1.EventStream, "customer.upserted", []string{"billing", "project"}},
		{timeexpensev1.EventStream, "no.such.type", nil},
	} {
		if got := catalogue.Consumers(c.stream, c.typ); !slices.Equal(got, c.want) {
			t.Errorf("Consumers(%s, %s) = %v, want %v", c.stream, c.typ, got, c.want)
		}
	}
}
