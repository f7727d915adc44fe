// Package checks verifies Accrue's deployment artefacts without a container engine or a cluster:
// the Dockerfiles under deploy/docker (parsed with BuildKit's own parser), the compose file under
// deploy/compose (loaded with compose-go), and the kustomize overlays under deploy/k8s (built with
// kustomize's Go API and decoded strictly into the Kubernetes API types).
//
// The environment each program needs is derived from the code, not from a table: envscan.go reads
// the Go sources of every main (and the service package's LoadConfig) and finds each ACCRUE_
// variable, whether it is required (read with Required, or with a loopback default that only
// suits `make run`), and where it is read.
//
// Run with `make check-deploy` (part of `make test`).
package checks
