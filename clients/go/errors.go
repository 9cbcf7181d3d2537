package diskdb

import (
	"errors"
	"strings"
)

// Nil is returned when the reply is null: a missing key, field or member, or
// an empty list popped. Like go-redis's redis.Nil, it is not a failure.
var Nil = errors.New("diskdb: nil")

var (
	// ErrWrongType matches (with errors.Is) a WRONGTYPE error reply: the
	// command does not apply to the type of the key.
	ErrWrongType = errors.New("diskdb: WRONGTYPE")
	// ErrAuth matches (with errors.Is) a NOAUTH or WRONGPASS error reply.
	ErrAuth = errors.New("diskdb: authentication failed")
	// ErrClosed is returned by calls on a closed Client.
	ErrClosed = errors.New("diskdb: client is closed")
	// ErrProtocol wraps malformed replies.
	ErrProtocol = errors.New("diskdb: protocol error")
	// ErrTxAborted is returned when EXEC answers null (a WATCHed key changed).
	ErrTxAborted = errors.New("diskdb: transaction aborted")
)

// Error is an error reply from the server, such as
// "WRONGTYPE Operation against a key holding the wrong kind of value".
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

// Code is the first word of the message: "ERR", "WRONGTYPE", "NOAUTH"...
func (e *Error) Code() string {
	code, _, _ := strings.Cut(e.Message, " ")
	return code
}

// Is makes errors.Is(err, ErrWrongType) and errors.Is(err, ErrAuth) work.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrWrongType:
		return e.Code() == "WRONGTYPE"
	case ErrAuth:
		code := e.Code()
		return code == "NOAUTH" || code == "WRONGPASS"
	}
	return false
}
