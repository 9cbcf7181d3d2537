package client

import (
	"errors"
	"strings"
)

// ErrNil is returned when the reply is null: a missing key, field or member,
// an empty list popped, a blocking command that timed out. Like go-redis's
// redis.Nil it is not a failure; compare with err == client.ErrNil or
// errors.Is(err, client.ErrNil).
var ErrNil = errors.New("diskdb: nil")

var (
	// ErrWrongType matches (with errors.Is) a WRONGTYPE error reply: the
	// command does not apply to the type of the key. See RedisError.IsWrongType.
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

// RedisError is an error reply from the server, such as
// "WRONGTYPE Operation against a key holding the wrong kind of value".
// Methods return it as a *RedisError:
//
//	var e *client.RedisError
//	if errors.As(err, &e) && e.IsWrongType() { ... }
type RedisError struct {
	Message string
}

func (e *RedisError) Error() string { return e.Message }

// Code is the first word of the message: "ERR", "WRONGTYPE", "NOAUTH"...
func (e *RedisError) Code() string {
	code, _, _ := strings.Cut(e.Message, " ")
	return code
}

// IsWrongType reports whether this is a WRONGTYPE error: the command does not
// apply to the type of the value stored at the key.
func (e *RedisError) IsWrongType() bool { return e.Code() == "WRONGTYPE" }

// IsAuth reports whether this is a NOAUTH or WRONGPASS error.
func (e *RedisError) IsAuth() bool {
	code := e.Code()
	return code == "NOAUTH" || code == "WRONGPASS"
}

// Is makes errors.Is(err, ErrWrongType) and errors.Is(err, ErrAuth) work.
func (e *RedisError) Is(target error) bool {
	switch target {
	case ErrWrongType:
		return e.IsWrongType()
	case ErrAuth:
		return e.IsAuth()
	}
	return false
}
