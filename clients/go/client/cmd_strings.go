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

// ClientUnblock unblocks the connection with the given client ID (as CLIENT
// ID returns it) from a blocking command such as BLPOP, and reports whether
// it was blocked. The blocked command returns as if its timeout had expired
// (ErrNil for BLPop), or with an UNBLOCKED error reply when withError is set.
func (c *Client) ClientUnblock(ctx context.Context, id int64, withError bool) (bool, error) {
	mode := "TIMEOUT"
	if withError {
		mode = "ERROR"
	}
	return call(ctx, c, toBool, "CLIENT", "UNBLOCK", id, mode)
}

// Wait blocks until the writes sent before it on the same connection reach
// at least replicas replicas, or until timeoutMs milliseconds have passed
// (0: no limit), and returns how many replicas acknowledged them. As calls
// take any pooled connection, the writes are certain to be on the same
// connection only with WithPoolSize(1); a Pipeline can also queue WAIT after
// its writes.
func (c *Client) Wait(ctx context.Context, replicas int, timeoutMs int64) (int64, error) {
	return callBlocking(ctx, c, time.Duration(timeoutMs)*time.Millisecond, toInt64, "WAIT", replicas, timeoutMs)
}

// RoleReplica is a replica connected to a master, as listed by Role.
type RoleReplica struct {
	Host   string
	Port   int64
	Offset int64
}

// RoleInfo is the reply of ROLE.
type RoleInfo struct {
	// Role is "master", "slave" (a replica) or "sentinel".
	Role string
	// Offset is the replication offset of a master or a replica.
	Offset int64
	// Replicas are the replicas connected to a master.
	Replicas []RoleReplica
	// MasterHost and MasterPort are the master of a replica, and State the
	// state of its link ("connect", "connecting", "sync", "connected"...).
	MasterHost string
	MasterPort int64
	State      string
	// Reply is the reply as sent, for the fields of other roles (the
	// master names of a sentinel).
	Reply []interface{}
}

// Role returns the replication role of the server.
func (c *Client) Role(ctx context.Context) (RoleInfo, error) {
	return call(ctx, c, toRoleInfo, "ROLE")
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

// BitFieldOp is one operation of BitField: build it with BitFieldGet,
// BitFieldSet, BitFieldIncrBy or BitFieldOverflow.
//
// An operation's type is "i" (signed) or "u" (unsigned) and a width in bits:
// "i8", "u4", "i64" (u64 is not supported). Its offset is a bit offset (an
// integer), or a string "#N" for N times the type's width.
type BitFieldOp struct {
	args []interface{}
}

// BitFieldGet reads the integer of type typ at offset.
func BitFieldGet(typ string, offset interface{}) BitFieldOp {
	return BitFieldOp{[]interface{}{"GET", typ, offset}}
}

// BitFieldSet writes value at offset and replies with the old value.
func BitFieldSet(typ string, offset interface{}, value int64) BitFieldOp {
	return BitFieldOp{[]interface{}{"SET", typ, offset, value}}
}

// BitFieldIncrBy adds increment at offset and replies with the new value.
func BitFieldIncrBy(typ string, offset interface{}, increment int64) BitFieldOp {
	return BitFieldOp{[]interface{}{"INCRBY", typ, offset, increment}}
}

// BitFieldOverflow sets how the following SET and INCRBY operations handle
// an overflow: "WRAP" (the default: wrap around), "SAT" (saturate at the
// type's minimum or maximum) or "FAIL" (do nothing and reply nil). It
// produces no reply of its own.
func BitFieldOverflow(mode string) BitFieldOp {
	return BitFieldOp{[]interface{}{"OVERFLOW", mode}}
}

// BitField runs operations on the string at key treated as an array of
// integers, and returns one reply per GET, SET and INCRBY operation, in
// order: a pointer to the integer, or nil where an operation was not done
// because of OVERFLOW FAIL.
//
//	res, err := c.BitField(ctx, "counters",
//		client.BitFieldSet("u8", 0, 200),   // old value: 0
//		client.BitFieldOverflow("SAT"),
//		client.BitFieldIncrBy("u8", 0, 100)) // 255
func (c *Client) BitField(ctx context.Context, key string, ops ...BitFieldOp) ([]*int64, error) {
	return call(ctx, c, toInt64Ptrs, bitFieldArgs("BITFIELD", key, ops)...)
}

// BitFieldRO is BitField as the read-only BITFIELD_RO, which replicas
// accept; its operations must all be BitFieldGet (the server replies with
// an error otherwise).
func (c *Client) BitFieldRO(ctx context.Context, key string, ops ...BitFieldOp) ([]*int64, error) {
	return call(ctx, c, toInt64Ptrs, bitFieldArgs("BITFIELD_RO", key, ops)...)
}

func bitFieldArgs(command, key string, ops []BitFieldOp) []interface{} {
	args := []interface{}{command, key}
	for _, op := range ops {
		args = append(args, op.args...)
	}
	return args
}

// ---- longest common subsequence ----

// LCSMatch is one match of LCSIdx: the inclusive ranges of the matching
// characters in the first and second strings, and their length.
type LCSMatch struct {
	Key1, Key2 [2]int64
	Len        int64
}

// LCSIdxResult is the reply of LCSIdx.
type LCSIdxResult struct {
	// Matches are the matching ranges, from the end of the strings backwards.
	Matches []LCSMatch
	// Len is the length of the longest common subsequence.
	Len int64
}

// LCS returns the longest common subsequence of the strings at key1 and key2
// (a missing key is an empty string).
func (c *Client) LCS(ctx context.Context, key1, key2 string) (string, error) {
	return call(ctx, c, toString, "LCS", key1, key2)
}

// LCSLen returns the length of the longest common subsequence of the
// strings at key1 and key2.
func (c *Client) LCSLen(ctx context.Context, key1, key2 string) (int64, error) {
	return call(ctx, c, toInt64, "LCS", key1, key2, "LEN")
}

// LCSIdx returns where the longest common subsequence of the strings at key1
// and key2 lies in each of them (LCS IDX WITHMATCHLEN), leaving out matches
// shorter than minMatchLen (0: none left out).
func (c *Client) LCSIdx(ctx context.Context, key1, key2 string, minMatchLen int64) (LCSIdxResult, error) {
	args := []interface{}{"LCS", key1, key2, "IDX"}
	if minMatchLen > 0 {
		args = append(args, "MINMATCHLEN", minMatchLen)
	}
	return call(ctx, c, toLCSIdxResult, append(args, "WITHMATCHLEN")...)
}
