package checks_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/accrue/accrue/deploy/checks"
)

// TestEventKeysFollowTheContracts: every service's Deployment (and the dispatcher's) mounts the event verification key
// of each producer whose events it consumes, as the contracts declare them (the stream and the
// consumers of each payload's (accrue.common.v1.event) option), and its own signing key. A
// consumer without a producer's key dead-letters every event of that producer
// (EVENT_SIGNATURE_INVALID), which no other check would see before a cluster does.
func TestEventKeysFollowTheContracts(t *testing.T) {
	dir := root(t)
	files, err := filepath.Glob(filepath.Join(dir, "proto", "accrue", "*", "v1", "*.proto"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no contracts found: %v", err)
	}
	option := regexp.MustCompile(`(?s)option \(accrue\.common\.v1\.event\) = \{(.*?)\};`)
	stream := regexp.MustCompile(`stream: "([a-z]+)\.events"`)
	consumer := regexp.MustCompile(`consumers: "([a-z]+)"`)
	needs := map[string]map[string]bool{} // consumer → producers
	// The dispatcher consumes every domain stream (catalogue.Streams()), whatever the consumers say.
	needs[checks.Dispatcher] = map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range option.FindAllStringSubmatch(string(b), -1) {
			s := stream.FindStringSubmatch(m[1])
			if s == nil {
				continue
			}
			needs[checks.Dispatcher][s[1]] = true
			for _, c := range consumer.FindAllStringSubmatch(m[1], -1) {
				if needs[c[1]] == nil {
					needs[c[1]] = map[string]bool{}
				}
				needs[c[1]][s[1]] = true
			}
		}
	}
	if len(needs) == 0 {
		t.Fatal("no consumers declared in the contracts: the pattern no longer matches them")
	}
	services, err := checks.Services(dir)
	if err != nil {
		t.Fatal(err)
	}
	for svc, producers := range needs {
		b, err := os.ReadFile(filepath.Join(dir, "deploy", "k8s", "base", svc+".yaml"))
		if err != nil {
			t.Errorf("%s consumes events but has no manifest: %v", svc, err)
			continue
		}
		producers[svc] = true // its own key signs what it publishes
		if producers["ops"] {
			// ops.events (exception.opened) is written by every service, each signing with its own
			// key: its consumers need every service's key, and there is no "ops" key.
			delete(producers, "ops")
			for _, s := range services {
				producers[s] = true
			}
		}
		for p := range producers {
			if !strings.Contains(string(b), "name: "+p+"-event-keys") {
				t.Errorf("deploy/k8s/base/%s.yaml: %s consumes %s's events but does not mount %s-event-keys", svc, svc, p, p)
			}
		}
	}
}
