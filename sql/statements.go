package sql

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Stmt is a parsed statement.
type Stmt interface{ stmt() }

// ColumnDef is one column of CREATE TABLE or CREATE SOURCE. A computed column (CREATE SOURCE
// only: name AS expression) has Computed set and no Type until BindComputed types it.
type ColumnDef struct {
	Name     string
	Type     arrow.DataType
	Pos      int
	Computed *ComputedExpr
}

// Option is one key = 'value' pair of a WITH (...) clause; keys are lower-case.
type Option struct {
	Key, Value string
	Pos        int
}

// CreateTable is CREATE TABLE [IF NOT EXISTS] name (cols) [WITH (options)].
type CreateTable struct {
	Name        string
	IfNotExists bool
	Columns     []ColumnDef
	Options     []Option
	// Query is set for CREATE TABLE name AS query: the columns and rows come from running it
	// once as a batch query (Columns and Options are then empty).
	Query *Query
}

// ObjectKind names what a DROP or SHOW is about.
type ObjectKind string

const (
	KindTable            ObjectKind = "TABLE"
	KindSource           ObjectKind = "SOURCE"
	KindSink             ObjectKind = "SINK"
	KindMaterializedView ObjectKind = "MATERIALIZED VIEW"
	KindQuery            ObjectKind = "QUERY"
	KindView             ObjectKind = "VIEW"
)

// Drop is DROP TABLE|SOURCE|SINK|MATERIALIZED VIEW|VIEW [IF EXISTS] name [CASCADE|RESTRICT].
// Cascade also drops the (plain) views that read the object.
type Drop struct {
	Kind     ObjectKind
	Name     string
	IfExists bool
	Cascade  bool
}

// CreateView is CREATE [OR REPLACE] VIEW name [(columns)] AS query: a stored query that every
// statement naming the view expands in its place when it is bound.
type CreateView struct {
	Name      string
	OrReplace bool
	Columns   []string
	Query     *Query
	// QueryText is the query's SQL as written: the view's definition, parsed again at each use.
	QueryText string
}

// Delete is DELETE FROM table [[AS] alias] [WHERE cond].
type Delete struct {
	Table    string
	TablePos int
	Alias    string
	Where    Expr // nil: every row
	src      string
}

// Assignment is one column = expression of UPDATE ... SET.
type Assignment struct {
	Column string
	Pos    int
	Value  Expr
}

// Update is UPDATE table [[AS] alias] SET col = expr [, ...] [WHERE cond].
type Update struct {
	Table    string
	TablePos int
	Alias    string
	Set      []Assignment
	Where    Expr // nil: every row
	src      string
}

// Show is SHOW TABLES | SOURCES | SINKS | MATERIALIZED VIEWS | QUERIES.
type Show struct{ Kind ObjectKind }

// WatermarkDef is WATERMARK FOR column AS column - INTERVAL ...: the column's event time minus
// Delay microseconds.
type WatermarkDef struct {
	Column string
	Delay  int64
	Pos    int
}

// CreateSource is CREATE SOURCE name (columns [, WATERMARK FOR ...]) WITH (options).
type CreateSource struct {
	Name        string
	IfNotExists bool
	Columns     []ColumnDef
	Watermark   *WatermarkDef
	Options     []Option
}

// CreateSink is CREATE SINK name WITH (options) AS query, or CREATE MATERIALIZED VIEW name
// [WITH (options)] AS query (View true). Both start a continuous query named after the object.
type CreateSink struct {
	Name        string
	View        bool
	IfNotExists bool
	Options     []Option
	Query       *Query
	// QueryText is the query's SQL as written, kept for SHOW QUERIES and checkpoints.
	QueryText string
}

// StopQuery is STOP QUERY name: the query stops after its running epoch; its checkpoint and
// (for a view) its result table stay until DROP.
type StopQuery struct {
	Name string
	Pos  int
}

// DescribeQuery is DESCRIBE QUERY name: the latest progress of a continuous query.
type DescribeQuery struct {
	Name string
	Pos  int
}

// Describe is DESCRIBE name (also DESC name, SHOW COLUMNS FROM name).
type Describe struct {
	Name string
	Pos  int
}

// Explain is EXPLAIN <query>, or EXPLAIN CREATE SINK/MATERIALIZED VIEW (Sink set), which shows
// the incremental plan of the continuous query.
type Explain struct {
	Query *Query
	Sink  *CreateSink
}

// Subscribe is SUBSCRIBE [TO] name or SUBSCRIBE [TO] (query): stream the changes of a
// materialized view, or of a query run as a temporary one (Query set, QueryText its SQL).
type Subscribe struct {
	Name      string
	Query     *Query
	QueryText string
	Pos       int
}

// CTE is one WITH name AS (query) definition.
type CTE struct {
	Name    string
	Columns []string
	Body    *Query
	Pos     int
}

// Query is a SELECT, set operation or VALUES with optional CTEs, in our AST (ast.go). src is the
// statement text its positions refer to.
type Query struct {
	With []CTE
	body QueryBody
	src  string
}

// Insert is INSERT INTO table [(cols)] VALUES ... | SELECT ...
type Insert struct {
	Table     string
	TablePos  int
	Columns   []string
	ColumnPos []int
	rows      [][]Expr // VALUES rows, or nil
	ValuesPos int
	Query     *Query // INSERT ... SELECT, or nil
	src       string
}

func (*CreateTable) stmt()   {}
func (*Drop) stmt()          {}
func (*Show) stmt()          {}
func (*CreateSource) stmt()  {}
func (*CreateSink) stmt()    {}
func (*DescribeQuery) stmt() {}
func (*StopQuery) stmt()     {}
func (*Describe) stmt()      {}
func (*Explain) stmt()       {}
func (*Query) stmt()         {}
func (*Insert) stmt()        {}
func (*Subscribe) stmt()     {}
func (*CreateView) stmt()    {}
func (*Delete) stmt()        {}
func (*Update) stmt()        {}

// Option returns the value of key and whether it was given.
func (c *CreateTable) Option(key string) (string, bool) { return findOption(c.Options, key) }

// Option returns the value of key and whether it was given.
func (c *CreateSource) Option(key string) (string, bool) { return findOption(c.Options, key) }

// Option returns the value of key and whether it was given.
func (c *CreateSink) Option(key string) (string, bool) { return findOption(c.Options, key) }

func findOption(opts []Option, key string) (string, bool) {
	for _, o := range opts {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}
