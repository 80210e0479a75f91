package server

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
	"github.com/jeroenrinzema/psql-wire/pkg/types"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: the password never crosses the
// wire, and a server that does not know it cannot fake a successful exchange to the client.
// psql-wire only offers cleartext passwords, so the exchange is implemented here on its reader
// and writer. Channel binding (SCRAM-SHA-256-PLUS) is not offered.

const scramIterations = 4096

// Authentication request codes (the int32 after 'R').
const (
	authOK           = 0
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
)

// scramVerifier holds what the server keeps of the password: the salt and the derived keys.
type scramVerifier struct {
	salt      []byte
	storedKey []byte
	serverKey []byte
}

func newScramVerifier(password string) (*scramVerifier, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return nil, err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return &scramVerifier{salt: salt, storedKey: stored[:], serverKey: hmacSHA256(salted, "Server Key")}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
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
// error reaches the log.
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
		return fail(err)
	}
	if mech != "SCRAM-SHA-256" {
		return fail(errors.New("the client did not answer with SCRAM-SHA-256 (a cleartext password or another mechanism)"))
	}
	n, err := r.GetInt32()
	if err != nil || n < 0 || int(n) > len(r.Msg) {
		return fail(errors.New("malformed SASLInitialResponse"))
	}
	clientFirst := string(r.Msg[:n])
	gs2, bare, ok := cutGS2(clientFirst)
	if !ok {
		return fail(errors.New("malformed client-first-message"))
	}
	clientNonce := scramAttr(bare, "r")
	if clientNonce == "" {
		return fail(errors.New("client-first-message without nonce"))
	}
	nonceBytes := make([]byte, 18)
	if _, err := rand.Read(nonceBytes); err != nil {
		return err
	}
	nonce := clientNonce + base64.StdEncoding.EncodeToString(nonceBytes)
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%d", nonce, base64.StdEncoding.EncodeToString(v.salt), scramIterations)
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
	clientFinal := string(r.Msg)
	withoutProof, proofB64, ok := strings.Cut(clientFinal, ",p=")
	if !ok {
		return fail(errors.New("client-final-message without proof"))
	}
	if scramAttr(withoutProof, "c") != base64.StdEncoding.EncodeToString([]byte(gs2)) || scramAttr(withoutProof, "r") != nonce {
		return fail(errors.New("channel binding or nonce mismatch"))
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return fail(errors.New("malformed proof"))
	}
	authMessage := bare + "," + serverFirst + "," + withoutProof
	signature := hmacSHA256(v.storedKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	for i := range clientKey {
		clientKey[i] = proof[i] ^ signature[i]
	}
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], v.storedKey) != 1 {
		return fail(errors.New("wrong password"))
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authSASLFinal)
	w.AddBytes([]byte("v=" + base64.StdEncoding.EncodeToString(hmacSHA256(v.serverKey, authMessage))))
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

// cutGS2 splits a client-first-message into its GS2 header ("n,," or "y,,") and the bare part.
// "p=..." (channel binding required by the client) is refused: the server does not offer it.
func cutGS2(msg string) (gs2, bare string, ok bool) {
	if !strings.HasPrefix(msg, "n,") && !strings.HasPrefix(msg, "y,") {
		return "", "", false
	}
	i := strings.Index(msg[2:], ",")
	if i < 0 {
		return "", "", false
	}
	return msg[:2+i+1], msg[2+i+1:], true
}

// scramAttr returns the value of attribute key ("r", "c", ...) of a comma-separated message.
func scramAttr(msg, key string) string {
	for _, part := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(part, key+"="); ok {
			return v
		}
	}
	return ""
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
