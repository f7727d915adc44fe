// Command housecheck enforces the house rules of the repository that the compiler does not:
//
//	housecheck imports   the import rules of ARCHITECTURE.md §9, over every module of go.work
//	housecheck hygiene   no large tracked files; no stream or event-type literals in services
//	housecheck migrations  no migration drops, renames or retypes a table or column (expand/contract)
//
// Run it from the repository root (make check-imports, make check-hygiene). It prints every
// violation and exits 1 when there is any.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: housecheck imports|hygiene|migrations")
		os.Exit(2)
	}
	var (
		problems []string
		err      error
	)
	switch os.Args[1] {
	case "imports":
		problems, err = checkImports(".")
	case "hygiene":
		problems, err = checkHygiene(".")
	case "migrations":
		problems, err = checkMigrations(".")
	default:
		fmt.Fprintf(os.Stderr, "housecheck: unknown check %q\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "housecheck %s: %v\n", os.Args[1], err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "housecheck %s: %d violation(s)\n", os.Args[1], len(problems))
		os.Exit(1)
	}
	fmt.Printf("housecheck %s: ok\n", os.Args[1])
}
