package store

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/services/project/internal/project"
)

// templateTask is the stored form of a template's task (an element of project_templates.tasks).
type templateTask struct {
	Key       string `json:"key"`
	ParentKey string `json:"parent_key,omitempty"`
	Name      string `json:"name"`
	Billable  bool   `json:"billable"`
}

const selectTemplates = `SELECT service_line, name, tasks FROM project_templates
	WHERE cardinality($1::text[]) = 0 OR service_line = ANY($1) ORDER BY service_line`

// Templates returns the templates of the given service lines (all when none given).
func (s *Store) Templates(ctx context.Context, lines ...string) (map[string]project.Template, error) {
	rows, err := s.Q(ctx).Query(ctx, selectTemplates, lines)
	if err != nil {
		return nil, err
	}
	return scanTemplates(rows)
}

func scanTemplates(rows pgx.Rows) (map[string]project.Template, error) {
	defer rows.Close()
	out := map[string]project.Template{}
	for rows.Next() {
		var t project.Template
		var raw []byte
		if err := rows.Scan(&t.ServiceLine, &t.Name, &raw); err != nil {
			return nil, err
		}
		var tasks []templateTask
		if err := json.Unmarshal(raw, &tasks); err != nil {
			return nil, err
		}
		for _, tt := range tasks {
			t.Tasks = append(t.Tasks, project.TemplateTask{Key: tt.Key, ParentKey: tt.ParentKey, Name: tt.Name, Billable: tt.Billable})
		}
		out[t.ServiceLine] = t
	}
	return out, rows.Err()
}

// PutTemplate creates or replaces a template.
func (s *Store) PutTemplate(ctx context.Context, t project.Template) error {
	tasks := make([]templateTask, len(t.Tasks))
	for i, tt := range t.Tasks {
		tasks[i] = templateTask{Key: tt.Key, ParentKey: tt.ParentKey, Name: tt.Name, Billable: tt.Billable}
	}
	raw, err := json.Marshal(tasks)
	if err != nil {
		return err
	}
	_, err = s.Q(ctx).Exec(ctx, `INSERT INTO project_templates (service_line, name, tasks) VALUES ($1, $2, $3)
		ON CONFLICT (service_line) DO UPDATE SET name = EXCLUDED.name, tasks = EXCLUDED.tasks, updated_at = now()`,
		t.ServiceLine, t.Name, raw)
	return err
}
