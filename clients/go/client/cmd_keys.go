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

// ---- sort ----

// SortOptions are the options of Sort, SortRO and SortStore; the zero value
// sorts the elements of a list, set or sorted set as numbers, ascending.
type SortOptions struct {
	// By sorts by the values of other keys: the first "*" of the pattern is
	// replaced by each element, as in "weight_*", and "->field" reads a hash
	// field, as in "user_*->age". "nosort" skips sorting. Empty: the elements.
	By string
	// Offset and Count keep Count elements from Offset (LIMIT offset count).
	// LIMIT is sent when either is not zero; a Count of 0 or less keeps every
	// element from Offset.
	Offset, Count int64
	// Get returns, instead of each element, the values of these patterns
	// (as in By; "#" is the element itself), one after the other per element.
	Get []string
	// Desc sorts in descending order.
	Desc bool
	// Alpha sorts lexicographically instead of as numbers.
	Alpha bool
}

// args returns the SORT arguments of opt, after the key.
func (opt *SortOptions) args() []interface{} {
	var args []interface{}
	if opt.By != "" {
		args = append(args, "BY", opt.By)
	}
	if opt.Offset != 0 || opt.Count != 0 {
		count := opt.Count
		if count <= 0 {
			count = -1
		}
		args = append(args, "LIMIT", opt.Offset, count)
	}
	for _, pattern := range opt.Get {
		args = append(args, "GET", pattern)
	}
	if opt.Desc {
		args = append(args, "DESC")
	}
	if opt.Alpha {
		args = append(args, "ALPHA")
	}
	return args
}

// Sort returns the sorted elements of the list, set or sorted set at key
// (an empty slice if it does not exist). With Get patterns, a value that
// does not exist (a missing key or hash field) is returned as "".
func (c *Client) Sort(ctx context.Context, key string, opt SortOptions) ([]string, error) {
	return call(ctx, c, toStringsNilEmpty, cmd("SORT", []interface{}{key}, opt.args())...)
}

// SortRO is Sort as the read-only SORT_RO, which replicas accept.
func (c *Client) SortRO(ctx context.Context, key string, opt SortOptions) ([]string, error) {
	return call(ctx, c, toStringsNilEmpty, cmd("SORT_RO", []interface{}{key}, opt.args())...)
}

// SortStore stores the result of Sort as a list at destination (replacing
// it; deleting it when the result is empty) and returns the list's length.
func (c *Client) SortStore(ctx context.Context, key, destination string, opt SortOptions) (int64, error) {
	args := append(cmd("SORT", []interface{}{key}, opt.args()), "STORE", destination)
	return call(ctx, c, toInt64, args...)
}
