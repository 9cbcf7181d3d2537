package client

import (
	"fmt"
	"math/big"
	"strconv"
)

// Converters from raw replies to Go values. RESP2 and RESP3 send some replies
// in different shapes (a flat array or a map, a bulk string or a double), and
// every converter accepts both.

func unexpected(reply interface{}) error {
	return fmt.Errorf("diskdb: unexpected reply type %T", reply)
}

func toString(reply interface{}) (string, error) {
	switch v := reply.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case *big.Int:
		return v.String(), nil
	case nil:
		return "", ErrNil
	case *RedisError:
		return "", v
	}
	return "", unexpected(reply)
}

func toInt64(reply interface{}) (int64, error) {
	switch v := reply.(type) {
	case int64:
		return v, nil
	case string:
		return strconv.ParseInt(v, 10, 64)
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case nil:
		return 0, ErrNil
	case *RedisError:
		return 0, v
	}
	return 0, unexpected(reply)
}

func toFloat64(reply interface{}) (float64, error) {
	switch v := reply.(type) {
	case float64:
		return v, nil
	case string:
		return strconv.ParseFloat(v, 64)
	case int64:
		return float64(v), nil
	case nil:
		return 0, ErrNil
	case *RedisError:
		return 0, v
	}
	return 0, unexpected(reply)
}

// toBool accepts integers (1/0), RESP3 booleans and "OK".
func toBool(reply interface{}) (bool, error) {
	switch v := reply.(type) {
	case bool:
		return v, nil
	case int64:
		return v != 0, nil
	case string:
		return v == "OK", nil
	case nil:
		return false, ErrNil
	case *RedisError:
		return false, v
	}
	return false, unexpected(reply)
}

// toStatus checks a status reply such as +OK.
func toStatus(reply interface{}) (struct{}, error) {
	if e, ok := reply.(*RedisError); ok {
		return struct{}{}, e
	}
	return struct{}{}, nil
}

func toSlice(reply interface{}) ([]interface{}, error) {
	switch v := reply.(type) {
	case []interface{}:
		return v, nil
	case nil:
		return nil, ErrNil
	case *RedisError:
		return nil, v
	}
	return nil, unexpected(reply)
}

