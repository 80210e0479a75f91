package exec

// Session is what the PostgreSQL-compatibility functions (current_user, current_setting,
// pg_get_userbyid, '...'::regclass, obj_description, ...) need to know about the client session
// and the catalog. The engine fills it per statement; it is read-only while the statement runs.
type Session struct {
	User     string // the connected role ("streamsql" for embedded and REPL use)
	Database string // the database the client asked for
	PID      int64  // pg_backend_pid(): the connection's process id as the server reports it
	// Settings are the session's parameters by lower-case name (server_version, search_path,
	// ...): current_setting reads them, pg_settings lists them.
	Settings map[string]string
	// Catalog resolves relation names and OIDs; nil means an empty catalog.
	Catalog CatalogInfo
}

// CatalogInfo is the part of the catalog the pg_catalog functions consult. OIDs are int64, the
// engine's type for PostgreSQL's oid.
type CatalogInfo interface {
	// RelationOID resolves a relation name as '...'::regclass does: optionally schema-qualified
	// (public., pg_catalog., information_schema.), double quotes keep case.
	RelationOID(name string) (int64, bool)
	// RelationName is oid::regclass::text: the name, qualified when not on the search path.
	RelationName(oid int64) (string, bool)
	// Description is obj_description(oid) (sub 0) and col_description(oid, attnum) (sub > 0).
	Description(oid, sub int64) (string, bool)
	// ViewDefinition is pg_get_viewdef(oid): the query of a sink.
	ViewDefinition(oid int64) (string, bool)
}

// BootstrapRoleOID is the OID of the one role streamsql has (PostgreSQL's bootstrap superuser
// OID): every object is owned by it, and it is named after the connected user.
const BootstrapRoleOID = 10

// session returns ctx's session, or for statements run outside one (tests, a bare Ctx) user and
// database "streamsql" with no settings and an empty catalog.
func (c *Ctx) session() *Session {
	if c == nil || c.Session == nil {
		return &Session{User: "streamsql", Database: "streamsql", Settings: map[string]string{}}
	}
	return c.Session
}

// The three schemas (namespaces) streamsql has, with PostgreSQL's OIDs for the first two.
const (
	NamespacePGCatalog         = 11
	NamespacePublic            = 2200
	NamespaceInformationSchema = 13000
)

// NamespaceName is oid::regnamespace::text.
func NamespaceName(oid int64) (string, bool) {
	switch oid {
	case NamespacePGCatalog:
		return "pg_catalog", true
	case NamespacePublic:
		return "public", true
	case NamespaceInformationSchema:
		return "information_schema", true
	}
	return "", false
}
