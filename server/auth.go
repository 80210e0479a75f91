package server

import (
	"crypto/rand"
	"errors"
	"fmt"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
	"github.com/jeroenrinzema/psql-wire/pkg/types"
	"github.com/xdg-go/scram"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: the password never crosses the
// wire, and a server that does not know it cannot fake a successful exchange to the client.
// psql-wire only offers cleartext passwords, so the server runs the exchange on psql-wire's
// reader and writer; the SCRAM computations are github.com/xdg-go/scram's, and the password is
// normalised with SASLprep (github.com/xdg-go/stringprep) as PostgreSQL and libpq do, so
// non-ASCII passwords work with every client. Channel binding (SCRAM-SHA-256-PLUS) is not
// offered.

const scramIterations = 4096

// Authentication request codes (the int32 after 'R').
const (
	authOK           = 0
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
)

// scramVerifier holds what the server keeps of the password: the salt and the derived keys (no
// password).
type scramVerifier struct {
	server *scram.Server
}

func newScramVerifier(password string) (*scramVerifier, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	// PostgreSQL: a password that SASLprep refuses (prohibited or unassigned characters) is
	// used as its raw bytes; libpq does the same on the client side.
	client, err := scram.SHA256.NewClient("", password, "")
	if err != nil {
		if client, err = scram.SHA256.NewClientUnprepped("", password, ""); err != nil {
			return nil, err
		}
	}
	creds, err := client.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: scramIterations})
	if err != nil {
		return nil, err
	}
	// One password serves every user name; PostgreSQL clients send an empty SCRAM user name
	// anyway (the startup message names the user).
	srv, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
	if err != nil {
		return nil, err
	}
	return &scramVerifier{server: srv}, nil
}

// errAuthFailed is what a client with a wrong password sees, whatever went wrong.
func authFailed(user string) error {
	return pgerror.WithSeverity(pgerror.WithCode(fmt.Errorf("password authentication failed for user %q", user), codes.InvalidPassword), pgerror.LevelFatal)
}

// errLoginFailed marks an exchange the client completed with a wrong or malformed answer: it
// counts against the client's login rate limit (a dropped connection does not).
var errLoginFailed = errors.New("login failed")

// authenticate runs the SCRAM exchange. On failure it has written a FATAL ErrorResponse; for a
// failed exchange (errLoginFailed) it calls failed first, so the failure is counted before the
// client can see it and try again.
// Contract: the returned error never holds what the client sent (a client answering with a
// cleartext password puts the password where the mechanism name goes), because the connection
// error reaches the log; the SCRAM library's own errors are not passed on for the same reason.
func (v *scramVerifier) authenticate(user string, r *buffer.Reader, w *buffer.Writer, failed func()) error {
	fail := func(reason error) error {
		failed()
		_ = writeFatal(w, authFailed(user))
		return fmt.Errorf("SCRAM authentication of %q failed: %w (%w)", user, reason, errLoginFailed)
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authSASL)
	w.AddString("SCRAM-SHA-256")
	w.AddNullTerminate()
	w.AddNullTerminate()
	if err := w.End(); err != nil {
		return err
	}
	// SASLInitialResponse: mechanism, length, client-first-message.
	if _, err := readPasswordMessage(r); err != nil {
		return err
	}
	mech, err := r.GetString()
	if err != nil {
		return fail(errors.New("malformed SASLInitialResponse"))
	}
	if mech != "SCRAM-SHA-256" {
		return fail(errors.New("the client did not answer with SCRAM-SHA-256 (a cleartext password or another mechanism)"))
	}
	n, err := r.GetInt32()
	if err != nil || n < 0 || int(n) > len(r.Msg) {
		return fail(errors.New("malformed SASLInitialResponse"))
	}
	conv := v.server.NewConversation()
	serverFirst, err := conv.Step(string(r.Msg[:n]))
	if err != nil {
		return fail(errors.New("malformed client-first-message"))
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authSASLContinue)
	w.AddBytes([]byte(serverFirst))
	if err := w.End(); err != nil {
		return err
	}
	// SASLResponse: client-final-message.
	if _, err := readPasswordMessage(r); err != nil {
		return err
	}
	serverFinal, err := conv.Step(string(r.Msg))
	if err != nil || !conv.Valid() {
		return fail(errors.New("wrong password, or a malformed or mismatched client-final-message"))
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authSASLFinal)
	w.AddBytes([]byte(serverFinal))
	if err := w.End(); err != nil {
		return err
	}
	return writeAuthOK(w)
}

func readPasswordMessage(r *buffer.Reader) (int, error) {
	t, n, err := r.ReadTypedMsg()
	if err != nil {
		return 0, err
	}
	if t != types.ClientPassword {
		return 0, fmt.Errorf("expected a SASL response message, got %q", byte(t))
	}
	return n, nil
}

// writeFatal sends a FATAL ErrorResponse before the connection is dropped.
func writeFatal(w *buffer.Writer, err error) error {
	return wire.WriteUnterminatedError(w, pgerror.WithSeverity(err, pgerror.LevelFatal))
}

func writeAuthOK(w *buffer.Writer) error {
	w.Start(types.ServerAuth)
	w.AddInt32(authOK)
	return w.End()
}
