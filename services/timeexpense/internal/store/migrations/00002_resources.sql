-- +goose Up
-- Replica of the resources entries may name (resource events): only their existence matters here.
CREATE TABLE resources (
    id      uuid PRIMARY KEY,
    version bigint NOT NULL
);

-- +goose Down
DROP TABLE resources;
