package grpcapi_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/servicetest"
)

// BenchmarkJournalExport exports ACCRUE_BENCH_EXPORT_LINES (default 1,000,000) journal lines of
// one legal entity over gRPC, in JSON lines and CSV, with the billing server in this process. It
// reports lines/s, the peak Go heap in use while exporting (sampled every 10 ms) for the whole
// export and for a tenth of it (flat memory: the two peaks match), the process's peak RSS
// (VmHWM), and the run's pgbench single-row insert and redis XADD ceilings with the ratio.
//
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench JournalExport -benchtime 1x -timeout 30m ./services/billing/internal/grpcapi/
func BenchmarkJournalExport(b *testing.B) {
	lines := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("ACCRUE_BENCH_EXPORT_LINES")); err == nil && v > 0 {
		lines = v
	}
	env, cl := startExport(b)
	us := entity(b, env, cl, "US01", "USD")
	postEntries(b, context.Background(), env.DB.Pool, us, "bench", lines/2)
	if _, err := env.DB.Pool.Exec(context.Background(), `ANALYZE journal_lines; ANALYZE journal_entries`); err != nil {
		b.Fatal(err)
	}
	waitExportable(b, env.DB.Pool, us)
	pgCeil, redisCeil := exportCeilings(b, env)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+env.Token(exportScope...))

	for _, f := range []struct {
		name   string
		format billingv1.JournalExportFormat
	}{{"jsonl", jsonl}, {"csv", csvFormat}} {
		b.Run(f.name, func(b *testing.B) {
			var rate float64
			var peakAll, peakTenth uint64
			for range b.N {
				runtime.GC()
				peakTenth, _, _ = exportMeasured(b, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: f.format, MaxLines: int64(lines / 10)})
				runtime.GC()
				var n int64
				var took time.Duration
				peakAll, n, took = exportMeasured(b, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: f.format})
				if n != int64(lines) {
					b.Fatalf("exported %d lines, want %d", n, lines)
				}
				rate = float64(n) / took.Seconds()
			}
			b.ReportMetric(rate, "lines/s")
			b.ReportMetric(float64(peakAll)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peakTenth)/(1<<20), "peak-heap-tenth-MB")
			b.ReportMetric(float64(vmHWM(b))/1024, "peak-rss-MB")
			b.ReportMetric(pgCeil, "ceiling-pg-inserts/s")
			b.ReportMetric(redisCeil, "ceiling-redis-xadd/s")
			if pgCeil > 0 {
				b.ReportMetric(rate/pgCeil, "ratio-lines-per-pg-insert")
			}
		})
	}
}

// exportMeasured runs an export, discarding its bytes, and returns the peak heap in use while it
// ran, the lines and the time taken.
func exportMeasured(b *testing.B, ctx context.Context, cl exportClients, req *billingv1.ExportJournalRequest) (uint64, int64, time.Duration) {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	stream, err := cl.x.ExportJournal(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n += m.GetLines()
	}
	took := time.Since(start)
	close(done)
	return peak.Load(), n, took
}

// vmHWM is the process's peak resident set, in kB.
func vmHWM(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// exportCeilings measures the run's pgbench single-row insert rate on the test database and
// redis-benchmark's XADD rate on a private key, as e2e's ceilings do.
func exportCeilings(b *testing.B, env *servicetest.Env) (pgInserts, redisXadd float64) {
	if _, err := env.DB.Pool.Exec(context.Background(), `CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, v text)`); err != nil {
		b.Fatal(err)
	}
	script := b.TempDir() + "/insert.sql"
	if err := os.WriteFile(script, []byte("INSERT INTO bench_ceiling (v) VALUES ('x');\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-c", "2", "-j", "2", "-T", "5", "-f", script, env.DB.Name).CombinedOutput(); err == nil {
		if m := regexp.MustCompile(`tps = ([0-9.]+)`).FindStringSubmatch(string(out)); m != nil {
			pgInserts, _ = strconv.ParseFloat(m[1], 64)
		}
	} else {
		b.Logf("pgbench unavailable: %v", err)
	}
	if out, err := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", "6379", "-n", "200000", "-c", "4", "-q",
		"XADD", env.Prefix+"bench.ceiling", "MAXLEN", "~", "1000", "*", "f", "v").CombinedOutput(); err == nil {
		if m := regexp.MustCompile(`([0-9.]+) requests per second`).FindStringSubmatch(string(out)); m != nil {
			redisXadd, _ = strconv.ParseFloat(m[1], 64)
		}
	} else {
		b.Logf("redis-benchmark unavailable: %v", err)
	}
	return pgInserts, redisXadd
}
