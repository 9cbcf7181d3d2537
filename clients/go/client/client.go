// Package client is the Go client of DiskDB, a Redis-compatible server (it
// works with any server speaking RESP2 or RESP3).
//
// A *Client holds a small pool of connections and is safe for concurrent
// use by many goroutines. Every call takes a context.Context, whose deadline
// and cancellation apply to the network I/O:
//
//	c, err := client.Connect("localhost:6380", client.WithPassword("secret"))
//	if err != nil { ... }
//	defer c.Close()
//	err = c.Set(ctx, "greeting", "hello", time.Minute)
//	v, err := c.Get(ctx, "greeting") // "hello"; err == client.ErrNil if missing
//
// Errors are values: a null reply is ErrNil, an error reply a *RedisError
// (IsWrongType reports WRONGTYPE; errors.Is(err, ErrWrongType) works too).
// Commands without a method go through Do, whose reply can be converted with
// String, Int64, Float64, Bool, Strings or StringMap. Pipeline and
// TxPipeline send many commands in one write.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// DefaultDialTimeout bounds opening a connection when Options.DialTimeout is 0.
const DefaultDialTimeout = 5 * time.Second

// Options configure a Client. Only Addr is usually needed. Connect takes
// them as Option functions (WithPassword, WithDB...), New as a struct.
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
	// DialTimeout bounds opening a connection, handshake included
	// (default DefaultDialTimeout; negative: no bound but the context's).
	DialTimeout time.Duration
	// ReadTimeout bounds each request, write and reply (0: none beyond the
	// context's deadline). Blocking commands (BLPop, XRead with Block...)
	// get their own timeout added to it.
	ReadTimeout time.Duration
	// PoolSize is the maximum number of open connections; default 10.
	PoolSize int
	// Dialer opens the network connection; default net.Dialer.DialContext.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Option sets one of the Options of Connect.
type Option func(*Options)

// WithPassword authenticates new connections with AUTH password.
func WithPassword(password string) Option { return func(o *Options) { o.Password = password } }

// WithUser authenticates new connections with AUTH username password (ACL users).
func WithUser(username, password string) Option {
	return func(o *Options) { o.Username, o.Password = username, password }
}

// WithDB selects database db on new connections.
func WithDB(db int) Option { return func(o *Options) { o.DB = db } }

// WithTLS connects over TLS with config (nil: the default configuration).
func WithTLS(config *tls.Config) Option {
	return func(o *Options) {
		if config == nil {
			config = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		o.TLSConfig = config
	}
}

// WithDialTimeout bounds opening a connection, handshake included.
func WithDialTimeout(d time.Duration) Option { return func(o *Options) { o.DialTimeout = d } }

// WithReadTimeout bounds each request (see Options.ReadTimeout).
func WithReadTimeout(d time.Duration) Option { return func(o *Options) { o.ReadTimeout = d } }

// WithTimeout sets both the dial and the read timeout.
func WithTimeout(d time.Duration) Option {
	return func(o *Options) { o.DialTimeout, o.ReadTimeout = d, d }
}

// WithPoolSize caps the number of open connections (default 10).
func WithPoolSize(n int) Option { return func(o *Options) { o.PoolSize = n } }

// WithProtocol chooses RESP2 (2, the default) or RESP3 (3).
func WithProtocol(protocol int) Option { return func(o *Options) { o.Protocol = protocol } }

// WithDialer replaces the function opening network connections.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *Options) { o.Dialer = dial }
}

// Client is a pool of connections to one server, safe for concurrent use.
type Client struct {
	opt  Options
	pool *pool
}

// Connect returns a client of the server at addr ("host:port"; "" means
// "localhost:6380") after opening a first connection, so that a wrong
// address, password or database is reported here:
//
//	c, err := client.Connect("localhost:6380", client.WithDB(1), client.WithPoolSize(4))
func Connect(addr string, opts ...Option) (*Client, error) {
	return ConnectContext(context.Background(), addr, opts...)
}

// ConnectContext is Connect with a context bounding the first connection.
func ConnectContext(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	opt := Options{Addr: addr}
	for _, o := range opts {
		o(&opt)
	}
	c := New(opt)
	cn, _, err := c.pool.get(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.pool.put(cn, false)
	return c, nil
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
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DefaultDialTimeout
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
// An error reply is returned as a *RedisError, a null reply as ErrNil.
func (c *Client) Do(ctx context.Context, args ...interface{}) (interface{}, error) {
	return c.do(ctx, c.opt.ReadTimeout, args)
}

// doBlocking is Do for a command that may wait up to block on the server
// (0: forever): the read timeout is extended by block, or lifted.
func (c *Client) doBlocking(ctx context.Context, block time.Duration, args []interface{}) (interface{}, error) {
	timeout := c.opt.ReadTimeout
	if timeout > 0 {
		if block > 0 {
			timeout += block
		} else {
			timeout = 0
		}
	}
	return c.do(ctx, timeout, args)
}

func (c *Client) do(ctx context.Context, readTimeout time.Duration, args []interface{}) (interface{}, error) {
	payload, err := appendCommand(nil, args)
	if err != nil {
		return nil, err
	}
	replies, err := c.roundTrip(ctx, readTimeout, payload, 1)
	if err != nil {
		return nil, err
	}
	return replyResult(replies[0])
}

// replyResult turns an error reply into an error and a null reply into ErrNil.
func replyResult(reply interface{}) (interface{}, error) {
	switch v := reply.(type) {
	case *RedisError:
		return nil, v
	case nil:
		return nil, ErrNil
	}
	return reply, nil
}

// roundTrip sends payload on a pooled connection and reads n replies. If a
// reused connection turns out to be broken before any reply arrived (closed
// by the server: restart, CLIENT KILL, idle timeout), the payload is sent
// once more on a new connection. As with other Redis clients, a command
// whose reply was lost may so run twice.
func (c *Client) roundTrip(ctx context.Context, readTimeout time.Duration, payload []byte, n int) ([]interface{}, error) {
	for attempt := 1; ; attempt++ {
		cn, reused, err := c.pool.get(ctx)
		if err != nil {
			return nil, err
		}
		replies, err := cn.roundTrip(ctx, readTimeout, payload, n)
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
