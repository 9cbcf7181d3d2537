package client

import (
	"context"
	"errors"
)

// Result is the reply of one pipelined command: Val is the reply and Err an
// error reply (*RedisError) or ErrNil for a null reply, as Client.Do returns them.
type Result struct {
	Val interface{}
	Err error
}

// Text converts the reply to a string (see String).
func (r Result) Text() (string, error) { return String(r.Val, r.Err) }

// Int64 converts the reply to an int64.
func (r Result) Int64() (int64, error) { return Int64(r.Val, r.Err) }

// Float64 converts the reply to a float64.
func (r Result) Float64() (float64, error) { return Float64(r.Val, r.Err) }

// Bool converts the reply to a bool.
func (r Result) Bool() (bool, error) { return Bool(r.Val, r.Err) }

// Strings converts the reply to a []string.
func (r Result) Strings() ([]string, error) { return Strings(r.Val, r.Err) }

// StringMap converts the reply to a map[string]string.
func (r Result) StringMap() (map[string]string, error) { return StringMap(r.Val, r.Err) }

// Pipeline buffers commands and sends them in one write on Exec. It is not
// safe for concurrent use; the Client it came from is.
type Pipeline struct {
	c    *Client
	tx   bool
	cmds [][]interface{}
}

// Pipeline returns an empty pipeline.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

// TxPipeline returns an empty pipeline whose commands run atomically,
// wrapped in MULTI/EXEC.
func (c *Client) TxPipeline() *Pipeline { return &Pipeline{c: c, tx: true} }

// Queue adds a command, given as for Client.Do.
func (p *Pipeline) Queue(args ...interface{}) { p.cmds = append(p.cmds, args) }

// Len returns the number of queued commands.
func (p *Pipeline) Len() int { return len(p.cmds) }

// Discard drops the queued commands.
func (p *Pipeline) Discard() { p.cmds = nil }

// Exec sends the queued commands in one write, empties the queue and returns
// one Result per command, in order. The error is a network error, a
// transaction that was not executed (EXECABORT, ErrTxAborted), or else the
// first error reply among the results (ErrNil replies are not errors here).
func (p *Pipeline) Exec(ctx context.Context) ([]Result, error) {
	cmds := p.cmds
	p.cmds = nil
	if len(cmds) == 0 {
		return nil, nil
	}
	if p.tx {
		cmds = append(append([][]interface{}{{"MULTI"}}, cmds...), []interface{}{"EXEC"})
	}
	var payload []byte
	for _, args := range cmds {
		var err error
		if payload, err = appendCommand(payload, args); err != nil {
			return nil, err
		}
	}
	replies, err := p.c.roundTrip(ctx, p.c.opt.ReadTimeout, payload, len(cmds))
	if err != nil {
		return nil, err
	}
	if p.tx {
		if replies, err = execReplies(replies); err != nil {
			return nil, err
		}
	}
	results := make([]Result, len(replies))
	var firstErr error
	for i, reply := range replies {
		results[i].Val, results[i].Err = replyResult(reply)
		if e := results[i].Err; firstErr == nil && e != nil && !errors.Is(e, ErrNil) {
			firstErr = e
		}
	}
	return results, firstErr
}

// execReplies extracts the queued commands' replies from the replies to
// MULTI, each command (QUEUED) and EXEC.
func execReplies(replies []interface{}) ([]interface{}, error) {
	switch exec := replies[len(replies)-1].(type) {
	case []interface{}:
		return exec, nil
	case nil:
		return nil, ErrTxAborted
	case *RedisError: // EXECABORT: report the error that made a command rejected
		for _, r := range replies[1 : len(replies)-1] {
			if e, ok := r.(*RedisError); ok {
				return nil, e
			}
		}
		return nil, exec
	}
	return nil, unexpected(replies[len(replies)-1])
}
