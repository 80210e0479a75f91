package pgcatalog

import (
	"sort"

	"github.com/streamsql/streamsql/exec"
)

// relations are the catalog relations, in a fixed order: a relation's OID is 1000 plus its
// index, so append new ones at the end of their list.
var relations []relation

const (
	pgc  = exec.NamespacePGCatalog
	info = exec.NamespaceInformationSchema
	role = exec.BootstrapRoleOID
)

func init() {
	relations = append(pgCatalogRelations(), informationSchemaRelations()...)
}

func pgCatalogRelations() []relation {
	return []relation{
		{pgc, "pg_namespace", "r", columns("oid oid, nspname name, nspowner oid, nspacl aclitem[]"), func(*Catalog, *exec.Session) [][]any {
			return [][]any{{pgc, "pg_catalog", role, nil}, {exec.NamespacePublic, "public", role, nil}, {info, "information_schema", role, nil}}
		}},
		{pgc, "pg_class", "r", columns("oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid xid, relminmxid xid, relacl aclitem[], reloptions text[], relpartbound pg_node_tree"),
			func(c *Catalog, _ *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					out = append(out, []any{e.oid, e.name, e.namespace, 0, 0, role, 0, 0, 0, 0, -1.0, 0, 0, false, false, "p", e.relkind, len(e.columns), 0, false, false, false, false, false, true, "d", false, 0, 0, 0, nil, nil, nil})
				}
				return out
			}},
		{pgc, "pg_attribute", "r", columns("attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, attgenerated char, attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, attacl aclitem[], attoptions text[], attfdwoptions text[], attmissingval text"),
			func(c *Catalog, _ *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					for i, col := range e.columns {
						oid, mod := exec.PGTypeOf(col.Type)
						t, _ := exec.LookupPGType(oid)
						storage, ndims := "p", 0
						if t.Len < 0 {
							storage = "x"
						}
						if t.Elem != 0 {
							ndims = 1
						}
						out = append(out, []any{e.oid, col.Name, oid, -1, t.Len, i + 1, ndims, -1, mod, t.Len > 0 && t.Len <= 8, "d", storage, "", col.NotNull, false, false, "", "", false, true, 0, 0, nil, nil, nil, nil})
					}
				}
				return out
			}},
		{pgc, "pg_type", "r", columns("oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript regproc, typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc, typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin pg_node_tree, typdefault text, typacl aclitem[]"),
			func(*Catalog, *exec.Session) [][]any {
				var out [][]any
				for _, t := range exec.PGTypes() {
					io := t.Name
					if t.Elem != 0 {
						io = "array"
					}
					storage := "p"
					if t.Len < 0 {
						storage = "x"
					}
					out = append(out, []any{t.OID, t.Name, pgc, role, t.Len, t.Len > 0 && t.Len <= 8, "b", t.Category, false, true, ",", 0, "-", t.Elem, t.Array, io + "_in", io + "_out", io + "_recv", io + "_send", "-", "-", "-", "i", storage, false, 0, -1, 0, 0, nil, nil, nil})
				}
				return out
			}},
		{pgc, "pg_index", "r", columns("indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey int2vector, indcollation oidvector, indclass oidvector, indoption int2vector, indexprs pg_node_tree, indpred pg_node_tree"), nil},
		{pgc, "pg_description", "r", columns("objoid oid, classoid oid, objsubid int4, description text"),
			func(c *Catalog, _ *exec.Session) [][]any {
				var out [][]any
				classOID, _ := c.RelationOID("pg_catalog.pg_class")
				for _, e := range c.all() {
					if e.obj != nil && e.obj.Description != "" {
						out = append(out, []any{e.oid, classOID, 0, e.obj.Description})
					}
				}
				return out
			}},
		{pgc, "pg_proc", "r", columns("oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, prorows float4, provariadic oid, prosupport regproc, prokind char, prosecdef bool, proleakproof bool, proisstrict bool, proretset bool, provolatile char, proparallel char, pronargs int2, pronargdefaults int2, prorettype oid, proargtypes oidvector, proallargtypes oid[], proargmodes char[], proargnames text[], proargdefaults pg_node_tree, protrftypes oid[], prosrc text, probin text, prosqlbody pg_node_tree, proconfig text[], proacl aclitem[]"),
			func(*Catalog, *exec.Session) [][]any {
				var out [][]any
				for _, f := range exec.PGFunctions() {
					ret, _ := exec.RegtypeIn(exec.FunctionResult(f.F))
					out = append(out, []any{f.OID, f.F.Name, pgc, role, 12, 1.0, 0.0, 0, "-", "f", false, false, false, false, "i", "s", 0, 0, ret, []int64{}, nil, nil, nil, nil, nil, f.F.Name, nil, nil, nil, nil})
				}
				return out
			}},
		{pgc, "pg_settings", "v", columns("name text, setting text, unit text, category text, short_desc text, extra_desc text, context text, vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text, reset_val text, sourcefile text, sourceline int4, pending_restart bool"),
			func(_ *Catalog, s *exec.Session) [][]any {
				names := make([]string, 0, len(s.Settings))
				for n := range s.Settings {
					names = append(names, n)
				}
				sort.Strings(names)
				var out [][]any
				for _, n := range names {
					v := s.Settings[n]
					out = append(out, []any{n, v, nil, "Client Connection Defaults", "", nil, "user", "string", "default", nil, nil, nil, v, v, nil, nil, false})
				}
				return out
			}},
		{pgc, "pg_database", "r", columns("oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid xid, datminmxid xid, dattablespace oid, datcollate text, datctype text, daticulocale text, datcollversion text, datacl aclitem[]"),
			func(_ *Catalog, s *exec.Session) [][]any {
				return [][]any{{DatabaseOID, s.Database, role, 6, "c", false, true, -1, 0, 0, 1663, "C", "C", nil, nil, nil}}
			}},
		{pgc, "pg_roles", "v", columns("rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, rolbypassrls bool, rolconfig text[], oid oid"),
			func(_ *Catalog, s *exec.Session) [][]any {
				return [][]any{{s.User, false, true, true, true, true, false, -1, "********", nil, false, nil, role}}
			}},
		{pgc, "pg_user", "v", columns("usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd text, valuntil timestamptz, useconfig text[]"),
			func(_ *Catalog, s *exec.Session) [][]any {
				return [][]any{{s.User, role, true, false, false, false, "********", nil, nil}}
			}},
		{pgc, "pg_attrdef", "r", columns("oid oid, adrelid oid, adnum int2, adbin pg_node_tree"), nil},
		{pgc, "pg_constraint", "r", columns("oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, connoinherit bool, conkey int2[], confkey int2[], conpfeqop oid[], conppeqop oid[], conffeqop oid[], confdelsetcols int2[], conexclop oid[], conbin pg_node_tree"), nil},
		{pgc, "pg_inherits", "r", columns("inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool"), nil},
		{pgc, "pg_am", "r", columns("oid oid, amname name, amhandler regproc, amtype char"), func(*Catalog, *exec.Session) [][]any {
			return [][]any{{2, "heap", "heap_tableam_handler", "t"}, {403, "btree", "bthandler", "i"}}
		}},
		{pgc, "pg_tablespace", "r", columns("oid oid, spcname name, spcowner oid, spcacl aclitem[], spcoptions text[]"), func(*Catalog, *exec.Session) [][]any {
			return [][]any{{1663, "pg_default", role, nil, nil}, {1664, "pg_global", role, nil, nil}}
		}},
		// No collations: strings compare bytewise (as COLLATE "C"), and columns name none (0).
		{pgc, "pg_collation", "r", columns("oid oid, collname name, collnamespace oid, collowner oid, collprovider char, collisdeterministic bool, collencoding int4, collcollate text, collctype text, colliculocale text, collversion text"), nil},
		{pgc, "pg_policy", "r", columns("oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles oid[], polqual pg_node_tree, polwithcheck pg_node_tree"), nil},
		{pgc, "pg_statistic_ext", "r", columns("oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, stxkeys int2vector, stxkind char[], stxexprs pg_node_tree"), nil},
		{pgc, "pg_publication", "r", columns("oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool"), nil},
		{pgc, "pg_publication_rel", "r", columns("oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector"), nil},
		{pgc, "pg_publication_namespace", "r", columns("oid oid, pnpubid oid, pnnspid oid"), nil},
		{pgc, "pg_rewrite", "r", columns("oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool, ev_qual pg_node_tree, ev_action pg_node_tree"), nil},
		{pgc, "pg_trigger", "r", columns("oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, tginitdeferred bool, tgnargs int2, tgattr int2vector, tgargs text, tgqual pg_node_tree, tgoldtable name, tgnewtable name"), nil},
		{pgc, "pg_foreign_table", "r", columns("ftrelid oid, ftserver oid, ftoptions text[]"), nil},
		{pgc, "pg_foreign_server", "r", columns("oid oid, srvname name, srvowner oid, srvfdw oid, srvtype text, srvversion text, srvacl aclitem[], srvoptions text[]"), nil},
		{pgc, "pg_extension", "r", columns("oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text, extconfig oid[], extcondition text[]"), nil},
		{pgc, "pg_enum", "r", columns("oid oid, enumtypid oid, enumsortorder float4, enumlabel name"), nil},
		{pgc, "pg_depend", "r", columns("classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype char"), nil},
		{pgc, "pg_language", "r", columns("oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool, lanplcallfoid oid, laninline oid, lanvalidator oid, lanacl aclitem[]"), func(*Catalog, *exec.Session) [][]any {
			return [][]any{{12, "internal", role, false, false, 0, 0, 0, nil}}
		}},
		{pgc, "pg_tables", "v", columns("schemaname name, tablename name, tableowner name, tablespace name, hasindexes bool, hasrules bool, hastriggers bool, rowsecurity bool"),
			func(c *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					if e.relkind == "r" {
						ns, _ := exec.NamespaceName(e.namespace)
						out = append(out, []any{ns, e.name, s.User, nil, false, false, false, false})
					}
				}
				return out
			}},
		{pgc, "pg_views", "v", columns("schemaname name, viewname name, viewowner name, definition text"),
			func(c *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					if e.relkind == "v" {
						ns, _ := exec.NamespaceName(e.namespace)
						out = append(out, []any{ns, e.name, s.User, definition(e)})
					}
				}
				return out
			}},
		{pgc, "pg_matviews", "v", columns("schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes bool, ispopulated bool, definition text"),
			func(c *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					if e.relkind == "m" {
						out = append(out, []any{"public", e.name, s.User, nil, false, true, definition(e)})
					}
				}
				return out
			}},
	}
}

// DatabaseOID is the OID of the one database pg_database lists (named after the database the
// client asked for).
const DatabaseOID = 5

func definition(e *entry) any {
	if e.obj == nil || e.obj.Definition == "" {
		return nil
	}
	return e.obj.Definition
}
