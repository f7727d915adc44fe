package store

import (
	"embed"
	"io/fs"

	"github.com/accrue/accrue/internal/platform/pgstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the dispatcher's migration files (goose, applied at start and by `migrate`).
func Migrations() fs.FS { return pgstore.Migrations(migrations) }
