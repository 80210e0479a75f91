package sql

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/xwb1989/sqlparser"
)

// Stmt is a parsed statement.
type Stmt interface{ stmt() }

// ColumnDef is one column of CREATE TABLE.
type ColumnDef struct {
	Name string
	Type arrow.DataType
	Pos  int
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
}

// DropTable is DROP TABLE [IF EXISTS] name.
type DropTable struct {
	Name     string
	IfExists bool
}

// ShowTables is SHOW TABLES.
type ShowTables struct{}

// Describe is DESCRIBE name (also DESC name, SHOW COLUMNS FROM name).
type Describe struct {
	Name string
	Pos  int
}

// Explain is EXPLAIN <query>.
type Explain struct{ Query *Query }

// CTE is one WITH name AS (query) definition.
type CTE struct {
	Name    string
	Columns []string
	Body    *Query
}

// Query is a SELECT (or UNION) with optional CTEs. The body is held in the parser library's form,
// which only this package reads.
type Query struct {
	With []CTE
	body sqlparser.SelectStatement
	src  string
	toks []Token
}

// Insert is INSERT INTO table [(cols)] VALUES ... | SELECT ...
type Insert struct {
	Table   string
	Columns []string
	rows    sqlparser.Values // VALUES rows, or nil
	Query   *Query           // INSERT ... SELECT, or nil
	src     string
	toks    []Token
}

func (*CreateTable) stmt() {}
func (*DropTable) stmt()   {}
func (*ShowTables) stmt()  {}
func (*Describe) stmt()    {}
func (*Explain) stmt()     {}
func (*Query) stmt()       {}
func (*Insert) stmt()      {}

// Option returns the value of key and whether it was given.
func (c *CreateTable) Option(key string) (string, bool) {
	for _, o := range c.Options {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}
