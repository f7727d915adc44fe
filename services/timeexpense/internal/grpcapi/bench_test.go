package grpcapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/services/timeexpense/internal/events"
)

// BenchmarkImportRPC imports month-end files of 5,000 approved entries (200 resources) through the
// gRPC API, over the real interceptor chain (token check, protovalidate of every item) and a real
// database, and reports items per second.
func BenchmarkImportRPC(b *testing.B) {
	f := serve(b)
	f.apply(b, events.Projects(f.uc), envelope(b, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{Project: &projectv1.Project{
		ProjectId: project, LegalEntityId: leReject, Status: projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE, Version: 1,
		Tasks: []*projectv1.Task{{TaskId: billTask, Billable: true}}}}))
	known := map[string]int64{}
	for r := range 200 {
		known[fmt.Sprintf("01a2210c-0000-7000-8000-%012d", 1000+r)] = 1
	}
	if err := f.uc.ApplyResources(context.Background(), known); err != nil {
		b.Fatal(err)
	}
	const size = 5000
	files := make([]*timeexpensev1.ImportApprovedEntriesRequest, b.N)
	for n := range files {
		req := &timeexpensev1.ImportApprovedEntriesRequest{Items: make([]*timeexpensev1.ImportItem, size)}
		for i := range size {
			d := civil.Date{Year: 2026, Month: time.January, Day: 1}.AddDays(n*(size/200) + i/200)
			in := timeIn(fmt.Sprintf("01a2210c-0000-7000-8000-%012d", 1000+i%200), civilpb.To(d), "1.5")
			in.ExternalReference = ref(fmt.Sprintf("B%d-%d", n, i))
			req.Items[i] = timeItem(in)
		}
		files[n] = req
	}
	ctx := f.Ctx(approver)
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		resp, err := f.c.ImportApprovedEntries(ctx, files[n])
		if err != nil {
			b.Fatal(err)
		}
		if resp.GetAccepted() != size {
			b.Fatalf("accepted %d of %d: %v", resp.GetAccepted(), size, resp.GetResults()[0])
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(size*b.N)/elapsed.Seconds(), "items/s")
}