// sliceOf converts every element of an array reply with conv.
func sliceOf[T any](conv func(interface{}) (T, error)) func(interface{}) ([]T, error) {
	return func(reply interface{}) ([]T, error) {
		items, err := toSlice(reply)
		if err != nil {
			return nil, err
		}
		out := make([]T, len(items))
		for i, item := range items {
			if out[i], err = conv(item); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

var toStrings = sliceOf(toString)

// pairs returns key/value pairs from a RESP3 map, a flat RESP2 array
// [k1 v1 k2 v2] or an array of pairs [[k1 v1] [k2 v2]] (RESP3 WITHSCORES).
func pairs(reply interface{}) ([][2]interface{}, error) {
	if m, ok := reply.(map[string]interface{}); ok {
		out := make([][2]interface{}, 0, len(m))
		for k, v := range m {
			out = append(out, [2]interface{}{k, v})
		}
		return out, nil
	}
	items, err := toSlice(reply)
	if err != nil {
		return nil, err
	}
	if len(items) > 0 {
		if _, nested := items[0].([]interface{}); nested {
			out := make([][2]interface{}, len(items))
			for i, item := range items {
				pair, ok := item.([]interface{})
				if !ok || len(pair) != 2 {
					return nil, unexpected(item)
				}
				out[i] = [2]interface{}{pair[0], pair[1]}
			}
			return out, nil
		}
	}
	if len(items)%2 != 0 {
		return nil, fmt.Errorf("diskdb: odd number of elements (%d) in a key/value reply", len(items))
	}
	out := make([][2]interface{}, len(items)/2)
	for i := range out {
		out[i] = [2]interface{}{items[2*i], items[2*i+1]}
	}
	return out, nil
}

func toStringMap(reply interface{}) (map[string]string, error) {
	kvs, err := pairs(reply)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, err := toString(kv[0])
		if err != nil {
			return nil, err
		}
		if m[k], err = toString(kv[1]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func toInterfaceMap(reply interface{}) (map[string]interface{}, error) {
	kvs, err := pairs(reply)
	if err != nil {
		return nil, err
	}
	m := make(map[string]interface{}, len(kvs))
	for _, kv := range kvs {
		k, err := toString(kv[0])
		if err != nil {
			return nil, err
		}
		m[k] = kv[1]
	}
	return m, nil
}

func toZSlice(reply interface{}) ([]Z, error) {
	kvs, err := pairs(reply)
	if err != nil {
		return nil, err
	}
	zs := make([]Z, len(kvs))
	for i, kv := range kvs {
		member, err := toString(kv[0])
		if err != nil {
			return nil, err
		}
		if zs[i].Score, err = toFloat64(kv[1]); err != nil {
			return nil, err
		}
		zs[i].Member = member
	}
	return zs, nil
}

func toXMessage(reply interface{}) (XMessage, error) {
	entry, err := toSlice(reply)
	if err != nil {
		return XMessage{}, err
	}
	if len(entry) != 2 {
		return XMessage{}, unexpected(reply)
	}
	id, err := toString(entry[0])
	if err != nil {
		return XMessage{}, err
	}
	if entry[1] == nil { // an entry deleted while pending (XREADGROUP, XCLAIM)
		return XMessage{ID: id}, nil
	}
	values, err := toInterfaceMap(entry[1])
	return XMessage{ID: id, Values: values}, err
}

var toXMessages = sliceOf(toXMessage)

// convert applies conv to a (reply, err) pair as returned by Do.
func convert[T any](reply interface{}, err error, conv func(interface{}) (T, error)) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return conv(reply)
}

// String converts a reply from Do to a string: c.Do(...) can be passed
// directly, as in client.String(c.Do(ctx, "GET", "k")).
func String(reply interface{}, err error) (string, error) { return convert(reply, err, toString) }

// Int64 converts a reply from Do to an int64.
func Int64(reply interface{}, err error) (int64, error) { return convert(reply, err, toInt64) }

// Float64 converts a reply from Do to a float64.
func Float64(reply interface{}, err error) (float64, error) { return convert(reply, err, toFloat64) }

// Bool converts a reply from Do (1/0, a RESP3 boolean, or OK) to a bool.
func Bool(reply interface{}, err error) (bool, error) { return convert(reply, err, toBool) }

// Strings converts an array reply from Do to a []string.
func Strings(reply interface{}, err error) ([]string, error) { return convert(reply, err, toStrings) }

// StringMap converts a map (RESP3) or flat key/value array (RESP2) reply from
// Do to a map[string]string.
func StringMap(reply interface{}, err error) (map[string]string, error) {
	return convert(reply, err, toStringMap)
}

var toInt64s = sliceOf(toInt64)

var toBools = sliceOf(toBool)

// toStringOrStrings accepts an array of strings or a single string (the
// reply to a legacy JSON path).
func toStringOrStrings(reply interface{}) ([]string, error) {
	if s, ok := reply.(string); ok {
		return []string{s}, nil
	}
	return toStrings(reply)
}

// toZWithKey converts the [key, member, score] reply of BZPOPMIN/BZPOPMAX.
func toZWithKey(reply interface{}) (ZWithKey, error) {
	items, err := toSlice(reply)
	if err != nil {
		return ZWithKey{}, err
	}
	if len(items) != 3 {
		return ZWithKey{}, unexpected(reply)
	}
	var z ZWithKey
	if z.Key, err = toString(items[0]); err != nil {
		return ZWithKey{}, err
	}
	member, err := toString(items[1])
	if err != nil {
		return ZWithKey{}, err
	}
	z.Member = member
	z.Score, err = toFloat64(items[2])
	return z, err
}

// toXStreams converts XREAD replies: an array of [stream, entries] pairs
// (RESP2) or a map from stream to entries (RESP3).
func toXStreams(reply interface{}) ([]XStream, error) {
	kvs, err := pairs(reply)
	if err != nil {
		return nil, err
	}
	streams := make([]XStream, len(kvs))
	for i, kv := range kvs {
		if streams[i].Stream, err = toString(kv[0]); err != nil {
			return nil, err
		}
		if streams[i].Messages, err = toXMessages(kv[1]); err != nil {
			return nil, err
		}
	}
	return streams, nil
}

// toStringsNilEmpty is toStrings with "" for a null element (SORT ... GET).
var toStringsNilEmpty = sliceOf(func(reply interface{}) (string, error) {
	if reply == nil {
		return "", nil
	}
	return toString(reply)
})

// toInt64Ptrs converts an array of integers or nulls (BITFIELD).
var toInt64Ptrs = sliceOf(func(reply interface{}) (*int64, error) {
	if reply == nil {
		return nil, nil
	}
	n, err := toInt64(reply)
	if err != nil {
		return nil, err
	}
	return &n, nil
})

// toRange converts a [start, end] pair.
func toRange(reply interface{}) ([2]int64, error) {
	ends, err := toInt64s(reply)
	if err != nil {
		return [2]int64{}, err
	}
	if len(ends) != 2 {
		return [2]int64{}, unexpected(reply)
	}
	return [2]int64{ends[0], ends[1]}, nil
}

// toLCSMatch converts a [[start1, end1], [start2, end2], len] match.
func toLCSMatch(reply interface{}) (LCSMatch, error) {
	items, err := toSlice(reply)
	if err != nil {
		return LCSMatch{}, err
	}
	if len(items) < 2 {
		return LCSMatch{}, unexpected(reply)
	}
	var m LCSMatch
	if m.Key1, err = toRange(items[0]); err != nil {
		return LCSMatch{}, err
	}
	if m.Key2, err = toRange(items[1]); err != nil {
		return LCSMatch{}, err
	}
	if len(items) > 2 {
		m.Len, err = toInt64(items[2])
	}
	return m, err
}

// toLCSIdxResult converts the reply of LCS IDX: a flat array
// [matches ... len N] (RESP2) or a map (RESP3).
func toLCSIdxResult(reply interface{}) (LCSIdxResult, error) {
	kvs, err := pairs(reply)
	if err != nil {
		return LCSIdxResult{}, err
	}
	var res LCSIdxResult
	for _, kv := range kvs {
		name, err := toString(kv[0])
		if err != nil {
			return LCSIdxResult{}, err
		}
		switch name {
		case "matches":
			res.Matches, err = sliceOf(toLCSMatch)(kv[1])
		case "len":
			res.Len, err = toInt64(kv[1])
		}
		if err != nil {
			return LCSIdxResult{}, err
		}
	}
	return res, nil
}

// toRoleInfo converts the reply of ROLE.
func toRoleInfo(reply interface{}) (RoleInfo, error) {
	items, err := toSlice(reply)
	if err != nil {
		return RoleInfo{}, err
	}
	if len(items) == 0 {
		return RoleInfo{}, unexpected(reply)
	}
	info := RoleInfo{Reply: items}
	if info.Role, err = toString(items[0]); err != nil {
		return RoleInfo{}, err
	}
	switch {
	case info.Role == "master" && len(items) >= 3:
		if info.Offset, err = toInt64(items[1]); err != nil {
			return RoleInfo{}, err
		}
		replicas, err := toSlice(items[2])
		if err != nil {
			return RoleInfo{}, err
		}
		info.Replicas = make([]RoleReplica, len(replicas))
		for i, r := range replicas {
			fields, err := toSlice(r)
			if err != nil {
				return RoleInfo{}, err
			}
			if len(fields) != 3 {
				return RoleInfo{}, unexpected(r)
			}
			if info.Replicas[i].Host, err = toString(fields[0]); err != nil {
				return RoleInfo{}, err
			}
			if info.Replicas[i].Port, err = toInt64(fields[1]); err != nil {
				return RoleInfo{}, err
			}
			if info.Replicas[i].Offset, err = toInt64(fields[2]); err != nil {
				return RoleInfo{}, err
			}
		}
	case info.Role == "slave" && len(items) >= 5:
		if info.MasterHost, err = toString(items[1]); err != nil {
			return RoleInfo{}, err
		}
		if info.MasterPort, err = toInt64(items[2]); err != nil {
			return RoleInfo{}, err
		}
		if info.State, err = toString(items[3]); err != nil {
			return RoleInfo{}, err
		}
		if info.Offset, err = toInt64(items[4]); err != nil {
			return RoleInfo{}, err
		}
	}
	return info, nil
}
