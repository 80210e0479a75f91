package exec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kernel computes a scalar function over whole columns. args have the types Bound.Args declared and
// n rows each; the result (owned by the caller) has n rows of type Bound.Ret.
type Kernel func(ctx *Ctx, args []arrow.Array, n int) (arrow.Array, error)

// Bound is a function resolved for concrete argument types.
type Bound struct {
	// Args are the types the arguments must have; the planner casts any argument whose type differs.
	Args []arrow.DataType
	Ret  arrow.DataType
	// Kernel evaluates the function.
	Kernel Kernel
	// Volatile functions (now(), random) are never constant-folded.
	Volatile bool
	// Infix renders the call as "a op b" in EXPLAIN.
	Infix bool
}

// Function is an entry of the scalar function registry. Operators (+, =, AND, LIKE, ...) are
// functions too, so the binder types every expression through this one table.
type Function struct {
	Name string
	// Usage is shown in errors, e.g. "substring(str VARCHAR, start BIGINT[, len BIGINT])".
	Usage string
	// Bind resolves argument types; it returns an error that names the function and the types it
	// got when they do not fit.
	Bind func(args []arrow.DataType) (*Bound, error)
}

// registry holds the built-in functions. It is filled by the register calls in this package's
// init functions and never changes afterwards.
var registry = map[string]*Function{}

func register(f *Function) {
	if _, dup := registry[f.Name]; dup {
		panic("exec: function registered twice: " + f.Name) // programming error at init, not input
	}
	registry[f.Name] = f
}

// LookupFunction finds a function by name, case-insensitively.
func LookupFunction(name string) (*Function, bool) {
	f, ok := registry[strings.ToLower(name)]
	return f, ok
}

// FunctionNames lists the registered functions whose names are identifiers (not operators), sorted:
// for tab completion and "did you mean" suggestions.
func FunctionNames() []string {
	var out []string
	for n := range registry {
		if n != "" && (n[0] >= 'a' && n[0] <= 'z') {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// BindCall resolves name for the argument types: the one call the planner makes per function.
func BindCall(name string, args []arrow.DataType) (*Bound, error) {
	f, ok := LookupFunction(name)
	if !ok {
		return nil, Errorf(CodeUndefinedFunction, "unknown function %s", name)
	}
	b, err := f.Bind(args)
	if err != nil && SQLState(err) == "" {
		// No signature takes these arguments: PostgreSQL's "function/operator does not exist".
		return nil, &Error{Code: CodeUndefinedFunction, Msg: err.Error()}
	}
	return b, err
}

// ArgTypeError is the standard message for arguments a function cannot take.
func ArgTypeError(f string, usage string, args []arrow.DataType) error {
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = TypeName(a)
	}
	msg := fmt.Sprintf("function %s does not accept (%s)", f, strings.Join(names, ", "))
	if usage != "" {
		msg += "; usage: " + usage
	}
	return fmt.Errorf("%s", msg)
}
