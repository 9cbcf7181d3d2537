package client

import (
	"context"
	"fmt"
	"time"
)

// Publish posts message to channel and returns how many subscribers
// received it (pattern subscriptions included).
func (c *Client) Publish(ctx context.Context, channel string, message interface{}) (int64, error) {
	return call(ctx, c, toInt64, "PUBLISH", channel, message)
}

// SPublish posts message to a shard channel (SSUBSCRIBE subscribers).
func (c *Client) SPublish(ctx context.Context, channel string, message interface{}) (int64, error) {
	return call(ctx, c, toInt64, "SPUBLISH", channel, message)
}

// Message is one Pub/Sub frame: a message (Kind "message", "pmessage" with
// Pattern set, "smessage") or a confirmation ("subscribe", "unsubscribe"...,
// with Count the number of subscriptions left).
type Message struct {
	Kind    string
	Pattern string
	Channel string
	Payload string
	Count   int64
}

// PubSub is a connection of its own that receives the messages of its
// subscriptions. It is not safe for concurrent use; Close it when done.
type PubSub struct {
	cn *conn
}

// Subscribe opens a Pub/Sub connection subscribed to channels. Read the
// confirmations and then the messages with Receive.
func (c *Client) Subscribe(ctx context.Context, channels ...string) (*PubSub, error) {
	cn, err := dial(ctx, &c.opt)
	if err != nil {
		return nil, err
	}
	ps := &PubSub{cn: cn}
	if len(channels) > 0 {
		if err := ps.Subscribe(ctx, channels...); err != nil {
			ps.Close()
			return nil, err
		}
	}
	return ps, nil
}

func (ps *PubSub) send(ctx context.Context, command string, names []string) error {
	args := make([]interface{}, 0, len(names)+1)
	args = append(args, command)
	for _, n := range names {
		args = append(args, n)
	}
	payload, err := appendCommand(nil, args)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	if err := ps.cn.nc.SetWriteDeadline(deadline); err != nil {
		return err
	}
	_, err = ps.cn.nc.Write(payload)
	return err
}

// Subscribe adds channels.
func (ps *PubSub) Subscribe(ctx context.Context, channels ...string) error {
	return ps.send(ctx, "SUBSCRIBE", channels)
}

// PSubscribe adds glob-style patterns.
func (ps *PubSub) PSubscribe(ctx context.Context, patterns ...string) error {
	return ps.send(ctx, "PSUBSCRIBE", patterns)
}

// SSubscribe adds shard channels.
func (ps *PubSub) SSubscribe(ctx context.Context, channels ...string) error {
	return ps.send(ctx, "SSUBSCRIBE", channels)
}

// Unsubscribe leaves channels (all of them when none is given).
func (ps *PubSub) Unsubscribe(ctx context.Context, channels ...string) error {
	return ps.send(ctx, "UNSUBSCRIBE", channels)
}

// PUnsubscribe leaves patterns (all of them when none is given).
func (ps *PubSub) PUnsubscribe(ctx context.Context, patterns ...string) error {
	return ps.send(ctx, "PUNSUBSCRIBE", patterns)
}

// Receive waits for the next confirmation or message, until ctx's deadline
// or cancellation.
func (ps *PubSub) Receive(ctx context.Context) (*Message, error) {
	deadline, hasDeadline := ctx.Deadline()
	if err := ps.cn.nc.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	if done := ctx.Done(); done != nil {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-done:
				ps.cn.nc.SetReadDeadline(aLongTimeAgo) //nolint:errcheck // best effort
			case <-stop:
			}
		}()
	}
	reply, err := ps.cn.rd.readReply()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if hasDeadline && !time.Now().Before(deadline) {
			return nil, context.DeadlineExceeded // the socket deadline fired just before ctx's timer
		}
		return nil, err
	}
	return toMessage(reply)
}

// Close closes the connection, leaving every subscription.
func (ps *PubSub) Close() error {
	ps.cn.nc.SetDeadline(time.Time{}) //nolint:errcheck // closing anyway
	return ps.cn.close()
}

func toMessage(reply interface{}) (*Message, error) {
	if e, ok := reply.(*RedisError); ok {
		return nil, e
	}
	if push, ok := reply.(Push); ok {
		reply = []interface{}(push)
	}
	items, ok := reply.([]interface{})
	if !ok || len(items) < 3 {
		return nil, fmt.Errorf("diskdb: unexpected Pub/Sub frame %v", reply)
	}
	text := func(v interface{}) string {
		if v == nil {
			return ""
		}
		s, _ := toString(v)
		return s
	}
	m := &Message{Kind: text(items[0])}
	switch {
	case m.Kind == "pmessage" && len(items) == 4:
		m.Pattern, m.Channel, m.Payload = text(items[1]), text(items[2]), text(items[3])
	case m.Kind == "message" || m.Kind == "smessage":
		m.Channel, m.Payload = text(items[1]), text(items[2])
	default:
		m.Channel = text(items[1])
		n, err := toInt64(items[2])
		if err != nil {
			return nil, err
		}
		m.Count = n
	}
	return m, nil
}
