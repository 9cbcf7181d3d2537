package client

import (
	"context"
	"time"
)

// ---- lists ----
//
// The blocking pops take a timeout (0: wait forever) and return ErrNil when
// it expires. The client's ReadTimeout is extended by that timeout for them.

// LPush prepends values and returns the new length.
func (c *Client) LPush(ctx context.Context, key string, values ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("LPUSH", []interface{}{key}, values)...)
}

// RPush appends values and returns the new length.
func (c *Client) RPush(ctx context.Context, key string, values ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("RPUSH", []interface{}{key}, values)...)
}

// LPushX prepends values only if the list exists; returns its length (0 if not).
func (c *Client) LPushX(ctx context.Context, key string, values ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("LPUSHX", []interface{}{key}, values)...)
}

// RPushX appends values only if the list exists; returns its length (0 if not).
func (c *Client) RPushX(ctx context.Context, key string, values ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("RPUSHX", []interface{}{key}, values)...)
}

// LPop removes and returns the first element, or ErrNil if the list is empty.
func (c *Client) LPop(ctx context.Context, key string) (string, error) {
	return call(ctx, c, toString, "LPOP", key)
}

// RPop removes and returns the last element, or ErrNil if the list is empty.
func (c *Client) RPop(ctx context.Context, key string) (string, error) {
	return call(ctx, c, toString, "RPOP", key)
}

// LPopCount removes and returns up to count elements from the head
// (ErrNil if the list is empty).
func (c *Client) LPopCount(ctx context.Context, key string, count int) ([]string, error) {
	return call(ctx, c, toStrings, "LPOP", key, count)
}

// RPopCount removes and returns up to count elements from the tail
// (ErrNil if the list is empty).
func (c *Client) RPopCount(ctx context.Context, key string, count int) ([]string, error) {
	return call(ctx, c, toStrings, "RPOP", key, count)
}

// LLen returns the length of the list.
func (c *Client) LLen(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "LLEN", key)
}

// LRange returns the elements between two inclusive indexes (negative: from the end).
func (c *Client) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return call(ctx, c, toStrings, "LRANGE", key, start, stop)
}

// LIndex returns the element at index (negative: from the end), or ErrNil.
func (c *Client) LIndex(ctx context.Context, key string, index int64) (string, error) {
	return call(ctx, c, toString, "LINDEX", key, index)
}

// LSet replaces the element at index.
func (c *Client) LSet(ctx context.Context, key string, index int64, value interface{}) error {
	return status(ctx, c, "LSET", key, index, value)
}

// LInsertBefore inserts value before the first pivot and returns the new
// length (-1 if pivot is not found, 0 if the list does not exist).
func (c *Client) LInsertBefore(ctx context.Context, key string, pivot, value interface{}) (int64, error) {
	return call(ctx, c, toInt64, "LINSERT", key, "BEFORE", pivot, value)
}

// LInsertAfter inserts value after the first pivot (see LInsertBefore).
func (c *Client) LInsertAfter(ctx context.Context, key string, pivot, value interface{}) (int64, error) {
	return call(ctx, c, toInt64, "LINSERT", key, "AFTER", pivot, value)
}

// LRem removes count occurrences of value (0: all; negative: from the tail)
// and returns how many were removed.
func (c *Client) LRem(ctx context.Context, key string, count int64, value interface{}) (int64, error) {
	return call(ctx, c, toInt64, "LREM", key, count, value)
}

// LTrim keeps only the elements between two inclusive indexes.
func (c *Client) LTrim(ctx context.Context, key string, start, stop int64) error {
	return status(ctx, c, "LTRIM", key, start, stop)
}

// LPos returns the index of the first element equal to value, or ErrNil.
func (c *Client) LPos(ctx context.Context, key string, value interface{}) (int64, error) {
	return call(ctx, c, toInt64, "LPOS", key, value)
}

// LMove pops an element from one end of source ("LEFT" or "RIGHT"), pushes
// it to one end of destination and returns it (ErrNil if source is empty).
func (c *Client) LMove(ctx context.Context, source, destination, srcpos, destpos string) (string, error) {
	return call(ctx, c, toString, "LMOVE", source, destination, srcpos, destpos)
}

// RPopLPush moves the last element of source to the head of destination and
// returns it (ErrNil if source is empty): the reliable-queue pattern.
func (c *Client) RPopLPush(ctx context.Context, source, destination string) (string, error) {
	return call(ctx, c, toString, "RPOPLPUSH", source, destination)
}

// BLPop pops the first element of the first non-empty list among keys,
// waiting up to timeout, and returns [key, element].
func (c *Client) BLPop(ctx context.Context, timeout time.Duration, keys ...string) ([]string, error) {
	return callBlocking(ctx, c, timeout, toStrings, append(cmd("BLPOP", nil, keys), seconds(timeout))...)
}

// BRPop pops the last element of the first non-empty list among keys,
// waiting up to timeout, and returns [key, element].
func (c *Client) BRPop(ctx context.Context, timeout time.Duration, keys ...string) ([]string, error) {
	return callBlocking(ctx, c, timeout, toStrings, append(cmd("BRPOP", nil, keys), seconds(timeout))...)
}

// BLMove is LMove waiting up to timeout for source to have an element.
func (c *Client) BLMove(ctx context.Context, source, destination, srcpos, destpos string, timeout time.Duration) (string, error) {
	return callBlocking(ctx, c, timeout, toString, "BLMOVE", source, destination, srcpos, destpos, seconds(timeout))
}

// BRPopLPush is RPopLPush waiting up to timeout for source to have an element.
func (c *Client) BRPopLPush(ctx context.Context, source, destination string, timeout time.Duration) (string, error) {
	return callBlocking(ctx, c, timeout, toString, "BRPOPLPUSH", source, destination, seconds(timeout))
}
