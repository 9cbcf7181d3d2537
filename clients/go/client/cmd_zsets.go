package client

import (
	"context"
	"time"
)

// ---- sorted sets ----
//
// Score bounds (min, max) are strings as in Redis: "1.5", "(1.5" (exclusive),
// "-inf", "+inf". Methods returning []Z set Member to a string.

func zaddArgs(key string, flags []interface{}, members []Z) []interface{} {
	args := append([]interface{}{"ZADD", key}, flags...)
	for _, z := range members {
		args = append(args, z.Score, z.Member)
	}
	return args
}

// ZAdd adds members with their scores (updating the scores of existing
// members) and returns how many were new.
func (c *Client) ZAdd(ctx context.Context, key string, members ...Z) (int64, error) {
	return call(ctx, c, toInt64, zaddArgs(key, nil, members)...)
}

// ZAddNX adds only new members and returns how many were added.
func (c *Client) ZAddNX(ctx context.Context, key string, members ...Z) (int64, error) {
	return call(ctx, c, toInt64, zaddArgs(key, []interface{}{"NX"}, members)...)
}

// ZAddXX only updates the scores of existing members and returns how many changed.
func (c *Client) ZAddXX(ctx context.Context, key string, members ...Z) (int64, error) {
	return call(ctx, c, toInt64, zaddArgs(key, []interface{}{"XX", "CH"}, members)...)
}

// ZIncrBy adds increment to the score of member and returns the new score.
func (c *Client) ZIncrBy(ctx context.Context, key string, increment float64, member string) (float64, error) {
	return call(ctx, c, toFloat64, "ZINCRBY", key, increment, member)
}

// ZScore returns the score of member, or ErrNil.
func (c *Client) ZScore(ctx context.Context, key, member string) (float64, error) {
	return call(ctx, c, toFloat64, "ZSCORE", key, member)
}

// ZRem removes members and returns how many existed.
func (c *Client) ZRem(ctx context.Context, key string, members ...interface{}) (int64, error) {
	return call(ctx, c, toInt64, cmd("ZREM", []interface{}{key}, members)...)
}

// ZCard returns the number of members.
func (c *Client) ZCard(ctx context.Context, key string) (int64, error) {
	return call(ctx, c, toInt64, "ZCARD", key)
}

// ZCount returns the number of members with a score between min and max.
func (c *Client) ZCount(ctx context.Context, key, min, max string) (int64, error) {
	return call(ctx, c, toInt64, "ZCOUNT", key, min, max)
}

// ZRank returns the 0-based rank of member by ascending score, or ErrNil.
func (c *Client) ZRank(ctx context.Context, key, member string) (int64, error) {
	return call(ctx, c, toInt64, "ZRANK", key, member)
}

// ZRevRank returns the 0-based rank of member by descending score, or ErrNil.
func (c *Client) ZRevRank(ctx context.Context, key, member string) (int64, error) {
	return call(ctx, c, toInt64, "ZREVRANK", key, member)
}

// ZRange returns the members between two ranks (ascending scores).
func (c *Client) ZRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return call(ctx, c, toStrings, "ZRANGE", key, start, stop)
}

// ZRangeWithScores returns the members between two ranks with their scores.
func (c *Client) ZRangeWithScores(ctx context.Context, key string, start, stop int64) ([]Z, error) {
	return call(ctx, c, toZSlice, "ZRANGE", key, start, stop, "WITHSCORES")
}

// ZRevRange returns the members between two ranks by descending score: a
// leaderboard's top ten is ZRevRange(ctx, key, 0, 9).
func (c *Client) ZRevRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return call(ctx, c, toStrings, "ZREVRANGE", key, start, stop)
}

// ZRevRangeWithScores is ZRevRange with the scores.
func (c *Client) ZRevRangeWithScores(ctx context.Context, key string, start, stop int64) ([]Z, error) {
	return call(ctx, c, toZSlice, "ZREVRANGE", key, start, stop, "WITHSCORES")
}

// ZRangeByScore returns the members with a score between min and max, by ascending score.
func (c *Client) ZRangeByScore(ctx context.Context, key, min, max string) ([]string, error) {
	return call(ctx, c, toStrings, "ZRANGEBYSCORE", key, min, max)
}

// ZRangeByScoreWithScores is ZRangeByScore with the scores.
func (c *Client) ZRangeByScoreWithScores(ctx context.Context, key, min, max string) ([]Z, error) {
	return call(ctx, c, toZSlice, "ZRANGEBYSCORE", key, min, max, "WITHSCORES")
}

// ZRevRangeByScore returns the members with a score between max and min, by
// descending score.
func (c *Client) ZRevRangeByScore(ctx context.Context, key, max, min string) ([]string, error) {
	return call(ctx, c, toStrings, "ZREVRANGEBYSCORE", key, max, min)
}

// ZPopMin removes and returns up to count members with the lowest scores.
func (c *Client) ZPopMin(ctx context.Context, key string, count int64) ([]Z, error) {
	return call(ctx, c, toZSlice, "ZPOPMIN", key, count)
}

// ZPopMax removes and returns up to count members with the highest scores.
func (c *Client) ZPopMax(ctx context.Context, key string, count int64) ([]Z, error) {
	return call(ctx, c, toZSlice, "ZPOPMAX", key, count)
}

// BZPopMin pops the lowest-scored member of the first non-empty sorted set
// among keys, waiting up to timeout (0: forever; ErrNil when it expires),
// and returns it with the key it came from.
func (c *Client) BZPopMin(ctx context.Context, timeout time.Duration, keys ...string) (ZWithKey, error) {
	return callBlocking(ctx, c, timeout, toZWithKey, append(cmd("BZPOPMIN", nil, keys), seconds(timeout))...)
}

// BZPopMax is BZPopMin for the highest-scored member.
func (c *Client) BZPopMax(ctx context.Context, timeout time.Duration, keys ...string) (ZWithKey, error) {
	return callBlocking(ctx, c, timeout, toZWithKey, append(cmd("BZPOPMAX", nil, keys), seconds(timeout))...)
}

// ZRemRangeByRank removes the members between two ranks and returns how many.
func (c *Client) ZRemRangeByRank(ctx context.Context, key string, start, stop int64) (int64, error) {
	return call(ctx, c, toInt64, "ZREMRANGEBYRANK", key, start, stop)
}

// ZRemRangeByScore removes the members with a score between min and max and
// returns how many.
func (c *Client) ZRemRangeByScore(ctx context.Context, key, min, max string) (int64, error) {
	return call(ctx, c, toInt64, "ZREMRANGEBYSCORE", key, min, max)
}

// ZUnionStore stores the union of the sorted sets (scores summed) in
// destination and returns its size.
func (c *Client) ZUnionStore(ctx context.Context, destination string, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("ZUNIONSTORE", []interface{}{destination, len(keys)}, keys)...)
}

// ZInterStore stores the intersection of the sorted sets (scores summed) in
// destination and returns its size.
func (c *Client) ZInterStore(ctx context.Context, destination string, keys ...string) (int64, error) {
	return call(ctx, c, toInt64, cmd("ZINTERSTORE", []interface{}{destination, len(keys)}, keys)...)
}
