package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// maxTracked is the size from which a tracked file must be generated or a fixture.
const maxTracked = 1 << 20

// maxGoLines is the most lines a hand-written Go file (tests included) may have: past it, split
// the file by topic.
const maxGoLines = 400

// checkHygiene reports tracked files over maxTracked outside gen/ that are not fixtures, and
// stream names or event types written as string literals in the services' Go code (they come
// from the generated constants of the event catalogue).
func checkHygiene(root string) ([]string, error) {
	out, err := gitCmd(root, "ls-files", "-z")
	if err != nil {
		return nil, err
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	var problems []string
	for _, f := range files {
		st, err := os.Stat(filepath.Join(root, f))
		if err != nil || st.IsDir() {
			continue // deleted in the work tree, or a submodule
		}
		if p := largeFile(f, st.Size()); p != "" {
			problems = append(problems, p)
		}
		if p := longGoFile(root, f); p != "" {
			problems = append(problems, p)
		}
	}
	names, err := catalogueNames(root)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if !strings.HasPrefix(f, "services/") || !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		problems = append(problems, literalViolations(f, src, names)...)
	}
	return problems, nil
}

func gitCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v", strings.Join(args, " "), err)
	}
	return out, nil
}

// largeFile reports path when it is too large to be tracked as hand-written source.
func largeFile(path string, size int64) string {
	if size <= maxTracked || strings.HasPrefix(path, "gen/") || strings.HasPrefix(path, "testdata/") ||
		strings.Contains(path, "/testdata/") || strings.Contains(strings.ToLower(path), "fixture") {
		return ""
	}
	return fmt.Sprintf("%s: %.1f MB tracked (over 1 MB, not under gen/, not a fixture or testdata)", path, float64(size)/(1<<20))
}

// catalogueNames maps every stream name and event type of the generated event catalogues
// (gen/go/accrue/*/v1/events_catalogue.pb.go) to the constant that spells it, e.g.
// "billing.events" → "billingv1.EventStream".
func catalogueNames(root string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(root, "gen/go/accrue/*/*/events_catalogue.pb.go"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no generated event catalogue under %s/gen/go (%v)", root, err)
	}
	names := map[string]string{}
	for _, p := range paths {
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i >= len(vs.Values) || (n.Name != "EventStream" && !strings.HasPrefix(n.Name, "EventType")) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						names[v] = f.Name.Name + "." + n.Name
					}
				}
			}
		}
	}
	return names, nil
}

// literalViolations reports the string literals of a Go source that spell a catalogue name.
// Generated files are skipped, and so is the Action of an audit record (`Action: "period.closed"`):
// audit actions are their own vocabulary, some of whose words are also event types.
func literalViolations(path string, src []byte, names map[string]string) []string {
	if isGenerated(src) {
		return nil
	}
	fset := token.NewFileSet()
	file := fset.AddFile(path, -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0)
	var out []string
	var prev [2]string // the two tokens before this one
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		before := prev
		prev = [2]string{before[1], tok.String() + lit}
		if tok != token.STRING || before == [2]string{"IDENTAction", ":"} {
			continue
		}
		v, err := strconv.Unquote(lit)
		if err != nil {
			continue
		}
		if c, ok := names[v]; ok {
			out = append(out, fmt.Sprintf("%s:%d: %q written as a literal: use %s", path, fset.Position(pos).Line, v, c))
		}
	}
	return out
}

func isGenerated(src []byte) bool {
	for line := range bytes.Lines(src) {
		if bytes.HasPrefix(line, []byte("package ")) {
			return false
		}
		if bytes.HasPrefix(line, []byte("// Code generated ")) && bytes.Contains(line, []byte("DO NOT EDIT")) {
			return true
		}
	}
	return false
}

// longGoFile reports a hand-written Go file (not under gen/) of more than maxGoLines lines.
func longGoFile(root, f string) string {
	if !strings.HasSuffix(f, ".go") || strings.HasPrefix(f, "gen/") {
		return ""
	}
	src, err := os.ReadFile(filepath.Join(root, f))
	if err != nil {
		return ""
	}
	if n := bytes.Count(src, []byte("\n")); n > maxGoLines {
		return fmt.Sprintf("%s: %d lines, more than %d: split it by topic", f, n, maxGoLines)
	}
	return ""
}
