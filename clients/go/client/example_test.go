package client_test

// Examples for the documentation. They need a server on localhost:6380, so
// they are compiled by go test but not run (no Output comment).

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/transybao1393/diskdb/client"
)

func ExampleConnect() {
	ctx := context.Background()
	c, err := client.Connect("localhost:6380",
		client.WithPassword("secret"),     // AUTH on each new connection
		client.WithDB(0),                  // SELECT
		client.WithTimeout(5*time.Second), // dial and read timeouts
		client.WithPoolSize(10),           // connections shared by goroutines
		// client.WithTLS(&tls.Config{ServerName: "db.example.com"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := c.Set(ctx, "greeting", "hello", time.Minute); err != nil {
		log.Fatal(err)
	}
	v, err := c.Get(ctx, "greeting")
	fmt.Println(v, err) // hello <nil>
}

func ExampleClient_Get() {
	ctx := context.Background()
	c, err := client.Connect("localhost:6380")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	v, err := c.Get(ctx, "missing")
	switch {
	case err == client.ErrNil:
		fmt.Println("no such key")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(v)
	}
}

func ExampleRedisError() {
	ctx := context.Background()
	c, err := client.Connect("localhost:6380")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.Set(ctx, "name", "Ada", 0)
	_, err = c.LPush(ctx, "name", "x") // a list command on a string
	var e *client.RedisError
	if errors.As(err, &e) && e.IsWrongType() {
		fmt.Println("not a list:", e.Message)
	}
}

func ExampleClient_Pipeline() {
	ctx := context.Background()
	c, err := client.Connect("localhost:6380")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	p := c.Pipeline() // or c.TxPipeline() for MULTI/EXEC
	p.Queue("INCR", "hits")
	p.Queue("EXPIRE", "hits", 60)
	results, err := p.Exec(ctx) // one write, replies in order
	if err != nil {
		log.Fatal(err)
	}
	hits, _ := results[0].Int64()
	fmt.Println(hits)
}

func ExampleClient_Do() {
	ctx := context.Background()
	c, err := client.Connect("localhost:6380")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	encoding, err := client.String(c.Do(ctx, "OBJECT", "ENCODING", "greeting"))
	fmt.Println(encoding, err)
}
