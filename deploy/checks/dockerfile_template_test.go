package checks_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/accrue/accrue/deploy/checks"
)

// TestServiceDockerfilesAgree keeps the five service Dockerfiles one template: the same text
// once each one's name and ports are replaced.
func TestServiceDockerfilesAgree(t *testing.T) {
	t.Parallel()
	services, err := checks.Services(root(t))
	if err != nil {
		t.Fatal(err)
	}
	norm := map[string]string{}
	for _, s := range services {
		b, err := os.ReadFile(filepath.Join(root(t), "deploy/docker", s+".Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		// The workspace's go.mod lines name every module; TestDockerfiles checks them against go.work.
		text := regexp.MustCompile(`(?m)^COPY \S+/go\.mod \S+/go\.sum \S+\n`).ReplaceAllString(string(b), "")
		text = regexp.MustCompile(`\b`+s+`\b`).ReplaceAllString(text, "SVC")
		text = regexp.MustCompile(`\b(7|9)\d{3}\b`).ReplaceAllString(text, "PORT")
		norm[s] = text
	}
	// The text most of them share is the template; report the ones that stray from it.
	count := map[string]int{}
	for _, text := range norm {
		count[text]++
	}
	template, most := "", 0
	for text, n := range count {
		if n > most {
			template, most = text, n
		}
	}
	for _, s := range services {
		if norm[s] != template {
			t.Errorf("deploy/docker/%s.Dockerfile strays from the other services' Dockerfiles (beyond its name and ports); - template, + %s:\n%s", s, s, firstDiff(template, norm[s]))
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  - %s\n  + %s", i+1, x, y)
		}
	}
	return ""
}
