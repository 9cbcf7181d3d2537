package client

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// KeepTTL, passed as the expiration of Set, keeps the key's existing TTL.
const KeepTTL time.Duration = -1

// Z is a sorted-set member with its score.
type Z struct {
	Score  float64
	Member interface{}
}

// ZWithKey is a member popped by BZPopMin or BZPopMax, with its sorted set.
type ZWithKey struct {
	Z
	Key string
}

// call runs a command and converts its reply; every method goes through it.
func call[T any](ctx context.Context, c *Client, conv func(interface{}) (T, error), args ...interface{}) (T, error) {
	reply, err := c.Do(ctx, args...)
	return convert(reply, err, conv)
}

// callBlocking is call for a command that waits up to block on the server.
func callBlocking[T any](ctx context.Context, c *Client, block time.Duration, conv func(interface{}) (T, error), args ...interface{}) (T, error) {
	reply, err := c.doBlocking(ctx, block, args)
	return convert(reply, err, conv)
}

// seconds encodes the timeout of a blocking command in (fractional) seconds;
// 0 waits forever.
func seconds(timeout time.Duration) string {
	if timeout < 0 {
		timeout = 0
	}
	return strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)
}

// boolOrNil turns an ErrNil error (SET NX not done...) into false.
func boolOrNil(ok bool, err error) (bool, error) {
	if errors.Is(err, ErrNil) {
		return false, nil
	}
	return ok, err
}

// status runs a command whose reply is a status such as OK.
func status(ctx context.Context, c *Client, args ...interface{}) error {
	_, err := call(ctx, c, toStatus, args...)
	return err
}

// toArgs converts a slice of arguments to []interface{}.
func toArgs[T any](values []T) []interface{} {
	args := make([]interface{}, len(values))
	for i, v := range values {
		args[i] = v
	}
	return args
}

// cmd builds an argument list: the name, the fixed arguments, then rest.
func cmd[T any](name string, fixed []interface{}, rest []T) []interface{} {
	args := append([]interface{}{name}, fixed...)
	return append(args, toArgs(rest)...)
}

// flattenPairs expands field/value arguments given as one map or slice.
func flattenPairs(values []interface{}) []interface{} {
	if len(values) != 1 {
		return values
	}
	switch v := values[0].(type) {
	case map[string]interface{}:
		return mapArgs(v)
	case map[string]string:
		return mapArgs(v)
	case []string:
		return toArgs(v)
	case []interface{}:
		return v
	}
	return values
}

func mapArgs[V any](m map[string]V) []interface{} {
	args := make([]interface{}, 0, 2*len(m))
	for k, v := range m {
		args = append(args, k, v)
	}
	return args
}

// durationArgs encodes an expiration as EX seconds, or PX milliseconds when
// it is not a whole number of seconds.
func durationArgs(d time.Duration) []interface{} {
	switch {
	case d == KeepTTL:
		return []interface{}{"KEEPTTL"}
	case d <= 0:
		return nil
	case d%time.Second == 0:
		return []interface{}{"EX", int64(d / time.Second)}
	case d < time.Millisecond:
		return []interface{}{"PX", 1}
	}
	return []interface{}{"PX", int64(d / time.Millisecond)}
}
