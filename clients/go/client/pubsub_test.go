package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/transybao1393/diskdb/client"
)

func TestPubSub(t *testing.T) {
	for _, proto := range []int{2, 3} {
		c := newClient(t, client.WithProtocol(proto))
		requireCommand(t, c, "PUBLISH", "diskdb-capability-probe", "x")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ps, err := c.Subscribe(ctx, "go.news")
		if err != nil {
			t.Fatal(err)
		}
		receive := func() client.Message {
			t.Helper()
			m, err := ps.Receive(ctx)
			if err != nil {
				t.Fatalf("Receive (RESP%d): %v", proto, err)
			}
			return *m
		}
		check(t, "subscribe", receive(), client.Message{Kind: "subscribe", Channel: "go.news", Count: 1})
		noErr(t, ps.PSubscribe(ctx, "go.*"))
		check(t, "psubscribe", receive(), client.Message{Kind: "psubscribe", Channel: "go.*", Count: 2})
		check(t, "Publish", must(c.Publish(ctx, "go.news", "hello")).get(t), int64(2))
		check(t, "message", receive(), client.Message{Kind: "message", Channel: "go.news", Payload: "hello"})
		check(t, "pmessage", receive(), client.Message{Kind: "pmessage", Pattern: "go.*", Channel: "go.news", Payload: "hello"})
		noErr(t, ps.SSubscribe(ctx, "go.shard"))
		check(t, "ssubscribe", receive(), client.Message{Kind: "ssubscribe", Channel: "go.shard", Count: 1})
		check(t, "SPublish", must(c.SPublish(ctx, "go.shard", "s")).get(t), int64(1))
		check(t, "smessage", receive(), client.Message{Kind: "smessage", Channel: "go.shard", Payload: "s"})
		noErr(t, ps.Unsubscribe(ctx))
		check(t, "unsubscribe", receive(), client.Message{Kind: "unsubscribe", Channel: "go.news", Count: 1})
		short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
		if _, err := ps.Receive(short); err != context.DeadlineExceeded {
			t.Errorf("Receive with nothing published: %v", err)
		}
		stop()
		noErr(t, ps.Close())
	}
}
