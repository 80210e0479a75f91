// Package pgcatalog presents the engine's catalog as PostgreSQL's system catalogs: pg_catalog
// (pg_class, pg_attribute, pg_type, pg_namespace, pg_proc, pg_settings, pg_database, pg_roles,
// ...) and information_schema (tables, columns, schemata, views, routines), so psql's \d family,
// JDBC's DatabaseMetaData, DBeaver, Grafana and other clients that inspect a PostgreSQL server
// see streamsql's tables, sources, sinks and materialized views.
//
// The relations are virtual: each scan builds its rows from a snapshot of the catalog taken for
// the statement (Catalog) and the statement's session (exec.Session), so they are never out of
// step with the objects and need no maintenance. They are ordinary relations to the binder:
// any query may join, filter and sort them.
//
// How streamsql's objects appear (pg_class.relkind):
//
//	table               'r' table
//	source              'r' table (a stream: a batch SELECT over it fails, a continuous query reads it)
//	materialized view   'm' materialized view (its result table, kept current by its query)
//	sink                'v' view (a named continuous query; its rows go to the sink's connector)
//	view                'v' view (CREATE VIEW: a stored query, expanded where it is named)
//
// Sources are tables rather than foreign tables because psql's \d for a foreign table asks for
// FDW options with array subqueries the engine does not evaluate; the description
// (obj_description, \d+) says "source" and names the connector.
//
// OIDs are stable per object: user objects get a hash of their name in the user range (from
// 16384), catalog relations fixed OIDs by their place in this package's list, types
// PostgreSQL's own OIDs, and the single role streamsql has the bootstrap superuser's (10).
package pgcatalog
