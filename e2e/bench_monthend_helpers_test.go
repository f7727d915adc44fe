package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// The month-end benchmark's load generator and measurements (see BenchmarkMonthEnd).

type importResult struct {
	accepted, duplicates, rejected int
	acceptedAt                     map[string]time.Time // entry id → when its call returned
}

// sendImports posts items in chunks from meSenders callers; every chunk's entries are stamped
// with the time its call returned (accepted). pace, when positive, spaces chunk starts.
func sendImports(tb testing.TB, env *harness.Env, token string, items []meItem, chunk, senders int, pace time.Duration) importResult {
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	type job struct{ items []meItem }
	jobs := make(chan job)
	res := importResult{acceptedAt: map[string]time.Time{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var b bytes.Buffer
				b.WriteString(`{"items":[`)
				for i, it := range j.items {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(it.json())
				}
				b.WriteString(`]}`)
				// A T&E tool retries a call the service asks it to retry (409, 503) with backoff.
				var resp *http.Response
				var err error
				for attempt := 0; ; attempt++ {
					req, _ := http.NewRequest(http.MethodPost, env.URL("/v1/time-entries:importApproved"), bytes.NewReader(b.Bytes()))
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err = client.Do(req)
					if err != nil || (resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusServiceUnavailable) || attempt == 5 {
						break
					}
					resp.Body.Close()
					time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
				}
				if err != nil {
					tb.Errorf("import: %v", err)
					continue
				}
				var out struct {
					Results []struct {
						EntryID string `json:"entry_id"`
						Outcome string `json:"outcome"`
						Reason  string `json:"reason"`
					} `json:"results"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				now := time.Now()
				if err != nil || resp.StatusCode != http.StatusOK {
					tb.Errorf("import: %d %v", resp.StatusCode, err)
					continue
				}
				mu.Lock()
				for _, r := range out.Results {
					switch r.Outcome {
					case "IMPORT_OUTCOME_ACCEPTED":
						res.accepted++
						res.acceptedAt[r.EntryID] = now
					case "IMPORT_OUTCOME_DUPLICATE":
						res.duplicates++
					default:
						res.rejected++
						if res.rejected <= 3 {
							tb.Logf("rejected: %s", r.Reason)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	next := time.Now()
	for i := 0; i < len(items); i += chunk {
		end := min(i+chunk, len(items))
		if pace > 0 {
			time.Sleep(time.Until(next))
			next = next.Add(pace)
		}
		jobs <- job{items: items[i:end]}
	}
	close(jobs)
	wg.Wait()
	return res
}

type dbStats struct{ commits, rows int64 }

// stats returns the commits and written rows (inserted + updated + deleted) of every service
// database.
func stats(tb testing.TB, env *harness.Env) map[string]dbStats {
	out := map[string]dbStats{}
	for _, s := range []string{"customer", "project", "resource", "timeexpense", "billing"} {
		var st dbStats
		err := env.DB(s).QueryRow(context.Background(), `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
			(SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables)`).Scan(&st.commits, &st.rows)
		if err != nil {
			tb.Fatal(err)
		}
		out[s] = st
	}
	return out
}

// postedAt returns when billing posted each entry of ids.
func postedAt(tb testing.TB, env *harness.Env, ids []string) map[string]time.Time {
	return timesByID(tb, env.DB("billing"), `SELECT source_id, updated_at FROM posting_results
		WHERE outcome = 'POSTED' AND source_id = ANY($1::text[])`, ids)
}

// acceptedAt returns when time & expense stored each entry of ids.
func acceptedAt(tb testing.TB, env *harness.Env, ids []string) map[string]time.Time {
	return timesByID(tb, env.DB("timeexpense"), `SELECT id::text, created_at FROM time_entries WHERE id = ANY($1::uuid[])`, ids)
}

// timesByID runs query (rows of id, time) with ids as its one argument.
func timesByID(tb testing.TB, db *pgxpool.Pool, query string, ids []string) map[string]time.Time {
	rows, err := db.Query(context.Background(), query, ids)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			tb.Fatal(err)
		}
		out[id] = at
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func waitPosted(tb testing.TB, env *harness.Env, want int, timeout time.Duration) {
	last := time.Now()
	harness.Eventually(tb, timeout, 100*time.Millisecond, func() error {
		n := env.Count("billing", `SELECT count(*) FROM posting_results WHERE outcome = 'POSTED'`)
		if time.Since(last) > 10*time.Second {
			tb.Logf("posted %d of %d", n, want)
			last = time.Now()
		}
		if n < want {
			return fmt.Errorf("posted %d of %d", n, want)
		}
		return nil
	})
}

// ceilings measures, in the same run, what the machine can do without Accrue: single-row inserts
// per second with pgbench (2 clients, synchronous commit on) and XADD per second with
// redis-benchmark.
// reportCeilings reports the run's ceilings beside rate (a figure in units per second) and the
// ratio rate ÷ the pgbench single-row insert rate, which stays comparable across the machine's
// hour-to-hour swings in speed.
func reportCeilings(b *testing.B, pgCeil, redisCeil, rate float64, unit string) {
	b.ReportMetric(pgCeil, "ceiling-pg-inserts/s")
	b.ReportMetric(redisCeil, "ceiling-redis-xadd/s")
	if pgCeil > 0 {
		b.ReportMetric(rate/pgCeil, "ratio-"+unit+"-per-pg-insert")
	}
}

func ceilings(tb testing.TB, env *harness.Env) (pgInserts, redisXadd float64) {
	db := env.Database("billing")
	if _, err := env.DB("billing").Exec(context.Background(), `CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, v text)`); err != nil {
		tb.Fatal(err)
	}
	script := tb.TempDir() + "/insert.sql"
	if err := os.WriteFile(script, []byte("INSERT INTO bench_ceiling (v) VALUES ('x');\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command("pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-c", "2", "-j", "2", "-T", "5", "-f", script, db).CombinedOutput(); err == nil {
		if m := regexp.MustCompile(`tps = ([0-9.]+)`).FindStringSubmatch(string(out)); m != nil {
			pgInserts, _ = strconv.ParseFloat(m[1], 64)
		}
	} else {
		tb.Logf("pgbench unavailable: %v", err)
	}
	_, prefix := env.Redis()
	if out, err := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", "6379", "-n", "200000", "-c", "4", "-q",
		"XADD", prefix+"bench.ceiling", "MAXLEN", "~", "1000", "*", "f", "v").CombinedOutput(); err == nil {
		if m := regexp.MustCompile(`([0-9.]+) requests per second`).FindStringSubmatch(string(out)); m != nil {
			redisXadd, _ = strconv.ParseFloat(m[1], 64)
		}
	} else {
		tb.Logf("redis-benchmark unavailable: %v", err)
	}
	return pgInserts, redisXadd
}
