package exec

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Signature-based binding for functions with fixed parameter types: the first overload whose
// parameters accept the argument types wins, and the planner casts the arguments to the declared
// parameter types.

type overload struct {
	args []arrow.DataType
	ret  arrow.DataType
	k    Kernel
	// volatile marks functions that must not be constant-folded (now()).
	volatile bool
}

// implicitlyConverts reports whether a value of type got may be passed where want is declared:
// equal types, an untyped NULL, numeric widening (BIGINT -> DECIMAL -> DOUBLE), DATE -> TIMESTAMP.
func implicitlyConverts(got, want arrow.DataType) bool {
	if got.ID() == arrow.NULL || arrow.TypeEqual(got, want) {
		return true
	}
	if got.ID() == arrow.DECIMAL128 && want.ID() == arrow.DECIMAL128 {
		return true
	}
	if IsNumeric(got) && IsNumeric(want) {
		ct, ok := CommonType(got, want)
		return ok && ct.ID() == want.ID()
	}
	return got.ID() == arrow.DATE32 && want.ID() == arrow.TIMESTAMP
}

func matches(o overload, args []arrow.DataType) bool {
	if len(o.args) != len(args) {
		return false
	}
	for i, a := range args {
		if !implicitlyConverts(a, o.args[i]) {
			return false
		}
	}
	return true
}

// registerOverloads registers name with the given overloads, tried in order.
func registerOverloads(name, usage string, os ...overload) {
	register(&Function{Name: name, Usage: usage, Bind: func(args []arrow.DataType) (*Bound, error) {
		// Exact matches first so that e.g. abs(DOUBLE) does not bind to abs(DECIMAL) by accident.
		for pass := 0; pass < 2; pass++ {
			for _, o := range os {
				if pass == 0 && !exactMatch(o, args) || pass == 1 && !matches(o, args) {
					continue
				}
				return &Bound{Args: o.args, Ret: o.ret, Kernel: o.k, Volatile: o.volatile}, nil
			}
		}
		return nil, ArgTypeError(name, usage, args)
	}})
}

func exactMatch(o overload, args []arrow.DataType) bool {
	if len(o.args) != len(args) {
		return false
	}
	for i, a := range args {
		if a.ID() != o.args[i].ID() {
			return false
		}
	}
	return true
}

func types(ts ...arrow.DataType) []arrow.DataType { return ts }
