package client

import "context"

// ---- hashes ----

// HSet sets fields: HSet(ctx, key, "f1", "v1", "f2", "v2") or HSet(ctx, key, map).
// It returns how many fields were added.
func (c *Client) HSet(ctx context.Context, key string, values ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("HSET", []interface{}{key}, flattenPairs(values))...)
}

// HSetNX sets a field only if it does not exist and reports whether it did.
func (c *Client) HSetNX(ctx context.Context, key, field string, value interface{}) (bool, error) {
	return call(ctx, c, toBool, "HSETNX", key, field, value)
}

// HGet returns the value of a field, or ErrNil.
func (c *Client) HGet(ctx context.Context, key, field string) (string, error) {
	return call(ctx, c, toString, "HGET", key, field)
}

// HMGet returns the values of fields: a string, or nil where a field is missing.
func (c *Client) HMGet(ctx context.Context, key string, fields ...string) ([]interface{}, error) {
	return call(ctx, c, toSlice, cmd("HMGET", []interface{}{key}, fields)...)
}

// HGetAll returns all fields and values (an empty map if key does not exist).
func (c *Client) HGetAll(ctx context.Context, key string) (map[string]string, error) {
	return call(ctx, c, toStringMap, "HGETALL", key)
}

// HDel deletes fields and returns how many existed.
func (c *Client) HDel(ctx context.Context, key string, fields ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("HDEL", []interface{}{key}, fields)...)
}

// HExists reports whether a field exists.
func (c *Client) HExists(ctx context.Context, key, field string) (bool, error) {
	return call(ctx, c, toBool, "HEXISTS", key, field)
}

// HLen returns the number of fields.
func (c *Client) HLen(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "HLEN", key)
}

// HKeys returns the field names.
func (c *Client) HKeys(ctx context.Context, key string) ([]string, error) {
	return call(ctx, c, toStrings, "HKEYS", key)
}

// HVals returns the values.
func (c *Client) HVals(ctx context.Context, key string) ([]string, error) {
	return call(ctx, c, toStrings, "HVALS", key)
}

// HIncrBy adds n to the integer in a field and returns the new value.
func (c *Client) HIncrBy(ctx context.Context, key, field string, n int64) (int64, error) {
	return call(ctx, c, toInt64, "HINCRBY", key, field, n)
}

// HIncrByFloat adds f to the number in a field and returns the new value.
func (c *Client) HIncrByFloat(ctx context.Context, key, field string, f float64) (float64, error) {
	return call(ctx, c, toFloat64, "HINCRBYFLOAT", key, field, f)
}

// HStrLen returns the length of a field's value (0 if missing).
func (c *Client) HStrLen(ctx context.Context, key, field string) (int64, error) {
	return call(ctx, c, toInt64, "HSTRLEN", key, field)
}

// ---- sets ----

// SAdd adds members and returns how many were new.
func (c *Client) SAdd(ctx context.Context, key string, members ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("SADD", []interface{}{key}, members)...)
}

// SRem removes members and returns how many existed.
func (c *Client) SRem(ctx context.Context, key string, members ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("SREM", []interface{}{key}, members)...)
}

// SMembers returns all members (in no particular order).
func (c *Client) SMembers(ctx context.Context, key string) ([]string, error) {
	return call(ctx, c, toStrings, "SMEMBERS", key)
}

// SIsMember reports whether member is in the set.
func (c *Client) SIsMember(ctx context.Context, key string, member interface{}) (bool, error) {
	return call(ctx, c, toBool, "SISMEMBER", key, member)
}

// SMIsMember reports, for each member, whether it is in the set.
func (c *Client) SMIsMember(ctx context.Context, key string, members ...interface{}) ([]bool, error) {
	return call(ctx, c, toBools, cmd("SMISMEMBER", []interface{}{key}, members)...)
}

// SCard returns the number of members.
func (c *Client) SCard(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "SCARD", key)
}

// SPop removes and returns a random member, or ErrNil if the set is empty.
func (c *Client) SPop(ctx context.Context, key string) (string, error) {
	return call(ctx, c, toString, "SPOP", key)
}

// SPopN removes and returns up to count random members.
func (c *Client) SPopN(ctx context.Context, key string, count int64) ([]string, error) {
	return call(ctx, c, toStrings, "SPOP", key, count)
}

// SRandMember returns a random member, or ErrNil if the set is empty.
func (c *Client) SRandMember(ctx context.Context, key string) (string, error) {
	return call(ctx, c, toString, "SRANDMEMBER", key)
}

// SRandMemberN returns up to count distinct random members (negative count:
// exactly -count members, possibly repeated).
func (c *Client) SRandMemberN(ctx context.Context, key string, count int64) ([]string, error) {
	return call(ctx, c, toStrings, "SRANDMEMBER", key, count)
}

// SMove moves member from source to destination and reports whether it was in source.
func (c *Client) SMove(ctx context.Context, source, destination string, member interface{}) (bool, error) {
	return call(ctx, c, toBool, "SMOVE", source, destination, member)
}

// SInter returns the intersection of the sets.
func (c *Client) SInter(ctx context.Context, keys ...string) ([]string, error) {
	return call(ctx, c, toStrings, cmd("SINTER", nil, keys)...)
}

// SUnion returns the union of the sets.
func (c *Client) SUnion(ctx context.Context, keys ...string) ([]string, error) {
	return call(ctx, c, toStrings, cmd("SUNION", nil, keys)...)
}

// SDiff returns the members of the first set that are in none of the others.
func (c *Client) SDiff(ctx context.Context, keys ...string) ([]string, error) {
	return call(ctx, c, toStrings, cmd("SDIFF", nil, keys)...)
}

// SInterStore stores the intersection in destination and returns its size.
func (c *Client) SInterStore(ctx context.Context, destination string, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("SINTERSTORE", []interface{}{destination}, keys)...)
}

// SUnionStore stores the union in destination and returns its size.
func (c *Client) SUnionStore(ctx context.Context, destination string, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("SUNIONSTORE", []interface{}{destination}, keys)...)
}

// SDiffStore stores the difference in destination and returns its size.
func (c *Client) SDiffStore(ctx context.Context, destination string, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("SDIFFSTORE", []interface{}{destination}, keys)...)
}
