// Command benchdoc rewrites the "Latest runs" section of docs/benchmarks.md from `go test -bench`
// output: one table per benchmark that ran, with the run's date, commit, Go version and cores, so
// the figures in the docs always come from a run and say which. Benchmarks that did not run keep
// their last table. Run by deploy/local/bench.sh (make bench).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
)

const (
	begin = "<!-- latest-runs:begin (written by make bench; do not edit) -->"
	end   = "<!-- latest-runs:end -->"
)

// result is one benchmark line: its name and metrics in the order printed.
type result struct {
	name    string
	metrics [][2]string
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func parse(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := line.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		r := result{name: strings.TrimPrefix(m[1], "Benchmark")}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			if f[i+1] == "ns/op" && f[i] == "0" {
				continue
			}
			r.metrics = append(r.metrics, [2]string{f[i+1], f[i]})
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// sections splits the block between the markers into per-benchmark tables keyed by name.
func sections(block string) map[string]string {
	out := map[string]string{}
	var name string
	var b strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSpace(b.String())
		}
		b.Reset()
	}
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(l, "### ") {
			flush()
			name = strings.TrimPrefix(l, "### ")
		}
		if name != "" {
			b.WriteString(l + "\n")
		}
	}
	flush()
	return out
}

func main() {
	in := flag.String("in", "", "go test -bench output")
	doc := flag.String("doc", "docs/benchmarks.md", "document to update")
	commit := flag.String("commit", "", "commit measured")
	cores := flag.String("cores", "", "cores of the machine")
	goVersion := flag.String("go", "", "Go version")
	flag.Parse()
	results, err := parse(*in)
	if err != nil {
		log.Fatal(err)
	}
	raw, err := os.ReadFile(*doc)
	if err != nil {
		log.Fatal(err)
	}
	text := string(raw)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		text = strings.TrimRight(text, "\n") + "\n\n## Latest runs\n\n" + begin + "\n" + end + "\n"
		i, j = strings.Index(text, begin), strings.Index(text, end)
	}
	kept := sections(text[i+len(begin) : j])
	stamp := time.Now().UTC().Format("2006-01-02 15:04 MST")
	for _, r := range results {
		var b strings.Builder
		fmt.Fprintf(&b, "### %s\n\n%s, commit `%s`, %s, %s cores.\n\n| metric | value |\n|---|---|\n", r.name, stamp, *commit, *goVersion, *cores)
		for _, m := range r.metrics {
			fmt.Fprintf(&b, "| %s | %s |\n", m[0], m[1])
		}
		kept[r.name] = strings.TrimSpace(b.String())
	}
	names := make([]string, 0, len(kept))
	for n := range kept {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(begin + "\n")
	for _, n := range names {
		b.WriteString("\n" + kept[n] + "\n")
	}
	b.WriteString("\n" + end)
	text = text[:i] + b.String() + text[j+len(end):]
	if err := os.WriteFile(*doc, []byte(text), 0o644); err != nil {
		log.Fatal(err)
	}
}
