#!/bin/sh
# One database per service, owned by its owner role, which applies its migrations
# (ACCRUE_MIGRATE_DATABASE_URL); the service runs as its app role (ACCRUE_DATABASE_URL), which
# the migrations grant what it needs (docs/configuration.md, Database roles). A service never
# reads another service's database (ARCHITECTURE.md). The postgres image runs this once, when it
# initialises an empty data volume; the development password of every role is POSTGRES_PASSWORD.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pw="$POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE accrue_customer_owner LOGIN PASSWORD :'pw';
CREATE ROLE accrue_customer_app LOGIN PASSWORD :'pw';
CREATE DATABASE accrue_customer OWNER accrue_customer_owner;
REVOKE CONNECT ON DATABASE accrue_customer FROM PUBLIC;
CREATE ROLE accrue_project_owner LOGIN PASSWORD :'pw';
CREATE ROLE accrue_project_app LOGIN PASSWORD :'pw';
CREATE DATABASE accrue_project OWNER accrue_project_owner;
REVOKE CONNECT ON DATABASE accrue_project FROM PUBLIC;
CREATE ROLE accrue_resource_owner LOGIN PASSWORD :'pw';
CREATE ROLE accrue_resource_app LOGIN PASSWORD :'pw';
CREATE DATABASE accrue_resource OWNER accrue_resource_owner;
REVOKE CONNECT ON DATABASE accrue_resource FROM PUBLIC;
CREATE ROLE accrue_timeexpense_owner LOGIN PASSWORD :'pw';
CREATE ROLE accrue_timeexpense_app LOGIN PASSWORD :'pw';
CREATE DATABASE accrue_timeexpense OWNER accrue_timeexpense_owner;
REVOKE CONNECT ON DATABASE accrue_timeexpense FROM PUBLIC;
CREATE ROLE accrue_billing_owner LOGIN PASSWORD :'pw';
CREATE ROLE accrue_billing_app LOGIN PASSWORD :'pw';
CREATE DATABASE accrue_billing OWNER accrue_billing_owner;
REVOKE CONNECT ON DATABASE accrue_billing FROM PUBLIC;
CREATE ROLE accrue_dispatcher_owner LOGIN PASSWORD :'pw';
CREATE ROLE accrue_dispatcher_app LOGIN PASSWORD :'pw';
CREATE DATABASE accrue_dispatcher OWNER accrue_dispatcher_owner;
REVOKE CONNECT ON DATABASE accrue_dispatcher FROM PUBLIC;
SQL
