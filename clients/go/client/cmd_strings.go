package client

import (
	"context"
	"time"
)

// ---- connection and server ----

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error { return status(ctx, c, "PING") }

// Echo returns message as the server echoes it.
func (c *Client) Echo(ctx context.Context, message interface{}) (string, error) {
	return call(ctx, c, toString, "ECHO", message)
}

// Info returns the INFO text, optionally of some sections only.
func (c *Client) Info(ctx context.Context, sections ...string) (string, error) {
	return call(ctx, c, toString, cmd("INFO", nil, sections)...)
}

// Time returns the server's clock.
func (c *Client) Time(ctx context.Context) (time.Time, error) {
	parts, err := call(ctx, c, toInt64s, "TIME")
	if err != nil {
		return time.Time{}, err
	}
	if len(parts) != 2 {
		return time.Time{}, unexpected(parts)
	}
	return time.Unix(parts[0], parts[1]*1000), nil
}

// DBSize returns the number of keys in the selected database.
func (c *Client) DBSize(ctx context.Context) (int64, error) {
	return call(ctx, c, toInt64, "DBSIZE")
}

// FlushDB deletes every key of the selected database.
func (c *Client) FlushDB(ctx context.Context) error { return status(ctx, c, "FLUSHDB") }

// FlushAll deletes every key of every database.
func (c *Client) FlushAll(ctx context.Context) error { return status(ctx, c, "FLUSHALL") }

// ConfigGet returns the configuration parameters matching a glob pattern.
func (c *Client) ConfigGet(ctx context.Context, pattern string) (map[string]string, error) {
	return call(ctx, c, toStringMap, "CONFIG", "GET", pattern)
}

// ConfigSet changes a configuration parameter at run time.
func (c *Client) ConfigSet(ctx context.Context, parameter string, value interface{}) error {
	return status(ctx, c, "CONFIG", "SET", parameter, value)
}

// ---- strings ----

// Get returns the value of key, or ErrNil if it does not exist.
func (c *Client) Get(ctx context.Context, key string) (string, error) {
	return call(ctx, c, toString, "GET", key)
}

// Set sets key to value with an expiration (0: none, KeepTTL: keep the current one).
func (c *Client) Set(ctx context.Context, key string, value interface{}, expiration time.Duration) error {
	return status(ctx, c, cmd("SET", []interface{}{key, value}, durationArgs(expiration))...)
}

// SetNX sets key only if it does not exist and reports whether it did.
func (c *Client) SetNX(ctx context.Context, key string, value interface{}, expiration time.Duration) (bool, error) {
	args := append(cmd("SET", []interface{}{key, value}, durationArgs(expiration)), "NX")
	return boolOrNil(call(ctx, c, toBool, args...))
}

// SetXX sets key only if it already exists and reports whether it did.
func (c *Client) SetXX(ctx context.Context, key string, value interface{}, expiration time.Duration) (bool, error) {
	args := append(cmd("SET", []interface{}{key, value}, durationArgs(expiration)), "XX")
	return boolOrNil(call(ctx, c, toBool, args...))
}

// GetSet sets key and returns its old value (ErrNil if there was none).
func (c *Client) GetSet(ctx context.Context, key string, value interface{}) (string, error) {
	return call(ctx, c, toString, "GETSET", key, value)
}

// GetDel returns the value of key and deletes it (ErrNil if missing).
func (c *Client) GetDel(ctx context.Context, key string) (string, error) {
	return call(ctx, c, toString, "GETDEL", key)
}

// GetEx returns the value of key and sets its expiration; as in go-redis, an
// expiration of 0 removes the TTL (PERSIST) and a negative one leaves it.
func (c *Client) GetEx(ctx context.Context, key string, expiration time.Duration) (string, error) {
	args := []interface{}{"GETEX", key}
	switch {
	case expiration == 0:
		args = append(args, "PERSIST")
	case expiration > 0:
		args = append(args, durationArgs(expiration)...)
	}
	return call(ctx, c, toString, args...)
}

// MGet returns the values of keys: a string, or nil where a key is missing.
func (c *Client) MGet(ctx context.Context, keys ...string) ([]interface{}, error) {
	return call(ctx, c, toSlice, cmd("MGET", nil, keys)...)
}

// MSet sets several keys: MSet(ctx, "k1", "v1", "k2", "v2") or MSet(ctx, map).
func (c *Client) MSet(ctx context.Context, values ...interface{}) error {
	return status(ctx, c, cmd("MSET", nil, flattenPairs(values))...)
}

// MSetNX sets several keys only if none of them exists, and reports whether it did.
func (c *Client) MSetNX(ctx context.Context, values ...interface{}) (bool, error) {
	return call(ctx, c, toBool, cmd("MSETNX", nil, flattenPairs(values))...)
}

// Incr adds 1 to the integer at key and returns the new value.
func (c *Client) Incr(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "INCR", key)
}

// IncrBy adds n to the integer at key and returns the new value.
func (c *Client) IncrBy(ctx context.Context, key string, n int64) (int64, error) {
	return call(ctx, c, toInt64, "INCRBY", key, n)
}

// IncrByFloat adds f to the number at key and returns the new value.
func (c *Client) IncrByFloat(ctx context.Context, key string, f float64) (float64, error) {
	return call(ctx, c, toFloat64, "INCRBYFLOAT", key, f)
}

// Decr subtracts 1 from the integer at key and returns the new value.
func (c *Client) Decr(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "DECR", key)
}

// DecrBy subtracts n from the integer at key and returns the new value.
func (c *Client) DecrBy(ctx context.Context, key string, n int64) (int64, error) {
	return call(ctx, c, toInt64, "DECRBY", key, n)
}

// Append appends value to the string at key and returns its new length.
func (c *Client) Append(ctx context.Context, key string, value interface{}) (int64, error) {
	return call(ctx, c, toInt64, "APPEND", key, value)
}

// StrLen returns the length of the string at key.
func (c *Client) StrLen(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "STRLEN", key)
}

// GetRange returns the substring between two inclusive offsets (negative: from the end).
func (c *Client) GetRange(ctx context.Context, key string, start, end int64) (string, error) {
	return call(ctx, c, toString, "GETRANGE", key, start, end)
}

// SetRange overwrites the string at offset and returns its new length.
func (c *Client) SetRange(ctx context.Context, key string, offset int64, value interface{}) (int64, error) {
	return call(ctx, c, toInt64, "SETRANGE", key, offset, value)
}

// ---- bitmaps ----

// SetBit sets the bit at offset to value (0 or 1) and returns its old value.
func (c *Client) SetBit(ctx context.Context, key string, offset int64, value int) (int64, error) {
	return call(ctx, c, toInt64, "SETBIT", key, offset, value)
}

// GetBit returns the bit at offset.
func (c *Client) GetBit(ctx context.Context, key string, offset int64) (int64, error) {
	return call(ctx, c, toInt64, "GETBIT", key, offset)
}

// BitCount returns the number of set bits in the string at key.
func (c *Client) BitCount(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "BITCOUNT", key)
}
