// Package exec is the vectorized execution layer: SQL data types mapped onto Arrow, expression
// evaluation over whole columns, the scalar function registry, and the push-based operators (scan,
// filter, project, hash aggregate, hash join, sort, limit, union, explode) that both batch and
// streaming queries run on.
//
// Contracts every file here follows:
//   - Expressions: Expr.Eval returns an array of exactly rec.NumRows() rows that the caller owns and
//     must Release. Inputs are borrowed.
//   - Operators: see Operator. Push and Flush borrow the record they are handed; an operator that keeps
//     a record past the call Retains it. A record passed to emit is borrowed by the callee for the
//     duration of the call; the emitting operator Releases it after emit returns.
//   - Errors are returned, never panicked; a kernel that meets bad data (division by zero, a failed
//     cast) returns an error naming the function and the value.
//
// exec imports only watermark (and Arrow).
package exec
