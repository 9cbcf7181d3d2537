package client

import (
	"context"
	"encoding/json"
	"fmt"
)

// ---- JSON ----
//
// Paths are JSONPath ("$.address.city": every match, replies wrap the
// matches in an array) or RedisJSON's legacy syntax (".address.city": the
// first match, unwrapped). Values are encoded with encoding/json, and JSON
// text is returned as a string to decode with json.Unmarshal (or use
// JSONGetInto).

func jsonArg(method string, value interface{}) ([]byte, error) {
	data, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("diskdb: %s: %w", method, err)
	}
	return data, nil
}

// JSONSet stores value, encoded with encoding/json, at path ("$" for the
// whole document). Pass a json.RawMessage to send JSON text as it is.
func (c *Client) JSONSet(ctx context.Context, key, path string, value interface{}) error {
	data, err := jsonArg("JSONSet", value)
	if err != nil {
		return err
	}
	return status(ctx, c, "JSON.SET", key, path, data)
}

// JSONSetMode is JSONSet with mode "NX" (only if path does not exist yet)
// or "XX" (only if it exists); it reports whether the value was set.
func (c *Client) JSONSetMode(ctx context.Context, key, path string, value interface{}, mode string) (bool, error) {
	data, err := jsonArg("JSONSetMode", value)
	if err != nil {
		return false, err
	}
	return boolOrNil(call(ctx, c, toBool, "JSON.SET", key, path, data, mode))
}

// JSONGet returns the JSON text at paths (the whole document by default),
// or ErrNil if key does not exist. With several paths the text is an object
// keyed by path.
func (c *Client) JSONGet(ctx context.Context, key string, paths ...string) (string, error) {
	return call(ctx, c, toString, cmd("JSON.GET", []interface{}{key}, paths)...)
}

// JSONGetInto decodes the value at path (the whole document if "") into dst
// with json.Unmarshal. A "$" path decodes into a slice of the matches.
func (c *Client) JSONGetInto(ctx context.Context, key, path string, dst interface{}) error {
	var paths []string
	if path != "" {
		paths = []string{path}
	}
	text, err := c.JSONGet(ctx, key, paths...)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(text), dst)
}

// JSONMGet returns the JSON text at path in each key: a string, or nil
// where a key does not exist.
func (c *Client) JSONMGet(ctx context.Context, path string, keys ...string) ([]interface{}, error) {
	return call(ctx, c, toSlice, append(cmd("JSON.MGET", nil, keys), path)...)
}

// JSONDel deletes the values at path ("$": the whole key) and returns how many.
func (c *Client) JSONDel(ctx context.Context, key, path string) (int64, error) {
	return call(ctx, c, toInt64, "JSON.DEL", key, path)
}

// JSONType returns the JSON type of the values at path ("object", "array",
// "string", "integer", "number", "boolean", "null"): one per match of a "$"
// path, a single one for a legacy path.
func (c *Client) JSONType(ctx context.Context, key, path string) ([]string, error) {
	return call(ctx, c, toStringOrStrings, "JSON.TYPE", key, path)
}

// JSONNumIncrBy adds n to the numbers at path and returns the new values as
// JSON text ("[37]" for "$.age", "37" for ".age").
func (c *Client) JSONNumIncrBy(ctx context.Context, key, path string, n float64) (string, error) {
	return call(ctx, c, toString, "JSON.NUMINCRBY", key, path, n)
}
