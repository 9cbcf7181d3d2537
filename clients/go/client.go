// Package diskdb is a client for DiskDB and other Redis-compatible servers.
//
// A *Client holds a small pool of connections and is safe for concurrent
// use. Every call takes a context.Context, whose deadline and cancellation
// apply to the network I/O:
//
//	c := diskdb.New(diskdb.Options{Addr: "localhost:6380"})
//	defer c.Close()
//	if err := c.Set(ctx, "greeting", "hello", time.Minute); err != nil { ... }
//	v, err := c.Get(ctx, "greeting")   // "hello"; err == diskdb.Nil if missing
//
// Error replies are *Error values; errors.Is(err, diskdb.ErrWrongType)
// detects WRONGTYPE. Commands without a method go through Do, whose reply
// can be converted with String, Int64, Float64, Bool, Strings or StringMap.
package diskdb

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Options configure a Client. Only Addr is usually needed.
type Options struct {
	// Addr is host:port; default "localhost:6380".
	Addr string
	// Username and Password authenticate each new connection (AUTH, or
	// HELLO 3 AUTH with Protocol 3). An empty Password skips authentication.
	Username string
	Password string
	// DB is selected on each new connection.
	DB int
	// Protocol is 2 (RESP2, the default) or 3 (RESP3, negotiated with HELLO 3).
	// Methods return the same values with either.
	Protocol int
	// TLSConfig enables TLS when not nil.
	TLSConfig *tls.Config
	// DialTimeout bounds opening a connection, handshake included (0: none).
	DialTimeout time.Duration
	// ReadTimeout bounds each request, write and reply (0: none beyond the
	// context's deadline). Keep it above the timeouts of blocking commands.
	ReadTimeout time.Duration
	// PoolSize is the maximum number of open connections; default 10.
	PoolSize int
	// Dialer opens the network connection; default net.Dialer.DialContext.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is a pool of connections to one server, safe for concurrent use.
type Client struct {
	opt  Options
	pool *pool
}

// New returns a client for opt. Connections are opened on demand, so New
// never fails; a bad address shows up as the error of the first call.
func New(opt Options) *Client {
	if opt.Addr == "" {
		opt.Addr = "localhost:6380"
	}
	if opt.Protocol == 0 {
		opt.Protocol = 2
	}
	if opt.PoolSize <= 0 {
		opt.PoolSize = 10
	}
	if opt.Dialer == nil {
		opt.Dialer = (&net.Dialer{KeepAlive: 5 * time.Minute}).DialContext
	}
	c := &Client{opt: opt}
	c.pool = newPool(opt.PoolSize, func(ctx context.Context) (*conn, error) {
		return dial(ctx, &c.opt)
	})
	return c
}

// Close closes the client's connections. Calls after Close return ErrClosed.
func (c *Client) Close() error {
	return c.pool.close()
}

// Do sends any command and returns its reply (see the reader's table of Go
// types: string, int64, float64, bool, []interface{}, map[string]interface{}...).
// An error reply is returned as a *Error, a null reply as Nil.
func (c *Client) Do(ctx context.Context, args ...interface{}) (interface{}, error) {
	payload, err := appendCommand(nil, args)
	if err != nil {
		return nil, err
	}
	replies, err := c.roundTrip(ctx, payload, 1)
	if err != nil {
		return nil, err
	}
	return replyResult(replies[0])
}

// replyResult turns an error reply into an error and a null reply into Nil.
func replyResult(reply interface{}) (interface{}, error) {
	switch v := reply.(type) {
	case *Error:
		return nil, v
	case nil:
		return nil, Nil
	}
	return reply, nil
}

// roundTrip sends payload on a pooled connection and reads n replies. If a
// reused connection turns out to be broken before any reply arrived (closed
// by the server: restart, CLIENT KILL, idle timeout), the payload is sent
// once more on a new connection. As with other Redis clients, a command
// whose reply was lost may so run twice.
func (c *Client) roundTrip(ctx context.Context, payload []byte, n int) ([]interface{}, error) {
	for attempt := 1; ; attempt++ {
		cn, reused, err := c.pool.get(ctx)
		if err != nil {
			return nil, err
		}
		replies, err := cn.roundTrip(ctx, &c.opt, payload, n)
		c.pool.put(cn, err != nil)
		if err == nil {
			return replies, nil
		}
		if attempt > 1 || !reused || len(replies) > 0 || !isConnReset(err) || ctx.Err() != nil {
			return nil, err
		}
	}
}

// isConnReset reports whether err means the server closed the connection.
func isConnReset(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed)
}
