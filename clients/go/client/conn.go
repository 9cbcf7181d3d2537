package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// conn is one server connection. It is used by one goroutine at a time
// (the pool hands it out exclusively).
type conn struct {
	nc net.Conn
	rd reader
}

// aLongTimeAgo is a deadline in the past, used to interrupt blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// dial opens a connection and runs the handshake: HELLO 3 (with AUTH) for
// RESP3, otherwise AUTH if a password is set, then SELECT if DB != 0.
func dial(ctx context.Context, opt *Options) (*conn, error) {
	if opt.Protocol != 2 && opt.Protocol != 3 {
		return nil, fmt.Errorf("diskdb: Protocol must be 2 or 3, not %d", opt.Protocol)
	}
	if opt.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.DialTimeout)
		defer cancel()
	}
	nc, err := opt.Dialer(ctx, "tcp", opt.Addr)
	if err != nil {
		return nil, err
	}
	if opt.TLSConfig != nil {
		cfg := opt.TLSConfig.Clone()
		if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
			if host, _, err := net.SplitHostPort(opt.Addr); err == nil {
				cfg.ServerName = host
			}
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	cn := &conn{nc: nc, rd: reader{br: bufio.NewReaderSize(nc, 32*1024)}}
	if err := cn.handshake(ctx, opt); err != nil {
		cn.close()
		return nil, err
	}
	return cn, nil
}

func (cn *conn) handshake(ctx context.Context, opt *Options) error {
	var cmds [][]interface{}
	switch {
	case opt.Protocol == 3:
		hello := []interface{}{"HELLO", 3}
		if opt.Password != "" {
			user := opt.Username
			if user == "" {
				user = "default"
			}
			hello = append(hello, "AUTH", user, opt.Password)
		}
		cmds = append(cmds, hello)
	case opt.Password != "" && opt.Username != "":
		cmds = append(cmds, []interface{}{"AUTH", opt.Username, opt.Password})
	case opt.Password != "":
		cmds = append(cmds, []interface{}{"AUTH", opt.Password})
	}
	if opt.DB != 0 {
		cmds = append(cmds, []interface{}{"SELECT", opt.DB})
	}
	if len(cmds) == 0 {
		return nil
	}
	var payload []byte
	for _, cmd := range cmds {
		var err error
		if payload, err = appendCommand(payload, cmd); err != nil {
			return err
		}
	}
	replies, err := cn.roundTrip(ctx, opt.ReadTimeout, payload, len(cmds))
	if err != nil {
		return err
	}
	for _, reply := range replies {
		if e, ok := reply.(*RedisError); ok {
			return e
		}
	}
	return nil
}

// roundTrip writes payload in one Write and reads n replies, within
// readTimeout (0: no bound) and the context. Error replies are returned as
// *RedisError values; the error result is an I/O (or context) error, after
// which the connection must not be reused. The replies read before an I/O
// error are returned with it.
func (cn *conn) roundTrip(ctx context.Context, readTimeout time.Duration, payload []byte, n int) ([]interface{}, error) {
	ctxDeadline, hasDeadline := ctx.Deadline()
	deadline := ctxDeadline
	if readTimeout > 0 {
		if d := time.Now().Add(readTimeout); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	if err := cn.nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	if done := ctx.Done(); done != nil { // unblock the I/O when ctx is cancelled
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			select {
			case <-done:
				cn.nc.SetDeadline(aLongTimeAgo) //nolint:errcheck // best effort
			case <-stop:
			}
		}()
		// Wait for the watcher, so that it cannot touch the deadline once
		// the connection is back in the pool; the next use resets it.
		defer func() { close(stop); <-stopped }()
	}
	replies, err := cn.exchange(payload, n)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		} else if hasDeadline && !time.Now().Before(ctxDeadline) {
			err = context.DeadlineExceeded // the socket deadline fired just before ctx's timer
		}
	}
	return replies, err
}

func (cn *conn) exchange(payload []byte, n int) ([]interface{}, error) {
	if _, err := cn.nc.Write(payload); err != nil {
		return nil, err
	}
	replies := make([]interface{}, 0, n)
	for len(replies) < n {
		reply, err := cn.rd.readReply()
		if err != nil {
			return replies, err
		}
		replies = append(replies, reply)
	}
	return replies, nil
}

func (cn *conn) close() error {
	return cn.nc.Close()
}
