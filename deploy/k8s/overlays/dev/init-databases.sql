-- One database per service: a service never reads another service's database (ARCHITECTURE.md).
-- The postgres image runs this once, when it initialises an empty data volume.
CREATE DATABASE accrue_customer;
CREATE DATABASE accrue_project;
CREATE DATABASE accrue_resource;
CREATE DATABASE accrue_timeexpense;
CREATE DATABASE accrue_billing;
