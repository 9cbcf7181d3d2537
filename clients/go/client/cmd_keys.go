package client

import (
	"context"
	"time"
)

// ---- keys ----

// Del deletes keys and returns how many existed.
func (c *Client) Del(ctx context.Context, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("DEL", nil, keys)...)
}

// Unlink deletes keys (the memory is reclaimed in the background) and
// returns how many existed.
func (c *Client) Unlink(ctx context.Context, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("UNLINK", nil, keys)...)
}

// Exists returns how many of keys exist (a key named twice counts twice).
func (c *Client) Exists(ctx context.Context, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("EXISTS", nil, keys)...)
}

// Touch updates the last access time of keys and returns how many exist.
func (c *Client) Touch(ctx context.Context, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("TOUCH", nil, keys)...)
}

// Type returns the type of key: "string", "list", "hash", "set", "zset",
// "stream", "ReJSON-RL" (a JSON document) or "none".
func (c *Client) Type(ctx context.Context, key string) (string, error) {
	return call(ctx, c, toString, "TYPE", key)
}

// Expire sets a TTL on key (EXPIRE, or PEXPIRE when expiration is not a
// whole number of seconds); false if the key does not exist.
func (c *Client) Expire(ctx context.Context, key string, expiration time.Duration) (bool, error) {
	if expiration%time.Second != 0 {
		return call(ctx, c, toBool, "PEXPIRE", key, int64(expiration/time.Millisecond))
	}
	return call(ctx, c, toBool, "EXPIRE", key, int64(expiration/time.Second))
}

// ExpireAt makes key expire at tm (millisecond precision); false if the key
// does not exist.
func (c *Client) ExpireAt(ctx context.Context, key string, tm time.Time) (bool, error) {
	return call(ctx, c, toBool, "PEXPIREAT", key, tm.UnixMilli())
}

// TTL returns the time to live of key (in whole seconds). As in go-redis it
// returns -1 (nanosecond) when the key has no TTL and -2 when it does not exist.
func (c *Client) TTL(ctx context.Context, key string) (time.Duration, error) {
	return ttl(ctx, c, "TTL", key, time.Second)
}

// PTTL is TTL with millisecond precision.
func (c *Client) PTTL(ctx context.Context, key string) (time.Duration, error) {
	return ttl(ctx, c, "PTTL", key, time.Millisecond)
}

func ttl(ctx context.Context, c *Client, command, key string, unit time.Duration) (time.Duration, error) {
	n, err := call(ctx, c, toInt64, command, key)
	if err != nil || n < 0 {
		return time.Duration(n), err
	}
	return time.Duration(n) * unit, nil
}

// Persist removes the TTL of key; false if it had none or does not exist.
func (c *Client) Persist(ctx context.Context, key string) (bool, error) {
	return call(ctx, c, toBool, "PERSIST", key)
}

// Rename renames key to newkey, overwriting newkey.
func (c *Client) Rename(ctx context.Context, key, newkey string) error {
	return status(ctx, c, "RENAME", key, newkey)
}

// RenameNX renames key to newkey only if newkey does not exist.
func (c *Client) RenameNX(ctx context.Context, key, newkey string) (bool, error) {
	return call(ctx, c, toBool, "RENAMENX", key, newkey)
}

// Copy copies the value of source to destination in the same database
// (replace: overwrite an existing destination) and reports whether it did.
func (c *Client) Copy(ctx context.Context, source, destination string, replace bool) (bool, error) {
	args := []interface{}{"COPY", source, destination}
	if replace {
		args = append(args, "REPLACE")
	}
	return call(ctx, c, toBool, args...)
}

// Keys returns the keys matching a glob pattern (prefer Scan on large databases).
func (c *Client) Keys(ctx context.Context, pattern string) ([]string, error) {
	return call(ctx, c, toStrings, "KEYS", pattern)
}

// RandomKey returns a random key, or ErrNil when the database is empty.
func (c *Client) RandomKey(ctx context.Context) (string, error) {
	return call(ctx, c, toString, "RANDOMKEY")
}

// Scan runs one SCAN step and returns keys and the next cursor (0 when
// done). An empty match or a zero count are left out.
func (c *Client) Scan(ctx context.Context, cursor uint64, match string, count int64) ([]string, uint64, error) {
	args := []interface{}{"SCAN", cursor}
	if match != "" {
		args = append(args, "MATCH", match)
	}
	if count > 0 {
		args = append(args, "COUNT", count)
	}
	reply, err := call(ctx, c, toSlice, args...)
	if err != nil {
		return nil, 0, err
	}
	if len(reply) != 2 {
		return nil, 0, unexpected(reply)
	}
	next, err := toInt64(reply[0])
	if err != nil {
		return nil, 0, err
	}
	keys, err := toStrings(reply[1])
	return keys, uint64(next), err
}
